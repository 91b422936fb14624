// Builds the browser example: `npm run example:browser` (= `vite build examples/browser`), output
// in examples/browser/dist. The page imports 'lossc' as a user's project does: the package's ESM
// entry (dist/esm/lossc.mjs, after `npm run build`), taken by Vite as it is: no shims, no
// defines. The built-in .loss files are inside it as text; the 'webgpu' package (Dawn, for Node)
// is imported with a computed specifier only in Node, so it is never bundled; in a browser
// navigator.gpu is used.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { noNodeBuiltins } from './noNodeBuiltins.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');

export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  plugins: [noNodeBuiltins()],
  resolve: { alias: [{ find: /^lossc$/, replacement: join(repo, 'dist', 'esm', 'lossc.mjs') }] },
  build: {
    outDir: join(here, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
  },
});
