// The package's entry points, bundled by esbuild after tsc (npm run build):
//
//   dist/esm/lossc.mjs, dist/esm/loss.mjs (+ chunks)   `import` (Node, browsers, bundlers)
//   dist/cjs/lossc.cjs, dist/cjs/loss.cjs               `require`
//   dist/esm/check.mjs, dist/cjs/check.cjs              `lossc/check`: gradient check and random inputs (the playground)
//   dist/esm/tfjs.mjs, dist/cjs/tfjs.cjs                `lossc/tfjs`: @tensorflow/tfjs-core (a peer) stays an import
//   dist/standalone/runtime.js                          the run time of standalone modules (lossc compile)
//   dist/standalone/runtime-wasm.js                     the same with the WebAssembly host (lossc compile --target wasm)
//
// Each bundle carries lossc and chevrotain (its only run-time dependency; its single-file build
// loads in ~15 ms where its 60-file entry takes ~250 ms), and the built-in .loss files as text:
// no node: built-ins, no files read at run time, so a browser bundler takes it as it is. The
// .loss files stay the source: they are read here, verbatim (test/package checks it), and each
// is parsed when one of its losses is first used (dsl/stdlib/lazy.ts). The 'webgpu' package
// (Dawn, for Node) is imported only by to('webgpu'), with a computed specifier: never bundled.
// The `lossc` command runs from tsc's output (dist/cli), which reads the same sources.
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stdlibDir = join(root, 'dsl', 'stdlib');
const chevrotainBundle = join(dirname(createRequire(import.meta.url).resolve('chevrotain')), '..', 'chevrotain.mjs');

/** file name -> text of every built-in .loss file. */
export function stdlibFiles() {
  return Object.fromEntries(
    readdirSync(stdlibDir)
      .filter((f) => f.endsWith('.loss'))
      .sort()
      .map((f) => [f, readFileSync(join(stdlibDir, f), 'utf8')]),
  );
}

/** The two lossc modules that reach for Node (files, module resolution), as the bundle has them. */
const browserSafe = {
  name: 'lossc-bundle',
  setup(b) {
    b.onResolve({ filter: /^chevrotain$/ }, () => ({ path: chevrotainBundle }));
    b.onLoad({ filter: /[\\/]dsl[\\/]stdlib[\\/]index\.ts$/ }, () => ({
      loader: 'ts',
      resolveDir: stdlibDir,
      contents: [
        `import type { LossDef } from '../../compiler/loss.js';`,
        `import { compileStdlib } from './compile.js';`,
        `const FILES: Readonly<Record<string, string>> = ${JSON.stringify(stdlibFiles())};`,
        `export const stdlibSources = (): Map<string, string> => new Map(Object.entries(FILES));`,
        `export const loadLossFiles = (): LossDef[] => compileStdlib(stdlibSources());`,
        `export const loadStdlib = (ts: readonly LossDef[] = []): LossDef[] => compileStdlib(stdlibSources(), ts);`,
      ].join('\n'),
    }));
    b.onLoad({ filter: /[\\/]dsl[\\/]chevrotain\.ts$/ }, () => ({
      loader: 'ts',
      resolveDir: root,
      contents: `export { CstParser, EOF, Lexer, createToken, createTokenInstance } from 'chevrotain';`,
    }));
    // a Node built-in in the bundle would break it in a browser: fail the build instead
    b.onResolve({ filter: /^node:|^(fs|path|url|module|worker_threads|os|crypto)$/ }, (a) => ({
      errors: [{ text: `${a.path} imported by ${a.importer} would reach the browser bundle` }],
    }));
  },
};

const common = {
  entryPoints: {
    lossc: join(root, 'runtime', 'index.ts'),
    loss: join(root, 'runtime', 'authoring.ts'),
    check: join(root, 'cli', 'checkApi.ts'),
    tfjs: join(root, 'runtime', 'tfjs.ts'),
  },
  external: ['@tensorflow/tfjs-core'],
  bundle: true,
  platform: 'neutral',
  mainFields: ['module', 'main'],
  target: 'es2022',
  legalComments: 'linked',
  sourcemap: false,
  logLevel: 'warning',
  plugins: [browserSafe],
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const dir of ['esm', 'cjs', 'standalone', 'types']) rmSync(join(root, 'dist', dir), { recursive: true, force: true }); // no stale chunks
  await build({
    ...common,
    format: 'esm',
    splitting: true,
    outdir: join(root, 'dist', 'esm'),
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
  });
  await build({ ...common, format: 'cjs', outdir: join(root, 'dist', 'cjs'), outExtension: { '.js': '.cjs' } });
  // the run time every standalone module (`lossc compile`) carries: one IIFE, pasted into .mjs and .cjs files alike
  await build({
    ...common,
    entryPoints: [join(root, 'runtime', 'standalone.ts')],
    format: 'iife',
    globalName: 'LosscStandalone',
    minify: true,
    legalComments: 'none',
    outfile: join(root, 'dist', 'standalone', 'runtime.js'),
  });
  // the same with the WebAssembly backend's host (memory, program), for `lossc compile --target wasm`
  await build({
    ...common,
    entryPoints: [join(root, 'runtime', 'wasm', 'standalone.ts')],
    format: 'iife',
    globalName: 'LosscStandalone',
    minify: true,
    legalComments: 'none',
    outfile: join(root, 'dist', 'standalone', 'runtime-wasm.js'),
  });
}
