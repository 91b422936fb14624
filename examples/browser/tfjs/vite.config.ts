// Builds the TensorFlow.js page: `vite build examples/browser/tfjs` (after `npm run build`). It
// imports 'lossc' and 'lossc/tfjs' as a user's project does: the package's ESM entries, taken by
// Vite as they are; @tensorflow/tfjs-core and @tensorflow/tfjs-backend-webgpu from node_modules.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..', '..');

export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  resolve: {
    alias: [
      { find: /^lossc$/, replacement: join(repo, 'dist', 'esm', 'lossc.mjs') },
      { find: /^lossc\/tfjs$/, replacement: join(repo, 'dist', 'esm', 'tfjs.mjs') },
    ],
  },
  build: { outDir: join(here, 'dist'), emptyOutDir: true, target: 'es2022', reportCompressedSize: false, chunkSizeWarningLimit: 4096 },
});
