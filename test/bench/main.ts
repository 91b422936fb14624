// `npm run bench`: lossc's kernels beside hand-written fused JS loops, measured in the same run,
// printed as ratios (lossc time / baseline time: 1.00 is parity, lower is better). The baselines
// are what a person who cares would write: one fused pass, writing the value and the input's
// gradient into preallocated arrays. Per case, side by side: lossc's training-step call
// (wrt: ['input'], caller-owned outputs), lossc's default call (fresh results, every gradient),
// and the baseline; with the extra RSS each needs in steady state (the largest resident set seen
// over its runs minus the one before its first run, after a GC where --expose-gc allows).
import { nn, tensor, type Tensor } from 'lossc';
import { benchWebGpu } from './webgpu.js';
import { benchTfjs } from './tfjs.js';
import { benchWasm } from './wasm.js';
import { lcgFloat32 } from '../support/random.js';

interface Measured {
  /** median ms per call */
  ms: number;
  /** extra resident set, MB */
  rssMB: number;
}

interface Row {
  name: string;
  elements: number;
  /** the training step: wrt ['input'], out given */
  step: Measured;
  /** the default call: valueAndGrad(...inputs) */
  plain: Measured;
  baseline: Measured;
  /** report microseconds per call (the small-batch cases) */
  micro?: boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * The variants of one case, interleaved (one run of each per round, so load on the machine falls
 * on all alike): the median ms per call of each (a run is `inner` calls, divided out), after
 * `warmup` rounds. Then each variant's extra resident set in steady state, alone: after a GC
 * and one call (its outputs and pool exist), the largest RSS over `runs` more calls, minus the
 * RSS before them.
 */
function measure(fns: readonly (() => unknown)[], runs: number, warmup: number, inner = 1): Measured[] {
  const ts: number[][] = fns.map(() => []);
  for (let r = 0; r < warmup + runs; r++)
    fns.forEach((fn, v) => {
      const t0 = performance.now();
      for (let j = 0; j < inner; j++) fn();
      if (r >= warmup) ts[v]!.push((performance.now() - t0) / inner);
    });
  return fns.map((fn, v) => {
    gc?.();
    fn();
    const rss0 = process.memoryUsage.rss();
    let peak = rss0;
    for (let r = 0; r < Math.min(runs, 3); r++) {
      for (let j = 0; j < inner; j++) fn();
      peak = Math.max(peak, process.memoryUsage.rss());
    }
    return { ms: median(ts[v]!), rssMB: (peak - rss0) / 2 ** 20 };
  });
}

const randomTensor = (n: number, seed: number, scale = 2): Tensor => tensor(lcgFloat32(n, seed, scale), [n], 'float32');

// ---- hand-written baselines: one fused pass, the value and the input's gradient into preallocated arrays
function mseBaseline(x: Float32Array, y: Float32Array, gx: Float32Array): number {
  const n = x.length;
  const k = 2 / n;
  let a0 = 0,
    a1 = 0,
    a2 = 0,
    a3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const d0 = x[i]! - y[i]!,
      d1 = x[i + 1]! - y[i + 1]!,
      d2 = x[i + 2]! - y[i + 2]!,
      d3 = x[i + 3]! - y[i + 3]!;
    a0 += d0 * d0;
    a1 += d1 * d1;
    a2 += d2 * d2;
    a3 += d3 * d3;
    gx[i] = k * d0;
    gx[i + 1] = k * d1;
    gx[i + 2] = k * d2;
    gx[i + 3] = k * d3;
  }
  for (; i < n; i++) {
    const d = x[i]! - y[i]!;
    a0 += d * d;
    gx[i] = k * d;
  }
  return (a0 + a1 + (a2 + a3)) / n;
}

function bceWithLogitsBaseline(x: Float32Array, y: Float32Array, gx: Float32Array): number {
  const n = x.length;
  const k = 1 / n;
  let a0 = 0,
    a1 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i]!,
      yi = y[i]!;
    const e = Math.exp(-Math.abs(xi));
    const loss = Math.max(xi, 0) - xi * yi + Math.log1p(e);
    if (i & 1) a1 += loss;
    else a0 += loss;
    const sig = xi >= 0 ? 1 / (1 + e) : e / (1 + e);
    gx[i] = k * (sig - yi);
  }
  return (a0 + a1) / n;
}

/**
 * Cross entropy with class-index targets, value and gradient, the classic online-softmax way: per
 * row one pass with a running max and rescaled sum, then one pass writing softmax - one-hot.
 */
function crossEntropyBaseline(x: Float32Array, target: Int32Array, rows: number, classes: number, grad: Float32Array): number {
  const k = 1 / rows;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    let m = -Infinity;
    let s = 0;
    for (let c = 0; c < classes; c++) {
      const v = x[base + c]!;
      if (v > m) {
        s = s * Math.exp(m - v) + 1;
        m = v;
      } else s += Math.exp(v - m);
    }
    const lse = m + Math.log(s);
    const t = target[r]!;
    total += lse - x[base + t]!;
    const inv = k / s;
    for (let c = 0; c < classes; c++) grad[base + c] = Math.exp(x[base + c]! - m) * inv;
    grad[base + t]! -= k;
  }
  return total / rows;
}

const like = (t: Tensor): Tensor => tensor(new Float32Array(t.data.length), t.shape, 'float32');

/** One case: the training step, the baseline and the default call. */
function row(
  name: string,
  loss: InstanceType<(typeof nn)['MSELoss']>,
  inputs: Tensor[],
  baseline: (gx: Float32Array) => number,
  runs: number,
  warmup: number,
  inner = 1,
): Row {
  const value = tensor(new Float32Array(1), [], 'float32');
  const grads: (Tensor | null)[] = inputs.map(() => null);
  grads[0] = like(inputs[0]!);
  const gx = new Float32Array(inputs[0]!.data.length);
  const [step, base, plain] = measure(
    [() => loss.valueAndGrad(inputs, { wrt: ['input'], out: { value, grads } }), () => baseline(gx), () => loss.valueAndGrad(...inputs)],
    runs,
    warmup,
    inner,
  );
  return { name, elements: inputs[0]!.data.length, step: step!, plain: plain!, baseline: base!, micro: inner > 1 };
}

function crossEntropyRow(rows: number, classes: number, runs: number, warmup: number, inner = 1): Row {
  const x = randomTensor(rows * classes, 7, 8);
  const input = tensor(x.data, [rows, classes]);
  const target = tensor(
    Int32Array.from({ length: rows }, (_, i) => (i * 7919) % classes),
    [rows],
  );
  return row(
    `CrossEntropyLoss [${rows}, ${classes}]`,
    new nn.CrossEntropyLoss(),
    [input, target],
    (g) => crossEntropyBaseline(input.data as Float32Array, target.data as Int32Array, rows, classes, g),
    runs,
    warmup,
    inner,
  );
}

function bench(): Row[] {
  const rows: Row[] = [];
  const n = 1 << 24;
  const x = randomTensor(n, 1, 6);
  const y = randomTensor(n, 2, 6);
  const p = randomTensor(n, 3, 1);
  const target01 = tensor(
    p.data.map((v) => v + 0.5),
    [n],
  );
  rows.push(row('MSELoss [2^24]', new nn.MSELoss(), [x, y], (g) => mseBaseline(x.data as Float32Array, y.data as Float32Array, g), 5, 1));
  rows.push(
    row(
      'BCEWithLogitsLoss [2^24]',
      new nn.BCEWithLogitsLoss(),
      [x, target01],
      (g) => bceWithLogitsBaseline(x.data as Float32Array, target01.data as Float32Array, g),
      5,
      1,
    ),
  );
  rows.push(crossEntropyRow(4096, 1024, 5, 1), crossEntropyRow(256, 32768, 5, 1));
  // small batches: the cost of a call (microseconds)
  rows.push(crossEntropyRow(64, 10, 15, 5, 2000));
  const a = randomTensor(256, 11),
    b = randomTensor(256, 12);
  rows.push(row('MSELoss [256]', new nn.MSELoss(), [a, b], (g) => mseBaseline(a.data as Float32Array, b.data as Float32Array, g), 15, 5, 2000));
  return rows;
}

function check(): void {
  // the baselines compute the same numbers as lossc's training step (else the comparison is meaningless)
  const n = 1000;
  const x = randomTensor(n, 5),
    y = randomTensor(n, 6);
  const same = (what: string, a: number, b: number, tol: number): void => {
    if (!(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)))) throw new Error(`${what} baseline disagrees: ${a} vs ${b}`);
  };
  const gx = new Float32Array(n);
  const g = like(x);
  const m = new nn.MSELoss().valueAndGrad([x, y], { wrt: ['input'], out: { grads: [g] } });
  same('MSE', m.value.data[0]!, mseBaseline(x.data as Float32Array, y.data as Float32Array, gx), 1e-5);
  g.data.forEach((v, i) => same('MSE gradient', v, gx[i]!, 1e-6));
  const t = tensor(
    y.data.map((v) => v / 4 + 0.5),
    [n],
  );
  const c = new nn.BCEWithLogitsLoss().valueAndGrad([x, t], { wrt: ['input'], out: { grads: [g] } });
  same('BCEWithLogits', c.value.data[0]!, bceWithLogitsBaseline(x.data as Float32Array, t.data as Float32Array, gx), 1e-5);
  g.data.forEach((v, i) => same('BCEWithLogits gradient', v, gx[i]!, 1e-6));
  const logits = tensor(x.data, [100, 10]);
  const labels = tensor(
    Int32Array.from({ length: 100 }, (_, i) => i % 10),
    [100],
  );
  const e = new nn.CrossEntropyLoss().valueAndGrad([logits, labels], { wrt: ['input'], out: { grads: [tensor(g.data, [100, 10])] } });
  same('CrossEntropy', e.value.data[0]!, crossEntropyBaseline(logits.data as Float32Array, labels.data as Int32Array, 100, 10, gx), 1e-5);
  g.data.forEach((v, i) => same('CrossEntropy gradient', v, gx[i]!, 1e-6));
}

check();
console.log(
  `lossc bench, Node ${process.version}${gc ? '' : ' (run with --expose-gc for steadier RSS figures)'}: median per call (ms; us for the small batches)`,
);
console.log("step = valueAndGrad([..], { wrt: ['input'], out }); default = valueAndGrad(...inputs); baseline = hand-fused loop into preallocated arrays");
console.log('case                                 elements      step   default  baseline  step/base  default/base  extra RSS MB: step default baseline');
for (const r of bench()) {
  const f = (m: Measured): string => (r.micro ? `${(m.ms * 1000).toFixed(1)}us` : `${m.ms.toFixed(1)}`).padStart(9);
  const mb = (m: Measured): string => m.rssMB.toFixed(0).padStart(6);
  console.log(
    `${r.name.padEnd(34)} ${String(r.elements).padStart(9)} ${f(r.step)} ${f(r.plain)} ${f(r.baseline)} ${(r.step.ms / r.baseline.ms).toFixed(2).padStart(9)}x ${(r.plain.ms / r.baseline.ms).toFixed(2).padStart(12)}x ${' '.repeat(12)}${mb(r.step)} ${mb(r.plain)} ${mb(r.baseline)}`,
  );
}
await benchWebGpu();
await benchWasm({ mse: mseBaseline, bceWithLogits: bceWithLogitsBaseline, crossEntropy: crossEntropyBaseline });
await benchTfjs();
