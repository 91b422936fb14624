// Builds the browser example: `npm run example:browser` (= `vite build examples/browser`), output
// in examples/browser/dist. The page imports lossc from this repository's source ('lossc' ->
// runtime/index.ts). Two lossc modules read files through Node's APIs and are swapped for
// browser stand-ins here, at build time (Node runs the originals, unchanged):
//   dsl/stdlib/index.ts (node:fs reads the built-in .loss files) -> shims/stdlib.ts
//     (import.meta.glob('…/dsl/stdlib/*.loss', { query: '?raw' }): the sources inlined);
//   dsl/chevrotain.ts (node:module finds chevrotain's single-file bundle) -> shims/chevrotain.ts
//     (a plain import of 'chevrotain', aliased below to that same bundle).
// dsl/grammar.ts reads process.env.LOSSC_VALIDATE_GRAMMAR: `process.env` is defined as {} (no
// grammar self-validation, as in Node without the variable). runtime/webgpu/device.ts imports the
// 'webgpu' package (Dawn, for Node) with a non-literal specifier, so it is never bundled; in a
// browser navigator.gpu is used instead.
import { builtinModules, createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const chevrotainBundle = join(dirname(createRequire(import.meta.url).resolve('chevrotain')), '..', 'chevrotain.mjs');

/** lossc source module -> its browser stand-in. */
const swaps = new Map<string, string>([
  [join(repo, 'dsl', 'stdlib', 'index.ts'), join(here, 'shims', 'stdlib.ts')],
  [join(repo, 'dsl', 'chevrotain.ts'), join(here, 'shims', 'chevrotain.ts')],
]);

function browserShims(): Plugin {
  return {
    name: 'lossc-browser-shims',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (importer === undefined || !source.startsWith('.')) return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      return resolved ? (swaps.get(resolved.id) ?? null) : null;
    },
  };
}

/** A Node built-in reaching the bundle would fail at run time in the browser: fail the build. */
function noNodeBuiltins(): Plugin {
  return {
    name: 'lossc-no-node-builtins',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source.startsWith('node:') || builtinModules.includes(source)) throw new Error(`${source} imported by ${importer ?? '?'} would reach the browser bundle`);
      return null;
    },
  };
}

export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  plugins: [noNodeBuiltins(), browserShims()],
  resolve: {
    alias: [
      { find: /^lossc$/, replacement: join(repo, 'runtime', 'index.ts') },
      { find: /^chevrotain$/, replacement: chevrotainBundle },
    ],
  },
  define: { 'process.env': '{}' },
  build: {
    outDir: join(here, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
  },
});
