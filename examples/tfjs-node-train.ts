// A TensorFlow.js model trained with a lossc loss, in Node (tfjs's cpu backend, no native addon):
//   npm run build && node dist/examples/tfjs-node-train.js
// An MLP classifies three interleaved spirals; its loss is lossc's CrossEntropyLoss (label
// smoothing, int32 labels) through lossc/tfjs, trained with tfjs's Adam. The same model trained
// with tf.losses.softmaxCrossEntropy (one-hot labels, the same smoothing) runs alongside.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { nn } from 'lossc';
import { tfLoss } from 'lossc/tfjs';

const [N, C, STEPS] = [300, 3, 200];

/** Three spirals of N / 3 points each, with a little noise (a fixed pseudo-random sequence). */
function spirals(): { x: tf.Tensor2D; y: tf.Tensor1D } {
  let seed = 7;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5;
  const xs = new Float32Array(N * 2);
  const ys = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const c = i % C;
    const r = (Math.floor(i / C) / (N / C)) * 1.0;
    const t = c * ((2 * Math.PI) / C) + r * 4 + rand() * 0.3;
    xs[2 * i] = r * Math.sin(t);
    xs[2 * i + 1] = r * Math.cos(t);
    ys[i] = c;
  }
  return { x: tf.tensor2d(xs, [N, 2]), y: tf.tensor1d(ys, 'int32') };
}

function mlp(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ units: 32, activation: 'relu', inputShape: [2], kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      tfl.layers.dense({ units: 32, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
      tfl.layers.dense({ units: C, kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
    ],
  });
}

function train(name: string, model: tfl.Sequential, loss: (logits: tf.Tensor) => tf.Tensor): number[] {
  const opt = tf.train.adam(0.01);
  const losses: number[] = [];
  const t0 = performance.now();
  for (let step = 1; step <= STEPS; step++) {
    const v = opt.minimize(() => loss(model.apply(data.x) as tf.Tensor) as tf.Scalar, true)!;
    losses.push(v.dataSync()[0]!);
    v.dispose();
    if (step === 10) tensorsAt10 = tf.memory().numTensors;
  }
  const ms = performance.now() - t0;
  const accuracy = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(model.predict(data.x) as tf.Tensor, 1), data.y), 'float32')).dataSync()[0]!);
  console.log(
    `${name.padEnd(34)} loss ${losses[0]!.toFixed(4)} -> ${losses.at(-1)!.toFixed(4)}, accuracy ${(accuracy * 100).toFixed(1)}%, ${STEPS} Adam steps in ${(ms / 1000).toFixed(2)} s; tf.memory().numTensors after step 10: ${tensorsAt10}, after step ${STEPS}: ${tf.memory().numTensors}`,
  );
  opt.dispose();
  return losses;
}

await tf.setBackend('cpu');
const data = spirals();
let tensorsAt10 = 0;
const oneHot = tf.cast(tf.oneHot(data.y, C), 'float32');

// two identical models: the second starts from the first's weights
const [a, b] = [mlp(), mlp()];
b.setWeights(a.getWeights());

const ce = tfLoss(new nn.CrossEntropyLoss({ labelSmoothing: 0.1 }));
const ours = train('lossc/tfjs CrossEntropyLoss', a, (logits) => ce(logits, data.y));
const theirs = train('tf.losses.softmaxCrossEntropy', b, (logits) => tf.losses.softmaxCrossEntropy(oneHot, logits, undefined, 0.1));
const drift = (from: number, to: number) => Math.max(...ours.slice(from, to).map((v, i) => Math.abs(v - theirs[from + i]!) / theirs[from + i]!));
console.log(
  `largest relative difference between the two loss trajectories: steps 1-50 ${drift(0, 50).toExponential(1)}, steps 1-${STEPS} ${drift(0, STEPS).toExponential(1)}`,
);
