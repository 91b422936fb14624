// The same boundary checks on WebGPU: a bad tensor never reaches a GPU buffer (short data once gave a
// finite wrong value there), uploads are checked, and GPU-resident arguments pass as what they are.
import { describe, it, expect, afterAll } from 'vitest';
import { nn, tensor, type Tensor } from 'lossc';
import { releaseDevice } from '../../runtime/webgpu/device.js';
import { skipNote, skipReason } from '../webgpu/gpu.js';

afterAll(releaseDevice);

const raw = (data: unknown, shape: unknown, dtype: unknown = 'float32'): Tensor => ({ data, shape, dtype }) as unknown as Tensor;

describe.skipIf(skipReason !== null)(`hostile tensors on WebGPU${skipNote}`, () => {
  const y = tensor([1, 1, 1], [3]);

  it("short, long and malformed data are the JS backend's errors", async () => {
    const fn = await new nn.MSELoss().to('webgpu');
    await expect(fn.forward(raw(new Float32Array(2), [3]), y)).rejects.toThrow(
      "MSELoss.forward(input, target): argument 'input': shape [3] has 3 elements but its data has 2",
    );
    await expect(fn.forward(raw(new Float32Array(4), [3]), y)).rejects.toThrow('has 3 elements but its data has 4');
    await expect(fn.forward(raw(new Float32Array(3), ['3']), y)).rejects.toThrow("shape ['3'] has a size that is not a number");
    await expect(fn.forward(y, null as unknown as Tensor)).rejects.toThrow("argument 'target' must be a tensor ({ data, shape, dtype }), got null");
    const none = await new nn.MSELoss({ reduction: 'none' }).to('webgpu');
    await expect(none.vjp([y, y], null as unknown as Tensor)).rejects.toThrow('MSELoss.vjp: gradOutput must be a tensor');
  });

  it('upload checks its tensor; GPU-resident arguments still run', async () => {
    const fn = await new nn.MSELoss().to('webgpu');
    expect(() => fn.upload([1, 2] as unknown as Tensor)).toThrow('MSELoss.upload: the tensor must be a tensor ({ data, shape, dtype }), got [1, 2]');
    expect(() => fn.upload(raw(new Float32Array(1), [2]))).toThrow('MSELoss.upload: the tensor: shape [2] has 2 elements but its data has 1');
    const x = fn.upload(tensor([1, 2, 3], [3]));
    const v = await fn.forward(x, y);
    expect(v.data[0]).toBeCloseTo((0 + 1 + 4) / 3, 6);
    x.release();
  });

  it('options are checked as on JS', async () => {
    const { compile } = await import('lossc');
    expect(() =>
      compile('loss H(x: f32[*]) {\n  option d: float = 1\n  check optionRange(d, min=0), "d must be >= 0"\n  return mean(x * d)\n}\n', {
        target: 'wgsl',
        options: { d: -1 },
      }),
    ).toThrow("H: d must be >= 0 (option 'd' = -1)");
    const ok = await compile('loss H(x: f32[*]) {\n  option d: float = 1\n  check optionRange(d, min=0), "d must be >= 0"\n  return mean(x * d)\n}\n', {
      target: 'wgsl',
      options: { d: 2 },
    });
    expect((await ok.forward(y)).data[0]).toBe(2);
  });
});
