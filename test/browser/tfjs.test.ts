// lossc/tfjs in headless Chromium on tfjs's WebGPU backend (SwiftShader, on the CPU): the page
// examples/browser/tfjs trains an MLP with lossc's CrossEntropyLoss and with
// tf.losses.softmaxCrossEntropy from the same weights. Checked: the same loss trajectory, no
// readback and no buffer created in steady state (every GPUDevice.createBuffer and
// GPUBuffer.mapAsync of the page counted by an init script, per step), tf.memory().numTensors flat.
// No /usr/bin/chromium: skipped with the reason (LOSSC_REQUIRE_BROWSER=1 makes it a failure).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import type { TfjsPageResult } from '../../examples/browser/tfjs/main.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, serve } from './chromium.js';

const example = fileURLToPath(new URL('../../examples/browser/tfjs/', import.meta.url));
const repo = fileURLToPath(new URL('../../', import.meta.url));
const skipReason = browserSkipReason;

/** Counts the page's device calls; the page calls __losscStep after each training step. */
const COUNTER = `(() => {
  const counts = { createBuffer: 0, mapAsync: 0 };
  if (typeof GPUDevice !== 'undefined') {
    const createBuffer = GPUDevice.prototype.createBuffer;
    GPUDevice.prototype.createBuffer = function (d) { counts.createBuffer++; return createBuffer.call(this, d); };
    const mapAsync = GPUBuffer.prototype.mapAsync;
    GPUBuffer.prototype.mapAsync = function (...a) { counts.mapAsync++; return mapAsync.apply(this, a); };
  }
  const seen = {};
  globalThis.__losscStep = (run, step) => { seen[run + ':' + step] = { ...counts }; };
  globalThis.__losscSeen = seen;
})();`;

describe(`lossc/tfjs on tfjs-webgpu in headless Chromium${skipReason ? ` [skipped: ${skipReason}]` : ''}`, () => {
  let outDir: string | undefined;
  let profile: string | undefined;
  let server: Server | undefined;
  let context: BrowserContext | undefined;
  let result: TfjsPageResult | undefined;
  let seen: Record<string, { createBuffer: number; mapAsync: number }> = {};
  const problems: string[] = [];

  beforeAll(async () => {
    if (skipReason) return;
    expect(existsSync(join(repo, 'dist/esm/tfjs.mjs')), 'run `npm run build` first').toBe(true);
    outDir = mkdtempSync(join(tmpdir(), 'lossc-tfjs-page-'));
    const { build } = await import('vite');
    await build({ configFile: join(example, 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    const served = await serve(outDir);
    server = served.server;
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'lossc-chromium-profile-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 20_000 });
    await context.addInitScript(COUNTER);
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(served.url, { timeout: 10_000, waitUntil: 'load' });
    await page.waitForSelector('pre#result[data-done]', { state: 'attached', timeout: 90_000 });
    result = JSON.parse((await page.textContent('pre#result')) ?? 'null') as TfjsPageResult;
    seen = (await page.evaluate('globalThis.__losscSeen')) as typeof seen;
    if (result?.ok) {
      const drift = Math.max(...result.lossc.map((v, i) => Math.abs(v - result!.tfjs[i]!) / result!.tfjs[i]!));
      console.log(
        `tfjs-webgpu page: 100 steps, lossc ${result.ms.lossc.toFixed(0)} ms, tfjs ${result.ms.tfjs.toFixed(0)} ms; largest relative difference of the trajectories ${drift.toExponential(1)}; numTensors after step 10: ${result.tensorsAt10}, after 100: ${result.tensorsAtEnd}`,
      );
    }
  }, 150_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    for (const dir of [outDir, profile]) if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it.skipIf(skipReason !== null)("trains on tfjs's webgpu backend, on the trajectory of tf.losses.softmaxCrossEntropy", () => {
    if (!result?.ok) throw new Error(`the page failed: ${result?.error}\n${problems.join('\n')}`);
    expect(result.backend).toBe('webgpu');
    expect(result.lossc).toHaveLength(100);
    result.lossc.forEach((v, i) =>
      expect(Math.abs(v - result!.tfjs[i]!), `step ${i + 1}: lossc ${v} vs tfjs ${result!.tfjs[i]}`).toBeLessThanOrEqual(1e-5 * result!.tfjs[i]!),
    );
    expect(result.lossc.at(-1)!).toBeLessThan(result.lossc[0]!);
  });

  it.skipIf(skipReason !== null)('no readback in a step; no buffer created per step (steps 10 to 100) when the loop keeps nothing; numTensors flat', () => {
    if (!result?.ok) throw new Error(`the page failed: ${result?.error}`);
    // the trajectory run keeps each step's loss value on the GPU (one new 4-byte buffer a step), read after step 100
    const [k10, k100] = [seen['lossc:10'], seen['lossc:100']];
    expect(k10, 'the page did not report its steps').toBeDefined();
    expect(k100!.mapAsync - k10!.mapAsync).toBe(0);
    expect(k100!.createBuffer - k10!.createBuffer).toBe(90);
    const [s10, s100] = [seen['steady:10'], seen['steady:100']];
    expect(s100!.mapAsync - s10!.mapAsync).toBe(0);
    expect(s100!.createBuffer - s10!.createBuffer).toBe(0);
    expect(result.tensorsAtEnd).toBe(result.tensorsAt10);
  });
});
