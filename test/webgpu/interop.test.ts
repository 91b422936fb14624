// The WebGPU door for other engines: a loss on a GPUDevice the test made itself
// (`to('webgpu', { device })`), the test's own GPUBuffers as inputs and outs (`fromGpuBuffer`, at
// offsets), lossc's submissions in order with the test's own on the same queue, and who owns what.
import { describe, it, expect, afterAll } from 'vitest';
import { fromGpuBuffer, GpuTensor, nn, tensor, type Loss } from 'lossc';
import { releaseDevice } from '../../runtime/webgpu/device.js';
import { skipNote, skipReason } from './gpu.js';

// the test's own device, from an adapter it asks for itself (Dawn in Node, navigator.gpu elsewhere)
let instance: GPU | undefined;
async function ownDevice(): Promise<GPUDevice> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) instance = nav.gpu;
  else {
    const spec = 'webgpu';
    const dawn = (await import(/* @vite-ignore */ spec)) as { create(o: string[]): GPU };
    instance = dawn.create(['backend=vulkan']);
  }
  let adapter = await instance.requestAdapter();
  if (!adapter) {
    const spec = 'webgpu';
    const dawn = (await import(/* @vite-ignore */ spec)) as { create(o: string[]): GPU };
    instance = dawn.create(['backend=opengles']);
    adapter = await instance.requestAdapter({ featureLevel: 'compatibility' });
  }
  return adapter!.requestDevice({ label: "the test's device" });
}

const device = skipReason === null ? await ownDevice() : (null as unknown as GPUDevice);
afterAll(async () => {
  device?.destroy();
  await releaseDevice();
});

const USAGE = (): number => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
/** A buffer of the test's, `data` written at byte `offset`. */
function buffer(bytes: number, data?: Float32Array | Int32Array, offset = 0): GPUBuffer {
  const b = device.createBuffer({ size: bytes, usage: USAGE() });
  if (data) device.queue.writeBuffer(b, offset, data.buffer, data.byteOffset, data.byteLength);
  return b;
}
/** The test's own readback of `n` floats at `offset` (its own staging buffer, its own mapAsync). */
async function readFloats(b: GPUBuffer, offset: number, n: number): Promise<number[]> {
  const staging = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(b, offset, staging, 0, n * 4);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = Array.from(new Float32Array(staging.getMappedRange().slice(0)));
  staging.destroy();
  return out;
}
const seq = (n: number, f: (i: number) => number): Float32Array<ArrayBuffer> => Float32Array.from({ length: n }, (_, i) => f(i));
const close = (got: readonly number[], want: ArrayLike<number>, rel = 2e-6): void => {
  expect(got.length).toBe(want.length);
  got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(want[i]!))));
};

describe.skipIf(skipReason !== null)(`WebGPU interop: the caller's device and buffers${skipNote}`, () => {
  it("to('webgpu', { device }): inputs from the caller's buffer at offsets, results into the caller's buffer at offsets", async () => {
    const mse = await new nn.MSELoss().to('webgpu', { device });
    const n = 300;
    const x = seq(n, (i) => Math.sin(i)),
      y = seq(n, (i) => Math.cos(i) * 0.5);
    // one buffer holds both inputs: x at 0, y at 2048 (binding offsets are 256-byte aligned)
    const inputs = buffer(4096);
    device.queue.writeBuffer(inputs, 0, x);
    device.queue.writeBuffer(inputs, 2048, y);
    const gx = fromGpuBuffer(inputs, [n], 'float32');
    const gy = fromGpuBuffer(inputs, [n], 'float32', { offset: 2048 });
    // the results go into another buffer of the test's: the value at 0, d/dx at 256
    const results = buffer(256 + n * 4);
    const value = fromGpuBuffer(results, [], 'float32');
    const grad = fromGpuBuffer(results, [n], 'float32', { offset: 256 });
    const r = await mse.valueAndGradGpu([gx, gy], { wrt: ['input'], out: { value, grads: [grad] } });
    expect(r.value).toBe(value);
    expect(r.grads[0]).toBe(grad);
    expect(r.grads[1]).toBeNull();

    const want = new nn.MSELoss().valueAndGrad(tensor(x, [n]), tensor(y, [n]));
    close(await readFloats(results, 0, 1), want.value.data);
    close(await readFloats(results, 256, n), want.grads[0]!.data);
    // the same numbers, bit for bit, as lossc's own device with its own buffers
    const own = await (await new nn.MSELoss().to('webgpu')).valueAndGrad(tensor(x, [n]), tensor(y, [n]));
    expect(await readFloats(results, 256, n)).toEqual(Array.from(own.grads[0]!.data));
    // the read-back methods take the caller's buffers as inputs too
    const host = await mse.forward(gx, gy);
    expect(Array.from(host.data)).toEqual(Array.from(own.value.data));
    // ownership: release() of a wrapped buffer leaves it to the caller, usable
    gx.release();
    expect(gx.isReleased).toBe(true);
    close(await readFloats(inputs, 0, 4), x.subarray(0, 4));
    inputs.destroy();
    results.destroy();
  });

  it("lossc's work runs in order with the caller's on the same queue, without awaiting lossc's promise", async () => {
    const ce = await new nn.CrossEntropyLoss({ reduction: 'sum' }).to('webgpu', { device });
    const [N, C] = [8, 5];
    const logits = buffer(N * C * 4);
    const labels = buffer(N * 4);
    const out = buffer(4 + 252 + N * C * 4);
    const value = fromGpuBuffer(out, [], 'float32');
    const grad = fromGpuBuffer(out, [N, C], 'float32', { offset: 256 });
    const L = fromGpuBuffer(logits, [N, C]);
    const T = fromGpuBuffer(labels, [N], 'int32');
    const staging = device.createBuffer({ size: 256 + N * C * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    for (let step = 0; step < 3; step++) {
      const x = seq(N * C, (i) => Math.sin(i * (step + 1)) * 3);
      const t = Int32Array.from({ length: N }, (_, i) => (i * 3 + step) % C);
      // the caller's work: fill the inputs through a copy in its own command buffer
      const src = device.createBuffer({ size: x.byteLength, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(src, 0, x);
      const before = device.createCommandEncoder();
      before.copyBufferToBuffer(src, 0, logits, 0, x.byteLength);
      device.queue.submit([before.finish()]);
      device.queue.writeBuffer(labels, 0, t);
      // lossc's work, not awaited: it is submitted during the call
      const pending = ce.valueAndGradGpu([L, T], { wrt: [0], out: { value, grads: [grad] } });
      // the caller's work after it reads the results
      const after = device.createCommandEncoder();
      after.copyBufferToBuffer(out, 0, staging, 0, staging.size);
      device.queue.submit([after.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const got = new Float32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      src.destroy();
      await pending;
      const want = new nn.CrossEntropyLoss({ reduction: 'sum' }).valueAndGrad(tensor(x, [N, C]), tensor(t, [N]));
      close([got[0]!], want.value.data, 1e-5);
      close(Array.from(got.subarray(64)), want.grads[0]!.data, 1e-5);
    }
    for (const b of [logits, labels, out, staging]) b.destroy();
  });

  it('GpuTensor is exported, with its buffer; a result lossc allocated is released to its pool', async () => {
    const mse = await new nn.MSELoss().to('webgpu', { device });
    const a = mse.upload(tensor([1, 2, 3], [3]));
    const r = await mse.valueAndGradGpu(a, tensor([0, 0, 0], [3]));
    expect(r.value).toBeInstanceOf(GpuTensor);
    expect(r.grads[0]!.buffer.size).toBeGreaterThanOrEqual(12);
    close(await readFloats(r.grads[0]!.buffer, 0, 3), [2 / 3, 4 / 3, 2]);
    // read() of a wrapped buffer needs its device
    const b = buffer(16, Float32Array.of(5, 6, 7, 8));
    expect(Array.from((await fromGpuBuffer(b, [4], 'float32', { device }).read()).data)).toEqual([5, 6, 7, 8]);
    await expect(fromGpuBuffer(b, [4]).read()).rejects.toThrow(/needs its device/);
    for (const t of [a, r.value, ...r.grads]) t!.release();
    b.destroy();
  });

  it('bad buffers and devices: errors that name them', async () => {
    const storage = buffer(1024);
    const noStorage = device.createBuffer({ size: 64, usage: GPUBufferUsage.COPY_DST });
    expect(() => fromGpuBuffer(noStorage, [4])).toThrow(/without GPUBufferUsage.STORAGE/);
    expect(() => fromGpuBuffer(storage, [300])).toThrow(/shape \[300\] \(300 elements, 1200 bytes\) from offset 0 does not fit in the buffer's 1024 bytes/);
    expect(() => fromGpuBuffer(storage, [4], 'float32', { offset: 6 })).toThrow(/multiple of 4/);
    expect(() => fromGpuBuffer(storage, [4], 'float64' as 'float32')).toThrow(/dtype must be 'float32' or 'int32'/);
    expect(() => fromGpuBuffer({} as GPUBuffer, [4])).toThrow(/buffer must be a GPUBuffer/);
    const align = device.limits.minStorageBufferOffsetAlignment;
    expect(() => fromGpuBuffer(storage, [4], 'float32', { offset: align / 2, device })).toThrow(/minStorageBufferOffsetAlignment/);
    const mse = await new nn.MSELoss().to('webgpu', { device });
    await expect(mse.forwardGpu(fromGpuBuffer(storage, [4], 'float32', { offset: align / 2 }), tensor([1, 2, 3, 4], [4]))).rejects.toThrow(
      /minStorageBufferOffsetAlignment/,
    );
    await expect(new nn.MSELoss().to('webgpu', { device: {} as GPUDevice })).rejects.toThrow(/device must be a GPUDevice/);
    // a lossc tensor of another device is refused
    const other = await new nn.MSELoss().to('webgpu');
    const foreign = other.upload(tensor([1, 2], [2]));
    await expect(mse.forwardGpu(foreign, tensor([1, 2], [2]))).rejects.toThrow(/another GPUDevice/);
    // shapes are still checked against the loss
    await expect(mse.forwardGpu(fromGpuBuffer(storage, [4]), fromGpuBuffer(storage, [3]))).rejects.toThrow(/\[4\].*\[3\]|\[3\].*\[4\]/);
    foreign.release();
    storage.destroy();
    noStorage.destroy();
  });
  it("a device with WebGPU's default 8 storage buffers per stage runs every kernel: row fusion stays within its budget", async () => {
    expect(device.limits.maxStorageBuffersPerShaderStage).toBe(8);
    const rnd = (n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => Math.sin(seed * 97 + i * 12.9898) * 2);
    const [N, C, D] = [6, 5, 4];
    const logits = tensor(rnd(N * C, 1), [N, C]);
    const target = tensor(new Int32Array([0, 4, 2, 1, 3, 2]), [N]);
    const a = tensor(rnd(N * D, 2), [N, D]);
    const p = tensor(rnd(N * D, 3), [N, D]);
    const q = tensor(rnd(N * D, 4), [N, D]);
    const y = tensor([1, -1, 1, 1, -1, -1], [N]);
    const cases: [string, Loss, 'valueAndGrad' | 'vjp', ReturnType<typeof tensor>[]][] = [
      ['CrossEntropyLoss labelSmoothing', new nn.CrossEntropyLoss({ labelSmoothing: 0.1 }), 'valueAndGrad', [logits, target]],
      ['CrossEntropyLoss weight', new nn.CrossEntropyLoss({ weight: tensor([1, 2, 0.5, 1, 3], [C]) }), 'vjp', [logits, target]],
      ['CosineEmbeddingLoss', new nn.CosineEmbeddingLoss(), 'valueAndGrad', [a, p, y]],
      ['CosineEmbeddingLoss', new nn.CosineEmbeddingLoss(), 'vjp', [a, p, y]],
      ['TripletMarginLoss', new nn.TripletMarginLoss(), 'valueAndGrad', [a, p, q]],
      ['TripletMarginLoss', new nn.TripletMarginLoss(), 'vjp', [a, p, q]],
    ];
    for (const [name, loss, method, inputs] of cases) {
      const gpu = await loss.to('webgpu', { device });
      const want = method === 'vjp' ? loss.vjp(inputs, tensor([1], [])) : loss.valueAndGrad(...inputs).grads;
      const got = method === 'vjp' ? await gpu.vjp(inputs, tensor([1], [])) : (await gpu.valueAndGrad(...inputs)).grads;
      want.forEach((w, i) => {
        if (!w) return expect(got[i], name).toBeNull();
        Array.from(w.data).forEach((v, j) =>
          expect(Math.abs(got[i]!.data[j]! - v), `${name}.${method} grad ${i}[${j}]`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v))),
        );
      });
    }
  });
});
