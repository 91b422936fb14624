// The WebAssembly backend: `await loss.to('wasm', { threads })`. One memory and one part runner
// per backend instance; compiled programs per compiled method and precision.
import type { CompiledMethod } from '../../compiler/pipeline.js';
import type { Precision } from '../../compiler/plan/kernelPlan.js';
import { assembleKernel, emitWasm } from '../../compiler/emit/wasm/kernel.js';
import type { Backend } from '../nn.js';
import { WasmMemory } from './memory.js';
import { WasmProgram, runPartsHere, type PartRunner } from './program.js';
import { WorkerPool, threadsAvailable } from './pool.js';
import { priorInput } from '../../compiler/methodVariant.js';
import { checkResident, regionOf, tensorFactory, type WasmTensor, type WasmTensors } from './tensor.js';

export interface WasmOptions {
  /**
   * Threads that run a large kernel's parts (this one included): worker_threads in Node, Web
   * Workers in a cross-origin-isolated page; 1 elsewhere. Results do not depend on it. Default 1.
   */
  readonly threads?: number;
}

export interface WasmBackend extends Backend, WasmTensors {
  readonly threads: number;
  /** whether its WebAssembly.Memory is shared (then growth never detaches a WasmTensor's data) */
  readonly sharedMemory: boolean;
  /**
   * Elements copied into the module's memory (arguments) and out of it (results) at kernel calls,
   * all calls so far: WasmTensor arguments and `out` tensors add nothing. `temporaries`: values
   * between two kernels of a call that the host also holds (a scalar, a per-row value).
   */
  readonly copied: { readonly in: number; readonly out: number; readonly temporaries: number };
  /** the bytes of WebAssembly memory the largest call so far used */
  readonly memoryBytes: number;
  /** the bytes of WebAssembly memory the last call used (its inputs, results, temporaries and frames) */
  readonly lastCallBytes: number;
  /** parts of kernel calls the worker threads ran (0 with one thread) */
  readonly workerParts: number;
  /** compile the kernels of these methods now, asynchronously (what a browser's main thread needs) */
  prepare(methods: readonly CompiledMethod[]): Promise<void>;
  /** stop the worker threads (a backend with threads keeps them until then, unref'd) */
  close(): Promise<void>;
}

/** One backend per thread count, shared by every loss moved to 'wasm' (one memory, one pool of workers). */
const shared = new Map<number, Promise<WasmBackend>>();

/** The shared backend for `opts.threads` (what `loss.to('wasm', opts)` runs on). */
export function wasmBackend(opts: WasmOptions = {}): Promise<WasmBackend> {
  const threads = opts.threads ?? 1;
  let b = shared.get(threads);
  if (!b) {
    b = createWasmBackend(opts, () => shared.delete(threads));
    shared.set(threads, b);
    b.catch(() => shared.delete(threads));
  }
  return b;
}

/** A backend of its own (its own memory and workers); `onClose` runs when it is closed. */
export async function createWasmBackend(opts: WasmOptions = {}, onClose?: () => void): Promise<WasmBackend> {
  const threads = opts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1 || threads > 64)
    throw new RangeError(`to('wasm', { threads }): threads must be an integer from 1 to 64, got ${String(threads)}`);
  const useThreads = threads > 1 && (await threadsAvailable());
  // shared wherever it can be (Node; a cross-origin-isolated page), so that growth keeps WasmTensor views valid
  const mem = new WasmMemory(useThreads || canShare());
  const pool = useThreads ? await WorkerPool.start(threads - 1, mem.memory) : undefined;
  const runner: PartRunner = pool ?? { runParts: runPartsHere };
  const programs = new WeakMap<CompiledMethod, Partial<Record<Precision, WasmProgram>>>();
  const program = (c: CompiledMethod, precision: Precision): WasmProgram => {
    let byPrecision = programs.get(c);
    if (!byPrecision) programs.set(c, (byPrecision = {}));
    if (!byPrecision[precision]) {
      const data = emitWasm(c.plan, precision);
      byPrecision[precision] = new WasmProgram(
        {
          ...data,
          bytes: (i, shared) => assembleKernel(data.kernels[i]!, shared),
          retyped: (i, types, shared) => assembleKernel({ ...data.kernels[i]!, types }, shared),
        },
        mem,
        runner,
      );
    }
    return byPrecision[precision];
  };
  return {
    name: 'wasm',
    threads: useThreads ? threads : 1,
    get workerParts() {
      return pool?.workerParts ?? 0;
    },
    get memoryBytes() {
      return mem.highWater;
    },
    get lastCallBytes() {
      return mem.lastCall;
    },
    sharedMemory: mem.shared,
    copied: mem.copied,
    tensor: tensorFactory(mem),
    isResident(data) {
      return regionOf(data) !== undefined;
    },
    run(c, precision, args, params, outs, memo) {
      const where = `${c.instance.def.name}.${c.method}`;
      for (const [name, a] of args) checkResident(mem, a.data, `${where}: argument '${name}'`);
      // a result written while an argument (or another result) is still read would corrupt it; an
      // accumulation's prior (the out tensor itself, prior_<result>) is read and written in place
      const seen = new Map<object, string>();
      for (const [name, a] of args) {
        const t = regionOf(a.data)?.tensor;
        if (t && !c.results.some((r) => priorInput(r) === name)) seen.set(t, `argument '${name}'`);
      }
      outs.forEach((o, r) => {
        if (!o) return;
        const res = c.results[r]!;
        const label = res === 'value' ? (c.method === 'forward' ? 'out' : 'out.value') : `out.grads ('${res.replace(/^grad_/, '')}')`;
        checkResident(mem, o, `${where}: ${label}`);
        const t = regionOf(o)?.tensor;
        if (!t) return;
        const other = seen.get(t);
        if (other) throw new Error(`${where}: ${label} is the same WebAssembly tensor as ${other}`);
        seen.set(t, label);
      });
      // a memory that is not shared detaches every view of it when a call grows it, and the
      // executor holds the out arrays for the whole call: there, a WasmTensor out is written
      // through an ordinary array and copied into the tensor (viewed anew) at the end
      const late = new Map<Float32Array | Float64Array, WasmTensor>();
      const callOuts = mem.shared
        ? outs
        : outs.map((o) => {
            const t = o && regionOf(o)?.tensor;
            if (!o || !t) return o;
            const stand = o instanceof Float32Array ? new Float32Array(o.length) : new Float64Array(o.length);
            late.set(stand, t);
            return stand;
          });
      const results = program(c, precision).run({ buffers: args, params, outs: callOuts, memo });
      if (late.size === 0) return results;
      return results.map((r) => {
        const t = late.get(r.data);
        if (!t) return r;
        const data = t.data as Float32Array | Float64Array;
        data.set(r.data);
        return { data, shape: r.shape };
      });
    },
    async prepare(methods) {
      await Promise.all(methods.flatMap((c) => (['f32', 'f64'] as const).map((p) => program(c, p).prepare())));
    },
    async close() {
      onClose?.();
      await pool?.close();
    },
  };
}

/** A shared WebAssembly.Memory can be made here: Node, or a cross-origin-isolated page. */
function canShare(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  const g = globalThis as { process?: { versions?: { node?: string } }; crossOriginIsolated?: boolean };
  return !!g.process?.versions?.node || g.crossOriginIsolated === true;
}
