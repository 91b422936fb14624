// The training-step options on WebGPU, for every built-in loss (its first float32 golden case):
// `wrt` gives the full call's gradient and null elsewhere; host `out` tensors and GPU-resident
// ones (GpuTensors) are written in place and returned as the same objects; `accumulate` adds
// into GPU-resident gradients (twice from zero: (0 + g) + g, bit for bit).
import { describe, it, expect, afterAll } from 'vitest';
import { nn, tensor, type Tensor } from 'lossc';
import { releaseDevice } from '../../runtime/webgpu/device.js';
import type { GpuTensor } from '../../runtime/webgpu/loss.js';
import { loadCases, toOptions, toTensor } from '../golden/reference.js';
import { skipNote, skipReason } from './gpu.js';

afterAll(releaseDevice);

const LOSSES = Object.keys(nn) as (keyof typeof nn)[];
const bits = (t: Tensor | null): number[] | null => (t ? Array.from(t.data, (v) => (Object.is(v, -0) ? -0.5e-300 : v)) : null);
const zerosLike = (t: Tensor): Tensor => tensor(new Float32Array(t.data.length), t.shape);

describe.skipIf(skipReason !== null)(`training-step options on WebGPU${skipNote}`, () => {
  for (const loss of LOSSES) {
    it(loss, async () => {
      const c = loadCases(loss).find((k) => k.dtype === 'float32')!;
      const fn = await new nn[loss](toOptions(c.options)).to('webgpu');
      const inputs = c.inputs.map(toTensor);
      const names = c.inputs.map((t) => t.name!);
      const g = toTensor(c.grad_output);
      const full = await fn.vjp(inputs, g);
      const first = full.findIndex((t) => t !== null);
      if (first < 0) return;

      // wrt: the first differentiable input only
      const only = await fn.vjp(inputs, g, { wrt: [names[first]!] });
      only.forEach((t, i) => expect(bits(t)).toEqual(i === first ? bits(full[i]!) : null));

      // host out: filled and returned
      const hostOut: (Tensor | null)[] = names.map(() => null);
      hostOut[first] = tensor(new Float32Array(full[first]!.data.length).fill(NaN), full[first]!.shape);
      const r = await fn.vjp(inputs, g, { wrt: [first], out: { grads: hostOut } });
      expect(r[first]).toBe(hostOut[first]);
      expect(bits(r[first]!)).toEqual(bits(full[first]!));

      // GPU-resident out, accumulated twice
      const acc: (GpuTensor | null)[] = names.map(() => null);
      acc[first] = fn.upload(zerosLike(full[first]!));
      const gpuInputs = inputs.map((t) => fn.upload(t));
      const gpuG = fn.upload(g);
      await fn.vjpGpu(gpuInputs, gpuG, { wrt: [first], out: { grads: acc }, accumulate: true });
      const twice = await fn.vjpGpu(gpuInputs, gpuG, { wrt: [first], out: { grads: acc }, accumulate: true });
      expect(twice[first]).toBe(acc[first]);
      twice.forEach((t, i) => i !== first && expect(t).toBeNull());
      const read = await acc[first]!.read();
      expect(bits(read)).toEqual(bits({ ...full[first]!, data: full[first]!.data.map((v) => 0 + v + v) }));

      // valueAndGrad with GPU outs (scalar losses)
      if (c.options['reduction'] !== 'none') {
        const host = await fn.valueAndGrad(...inputs);
        const value = fn.upload(tensor(new Float32Array(1), []));
        const step = await fn.valueAndGradGpu(gpuInputs, { wrt: [first], out: { value, grads: acc } });
        expect(step.value).toBe(value);
        expect(bits(await value.read())).toEqual(bits(host.value));
        expect(bits(await acc[first]!.read())).toEqual(bits(host.grads[first]!));
        value.release();
      }
      for (const t of [...gpuInputs, gpuG, acc[first]!]) t.release();
    });
  }

  it('errors: host out tensors on the GPU methods, and the reverse', async () => {
    const fn = await new nn.MSELoss().to('webgpu');
    const x = tensor(new Float32Array([1, 2]), [2]);
    await expect(fn.valueAndGradGpu([x, x], { out: { grads: [zerosLike(x) as never] } })).rejects.toThrow(/MSELoss: out\.grads\[0\] must be a GpuTensor/);
    const gx = fn.upload(zerosLike(x));
    await expect(fn.valueAndGrad([x, x], { out: { grads: [gx as never] } })).rejects.toThrow(/out tensors of forward \/ vjp \/ valueAndGrad are host tensors/);
    const wrong = fn.upload(tensor(new Float32Array(3), [3]));
    await expect(fn.valueAndGradGpu([x, x], { out: { grads: [wrong] } })).rejects.toThrow(
      /out\.grads\[0\] \('input'\) has shape \[3\] but the result has shape \[2\]/,
    );
    gx.release();
    wrong.release();
  });
});
