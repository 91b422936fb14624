// The CPU executor: runs compiled JS kernels from plain data (no compiler needed, so standalone
// modules bundle it). For one call it resolves every shape, lays out each kernel's strides (flat
// when every operand has the domain's shape), allocates results, and calls the kernels in order.
import type { Precision } from '../compiler/plan/kernelPlan.js';
import type { KernelLayout } from '../compiler/emit/js.js';
import { resolveShape, normalizeAxis, type ShapeExpr } from '../compiler/ir/shape.js';
import { IOTA, contiguousStrides, numel } from '../compiler/abi/strides.js';
import { loopLayout, outputWrite, rowCall, scanCall, siteView, targetStrides } from '../compiler/abi/call.js';
import { MAX_ELEMENTS } from './validate.js';

type KernelFn = (X: ArrayLike<number>[], O: Float32Array[] | Float64Array[], S: Float64Array, L: Layout) => void;
interface Layout {
  flat: boolean;
  n: number;
  dims: number[];
  st: number[][];
}

export interface RunArgs {
  /** every input buffer of the plan, by name, with its shape */
  readonly buffers: ReadonlyMap<string, { readonly data: ArrayLike<number>; readonly shape: readonly number[] }>;
  readonly params: ReadonlyMap<string, number>;
  /** per result (in the program's result order), the caller's array to write it into; else a fresh one */
  readonly outs?: readonly (Float32Array | Float64Array | undefined)[];
  /** state this program may keep between calls that pass the same object (the same input shapes and dtypes) */
  readonly memo?: Record<string, unknown>;
}

export interface RunResult {
  readonly data: Float32Array | Float64Array;
  readonly shape: number[];
}

/**
 * A compiled program as plain data: the kernels' sources and layouts and the result buffers. What
 * a standalone module carries (`lossc compile`), so it runs with no compiler.
 */
export interface CpuProgramData {
  readonly precision: Precision;
  readonly layouts: readonly KernelLayout[];
  readonly results: readonly string[];
}

export class CpuProgram {
  readonly layouts: readonly KernelLayout[];
  readonly precision: Precision;
  private readonly results: readonly string[];
  private readonly fns: readonly KernelFn[];
  /**
   * The program's pool: temporaries, float64 scratch and scalar arrays, by buffer, reused by the
   * next call when it needs the same length (a run is synchronous, so one set serves every call).
   * Results are the caller's (`outs`) or fresh. `allocations` counts the arrays it has made.
   */
  private readonly pool = new Map<string, Float32Array | Float64Array>();
  private readonly resultIndex: ReadonlyMap<string, number>;
  allocations = 0;

  constructor(data: CpuProgramData) {
    this.layouts = data.layouts;
    this.precision = data.precision;
    this.results = data.results;
    this.resultIndex = new Map(this.results.map((r, i) => [r, i]));
    // a standalone module's kernels are functions in its file; the library compiles each kernel's
    // source here, which a browser page with a Content-Security-Policy allows only with 'unsafe-eval'
    this.fns = this.layouts.map((k) => (k as { readonly fn?: KernelFn }).fn ?? (new Function(`"use strict";\nreturn ${k.source}`)() as KernelFn));
  }

  /**
   * An array for `buffer` of n elements: the caller's for a result given in `outs`, a fresh one
   * for another result, else the pool's (`slot` tells scratch apart from the buffer itself). Filled
   * with `init` when given (accumulations); stores overwrite every element.
   */
  private array(buffer: string, slot: '' | '@acc', f64: boolean, n: number, outs: RunArgs['outs'], init?: number): Float32Array | Float64Array {
    const Arr = f64 ? Float64Array : Float32Array;
    const r = slot === '' ? this.resultIndex.get(buffer) : undefined;
    let a: Float32Array | Float64Array | undefined;
    if (r !== undefined) {
      a = outs?.[r];
      if (a && (!(a instanceof Arr) || a.length !== n))
        throw new Error(`internal: result ${buffer} needs ${n} ${Arr.name} elements, its out array has ${a.length} ${a.constructor.name}`);
      a ??= new Arr(n);
    } else {
      const key = buffer + slot;
      a = this.pool.get(key);
      if (!a || a.length !== n || !(a instanceof Arr)) {
        this.pool.set(key, (a = new Arr(n)));
        this.allocations++;
      }
    }
    if (init !== undefined) a.fill(init);
    return a;
  }

  /** Per binding (RunArgs.memo): resolved shapes and each kernel's laid-out strides, computed on its first call. */
  private readonly prepared = new WeakMap<object, { shapes: Map<ShapeExpr, number[]>; kernels: unknown[] }>();

  run(args: RunArgs): RunResult[] {
    const f64 = this.precision === 'f64';
    const outs = args.outs;
    let prep = args.memo ? this.prepared.get(args.memo) : undefined;
    if (args.memo && !prep) this.prepared.set(args.memo, (prep = { shapes: new Map(), kernels: [] }));
    let inputShapes: Map<string, readonly number[]> | undefined;
    const memo = prep?.shapes ?? new Map<ShapeExpr, number[]>();
    const dims = (s: ShapeExpr): number[] =>
      memo.get(s) ?? resolveShape(s, (inputShapes ??= new Map([...args.buffers].map(([k, v]) => [k, v.shape] as const))), memo);
    const values = new Map<string, { data: ArrayLike<number>; shape: readonly number[] }>(args.buffers);

    this.layouts.forEach((k, ki) => {
      try {
        this.runKernel(k, ki, args, prep, dims, values, outs, f64);
      } catch (e) {
        // a kernel of tens of thousands of statements has a frame larger than V8's stack
        if (e instanceof RangeError && /call stack/i.test(e.message))
          throw new RangeError(
            `${k.name}: this kernel is too large for the JavaScript engine to run (${k.source.length} characters of code); split the loss's expression, e.g. sum a stack of terms instead of chaining thousands of operations`,
            { cause: e },
          );
        throw e;
      }
    });
    return this.results.map((name, r) => {
      const v = values.get(name)!;
      const out = outs?.[r];
      // a result no kernel wrote (an input passed through): copied into the caller's array
      if (out && v.data !== out) out.set(v.data);
      return { data: out ?? (v.data as Float32Array | Float64Array), shape: [...v.shape] };
    });
  }

  /** One kernel of a call: its outputs laid out (from the pool or the caller), then the call. */
  private runKernel(
    k: KernelLayout,
    ki: number,
    args: RunArgs,
    prep: { shapes: Map<ShapeExpr, number[]>; kernels: unknown[] } | undefined,
    dims: (s: ShapeExpr) => number[],
    values: Map<string, { data: ArrayLike<number>; shape: readonly number[] }>,
    outs: RunArgs['outs'],
    f64: boolean,
  ): void {
    if (k.rowAxis !== undefined) {
      const shapes = (prep?.kernels[ki] as RowShapes | undefined) ?? this.rowShapes(k, dims);
      if (prep) prep.kernels[ki] = shapes;
      this.runRows(k, this.fns[ki]!, shapes, dims, values, args.params, outs);
      return;
    }
    if (k.scan) {
      this.runScan(k, this.fns[ki]!, values, args.params, outs);
      return;
    }
    const shapes = (prep?.kernels[ki] as PlainShapes | undefined) ?? plainShapes(k, dims);
    if (prep) prep.kernels[ki] = shapes;
    const X = k.sites.map((s) => (s.buffer === IOTA ? arange(numel(dims(s.shape))) : values.get(s.buffer)!.data));
    const O: (Float32Array | Float64Array)[] = [];
    let finish: (() => void) | undefined;
    k.outputs.forEach((o, j) => {
      const shape = shapes.outShapes[j]!;
      if (!shapes.scatter[j]) {
        // stores, scalar results, and accumulations that visit each element once (a flat call
        // stores those too: every backend's flat loop does, so only the strided one needs the fill)
        const fill = o.mode === 'store' || o.register || shapes.layout.flat ? undefined : o.mode === 'max' ? -Infinity : 0;
        const data = this.array(o.buffer, '', f64, numel(shape), outs, fill);
        O.push(data);
        values.set(o.buffer, { data, shape });
      } else {
        // scatter-accumulate in float64, then round once into the result's precision
        const acc = this.array(o.buffer, f64 ? '' : '@acc', true, numel(shape), outs, o.mode === 'max' ? -Infinity : 0);
        O.push(acc);
        if (this.precision === 'f32') {
          const data = this.array(o.buffer, '', false, acc.length, outs);
          values.set(o.buffer, { data, shape });
          const before = finish;
          finish = () => {
            before?.();
            data.set(acc);
          };
        } else values.set(o.buffer, { data: acc, shape });
      }
    });
    const S = this.scalars(k, shapes.views, dims, values, args.params);
    this.fns[ki]!(X, O as Float64Array[], S, shapes.layout);
    finish?.();
  }

  /** The scalars a kernel hoists: options, sizes, earlier scalar results, gather strides. */
  private scalars(
    k: KernelLayout,
    views: readonly { gatherStrides: number[] }[],
    dims: (s: ShapeExpr) => number[],
    values: ReadonlyMap<string, { data: ArrayLike<number> }>,
    params: ReadonlyMap<string, number>,
  ): Float64Array {
    const S = this.array(`${k.name}@scalars`, '', true, k.scalars.length, undefined) as Float64Array;
    k.scalars.forEach((src, i) => {
      let v: number;
      if (src.kind === 'gatherStride') {
        S[i] = views[src.site]!.gatherStrides[src.step]!; // an offset: never rounded
        return;
      }
      if (src.kind === 'param') v = params.get(src.name)!;
      else if (src.kind === 'numel') v = numel(dims(src.shape));
      else if (src.kind === 'dim') {
        const d = dims(src.shape);
        v = d[normalizeAxis(src.axis, d.length, 'size')]!;
      } else v = values.get(src.buffer)!.data[0]!;
      S[i] = this.precision === 'f32' ? Math.fround(v) : v;
    });
    return S;
  }

  /**
   * A scan kernel: the body's placeholders take the shapes of the buffers bound to them (a
   * sequence's placeholder is one step's slice), and the kernel loops over the steps itself.
   */
  private runScan(
    k: KernelLayout,
    fn: KernelFn,
    values: Map<string, { data: ArrayLike<number>; shape: readonly number[] }>,
    params: ReadonlyMap<string, number>,
    outs: RunArgs['outs'],
  ): void {
    const scan = k.scan!;
    const call = scanCall(k.name, scan, k.sites, (buffer) => values.get(buffer)?.shape);
    const bound = (site: string): ArrayLike<number> => values.get(scan.bind[site] ?? site)!.data;
    const X = k.sites.map((s) => (s.buffer === IOTA ? arange(numel(call.dims(s.shape))) : bound(s.buffer)));
    const out = this.array(k.outputs[0]!.buffer, '', this.precision === 'f64', call.T * call.n, outs);
    const init = bound('@carry');
    values.set(k.outputs[0]!.buffer, { data: out, shape: [call.T, ...call.carry] });
    const lookup = new Map(values);
    for (const [p, buffer] of Object.entries(scan.bind)) lookup.set(p, values.get(buffer)!);
    const layout = { T: call.T, n: call.n, dims: call.loop.dims, st: call.loop.strides, step: call.step, init };
    fn(X, [out] as Float64Array[], this.scalars(k, call.views, call.dims, lookup, params), layout as unknown as Layout);
  }

  /** A row kernel's shapes and strides (compiler/abi rowCall), and its pooled row scratch. */
  private rowShapes(k: KernelLayout, dims: (s: ShapeExpr) => number[]): RowShapes {
    const call = rowCall(
      dims(k.domain),
      k.rowAxis!,
      k.sites,
      k.outputs.filter((o) => o.addressed),
      dims,
    );
    const layout = {
      scratch: (i: number, n: number) => this.array(`${k.name}@row${i}`, '', true, n, undefined),
      rows: call.rows,
      C: call.C,
      outer: call.outer.dims,
      ost: call.outer.strides,
      ast: call.along,
    };
    return { views: call.views, outShapes: k.outputs.map((o) => dims(o.shape)), layout };
  }

  /** A row kernel: its outputs from the pool (or the caller), then the rows. */
  private runRows(
    k: KernelLayout,
    fn: KernelFn,
    shapes: RowShapes,
    dims: (s: ShapeExpr) => number[],
    values: Map<string, { data: ArrayLike<number>; shape: readonly number[] }>,
    params: ReadonlyMap<string, number>,
    outs: RunArgs['outs'],
  ): void {
    const f64 = this.precision === 'f64';
    const X = k.sites.map((s) => (s.buffer === IOTA ? arange(numel(dims(s.shape))) : values.get(s.buffer)!.data));
    const O: (Float32Array | Float64Array)[] = [];
    const finish: (() => void)[] = [];
    k.outputs.forEach((o, j) => {
      const shape = shapes.outShapes[j]!;
      if (o.accumulates && this.precision === 'f32') {
        const acc = this.array(o.buffer, '@acc', true, numel(shape), outs, o.mode === 'max' ? -Infinity : 0);
        const data = this.array(o.buffer, '', false, acc.length, outs);
        O.push(acc);
        values.set(o.buffer, { data, shape });
        finish.push(() => data.set(acc));
      } else {
        const data = this.array(o.buffer, '', f64, numel(shape), outs, o.accumulates ? (o.mode === 'max' ? -Infinity : 0) : undefined);
        O.push(data);
        values.set(o.buffer, { data, shape });
      }
    });
    fn(X, O as Float64Array[], this.scalars(k, shapes.views, dims, values, params), shapes.layout as unknown as Layout);
    for (const f of finish) f();
  }
}

interface RowShapes {
  readonly views: readonly { strides: number[]; gatherStrides: number[] }[];
  readonly outShapes: readonly number[][];
  readonly layout: object;
}

interface PlainShapes {
  readonly views: readonly { strides: number[]; gatherStrides: number[] }[];
  readonly outShapes: readonly number[][];
  /** per output: accumulated into a tensor smaller than the domain (through float64 scratch) */
  readonly scatter: readonly boolean[];
  readonly layout: Layout;
}

/** A plain kernel's shapes and strides (compiler/abi): flat when every operand has the domain's layout, else coalesced strides. */
function plainShapes(k: KernelLayout, dims: (s: ShapeExpr) => number[]): PlainShapes {
  const domain = dims(k.domain);
  const n = numel(domain);
  if (n > MAX_ELEMENTS)
    throw new RangeError(`${k.name}: a loop over shape [${domain.join(', ')}] (${n} elements) is more than lossc supports (${MAX_ELEMENTS})`);
  const views = k.sites.map((s) => siteView(s, domain, dims));
  const outShapes = k.outputs.map((o) => dims(o.shape));
  const scatter = k.outputs.map((o, j) => outputWrite(o, outShapes[j]!, domain) === 'scatter');
  // outputs written in the loop are addressed like its operands: scatters through their reduction's strides
  const outStrides = k.outputs.flatMap((o, j) =>
    scatter[j] ? [targetStrides(domain, outShapes[j]!, o)] : o.phase === 'loop' && !o.register ? [contiguousStrides(domain)] : [],
  );
  const l = loopLayout(domain, [...views.map((v) => v.strides), ...outStrides]);
  return { views, outShapes, scatter, layout: { flat: l.flat, n, dims: l.dims, st: l.strides } };
}

const aranges = new Map<number, Int32Array>();
/** 0, 1, ..., n - 1: the data of an iota site. */
export function arange(n: number): Int32Array {
  let a = aranges.get(n);
  if (!a) {
    a = Int32Array.from({ length: n }, (_, i) => i);
    if (n <= 1 << 16) aranges.set(n, a);
  }
  return a;
}
