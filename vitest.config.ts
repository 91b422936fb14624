import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  resolve: { alias: { lossc: fileURLToPath(new URL('./runtime/index.ts', import.meta.url)) } },
  test: { include: ['test/**/*.test.ts'], testTimeout: 60_000, env: { LOSSC_VALIDATE_GRAMMAR: '1' } },
});
