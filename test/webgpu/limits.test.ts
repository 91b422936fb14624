// Device limits: a flat domain larger than one storage binding is dispatched in chunks (each bound
// at its byte offset), tested here with an artificially small binding limit; a strided one is
// refused with the limit named. Workgroup counts never exceed maxComputeWorkgroupsPerDimension
// (grid-stride loops).
import { describe, it, expect, afterAll } from 'vitest';
import { nn, tensor, type Tensor } from 'lossc';
import { compiled } from '../../runtime/nn.js';
import { releaseDevice } from '../../runtime/webgpu/device.js';
import { GpuContext } from '../../runtime/webgpu/context.js';
import { WebGpuProgram, type GpuValue } from '../../runtime/webgpu/program.js';
import { gpu, skipNote, skipReason } from './gpu.js';

afterAll(releaseDevice);

const seq = (shape: number[], f: (i: number) => number): Tensor =>
  tensor(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i)),
    shape,
  );

describe.skipIf(skipReason !== null)(`WebGPU device limits${skipNote}`, () => {
  it('MSELoss over 5000 elements with a 4 KiB binding limit: 5 chunks, the same gradients, the same loss to rounding', async () => {
    const mse = new nn.MSELoss();
    const plan = compiled(mse.def, mse.options, 'valueAndGrad').plan;
    const [x, y] = [seq([5000], (i) => Math.sin(i)), seq([5000], (i) => Math.cos(i * 0.7))];
    const run = async (maxBindingBytes?: number): Promise<{ data: Float32Array[]; dispatches: number }> => {
      const ctx = new GpuContext(gpu!);
      if (maxBindingBytes) ctx.maxBindingBytes = maxBindingBytes;
      const up = (t: Tensor): GpuValue => {
        const buffer = ctx.device.createBuffer({ size: t.data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
        ctx.device.queue.writeBuffer(buffer, 0, t.data as Float32Array<ArrayBuffer>);
        return { buffer, shape: t.shape };
      };
      const s = new WebGpuProgram(ctx, plan).submit(
        new Map([
          ['input', up(x)],
          ['target', up(y)],
        ]),
        new Map(),
        true,
      );
      return { data: await s.data!, dispatches: s.stats.dispatches };
    };
    const whole = await run();
    const chunked = await run(4096);
    expect(whole.dispatches).toBe(2);
    expect(chunked.dispatches).toBe(6); // 5 chunks of main_flat, then finish
    expect(Array.from(chunked.data[1]!)).toEqual(Array.from(whole.data[1]!));
    expect(Array.from(chunked.data[2]!)).toEqual(Array.from(whole.data[2]!));
    const js = mse.valueAndGrad(x, y).value.data[0]!;
    expect(Math.abs(chunked.data[0]![0]! - js)).toBeLessThanOrEqual(1e-6 * js);
  });

  it('a strided kernel over more than one binding is refused, naming the limit', async () => {
    const mse = new nn.MSELoss();
    const fn = await mse.to('webgpu');
    fn.ctx.maxBindingBytes = 4096;
    try {
      await expect(
        fn.forward(
          seq([100, 20], (i) => i),
          seq([20], (i) => i),
        ),
      ).rejects.toThrow('maxStorageBufferBindingSize');
    } finally {
      fn.ctx.maxBindingBytes = fn.ctx.limits.maxStorageBufferBindingSize;
    }
  });
});
