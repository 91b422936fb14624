// The CPU executor: runs compiled JS kernels from plain data (no compiler needed, so standalone
// modules bundle it). For one call it resolves every shape, lays out each kernel's strides (flat
// when every operand has the domain's shape), allocates results, and calls the kernels in order.
import type { Precision } from '../compiler/plan/kernelPlan.js';
import type { KernelLayout } from '../compiler/emit/js.js';
import { resolveShape, normalizeAxis, type ShapeExpr } from '../compiler/ir/shape.js';
import { IOTA, broadcastView, coalesce, contiguousStrides, numel, reductionStrides, sameDims, unsqueezeView } from './strides.js';
import type { Site } from '../compiler/emit/expr.js';

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

  constructor(data: CpuProgramData) {
    this.layouts = data.layouts;
    this.precision = data.precision;
    this.results = data.results;
    // a standalone module's kernels are functions in its file; the library compiles each kernel's
    // source here, which a browser page with a Content-Security-Policy allows only with 'unsafe-eval'
    this.fns = this.layouts.map((k) => (k as { readonly fn?: KernelFn }).fn ?? (new Function(`"use strict";\nreturn ${k.source}`)() as KernelFn));
  }

  run(args: RunArgs): RunResult[] {
    const Arr = this.precision === 'f32' ? Float32Array : Float64Array;
    const inputShapes = new Map([...args.buffers].map(([k, v]) => [k, v.shape] as const));
    const memo = new Map<ShapeExpr, number[]>();
    const dims = (s: ShapeExpr): number[] => resolveShape(s, inputShapes, memo);
    const values = new Map<string, { data: ArrayLike<number>; shape: readonly number[] }>(args.buffers);

    this.layouts.forEach((k, ki) => {
      if (k.rowAxis !== undefined) {
        this.runRows(k, this.fns[ki]!, dims, values, args.params);
        return;
      }
      if (k.scan) {
        this.runScan(k, this.fns[ki]!, values, args.params);
        return;
      }
      const domain = dims(k.domain);
      const n = numel(domain);
      const views = k.sites.map((s) => siteView(s, domain, dims));
      const siteStrides = views.map((v) => v.strides);
      const X = k.sites.map((s) => (s.buffer === IOTA ? arange(numel(dims(s.shape))) : values.get(s.buffer)!.data));
      const O: (Float32Array | Float64Array)[] = [];
      const outStrides: number[][] = [];
      const finish: (() => void)[] = [];
      let scatters = false; // some accumulation lands in a tensor smaller than the domain
      for (const o of k.outputs) {
        const shape = dims(o.shape);
        if (o.register || o.mode === 'store' || sameDims(shape, domain)) {
          // stores, scalar results, and accumulations that visit each element once
          const data = new Arr(numel(shape));
          if (o.mode === 'max' && !o.register) data.fill(-Infinity);
          O.push(data);
          values.set(o.buffer, { data, shape });
          if (o.phase === 'loop' && !o.register) outStrides.push(contiguousStrides(domain));
        } else {
          // scatter-accumulate in float64, then round once into the result's precision
          scatters = true;
          const acc = new Float64Array(numel(shape)).fill(o.mode === 'max' ? -Infinity : 0);
          O.push(acc);
          outStrides.push(reductionStrides(domain, shape, o.reduction!));
          if (this.precision === 'f32') {
            const data = new Float32Array(acc.length);
            values.set(o.buffer, { data, shape });
            finish.push(() => data.set(acc));
          } else values.set(o.buffer, { data: acc, shape });
        }
      }
      const S = this.scalars(k, views, dims, values, args.params);
      const contiguous = contiguousStrides(domain);
      const flat = !scatters && siteStrides.every((s) => sameDims(s, contiguous));
      let layout: Layout;
      if (flat) layout = { flat, n, dims: domain, st: [] };
      else {
        const c = coalesce(domain, [...siteStrides, ...outStrides]);
        if (c.dims.length === 0) layout = { flat, n, dims: [n === 0 ? 0 : 1], st: c.strides.map(() => [0]) };
        else layout = { flat, n, dims: c.dims, st: c.strides };
      }
      this.fns[ki]!(X, O as Float64Array[], S, layout);
      finish.forEach((f) => f());
    });
    return this.results.map((name) => {
      const v = values.get(name)!;
      return { data: v.data as Float32Array | Float64Array, shape: [...v.shape] };
    });
  }

  /** The scalars a kernel hoists: options, sizes, earlier scalar results, gather strides. */
  private scalars(k: KernelLayout, views: readonly { gatherStrides: number[] }[], dims: (s: ShapeExpr) => number[], values: ReadonlyMap<string, { data: ArrayLike<number> }>, params: ReadonlyMap<string, number>): Float64Array {
    const S = new Float64Array(k.scalars.length);
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
  private runScan(k: KernelLayout, fn: KernelFn, values: Map<string, { data: ArrayLike<number>; shape: readonly number[] }>, params: ReadonlyMap<string, number>): void {
    const scan = k.scan!;
    const bound = new Map<string, { data: ArrayLike<number>; shape: readonly number[] }>();
    const placeholders = new Map<string, readonly number[]>([['@step', []]]);
    for (const [name, buffer] of Object.entries(scan.bind)) {
      const v = values.get(buffer)!;
      bound.set(name, v);
      placeholders.set(name, name.startsWith('@x') ? v.shape.slice(1) : v.shape);
    }
    const memo = new Map<ShapeExpr, number[]>();
    const dims = (s: ShapeExpr): number[] => resolveShape(s, placeholders, memo);
    const init = bound.get('@carry')!;
    const carry = [...init.shape];
    const T = values.get(scan.steps)!.shape[0]!;
    const n = numel(carry);
    const views = k.sites.map((s) => siteView(s, carry, dims));
    const X = k.sites.map((s) => (s.buffer === IOTA ? arange(numel(dims(s.shape))) : (bound.get(s.buffer) ?? values.get(s.buffer)!).data));
    const out = new (this.precision === 'f32' ? Float32Array : Float64Array)(T * n);
    values.set(k.outputs[0]!.buffer, { data: out, shape: [T, ...carry] });
    const lookup = new Map([...values, ...bound]);
    const step = k.sites.map((s) => (s.buffer.startsWith('@x') ? numel(placeholders.get(s.buffer)!) : 0));
    const layout = { T, n, dims: carry, st: views.map((v) => v.strides), step, init: init.data };
    fn(X, [out] as Float64Array[], this.scalars(k, views, dims, lookup, params), layout as unknown as Layout);
  }

  /** A row kernel: strides split into the outer ones (which row) and the one along the row. */
  private runRows(k: KernelLayout, fn: KernelFn, dims: (s: ShapeExpr) => number[], values: Map<string, { data: ArrayLike<number>; shape: readonly number[] }>, params: ReadonlyMap<string, number>): void {
    const Arr = this.precision === 'f32' ? Float32Array : Float64Array;
    const domain = dims(k.domain);
    const axis = normalizeAxis(k.rowAxis!, domain.length, 'row');
    const C = domain[axis]!;
    const outer = domain.filter((_, i) => i !== axis);
    const views = k.sites.map((s) => siteView(s, s.frame ? dims(s.frame) : domain, dims));
    const X = k.sites.map((s) => (s.buffer === IOTA ? arange(numel(dims(s.shape))) : values.get(s.buffer)!.data));
    // a read in a row's own shape is lifted into the domain: stride 0 along the row
    const lift = (frame: readonly number[], s: number[]): number[] => (frame.length === domain.length ? broadcastView(frame, s, domain) : unsqueezeView(s, [axis]));
    const strides: number[][] = views.map((v, i) => (k.sites[i]!.frame ? lift(dims(k.sites[i]!.frame!), v.strides) : v.strides));
    const O: (Float32Array | Float64Array)[] = [];
    const finish: (() => void)[] = [];
    for (const o of k.outputs) {
      const shape = dims(o.shape);
      if (o.accumulates && this.precision === 'f32') {
        const acc = new Float64Array(numel(shape)).fill(o.mode === 'max' ? -Infinity : 0);
        const data = new Float32Array(acc.length);
        O.push(acc);
        values.set(o.buffer, { data, shape });
        finish.push(() => data.set(acc));
      } else {
        const data = new Arr(numel(shape));
        if (o.accumulates && o.mode === 'max') data.fill(-Infinity);
        O.push(data);
        values.set(o.buffer, { data, shape });
      }
      if (o.addressed) {
        const from = dims(o.from!);
        const over = o.mode === 'store' ? contiguousStrides(from) : reductionStrides(from, shape, o.reduction!);
        strides.push(lift(from, over));
      }
    }
    const layout = {
      rows: C === 0 ? 0 : numel(domain) / C,
      C,
      outer,
      ost: strides.map((s) => s.filter((_, i) => i !== axis)),
      ast: strides.map((s) => s[axis]!),
    };
    fn(X, O as Float64Array[], this.scalars(k, views, dims, values, params), layout as unknown as Layout);
    finish.forEach((f) => f());
  }
}

/**
 * Strides over the domain through which a site reads its buffer, and for each gather on its
 * path the buffer's stride along the gathered axis (the loop adds index * that stride).
 */
export function siteView(site: Site, domain: readonly number[], dims: (s: ShapeExpr) => number[]): { strides: number[]; gatherStrides: number[] } {
  let cur = dims(site.shape);
  let s = contiguousStrides(cur);
  const gatherStrides: number[] = [];
  for (let i = site.path.length - 1; i >= 0; i--) {
    const step = site.path[i]!;
    const from = dims(step.from);
    s = broadcastView(cur, s, from);
    if (step.kind === 'unsqueeze') s = unsqueezeView(s, step.axes);
    else if (step.kind === 'shift') gatherStrides.unshift(s[normalizeAxis(step.axis, from.length, 'shift')]!);
    else {
      const axis = normalizeAxis(step.axis, from.length, 'gather');
      gatherStrides.unshift(from[axis] === 1 ? 0 : s[axis]!);
      // the other axes broadcast against the index's shape (a [C] table read at [N] indices)
      s = broadcastView(from.filter((_, k) => k !== axis), s.filter((_, k) => k !== axis), dims(step.to));
    }
    cur = dims(step.to);
  }
  return { strides: broadcastView(cur, s, domain), gatherStrides };
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
