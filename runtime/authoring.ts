// 'lossc/loss': the authoring entry, for losses written as plain TypeScript functions or classes
// with ordinary operators, which `lossc compile file.ts` reads (dsl/tsFront.ts) and never runs.
//
//   import { Tensor, mean } from 'lossc/loss';
//   export function customMse(predictions: Tensor, target: Tensor): Tensor {
//     const squareDifference = (predictions - target) * (predictions - target);
//     return mean(squareDifference);
//   }
//
// The decision: lossc's runtime Tensor ({ data, shape, dtype }) stays an object, so `t * 2` on a
// runtime tensor is a type error, not a silent NaN. This entry has its own Tensor, a *branded
// number*: TypeScript then accepts `a - b`, `a < b ? a : b`, `-x`, `x ** 2` on it, and the brand
// keeps the kinds apart where it matters: an IntTensor (class indices) is not a Tensor, so
// `log(target)` on indices is a type error until `float(target)`. A plain number is a Tensor (a
// constant), and arithmetic gives plain numbers, which every function here accepts. Comparisons
// give booleans, which `c ? a : b` (elementwise where) and and/or/not take.
//
// The functions are the builders of compiler/ir/builders.ts (the same table the .loss language
// calls, dsl/functions.ts), typed over these authoring types. They describe a loss; they do not
// compute anything: calling one throws. Compile the file, then use the result.
declare const tensorKind: unique symbol;

/** A float tensor while authoring a loss (a number to TypeScript, so operators type-check). */
export type Tensor = number & { readonly [tensorKind]?: 'float' };
/** An int32 tensor of class indices: not a float Tensor (cast with float(x) for arithmetic). */
export type IntTensor = number & { readonly [tensorKind]?: 'int' };
/** An elementwise condition: what comparisons give, and where / `c ? a : b` take. */
export type Bool = boolean;
/** The axes of a reduction: one, or several. */
export type Axes = number | readonly number[];
/** torch's reduction names, for reduce(x, reduction). */
export type Reduction = 'none' | 'mean' | 'sum';

/**
 * The base of the class form: `export class CustomMSE extends Loss { forward(a: Tensor, b: Tensor): Tensor { ... } }`.
 * Options, if any, are forward's last parameter: an object pattern with defaults.
 */
export abstract class Loss {
  abstract forward(...inputs: never[]): Tensor;
}

function described(name: string): never {
  throw new Error(
    `lossc/loss: ${name}() describes a loss for \`lossc compile\`; it is read, never run. ` +
      `Compile the file (lossc compile file.ts -o DIR) and call the module it writes, or use lossc's builders with compile().`,
  );
}

// elementwise math
export const exp = (_x: Tensor): Tensor => described('exp');
export const expm1 = (_x: Tensor): Tensor => described('expm1');
export const log = (_x: Tensor): Tensor => described('log');
export const log1p = (_x: Tensor): Tensor => described('log1p');
export const sqrt = (_x: Tensor): Tensor => described('sqrt');
export const tanh = (_x: Tensor): Tensor => described('tanh');
export const abs = (_x: Tensor): Tensor => described('abs');
export const sign = (_x: Tensor): Tensor => described('sign');
export const neg = (_x: Tensor): Tensor => described('neg');
export const square = (_x: Tensor): Tensor => described('square');
export const relu = (_x: Tensor): Tensor => described('relu');
export const sigmoid = (_x: Tensor): Tensor => described('sigmoid');
export const softplus = (_x: Tensor): Tensor => described('softplus');
export const logSigmoid = (_x: Tensor): Tensor => described('logSigmoid');
export const add = (_a: Tensor, _b: Tensor): Tensor => described('add');
export const sub = (_a: Tensor, _b: Tensor): Tensor => described('sub');
export const mul = (_a: Tensor, _b: Tensor): Tensor => described('mul');
export const div = (_a: Tensor, _b: Tensor): Tensor => described('div');
export const pow = (_a: Tensor, _b: Tensor): Tensor => described('pow');
export const xlogy = (_x: Tensor, _y: Tensor): Tensor => described('xlogy');
export const maximum = (_a: Tensor, _b: Tensor): Tensor => described('maximum');
export const minimum = (_a: Tensor, _b: Tensor): Tensor => described('minimum');
export const clamp = (_x: Tensor, _lo: Tensor, _hi: Tensor): Tensor => described('clamp');
export const clampMin = (_x: Tensor, _lo: Tensor): Tensor => described('clampMin');
export const clampMax = (_x: Tensor, _hi: Tensor): Tensor => described('clampMax');

// comparisons and selection (comparisons also take index tensors)
type Comparable = Tensor | IntTensor;
export const lt = (_a: Comparable, _b: Comparable): Bool => described('lt');
export const le = (_a: Comparable, _b: Comparable): Bool => described('le');
export const gt = (_a: Comparable, _b: Comparable): Bool => described('gt');
export const ge = (_a: Comparable, _b: Comparable): Bool => described('ge');
export const eq = (_a: Comparable, _b: Comparable): Bool => described('eq');
export const ne = (_a: Comparable, _b: Comparable): Bool => described('ne');
export const and = (_a: Bool, _b: Bool): Bool => described('and');
export const or = (_a: Bool, _b: Bool): Bool => described('or');
export const not = (_a: Bool): Bool => described('not');
export function where(condition: Bool, a: Tensor, b: Tensor): Tensor;
export function where(condition: Bool, a: IntTensor, b: IntTensor): IntTensor;
export function where(_condition: Bool, _a: Comparable, _b: Comparable): Comparable {
  return described('where');
}
/** An index tensor or a condition as a float tensor (1 / 0 for conditions). */
export const float = (_x: IntTensor | Bool): Tensor => described('float');
/** A float tensor or a condition as int32 (truncated). */
export const int = (_x: Tensor | Bool): IntTensor => described('int');

// index arithmetic (float or int32, not mixed) and variadic forms
export const mod = <T extends Comparable>(_a: T, _b: T): T => described('mod');
export const floorDiv = <T extends Comparable>(_a: T, _b: T): T => described('floorDiv');
/** log(e^a + e^b + ...), stable. */
export const logSumExpOf = (..._xs: Tensor[]): Tensor => described('logSumExpOf');
/** y[..., i, ...] = x[..., i - by, ...] along axis, and fill where i - by falls outside. */
export const shift = <T extends Comparable>(_x: T, _axis: number, _by: number, _fill: T): T => described('shift');

// gradient control
export const stopGradient = <T extends Comparable>(_x: T): T => described('stopGradient');
/** `value`, whose gradient with respect to each x is the matching dx (times the upstream gradient). */
export const withGrad = (_value: Tensor, ..._partials: readonly (readonly [x: Tensor, dx: Tensor])[]): Tensor => described('withGrad');

// reductions and axes
export const sum = (_x: Tensor, _axis?: Axes, _keepDims?: boolean): Tensor => described('sum');
export const mean = (_x: Tensor, _axis?: Axes, _keepDims?: boolean): Tensor => described('mean');
export const amax = (_x: Tensor, _axis?: Axes, _keepDims?: boolean): Tensor => described('amax');
export const logsumexp = (_x: Tensor, _axis?: Axes, _keepDims?: boolean): Tensor => described('logsumexp');
export const logSoftmax = (_x: Tensor, _axis: number): Tensor => described('logSoftmax');
export const softmax = (_x: Tensor, _axis: number): Tensor => described('softmax');
export const numel = (_x: Comparable): Tensor => described('numel');
export const dim = (_x: Comparable, _axis: number): Tensor => described('dim');
export const unsqueeze = <T extends Comparable>(_x: T, _axis: Axes): T => described('unsqueeze');
/** torch's reduction by name: 'none' | 'mean' | 'sum'. */
export const reduce = (_x: Tensor, _reduction: Reduction): Tensor => described('reduce');

// indexing by class indices along an axis
export const gather = (_x: Tensor, _index: IntTensor, _axis: number): Tensor => described('gather');
export const iota = (_x: Comparable, _axis: number): IntTensor => described('iota');
export const oneHot = (_x: Tensor, _index: IntTensor, _axis: number): Tensor => described('oneHot');
