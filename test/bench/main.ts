// `npm run bench`: lossc's kernels beside hand-written fused JS loops, measured in the same run,
// printed as ratios (lossc time / baseline time: 1.00 is parity, lower is better).
import { nn, tensor, type Tensor } from 'lossc';
import { benchWebGpu } from './webgpu.js';

interface Row {
  name: string;
  elements: number;
  lossc: number;
  baseline: number;
  bytes: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Median wall time of `fn` over `runs` runs after `warmup` runs, in ms. */
function time(fn: () => unknown, runs = 9, warmup = 3): number {
  for (let i = 0; i < warmup; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

function randomTensor(n: number, seed: number, scale = 2): Tensor {
  const data = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    data[i] = (s / 2 ** 32 - 0.5) * scale;
  }
  return tensor(data, [n], 'float32');
}

// ---- hand-written baselines: one fused pass, 4 accumulators, outputs allocated per call as lossc does
function mseBaseline(x: Float32Array, y: Float32Array) {
  const n = x.length;
  const gx = new Float32Array(n);
  const gy = new Float32Array(n);
  const k = 2 / n;
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const d0 = x[i]! - y[i]!, d1 = x[i + 1]! - y[i + 1]!, d2 = x[i + 2]! - y[i + 2]!, d3 = x[i + 3]! - y[i + 3]!;
    a0 += d0 * d0; a1 += d1 * d1; a2 += d2 * d2; a3 += d3 * d3;
    gx[i] = k * d0; gx[i + 1] = k * d1; gx[i + 2] = k * d2; gx[i + 3] = k * d3;
    gy[i] = -k * d0; gy[i + 1] = -k * d1; gy[i + 2] = -k * d2; gy[i + 3] = -k * d3;
  }
  for (; i < n; i++) {
    const d = x[i]! - y[i]!;
    a0 += d * d;
    gx[i] = k * d;
    gy[i] = -k * d;
  }
  return { value: (a0 + a1 + (a2 + a3)) / n, gx, gy };
}

function bceWithLogitsBaseline(x: Float32Array, y: Float32Array) {
  const n = x.length;
  const gx = new Float32Array(n);
  const gy = new Float32Array(n);
  const k = 1 / n;
  let a0 = 0, a1 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i]!, yi = y[i]!;
    const e = Math.exp(-Math.abs(xi));
    const loss = Math.max(xi, 0) - xi * yi + Math.log1p(e);
    if (i & 1) a1 += loss;
    else a0 += loss;
    const sig = xi >= 0 ? 1 / (1 + e) : e / (1 + e);
    gx[i] = k * (sig - yi);
    gy[i] = -k * xi;
  }
  return { value: (a0 + a1) / n, gx, gy };
}

/**
 * Cross entropy with class-index targets, value and gradient, the classic online-softmax way: per
 * row one pass with a running max and rescaled sum, then one pass writing softmax - one-hot.
 */
function crossEntropyBaseline(x: Float32Array, target: Int32Array, rows: number, classes: number) {
  const grad = new Float32Array(rows * classes);
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
  return { value: total / rows, grad };
}

function crossEntropyRow(rows: number, classes: number): Row {
  const x = randomTensor(rows * classes, 7, 8);
  const input = tensor(x.data, [rows, classes], 'float32');
  const target = tensor(Int32Array.from({ length: rows }, (_, i) => (i * 7919) % classes), [rows], 'int32');
  const ce = new nn.CrossEntropyLoss();
  return {
    name: `CrossEntropyLoss valueAndGrad f32 (${rows}, ${classes})`,
    elements: rows * classes,
    lossc: time(() => ce.valueAndGrad(input, target), 7, 2),
    baseline: time(() => crossEntropyBaseline(input.data as Float32Array, target.data as Int32Array, rows, classes), 7, 2),
    bytes: 2 * 4 * rows * classes,
  };
}

function bench(): Row[] {
  const rows: Row[] = [];
  const n = 1 << 24;
  const x = randomTensor(n, 1, 6);
  const y = randomTensor(n, 2, 6);
  const p = randomTensor(n, 3, 1);
  const target01 = tensor(p.data.map((v) => v + 0.5), [n], 'float32');

  const mse = new nn.MSELoss();
  rows.push({ name: 'MSELoss valueAndGrad f32', elements: n, lossc: time(() => mse.valueAndGrad(x, y)), baseline: time(() => mseBaseline(x.data as Float32Array, y.data as Float32Array)), bytes: 4 * 4 * n });

  const bce = new nn.BCEWithLogitsLoss();
  rows.push({
    name: 'BCEWithLogitsLoss valueAndGrad f32', elements: n,
    lossc: time(() => bce.valueAndGrad(x, target01)),
    baseline: time(() => bceWithLogitsBaseline(x.data as Float32Array, target01.data as Float32Array)),
    bytes: 4 * 4 * n,
  });
  rows.push(crossEntropyRow(4096, 1024), crossEntropyRow(256, 32768));
  return rows;
}

function check(): void {
  // the baselines compute the same numbers (else the comparison is meaningless)
  const n = 1000;
  const x = randomTensor(n, 5), y = randomTensor(n, 6);
  const a = new nn.MSELoss().valueAndGrad(x, y).value.data[0]!;
  const b = mseBaseline(x.data as Float32Array, y.data as Float32Array).value;
  if (Math.abs(a - b) > 1e-5 * Math.abs(b)) throw new Error(`MSE baseline disagrees: ${a} vs ${b}`);
  const t = tensor(y.data.map((v) => v / 4 + 0.5), [n], 'float32');
  const c = new nn.BCEWithLogitsLoss().valueAndGrad(x, t).value.data[0]!;
  const d = bceWithLogitsBaseline(x.data as Float32Array, t.data as Float32Array).value;
  if (Math.abs(c - d) > 1e-5 * Math.abs(d)) throw new Error(`BCEWithLogits baseline disagrees: ${c} vs ${d}`);
  const logits = tensor(x.data, [100, 10], 'float32');
  const labels = tensor(Int32Array.from({ length: 100 }, (_, i) => i % 10), [100], 'int32');
  const e = new nn.CrossEntropyLoss().valueAndGrad(logits, labels);
  const f = crossEntropyBaseline(logits.data as Float32Array, labels.data as Int32Array, 100, 10);
  if (Math.abs(e.value.data[0]! - f.value) > 1e-5 * Math.abs(f.value)) throw new Error(`CrossEntropy baseline disagrees: ${e.value.data[0]} vs ${f.value}`);
  if (e.grads[0]!.data.some((g, i) => Math.abs(g - f.grad[i]!) > 1e-6)) throw new Error('CrossEntropy baseline gradient disagrees');
}

check();
console.log(`lossc bench: median of 9 runs, Node ${process.version}`);
console.log('case                                     elements    lossc ms  baseline ms  ratio   lossc GB/s');
for (const r of bench()) {
  console.log(
    `${r.name.padEnd(40)} ${String(r.elements).padStart(9)} ${r.lossc.toFixed(2).padStart(10)} ${r.baseline.toFixed(2).padStart(12)} ${(r.lossc / r.baseline).toFixed(2).padStart(6)}x ${(r.bytes / r.lossc / 1e6).toFixed(2).padStart(10)}`,
  );
}
await benchWebGpu();
