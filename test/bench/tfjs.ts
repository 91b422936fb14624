// `npm run bench`, TensorFlow.js section: one training step of a tfjs "model" whose output is the
// logits themselves (a tf.variable of shape [4096, 1024], so the step is the loss, its gradient
// and tfjs's SGD update, nothing else), on tfjs's cpu backend, with tf.losses.softmaxCrossEntropy
// (one-hot labels, what tfjs offers) and with lossc/tfjs's CrossEntropyLoss (int32 labels).
// Interleaved runs, median ms per step, their ratio; memory per step from tf.profile (the peak of
// tfjs's tensor bytes above what the step starts with, and the tensors a step leaves behind) and
// the growth of the resident set over the step.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers'; // in Node, this registers tfjs's gradients (as @tensorflow/tfjs does)
import { nn } from 'lossc';
import { tfLoss } from 'lossc/tfjs';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

export async function benchTfjs(rows = 4096, classes = 1024, runs = 3, warmup = 1): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
  let seed = 11;
  const rand = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 8;
  const logits = tf.variable(tf.tensor2d(Float32Array.from({ length: rows * classes }, rand), [rows, classes]));
  const labels = tf.tensor1d(
    Int32Array.from({ length: rows }, (_, i) => (i * 7919) % classes),
    'int32',
  );
  const oneHot = tf.cast(tf.oneHot(labels, classes), 'float32');
  const ce = tfLoss(new nn.CrossEntropyLoss());
  const opt = tf.train.sgd(1e-3);
  const variants: { name: string; loss: () => tf.Scalar }[] = [
    { name: 'tf.losses.softmaxCrossEntropy', loss: () => tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar },
    { name: 'lossc/tfjs CrossEntropyLoss', loss: () => ce(logits, labels) as tf.Scalar },
  ];
  const step = (loss: () => tf.Scalar): number => {
    const v = opt.minimize(loss, true)!;
    const out = v.dataSync()[0]!;
    v.dispose();
    return out;
  };
  // the same loss value from both (else the comparison is meaningless)
  const [a, b] = variants.map((v) => tf.tidy(v.loss).dataSync()[0]!);
  if (!(Math.abs(a! - b!) <= 1e-5 * Math.abs(a!))) throw new Error(`lossc/tfjs and tfjs disagree on the loss: ${b} vs ${a}`);

  const times: number[][] = variants.map(() => []);
  for (let r = 0; r < warmup + runs; r++)
    variants.forEach((v, i) => {
      const t0 = performance.now();
      step(v.loss);
      if (r >= warmup) times[i]!.push(performance.now() - t0);
    });
  const gc = (globalThis as { gc?: () => void }).gc;
  const memory = await Promise.all(
    variants.map(async (v) => {
      gc?.();
      const rss0 = process.memoryUsage.rss();
      const held = tf.memory().numBytes;
      const p = await tf.profile(() => step(v.loss));
      const rss = process.memoryUsage.rss() - rss0;
      return { peakMB: (p.peakBytes - held) / 2 ** 20, newTensors: p.newTensors, rssMB: rss / 2 ** 20 };
    }),
  );
  const [tfjsMs, losscMs] = times.map(median) as [number, number];
  console.log('');
  console.log(
    `TensorFlow.js (cpu backend ${tf.version_core}): one training step, logits a tf.variable [${rows}, ${classes}], SGD; median of ${runs} interleaved`,
  );
  console.log('loss                                 ms/step   peak tensor MB   tensors left   RSS growth MB');
  variants.forEach((v, i) => {
    const m = memory[i]!;
    console.log(
      `${v.name.padEnd(34)} ${median(times[i]!).toFixed(1).padStart(9)} ${m.peakMB.toFixed(0).padStart(16)} ${String(m.newTensors).padStart(14)} ${m.rssMB.toFixed(0).padStart(14)}`,
    );
  });
  console.log(`lossc/tfjs / tfjs: ${(losscMs / tfjsMs).toFixed(2)}x the time per step (tfjs's loss is ${(tfjsMs / losscMs).toFixed(1)}x slower)`);
  tf.dispose([logits, labels, oneHot]);
  opt.dispose();
}
