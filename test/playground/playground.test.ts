// The playground (playground/) end to end: build it with Vite (it imports lossc's own ESM entries,
// dist/esm, as a user's project does), serve it on 127.0.0.1, drive it in headless Chromium
// (Debian's /usr/bin/chromium through playwright-core, as test/browser does) like a user: type a
// loss with an error and see the diagnostic at its line and column; fix it and see the graph
// picture, the kernel plan and the WGSL; run it on JS and on WebGPU (SwiftShader) and compare the
// numbers with each other and with what lossc computes here in Node; plot a sweep; load a
// built-in and change an option; open the share link and get the same state.
//
// Screenshots of the main views go to playground-screenshots/ (git-ignored).
// No /usr/bin/chromium: skipped, saying why; LOSSC_REQUIRE_BROWSER=1 makes that a failure, and
// LOSSC_REQUIRE_WEBGPU=1 a page without a WebGPU adapter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { compile, parseLossSource, type Tensor } from 'lossc';
import { randomInputs, seededRandom } from '../../cli/inputs.js';
import { browserSkipReason, CHROMIUM, CHROMIUM_ARGS, serve } from '../browser/chromium.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const SHOTS = join(repo, 'playground-screenshots');

const skipReason = browserSkipReason;
if (skipReason) console.warn(`playground tests skipped: ${skipReason}`);

// line 2, column 11: 'sigmod' (a misspelt sigmoid)
const BROKEN = 'loss Mine(input: f32[N], nograd target: f32[N]) {\n  let p = sigmod(input)\n  return mean(-target * log(p) - (1 - target) * log(1 - p))\n}\n';
const FIXED = BROKEN.replace('sigmod', 'sigmoid');

/** Replace the editor's text as a user does: select all, then type (paste) the new text. */
async function typeSource(page: Page, text: string): Promise<void> {
  await page.click('.cm-content');
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(text);
}

/** Wait until the page has compiled past `version` (body[data-version]) and say how it went. */
async function compiled(page: Page, after: number): Promise<{ state: string; version: number }> {
  await page.waitForFunction((v) => Number(document.body.dataset['version'] ?? 0) > v && document.body.dataset['compiled'] !== 'pending', after, {
    timeout: 20_000,
  });
  return page.evaluate(() => ({ state: document.body.dataset['compiled']!, version: Number(document.body.dataset['version']) }));
}
const version = (page: Page): Promise<number> => page.evaluate(() => Number(document.body.dataset['version'] ?? 0));

const values = async (page: Page, selector: string): Promise<number[] | null> =>
  JSON.parse((await page.getAttribute(selector, 'data-values')) ?? 'null') as number[] | null;

describe(`the playground in headless Chromium${skipReason ? ` [skipped: ${skipReason}]` : ''}`, () => {
  let outDir: string | undefined;
  let profile: string | undefined;
  let server: Server | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let url = '';
  const problems: string[] = [];
  const shot = async (name: string, selector?: string): Promise<void> => {
    const path = join(SHOTS, `${name}.png`);
    if (selector) await page.locator(selector).screenshot({ path });
    else await page.screenshot({ path, fullPage: true });
  };

  beforeAll(async () => {
    if (skipReason) return;
    if (!existsSync(CHROMIUM)) throw new Error(`LOSSC_REQUIRE_BROWSER=1 but ${CHROMIUM} is absent: run .ci/install-browser.sh (as root)`);
    mkdirSync(SHOTS, { recursive: true });
    outDir = mkdtempSync(join(tmpdir(), 'lossc-playground-dist-'));
    const { build } = await import('vite');
    await build({ configFile: join(repo, 'playground', 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    // cross-origin isolated, as `npm run playground` serves it (SharedArrayBuffer for a threaded WASM backend)
    const served = await serve(outDir, { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
    server = served.server;
    url = served.url;
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'lossc-chromium-profile-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 20_000,
      viewport: { width: 1500, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(20_000);
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForSelector('body[data-ready="true"][data-compiled="ok"]');
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  }, 90_000);

  afterAll(async () => {
    if (problems.length) console.log(`playground console:\n  ${problems.join('\n  ')}`);
    await context?.close().catch(() => undefined);
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    for (const dir of [outDir, profile]) if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it.skipIf(skipReason !== null)('a loss with an error: the diagnostic at its line and column, with its note, and a squiggle in the editor', async () => {
    const v = await version(page);
    await typeSource(page, BROKEN);
    expect((await compiled(page, v)).state).toBe('error');
    const d = page.locator('#diagnostics li[data-severity="error"]').first();
    expect(await d.getAttribute('data-line')).toBe('2');
    expect(await d.getAttribute('data-column')).toBe('11');
    const text = await d.textContent();
    expect(text).toContain("playground.loss:2:11: error: unknown function 'sigmod'");
    expect(text).toContain("did you mean 'sigmoid'?");
    // the squiggle covers exactly the misspelt name
    expect(await page.locator('.cm-lintRange-error').first().textContent()).toBe('sigmod');
    await shot('1-editor-diagnostic', '#left');
  });

  it.skipIf(skipReason !== null)('fixed: stability notes, the graph pictures with the kernel groups, the kernel plan, the JS and the WGSL', async () => {
    const v = await version(page);
    await typeSource(page, FIXED);
    expect((await compiled(page, v)).state).toBe('ok');
    // the textbook BCE is rewritten into its stable form, and the page says so at the source position
    const notes = await page.locator('#diagnostics li[data-severity="note"]').allTextContents();
    expect(
      notes.some((n) => n.startsWith('playground.loss:3:') && /logSigmoid/.test(n)),
      notes.join('\n'),
    ).toBe(true);

    await page.click('#methods button[data-method="valueAndGrad"]');
    await page.click('#views button[data-view="graph"]');
    expect(await page.locator('#view svg.graph g.node').count()).toBeGreaterThan(5);
    expect(await page.locator('#view svg.graph g.node[data-op="input"]').count()).toBe(2);
    await shot('2-graph', '#view svg.graph');

    await page.click('#views button[data-view="simplified"]');
    const kernels = await page.locator('#view table.kernels tr[data-kernel]').count();
    expect(kernels).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#view svg.graph g.kernel').count()).toBe(kernels);
    expect(await page.locator('#view svg.graph g.node[data-kernel="0"]').count()).toBeGreaterThan(2);
    expect(await page.locator('#view svg.graph g.result').allTextContents()).toEqual(['value', 'grad_input']);
    await shot('3-simplified-kernels', '#right');
    // a node made by the source points at it: a click puts the editor's cursor on its line
    const made = page.locator('#view svg.graph g.node[data-file="playground.loss"]').first();
    const line = Number(await made.getAttribute('data-line'));
    await made.click();
    expect(await page.textContent('.cm-activeLine')).toBe(FIXED.split('\n')[line - 1]);

    await page.click('#views button[data-view="plan"]');
    const plan = (await page.textContent('#view pre.plan')) ?? '';
    expect(plan).toMatch(/^plan Mine_valueAndGrad: 1 kernel\n/);
    expect(plan).toContain('results value, grad_input');
    await shot('4-plan', '#right');

    await page.click('#views button[data-view="js"]');
    expect(await page.textContent('#view pre.code.js')).toContain('function Mine_valueAndGrad_k0');

    await page.click('#views button[data-view="wgsl"]');
    const wgsl = (await page.locator('#view pre.code.wgsl').first().textContent()) ?? '';
    expect(wgsl).toContain('@compute');
    expect(wgsl).toContain('fn ');
    await shot('5-wgsl', '#right');
  });

  it.skipIf(skipReason !== null)(
    'runs on JS and on WebGPU with equal values, the JS ones as lossc computes them in Node, and checks the gradients',
    async () => {
      await page.click('#run-button');
      await page.waitForSelector('#run-status[data-state="done"]', { state: 'attached', timeout: 60_000 });
      expect(await page.textContent('#run-status')).toBe('');
      const js = {
        value: await values(page, '#results tr[data-backend="js"] td.value'),
        grad: await values(page, '#results tr[data-backend="js"] td.grad[data-input="input"]'),
      };
      expect(await values(page, '#results tr[data-backend="js"] td.grad[data-input="target"]')).toBeNull(); // declared nograd

      // the same inputs (lossc check's random inputs, seed 1, sizes 4, 5, float32) and loss in Node
      const def = parseLossSource(FIXED, 'playground.loss').losses[0]!;
      const loss = compile(def);
      const inputs = randomInputs(def, loss.options, seededRandom(1), 'float32', [4, 5]) as Tensor[];
      const node = loss.valueAndGrad(...inputs);
      expect(js.value).toEqual(Array.from(node.value.data)); // float32 kernels round every operation: bit-identical
      expect(js.grad).toEqual(Array.from(node.grads[0]!.data));

      const gpuRow = page.locator('#results tr[data-backend="webgpu"]');
      if ((await gpuRow.getAttribute('data-ok')) !== 'true') {
        const why = await gpuRow.textContent();
        if (process.env['LOSSC_REQUIRE_WEBGPU'] === '1') throw new Error(`LOSSC_REQUIRE_WEBGPU=1: WebGPU did not run in the page: ${why}`);
        console.log(`playground: WebGPU did not run (${why}); only JS was checked`);
      } else {
        const device = (await gpuRow.locator('td.device').textContent()) ?? '';
        expect(device.length).toBeGreaterThan(0);
        const gpu = {
          value: await values(page, '#results tr[data-backend="webgpu"] td.value'),
          grad: await values(page, '#results tr[data-backend="webgpu"] td.grad[data-input="input"]'),
        };
        const close = (a: number[] | null, b: number[] | null): void => {
          expect(a?.length).toBe(b?.length);
          const scale = Math.max(...b!.map(Math.abs));
          a!.forEach((x, i) => expect(Math.abs(x - b![i]!), `${x} vs ${b![i]}`).toBeLessThanOrEqual(1e-5 * scale));
        };
        close(gpu.value, js.value);
        close(gpu.grad, js.grad);
        expect(Number(await page.getAttribute('#results tr[data-backend="webgpu"] td.diff', 'data-max-rel-diff'))).toBeLessThanOrEqual(1e-5);
        console.log(`playground WebGPU adapter: ${device}`);
      }
      // WASM: the same numbers as JS
      const wasm = page.locator('#results tr[data-backend="wasm"]');
      expect(await wasm.getAttribute('data-ok'), (await wasm.textContent()) ?? '').toBe('true');
      expect(Number(await page.getAttribute('#results tr[data-backend="wasm"] td.diff', 'data-max-rel-diff'))).toBeLessThanOrEqual(1e-5);

      const check = (await page.textContent('#gradcheck')) ?? '';
      expect(check).toMatch(/^ok +Mine +\(input \[4\], target \[4\]; valueAndGrad vs central differences/m);
      expect(await page.getAttribute('#gradcheck', 'data-ok')).toBe('true');
      await shot('6-run', '#run');
      await shot('0-whole-page');
    },
  );

  it.skipIf(skipReason !== null)('plots a sweep of the loss and its derivative beside nn.BCEWithLogitsLoss', async () => {
    await page.selectOption('#sweep-builtin', 'BCEWithLogitsLoss');
    await page.click('#sweep-button');
    await page.waitForSelector('#sweep-status[data-state="done"]', { state: 'attached' });
    expect(await page.locator('#sweep-plots .chart canvas').count()).toBe(2);
    expect(await page.locator('#sweep-plots .chart[data-chart="value"] .u-legend .u-series').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('Mine'), expect.stringContaining('nn.BCEWithLogitsLoss')]),
    );
    // stabilised, the textbook formula stays finite over [-10, 10]
    const notes = await page.locator('#sweep-plots p').allTextContents();
    expect(notes).toEqual(['Mine: finite everywhere on [-10, 10]', 'nn.BCEWithLogitsLoss: finite everywhere on [-10, 10]']);
    // the canvas has drawn pixels
    const inked = await page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('#sweep-plots .chart[data-chart="value"] canvas')!;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
      return n;
    });
    expect(inked).toBeGreaterThan(500);
    await shot('7-sweep', '#sweep');
  });

  it.skipIf(skipReason !== null)('loads a built-in (its stdlib source), changes an option, and a share link gives the same state', async () => {
    let v = await version(page);
    await page.selectOption('#builtin', 'CrossEntropyLoss');
    expect((await compiled(page, v)).state).toBe('ok');
    expect(await page.inputValue('#loss-name')).toBe('CrossEntropyLoss');
    expect(await page.textContent('.cm-content')).toContain('loss CrossEntropyLoss(');
    expect(await page.isChecked('#stabilize')).toBe(false);
    await page.click('#views button[data-view="plan"]');
    const before = await page.textContent('#view pre.plan');

    v = await version(page);
    const smoothing = page.locator('#options [data-option="labelSmoothing"] input');
    await smoothing.fill('0.1');
    await smoothing.dispatchEvent('change');
    expect((await compiled(page, v)).state).toBe('ok');
    const after = await page.textContent('#view pre.plan');
    expect(after).not.toBe(before); // label smoothing != 0 is its own graph
    v = await version(page);
    await page.selectOption('#options [data-option="reduction"] select', 'sum');
    expect((await compiled(page, v)).state).toBe('ok');
    const plan = await page.textContent('#view pre.plan');
    await shot('8-builtin-options', '#left');

    await page.click('#share');
    const link = await page.inputValue('#share-url');
    expect(link).toMatch(/#state=/);
    const other = await context!.newPage();
    await other.goto(link, { waitUntil: 'load' });
    await other.waitForSelector('body[data-ready="true"][data-compiled="ok"]');
    expect(await other.inputValue('#loss-name')).toBe('CrossEntropyLoss');
    expect(await other.inputValue('#options [data-option="labelSmoothing"] input')).toBe('0.1');
    expect(await other.inputValue('#options [data-option="reduction"] select')).toBe('sum');
    expect(await other.isChecked('#stabilize')).toBe(false);
    expect(await other.textContent('#view pre.plan')).toBe(plan);
    // the state read back from the link makes the same link
    await other.click('#share');
    expect(await other.inputValue('#share-url')).toBe(link);
    await other.close();
    expect(problems).toEqual([]);
  });
});
