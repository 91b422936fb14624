// THE table of DSL functions: a name, the builder it calls (the same one TS users call), and its
// parameters in the builder's order, each with its sort: a tensor (and which element kinds it
// accepts), a static int (an axis), static axes, a static bool, a structural string, or (x, dx)
// pairs. A new builder becomes callable from .loss files by adding one line here; the visitor
// does the rest (arity, keywords, kinds, constant folding, spans for errors) generically.
import * as b from '../compiler/ir/builders.js';
import type { Kind, Node, Operand } from '../compiler/ir/node.js';
import type { InputCheck } from '../compiler/loss.js';
import { broadcastDims, normalizeStaticAxis, reducedDims, unsqueezedDims, type Dim, type Dims } from './types.js';

/** Element kinds a tensor parameter accepts: int needs an explicit float() for arithmetic. */
export type Accepts = 'float' | 'number' | 'bool' | 'int' | 'any';

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
  | { readonly sort: 'pairs' };

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
  readonly builder: (...args: never[]) => Node;
  readonly params: readonly Param[];
  /** the result's element kind; 'join' is the operands' (float if any is, else int) */
  readonly result: Kind | 'join';
  readonly shape: ShapeRule;
}

// ------------------------------------------------------------------ parameters and shape rules

const tensor = (name: string, accepts: Accepts = 'float', optional = false): Param => ({ name, sort: 'tensor', accepts, optional });
const int = (name: string, optional = false): Param => ({ name, sort: 'int', optional });
const axes = (name: string, optional = true): Param => ({ name, sort: 'axes', optional });
const flag = (name: string): Param => ({ name, sort: 'flag', optional: true });
const text = (name: string): Param => ({ name, sort: 'text', optional: false });
const pairs = (name: string): Param => ({ name, sort: 'pairs', optional: true });

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
const alongAxis = (then: (x: readonly Dim[], axis: number) => Dims = (x) => x): ShapeRule => (a) => {
  const x = a.dims('x');
  const axis = normalizeStaticAxis(a.value('axis') as number, x, a.text('x'));
  return typeof axis === 'number' ? { dims: x === null ? null : then(x, axis) } : axis;
};
const unsqueezed: ShapeRule = (a) => ({ dims: unsqueezedDims(a.dims('x'), axisList(a.value('axis')) ?? []) });

const fn = (builder: (...args: never[]) => Node, params: readonly Param[], extra: Partial<Pick<DslFunction, 'result' | 'shape'>> = {}): DslFunction => ({
  builder, params, result: extra.result ?? 'float', shape: extra.shape ?? elementwise,
});

const x = tensor('x');
const toFloat = (v: Operand): Node => b.cast(v, 'float');

// ------------------------------------------------------------------ the table

export const FUNCTIONS: Readonly<Record<string, DslFunction>> = {
  // elementwise math (float in, float out)
  exp: fn(b.exp, [x]), expm1: fn(b.expm1, [x]), log: fn(b.log, [x]), log1p: fn(b.log1p, [x]),
  sqrt: fn(b.sqrt, [x]), tanh: fn(b.tanh, [x]), abs: fn(b.abs, [x]), sign: fn(b.sign, [x]), neg: fn(b.neg, [x]),
  square: fn(b.square, [x]), relu: fn(b.relu, [x]), sigmoid: fn(b.sigmoid, [x]), softplus: fn(b.softplus, [x]), logSigmoid: fn(b.logSigmoid, [x]),
  add: fn(b.add, [tensor('a'), tensor('b')]), sub: fn(b.sub, [tensor('a'), tensor('b')]),
  mul: fn(b.mul, [tensor('a'), tensor('b')]), div: fn(b.div, [tensor('a'), tensor('b')]),
  pow: fn(b.pow, [tensor('a'), tensor('b')]), xlogy: fn(b.xlogy, [x, tensor('y')]),
  maximum: fn(b.maximum, [tensor('a'), tensor('b')]), minimum: fn(b.minimum, [tensor('a'), tensor('b')]),
  clamp: fn(b.clamp, [x, tensor('lo'), tensor('hi')]), clampMin: fn(b.clampMin, [x, tensor('lo')]), clampMax: fn(b.clampMax, [x, tensor('hi')]),

  // comparisons and selection
  lt: fn(b.lt, [tensor('a', 'number'), tensor('b', 'number')], { result: 'bool' }), le: fn(b.le, [tensor('a', 'number'), tensor('b', 'number')], { result: 'bool' }),
  gt: fn(b.gt, [tensor('a', 'number'), tensor('b', 'number')], { result: 'bool' }), ge: fn(b.ge, [tensor('a', 'number'), tensor('b', 'number')], { result: 'bool' }),
  eq: fn(b.eq, [tensor('a', 'number'), tensor('b', 'number')], { result: 'bool' }), ne: fn(b.ne, [tensor('a', 'number'), tensor('b', 'number')], { result: 'bool' }),
  where: fn(b.where, [tensor('condition', 'bool'), tensor('a', 'number'), tensor('b', 'number')], { result: 'join' }),
  float: fn(toFloat, [tensor('x', 'any')]),

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
  unsqueeze: fn(b.unsqueeze, [tensor('x', 'number'), axes('axis', false)], { result: 'join', shape: unsqueezed }),
  /** torch's reduction by name: 'none' | 'mean' | 'sum' */
  reduce: fn(b.reduce, [x, text('reduction')], { shape: unknown }),

  // indexing by an int tensor along an axis
  gather: fn(b.gather, [x, tensor('index', 'int'), int('axis')], { shape: alongAxis((d, axis) => d.filter((_, i) => i !== axis)) }),
  iota: fn(b.iota, [tensor('x', 'any'), int('axis')], { result: 'int', shape: alongAxis((d, axis) => d.map((s, i) => (i === axis ? s : 1))) }),
  oneHot: fn(b.oneHot, [tensor('x', 'any'), tensor('index', 'int'), int('axis')], { shape: alongAxis() }),
};

/** Operators are spellings of table entries (so they get the same checks and folding). */
export const OPERATORS: Readonly<Record<string, DslFunction>> = {
  '+': FUNCTIONS.add!, '-': FUNCTIONS.sub!, '*': FUNCTIONS.mul!, '/': FUNCTIONS.div!, '**': FUNCTIONS.pow!, '^': FUNCTIONS.pow!,
  '<': FUNCTIONS.lt!, '<=': FUNCTIONS.le!, '>': FUNCTIONS.gt!, '>=': FUNCTIONS.ge!, '==': FUNCTIONS.eq!, '!=': FUNCTIONS.ne!,
  'unary -': FUNCTIONS.neg!,
  and: fn(b.and, [tensor('a', 'bool'), tensor('b', 'bool')], { result: 'bool' }),
  or: fn(b.or, [tensor('a', 'bool'), tensor('b', 'bool')], { result: 'bool' }),
  not: fn(b.not, [tensor('a', 'bool')], { result: 'bool' }),
};

/** Named constants, as Python's math module spells them. */
export const CONSTANTS: Readonly<Record<string, number>> = { pi: Math.PI, inf: Infinity, nan: NaN };

// ------------------------------------------------------------------ argument checks

/** `check kind(args), "message"`: data-dependent checks torch raises before computing. */
export interface CheckKind {
  /** 'tensor': the name of an input or tensor option; 'number': a constant */
  readonly params: readonly { readonly name: string; readonly sort: 'tensor' | 'number' }[];
  make(args: readonly (string | number)[], message: string): InputCheck;
}
const t = (name: string) => ({ name, sort: 'tensor' }) as const;
const n = (name: string) => ({ name, sort: 'number' }) as const;

export const CHECKS: Readonly<Record<string, CheckKind>> = {
  nonNegative: { params: [t('input')], make: ([input], message) => ({ kind: 'nonNegative', input: String(input), message }) },
  range: { params: [t('input'), n('min'), n('max')], make: ([input, min, max], message) => ({ kind: 'range', input: String(input), min: Number(min), max: Number(max), message }) },
  sameShape: { params: [t('input'), t('like')], make: ([input, like], message) => ({ kind: 'sameShape', input: String(input), like: String(like), message }) },
  unsqueezeLastIfMissing: { params: [t('input'), t('like')], make: ([input, like], message) => ({ kind: 'unsqueezeLastIfMissing', input: String(input), like: String(like), message }) },
};
