// lossc/tfjs on tfjs's cpu backend in Node: a small tfjs-layers model trained with lossc's losses
// follows the trajectory of the same model trained with tfjs's own losses; tfjs's memory stays
// flat; integer targets, float64, unreduced losses and bad input.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { compile, nn } from 'lossc';
import { tfLoss } from '../../runtime/tfjs.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const [N, D, H, C] = [32, 8, 16, 5];
/** A fixed synthetic data set: features, class labels and their one-hot / multi-label forms. */
function data() {
  const x = tf.tensor2d(
    Float32Array.from({ length: N * D }, (_, i) => Math.sin(i * 0.37) * 2),
    [N, D],
  );
  const labels = Int32Array.from({ length: N }, (_, i) => (i * 7 + (i % 3)) % C);
  const y = tf.tensor1d(labels, 'int32');
  const oneHot = tf.cast(tf.oneHot(y, C), 'float32');
  const multi = tf.tensor2d(
    Float32Array.from({ length: N * C }, (_, i) => (Math.cos(i * 1.3) > 0 ? 1 : 0)),
    [N, C],
  );
  return { x, y, oneHot, multi };
}

/** Two identical MLPs (seeded, so every run starts from the same weights; the second gets the first's). */
function models(): [tfl.Sequential, tfl.Sequential] {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  const make = () =>
    tfl.sequential({
      layers: [
        tfl.layers.dense({ units: H, activation: 'relu', inputShape: [D], kernelInitializer: init(1) }),
        tfl.layers.dense({ units: C, kernelInitializer: init(2) }),
      ],
    });
  const a = make();
  const b = make();
  b.setWeights(a.getWeights());
  return [a, b];
}

/** `steps` of SGD on `model` minimizing `loss(model(x))`: the loss before each step. */
function train(model: tfl.Sequential, x: tf.Tensor, loss: (out: tf.Tensor) => tf.Tensor, steps: number, onStep?: (i: number) => void): number[] {
  const opt = tf.train.sgd(0.2);
  const values: number[] = [];
  for (let i = 0; i < steps; i++) {
    const v = opt.minimize(() => loss(model.apply(x) as tf.Tensor) as tf.Scalar, true)!;
    values.push(v.dataSync()[0]!);
    v.dispose();
    onStep?.(i + 1);
  }
  opt.dispose();
  return values;
}

/** Same trajectory within float32 tolerance: each step's loss to 1e-6 relative (a few float32 ulps: two op orders round differently; measured: at most 9e-8 over 60 steps). */
function sameTrajectory(ours: number[], theirs: number[]): void {
  expect(ours.length).toBe(theirs.length);
  ours.forEach((v, i) => expect(Math.abs(v - theirs[i]!), `step ${i}: lossc ${v} vs tfjs ${theirs[i]}`).toBeLessThanOrEqual(1e-6 * Math.abs(theirs[i]!)));
  expect(ours.at(-1)!).toBeLessThan(ours[0]! * 0.9); // and it trains
}

describe('lossc/tfjs on the cpu backend', () => {
  it('CrossEntropyLoss (int32 labels) follows tf.losses.softmaxCrossEntropy (one-hot)', () => {
    const { x, y, oneHot } = data();
    const [a, b] = models();
    const ce = tfLoss(new nn.CrossEntropyLoss());
    const ours = train(a, x, (logits) => ce(logits, y), 60);
    const theirs = train(b, x, (logits) => tf.losses.softmaxCrossEntropy(oneHot, logits), 60);
    sameTrajectory(ours, theirs);
  });

  it('BCEWithLogitsLoss follows tf.losses.sigmoidCrossEntropy', () => {
    const { x, multi } = data();
    const [a, b] = models();
    const bce = tfLoss(new nn.BCEWithLogitsLoss(), { wrt: ['input'] });
    const ours = train(a, x, (logits) => bce(logits, multi), 60);
    const theirs = train(b, x, (logits) => tf.losses.sigmoidCrossEntropy(multi, logits), 60);
    sameTrajectory(ours, theirs);
  });

  it('a custom .loss (mean squared error written in the loss language) follows tf.losses.meanSquaredError', () => {
    const { x, multi } = data();
    const [a, b] = models();
    const custom = compile('loss SquaredError(input: f32[N, C], nograd target: f32[N, C]) {\n  return mean((input - target) ** 2)\n}\n');
    const mse = tfLoss(custom);
    const ours = train(a, x, (out) => mse(out, multi), 60);
    const theirs = train(b, x, (out) => tf.losses.meanSquaredError(multi, out), 60);
    sameTrajectory(ours, theirs);
  });

  it("model.compile({ loss: tfLoss(..., { order: 'keras' }) }) and model.fit follow the same fit with tfjs's 'meanSquaredError'", async () => {
    const { x, multi } = data();
    const [a, b] = models();
    a.compile({ optimizer: tf.train.sgd(0.2), loss: tfLoss(new nn.MSELoss(), { order: 'keras', wrt: ['input'] }) });
    b.compile({ optimizer: tf.train.sgd(0.2), loss: 'meanSquaredError' });
    const fit = async (m: tfl.Sequential) => (await m.fit(x, multi, { epochs: 20, batchSize: N, shuffle: false, verbose: 0 })).history['loss'] as number[];
    sameTrajectory(await fit(a), await fit(b));
  });

  it('tf.memory().numTensors is the same after step 10 and step 100', () => {
    const { x, y } = data();
    const [a] = models();
    const ce = tfLoss(new nn.CrossEntropyLoss({ labelSmoothing: 0.1 }));
    const counts = new Map<number, number>();
    train(
      a,
      x,
      (logits) => ce(logits, y),
      100,
      (i) => counts.set(i, tf.memory().numTensors),
    );
    expect(counts.get(100)).toBe(counts.get(10));
    // and outside a gradient (the value alone)
    const before = tf.memory().numTensors;
    tf.dispose(tf.tidy(() => ce(a.apply(x) as tf.Tensor, y)));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('gradients equal lossc valueAndGrad (tf.grads), with a dy other than 1, in keras order, and as unreduced losses', () => {
    const logits = tf.tensor2d([0.5, -1, 2, 0.25, 1.5, -0.5], [2, 3]);
    const labels = tf.tensor1d([2, 0], 'int32');
    const loss = new nn.CrossEntropyLoss();
    const want = loss.valueAndGrad(
      { data: logits.dataSync() as Float32Array, shape: [2, 3], dtype: 'float32' },
      { data: labels.dataSync() as Int32Array, shape: [2], dtype: 'int32' },
    );
    const ce = tfLoss(loss);
    const [g] = tf.grads((l: tf.Tensor) => ce(l, labels))([logits]);
    expect(Array.from(g!.dataSync())).toEqual(Array.from(want.grads[0]!.data));
    const [g3] = tf.grads((l: tf.Tensor) => tf.mul(ce(l, labels), 3))([logits]);
    Array.from(g3!.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(3 * want.grads[0]!.data[i]!, 6));
    // keras order: (yTrue, yPred)
    const keras = tfLoss(loss, { order: 'keras' });
    expect(keras(labels, logits).dataSync()[0]).toBe(want.value.data[0]);
    // an unreduced loss: per-row values, and the vjp with tfjs's dy
    const none = tfLoss(new nn.CrossEntropyLoss({ reduction: 'none' }));
    const rows = none(logits, labels);
    expect(rows.shape).toEqual([2]);
    const [gn] = tf.grads((l: tf.Tensor) => tf.sum(tf.mul(none(l, labels), tf.tensor1d([1, 2]))))([logits]);
    const wantN = new nn.CrossEntropyLoss({ reduction: 'none' }).vjp(
      [
        { data: logits.dataSync() as Float32Array, shape: [2, 3], dtype: 'float32' },
        { data: labels.dataSync() as Int32Array, shape: [2], dtype: 'int32' },
      ],
      { data: Float32Array.of(1, 2), shape: [2], dtype: 'float32' },
    );
    expect(Array.from(gn!.dataSync())).toEqual(Array.from(wantN[0]!.data));
  });

  it('labels as a float32 tensor are converted to class indices; a non-integer one is an error naming it', () => {
    const logits = tf.tensor2d([0.5, -1, 2, 0.25, 1.5, -0.5], [2, 3]);
    const ce = tfLoss(new nn.CrossEntropyLoss());
    expect(ce(logits, tf.tensor1d([2, 0])).dataSync()[0]).toBe(ce(logits, tf.tensor1d([2, 0], 'int32')).dataSync()[0]);
    expect(() => ce(logits, tf.tensor1d([2, 0.5]))).toThrow(/argument 'target' holds class indices, but element 1 of the float32 tensor is 0.5/);
    expect(() => ce(logits)).toThrow(/takes 2 tensors \(input, target\), got 1/);
    expect(() => ce(logits, [2, 0] as unknown as tf.Tensor)).toThrow(/argument 'target' must be a tf.Tensor/);
    expect(() => ce(logits, tf.tensor1d([2, 0, 1], 'int32'))).toThrow(/target/);
    expect(() => tfLoss({} as never)).toThrow(/loss must be a lossc loss/);
  });

  it("precision 'float64': computed in float64 from the float32 data, results rounded to float32", () => {
    const logits = tf.tensor2d([0.5, -1, 2, 0.25, 1.5, -0.5], [2, 3]);
    const labels = tf.tensor1d([2, 0], 'int32');
    const ce64 = tfLoss(new nn.CrossEntropyLoss(), { precision: 'float64' });
    const v = ce64(logits, labels);
    expect(v.dtype).toBe('float32');
    const want = new nn.CrossEntropyLoss().forward(
      { data: Float64Array.from(logits.dataSync()), shape: [2, 3], dtype: 'float64' },
      { data: Int32Array.of(2, 0), shape: [2], dtype: 'int32' },
    );
    expect(v.dataSync()[0]).toBe(Math.fround(want.data[0]!));
    const [g] = tf.grads((l: tf.Tensor) => ce64(l, labels))([logits]);
    expect(g!.dtype).toBe('float32');
    expect(g!.shape).toEqual([2, 3]);
  });
});
