// Results on the GPU are deterministic: the same input gives bit-identical output, run after run
// (fixed reduction trees, no float atomics), for full reductions (workgroup trees, then one
// finishing workgroup), scatter-accumulations (a broadcast operand's gradient) and row kernels.
import { describe, it, expect, afterAll } from 'vitest';
import { nn, tensor, type Tensor } from 'lossc';
import { releaseDevice } from '../../runtime/webgpu/device.js';
import { GpuContext } from '../../runtime/webgpu/context.js';
import { WebGpuProgram, type GpuValue } from '../../runtime/webgpu/program.js';
import { compiled } from '../../runtime/nn.js';
import { gpu, skipNote, skipReason } from './gpu.js';

afterAll(releaseDevice);

function random(shape: number[], seed: number, scale = 2): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 2 ** 32 - 0.5) * scale;
  }
  return tensor(data, shape);
}

const bits = (t: Tensor | null): number[] => (t ? Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length)) : []);
const sameBits = (a: Tensor | null, b: Tensor | null): boolean => {
  const x = bits(a),
    y = bits(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
};

describe.skipIf(skipReason !== null)(`WebGPU determinism${skipNote}`, () => {
  it('MSELoss over 2^20 elements: valueAndGrad twice gives bit-identical value and gradients', async () => {
    const n = 1 << 20;
    const [x, y] = [random([n], 1), random([n], 2)];
    const fn = await new nn.MSELoss().to('webgpu');
    const first = await fn.valueAndGrad(x, y);
    await fn.valueAndGrad(random([1000], 3), random([1000], 4)); // other work in between (pooled buffers reused)
    const second = await fn.valueAndGrad(x, y);
    expect(sameBits(first.value, second.value)).toBe(true);
    first.grads.forEach((g, i) => expect(sameBits(g, second.grads[i]!)).toBe(true));
    // and it is the right number (the JS backend accumulates in float64)
    const js = new nn.MSELoss().valueAndGrad(x, y).value.data[0]!;
    expect(Math.abs(first.value.data[0]! - js)).toBeLessThanOrEqual(1e-5 * js);
  });

  it("a broadcast operand's gradient (a scatter over 1024 x 1024) and a row kernel (CrossEntropy) are bit-identical across runs", async () => {
    const mse = await new nn.MSELoss().to('webgpu');
    const [a, b] = [random([1024, 1], 5), random([1024, 1024], 6)];
    const r1 = await mse.valueAndGrad(a, b);
    const r2 = await mse.valueAndGrad(a, b);
    expect(sameBits(r1.value, r2.value) && sameBits(r1.grads[0]!, r2.grads[0]!) && sameBits(r1.grads[1]!, r2.grads[1]!)).toBe(true);
    const ce = await new nn.CrossEntropyLoss().to('webgpu');
    const logits = random([512, 300], 7, 8);
    const target = tensor(
      Array.from({ length: 512 }, (_, i) => (i * 37) % 300),
      [512],
      'int32',
    );
    const c1 = await ce.valueAndGrad(logits, target);
    const c2 = await ce.valueAndGrad(logits, target);
    expect(sameBits(c1.value, c2.value) && sameBits(c1.grads[0]!, c2.grads[0]!)).toBe(true);
  });

  it('with and without subgroup operations, each path is deterministic and they agree to float32 rounding', async () => {
    const plan = compiled(new nn.MSELoss().def, new nn.MSELoss().options, 'valueAndGrad').plan;
    const n = 1 << 18;
    const [x, y] = [random([n], 8), random([n], 9)];
    const results: number[] = [];
    for (const subgroups of [true, false]) {
      const ctx = new GpuContext({ ...gpu!, features: { ...gpu!.features, subgroups: subgroups && gpu!.features.subgroups } });
      const prog = new WebGpuProgram(ctx, plan);
      const upload = (t: Tensor): GpuValue => {
        const buffer = ctx.device.createBuffer({ size: t.data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
        ctx.device.queue.writeBuffer(buffer, 0, t.data as Float32Array<ArrayBuffer>);
        return { buffer, shape: t.shape };
      };
      const inputs = new Map([
        ['input', upload(x)],
        ['target', upload(y)],
      ]);
      const once = async (): Promise<number> => (await prog.submit(inputs, new Map(), true).data!)[0]![0]!;
      const [v1, v2] = [await once(), await once()];
      expect(Object.is(v1, v2)).toBe(true);
      results.push(v1);
      for (const v of inputs.values()) v.buffer.destroy();
    }
    expect(Math.abs(results[0]! - results[1]!)).toBeLessThanOrEqual(1e-6 * Math.abs(results[1]!));
  });
});
