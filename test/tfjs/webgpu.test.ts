// lossc/tfjs on tfjs's webgpu backend (Dawn in Node): lossc runs on tfjs's own GPUDevice, reads
// tfjs's buffers and hands its gradients back as tfjs tensors, with no readback in a training step
// (counted through the device: mapAsync calls and buffers created per step), the same trajectory
// as tfjs's own losses, and tfjs's memory flat.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { compile, nn } from 'lossc';
import { tfLoss } from '../../runtime/tfjs.js';
import { skipNote, skipReason } from '../webgpu/gpu.js';
import { releaseDevice } from '../../runtime/webgpu/device.js';

/** What the device was asked for, step by step. */
const counts = { mapAsync: 0, createBuffer: 0 };
let device: GPUDevice | null = null;

beforeAll(async () => {
  if (skipReason !== null) return;
  // tfjs-backend-webgpu registers itself when navigator.gpu exists: give Node Dawn's
  const spec = 'webgpu';
  const dawn = (await import(/* @vite-ignore */ spec)) as { create(o: string[]): GPU; globals: object };
  for (const [name, value] of Object.entries(dawn.globals)) if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (!g.navigator?.gpu)
    Object.defineProperty(globalThis, 'navigator', { value: { ...(g.navigator ?? {}), gpu: dawn.create(['backend=vulkan']) }, configurable: true });
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  // a device wrapped to count what is asked of it (tfjs's and lossc's work alike)
  const adapter = (await g.navigator!.gpu!.requestAdapter())!;
  device = await adapter.requestDevice({
    requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
  });
  const create = device.createBuffer.bind(device);
  device.createBuffer = (d: GPUBufferDescriptor): GPUBuffer => {
    counts.createBuffer++;
    const b = create(d);
    const map = b.mapAsync.bind(b);
    b.mapAsync = (...args: Parameters<GPUBuffer['mapAsync']>) => {
      counts.mapAsync++;
      return map(...args);
    };
    return b;
  };
  tf.registerBackend('webgpu', () => new WebGPUBackend(device!), 10);
  await tf.setBackend('webgpu');
  await tf.ready();
});
afterAll(async () => {
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  await releaseDevice();
});

const [N, D, H, C] = [32, 8, 16, 5];
function data() {
  const x = tf.tensor2d(
    Float32Array.from({ length: N * D }, (_, i) => Math.sin(i * 0.37) * 2),
    [N, D],
  );
  const y = tf.tensor1d(
    Int32Array.from({ length: N }, (_, i) => (i * 7 + (i % 3)) % C),
    'int32',
  );
  const oneHot = tf.cast(tf.oneHot(y, C), 'float32');
  const multi = tf.tensor2d(
    Float32Array.from({ length: N * C }, (_, i) => (Math.cos(i * 1.3) > 0 ? 1 : 0)),
    [N, C],
  );
  return { x, y, oneHot, multi };
}

/** A two-layer MLP as tf.variables, the same initial weights every time. */
function mlp() {
  const w = (r: number, c: number, s: number) =>
    tf.variable(
      tf.tensor2d(
        Float32Array.from({ length: r * c }, (_, i) => Math.sin(i * s + 0.5) * 0.4),
        [r, c],
      ),
    );
  const [w1, w2] = [w(D, H, 0.71), w(H, C, 1.13)];
  const [b1, b2] = [tf.variable(tf.zeros([H])), tf.variable(tf.zeros([C]))];
  const apply = (x: tf.Tensor): tf.Tensor => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2), b2);
  return { apply, dispose: () => tf.dispose([w1, w2, b1, b2]) };
}

/** SGD steps; the loss values stay on the GPU until the end (read back once, after training). */
async function train(loss: (out: tf.Tensor) => tf.Tensor, steps: number, onStep?: (i: number) => void): Promise<number[]> {
  const model = mlp();
  const opt = tf.train.sgd(0.2);
  const values: tf.Tensor[] = [];
  for (let i = 0; i < steps; i++) {
    values.push(opt.minimize(() => loss(model.apply(data_.x)) as tf.Scalar, true)!);
    onStep?.(i + 1);
  }
  const out = await Promise.all(values.map(async (v) => (await v.data())[0]!));
  tf.dispose(values);
  opt.dispose();
  model.dispose();
  return out;
}
let data_: ReturnType<typeof data>;

/** Within float32 tolerance: 2e-6 relative per step (a few ulps; measured on lavapipe: at most 2.3e-7 over 30 steps). */
function sameTrajectory(ours: number[], theirs: number[]): void {
  ours.forEach((v, i) => expect(Math.abs(v - theirs[i]!), `step ${i}: lossc ${v} vs tfjs ${theirs[i]}`).toBeLessThanOrEqual(2e-6 * Math.abs(theirs[i]!)));
  expect(ours.at(-1)!).toBeLessThan(ours[0]!);
}

describe.skipIf(skipReason !== null)(`lossc/tfjs on tfjs's webgpu backend (Dawn)${skipNote}`, () => {
  beforeAll(() => {
    data_ = data();
  });

  it('CrossEntropyLoss, BCEWithLogitsLoss and a custom .loss follow tfjs own losses', async () => {
    expect(tf.getBackend()).toBe('webgpu');
    const { y, oneHot, multi } = data_;
    const ce = tfLoss(new nn.CrossEntropyLoss());
    sameTrajectory(await train((l) => ce(l, y), 30), await train((l) => tf.losses.softmaxCrossEntropy(oneHot, l), 30));
    const bce = tfLoss(new nn.BCEWithLogitsLoss(), { wrt: ['input'] });
    sameTrajectory(await train((l) => bce(l, multi), 30), await train((l) => tf.losses.sigmoidCrossEntropy(multi, l), 30));
    const mse = tfLoss(compile('loss SquaredError(input: f32[N, C], nograd target: f32[N, C]) {\n  return mean((input - target) ** 2)\n}\n'));
    sameTrajectory(await train((l) => mse(l, multi), 30), await train((l) => tf.losses.meanSquaredError(multi, l), 30));
  });

  it('no readback inside a step: no mapAsync, no buffer created per step in steady state; numTensors flat', async () => {
    const { y } = data_;
    const ce = tfLoss(new nn.CrossEntropyLoss({ weight: { data: Float32Array.of(1, 2, 0.5, 1, 1), shape: [C], dtype: 'float32' } }));
    const model = mlp();
    const opt = tf.train.sgd(0.2);
    const seen: { mapAsync: number; createBuffer: number; tensors: number }[] = [];
    for (let i = 1; i <= 100; i++) {
      const v = opt.minimize(() => ce(model.apply(data_.x), y) as tf.Scalar, true)!;
      v.dispose();
      seen[i] = { ...counts, tensors: tf.memory().numTensors };
    }
    // steps 10..100: neither lossc nor tfjs read anything back, nor created a buffer
    expect(seen[100]!.mapAsync - seen[10]!.mapAsync).toBe(0);
    expect(seen[100]!.createBuffer - seen[10]!.createBuffer).toBe(0);
    expect(seen[100]!.tensors).toBe(seen[10]!.tensors);
    // and the model learnt on the GPU: the loss read once now
    const after = ce(model.apply(data_.x), y);
    expect((await after.data())[0]!).toBeLessThan(1.5);
    after.dispose();
    opt.dispose();
    model.dispose();
  });

  it('gradients equal the cpu path, for a reduced and an unreduced loss', async () => {
    const logits = tf.tensor2d([0.5, -1, 2, 0.25, 1.5, -0.5], [2, 3]);
    const labels = tf.tensor1d([2, 0], 'int32');
    const want = new nn.CrossEntropyLoss().valueAndGrad(
      { data: Float32Array.of(0.5, -1, 2, 0.25, 1.5, -0.5), shape: [2, 3], dtype: 'float32' },
      { data: Int32Array.of(2, 0), shape: [2], dtype: 'int32' },
    );
    const ce = tfLoss(new nn.CrossEntropyLoss());
    const [g] = tf.grads((l: tf.Tensor) => ce(l, labels))([logits]);
    Array.from(await g!.data()).forEach((v, i) => expect(Math.abs(v - want.grads[0]!.data[i]!)).toBeLessThanOrEqual(1e-6));
    expect(Math.abs((await ce(logits, labels).data())[0]! - want.value.data[0]!)).toBeLessThanOrEqual(1e-6);
    const none = tfLoss(new nn.CrossEntropyLoss({ reduction: 'none' }));
    const [gn] = tf.grads((l: tf.Tensor) => tf.sum(tf.mul(none(l, labels), tf.tensor1d([1, 2]))))([logits]);
    const wantN = new nn.CrossEntropyLoss({ reduction: 'none' }).vjp(
      [
        { data: Float32Array.of(0.5, -1, 2, 0.25, 1.5, -0.5), shape: [2, 3], dtype: 'float32' },
        { data: Int32Array.of(2, 0), shape: [2], dtype: 'int32' },
      ],
      { data: Float32Array.of(1, 2), shape: [2], dtype: 'float32' },
    );
    Array.from(await gn!.data()).forEach((v, i) => expect(Math.abs(v - wantN[0]!.data[i]!)).toBeLessThanOrEqual(1e-6));
    expect(() => tfLoss(new nn.CrossEntropyLoss(), { precision: 'float64' })(logits, labels)).toThrow(/float64.*webgpu/);
  });
});
