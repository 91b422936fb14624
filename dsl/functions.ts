// THE table of DSL functions: a name, the builder it calls (the same one TS users call), and its
// parameters in the builder's order, each with its sort: a tensor (and which element kinds it
// accepts), a static int (an axis), static axes, a static bool, a structural string, or (x, dx)
// pairs. A new builder becomes callable from .loss files by adding one line here; the visitor
// does the rest (arity, keywords, kinds, constant folding, spans for errors) generically.
import * as b from '../compiler/ir/builders.js';
import type { Kind, Node, Operand } from '../compiler/ir/node.js';
import { affineShape } from '../compiler/ir/shape.js';
import { ShapeValue } from './lower.js';
import { broadcastDims, normalizeStaticAxis, reducedDims, unsqueezedDims, type Dim, type Dims } from './types.js';

/**
 * Element kinds a tensor parameter accepts. 'arith': float or int32, not mixed (index arithmetic
 * such as 2 * n + 1 stays int; float and int together need an explicit float()).
 */
export type Accepts = 'float' | 'number' | 'arith' | 'bool' | 'int' | 'any';

export type ParamSort =
  | { readonly sort: 'tensor'; readonly accepts: Accepts }
  /** a static integer, such as an axis */
  | { readonly sort: 'int' }
  /** a static integer or tuple of integers: `axis=1`, `axis=(0, 1)` */
  | { readonly sort: 'axes' }
  /** a bool known when the graph is built: `keepdims=true` or a bool option */
  | { readonly sort: 'flag' }
  /** a structural string: an enum option such as `reduction`, or a string literal */
  | { readonly sort: 'text' }
  /** the rest of the arguments, each an `(x, dx)` tuple */
  | { readonly sort: 'pairs' }
  /** the rest of the arguments, each a tensor */
  | { readonly sort: 'tensors'; readonly accepts: Accepts }
  /** a shape: a tensor's, or a shape value (affineShape) */
  | { readonly sort: 'shape' };

export type Param = ParamSort & { readonly name: string; readonly optional: boolean };

/** What a shape rule sees of a call's arguments. */
export interface BoundArgs {
  /** the declared shape of a tensor argument */
  dims(param: string): Dims;
  /** every tensor argument's declared shape */
  tensorDims(): Dims[];
  /** a static argument's value when known before the build (literal axes and flags), else undefined */
  value(param: string): unknown;
  /** the argument's source text, for messages */
  text(param: string): string;
}
export type ShapeRule = (args: BoundArgs) => { dims: Dims } | { error: string };

export interface DslFunction {
  readonly builder: (...args: never[]) => Node | ShapeValue;
  readonly params: readonly Param[];
  /**
   * the result's element kind; 'join' is the operands' (float if any is, else int), 'first' the
   * first tensor's; 'shape' a shape value
   */
  readonly result: Kind | 'join' | 'first' | 'shape';
  readonly shape: ShapeRule;
}

// ------------------------------------------------------------------ parameters and shape rules

const tensor = (name: string, accepts: Accepts = 'float', optional = false): Param => ({ name, sort: 'tensor', accepts, optional });
const int = (name: string, optional = false): Param => ({ name, sort: 'int', optional });
const axes = (name: string, optional = true): Param => ({ name, sort: 'axes', optional });
const flag = (name: string): Param => ({ name, sort: 'flag', optional: true });
const text = (name: string): Param => ({ name, sort: 'text', optional: false });
const pairs = (name: string): Param => ({ name, sort: 'pairs', optional: true });
const tensors = (name: string, accepts: Accepts = 'float'): Param => ({ name, sort: 'tensors', accepts, optional: true });
const shape = (name: string): Param => ({ name, sort: 'shape', optional: false });

const elementwise: ShapeRule = (a) => broadcastDims(a.tensorDims());
const scalar: ShapeRule = () => ({ dims: [] });
const unknown: ShapeRule = () => ({ dims: null });
const axisList = (v: unknown): number[] | null => (v === undefined ? null : typeof v === 'number' ? [v] : (v as number[]));
/** sum(x, axis, keepdims) and its siblings */
const reduction: ShapeRule = (a) => {
  const keep = a.value('keepdims');
  const r = reducedDims(a.dims('x'), axisList(a.value('axis')), keep === true, a.text('x'));
  return 'dims' in r && keep !== undefined && typeof keep !== 'boolean' ? { dims: null } : r;
};
/** the axis must exist; the result is shaped like x (logSoftmax) or like `then(x, axis)` */
const alongAxis =
  (then: (x: readonly Dim[], axis: number) => Dims = (x) => x): ShapeRule =>
  (a) => {
    const x = a.dims('x');
    const axis = normalizeStaticAxis(a.value('axis') as number, x, a.text('x'));
    return typeof axis === 'number' ? { dims: x === null ? null : then(x, axis) } : axis;
  };
/** x without the axis, broadcast with the index (which may broadcast against x's other axes) */
const gathered: ShapeRule = (a) => {
  const r = alongAxis((d, axis) => d.filter((_, i) => i !== axis))(a);
  return 'error' in r ? r : broadcastDims([a.dims('index'), r.dims]);
};
const unsqueezed: ShapeRule = (a) => ({ dims: unsqueezedDims(a.dims('x'), axisList(a.value('axis')) ?? []) });

const fn = (
  builder: (...args: never[]) => Node | ShapeValue,
  params: readonly Param[],
  extra: Partial<Pick<DslFunction, 'result' | 'shape'>> = {},
): DslFunction => ({
  builder,
  params,
  result: extra.result ?? 'float',
  shape: extra.shape ?? elementwise,
});

const x = tensor('x');
const toFloat = (v: Operand): Node => b.cast(v, 'float');
const toInt = (v: Operand): Node => b.cast(v, 'int');
/** iota over a tensor's shape (b.iota) or over a shape value: the same node either way */
const iotaOver = (s: Node | ShapeValue, axis: number): Node => b.iotaOf(s.graph, s.shape, axis);
const broadcastOver = (v: Node, s: Node | ShapeValue): Node => b.broadcastTo(v, s.shape);
const stretched = (s: Node | ShapeValue, axis: number, scale: number, offset: number): ShapeValue =>
  new ShapeValue(s.graph, affineShape(s.shape, axis, scale, offset));
/** affineShape's declared sizes: the axis's size n becomes scale * n + offset */
const affineDims: ShapeRule = (a) => {
  const d = a.dims('x');
  const axis = normalizeStaticAxis(a.value('axis') as number, d, a.text('x'));
  if (typeof axis !== 'number') return axis;
  const [scale, offset] = [a.value('scale') as number, a.value('offset') as number];
  return { dims: d === null ? null : d.map((s, i) => (i !== axis ? s : typeof s === 'number' ? scale * s + offset : '?')) };
};
const arith = (name: string): Param => tensor(name, 'arith');

// ------------------------------------------------------------------ the table

export const FUNCTIONS: Readonly<Record<string, DslFunction>> = {
  // elementwise math (float in, float out)
  exp: fn(b.exp, [x]),
  expm1: fn(b.expm1, [x]),
  log: fn(b.log, [x]),
  log1p: fn(b.log1p, [x]),
  sqrt: fn(b.sqrt, [x]),
  tanh: fn(b.tanh, [x]),
  abs: fn(b.abs, [x]),
  sign: fn(b.sign, [x]),
  neg: fn(b.neg, [x]),
  square: fn(b.square, [x]),
  relu: fn(b.relu, [x]),
  sigmoid: fn(b.sigmoid, [x]),
  softplus: fn(b.softplus, [x]),
  logSigmoid: fn(b.logSigmoid, [x]),
  // arithmetic: on floats, or on int32 indices (2 * n + 1, s mod 2), never the two mixed
  add: fn(b.add, [arith('a'), arith('b')], { result: 'join' }),
  sub: fn(b.sub, [arith('a'), arith('b')], { result: 'join' }),
  mul: fn(b.mul, [arith('a'), arith('b')], { result: 'join' }),
  div: fn(b.div, [tensor('a'), tensor('b')]),
  pow: fn(b.pow, [tensor('a'), tensor('b')]),
  xlogy: fn(b.xlogy, [x, tensor('y')]),
  maximum: fn(b.maximum, [arith('a'), arith('b')], { result: 'join' }),
  minimum: fn(b.minimum, [arith('a'), arith('b')], { result: 'join' }),
  mod: fn(b.mod, [arith('a'), arith('b')], { result: 'join' }),
  floorDiv: fn(b.floorDiv, [arith('a'), arith('b')], { result: 'join' }),
  /** log(e^a + e^b + ...), stable, -inf with zero gradient when every term is -inf */
  logSumExpOf: fn(b.logSumExpOf, [tensors('x')]),
  clamp: fn(b.clamp, [x, tensor('lo'), tensor('hi')]),
  clampMin: fn(b.clampMin, [x, tensor('lo')]),
  clampMax: fn(b.clampMax, [x, tensor('hi')]),

  // comparisons and selection
  lt: fn(b.lt, [tensor('a', 'number'), tensor('b', 'number')], { result: 'bool' }),
  le: fn(b.le, [tensor('a', 'number'), tensor('b', 'number')], { result: 'bool' }),
  gt: fn(b.gt, [tensor('a', 'number'), tensor('b', 'number')], { result: 'bool' }),
  ge: fn(b.ge, [tensor('a', 'number'), tensor('b', 'number')], { result: 'bool' }),
  eq: fn(b.eq, [tensor('a', 'number'), tensor('b', 'number')], { result: 'bool' }),
  ne: fn(b.ne, [tensor('a', 'number'), tensor('b', 'number')], { result: 'bool' }),
  where: fn(b.where, [tensor('condition', 'bool'), tensor('a', 'number'), tensor('b', 'number')], { result: 'join' }),
  float: fn(toFloat, [tensor('x', 'any')]),
  int: fn(toInt, [tensor('x', 'any')], { result: 'int' }),

  // gradient control
  stopGradient: fn(b.stopGradient, [tensor('x', 'number')], { result: 'join' }),
  withGrad: fn(b.withGrad, [tensor('value'), pairs('partials')], { shape: (a) => ({ dims: a.dims('value') }) }),

  // reductions and axes
  sum: fn(b.sum, [x, axes('axis'), flag('keepdims')], { shape: reduction }),
  mean: fn(b.mean, [x, axes('axis'), flag('keepdims')], { shape: reduction }),
  amax: fn(b.amax, [x, axes('axis'), flag('keepdims')], { shape: reduction }),
  logsumexp: fn(b.logsumexp, [x, axes('axis'), flag('keepdims')], { shape: reduction }),
  logSoftmax: fn(b.logSoftmax, [x, int('axis')], { shape: alongAxis() }),
  softmax: fn(b.softmax, [x, int('axis')], { shape: alongAxis() }),
  numel: fn(b.numel, [tensor('x', 'any')], { shape: scalar }),
  dim: fn(b.dim, [tensor('x', 'any'), int('axis')], { shape: alongAxis(() => []) }),
  unsqueeze: fn(b.unsqueeze, [tensor('x', 'any'), axes('axis', false)], { result: 'first', shape: unsqueezed }),
  /** y[..., i, ...] = x[..., i - by, ...] along axis, and fill where i - by falls outside */
  shift: fn(b.shift, [tensor('x', 'number'), int('axis'), int('by'), tensor('fill', 'number')], { result: 'join', shape: alongAxis() }),
  broadcastTo: fn(broadcastOver, [tensor('x', 'any'), shape('shape')], { result: 'first', shape: (a) => ({ dims: a.dims('shape') }) }),
  /** x's shape with axis `axis` of size n made scale * n + offset: CTC's 2S + 1 extended labels */
  affineShape: fn(stretched, [shape('x'), int('axis'), int('scale'), int('offset')], { result: 'shape', shape: affineDims }),
  /** torch's reduction by name: 'none' | 'mean' | 'sum' */
  reduce: fn(b.reduce, [x, text('reduction')], { shape: unknown }),

  // indexing by an int tensor along an axis
  gather: fn(b.gather, [tensor('x', 'number'), tensor('index', 'int'), int('axis')], { result: 'first', shape: gathered }),
  iota: fn(iotaOver, [shape('x'), int('axis')], { result: 'int', shape: alongAxis((d, axis) => d.map((s, i) => (i === axis ? s : 1))) }),
  oneHot: fn(b.oneHot, [tensor('x', 'any'), tensor('index', 'int'), int('axis')], { shape: alongAxis() }),
};

/** Operators are spellings of table entries (so they get the same checks and folding). */
export const OPERATORS: Readonly<Record<string, DslFunction>> = {
  '+': FUNCTIONS.add!,
  '-': FUNCTIONS.sub!,
  '*': FUNCTIONS.mul!,
  '/': FUNCTIONS.div!,
  '**': FUNCTIONS.pow!,
  '^': FUNCTIONS.pow!,
  '<': FUNCTIONS.lt!,
  '<=': FUNCTIONS.le!,
  '>': FUNCTIONS.gt!,
  '>=': FUNCTIONS.ge!,
  '==': FUNCTIONS.eq!,
  '!=': FUNCTIONS.ne!,
  'unary -': FUNCTIONS.neg!,
  and: fn(b.and, [tensor('a', 'bool'), tensor('b', 'bool')], { result: 'bool' }),
  or: fn(b.or, [tensor('a', 'bool'), tensor('b', 'bool')], { result: 'bool' }),
  not: fn(b.not, [tensor('a', 'bool')], { result: 'bool' }),
};

/** Named constants, as Python's math module spells them. */
export const CONSTANTS: Readonly<Record<string, number>> = { pi: Math.PI, inf: Infinity, nan: NaN };
