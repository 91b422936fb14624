// The browser example (examples/browser) end to end: build it with Vite, serve it on 127.0.0.1,
// open it in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) and check
// the numbers the page wrote into <pre id="result"> against what lossc computes here in Node:
// the JS backend exactly (float64 and float32), WebGPU (navigator.gpu: Chromium's SwiftShader
// adapter, on the CPU) to float32 accuracy.
//
// No /usr/bin/chromium: skipped, with the reason in the test name (bash .ci/install-browser.sh
// installs it); LOSSC_REQUIRE_BROWSER=1 makes that a failure. A page without a WebGPU adapter is
// logged and its JS part still checked; LOSSC_REQUIRE_WEBGPU=1 (CI) makes that a failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { mathFingerprint, runJs, type CaseResult, type ScenarioResult, type TensorJson } from '../../examples/browser/scenario.js';
import type { PageResult } from '../../examples/browser/main.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, serve } from './chromium.js';

const example = fileURLToPath(new URL('../../examples/browser/', import.meta.url));
const focalSource = readFileSync(join(example, '..', 'focal.loss'), 'utf8');

const skipReason = browserSkipReason;
if (skipReason) console.warn(`browser tests skipped: ${skipReason}`);

/** Rejects after `ms` with a message saying what was being waited for. */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** |gpu - ref| <= rtol * max(|ref|, max |ref| over the tensor): float32 accuracy, relative to the tensor's scale. */
function expectClose(gpu: TensorJson | null, ref: TensorJson | null, what: string, rtol = 1e-5): number {
  expect(gpu === null, `${what}: null`).toBe(ref === null);
  if (gpu === null || ref === null) return 0;
  expect(gpu.shape, `${what}: shape`).toEqual(ref.shape);
  expect(gpu.data.length, `${what}: length`).toBe(ref.data.length);
  const scale = Math.max(...ref.data.map(Math.abs));
  let worst = 0;
  gpu.data.forEach((g, i) => {
    const r = ref.data[i]!;
    const err = Math.abs(g - r) / Math.max(Math.abs(r), scale, Number.MIN_VALUE);
    worst = Math.max(worst, err);
    expect(err, `${what}[${i}]: WebGPU ${g} vs Node float64 ${r}`).toBeLessThanOrEqual(rtol);
  });
  return worst;
}

function expectCaseClose(gpu: CaseResult, ref: CaseResult, what: string): number {
  const errs = [expectClose(gpu.forward, ref.forward, `${what} forward`), expectClose(gpu.value, ref.value, `${what} value`)];
  expect(gpu.grads.length, `${what}: number of grads`).toBe(ref.grads.length);
  gpu.grads.forEach((g, i) => errs.push(expectClose(g, ref.grads[i] ?? null, `${what} grad ${i}`)));
  return Math.max(...errs);
}

describe(`the browser example in headless Chromium${skipReason ? ` [skipped: ${skipReason}]` : ''}`, () => {
  let outDir: string | undefined;
  let profile: string | undefined;
  let server: Server | undefined;
  let context: BrowserContext | undefined;
  let result: PageResult | undefined;
  const problems: string[] = [];

  beforeAll(async () => {
    if (skipReason) return;
    if (!existsSync(CHROMIUM))
      throw new Error(`LOSSC_REQUIRE_BROWSER=1 but ${CHROMIUM} is absent: run .ci/install-browser.sh (as root) to install Debian's chromium`);
    const t0 = performance.now();
    outDir = mkdtempSync(join(tmpdir(), 'lossc-browser-dist-'));
    const { build } = await import('vite');
    await within(
      30_000,
      'vite build of examples/browser',
      build({ configFile: join(example, 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } }),
    );
    const t1 = performance.now();
    const served = await serve(outDir);
    server = served.server;

    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'lossc-chromium-profile-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 20_000 });
    const t2 = performance.now();
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(30_000);
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(served.url, { timeout: 10_000, waitUntil: 'load' });
    await page.waitForSelector('pre#result[data-done]', { state: 'attached', timeout: 30_000 });
    result = JSON.parse((await page.textContent('pre#result')) ?? 'null') as PageResult;
    const t3 = performance.now();
    if (problems.length) console.log(`browser console:\n  ${problems.join('\n  ')}`);
    console.log(
      `browser example: vite build ${(t1 - t0).toFixed(0)} ms, Chromium launch ${(t2 - t1).toFixed(0)} ms, page ${(t3 - t2).toFixed(0)} ms` +
        (result?.ok
          ? ` (JS ${result.timingsMs.js.toFixed(0)} ms, WebGPU ${result.timingsMs.webgpu === null ? '-' : `${result.timingsMs.webgpu.toFixed(0)} ms`})`
          : ''),
    );
  }, 60_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    for (const dir of [outDir, profile]) if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it.skipIf(skipReason !== null)('the page compiles the focal loss and runs nn.CrossEntropyLoss on the JS backend, as Node does', () => {
    expect(result, 'the page wrote no result').toBeDefined();
    if (!result!.ok) throw new Error(`the page failed: ${result!.error}\n${problems.join('\n')}`);
    const page = result!;
    // JSON on both sides, so that -0 and 0 read the same.
    const node = JSON.parse(JSON.stringify(runJs(focalSource))) as typeof page.js;
    expect(page.js.float64.focal.value.data[0]).toBeGreaterThan(0);
    expect(page.js.float64.crossEntropy.grads[1]).toBeNull(); // class indices have no gradient

    // float32: bit-identical (every kernel result is rounded with Math.fround).
    expect(page.js.float32).toEqual(node.float32);

    // float64: bit-identical when the two V8s' Math.exp/log/pow/... agree bit for bit; where they
    // do not (Chromium 156 and Node 20 differ in the last bit of some exp/log/pow values), the
    // results may differ in their last bits too: then to 1e-14 of each tensor's scale.
    const mathNode = mathFingerprint();
    const mathDiffs = Object.entries(mathNode).reduce((n, [f, vs]) => n + vs.filter((v, i) => !Object.is(v, page.math[f]?.[i])).length, 0);
    if (mathDiffs === 0) {
      expect(page.js.float64).toEqual(node.float64);
      return;
    }
    const total = Object.values(mathNode).reduce((n, vs) => n + vs.length, 0);
    let differing = 0;
    let worst = 0;
    for (const k of ['focal', 'crossEntropy'] as const) {
      const [p, n] = [page.js.float64[k], node.float64[k]];
      const pairs: [TensorJson | null, TensorJson | null, string][] = [
        [p.forward, n.forward, 'forward'],
        [p.value, n.value, 'value'],
        ...p.grads.map((g, i): [TensorJson | null, TensorJson | null, string] => [g, n.grads[i] ?? null, `grad ${i}`]),
      ];
      for (const [a, b, what] of pairs) {
        worst = Math.max(worst, expectClose(a, b, `${k} float64 ${what}`, 1e-14));
        if (a && b) differing += a.data.filter((v, i) => v !== b.data[i]).length;
      }
    }
    console.log(
      `browser JS backend, float64: ${differing} values differ from Node's in the last bits (worst ${worst.toExponential(2)} of the tensor's scale), ` +
        `as Chromium's Math functions differ from Node's on ${mathDiffs} of ${total} probe inputs; float32 identical`,
    );
  });

  it.skipIf(skipReason !== null)('on navigator.gpu (await loss.to("webgpu")) the page gives the same numbers to float32 accuracy', () => {
    expect(result?.ok, 'the page failed').toBe(true);
    if (!result?.ok) return;
    const w = result.webgpu;
    if (!w.available) {
      const message = `navigator.gpu gave no adapter in headless Chromium (${w.reason}); only the JS backend was checked`;
      if (process.env['LOSSC_REQUIRE_WEBGPU'] === '1') throw new Error(`LOSSC_REQUIRE_WEBGPU=1: ${message}\n${problems.join('\n')}`);
      console.log(message);
      return;
    }
    if ('error' in w) throw new Error(`WebGPU on ${w.adapter.vendor} ${w.adapter.architecture} failed in the page: ${w.error}\n${problems.join('\n')}`);
    const ref: ScenarioResult = result.js.float64;
    const worst = Math.max(
      expectCaseClose(w.results.focal, ref.focal, 'FocalLoss'),
      expectCaseClose(w.results.crossEntropy, ref.crossEntropy, 'CrossEntropyLoss'),
    );
    expect(w.results.focal.value.dtype).toBe('float32');
    console.log(
      `browser WebGPU adapter: ${[w.adapter.vendor, w.adapter.architecture, w.adapter.description].filter(Boolean).join(' ')}` +
        `${w.adapter.isFallbackAdapter ? ' (fallback)' : ''}, subgroups ${w.adapter.subgroups}; worst error vs float64 ${worst.toExponential(2)}`,
    );
  });
});
