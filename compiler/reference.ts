// The float64 reference interpreter: evaluates any graph directly, one primitive at a time,
// with no fusion and no code generation. It is the in-house oracle the kernels are tested
// against, and the simplifier's constant folder.
import { toposort, type Node } from './ir/node.js';
import { primitive } from './primitives/table.js';
import { resolveShape, isAllAxes, normalizeAxis, type ShapeExpr } from './ir/shape.js';
import { broadcastView, contiguousStrides, numel, reductionStrides, unsqueezeView, type ReductionDesc } from './abi/strides.js';

export interface Value64 {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export interface Bindings {
  readonly inputs: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: ArrayLike<number> }>;
  readonly params?: ReadonlyMap<string, number>;
}

export function evaluate(outputs: readonly Node[], bind: Bindings): Value64[] {
  const shapes = new Map([...bind.inputs].map(([k, v]) => [k, v.shape] as const));
  const memo = new Map<ShapeExpr, number[]>();
  const dimsOf = (s: ShapeExpr): number[] => resolveShape(s, shapes, memo);
  const values = new Map<Node, Value64>();
  const scalar = (v: number): Value64 => ({ shape: [], data: Float64Array.of(v) });

  for (const n of toposort(outputs)) {
    const def = primitive(n.op);
    const args = n.inputs.map((i) => values.get(i)!);
    let v: Value64;
    switch (def.category) {
      case 'leaf':
        v = evalLeaf(n, bind, dimsOf, scalar);
        break;
      case 'elementwise': {
        const shape = dimsOf(n.shape);
        const f = def.eval!;
        v = { shape, data: mapStrided(shape, args, (xs) => f(...xs)) };
        break;
      }
      case 'view': {
        const shape = dimsOf(n.shape);
        const x = args[0]!;
        const strides =
          n.op === 'unsqueeze' ? unsqueezeView(contiguousStrides(x.shape), n.attrs.axes!) : broadcastView(x.shape, contiguousStrides(x.shape), shape);
        v = { shape, data: gather(shape, x.data, strides) };
        break;
      }
      case 'gather': {
        const [x, index] = args as [Value64, Value64];
        const shape = dimsOf(n.shape);
        v = { shape, data: gatherAlong(x, index, normalizeAxis(n.attrs.axis!, x.shape.length, 'gather'), shape) };
        break;
      }
      case 'shift': {
        const [x, fill] = args as [Value64, Value64];
        const axis = normalizeAxis(n.attrs.axis!, x.shape.length, 'shift');
        v = { shape: [...x.shape], data: shiftAlong(x, fill, axis, n.attrs.by!) };
        break;
      }
      case 'scan':
        v = runScan(n, args, bind.params);
        break;
      case 'reduce': {
        const x = args[0]!;
        const shape = dimsOf(n.shape);
        const outStrides = accumulationStrides(x.shape, shape, n);
        v = { shape, data: reduceInto(x, shape, outStrides, n.op === 'max' ? 'max' : 'sum') };
        break;
      }
    }
    values.set(n, v);
  }
  return outputs.map((o) => values.get(o)!);
}

function evalLeaf(n: Node, bind: Bindings, dimsOf: (s: ShapeExpr) => number[], scalar: (v: number) => Value64): Value64 {
  switch (n.op) {
    case 'input': {
      const t = bind.inputs.get(n.attrs.name!);
      if (!t) throw new Error(`no value bound for input '${n.attrs.name}'`);
      return { shape: [...t.shape], data: Float64Array.from(t.data) };
    }
    case 'param': {
      const p = bind.params?.get(n.attrs.name!);
      if (p === undefined) throw new Error(`no value bound for option '${n.attrs.name}'`);
      return scalar(p);
    }
    case 'const':
      return scalar(n.attrs.value!);
    case 'numel':
      return scalar(numel(dimsOf(n.attrs.shape!)));
    case 'dim': {
      const d = dimsOf(n.attrs.shape!);
      return scalar(d[normalizeAxis(n.attrs.axis!, d.length, 'size')]!);
    }
    case 'iota': {
      const shape = dimsOf(n.shape);
      return { shape, data: Float64Array.from({ length: numel(shape) }, (_, i) => i) };
    }
    default:
      throw new Error(`not a leaf: ${n.op}`);
  }
}

/** A reduction node as plain data (what kernels and standalone modules carry). */
/**
 * THE constant folder: the value of an elementwise primitive whose operands are all constants,
 * as a kernel of `precision` computes it (f32: float operands rounded to float32 first; the
 * caller rounds the result when it spells it), or null when `n` is not such a node. The
 * simplifier folds graphs with it in float64; the WGSL emitter folds literal-only operations in
 * float32 with it (WGSL would fold them at shader creation, where an overflow is an error).
 */
export function foldedValue(n: Node, precision: 'f32' | 'f64' = 'f64'): number | null {
  const def = primitive(n.op);
  if (def.category !== 'elementwise' || !def.eval || n.inputs.length === 0 || !n.inputs.every((i) => i.op === 'const')) return null;
  const args = n.inputs.map((i) => (precision === 'f32' && i.kind === 'float' ? Math.fround(i.attrs.value!) : i.attrs.value!));
  return def.eval(...args);
}

export function reductionOf(n: Node): ReductionDesc {
  if (n.op === 'sumTo') return { op: 'sumTo' };
  return { op: n.op === 'max' ? 'max' : 'sum', axes: isAllAxes(n.attrs.axes!) ? 'all' : n.attrs.axes!, keepDims: n.attrs.keepDims ?? false };
}

/** Strides, over the operand's shape, of the output a reduction node accumulates into. */
export function accumulationStrides(inShape: readonly number[], outShape: readonly number[], n: Node): number[] {
  return reductionStrides(inShape, outShape, reductionOf(n));
}

/** Walk `shape` in row-major order, calling `visit(linearIndex, offsets)` with each view's offset. */
export function forEachIndex(shape: readonly number[], views: readonly (readonly number[])[], visit: (i: number, offsets: number[]) => void): void {
  const n = numel(shape);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  const off = views.map(() => 0);
  for (let i = 0; i < n; i++) {
    visit(i, off);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      for (let k = 0; k < views.length; k++) off[k]! += views[k]![d]!;
      if (idx[d]! < shape[d]!) break;
      for (let k = 0; k < views.length; k++) off[k]! -= views[k]![d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

function mapStrided(shape: readonly number[], args: readonly Value64[], f: (xs: number[]) => number): Float64Array {
  const out = new Float64Array(numel(shape));
  const views = args.map((a) => broadcastView(a.shape, contiguousStrides(a.shape), shape));
  const xs = new Array<number>(args.length);
  forEachIndex(shape, views, (i, off) => {
    for (let k = 0; k < args.length; k++) xs[k] = args[k]!.data[off[k]!]!;
    out[i] = f(xs);
  });
  return out;
}

/** y[.., i, ..] = x[.., i - by, ..] along `axis`, fill (broadcast) where that is outside. */
function shiftAlong(x: Value64, fill: Value64, axis: number, by: number): Float64Array {
  const xs = contiguousStrides(x.shape);
  const fillStrides = broadcastView(fill.shape, contiguousStrides(fill.shape), x.shape);
  const out = new Float64Array(numel(x.shape));
  const n = x.shape[axis]!;
  const inner = x.shape.slice(axis + 1).reduce((a, c) => a * c, 1);
  forEachIndex(x.shape, [fillStrides], (i, off) => {
    const coord = Math.floor(i / inner) % n;
    const from = coord - by;
    out[i] = from >= 0 && from < n ? x.data[i - by * (xs[axis] || inner)]! : fill.data[off[0]!]!;
  });
  return out;
}

/** A scan, one step at a time: the body graph evaluated on each step's slices. */
function runScan(n: Node, args: readonly Value64[], params?: ReadonlyMap<string, number>): Value64 {
  const body = n.attrs.body!;
  const [init, ...rest] = args as [Value64, ...Value64[]];
  const xs = rest.slice(0, body.xs.length);
  const consts = rest.slice(body.xs.length);
  const steps = xs[0]!.shape[0]!;
  const size = numel(init.shape);
  const out = new Float64Array(steps * size);
  const slice = (x: Value64, t: number): Value64 => {
    const len = numel(x.shape) / x.shape[0]!;
    return { shape: x.shape.slice(1), data: x.data.subarray(t * len, (t + 1) * len) };
  };
  let state: Value64 = init;
  for (let k = 0; k < steps; k++) {
    const t = n.attrs.reverse ? steps - 1 - k : k;
    const inputs = new Map<string, { shape: readonly number[]; data: ArrayLike<number> }>([
      ['@carry', state],
      ['@step', { shape: [], data: [t] }],
    ]);
    xs.forEach((x, i) => inputs.set(`@x${i}`, slice(x, t)));
    consts.forEach((c, i) => inputs.set(`@c${i}`, c));
    const [next] = evaluate([body.next], { inputs, ...(params ? { params } : {}) });
    const full = broadcastTo(next!, init.shape);
    out.set(full, t * size);
    state = { shape: init.shape, data: full };
  }
  return { shape: [steps, ...init.shape], data: out };
}

function broadcastTo(v: Value64, shape: readonly number[]): Float64Array {
  return gather(shape, v.data, broadcastView(v.shape, contiguousStrides(v.shape), shape));
}

/** out[p] = x[p with index[p] inserted at `axis`] (index and x's other axes broadcast to out); out of range gives NaN (callers mask such positions). */
function gatherAlong(x: Value64, index: Value64, axis: number, shape: readonly number[]): Float64Array {
  const xs = contiguousStrides(x.shape);
  const rest = broadcastView(
    x.shape.filter((_, i) => i !== axis),
    xs.filter((_, i) => i !== axis),
    shape,
  );
  const at = broadcastView(index.shape, contiguousStrides(index.shape), shape);
  const out = new Float64Array(numel(shape));
  forEachIndex(shape, [rest, at], (i, off) => {
    const k = index.data[off[1]!]!;
    out[i] = k >= 0 && k < x.shape[axis]! ? x.data[off[0]! + k * (xs[axis] || 1)]! : NaN;
  });
  return out;
}

function gather(shape: readonly number[], data: Float64Array, strides: readonly number[]): Float64Array {
  const out = new Float64Array(numel(shape));
  forEachIndex(shape, [strides], (i, off) => (out[i] = data[off[0]!]!));
  return out;
}

function reduceInto(x: Value64, outShape: readonly number[], outStrides: readonly number[], mode: 'sum' | 'max'): Float64Array {
  const out = new Float64Array(numel(outShape)).fill(mode === 'sum' ? 0 : -Infinity);
  forEachIndex(x.shape, [outStrides], (i, off) => {
    const o = off[0]!;
    const v = x.data[i]!;
    if (mode === 'sum') out[o]! += v;
    else if (v > out[o]! || Number.isNaN(v)) out[o] = v;
  });
  return out;
}
