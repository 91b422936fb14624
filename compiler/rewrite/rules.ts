// Rewrite rules, one line each. Every rule is exact in IEEE arithmetic for every input
// (no x*0 -> 0: torch's gradients carry NaN and inf through such products, and so do ours),
// except the stable forms, which trade a literal formula for a more accurate one.
import type { Node } from '../ir/node.js';
import type { OpName } from '../primitives/table.js';
import { foldedValue } from '../reference.js';
import * as b from '../ir/builders.js';
import type { Rule } from './engine.js';
import { broadcastsTo, isAllAxes, reduceShape } from '../ir/shape.js';

const isConst = (n: Node | undefined, v?: number): boolean => n?.op === 'const' && (v === undefined || Object.is(n.attrs.value, v) || n.attrs.value === v);
const is = (n: Node | undefined, op: OpName): n is Node => n?.op === op;
const x = (n: Node, i = 0): Node => n.inputs[i]!;
const sameAxes = (a: Node, c: Node): boolean => a.attrs.axes!.join() === c.attrs.axes!.join();
/** a sum down to a reduced shape (a row's total), not onto an argument's shape */
const rowSum = (n: Node): boolean => is(n, 'sumTo') && n.attrs.shape!.kind === 'reduce';
/** `keep` may stand for `n` only if it already has n's shape and kind (a rewrite never changes either). */
const same = (n: Node, keep: Node): Node | null => (keep.shape === n.shape && keep.kind === n.kind ? keep : null);

/** Fold an elementwise primitive of constants (in float64, as the reference interpreter computes it). */
const foldConstants: Rule = {
  name: 'fold constants',
  apply: (n) => {
    const v = foldedValue(n);
    return v === null ? null : n.graph.constant(v, n.kind);
  },
};

export const algebra: readonly Rule[] = [
  foldConstants,
  { name: 'x + 0', apply: (n) => (is(n, 'add') && isConst(x(n, 1), 0) ? same(n, x(n)) : null) },
  { name: '0 + x', apply: (n) => (is(n, 'add') && isConst(x(n), 0) ? same(n, x(n, 1)) : null) },
  { name: 'x - 0', apply: (n) => (is(n, 'sub') && isConst(x(n, 1), 0) ? same(n, x(n)) : null) },
  { name: 'x * 1', apply: (n) => (is(n, 'mul') && isConst(x(n, 1), 1) ? same(n, x(n)) : null) },
  { name: '1 * x', apply: (n) => (is(n, 'mul') && isConst(x(n), 1) ? same(n, x(n, 1)) : null) },
  { name: 'x / 1', apply: (n) => (is(n, 'div') && isConst(x(n, 1), 1) ? same(n, x(n)) : null) },
  { name: 'x * -1', apply: (n) => (is(n, 'mul') && isConst(x(n, 1), -1) ? same(n, b.neg(x(n))) : null) },
  { name: '-1 * x', apply: (n) => (is(n, 'mul') && isConst(x(n), -1) ? same(n, b.neg(x(n, 1))) : null) },
  { name: '--x', apply: (n) => (is(n, 'neg') && is(x(n), 'neg') ? same(n, x(x(n))) : null) },
  { name: '0 - x', apply: (n) => (is(n, 'sub') && isConst(x(n), 0) ? same(n, b.neg(x(n, 1))) : null) },
  { name: 'a + -b', apply: (n) => (is(n, 'add') && is(x(n, 1), 'neg') ? same(n, b.sub(x(n), x(x(n, 1)))) : null) },
  { name: '-a + b', apply: (n) => (is(n, 'add') && is(x(n), 'neg') ? same(n, b.sub(x(n, 1), x(x(n)))) : null) },
  { name: 'a - -b', apply: (n) => (is(n, 'sub') && is(x(n, 1), 'neg') ? same(n, b.add(x(n), x(x(n, 1)))) : null) },
  { name: '-a * -b', apply: (n) => (is(n, 'mul') && is(x(n), 'neg') && is(x(n, 1), 'neg') ? same(n, b.mul(x(x(n)), x(x(n, 1)))) : null) },
  { name: '|-x|', apply: (n) => (is(n, 'abs') && is(x(n), 'neg') ? same(n, b.abs(x(x(n)))) : null) },
  { name: 'x ** 1', apply: (n) => (is(n, 'pow') && isConst(x(n, 1), 1) ? same(n, x(n)) : null) },
  { name: 'x ** 2', apply: (n) => (is(n, 'pow') && isConst(x(n, 1), 2) ? same(n, b.mul(x(n), x(n))) : null) },
  { name: 'where(c, a, a)', apply: (n) => (is(n, 'where') && x(n, 1) === x(n, 2) ? same(n, x(n, 1)) : null) },
  { name: 'where(const)', apply: (n) => (is(n, 'where') && isConst(x(n)) ? same(n, x(n).attrs.value ? x(n, 1) : x(n, 2)) : null) },
  // summing the size-1 axes a keepdims sum left: the plain sum
  {
    name: 'sum(sum(y, a, keep), a)',
    apply: (n) =>
      is(n, 'sum') && !n.attrs.keepDims && is(x(n), 'sum') && x(n).attrs.keepDims && sameAxes(x(n), n) ? same(n, b.sum(x(x(n)), n.attrs.axes!, false)) : null,
  },
  {
    name: 'sum(sumTo(y, keepdims shape), a)',
    apply: (n) => {
      const t = x(n);
      if (!is(n, 'sum') || n.attrs.keepDims || !is(t, 'sumTo') || isAllAxes(n.attrs.axes!)) return null;
      const y = x(t);
      return t.attrs.shape === reduceShape(y.shape, n.attrs.axes!, true) ? same(n, b.sum(y, n.attrs.axes!, false)) : null;
    },
  },
  {
    name: 'sum(-sumTo(y, keepdims shape), a)',
    apply: (n) => {
      const m = x(n);
      if (!is(n, 'sum') || n.attrs.keepDims || !is(m, 'neg') || !is(x(m), 'sumTo') || isAllAxes(n.attrs.axes!)) return null;
      const y = x(x(m));
      return x(m).attrs.shape === reduceShape(y.shape, n.attrs.axes!, true) ? same(n, b.neg(b.sum(y, n.attrs.axes!, false))) : null;
    },
  },
  { name: 'sumTo own shape', apply: (n) => (is(n, 'sumTo') && x(n).shape === n.shape ? same(n, x(n)) : null) },
  { name: 'broadcastTo own shape', apply: (n) => (is(n, 'broadcastTo') && x(n).shape === n.shape ? same(n, x(n)) : null) },
  // a factor constant over what a row sum adds up comes out of it (torch's softmax backward sums
  // first too). Only for sums onto a reduced shape: a gradient summed onto an input's shape stays
  // last, so that it is computed in the same pass as the loss
  { name: 'sumTo(-x)', apply: (n) => (rowSum(n) && is(x(n), 'neg') ? same(n, b.neg(b.sumTo(x(x(n)), n.attrs.shape!))) : null) },
  {
    name: 'sumTo(x / r), r constant over the sum',
    apply: (n) => {
      const d = x(n);
      return rowSum(n) && is(d, 'div') && broadcastsTo(x(d, 1).shape, n.attrs.shape!) ? same(n, b.div(b.sumTo(x(d), n.attrs.shape!), x(d, 1))) : null;
    },
  },
  {
    name: 'sumTo(x * r), r constant over the sum',
    apply: (n) => {
      const m = x(n);
      if (!rowSum(n) || !is(m, 'mul')) return null;
      const [p, q] = [x(m), x(m, 1)];
      if (broadcastsTo(q.shape, n.attrs.shape!) && !broadcastsTo(p.shape, n.attrs.shape!)) return same(n, b.mul(b.sumTo(p, n.attrs.shape!), q));
      if (broadcastsTo(p.shape, n.attrs.shape!) && !broadcastsTo(q.shape, n.attrs.shape!)) return same(n, b.mul(p, b.sumTo(q, n.attrs.shape!)));
      return null;
    },
  },
  // summing a one-hot selection along an axis: the selected value (0 where the index is outside)
  {
    name: 'sum of a one-hot',
    apply: (n) => {
      if (!is(n, 'sumTo')) return null;
      let y = x(n);
      if (is(y, 'broadcastTo')) y = x(y);
      if (!is(y, 'where') || !isConst(x(y, 2), 0)) return null;
      const hit = x(y);
      if (!is(hit, 'eq')) return null;
      const [a, c] = [x(hit), x(hit, 1)];
      const iotaSide = is(a, 'iota') ? a : is(c, 'iota') ? c : null;
      const indexSide = iotaSide === a ? c : a;
      if (!iotaSide || !is(indexSide, 'unsqueeze') || indexSide.attrs.axes!.length !== 1) return null;
      const axis = iotaSide.attrs.axis!;
      if (indexSide.attrs.axes![0] !== axis) return null;
      const target = n.attrs.shape!;
      if (target !== reduceShape(iotaSide.attrs.shape!, [axis], true)) return null;
      const v = x(y, 1);
      if (!broadcastsTo(v.shape, target)) return null;
      const idx = x(indexSide);
      const size = n.graph.make('dim', [], { shape: iotaSide.attrs.shape!, axis });
      const inside = b.and(b.ge(idx, 0), b.lt(b.cast(idx, 'float'), size));
      return same(n, b.broadcastTo(b.where(b.unsqueeze(inside, [axis]), v, 0), target));
    },
  },
  { name: 'cast to own kind', apply: (n) => (is(n, 'cast') && x(n).kind === n.kind ? same(n, x(n)) : null) },
];

export const stableForms: readonly Rule[] = [
  // log(1 + x) -> log1p(x): exact near x = 0, where 1 + x rounds x away
  { name: 'log(1 + x)', apply: (n) => (is(n, 'log') && is(x(n), 'add') && isConst(x(x(n)), 1) ? same(n, b.log1p(x(x(n), 1))) : null) },
  // log(1 / (1 + e^-x)), the literal sigmoid, -> -softplus(-x): finite for x << 0
  {
    name: 'log(1 / (1 + e^-x))',
    apply: (n) => {
      const s = x(n);
      if (!is(n, 'log') || !is(s, 'div') || !isConst(x(s), 1)) return null;
      const d = x(s, 1);
      if (!is(d, 'add') || !isConst(x(d), 1) || !is(x(d, 1), 'exp') || !is(x(x(d, 1)), 'neg')) return null;
      return same(n, b.logSigmoid(x(x(x(d, 1)))));
    },
  },
];

/** After differentiation, gradient markers have done their work and mean their value. */
export const eraseGradientMarkers: readonly Rule[] = [
  { name: 'stopGradient(x)', apply: (n) => (is(n, 'stopGradient') ? x(n) : null) },
  { name: 'withGrad(v, ...)', apply: (n) => (is(n, 'withGrad') ? same(n, x(n)) : null) },
];
