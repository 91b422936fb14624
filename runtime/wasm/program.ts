// A compiled program on the WebAssembly backend. The CPU executor (executor.ts) still resolves
// shapes, lays out strides and owns the arrays (pool, caller's outs, accumulate); each kernel it
// calls is a WebAssembly function here: its arrays are copied into the module's memory, the
// kernel runs over a fixed partition (on the worker pool when there is one), and what it wrote is
// copied back. The partition depends only on the problem's size, and each part's reductions are
// combined in part order, so results are bit-identical whatever the number of threads.
import type { ElemType, WasmKernel } from '../../compiler/emit/wasm/kernel.js';
import { H, countField, headerWords, outField, siteField } from '../../compiler/emit/wasm/frame.js';
import { HOST_MATH } from '../../compiler/emit/wasm/spelling.js';
import { CpuProgram, type RunArgs, type RunResult } from '../executor.js';
import type { KernelLayout } from '../../compiler/emit/js.js';
import type { Precision } from '../../compiler/plan/kernelPlan.js';
import type { WasmMemory } from './memory.js';
import { regionOf } from './tensor.js';
import { IOTA } from '../../compiler/abi/strides.js';

type AnyArray = ArrayLike<number> & { readonly length: number };
type KernelFn = (X: AnyArray[], O: (Float32Array | Float64Array)[], S: Float64Array, L: Record<string, unknown>) => void;

/** One module of one kernel, for one element-type signature. */
export interface KernelEntry {
  readonly id: number;
  readonly module: WebAssembly.Module;
  readonly instance: WebAssembly.Instance;
}

/** Who runs a kernel's parts: this thread alone, or a pool of workers with it. */
export interface PartRunner {
  runParts(entry: KernelEntry, frame: number, sc: number, count: number, nparts: number): void;
  /** hand a module to the other threads ahead of its first call (a Web Worker takes it between jobs) */
  share?(entry: KernelEntry): void;
}

/** Elements (or rows' elements) per part, and the most parts a kernel is split into. */
const GRAIN = 1 << 16;
const MAX_PARTS = 64;
let nextId = 0;

export const partRange = (p: number, count: number, nparts: number): [number, number] => [
  Math.floor((p * count) / nparts),
  Math.floor(((p + 1) * count) / nparts),
];

export function runPartsHere(entry: KernelEntry, frame: number, sc: number, count: number, nparts: number): void {
  const run = entry.instance.exports.run as (f: number, s: number, lo: number, hi: number, p: number) => void;
  for (let p = 0; p < nparts; p++) {
    const [lo, hi] = partRange(p, count, nparts);
    run(frame, sc, lo, hi, p);
  }
}

export const hostImports = (memory: WebAssembly.Memory): WebAssembly.Imports => ({
  env: { memory, ...HOST_MATH, ...Object.fromEntries(Object.entries(HOST_MATH).map(([k, f]) => [`host_${k}`, f])) },
});

const View = { f32: Float32Array, f64: Float64Array, i32: Int32Array } as const;
const SIZE: Record<ElemType, number> = { f32: 4, f64: 8, i32: 4 };

/** What a program runs, per kernel: the call's shape (no instruction text), and where its module's bytes come from. */
export type WasmKernelCall = Pick<WasmKernel, 'kind' | 'layout' | 'registers' | 'caches' | 'types'>;
export interface WasmProgramKernels {
  readonly precision: Precision;
  readonly kernels: readonly WasmKernelCall[];
  readonly results: readonly string[];
  /** kernel i's module, for a shared memory or not (backend.ts assembles it; a standalone module carries it) */
  readonly bytes: (i: number, shared: boolean) => Uint8Array;
  /**
   * kernel i's module with other element types for some outputs (backend.ts; a standalone module
   * has none): an accumulation into a caller's float32 WasmTensor stored in float32 in place
   */
  readonly retyped?: (i: number, types: ReadonlyMap<string, ElemType>, shared: boolean) => Uint8Array;
}

export class WasmProgram {
  private readonly cpu: CpuProgram;
  private readonly entries: (KernelEntry | undefined)[];
  /** buffers some kernel writes, and the program's results (for the copy counters) */
  private readonly written: ReadonlySet<string>;
  private readonly isResult: ReadonlySet<string>;
  /** modules with retyped outputs, per kernel and output types ('f64,f32') */
  private readonly retypedEntries = new Map<string, KernelEntry | null>();

  constructor(
    readonly data: WasmProgramKernels,
    private readonly mem: WasmMemory,
    private readonly runner: PartRunner,
  ) {
    this.entries = data.kernels.map(() => undefined);
    this.written = new Set(data.kernels.flatMap((k) => k.layout.outputs.map((o) => o.buffer)));
    this.isResult = new Set(data.results);
    const layouts = data.kernels.map((k, i): KernelLayout & { fn: KernelFn } => ({ ...k.layout, fn: (X, O, S, L) => this.call(i, k, X, O, S, L) }));
    this.cpu = new CpuProgram({ precision: data.precision, layouts, results: data.results });
  }

  /**
   * Arrays already in the module's memory during this run, with their addresses: an input read by
   * several kernels is copied in once, and a result one kernel wrote is read there by the next.
   */
  private readonly resident = new Map<AnyArray, { at: number; type: ElemType }>();

  /** The address of an array that is a live WasmTensor's view of this memory, holding `type` elements. */
  private inMemory(a: AnyArray, type: ElemType): number | undefined {
    const r = regionOf(a);
    return r && r.mem === this.mem && r.type === type && !r.tensor.released ? r.at : undefined;
  }

  run(args: RunArgs): RunResult[] {
    this.mem.reset();
    this.resident.clear();
    try {
      return this.cpu.run(args);
    } finally {
      this.resident.clear();
      this.mem.done();
    }
  }

  private entry(i: number): KernelEntry {
    let e = this.entries[i];
    if (!e) {
      const module = new WebAssembly.Module(this.data.bytes(i, this.mem.shared) as BufferSource);
      const instance = new WebAssembly.Instance(module, hostImports(this.mem.memory));
      this.entries[i] = e = { id: nextId++, module, instance };
    }
    return e;
  }

  /**
   * Kernel i's module with outputs of these types, or undefined where it cannot be had (no
   * assembler, or a browser's main thread that compiles only small modules synchronously).
   */
  private retypedEntry(i: number, k: WasmKernelCall, ot: readonly ElemType[]): KernelEntry | undefined {
    const key = `${i}:${ot.join(',')}`;
    let e = this.retypedEntries.get(key);
    if (e === undefined) {
      e = null;
      if (this.data.retyped) {
        const types = new Map(k.types!);
        ot.forEach((t, j) => types.set(`o${j}`, t));
        try {
          const module = new WebAssembly.Module(this.data.retyped(i, types, this.mem.shared) as BufferSource);
          e = { id: nextId++, module, instance: new WebAssembly.Instance(module, hostImports(this.mem.memory)) };
        } catch {
          e = null;
        }
      }
      this.retypedEntries.set(key, e);
    }
    return e ?? undefined;
  }

  /**
   * Compile every kernel's module asynchronously (a browser's main thread compiles only small
   * modules synchronously); later calls find them ready.
   */
  async prepare(): Promise<void> {
    await Promise.all(
      this.data.kernels.map(async (_, i) => {
        if (this.entries[i]) return;
        const module = await WebAssembly.compile(this.data.bytes(i, this.mem.shared) as BufferSource);
        const instance = await WebAssembly.instantiate(module, hostImports(this.mem.memory));
        this.entries[i] ??= { id: nextId++, module, instance };
        this.runner.share?.(this.entries[i]);
      }),
    );
  }

  /** One kernel call: arrays in, run the parts, combine, arrays out. */
  private call(i: number, k: WasmKernelCall, X: AnyArray[], O: (Float32Array | Float64Array)[], S: Float64Array, L: Record<string, unknown>): void {
    const mem = this.mem;
    const resident = this.resident;
    for (const o of O) resident.delete(o);
    // the kernel's own element types; arrays of other types are converted as they are copied
    const types = k.types!;
    const xt = X.map((_, s) => types.get(`x${s}`)!);
    let ot = O.map((_, j) => types.get(`o${j}`)!);
    let entry: KernelEntry | undefined;
    // a float32 result accumulated in float64 (each element once: the executor passes the result
    // itself, not float64 scratch): stored in float32, the rounding the copy out would do, where
    // it lies (a WasmTensor) or for a copy out without conversion
    if (this.data.precision === 'f32' && O.some((o, j) => ot[j] === 'f64' && o instanceof Float32Array)) {
      const retyped = ot.map((t, j) => (t === 'f64' && O[j] instanceof Float32Array ? 'f32' : t));
      entry = this.retypedEntry(i, k, retyped);
      if (entry) ot = retyped;
    }
    entry ??= this.entry(i);

    const nS = X.length;
    const frame = mem.alloc(headerWords(nS, O.length) * 4);
    const sc = mem.alloc(S.length * 8);
    const copyIn: boolean[] = [];
    const xAt = X.map((x, s) => {
      const own = this.inMemory(x, xt[s]!);
      if (own !== undefined) return own;
      const r = resident.get(x);
      if (r && r.type === xt[s]) return r.at;
      const at = mem.alloc(x.length * SIZE[xt[s]!]);
      resident.set(x, { at, type: xt[s]! });
      copyIn[s] = true;
      return at;
    });
    // a caller's out tensor in this memory is written where it lies
    const oOwn = O.map((o, j) => this.inMemory(o, ot[j]!));
    const oAt = O.map((o, j) => oOwn[j] ?? mem.alloc(o.length * SIZE[ot[j]!]));
    const ints = (a: readonly number[]): number => {
      const at = mem.alloc(a.length * 4);
      new Int32Array(mem.buffer, at, a.length).set(a);
      return at;
    };
    const header: number[] = new Array(headerWords(nS, O.length)).fill(0);
    let count: number;
    let nparts: number;
    const outs = k.layout.outputs;
    const accumulated = (j: number): boolean => outs[j]!.mode !== 'store' && !outs[j]!.register;
    if (k.kind === 'plain') {
      const flat = L.flat as boolean;
      const dims = L.dims as number[];
      const n = L.n as number;
      header[H.a] = flat ? 1 : 0;
      header[H.b] = n;
      if (!flat) {
        header[H.r] = dims.length;
        header[H.dims] = ints(dims);
        header[H.st] = ints((L.st as number[][]).flat());
      }
      const inner = flat ? 1 : dims[dims.length - 1]!;
      count = flat ? n : inner === 0 ? 0 : n / inner;
      // an accumulation through strides may hit one element from several parts: one part
      const split = flat || !outs.some((_, j) => accumulated(j));
      nparts = split ? partsFor(n) : 1;
    } else if (k.kind === 'rows') {
      const outer = L.outer as number[];
      count = L.rows as number;
      header[H.a] = count;
      header[H.b] = L.C as number;
      header[H.r] = outer.length;
      header[H.dims] = ints(outer);
      header[H.st] = ints((L.ost as number[][]).flat());
      header[H.ast] = ints(L.ast as number[]);
      nparts = outs.some((o) => o.accumulates) ? 1 : partsFor(count * (L.C as number));
      nparts = Math.min(nparts, Math.max(1, count));
      header[H.cache] = mem.alloc(Math.max(1, nparts * (k.caches ?? 0) * (L.C as number)) * 8);
    } else {
      const dims = L.dims as number[];
      header[H.a] = L.T as number;
      header[H.b] = L.n as number;
      header[H.r] = dims.length;
      header[H.dims] = ints(dims);
      header[H.st] = ints((L.st as number[][]).flat());
      header[H.ast] = ints(L.step as number[]);
      const init = L.init as AnyArray;
      const t = ot[0]!;
      const at = mem.alloc(init.length * SIZE[t]);
      new View[t](mem.buffer, at, init.length).set(init);
      header[H.init] = at;
      count = 0;
      nparts = 1;
    }
    header[H.part] = mem.alloc(Math.max(1, nparts * k.registers) * 8);
    X.forEach((_, s) => {
      header[siteField(s)] = xAt[s]!;
      header[countField(nS, O.length, s)] = X[s]!.length;
    });
    O.forEach((_, j) => (header[outField(nS, j)] = oAt[j]!));

    // every allocation is done: the buffer no longer moves
    const buf = mem.buffer;
    new Int32Array(buf, frame, header.length).set(header);
    new Float64Array(buf, sc, S.length).set(S);
    X.forEach((x, s) => {
      if (!copyIn[s]) return;
      // (a WasmTensor's own array, viewed anew: a memory that is not shared and grew detached the old view)
      new View[xt[s]!](buf, xAt[s]!, x.length).set(regionOf(x)?.tensor.data ?? x);
      const b = k.layout.sites[s]!.buffer;
      this.mem.copied[this.written.has(b) || b === IOTA ? 'temporaries' : 'in'] += x.length;
    });
    // an accumulated output's prior values, unless the call is flat (its loop stores each element once)
    const flat = k.kind === 'plain' && (L.flat as boolean);
    O.forEach((o, j) => {
      if (!accumulated(j) || oOwn[j] !== undefined || flat) return;
      new View[ot[j]!](buf, oAt[j]!, o.length).set(o);
      this.mem.copied[this.isResult.has(outs[j]!.buffer) ? 'in' : 'temporaries'] += o.length;
    });
    if (k.kind === 'scan') (entry.instance.exports.run as (...a: number[]) => void)(frame, sc, 0, 0, 0);
    else {
      if (nparts === 1) runPartsHere(entry, frame, sc, count, 1);
      else this.runner.runParts(entry, frame, sc, count, nparts);
      (entry.instance.exports.fin as (...a: number[]) => void)(frame, sc, 0, nparts, 0);
    }
    O.forEach((o, j) => {
      resident.set(o, { at: oAt[j]!, type: ot[j]! });
      if (oOwn[j] !== undefined) return;
      o.set(new View[ot[j]!](buf, oAt[j]!, o.length) as Float64Array);
      this.mem.copied[this.isResult.has(outs[j]!.buffer) ? 'out' : 'temporaries'] += o.length;
    });
  }
}

function partsFor(elements: number): number {
  return Math.max(1, Math.min(MAX_PARTS, Math.ceil(elements / GRAIN)));
}
