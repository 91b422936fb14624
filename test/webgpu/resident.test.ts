// GPU-resident calls: inputs uploaded once, results left on the GPU (no readback) and fed to
// the next call, read back only on request. The same numbers as the host path.
import { describe, it, expect, afterAll } from 'vitest';
import { nn, tensor, type Tensor } from 'lossc';
import { releaseDevice } from '../../runtime/webgpu/device.js';
import { skipNote, skipReason } from './gpu.js';

afterAll(releaseDevice);

const seq = (n: number, f: (i: number) => number): Tensor =>
  tensor(
    Array.from({ length: n }, (_, i) => f(i)),
    [n],
  );
const same = (a: Tensor, b: Tensor): void => {
  expect(a.shape).toEqual(b.shape);
  expect(Array.from(a.data)).toEqual(Array.from(b.data));
};

describe.skipIf(skipReason !== null)(`GPU-resident tensors${skipNote}`, () => {
  it('valueAndGradGpu: upload, compute, chain a gradient into another call, read back', async () => {
    const fn = await new nn.MSELoss().to('webgpu');
    const [x, y] = [seq(1000, (i) => Math.sin(i)), seq(1000, (i) => Math.cos(i))];
    const [gx, gy] = [fn.upload(x), fn.upload(y)];
    const step = await fn.valueAndGradGpu(gx, gy);
    expect(step.value.shape).toEqual([]);
    expect(step.grads[0]!.shape).toEqual([1000]);
    expect(step.grads[0]!.buffer).toBeDefined();
    const host = await fn.valueAndGrad(x, y);
    same(await step.value.read(), host.value);
    same(await step.grads[0]!.read(), host.grads[0]!);
    same(await step.grads[1]!.read(), host.grads[1]!);
    // a result feeds the next call without leaving the GPU: |grad_x|^2 / n via MSE against zeros
    const zeros = fn.upload(tensor(new Float32Array(1000), [1000]));
    const norm = await fn.forwardGpu(step.grads[0]!, zeros);
    const g = host.grads[0]!.data;
    const expected = Array.from(g).reduce((s, v) => s + v * v, 0) / 1000;
    expect(Math.abs((await norm.read()).data[0]! - expected)).toBeLessThanOrEqual(1e-5 * expected);
    for (const t of [gx, gy, zeros, norm, step.value, ...step.grads]) t!.release();
    expect(gx.isReleased).toBe(true);
  });

  it('int32 targets on the GPU, mixed with host tensors, and vjpGpu', async () => {
    const ce = await new nn.CrossEntropyLoss({ reduction: 'none' }).to('webgpu');
    const logits = tensor(
      Array.from({ length: 12 }, (_, i) => Math.sin(i)),
      [4, 3],
    );
    const target = tensor([0, 2, 1, 2], [4], 'int32');
    const gt = ce.upload(target);
    expect(gt.dtype).toBe('int32');
    const loss = await ce.forwardGpu(logits, gt);
    same(await loss.read(), await ce.forward(logits, target));
    const g = tensor([1, 0.5, 0.25, 2], [4]);
    const [dlogits, dtarget] = await ce.vjpGpu([logits, gt], g);
    expect(dtarget).toBeNull();
    same(await dlogits!.read(), (await ce.vjp([logits, target], g))[0]!);
    same(await gt.read(), target);
  });
});
