// The package as a user gets it: `npm pack`, the tarball installed into a fresh project (npm's
// default: CommonJS, no bundler), then every way of loading it. Needs `npm run build` first (the
// tarball is packed from dist/ with --ignore-scripts); its two dependencies (chevrotain,
// commander) come from npm's cache where `npm ci` put them (--prefer-offline).
//
// Checked: what the tarball ships (and that its .loss texts are the repository's), the installed
// size without the optional peers (Dawn, ts-morph), ESM import, CommonJS require, tsc --strict
// without skipLibCheck (bad options are type errors), to('webgpu') without Dawn (an install hint),
// a browser bundle made by esbuild from the installed package with no shims run in headless
// Chromium (and, under a strict CSP, the library's JIT refused while a standalone module runs),
// the installed `lossc compile` (no esbuild, no ts-morph) and its module required from CommonJS,
// and the README's snippets run against the installed package.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { builtinLosses, nn, tensor } from 'lossc';
import { readmeSnippets } from './readme.js';
import { diagnosticText, userDiagnostics } from '../support/typecheck.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const browserPresent = existsSync(CHROMIUM) || process.env['LOSSC_REQUIRE_BROWSER'] === '1';

let tmp = '';
let app = '';
let packed: { files: { path: string }[]; filename: string };

const node = (args: string[], cwd = app) => spawnSync(process.execPath, args, { cwd, encoding: 'utf8', env: { ...process.env, LOSSC_REQUIRE_WEBGPU: '' } });
/** The installed `lossc` command (node_modules/.bin/lossc, as npx runs it). */
const lossc = (args: string[]) => spawnSync(join(app, 'node_modules/.bin/lossc'), args, { cwd: app, encoding: 'utf8' });
const duBytes = (dir: string): number =>
  readdirSync(dir).reduce((n, f) => {
    const p = join(dir, f);
    const s = statSync(p);
    return n + (s.isDirectory() ? duBytes(p) : s.size);
  }, 0);

/** What the library computes here (from source): the packed package must give the same numbers. */
function expected() {
  const x = tensor([0.5, -1, 2, 0.25, 1.5, -0.5], [2, 3]);
  const t = tensor(new Int32Array([2, 0]), [2], 'int32');
  const y = tensor([0, 1, 1, 0, 1, 0], [2, 3]);
  const ce = new nn.CrossEntropyLoss({ labelSmoothing: 0.1 }).valueAndGrad(x, t);
  const mse = new nn.MSELoss().forward(x, y);
  return { ce: [ce.value.data[0], ...ce.grads[0]!.data], mse: mse.data[0] };
}

/** The same calls, as a consumer writes them (the `lossc` module as `L`). */
const CALLS = `
  const x = L.tensor([0.5, -1, 2, 0.25, 1.5, -0.5], [2, 3]);
  const t = L.tensor(new Int32Array([2, 0]), [2], 'int32');
  const y = L.tensor([0, 1, 1, 0, 1, 0], [2, 3]);
  const ce = new L.nn.CrossEntropyLoss({ labelSmoothing: 0.1 }).valueAndGrad(x, t);
  const mse = new L.nn.MSELoss().forward(x, y);
  const result = { ce: [ce.value.data[0], ...ce.grads[0].data], mse: mse.data[0] };
`;

/** A loss written in TypeScript, for `lossc compile sq.ts`. */
const SQ_TS = "import { Tensor, mean } from 'lossc/loss';\nexport function sq(a: Tensor): Tensor {\n  return mean(a * a);\n}\n";

beforeAll(() => {
  expect(existsSync(join(repo, 'dist/esm/lossc.mjs')), 'run `npm run build` first: the package is packed from dist/').toBe(true);
  tmp = mkdtempSync(join(tmpdir(), 'lossc-pack-'));
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: repo, encoding: 'utf8' });
  packed = (JSON.parse(out) as (typeof packed)[])[0]!;
  app = join(tmp, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', join(tmp, packed.filename)], {
    cwd: app,
    encoding: 'utf8',
  });
}, 240_000);
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships the bundles, types, CLI, LICENSE and README: no tests, examples, sources or source maps', () => {
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'package.json',
        'dist/esm/lossc.mjs',
        'dist/cjs/lossc.cjs',
        'dist/types/lossc.d.ts',
        'dist/standalone/runtime.js',
        'dist/standalone/runtime-wasm.js',
      ]),
    );
    const bin = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin['lossc']!;
    expect(files).toContain(bin.replace(/^\.\//, ''));
    expect(files.filter((f) => /^dist\/(test|examples)\/|\.map$|(?<!\.d)\.ts$/.test(f))).toEqual([]);
  });

  it("reads the repository's .loss files: every built-in loss, as declared there, from ESM and CommonJS alike", () => {
    const describe = `const forms = (d) => [d, ...(d.overloads ?? [])].map((f) => ({ name: f.name, doc: f.doc, inputs: f.inputs, options: f.options, checks: f.checks ?? null }));
      console.log(JSON.stringify(L.builtinLosses.map(forms)));`;
    const here = JSON.stringify(
      builtinLosses.map((d) =>
        [d, ...(d.overloads ?? [])].map((f) => ({ name: f.name, doc: f.doc, inputs: f.inputs, options: f.options, checks: f.checks ?? null })),
      ),
    );
    expect(JSON.parse(here).length).toBe(21);
    for (const [flag, code] of [
      ['--input-type=module', `import * as L from 'lossc';\n${describe}`],
      ['--input-type=commonjs', `const L = require('lossc');\n${describe}`],
    ] as const) {
      const r = node([flag, '-e', code]);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout), flag).toEqual(JSON.parse(here));
    }
  });

  it('installs under 15 MB without its optional peers (Dawn, ts-morph) and without esbuild', () => {
    const modules = join(app, 'node_modules');
    for (const absent of ['webgpu', 'ts-morph', 'esbuild', 'typescript', '@tensorflow/tfjs-core'])
      expect(existsSync(join(modules, absent)), absent).toBe(false);
    const bytes = duBytes(modules);
    console.log(`installed size of lossc and its dependencies: ${(bytes / 1e6).toFixed(1)} MB`);
    expect(bytes).toBeLessThan(15e6);
  });

  it("works from ESM import and CommonJS require, with the library's numbers", () => {
    const want = expected();
    writeFileSync(
      join(app, 'esm.mjs'),
      `import * as L from 'lossc';\nimport * as authoring from 'lossc/loss';\nif (typeof authoring.mean !== 'function') throw new Error('lossc/loss');\n${CALLS}\nconsole.log(JSON.stringify(result));`,
    );
    writeFileSync(
      join(app, 'cjs.cjs'),
      `const L = require('lossc');\nif (typeof require('lossc/loss').mean !== 'function') throw new Error('lossc/loss');\n${CALLS}\nconsole.log(JSON.stringify(result));`,
    );
    for (const file of ['esm.mjs', 'cjs.cjs']) {
      const r = node([file]);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout), file).toEqual(want);
    }
  });

  it('exports the documented names', () => {
    const r = node([
      '--input-type=module',
      '-e',
      "import * as L from 'lossc'; console.log(['compile', 'compileLossSource', 'wgslModules', 'tensor', 'CompileError', 'fromGpuBuffer', 'GpuTensor'].map((n) => typeof L[n]).join(','))",
    ]);
    expect(r.stdout.trim()).toBe('function,function,function,function,function,function,function');
  });

  it("to('webgpu') without the optional 'webgpu' package says how to install it", () => {
    const r = node([
      '--input-type=module',
      '-e',
      "import { nn } from 'lossc'; await new nn.MSELoss().to('webgpu').then(() => console.log('a device'), (e) => console.log(e.message));",
    ]);
    expect(r.stdout).toContain("the 'webgpu' package (Dawn, WebGPU for Node) is not installed: npm install webgpu");
  });

  it('type-checks with tsc --strict and no skipLibCheck; bad options, reductions and arities are type errors', () => {
    const body = [
      'const x = tensor([1, 2, 3, 4], [2, 2]);',
      "const t = tensor(new Int32Array([0, 1]), [2], 'int32');",
      "const ce = new nn.CrossEntropyLoss({ labelSmoothing: 0.1, weight: null, reduction: 'sum' });",
      'export const v: Tensor = ce.valueAndGrad(x, t).value;',
      'export const g: (Tensor | null)[] = ce.vjp([x, t], v);',
      "new nn.KLDivLoss({ reduction: 'batchmean', logTarget: true });",
      '// @ts-expect-error a misspelt option',
      'new nn.CrossEntropyLoss({ labelSmothing: 0.1 });',
      "// @ts-expect-error another loss's option",
      'new nn.CrossEntropyLoss({ beta: 1 });',
      '// @ts-expect-error a reduction MSELoss does not have',
      "new nn.MSELoss({ reduction: 'batchmean' });",
      '// @ts-expect-error a missing target',
      'new nn.MSELoss().forward(x);',
      '// @ts-expect-error a missing target in vjp',
      'new nn.MSELoss().vjp([x], x);',
      "export const custom: Tensor = compile({ name: 'Sq', inputs: ['a'], build: (a) => mean(mul(a, a)) }).forward(x);",
      "export const gpu = async () => (await ce.to('webgpu')).forward(x, t);",
    ].join('\n');
    writeFileSync(join(app, 'use.mts'), `import { compile, mean, mul, nn, tensor, type Tensor } from 'lossc';\n${body}\n`);
    writeFileSync(join(app, 'use.cts'), `import { compile, mean, mul, nn, tensor, type Tensor } from 'lossc';\n${body}\n`);
    const messages = userDiagnostics([join(app, 'use.mts'), join(app, 'use.cts')], { lib: ['lib.es2023.d.ts'] }).map(diagnosticText);
    expect(messages).toEqual([]);
  }, 60_000);

  it('the installed lossc compile (no esbuild, no ts-morph) writes a small module that CommonJS requires', () => {
    const out = join(app, 'out');
    const r = lossc([
      'compile',
      'MSELoss',
      '--options',
      '{"reduction": "mean"}',
      '--precision',
      'float32',
      '--methods',
      'forward,valueAndGrad',
      '--no-training-variants',
      '-o',
      out,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const size = statSync(join(out, 'MSELoss.cjs')).size;
    const runtime = statSync(join(app, 'node_modules', 'lossc', 'dist', 'standalone', 'runtime.js')).size; // every module carries it (or imports it once: --shared-runtime)
    console.log(
      `standalone MSELoss (mean, float32, forward + valueAndGrad): ${(size / 1024).toFixed(1)} kB .cjs, ${(runtime / 1024).toFixed(1)} kB of it the run time`,
    );
    expect(size - runtime).toBeLessThan(8 * 1024); // the loss itself
    expect(runtime).toBeLessThan(40 * 1024);
    const run = node([
      '-e',
      "const { create } = require('./out/MSELoss.cjs'); const f = (d) => ({ data: Float32Array.from(d), shape: [d.length], dtype: 'float32' }); console.log(create().valueAndGrad(f([1, 2, 3]), f([0, 0, 0])).value.data[0])",
    ]);
    expect(run.status, run.stderr).toBe(0);
    expect(Number(run.stdout)).toBe(Math.fround(14 / 3));
    // a loss written in TypeScript needs the optional ts-morph: the command says so
    writeFileSync(join(app, 'sq.ts'), SQ_TS);
    const ts = lossc(['compile', 'sq.ts', '-o', out]);
    expect(ts.status).toBe(1);
    expect(ts.stderr).toContain('sq.ts: reading a loss written in TypeScript needs ts-morph, an optional dependency of lossc: npm install -D ts-morph');
  });

  it("the README's snippets run against the installed package", async () => {
    const snippets = readmeSnippets(readFileSync(join(repo, 'README.md'), 'utf8'));
    expect(snippets.length).toBeGreaterThan(2);
    const sources = snippets.map((s, i) => {
      const file = join(app, `readme-${i}.mts`);
      writeFileSync(file, `${s.code}\nexport {};\n`);
      return file;
    });
    const typeErrors = userDiagnostics(sources, { lib: ['lib.es2023.d.ts'] }).map((d) => `README snippet ${diagnosticText(d)}`);
    expect(typeErrors).toEqual([]);
    for (const [i, s] of snippets.entries()) {
      const file = join(app, `readme-${i}.mjs`);
      const js = (
        await build({
          stdin: { contents: s.code, loader: 'ts', resolveDir: app },
          write: false,
          format: 'esm',
          platform: 'node',
          bundle: false,
          logLevel: 'silent',
        })
      ).outputFiles[0]!.text;
      writeFileSync(file, js);
      const r = node([file]);
      expect(r.status, `README snippet at line ${s.line}:\n${s.code}\n${r.stderr}`).toBe(0);
    }
  }, 60_000);

  it("with the optional peers installed: to('webgpu') runs on Dawn from ESM and CommonJS, and lossc compile reads a .ts loss", () => {
    writeFileSync(join(app, 'sq.ts'), SQ_TS);
    execFileSync(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        '--no-package-lock',
        join(tmp, packed.filename),
        `webgpu@${devVersion('webgpu')}`,
        `ts-morph@${devVersion('ts-morph')}`,
      ],
      { cwd: app, encoding: 'utf8' },
    );
    const ts = lossc(['compile', 'sq.ts', '-o', join(app, 'out')]);
    expect(ts.status, ts.stderr).toBe(0);
    expect(ts.stdout).toContain('sq.mjs');
    const gpu =
      "new L.nn.MSELoss().to('webgpu').then((g) => g.forward(L.tensor([1, 2, 3], [3]), L.tensor([0, 0, 0], [3]))).then((r) => console.log(r.data[0]), (e) => console.log(e.message));";
    for (const [flag, load] of [
      ['--input-type=module', "import * as L from 'lossc';"],
      ['--input-type=commonjs', "const L = require('lossc');"],
    ] as const) {
      const r = spawnSync(process.execPath, [flag, '-e', `${load}\n${gpu}`], { cwd: app, encoding: 'utf8' });
      expect(r.stdout).not.toContain('is not installed');
      // a machine with an adapter (CI: LOSSC_REQUIRE_WEBGPU=1) computes; one without says what it tried
      if (process.env['LOSSC_REQUIRE_WEBGPU'] === '1') expect(Number(r.stdout.trim()), `${flag}: ${r.stdout}${r.stderr}`).toBe(Math.fround(14 / 3));
    }
  }, 120_000);
});

/** A devDependency's exact version (the one `npm ci` put in npm's cache). */
const devVersion = (name: string): string =>
  (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies[name]!;

describe.skipIf(!browserPresent)('the packed package in a browser (headless Chromium)', () => {
  it('bundles with esbuild from node_modules with no shims, and runs; a strict CSP refuses the JIT but runs a standalone module', async () => {
    const entry = `import * as L from 'lossc';\n${CALLS}\ndocument.title = JSON.stringify(result);`;
    const bundled = await build({
      stdin: { contents: entry, resolveDir: app, loader: 'js' },
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      metafile: true,
      logLevel: 'silent',
      target: 'es2022',
    });
    expect(bundled.warnings).toEqual([]);
    expect(Object.keys(bundled.metafile!.inputs).filter((f) => /^node:|\b(fs|path|module|url|worker_threads)$/.test(f))).toEqual([]);
    // the standalone module of the previous test, or a fresh one
    const out = join(app, 'out');
    if (!existsSync(join(out, 'MSELoss.mjs'))) lossc(['compile', 'MSELoss', '--precision', 'float32', '-o', out]);
    const standalone = `import { create } from './MSELoss.mjs';\nconst f = (d) => ({ data: Float32Array.from(d), shape: [d.length], dtype: 'float32' });\ndocument.title = String(create().forward(f([1, 2, 3]), f([0, 0, 0])).data[0]);`;
    const files: Record<string, string> = {
      '/lib.js': bundled.outputFiles[0]!.text,
      '/MSELoss.mjs': readFileSync(join(out, 'MSELoss.mjs'), 'utf8'),
      '/standalone.js': standalone,
      '/lib.html': '<!doctype html><script type="module" src="/lib.js"></script>',
      '/standalone.html': '<!doctype html><script type="module" src="/standalone.js"></script>',
    };
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    try {
      const visit = async (path: string, csp: string): Promise<{ title: string; errors: string[] }> => {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.route('http://lossc.test/**', (route) => {
          const p = new URL(route.request().url()).pathname;
          const body = files[p];
          if (body === undefined) return route.fulfill({ status: 404, body: '' });
          return route.fulfill({
            status: 200,
            body,
            headers: { 'content-type': p.endsWith('.html') ? 'text/html' : 'text/javascript', 'content-security-policy': csp },
          });
        });
        await page.goto(`http://lossc.test${path}`);
        await page.waitForFunction(() => document.title !== '', null, { timeout: 10_000 }).catch(() => {});
        const title = await page.title();
        await page.close();
        return { title, errors };
      };
      const lib = await visit('/lib.html', "script-src 'self' 'unsafe-eval'");
      expect(lib.errors).toEqual([]);
      expect(JSON.parse(lib.title)).toEqual(expected());
      // the library compiles kernels at run time: a page whose CSP forbids eval refuses it (README says so)
      const strict = await visit('/lib.html', "script-src 'self'");
      expect(strict.title).toBe('');
      expect(strict.errors.join('\n')).toMatch(/unsafe-eval/);
      // a standalone module's kernels are functions in the file: it runs under the strict CSP
      const sa = await visit('/standalone.html', "script-src 'self'");
      expect(sa.errors).toEqual([]);
      expect(Number(sa.title)).toBe(Math.fround(14 / 3));
    } finally {
      await browser.close();
    }
  }, 120_000);
});
