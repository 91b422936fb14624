// Every public PyTorch case (float32 and float64) of every implemented loss on the WebAssembly
// backend, through the public API (`await loss.to('wasm', { threads })`), at the same tolerances
// as the JS backend (reference/SCHEMA.md), with 1 thread and with 2.
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { nn } from 'lossc';
import { caseProblems, loadCases, referenceDir, toOptions, toTensor, type RefCase } from '../golden/reference.js';
import { wasmBackend } from '../../runtime/wasm/backend.js';

const LOSSES = (Object.keys(nn) as (keyof typeof nn)[]).filter((name) => existsSync(join(referenceDir, 'cases', `${name}.json`)));

afterAll(async () => (await wasmBackend({ threads: 2 })).close());

async function checkCase(c: RefCase, threads: number): Promise<string[]> {
  const fn = await new nn[c.loss as keyof typeof nn](toOptions(c.options)).to('wasm', { threads });
  const inputs = c.inputs.map(toTensor);
  return caseProblems(c, fn.forward(...inputs), fn.vjp(inputs, toTensor(c.grad_output)));
}

for (const threads of [1, 2]) {
  for (const loss of LOSSES) {
    describe(`${loss} on wasm, ${threads} thread${threads > 1 ? 's' : ''}`, () => {
      for (const c of loadCases(loss)) {
        it(`${c.id}${c.tags.length ? ` [${c.tags.join(' ')}]` : ''}`, async () => {
          expect(await checkCase(c, threads)).toEqual([]);
        });
      }
    });
  }
}

describe('the wasm backend', () => {
  it('ran the cases in WebAssembly memory, on one shared backend per thread count', async () => {
    expect((await wasmBackend({ threads: 1 })).memoryBytes).toBeGreaterThan(4096);
    expect(await wasmBackend({ threads: 2 })).toBe(await wasmBackend({ threads: 2 }));
  });
});
