// How one kernel is called for given shapes, as data: the strides through which each site reads
// its buffer, whether the loop is flat or strided (and its coalesced axes), how each output is
// written, a row kernel's split into outer axes and the row, a scan's steps and bindings, a
// scatter's kept and reduced axes. Pure functions of the kernel's sites and slots and the
// call's shapes: the CPU executor, the WebGPU host (and any later backend) lay out their calls
// from these, and none decides them again. Plain data in, plain data out: no GPU, no compiler.
import { normalizeAxis, resolveShape, type ShapeExpr } from '../ir/shape.js';
import type { Site } from './sites.js';
import type { OutputSlot } from './slots.js';
import type { ScanBinding } from './slots.js';
import { broadcastView, coalesce, contiguousStrides, numel, reductionStrides, sameDims, unsqueezeView, type ReductionDesc } from './strides.js';

/** A call's shape resolver: every shape expression of the plan, in numbers, for these input shapes. */
export type Dims = (s: ShapeExpr) => number[];

export function callDims(shapes: ReadonlyMap<string, readonly number[]>, memo = new Map<ShapeExpr, number[]>()): Dims {
  return (s) => memo.get(s) ?? resolveShape(s, shapes, memo);
}

/** Strides over the domain through which a site reads its buffer, and per gather or shift on its path the buffer's stride along that axis. */
export interface SiteView {
  readonly strides: number[];
  readonly gatherStrides: number[];
}

/**
 * Strides over the domain through which a site reads its buffer, and for each gather on its
 * path the buffer's stride along the gathered axis (the loop adds index * that stride).
 */
export function siteView(site: Site, domain: readonly number[], dims: Dims): SiteView {
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
      s = broadcastView(
        from.filter((_, k) => k !== axis),
        s.filter((_, k) => k !== axis),
        dims(step.to),
      );
    }
    cur = dims(step.to);
  }
  return { strides: broadcastView(cur, s, domain), gatherStrides };
}

/**
 * How a loop output is written for this call:
 * - store: once per element of its target (a plain store, or a value per row);
 * - register: a full reduction kept in a local, written once;
 * - once: an accumulation whose target has the shape it is computed over, so each target
 *   element is visited once (stored in place, no scratch, no second pass);
 * - scatter: an accumulation into a smaller tensor (through float64 scratch, or a scatter pass).
 */
export type OutputWrite = 'store' | 'register' | 'once' | 'scatter';

export function outputWrite(o: Pick<OutputSlot, 'mode' | 'register' | 'accumulates'>, target: readonly number[], over: readonly number[]): OutputWrite {
  if (o.mode === 'store' || o.accumulates === false) return 'store';
  if (o.register) return 'register';
  return sameDims(target, over) ? 'once' : 'scatter';
}

/** A loop over a domain: flat (every operand walks it contiguously: one index) or strided, over the coalesced axes with one stride row per operand. */
export interface LoopLayout {
  readonly flat: boolean;
  readonly n: number;
  /** strided: the coalesced axes (at least one) and per operand its strides along them */
  readonly dims: number[];
  readonly strides: number[][];
}

export function loopLayout(domain: readonly number[], operands: readonly (readonly number[])[]): LoopLayout {
  const n = numel(domain);
  const contiguous = contiguousStrides(domain);
  if (operands.every((s) => sameDims(s, contiguous))) return { flat: true, n, dims: [...domain], strides: [] };
  const c = coalesce(domain, operands);
  if (c.dims.length === 0) return { flat: false, n, dims: [n === 0 ? 0 : 1], strides: c.strides.map(() => [0]) };
  return { flat: false, n, dims: c.dims, strides: c.strides };
}

/** The strides over `over` through which an accumulation writes its smaller target (0 along reduced axes). */
export const targetStrides = (over: readonly number[], target: readonly number[], o: Pick<OutputSlot, 'mode' | 'reduction' | 'buffer'>): number[] =>
  o.mode === 'store' ? contiguousStrides(over) : reductionStrides(over, target, reductionOfSlot(o));

const reductionOfSlot = (o: Pick<OutputSlot, 'reduction' | 'buffer'>): ReductionDesc => {
  if (!o.reduction) throw new Error(`internal: the accumulation into ${o.buffer} carries no reduction`);
  return o.reduction;
};

/**
 * A row kernel's call: the row axis and length, the number of rows, and per slot (the sites,
 * then the addressed outputs) its strides split into the outer axes (which row; coalesced) and
 * the one along the row. A read or write in a row's own shape is lifted into the domain: stride
 * 0 along the row.
 */
export interface RowCall {
  readonly views: SiteView[];
  readonly axis: number;
  readonly C: number;
  readonly rows: number;
  readonly outer: { readonly dims: number[]; readonly strides: number[][] };
  readonly along: number[];
}

export function rowCall(domain: readonly number[], rowAxis: number, sites: readonly Site[], addressed: readonly OutputSlot[], dims: Dims): RowCall {
  const axis = normalizeAxis(rowAxis, domain.length, 'row');
  const C = domain[axis]!;
  const lift = (frame: readonly number[], s: number[]): number[] =>
    frame.length === domain.length ? broadcastView(frame, s, domain) : unsqueezeView(s, [axis]);
  const views = sites.map((s) => siteView(s, s.frame ? dims(s.frame) : domain, dims));
  const strides = views.map((v, i) => (sites[i]!.frame ? lift(dims(sites[i]!.frame!), v.strides) : v.strides));
  for (const o of addressed) {
    const from = dims(o.from!);
    strides.push(lift(from, targetStrides(from, dims(o.shape), o)));
  }
  const outer = coalesce(
    domain.filter((_, i) => i !== axis),
    strides.map((s) => s.filter((_, i) => i !== axis)),
  );
  return { views, axis, C, rows: C === 0 ? 0 : numel(domain) / C, outer, along: strides.map((s) => s[axis]!) };
}

/**
 * A scan kernel's call: the body's placeholders take the shapes of the buffers bound to them (a
 * sequence's placeholder is one step's slice); the state's shape, the number of steps, each
 * site's strides over the (coalesced) state, and each sequence site's step length.
 */
export interface ScanCall {
  readonly dims: Dims;
  readonly carry: number[];
  readonly T: number;
  readonly n: number;
  readonly views: SiteView[];
  readonly loop: { readonly dims: number[]; readonly strides: number[][] };
  /** per site: elements per step of a sequence (0 for the state and constants) */
  readonly step: number[];
}

export function scanCall(name: string, scan: ScanBinding, sites: readonly Site[], shapeOf: (buffer: string) => readonly number[] | undefined): ScanCall {
  const placeholders = new Map<string, readonly number[]>([['@step', []]]);
  for (const [p, buffer] of Object.entries(scan.bind)) {
    const shape = shapeOf(buffer);
    if (!shape) throw new Error(`internal: ${name} reads '${buffer}' before it is computed`);
    placeholders.set(p, p.startsWith('@x') ? shape.slice(1) : shape);
  }
  const dims = callDims(placeholders);
  const carry = [...placeholders.get('@carry')!];
  const views = sites.map((s) => siteView(s, carry, dims));
  const c = coalesce(
    carry,
    views.map((v) => v.strides),
  );
  return {
    dims,
    carry,
    T: shapeOf(scan.steps)![0]!,
    n: numel(carry),
    views,
    loop: c,
    step: sites.map((s) => (s.buffer.startsWith('@x') ? numel(placeholders.get(s.buffer)!) : 0)),
  };
}

/**
 * An accumulation into a smaller tensor, done as its own pass: the kept axes (which target
 * element; row-major in the target) and the reduced ones (summed in a fixed order), each
 * coalesced, with per site its strides along both.
 */
export interface ScatterCall {
  /** target elements, and reduced elements per target element */
  readonly m: number;
  readonly R: number;
  readonly views: SiteView[];
  readonly kept: { readonly dims: number[]; readonly strides: number[][] };
  readonly red: { readonly dims: number[]; readonly strides: number[][] };
}

export function scatterCall(name: string, over: readonly number[], o: OutputSlot, sites: readonly Site[], dims: Dims): ScatterCall {
  const target = dims(o.shape);
  const views = sites.map((s) => siteView(s, over, dims));
  const os = targetStrides(over, target, o);
  const keptAxes = over.map((_, d) => d).filter((d) => over[d]! > 1 && os[d] !== 0);
  const redAxes = over.map((_, d) => d).filter((d) => over[d]! > 1 && os[d] === 0);
  const pick = (axes: number[], s: readonly number[]): number[] => axes.map((d) => s[d]!);
  const kept = coalesce(pick(keptAxes, over), [pick(keptAxes, os), ...views.map((v) => pick(keptAxes, v.strides))]);
  const red = coalesce(
    pick(redAxes, over),
    views.map((v) => pick(redAxes, v.strides)),
  );
  if (!sameDims(kept.strides[0]!, contiguousStrides(kept.dims)))
    throw new Error(`internal: ${name}: the kept axes of ${o.buffer} are not in its row-major order`);
  return { m: numel(target), R: numel(over) === 0 ? 0 : numel(red.dims), views, kept: { dims: kept.dims, strides: kept.strides.slice(1) }, red };
}
