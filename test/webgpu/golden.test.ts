// Every public float32 PyTorch case of every implemented loss, on the WebGPU backend, at the
// same tolerances as the JS backend (reference/SCHEMA.md). Also: valueAndGrad on the GPU agrees
// with the JS backend's, and float64 cases are refused with an error naming the tensor.
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { nn, type Tensor } from 'lossc';
import { caseProblems, loadCases, mismatch, referenceDir, toOptions, toTensor, type RefCase, type RefTensor } from '../golden/reference.js';
import { releaseDevice } from '../../runtime/webgpu/device.js';
import { skipNote, skipReason } from './gpu.js';

afterAll(releaseDevice);

const LOSSES = (Object.keys(nn) as (keyof typeof nn)[]).filter((name) => existsSync(join(referenceDir, 'cases', `${name}.json`)));

/** A host tensor as a golden expectation (to compare WebGPU with the JS backend at SCHEMA's tolerance). */
const asRef = (t: Tensor): RefTensor => ({ shape: [...t.shape], dtype: 'float32', data: Array.from(t.data) });

async function checkCaseOnGpu(c: RefCase): Promise<string[]> {
  const Loss = nn[c.loss as keyof typeof nn];
  const host = new Loss(toOptions(c.options));
  const fn = await host.to('webgpu');
  const inputs = c.inputs.map(toTensor);
  const problems = caseProblems(c, await fn.forward(...inputs), await fn.vjp(inputs, toTensor(c.grad_output)));
  if (c.options['reduction'] !== 'none') {
    // the fused valueAndGrad plan: the same numbers as the JS backend's
    const want = host.valueAndGrad(...inputs);
    const got = await fn.valueAndGrad(...inputs);
    const v = mismatch(got.value, asRef(want.value), 'valueAndGrad value (vs JS)');
    if (v) problems.push(v);
    want.grads.forEach((w, i) => {
      if (w === null) {
        if (got.grads[i] !== null) problems.push(`valueAndGrad grad ${i}: JS gives none`);
        return;
      }
      const g = mismatch(got.grads[i], asRef(w), `valueAndGrad grad ${c.inputs[i]?.name ?? i} (vs JS)`);
      if (g) problems.push(g);
    });
  }
  return problems;
}

for (const loss of LOSSES) {
  const cases = loadCases(loss);
  describe.skipIf(skipReason !== null)(`${loss} on WebGPU${skipNote}`, () => {
    for (const c of cases.filter((x) => x.dtype === 'float32')) {
      it(`${c.id}${c.tags.length ? ` [${c.tags.join(' ')}]` : ''}`, async () => {
        expect(await checkCaseOnGpu(c)).toEqual([]);
      });
    }
    const f64 = cases.find((x) => x.dtype === 'float64');
    if (f64) {
      it(`${f64.id}: float64 is refused, naming the tensor`, async () => {
        const fn = await new nn[loss](toOptions(f64.options)).to('webgpu');
        const first = f64.inputs.find((t) => t.dtype === 'float64')!;
        await expect(fn.forward(...f64.inputs.map(toTensor))).rejects.toThrow(`WebGPU computes in float32; got float64 for '${first.name}'`);
      });
    }
  });
}
