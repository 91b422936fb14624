// The WebAssembly backend's threads in a browser: a page bundled from the package's ESM entry
// (dist/esm, after `npm run build`), served cross-origin isolated (COOP + COEP, so
// SharedArrayBuffer exists) and opened in headless Chromium. `to('wasm', { threads: 2 })` there
// runs kernel parts on a Web Worker, and its results have the bits of one thread's (and of the
// same call in Node); a page that is not isolated gets one thread, with the same bits, and its
// memory (not shared) may grow during a call that writes WasmTensor outs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { nn, tensor } from 'lossc';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, serve } from './chromium.js';
import { lcgFloat32 as random } from '../support/random.js';
import { bits } from '../support/wasm.js';

const skipReason = browserSkipReason;
const esm = fileURLToPath(new URL('../../dist/esm/lossc.mjs', import.meta.url));
const randomModule = fileURLToPath(new URL('../support/random.ts', import.meta.url));

/** What the page reports per thread count: the backend's threads, worker parts, and the results' bits. */
interface PageRun {
  readonly threads: number;
  readonly sharedMemory: boolean;
  readonly workerParts: number;
  readonly mse: number[];
  readonly ce: number[];
}

// the page: MSELoss and CrossEntropyLoss training steps large enough to be split into parts, on
// 1 and 2 threads; a Web Worker receives a kernel's module between jobs, so the page repeats the
// calls (letting the event loops turn) until the worker has run parts, for at most 5 s
const PAGE = `
import { nn, tensor } from ${JSON.stringify(esm)};
import { lcgFloat32 as random } from ${JSON.stringify(randomModule)};
const bits = (t) => Array.from(new Uint32Array(new Float32Array(t.data).buffer));
async function run(threads) {
  const n = 300001;
  const x = tensor(random(n, 1), [n]), y = tensor(random(n, 2), [n]);
  const logits = tensor(random(600 * 1000, 4, 8), [600, 1000]);
  const target = tensor(Int32Array.from({ length: 600 }, (_, i) => (i * 7919) % 1000), [600]);
  const mse = await new nn.MSELoss().to('wasm', { threads });
  const ce = await new nn.CrossEntropyLoss().to('wasm', { threads });
  const backend = mse.backend;
  let a, b;
  const t0 = performance.now();
  do {
    a = mse.valueAndGrad(x, y);
    b = ce.valueAndGrad(logits, target);
    await new Promise((r) => setTimeout(r, 20));
  } while (threads > 1 && backend.workerParts === 0 && performance.now() - t0 < 5000);
  return { threads: backend.threads, sharedMemory: backend.sharedMemory, workerParts: backend.workerParts,
    mse: [...bits(a.value), ...bits(a.grads[0])], ce: [...bits(b.value), ...bits(b.grads[0])] };
}
// a broadcast gradient into a WasmTensor out by a call that grows the memory (which, not shared,
// detaches every view of it), against the same call into ordinary arrays
async function broadcast() {
  const loss = await new nn.MSELoss().to('wasm');
  const x = loss.tensor(random(64, 5), [64]);
  const y = tensor(random(1 << 22, 6), [1 << 16, 64]);
  const v = loss.tensor([]), g = loss.tensor([64]);
  const r = loss.valueAndGrad([x, y], { wrt: ['input'], out: { value: v, grads: [g] } });
  const plain = loss.valueAndGrad([tensor(Float32Array.from(x.data), [64]), y], { wrt: ['input'] });
  return { outs: r.value === v && r.grads[0] === g, got: [...bits(v), ...bits(g)], want: [...bits(plain.value), ...bits(plain.grads[0])] };
}
try {
  const runs = [await run(1), await run(2)];
  document.getElementById('result').textContent = JSON.stringify({ ok: true, isolated: crossOriginIsolated, runs, broadcast: await broadcast() });
} catch (e) {
  document.getElementById('result').textContent = JSON.stringify({ ok: false, error: String(e && e.stack || e) });
}
document.getElementById('result').dataset.done = '1';
`;

type PageResult =
  { ok: true; isolated: boolean; runs: [PageRun, PageRun]; broadcast: { outs: boolean; got: number[]; want: number[] } } | { ok: false; error: string };

describe(`WebAssembly threads in headless Chromium${skipReason ? ` [skipped: ${skipReason}]` : ''}`, () => {
  let outDir: string | undefined;
  let profile: string | undefined;
  const servers: Server[] = [];
  let context: BrowserContext | undefined;
  const problems: string[] = [];
  const results: { isolated?: PageResult; plain?: PageResult } = {};

  const open = async (url: string): Promise<PageResult> => {
    const page: Page = await context!.newPage();
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(url, { timeout: 10_000, waitUntil: 'load' });
    await page.waitForSelector('pre#result[data-done]', { state: 'attached', timeout: 45_000 });
    const r = JSON.parse((await page.textContent('pre#result')) ?? 'null') as PageResult;
    await page.close();
    return r;
  };

  beforeAll(async () => {
    if (skipReason) return;
    if (!existsSync(CHROMIUM)) throw new Error(`LOSSC_REQUIRE_BROWSER=1 but ${CHROMIUM} is absent: run .ci/install-browser.sh`);
    if (!existsSync(esm)) throw new Error(`${esm} is absent: run npm run build first`);
    outDir = mkdtempSync(join(tmpdir(), 'lossc-wasm-threads-'));
    const { build } = await import('esbuild');
    const bundled = await build({ stdin: { contents: PAGE, resolveDir: outDir, loader: 'js' }, bundle: true, format: 'esm', write: false, logLevel: 'error' });
    writeFileSync(join(outDir, 'main.js'), bundled.outputFiles[0]!.text);
    writeFileSync(join(outDir, 'index.html'), '<!doctype html><meta charset="utf-8"><pre id="result"></pre><script type="module" src="./main.js"></script>');
    const isolated = await serve(outDir, { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
    const plain = await serve(outDir);
    servers.push(isolated.server, plain.server);
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'lossc-chromium-profile-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 20_000 });
    results.isolated = await open(isolated.url);
    results.plain = await open(plain.url);
    if (problems.length) console.log(`browser console:\n  ${problems.join('\n  ')}`);
  }, 120_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
    for (const dir of [outDir, profile]) if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  /** Node's results for the page's calls (one thread), bits */
  const node = async (): Promise<{ mse: number[]; ce: number[] }> => {
    const n = 300001;
    const [x, y] = [tensor(random(n, 1), [n]), tensor(random(n, 2), [n])];
    const logits = tensor(random(600 * 1000, 4, 8), [600, 1000]);
    const target = tensor(
      Int32Array.from({ length: 600 }, (_, i) => (i * 7919) % 1000),
      [600],
    );
    const a = (await new nn.MSELoss().to('wasm')).valueAndGrad(x, y);
    const b = (await new nn.CrossEntropyLoss().to('wasm')).valueAndGrad(logits, target);
    return { mse: [...bits(a.value), ...bits(a.grads[0]!)], ce: [...bits(b.value), ...bits(b.grads[0]!)] };
  };

  it.skipIf(skipReason !== null)('cross-origin isolated: 2 threads run parts on a Web Worker, with the bits of 1 thread and of Node', async () => {
    const r = results.isolated!;
    if (!r.ok) throw new Error(`the page failed: ${r.error}\n${problems.join('\n')}`);
    expect(r.isolated).toBe(true);
    const [one, two] = r.runs;
    expect([one.threads, two.threads]).toEqual([1, 2]);
    expect(two.sharedMemory).toBe(true);
    expect(two.workerParts).toBeGreaterThan(0);
    expect(two.mse).toEqual(one.mse);
    expect(two.ce).toEqual(one.ce);
    const n = await node();
    expect(one.mse).toEqual(n.mse);
    expect(one.ce).toEqual(n.ce);
  });

  it.skipIf(skipReason !== null)('not isolated: one thread (no SharedArrayBuffer), the same bits', () => {
    const [r, iso] = [results.plain!, results.isolated!];
    if (!r.ok || !iso.ok) throw new Error(`the page failed: ${r.ok ? '' : r.error}\n${problems.join('\n')}`);
    expect(r.isolated).toBe(false);
    const [one, two] = r.runs;
    expect([one.threads, two.threads, two.workerParts, two.sharedMemory]).toEqual([1, 1, 0, false]);
    expect(two.mse).toEqual(iso.runs[0].mse);
    expect(two.ce).toEqual(iso.runs[0].ce);
  });

  it.skipIf(skipReason !== null)(
    'a broadcast gradient into WasmTensor outs by a call that grows the memory: the outs, with the values of ordinary arrays',
    () => {
      for (const r of [results.isolated!, results.plain!]) {
        if (!r.ok) throw new Error(`the page failed: ${r.error}\n${problems.join('\n')}`);
        expect(r.broadcast.outs).toBe(true);
        expect(r.broadcast.got).toEqual(r.broadcast.want);
      }
    },
  );
});
