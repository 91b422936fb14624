// A TensorFlow.js training loop on tfjs's WebGPU backend with a lossc loss: lossc runs on tfjs's
// own GPUDevice and buffers, so a step reads nothing back. The same MLP (same initial weights) is
// trained with tf.losses.softmaxCrossEntropy alongside; the page writes both loss trajectories and
// tf.memory().numTensors into <pre id="result"> (test/browser/tfjs.test.ts reads it).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-webgpu';
import { nn } from 'lossc';
import { tfLoss } from 'lossc/tfjs';

export interface TfjsPageResult {
  ok: boolean;
  error?: string;
  backend: string;
  /** the loss before each step */
  lossc: number[];
  tfjs: number[];
  /** tf.memory().numTensors after step 10 and after the last step of a lossc run that keeps nothing */
  tensorsAt10: number;
  tensorsAtEnd: number;
  ms: { lossc: number; tfjs: number };
}

const [N, D, H, C, STEPS] = [64, 8, 32, 4, 100];
/** A hook a harness may set to observe each step (the test counts device calls with it). */
const hook = (globalThis as { __losscStep?: (run: string, step: number) => void }).__losscStep;

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
  return { apply: (x: tf.Tensor) => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2), b2), dispose: () => tf.dispose([w1, w2, b1, b2]) };
}

/** `keep`: the loss values stay on the GPU, read once after training (else each is disposed at once: a step then allocates nothing). */
async function train(
  run: string,
  x: tf.Tensor,
  loss: (logits: tf.Tensor) => tf.Tensor,
  keep = true,
): Promise<{ losses: number[]; ms: number; at10: number; atEnd: number }> {
  const model = mlp();
  const opt = tf.train.sgd(0.1);
  const values: tf.Tensor[] = [];
  let at10 = 0;
  const t0 = performance.now();
  for (let step = 1; step <= STEPS; step++) {
    const v = opt.minimize(() => loss(model.apply(x)) as tf.Scalar, true)!;
    if (keep) values.push(v);
    else v.dispose();
    hook?.(run, step);
    if (step === 10) at10 = tf.memory().numTensors - values.length;
  }
  const atEnd = tf.memory().numTensors - values.length;
  const losses = await Promise.all(values.map(async (v) => (await v.data())[0]!)); // read back once, after training
  const ms = performance.now() - t0;
  tf.dispose(values);
  opt.dispose();
  model.dispose();
  return { losses, ms, at10, atEnd };
}

async function main(): Promise<TfjsPageResult> {
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs could not start its webgpu backend (no navigator.gpu adapter?)');
  await tf.ready();
  const x = tf.tensor2d(
    Float32Array.from({ length: N * D }, (_, i) => Math.sin(i * 0.37) * 2),
    [N, D],
  );
  const labels = tf.tensor1d(
    Int32Array.from({ length: N }, (_, i) => (i * 7 + (i % 3)) % C),
    'int32',
  );
  const oneHot = tf.cast(tf.oneHot(labels, C), 'float32');
  const ce = tfLoss(new nn.CrossEntropyLoss());
  const ours = await train('lossc', x, (logits) => ce(logits, labels));
  const theirs = await train('tfjs', x, (logits) => tf.losses.softmaxCrossEntropy(oneHot, logits));
  // a training loop that keeps nothing: lossc and tfjs reuse every buffer from step to step
  const steady = await train('steady', x, (logits) => ce(logits, labels), false);
  return {
    ok: true,
    backend: tf.getBackend(),
    lossc: ours.losses,
    tfjs: theirs.losses,
    tensorsAt10: steady.at10,
    tensorsAtEnd: steady.atEnd,
    ms: { lossc: ours.ms, tfjs: theirs.ms },
  };
}

const pre = document.querySelector<HTMLPreElement>('pre#result')!;
const status = document.querySelector<HTMLParagraphElement>('#status')!;
main()
  .catch((e: unknown): TfjsPageResult => ({
    ok: false,
    error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e),
    backend: tf.getBackend(),
    lossc: [],
    tfjs: [],
    tensorsAt10: 0,
    tensorsAtEnd: 0,
    ms: { lossc: 0, tfjs: 0 },
  }))
  .then((r) => {
    status.textContent = r.ok
      ? `${STEPS} SGD steps on ${r.backend}: lossc loss ${r.lossc[0]?.toFixed(4)} -> ${r.lossc.at(-1)?.toFixed(4)} (${r.ms.lossc.toFixed(0)} ms), tfjs loss ${r.tfjs[0]?.toFixed(4)} -> ${r.tfjs.at(-1)?.toFixed(4)} (${r.ms.tfjs.toFixed(0)} ms)`
      : `failed: ${r.error}`;
    pre.textContent = JSON.stringify(r);
    pre.dataset['done'] = '1';
  });
