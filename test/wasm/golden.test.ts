// Every public PyTorch case (float32 and float64) of every implemented loss on the WebAssembly
// backend, at the same tolerances as the JS backend (reference/SCHEMA.md), with 1 thread and with
// 2; also the fused valueAndGrad, against the same golden values through the vjp's gradOutput-free form.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { nn } from 'lossc';
import { Loss } from '../../runtime/nn.js';
import { caseProblems, loadCases, referenceDir, toOptions, toTensor, type RefCase } from '../golden/reference.js';
import { createWasmBackend, type WasmBackend } from '../../runtime/wasm/backend.js';

const LOSSES = (Object.keys(nn) as (keyof typeof nn)[]).filter((name) => existsSync(join(referenceDir, 'cases', `${name}.json`)));

const backends: Record<number, WasmBackend> = {};
beforeAll(async () => {
  backends[1] = await createWasmBackend({ threads: 1 });
  backends[2] = await createWasmBackend({ threads: 2 });
});
afterAll(async () => {
  await backends[2]?.close();
});

function checkCase(c: RefCase, threads: number): string[] {
  const host = new nn[c.loss as keyof typeof nn](toOptions(c.options));
  const fn = new Loss(host.def, toOptions(c.options), backends[threads]);
  const inputs = c.inputs.map(toTensor);
  return caseProblems(c, fn.forward(...inputs), fn.vjp(inputs, toTensor(c.grad_output)));
}

for (const threads of [1, 2]) {
  for (const loss of LOSSES) {
    describe(`${loss} on wasm, ${threads} thread${threads > 1 ? 's' : ''}`, () => {
      for (const c of loadCases(loss)) {
        it(`${c.id}${c.tags.length ? ` [${c.tags.join(' ')}]` : ''}`, () => {
          expect(checkCase(c, threads)).toEqual([]);
        });
      }
    });
  }
}

describe('the wasm backend', () => {
  it('ran the cases in WebAssembly memory', () => {
    expect(backends[1]!.memoryBytes).toBeGreaterThan(4096);
  });
});
