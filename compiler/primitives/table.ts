// THE table of primitives. Every fact about a primitive lives in its entry: how its kind and
// shape follow from its operands, what it computes (float64, one element at a time), its
// vector-Jacobian product, and how JS and WGSL spell it. `satisfies Record<OpName, PrimDef>`
// means a primitive cannot be added without completing its entry.
//
// VJP rules return one cotangent per operand (null: no gradient flows there), each with the
// shape of the node itself; the grad pass sums them down to broadcast operands' shapes.
import type { Kind, Node } from '../ir/node.js';
import { broadcastShapes, broadcastsTo, reduceShape, unsqueezeShape, axisOnlyShape, scalarShape, stackShape, ALL_AXES, type ShapeExpr } from '../ir/shape.js';
import * as b from '../ir/builders.js';
import { scanVjp, type ScanBody } from './scan.js';

export type Category = 'leaf' | 'elementwise' | 'reduce' | 'view' | 'gather' | 'shift' | 'scan';

export interface Attrs {
  readonly name?: string;
  /** scan: the step function, a graph of its own */
  readonly body?: ScanBody;
  readonly reverse?: boolean;
  /** shift: how far along `axis` */
  readonly by?: number;
  readonly kind?: Kind;
  readonly value?: number;
  readonly shape?: ShapeExpr;
  readonly axes?: readonly number[];
  readonly keepDims?: boolean;
  readonly axis?: number;
}

/** One cotangent per operand (null: no gradient flows there), each shaped like the node. */
export type VjpRule = (g: Node, out: Node, ctx: VjpContext) => (Node | null)[];

/**
 * A primitive without a derivative, and why. A gradient that reaches one is an error naming it,
 * as torch's "derivative for aten::floor_divide is not implemented" (never a silent zero).
 * Ops whose result is not a float (comparisons, logic, indices) carry no gradient: theirs is never asked for.
 */
export interface NoDerivative {
  readonly none: string;
}
const noDerivative = (why: string): NoDerivative => ({ none: why });
export const hasDerivative = (d: VjpRule | NoDerivative): d is VjpRule => typeof d === 'function';

/** What a VJP rule may use beyond builders: the reverse-mode pass itself (a scan differentiates its body). */
export interface VjpContext {
  vjpGraph(output: Node, seed: Node, wrt: readonly Node[]): (Node | null)[];
}

interface Inferred {
  kind: Kind;
  shape: ShapeExpr;
}

export interface PrimDef {
  readonly category: Category;
  readonly doc: string;
  infer(inputs: readonly Node[], attrs: Attrs): Inferred;
  /** float64 semantics, one element: booleans are 0/1 */
  readonly eval?: (...x: number[]) => number;
  /** the derivative: a VJP rule, or why there is none (then differentiating through it is an error) */
  readonly vjp: VjpRule | NoDerivative;
  /** spellings of an elementwise op over already-spelled operands */
  readonly js?: (...x: string[]) => string;
  readonly wgsl?: (...x: string[]) => string;
  /** the result is always exactly representable in the operands' precision (no f32 rounding needed) */
  readonly exact?: boolean;
  readonly commutative?: boolean;
}

// ------------------------------------------------------------------ inference helpers

const joinKind = (ns: readonly Node[]): Kind => (ns.some((n) => n.kind === 'float') ? 'float' : ns.some((n) => n.kind === 'int') ? 'int' : 'bool');
const ew =
  (kind: (ns: readonly Node[]) => Kind) =>
  (ns: readonly Node[]): Inferred => ({ kind: kind(ns), shape: broadcastShapes(...ns.map((n) => n.shape)) });
const floatEw = ew(() => 'float');
const sameEw = ew(joinKind);
const boolEw = ew(() => 'bool');
function requireFloat(op: string, ns: readonly Node[]): void {
  for (const n of ns) if (n.kind !== 'float') throw new TypeError(`${op} expects a float operand, got ${n.kind} (%${n.id})`);
}
const floatOnly =
  (op: string) =>
  (ns: readonly Node[]): Inferred => {
    requireFloat(op, ns);
    return floatEw(ns);
  };

const un = (
  doc: string,
  evalFn: (x: number) => number,
  js: (x: string) => string,
  wgsl: (x: string) => string,
  vjp: VjpRule,
  extra: Partial<PrimDef> = {},
): PrimDef => ({ category: 'elementwise', doc, infer: floatOnly(doc), eval: evalFn, js, wgsl, vjp, ...extra }) satisfies PrimDef;

const cmp = (doc: string, evalFn: (a: number, b: number) => boolean, sym: string): PrimDef => ({
  category: 'elementwise',
  doc,
  infer: boolEw,
  eval: (a, b2) => (evalFn(a, b2) ? 1 : 0),
  js: (a, c) => `(${a} ${sym} ${c})`,
  wgsl: (a, c) => wgslCompare(a, sym, c),
  exact: true,
  vjp: noDerivative('a comparison: its result is a bool'),
});

/**
 * WGSL comparisons as IEEE has them, whatever the driver assumes: x op x is settled by a NaN bit
 * test (compilers fold it), and != is also true where an operand is NaN (Mesa's lowering says
 * false). Operands may be f32, i32 or bool: f32(...) converts all three for the NaN tests.
 */
function wgslCompare(a: string, sym: string, c: string): string {
  const nan = (x: string): string => `lc_isnan(f32(${x}))`;
  if (a === c) return sym === '<' || sym === '>' ? 'false' : sym === '!=' ? nan(a) : `(!${nan(a)})`;
  return sym === '!=' ? `((${a} != ${c}) || ${nan(a)} || ${nan(c)})` : `(${a} ${sym} ${c})`;
}

const leaf = (doc: string, infer: (a: Attrs) => Inferred): PrimDef => ({
  category: 'leaf',
  doc,
  infer: (_ns, a) => infer(a),
  exact: true,
  vjp: noDerivative('a leaf'),
});
const x0 = (out: Node): Node => out.inputs[0]!;
const x1 = (out: Node): Node => out.inputs[1]!;

// ------------------------------------------------------------------ the table

/** Every primitive's name. Adding one here without its table entry (or vice versa) does not compile. */
export type OpName =
  | 'input'
  | 'param'
  | 'const'
  | 'numel'
  | 'dim'
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'maximum'
  | 'minimum'
  | 'xlogy'
  | 'neg'
  | 'abs'
  | 'sign'
  | 'exp'
  | 'expm1'
  | 'log'
  | 'log1p'
  | 'sqrt'
  | 'tanh'
  | 'lt'
  | 'le'
  | 'gt'
  | 'ge'
  | 'eq'
  | 'ne'
  | 'and'
  | 'or'
  | 'not'
  | 'where'
  | 'cast'
  | 'stopGradient'
  | 'withGrad'
  | 'sum'
  | 'max'
  | 'sumTo'
  | 'broadcastTo'
  | 'unsqueeze'
  | 'iota'
  | 'gather'
  | 'shift'
  | 'mod'
  | 'floorDiv'
  | 'scan';

export const PRIMITIVES: Readonly<Record<OpName, PrimDef>> = {
  // leaves: values bound when a call is made
  input: leaf('a tensor argument', (a) => ({ kind: a.kind!, shape: a.shape! })),
  param: leaf('a scalar option, bound at run time', (a) => ({ kind: a.kind!, shape: scalarShape })),
  const: leaf('a scalar constant', (a) => ({ kind: a.kind!, shape: scalarShape })),
  numel: leaf('the element count of a shape', () => ({ kind: 'float', shape: scalarShape })),
  dim: leaf('the size of one axis of a shape', () => ({ kind: 'float', shape: scalarShape })),
  iota: leaf('the index along `axis` of each element of `shape` (0, 1, 2, ... along that axis)', (a) => ({
    kind: 'int',
    shape: axisOnlyShape(a.shape!, a.axis!),
  })),

  // arithmetic
  add: {
    category: 'elementwise',
    doc: 'a + b',
    infer: sameEw,
    commutative: true,
    eval: (a, c) => a + c,
    js: (a, c) => `(${a} + ${c})`,
    wgsl: (a, c) => `(${a} + ${c})`,
    vjp: (g) => [g, g],
  },
  sub: {
    category: 'elementwise',
    doc: 'a - b',
    infer: sameEw,
    eval: (a, c) => a - c,
    js: (a, c) => `(${a} - ${c})`,
    wgsl: (a, c) => `(${a} - ${c})`,
    vjp: (g) => [g, b.neg(g)],
  },
  mul: {
    category: 'elementwise',
    doc: 'a * b',
    infer: sameEw,
    commutative: true,
    eval: (a, c) => a * c,
    js: (a, c) => `(${a} * ${c})`,
    wgsl: (a, c) => `(${a} * ${c})`,
    vjp: (g, out) => [b.mul(g, x1(out)), b.mul(g, x0(out))],
  },
  div: {
    category: 'elementwise',
    doc: 'a / b',
    infer: floatOnly('div'),
    eval: (a, c) => a / c,
    js: (a, c) => `(${a} / ${c})`,
    wgsl: (a, c) => `(${a} / ${c})`,
    // torch: other.grad = -grad * self / (other * other)
    vjp: (g, out) => [b.div(g, x1(out)), b.div(b.mul(b.neg(g), x0(out)), b.mul(x1(out), x1(out)))],
  },
  pow: {
    category: 'elementwise',
    doc: 'a ** b',
    infer: floatOnly('pow'),
    eval: (a, c) => Math.pow(a, c),
    js: (a, c) => `Math.pow(${a}, ${c})`,
    wgsl: (a, c) => `lc_pow(${a}, ${c})`,
    vjp: (g, out) => [
      b.mul(g, b.mul(x1(out), b.pow(x0(out), b.sub(x1(out), 1)))),
      // torch: the exponent's gradient is 0 where the base is 0 and the exponent >= 0 (0^y is constant there)
      x1(out).op === 'const' ? null : b.where(b.and(b.eq(x0(out), 0), b.ge(x1(out), 0)), 0, b.mul(g, b.mul(out, b.log(x0(out))))),
    ],
  },
  maximum: {
    category: 'elementwise',
    doc: 'max(a, b), NaN-propagating',
    infer: sameEw,
    commutative: true,
    exact: true,
    eval: (a, c) => Math.max(a, c),
    js: (a, c) => `Math.max(${a}, ${c})`,
    wgsl: (a, c) => `lc_max(${a}, ${c})`,
    // torch: ties split the gradient evenly
    vjp: (g, out) => tieSplit(g, x0(out), x1(out), b.gt),
  },
  minimum: {
    category: 'elementwise',
    doc: 'min(a, b), NaN-propagating',
    infer: sameEw,
    commutative: true,
    exact: true,
    eval: (a, c) => Math.min(a, c),
    js: (a, c) => `Math.min(${a}, ${c})`,
    wgsl: (a, c) => `lc_min(${a}, ${c})`,
    vjp: (g, out) => tieSplit(g, x0(out), x1(out), b.lt),
  },
  xlogy: {
    category: 'elementwise',
    doc: 'x * log(y), 0 where x == 0 (torch.xlogy)',
    infer: floatOnly('xlogy'),
    eval: (x, y) => (Number.isNaN(y) ? NaN : x === 0 ? 0 : x * Math.log(y)),
    // operands are always names or literals, so repeating them is free
    js: (x, y) => `(${y} !== ${y} ? NaN : ${x} == 0 ? 0 : ${x} * Math.log(${y}))`,
    wgsl: (x, y) => `lc_xlogy(${x}, ${y})`,
    // torch: self.grad = grad * xlogy(self != 0, other); other.grad = grad * self / other
    vjp: (g, out) => [b.mul(g, b.xlogy(b.cast(b.ne(x0(out), 0), 'float'), x1(out))), b.div(b.mul(g, x0(out)), x1(out))],
  },

  mod: {
    category: 'elementwise',
    doc: "a mod b, with the sign of b (Python's %)",
    infer: sameEw,
    exact: true,
    eval: (a, c) => ((a % c) + c) % c,
    js: (a, c) => `(((${a} % ${c}) + ${c}) % ${c})`,
    wgsl: (a, c) => `(((${a} % ${c}) + ${c}) % ${c})`,
    // torch (remainder): self.grad = grad; other.grad = -grad * floor(self / other)
    vjp: (g, out) => [g, b.mul(b.neg(g), b.floorDiv(x0(out), x1(out)))],
  },
  floorDiv: {
    category: 'elementwise',
    doc: 'floor(a / b)',
    infer: sameEw,
    eval: (a, c) => Math.floor(a / c),
    js: (a, c) => `Math.floor(${a} / ${c})`,
    wgsl: (a, c) => `floor(${a} / ${c})`,
    vjp: noDerivative('floor division is piecewise constant, and torch does not differentiate floor_divide either'),
  },
  neg: un(
    '-x',
    (x) => -x,
    (x) => `(-${x})`,
    (x) => `(-${x})`,
    (g) => [b.neg(g)],
    { exact: true, infer: sameEw },
  ),
  abs: un(
    '|x|',
    Math.abs,
    (x) => `Math.abs(${x})`,
    (x) => `abs(${x})`,
    (g, out) => [b.mul(g, b.sign(x0(out)))],
    { exact: true, infer: sameEw },
  ),
  sign: un(
    'sign(x), 0 at 0',
    (x) => (x > 0 ? 1 : x < 0 ? -1 : x),
    (x) => `Math.sign(${x})`,
    (x) => `lc_sign(${x})`,
    () => [null],
    { exact: true },
  ),
  exp: un(
    'e^x',
    Math.exp,
    (x) => `Math.exp(${x})`,
    (x) => `lc_exp(${x})`,
    (g, out) => [b.mul(g, out)],
  ),
  expm1: un(
    'e^x - 1',
    Math.expm1,
    (x) => `Math.expm1(${x})`,
    (x) => `lc_expm1(${x})`,
    (g, out) => [b.mul(g, b.add(out, 1))],
  ),
  log: un(
    'ln x',
    Math.log,
    (x) => `Math.log(${x})`,
    (x) => `lc_log(${x})`,
    (g, out) => [b.div(g, x0(out))],
  ),
  log1p: un(
    'ln(1 + x)',
    Math.log1p,
    (x) => `Math.log1p(${x})`,
    (x) => `lc_log1p(${x})`,
    (g, out) => [b.div(g, b.add(x0(out), 1))],
  ),
  sqrt: un(
    '√x',
    Math.sqrt,
    (x) => `Math.sqrt(${x})`,
    (x) => `sqrt(${x})`,
    (g, out) => [b.div(g, b.mul(out, 2))],
  ),
  tanh: un(
    'tanh x',
    Math.tanh,
    (x) => `Math.tanh(${x})`,
    (x) => `lc_tanh(${x})`,
    (g, out) => [b.mul(g, b.sub(1, b.mul(out, out)))],
  ),

  // comparisons and logic: no gradient
  lt: cmp('a < b', (a, c) => a < c, '<'),
  le: cmp('a <= b', (a, c) => a <= c, '<='),
  gt: cmp('a > b', (a, c) => a > c, '>'),
  ge: cmp('a >= b', (a, c) => a >= c, '>='),
  eq: cmp('a == b', (a, c) => a === c, '=='),
  ne: cmp('a != b', (a, c) => a !== c, '!='),
  and: {
    category: 'elementwise',
    doc: 'a && b',
    infer: boolEw,
    exact: true,
    eval: (a, c) => (a && c ? 1 : 0),
    js: (a, c) => `(${a} && ${c})`,
    wgsl: (a, c) => `(${a} && ${c})`,
    vjp: noDerivative('logic: its result is a bool'),
  },
  or: {
    category: 'elementwise',
    doc: 'a || b',
    infer: boolEw,
    exact: true,
    eval: (a, c) => (a || c ? 1 : 0),
    js: (a, c) => `(${a} || ${c})`,
    wgsl: (a, c) => `(${a} || ${c})`,
    vjp: noDerivative('logic: its result is a bool'),
  },
  not: {
    category: 'elementwise',
    doc: '!a',
    infer: boolEw,
    exact: true,
    eval: (a) => (a ? 0 : 1),
    js: (a) => `(!${a})`,
    wgsl: (a) => `(!${a})`,
    vjp: noDerivative('logic: its result is a bool'),
  },

  where: {
    category: 'elementwise',
    doc: 'cond ? a : b',
    exact: true,
    infer: (ns) => {
      if (ns[0]!.kind !== 'bool') throw new TypeError(`where expects a bool condition, got ${ns[0]!.kind}`);
      return { kind: joinKind(ns.slice(1)), shape: broadcastShapes(...ns.map((n) => n.shape)) };
    },
    eval: (c, a, e) => (c ? a : e),
    js: (c, a, e) => `(${c} ? ${a} : ${e})`,
    wgsl: (c, a, e) => `select(${e}, ${a}, ${c})`,
    vjp: (g, out) => [null, b.where(x0(out), g, 0), b.where(x0(out), 0, g)],
  },
  cast: {
    category: 'elementwise',
    doc: 'convert to another kind',
    infer: (ns, a) => ({ kind: a.kind!, shape: ns[0]!.shape }),
    eval: (x) => x,
    js: (x) => `(+${x})`,
    wgsl: (x) => `f32(${x})`,
    vjp: (g, out) => [x0(out).kind === 'float' && out.kind === 'float' ? g : null],
  },

  // gradient control
  stopGradient: {
    category: 'elementwise',
    doc: 'x, through which no gradient flows',
    infer: sameEw,
    exact: true,
    eval: (x) => x,
    js: (x) => x,
    wgsl: (x) => x,
    vjp: () => [null],
  },
  withGrad: {
    category: 'elementwise',
    exact: true,
    doc: "withGrad(value, x1, d1, x2, d2, ...): value, whose gradient is d_i with respect to x_i (a custom VJP, as torch's hand-written backward kernels give)",
    infer: (ns) => ({ kind: ns[0]!.kind, shape: ns[0]!.shape }),
    eval: (v) => v,
    js: (v) => v,
    wgsl: (v) => v,
    vjp: (g, out) => out.inputs.map((_, i) => (i % 2 === 1 ? b.mul(g, out.inputs[i + 1]!) : null)),
  },

  // reductions: a smaller shape accumulated over the operand's shape
  sum: {
    category: 'reduce',
    doc: 'sum over axes',
    infer: (ns, a) => ({ kind: joinKind(ns) === 'bool' ? 'float' : joinKind(ns), shape: reduceShape(ns[0]!.shape, a.axes ?? ALL_AXES, a.keepDims ?? false) }),
    vjp: (g, out) => [b.expandTo(g, out.attrs.axes!, out.attrs.keepDims!, x0(out).shape)],
  },
  max: {
    category: 'reduce',
    doc: 'maximum over axes',
    infer: (ns, a) => ({ kind: ns[0]!.kind, shape: reduceShape(ns[0]!.shape, a.axes ?? ALL_AXES, a.keepDims ?? false) }),
    // ties share the gradient evenly, as torch's amax does
    vjp: (g, out) => {
      const x = x0(out);
      const at = b.cast(b.eq(x, b.expandTo(out, out.attrs.axes!, out.attrs.keepDims!, x.shape)), 'float');
      const count = b.expandTo(b.sum(at, out.attrs.axes!, out.attrs.keepDims!), out.attrs.axes!, out.attrs.keepDims!, x.shape);
      return [b.div(b.mul(b.expandTo(g, out.attrs.axes!, out.attrs.keepDims!, x.shape), at), count)];
    },
  },
  sumTo: {
    category: 'reduce',
    doc: 'sum down to a shape the operand broadcasts from (the adjoint of broadcasting)',
    infer: (ns, a) => ({ kind: ns[0]!.kind, shape: a.shape! }),
    vjp: (g, out) => [b.broadcastTo(g, x0(out).shape)],
  },

  // views: the same elements seen through another shape (no data moves)
  broadcastTo: {
    category: 'view',
    doc: 'numpy broadcasting to a shape',
    infer: (ns, a) => ({ kind: ns[0]!.kind, shape: a.shape! }),
    vjp: (g, out) => [b.sumTo(g, x0(out).shape)],
  },
  gather: {
    category: 'gather',
    doc: "x[..., index[...], ...]: one element along `axis` per position of `index`; index broadcasts against x's other axes",
    infer: (ns, a) => {
      if (ns[1]!.kind !== 'int') throw new TypeError(`gather expects an int index tensor, got ${ns[1]!.kind}`);
      return { kind: ns[0]!.kind, shape: broadcastShapes(ns[1]!.shape, reduceShape(ns[0]!.shape, [a.axis!], false)) };
    },
    // the adjoint scatters g back to the gathered positions: a one-hot along the axis, summed
    // over the positions that read the same element when the index broadcast
    vjp: (g, out) => {
      const [x, index] = [x0(out), x1(out)];
      const axis = out.attrs.axis!;
      const hit = b.eq(b.iota(x, axis), b.unsqueeze(index, [axis]));
      const spread = b.where(hit, b.unsqueeze(g, [axis]), 0);
      return [broadcastsTo(spread.shape, x.shape) ? b.broadcastTo(spread, x.shape) : b.sumTo(spread, x.shape), null];
    },
  },
  shift: {
    category: 'shift',
    doc: 'x moved `by` positions along `axis` (y[i] = x[i - by]), `fill` where that falls outside',
    infer: (ns) => ({ kind: joinKind(ns), shape: ns[0]!.shape }),
    vjp: (g, out) => {
      const x = x0(out);
      const { axis, by } = out.attrs as { axis: number; by: number };
      const from = b.sub(b.iota(x, axis), by);
      const outside = b.or(b.lt(from, 0), b.ge(b.cast(from, 'float'), b.dim(x, axis)));
      return [b.shift(g, axis, -by, 0), b.where(outside, g, 0)];
    },
  },
  scan: {
    category: 'scan',
    doc: 'scan(init, xs..., consts...): the states of a recurrence state_t = body(state_{t-1}, xs[t], consts), stacked along a new first axis',
    infer: (ns, a) => {
      const body = a.body!;
      if (ns.length !== 1 + body.xs.length + body.consts.length) throw new Error('scan: operands do not match the body');
      return { kind: 'float', shape: stackShape(ns[1]!.shape, ns[0]!.shape) };
    },
    vjp: scanVjp,
  },
  unsqueeze: {
    category: 'view',
    doc: 'insert size-1 axes',
    infer: (ns, a) => ({ kind: ns[0]!.kind, shape: unsqueezeShape(ns[0]!.shape, a.axes!) }),
    vjp: (g, out) => [b.sum(g, out.attrs.axes!, false)],
  },
};

export const primitive = (op: OpName): PrimDef => PRIMITIVES[op];

function tieSplit(g: Node, a: Node, c: Node, wins: (p: Node, q: Node) => Node): Node[] {
  const tie = b.eq(a, c);
  const half = b.mul(g, 0.5);
  return [b.where(tie, half, b.where(wins(a, c), g, 0)), b.where(tie, half, b.where(wins(c, a), g, 0))];
}
