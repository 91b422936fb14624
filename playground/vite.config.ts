// The playground (`npm run playground`): a static page built by Vite into playground/dist, which
// runs from any static server with no network. It imports 'lossc' and 'lossc/check' as a user's
// project does: the package's own ESM entries from package.json's exports (dist/esm, after
// `npm run build`), taken by Vite as they are. A Node built-in reaching the bundle fails the build.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { noNodeBuiltins } from '../examples/browser/noNodeBuiltins.js';

const ISOLATED = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
const exportsMap = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { exports: Record<string, { import?: string }> }).exports;

/** The ESM file package.json's exports give for `lossc<subpath>`. */
function esmEntry(subpath: string): string {
  const file = exportsMap[subpath]?.import;
  if (!file) throw new Error(`package.json exports no ESM entry for lossc${subpath.slice(1)}`);
  return join(repo, file);
}

export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  plugins: [noNodeBuiltins()],
  resolve: {
    alias: [
      { find: /^lossc$/, replacement: esmEntry('.') },
      { find: /^lossc\/check$/, replacement: esmEntry('./check') },
    ],
  },
  build: {
    outDir: join(here, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
    chunkSizeWarningLimit: 2000,
  },
  // cross-origin isolated (every asset is same-origin): SharedArrayBuffer for a threaded WASM backend, a finer clock for timings
  preview: { host: '127.0.0.1', port: 4173, headers: ISOLATED },
  server: { headers: ISOLATED },
});
