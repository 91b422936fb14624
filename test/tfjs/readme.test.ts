// The README's TensorFlow.js snippet (fenced "```ts tfjs": the packed-package test's consumer has
// no tfjs) runs as written against the built package (dist/, `npm run build` first): 'lossc' and
// 'lossc/tfjs' resolve to the bundles through the package's own exports.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';
import { readmeSnippets } from '../package/readme.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

describe('README: With TensorFlow.js', () => {
  it('the snippet runs in Node against the built lossc/tfjs', async () => {
    expect(existsSync(join(repo, 'dist/esm/tfjs.mjs')), 'run `npm run build` first').toBe(true);
    const snippets = readmeSnippets(readFileSync(join(repo, 'README.md'), 'utf8'), 'tfjs');
    expect(snippets).toHaveLength(1);
    const { code } = await transform(snippets[0]!.code, { loader: 'ts', format: 'esm' });
    const file = join(repo, 'dist', 'readme-tfjs-snippet.mjs');
    writeFileSync(file, `${code}\nconsole.log('numTensors', (await import('@tensorflow/tfjs-core')).memory().numTensors);\n`);
    try {
      const r = spawnSync(process.execPath, [file], { cwd: repo, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/numTensors \d+/);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
