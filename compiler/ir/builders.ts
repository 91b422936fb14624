// The builder API: how losses are written in TypeScript, and what the DSL lowers to.
// Primitives map one-to-one onto the table; composites (sigmoid, softplus, logsumexp, clamp,
// mean, ...) are ordinary functions over primitives, so the gradient pass never sees them.
import { Node, type Graph, type Kind, type Operand } from './node.js';
import { ALL_AXES, isAllAxes, type ShapeExpr } from './shape.js';
import type { OpName, Attrs } from '../primitives/table.js';

function graphOf(ops: readonly Operand[]): Graph {
  for (const o of ops) if (o instanceof Node) return o.graph;
  throw new Error('a builder needs at least one tensor operand (all operands were plain numbers)');
}
/** Numbers become constants: int ones beside int tensors (as torch keeps int + 1 an int), else float. */
function lift(ops: readonly Operand[]): Node[] {
  const g = graphOf(ops);
  const nodes = ops.filter((o): o is Node => o instanceof Node);
  const intContext = nodes.length > 0 && nodes.every((n) => n.kind === 'int');
  return ops.map((o) => (typeof o === 'number' && intContext && Number.isInteger(o) ? g.constant(o, 'int') : g.scalarConst(o)));
}
const make = (op: OpName, ops: readonly Operand[], attrs?: Attrs): Node => {
  const nodes = lift(ops);
  return nodes[0]!.graph.make(op, nodes, attrs);
};

// ------------------------------------------------------------------ primitives
export const add = (a: Operand, b: Operand): Node => make('add', [a, b]);
export const sub = (a: Operand, b: Operand): Node => make('sub', [a, b]);
export const mul = (a: Operand, b: Operand): Node => make('mul', [a, b]);
export const div = (a: Operand, b: Operand): Node => make('div', [a, b]);
export const pow = (a: Operand, b: Operand): Node => make('pow', [a, b]);
export const maximum = (a: Operand, b: Operand): Node => make('maximum', [a, b]);
export const minimum = (a: Operand, b: Operand): Node => make('minimum', [a, b]);
export const xlogy = (a: Operand, b: Operand): Node => make('xlogy', [a, b]);
export const neg = (x: Operand): Node => make('neg', [x]);
export const abs = (x: Operand): Node => make('abs', [x]);
export const sign = (x: Operand): Node => make('sign', [x]);
export const exp = (x: Operand): Node => make('exp', [x]);
export const expm1 = (x: Operand): Node => make('expm1', [x]);
export const log = (x: Operand): Node => make('log', [x]);
export const log1p = (x: Operand): Node => make('log1p', [x]);
export const sqrt = (x: Operand): Node => make('sqrt', [x]);
export const tanh = (x: Operand): Node => make('tanh', [x]);
export const lt = (a: Operand, b: Operand): Node => make('lt', [a, b]);
export const le = (a: Operand, b: Operand): Node => make('le', [a, b]);
export const gt = (a: Operand, b: Operand): Node => make('gt', [a, b]);
export const ge = (a: Operand, b: Operand): Node => make('ge', [a, b]);
export const eq = (a: Operand, b: Operand): Node => make('eq', [a, b]);
export const ne = (a: Operand, b: Operand): Node => make('ne', [a, b]);
export const and = (a: Operand, b: Operand): Node => make('and', [a, b]);
export const or = (a: Operand, b: Operand): Node => make('or', [a, b]);
export const not = (a: Operand): Node => make('not', [a]);
export const where = (cond: Operand, a: Operand, b: Operand): Node => make('where', [cond, a, b]);
export const cast = (x: Operand, kind: Kind): Node => {
  const [n] = lift([x]);
  return n!.kind === kind ? n! : n!.graph.make('cast', [n!], { kind });
};
export const stopGradient = (x: Operand): Node => make('stopGradient', [x]);

/**
 * `value`, whose gradient with respect to each `x` is the matching `d` (times the upstream
 * gradient). This is how a loss states the derivative torch's hand-written backward kernel uses
 * where it differs from the symbolic one (clamped logs, kinks).
 */
export const withGrad = (value: Node, ...partials: [Node, Operand][]): Node => make('withGrad', [value, ...partials.flat()]);

/** Sum over `axes` (all by default). */
export const sum = (x: Operand, axes: readonly number[] = ALL_AXES, keepDims = false): Node => make('sum', [x], { axes: normAxes(axes), keepDims });
export const amax = (x: Operand, axes: readonly number[] = ALL_AXES, keepDims = false): Node => make('max', [x], { axes: normAxes(axes), keepDims });
export const sumTo = (x: Operand, shape: ShapeExpr): Node => {
  const [n] = lift([x]);
  return n!.shape === shape ? n! : n!.graph.make('sumTo', [n!], { shape });
};
export const broadcastTo = (x: Operand, shape: ShapeExpr): Node => {
  const [n] = lift([x]);
  return n!.shape === shape ? n! : n!.graph.make('broadcastTo', [n!], { shape });
};
export const unsqueeze = (x: Operand, axes: readonly number[]): Node =>
  axes.length ? make('unsqueeze', [x], { axes: [...axes].sort((p, q) => p - q) }) : lift([x])[0]!;
/** The index along `axis` of each element of x's shape (an int tensor that broadcasts against x). */
export const iota = (x: Node, axis: number): Node => x.graph.make('iota', [], { shape: x.shape, axis });
/** iota over a shape no node has yet. */
export const iotaOf = (g: Graph, shape: ShapeExpr, axis: number): Node => g.make('iota', [], { shape, axis });
/**
 * x's element at position `index` along `axis`, for each position of `index` (whose shape is x's
 * without that axis): torch's x.gather(axis, index.unsqueeze(axis)).squeeze(axis).
 */
export const gather = (x: Node, index: Node, axis: number): Node => x.graph.make('gather', [x, index], { axis });
/** 1 where the index along `axis` equals `index` (x's shape without that axis), else 0. */
export const oneHot = (x: Node, index: Node, axis: number): Node => where(eq(iota(x, axis), unsqueeze(index, [axis])), 1, 0);
/** y[..., i, ...] = x[..., i - by, ...] along `axis`, and `fill` where i - by falls outside. */
export const shift = (x: Operand, axis: number, by: number, fill: Operand): Node => make('shift', [x, fill], { axis, by });
export const mod = (a: Operand, b: Operand): Node => make('mod', [a, b]);
export const floorDiv = (a: Operand, b: Operand): Node => make('floorDiv', [a, b]);
/** A scalar constant in `g`. */
export const constant = (g: Graph, value: number, kind: Kind = 'float'): Node => g.constant(value, kind);
/** An int scalar constant in `g`, for indexing. */
export const castIndex = (g: Graph, value: number): Node => g.constant(value, 'int');
/** The element count of `x` (a run-time scalar). */
export const numel = (x: Node): Node => x.graph.make('numel', [], { shape: x.shape });
/** The size of axis `axis` of `x` (negative: from the end). */
export const dim = (x: Node, axis: number): Node => x.graph.make('dim', [], { shape: x.shape, axis });

const normAxes = (axes: readonly number[]): readonly number[] => (isAllAxes(axes) ? ALL_AXES : [...axes].sort((p, q) => p - q));

/** Undo a reduction's change of shape: the adjoint step of sum/max along `axes`. */
export function expandTo(g: Node, axes: readonly number[], keepDims: boolean, shape: ShapeExpr): Node {
  const kept = keepDims || isAllAxes(axes) ? g : unsqueeze(g, axes);
  return broadcastTo(kept, shape);
}

// ------------------------------------------------------------------ composites
export const square = (x: Operand): Node => mul(x, x);
export const mean = (x: Node, axes: readonly number[] = ALL_AXES, keepDims = false): Node =>
  isAllAxes(axes)
    ? div(sum(x), numel(x))
    : div(
        sum(x, axes, keepDims),
        axes.map((a) => dim(x, a)).reduce((p, q) => mul(p, q)),
      );
/**
 * max(x, lo), propagating NaN, with torch's clamp_min derivative: the gradient passes to x where
 * x >= lo (so at x == lo, and never at a NaN x), and to a tensor lo where x < lo.
 */
export const clampMin = (x: Operand, lo: Operand): Node => {
  const [xn, bound] = lift([x, lo]);
  return clampWithGrad(where(lt(xn!, bound!), bound!, xn!), xn!, bound!, ge(xn!, bound!), lt(xn!, bound!));
};
/** min(x, hi), propagating NaN, with torch's clamp_max derivative: to x where x <= hi, to a tensor hi where x > hi. */
export const clampMax = (x: Operand, hi: Operand): Node => {
  const [xn, bound] = lift([x, hi]);
  return clampWithGrad(where(gt(xn!, bound!), bound!, xn!), xn!, bound!, le(xn!, bound!), gt(xn!, bound!));
};
const clampWithGrad = (value: Node, x: Node, bound: Node, toX: Node, toBound: Node): Node =>
  bound.op === 'const' ? withGrad(value, [x, where(toX, 1, 0)]) : withGrad(value, [x, where(toX, 1, 0)], [bound, where(toBound, 1, 0)]);
export const clamp = (x: Operand, lo: Operand, hi: Operand): Node => clampMax(clampMin(x, lo), hi);
/** max(x, 0), with torch's derivative (threshold_backward: 0 where x <= 0, so 0 at the kink and 1 at a NaN x). */
export const relu = (x: Operand): Node => {
  const [xn] = lift([x]);
  return withGrad(clampMin(xn!, 0), [xn!, where(le(xn!, 0), 0, 1)]);
};
/**
 * 1 / (1 + e^-x), through e = e^-|x| so that it never overflows and shares its exp with
 * softplus(±x) (the pair every logistic loss computes). Its derivative is stated, torch's
 * s (1 - s): the branches' own derivative would take abs's 0 at x = 0, where sigmoid is smooth.
 */
export const sigmoid = (x: Operand): Node => {
  const [xn] = lift([x]);
  const e = exp(neg(abs(xn!)));
  const s = where(ge(xn!, 0), div(1, add(1, e)), div(e, add(1, e)));
  return withGrad(s, [xn!, mul(sub(1, s), s)]);
};
/**
 * log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|), with its derivative sigmoid(x)
 * stated (the pieces' kinks at x = 0 would give 1 there instead of 0.5).
 */
export const softplus = (x: Operand): Node => {
  const [xn] = lift([x]);
  return withGrad(add(clampMin(xn!, 0), log1p(exp(neg(abs(xn!))))), [xn!, sigmoid(xn!)]);
};
/**
 * log(sigmoid(x)) = min(x, 0) - log1p(e^-|x|), with torch's derivative (1 - sigmoid(x) for x < 0,
 * e^-|x| / (1 + e^-|x|) otherwise, so 0.5 at x = 0 where the min's kink would say otherwise).
 */
export const logSigmoid = (x: Operand): Node => {
  const [xn] = lift([x]);
  const e = exp(neg(abs(xn!)));
  const q = div(e, add(1, e));
  return withGrad(sub(minimum(xn!, 0), log1p(e)), [xn!, where(lt(xn!, 0), sub(1, q), q)]);
};
/** log Σ e^x over axes, with the maximum subtracted (and no gradient through it). */
export function logsumexp(x: Node, axes: readonly number[] = ALL_AXES, keepDims = false): Node {
  const m = stopGradient(amax(x, axes, keepDims));
  const shifted = sub(x, expandTo(m, axes, keepDims, x.shape));
  return add(log(sum(exp(shifted), axes, keepDims)), m);
}
/**
 * log(e^a + e^b + ...) elementwise, stable, and -inf (with zero gradient, not NaN) when every
 * term is -inf: the log-space semiring's sum, as torch's CTC kernels compute it.
 */
export function logSumExpOf(...xs: Node[]): Node {
  const m = xs.slice(1).reduce((acc, x) => maximum(acc, x), xs[0]!);
  const shift = where(eq(m, -Infinity), 0, m);
  const value = add(log(xs.map((x) => exp(sub(x, shift))).reduce((acc, e) => add(acc, e))), shift);
  return withGrad(value, ...xs.map((x): [Node, Node] => [x, where(eq(value, -Infinity), 0, exp(sub(x, value)))]));
}
export const logSoftmax = (x: Node, axis: number): Node => sub(x, logsumexp(x, [axis], true));
export const softmax = (x: Node, axis: number): Node => exp(logSoftmax(x, axis));

/** Apply a reduction named the torch way ('none' | 'mean' | 'sum'). */
export function reduce(x: Node, reduction: string): Node {
  switch (reduction) {
    case 'none':
      return x;
    case 'mean':
      return mean(x);
    case 'sum':
      return sum(x);
    default:
      throw new Error(`${reduction} is not a valid value for reduction`);
  }
}
