// `npm run bench`, WebAssembly section: per workload, forward and the training step (valueAndGrad
// with wrt ['input'] into caller-owned outputs), on the JS backend, the WebAssembly backend with 1
// and 2 threads, and the hand-fused JS loop (the step only); then, when /usr/bin/python3 has torch,
// the same workloads on the same inputs in PyTorch (1 and 2 threads, its allocations included),
// run in the same sitting, and the ratios lossc-wasm / torch at equal thread counts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nn, tensor, type Tensor, type WasmLoss } from 'lossc';
import type { Loss } from '../../runtime/nn.js';
import { lcgFloat32 as random } from '../support/random.js';

interface Workload {
  name: string;
  loss: 'MSELoss' | 'BCEWithLogitsLoss' | 'CrossEntropyLoss';
  inputs: Tensor[];
  /** the hand-fused value + input gradient, into a preallocated array */
  baseline: (gx: Float32Array) => number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Interleaved: one call of each variant per round, the median ms of each. */
function measure(fns: readonly (() => unknown)[], runs: number, warmup: number): number[] {
  const ts: number[][] = fns.map(() => []);
  for (let r = 0; r < warmup + runs; r++)
    fns.forEach((fn, v) => {
      const t0 = performance.now();
      fn();
      if (r >= warmup) ts[v]!.push(performance.now() - t0);
    });
  return ts.map(median);
}

function workloads(baselines: Record<string, (...a: never[]) => number>): Workload[] {
  const n = Number(process.env['LOSSC_BENCH_N'] ?? 1 << 24);
  const x = tensor(random(n, 1, 6), [n]);
  const y = tensor(random(n, 2, 6), [n]);
  const p = tensor(
    random(n, 3, 1).map((v) => v + 0.5),
    [n],
  );
  const ce = (rows: number, classes: number): Workload => {
    const input = tensor(random(rows * classes, 7, 8), [rows, classes]);
    const target = tensor(
      Int32Array.from({ length: rows }, (_, i) => (i * 7919) % classes),
      [rows],
    );
    const f = baselines['crossEntropy'] as (x: Float32Array, t: Int32Array, r: number, c: number, g: Float32Array) => number;
    return {
      name: `CrossEntropyLoss [${rows}, ${classes}]`,
      loss: 'CrossEntropyLoss',
      inputs: [input, target],
      baseline: (g) => f(input.data as Float32Array, target.data as Int32Array, rows, classes, g),
    };
  };
  const mse = baselines['mse'] as (x: Float32Array, y: Float32Array, g: Float32Array) => number;
  const bce = baselines['bceWithLogits'] as (x: Float32Array, y: Float32Array, g: Float32Array) => number;
  return [
    { name: `MSELoss [2^${Math.log2(n)}]`, loss: 'MSELoss', inputs: [x, y], baseline: (g) => mse(x.data as Float32Array, y.data as Float32Array, g) },
    {
      name: `BCEWithLogitsLoss [2^${Math.log2(n)}]`,
      loss: 'BCEWithLogitsLoss',
      inputs: [x, p],
      baseline: (g) => bce(x.data as Float32Array, p.data as Float32Array, g),
    },
    ce(4096, 1024),
    ce(256, 32768),
  ];
}

/** PyTorch on the same inputs, or why not. */
function torchResults(
  ws: readonly Workload[],
  runs: number,
  warmup: number,
): { version: string; results: Record<string, { fwd: { ms: number; rssMB: number }; step: { ms: number; rssMB: number } }> } | string {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return 'torch not available (/usr/bin/python3 -c "import torch" failed)';
  const dir = mkdtempSync(join(tmpdir(), 'lossc-bench-'));
  try {
    const spec = {
      dir,
      runs,
      warmup,
      workloads: ws.map((w, i) => ({
        name: w.name,
        loss: w.loss,
        inputs: w.inputs.map((t, j) => {
          const file = `w${i}_${j}.bin`;
          writeFileSync(join(dir, file), new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
          return { file, dtype: t.dtype, shape: t.shape };
        }),
      })),
    };
    const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'bench', 'torch_bench.py');
    const r = spawnSync('/usr/bin/python3', [script, JSON.stringify(spec)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) return `torch run failed: ${r.stderr.trim().split('\n').pop()}`;
    return JSON.parse(r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchWasm(baselines: Record<string, (...a: never[]) => number>): Promise<void> {
  const runs = Number(process.env['LOSSC_BENCH_RUNS'] ?? 3);
  const warmup = 2;
  const ws = workloads(baselines);
  let workerParts = 0;
  // the package's own objects (a Loss from another copy of the modules would not share its classes)
  type Backend = { lastCallBytes: number; workerParts: number; close(): Promise<void> };
  const backendOf = (l: Loss): Backend => (l as unknown as { backend: Backend }).backend;
  console.log("\nWebAssembly backend (median ms per call; step = valueAndGrad(inputs, { wrt: ['input'], out }); fused = hand-written JS loop)");
  const lossc: Record<string, { fwd: number[]; step: number[]; mem1: number; mem2: number }> = {};
  const zeroCopy: Record<string, number[]> = {};
  for (const w of ws) {
    const js = new nn[w.loss]() as unknown as Loss;
    const one = (await js.to('wasm', { threads: 1 })) as Loss;
    const two = (await js.to('wasm', { threads: 2 })) as Loss;
    const [b1, b2] = [backendOf(one), backendOf(two)];
    const value = tensor(new Float32Array(1), [], 'float32');
    const g = tensor(new Float32Array(w.inputs[0]!.data.length), w.inputs[0]!.shape, 'float32');
    const gx = new Float32Array(w.inputs[0]!.data.length);
    const out = { value, grads: [g] };
    const step = (l: Loss) => () => l.valueAndGrad(w.inputs, { wrt: ['input'], out });
    const fwdOut = tensor(new Float32Array(1), [], 'float32');
    const fwd = (l: Loss) => () => l.forward(w.inputs, { out: fwdOut });
    const [fj, f1, f2] = measure([fwd(js), fwd(one), fwd(two)], runs, warmup);
    const [sj, s1, s2, sb] = measure([step(js), step(one), step(two), () => w.baseline(gx)], runs, warmup);
    lossc[w.name] = { fwd: [fj!, f1!, f2!], step: [sj!, s1!, s2!, sb!], mem1: b1.lastCallBytes / 2 ** 20, mem2: b2.lastCallBytes / 2 ** 20 };
    // the same step over tensors in the backend's memory (loss.tensor()): no copy in or out
    const zc = [one, two].map((l) => {
      const wl = l as WasmLoss;
      const inputs = w.inputs.map((t) => wl.tensor(t.data, t.shape, t.dtype));
      const zout = { value: wl.tensor([]), grads: [wl.tensor(w.inputs[0]!.shape)] };
      return {
        run: () => l.valueAndGrad(inputs, { wrt: ['input'], out: zout }),
        free: () => [...inputs, zout.value, ...zout.grads].forEach((t) => t.release()),
      };
    });
    zeroCopy[w.name] = measure(
      zc.map((z) => z.run),
      runs,
      warmup,
    );
    zc.forEach((z) => z.free());
    workerParts = b2.workerParts;
  }
  const torch = torchResults(ws, runs, warmup);
  const t = typeof torch === 'string' ? undefined : torch.results;
  console.log(typeof torch === 'string' ? `(${torch})` : `(PyTorch ${torch.version} on the same inputs, same sitting; its times include its allocations)`);
  const cell = (v: number | undefined): string => (v === undefined ? '-' : v.toFixed(1)).padStart(8);
  const ratio = (a: number, b: number | undefined): string => (b === undefined ? '-' : `${(a / b).toFixed(2)}x`).padStart(8);
  console.log(`${'workload'.padEnd(44)}      js  wasm 1t  wasm 2t    fused torch 1t torch 2t  w1/t1x  w2/t2x  wasm MB torch MB(1t/2t)`);
  for (const w of ws) {
    const l = lossc[w.name]!;
    for (const phase of ['fwd', 'step'] as const) {
      const ms = l[phase];
      const t1 = t?.[`${w.name}|1`]?.[phase];
      const t2 = t?.[`${w.name}|2`]?.[phase];
      console.log(
        `${`${w.name} ${phase === 'fwd' ? 'forward' : 'fwd+grad'}`.padEnd(44)}${cell(ms[0])} ${cell(ms[1])} ${cell(ms[2])} ${cell(ms[3])} ${cell(t1?.ms)} ${cell(t2?.ms)} ${ratio(ms[1]!, t1?.ms)} ${ratio(ms[2]!, t2?.ms)} ${l.mem2.toFixed(0).padStart(8)} ${t1 ? `${t1.rssMB.toFixed(0)}/${t2!.rssMB.toFixed(0)}` : '-'}`,
      );
    }
  }
  console.log(`(wasm MB: the WebAssembly memory a training step used, its inputs and outputs included; the worker threads ran ${workerParts} kernel parts)`);
  console.log(`\n${'fwd+grad over WasmTensors (loss.tensor(): no copy)'.padEnd(52)} wasm 1t  wasm 2t`);
  for (const w of ws) console.log(`${w.name.padEnd(52)}${cell(zeroCopy[w.name]![0])} ${cell(zeroCopy[w.name]![1])}`);
}
