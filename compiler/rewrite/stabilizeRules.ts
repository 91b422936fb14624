// The stabilisation rules: textbook formulas that overflow, underflow or lose every digit
// (log(sigmoid(x)), log(softmax(x)), log(1 + exp(x)), ...) and the stable forms the built-in
// losses use, which compute the same value. They run on the forward graph before
// differentiation (compiler/passes/stabilize.ts), so gradients come from the stable form.
//
// Matching is structural: recognisers below see a sigmoid whether it was written sigmoid(x)
// (the builder's composite, recognised by rebuilding it: nodes are hash-consed, so "is this
// sigmoid(x)" is an identity test), 1 / (1 + exp(-x)) or exp(x) / (1 + exp(x)); 1 - p as
// 1 - p, 1 + -p or -p + 1; a softmax as the builder's, exp(x) / sum(exp(x)) or with the maximum
// subtracted first, summed with keepdims or unsqueezed back, over one axis or all.
//
// Each rule is one entry: the pattern's name, a matcher returning the replacement and the
// parts the note names, and the note's wording. A replacement computes the same value as the
// pattern wherever the pattern is finite (tested in float64: test/stabilize.test.ts).
import type { Node } from '../ir/node.js';
import * as b from '../ir/builders.js';
import { ALL_AXES, broadcastsTo, isAllAxes } from '../ir/shape.js';

export interface StableMatch {
  readonly node: Node;
  /** the pieces the note names, in the order of its placeholders */
  readonly parts: readonly Node[];
  readonly axes?: readonly number[];
}

export interface MatchContext {
  /** whether no gradient flows into `n` (it depends on inputs, none of them differentiated) */
  isData(n: Node): boolean;
}

export interface StableRule {
  /** the pattern, as the note and explain() name it */
  readonly name: string;
  readonly match: (n: Node, ctx: MatchContext) => StableMatch | null;
  /** the note, from the parts' descriptions (and the axes, when the rule has any) */
  readonly note: (p: readonly string[], axes: string) => string;
}

// ------------------------------------------------------------------ recognisers

const is = (n: Node | null | undefined, op: string): boolean => n?.op === op;
const isConst = (n: Node | undefined, v: number): boolean => n?.op === 'const' && n.attrs.value === v;
const arg = (n: Node, i = 0): Node => n.inputs[i]!;

/** Build a composite and compare: the graph hash-conses, so equal means the same expression. */
function builds(n: Node, make: () => Node): boolean {
  try {
    return make() === n;
  } catch {
    return false; // not even well-typed as that composite
  }
}

/** x, for -x spelt neg(x), -1 * x, x * -1 or 0 - x */
export function negated(n: Node): Node | null {
  if (is(n, 'neg')) return arg(n);
  if (is(n, 'mul') && isConst(arg(n), -1)) return arg(n, 1);
  if (is(n, 'mul') && isConst(arg(n, 1), -1)) return arg(n);
  if (is(n, 'sub') && isConst(arg(n), 0)) return arg(n, 1);
  return null;
}

/** p, for 1 - p spelt 1 - p, 1 + -p or -p + 1 */
export function oneMinus(n: Node): Node | null {
  if (is(n, 'sub') && isConst(arg(n), 1)) return arg(n, 1);
  if (is(n, 'add') && isConst(arg(n), 1)) return negated(arg(n, 1));
  if (is(n, 'add') && isConst(arg(n, 1), 1)) return negated(arg(n));
  return null;
}

/** x, for 1 + x or x + 1 */
export function onePlus(n: Node): Node | null {
  if (is(n, 'add') && isConst(arg(n), 1)) return arg(n, 1);
  if (is(n, 'add') && isConst(arg(n, 1), 1)) return arg(n);
  if (is(n, 'sub') && isConst(arg(n, 1), -1)) return arg(n);
  return null;
}

/** x, for sigmoid(x) spelt as the builder's composite, 1 / (1 + exp(-x)) or exp(x) / (1 + exp(x)) */
export function sigmoidArg(n: Node): Node | null {
  if (is(n, 'withGrad') && n.inputs.length === 3 && builds(n, () => b.sigmoid(arg(n, 1)))) return arg(n, 1);
  return literalSigmoidArg(n);
}
function literalSigmoidArg(n: Node): Node | null {
  if (!is(n, 'div')) return null;
  const d = onePlus(arg(n, 1));
  if (!d || !is(d, 'exp')) return null;
  if (isConst(arg(n), 1)) return negated(arg(d));
  return arg(n) === d ? arg(d) : null;
}

/** Strip what only restores a reduced axis (unsqueeze, broadcastTo) or stops a gradient. */
function reducedCore(n: Node): Node {
  let m = n;
  while (is(m, 'unsqueeze') || is(m, 'broadcastTo') || is(m, 'stopGradient')) m = arg(m);
  return m;
}
const sameAxes = (p: readonly number[], q: readonly number[]): boolean => (isAllAxes(p) && isAllAxes(q)) || p.join() === q.join();

/** x, for u = x - max(x) over `axes` (with or without keepdims, stopGradient or unsqueeze) */
function maxShifted(u: Node, axes: readonly number[]): Node | null {
  if (!is(u, 'sub')) return null;
  const m = reducedCore(arg(u, 1));
  return is(m, 'max') && arg(m) === arg(u) && sameAxes(m.attrs.axes!, axes) ? arg(u) : null;
}

/**
 * A sum over `axes` that broadcasts back against its operand: with keepdims, unsqueezed back,
 * or over every axis (a scalar).
 */
function broadcastableSum(n: Node): Node | null {
  if (is(n, 'unsqueeze')) {
    const s = arg(n);
    return is(s, 'sum') && !s.attrs.keepDims && sameAxes(s.attrs.axes!, n.attrs.axes!) ? s : null;
  }
  return is(n, 'sum') && (n.attrs.keepDims || isAllAxes(n.attrs.axes!)) ? n : null;
}

/** A softmax written out: exp(u) / sum(exp(u), axes), u either x or x - max(x). */
export function spelledSoftmax(n: Node): { x: Node; shifted: boolean; axes: readonly number[] } | null {
  if (!is(n, 'div') || !is(arg(n), 'exp')) return null;
  const s = broadcastableSum(arg(n, 1));
  if (!s || arg(s) !== arg(n)) return null;
  const u = arg(arg(n));
  const axes = s.attrs.axes!;
  const x = maxShifted(u, axes);
  return { x: x ?? u, shifted: x !== null, axes };
}

/** x and the axes, for the builder's softmax(x, axis): exp(logSoftmax(x, axis)) */
export function softmaxComposite(n: Node): { x: Node; axes: readonly number[] } | null {
  if (!is(n, 'exp')) return null;
  const ls = logSoftmaxComposite(arg(n));
  return ls && builds(n, () => b.exp(logSoftmaxOf(ls.x, ls.axes))) ? ls : null;
}
/** x and the axes, for the builder's logSoftmax(x, axis): x - logsumexp(x, [axis], true) */
function logSoftmaxComposite(n: Node): { x: Node; axes: readonly number[] } | null {
  if (!is(n, 'sub')) return null;
  const lse = arg(n, 1);
  if (!is(lse, 'add') || !is(arg(lse), 'log') || !is(arg(arg(lse)), 'sum')) return null;
  const axes = arg(arg(lse)).attrs.axes!;
  const x = arg(n);
  return builds(n, () => logSoftmaxOf(x, axes)) ? { x, axes } : null;
}

/** The stable log-softmax over `axes`: the builder's for one axis, x - logsumexp(x) otherwise. */
export function logSoftmaxOf(x: Node, axes: readonly number[]): Node {
  if (axes.length === 1 && !isAllAxes(axes)) return b.logSoftmax(x, axes[0]!);
  return isAllAxes(axes) ? b.sub(x, b.logsumexp(x, ALL_AXES, false)) : b.sub(x, b.logsumexp(x, axes, true));
}

/** x and the axes, for sqrt(sum(x * x, axes)): a Euclidean norm */
export function normArg(n: Node): { x: Node; sum: Node } | null {
  if (!is(n, 'sqrt') || !is(arg(n), 'sum')) return null;
  const sq = arg(arg(n));
  return is(sq, 'mul') && arg(sq) === arg(sq, 1) ? { x: arg(sq), sum: arg(n) } : null;
}

/** log(a) when it has a stable form, else null (for log of a where: both branches must have one). */
function stableLog(a: Node, ctx: MatchContext): Node | null {
  const log = a.graph.make('log', [a]);
  for (const r of LOG_RULES) {
    const m = r.match(log, ctx);
    if (m) return m.node;
  }
  return null;
}

/** A description as an operand: in parentheses unless it is a name, a number or a call. */
const op = (x: string | undefined): string => (x === undefined ? '' : /^[\w.]+(\(.*\))?$/.test(x) ? x : `(${x})`);

const axesText = (axes: readonly number[] | undefined): string => (!axes || isAllAxes(axes) ? '' : `, ${axes.length === 1 ? axes[0] : `(${axes.join(', ')})`}`);
export { axesText };

// ------------------------------------------------------------------ the rules

const logOf = (n: Node): Node | null => (is(n, 'log') ? arg(n) : null);

/** Rules on log(...), tried in order (log(1 + exp(x)) before log(1 + x)). */
const LOG_RULES: readonly StableRule[] = [
  {
    name: 'log(sigmoid(x))',
    match: (n) => {
      const x = logOf(n) && sigmoidArg(arg(n));
      return x ? { node: b.logSigmoid(x), parts: [x] } : null;
    },
    note: ([x]) => `log(sigmoid(${x})) computed as logSigmoid(${x}) (finite for large |${x}|)`,
  },
  {
    name: 'log(1 - sigmoid(x))',
    match: (n) => {
      const p = is(n, 'log') ? oneMinus(arg(n)) : is(n, 'log1p') ? negated(arg(n)) : null;
      const x = p && sigmoidArg(p);
      return x ? { node: b.logSigmoid(b.neg(x)), parts: [x] } : null;
    },
    note: ([x]) => `log(1 - sigmoid(${x})) computed as logSigmoid(-${op(x)}) (finite for large |${x}|)`,
  },
  {
    name: 'log(softmax(x))',
    match: (n) => {
      const s = logOf(n) && (softmaxComposite(arg(n)) ?? spelledSoftmax(arg(n)));
      return s ? { node: logSoftmaxOf(s.x, s.axes), parts: [s.x], axes: s.axes } : null;
    },
    note: ([x], axes) => `log(softmax(${x}${axes})) computed as logSoftmax(${x}${axes}) (finite however far apart the entries of ${x} are)`,
  },
  {
    name: 'log(sum(exp(x)))',
    match: (n) => {
      const s = logOf(n);
      if (!s || !is(s, 'sum') || !is(arg(s), 'exp')) return null;
      const u = arg(arg(s));
      // already shifted by its maximum (logsumexp's own inside, or written so): stable as it is
      if (maxShifted(u, s.attrs.axes!)) return null;
      return { node: b.logsumexp(u, s.attrs.axes!, s.attrs.keepDims!), parts: [u], axes: s.attrs.axes! };
    },
    note: ([x], axes) => `log(sum(exp(${x})${axes})) computed as logsumexp(${x}${axes}) (the maximum subtracted first: no overflow for large ${x})`,
  },
  {
    name: 'log(1 + exp(x))',
    match: (n) => {
      const e = is(n, 'log') ? onePlus(arg(n)) : is(n, 'log1p') ? arg(n) : null;
      return e && is(e, 'exp') ? { node: b.softplus(arg(e)), parts: [arg(e)] } : null;
    },
    note: ([x]) => `log(1 + exp(${x})) computed as softplus(${x}) (no overflow for large ${x})`,
  },
  {
    name: 'log(where(c, a, b))',
    match: (n, ctx) => {
      const w = logOf(n);
      if (!w || !is(w, 'where')) return null;
      const [p, q] = [stableLog(arg(w, 1), ctx), stableLog(arg(w, 2), ctx)];
      return p && q ? { node: b.where(arg(w), p, q), parts: [arg(w, 1), arg(w, 2)] } : null;
    },
    note: ([p, q]) => `log(where(..., ${p}, ${q})) computed as where(..., log(${p}), log(${q})), each in its stable form`,
  },
  {
    // a reduction in between: the probability of a target distribution (or one-hot) under a softmax
    name: 'log(sum(t * softmax(x)))',
    match: (n) => {
      const s = logOf(n);
      if (!s || !is(s, 'sum') || !is(arg(s), 'mul')) return null;
      const axes = s.attrs.axes!;
      const m = arg(s);
      for (const [t, p] of [
        [arg(m), arg(m, 1)],
        [arg(m, 1), arg(m)],
      ] as const) {
        const sm = softmaxComposite(p) ?? spelledSoftmax(p);
        if (!sm || !sameAxes(sm.axes, axes)) continue;
        // t must not widen the product (its axes would then not be the softmax's)
        if (!isAllAxes(axes) && !broadcastsTo(t.shape, p.shape)) continue;
        const shifted = b.add(logSoftmaxOf(sm.x, sm.axes), b.log(t));
        return { node: b.logsumexp(shifted, axes, s.attrs.keepDims!), parts: [t, sm.x], axes };
      }
      return null;
    },
    note: ([t, x], axes) =>
      `log(sum(${op(t)} * softmax(${x}${axes})${axes})) computed as logsumexp(logSoftmax(${x}${axes}) + log(${t})${axes}) (finite however far apart the entries of ${x} are)`,
  },
  {
    // a selection or a view in between: log(gather(softmax(x), target)) is gather(logSoftmax(x), target)
    name: 'log(gather(y))',
    match: (n, ctx) => {
      const g = logOf(n);
      if (!g || !['gather', 'broadcastTo', 'unsqueeze'].includes(g.op)) return null;
      const l = stableLog(arg(g), ctx);
      return l ? { node: g.graph.make(g.op, [l, ...g.inputs.slice(1)], g.attrs), parts: [arg(g)] } : null;
    },
    note: ([y]) => `log(gather(${y}, ...)) computed as gather(log(${y}), ...), the log in its stable form (likewise through unsqueeze and broadcasts)`,
  },
  {
    name: 'log(1 + x)',
    match: (n) => {
      const x = logOf(n) && onePlus(arg(n));
      return x ? { node: b.log1p(x), parts: [x] } : null;
    },
    note: ([x]) => `log(1 + ${op(x)}) computed as log1p(${x}) (exact for small ${x})`,
  },
];

/** x * log(y) with torch.xlogy's convention: 0 where x is 0 (a target or weight that is 0 there). */
function xlogyMatch(n: Node, ctx: MatchContext): StableMatch | null {
  if (!is(n, 'mul')) return null;
  for (const [t, l] of [
    [arg(n), arg(n, 1)],
    [arg(n, 1), arg(n)],
  ] as const) {
    if (!is(l, 'log')) continue;
    const y = arg(l);
    if (y === t) return { node: b.xlogy(t, t), parts: [t, t] };
    if (!meaningful(t, ctx)) continue;
    // t log(t / q): t log t - t log q, each 0 where t is 0 (KL divergence); log q in its
    // stable form when it has one (t * logSoftmax(x) is 0 where t is 0 too)
    const times = (q: Node): Node => {
      const l = stableLog(q, ctx);
      return l ? b.mul(t, l) : b.xlogy(t, q);
    };
    if (is(y, 'div') && arg(y) === t) return { node: b.sub(b.xlogy(t, t), times(arg(y, 1))), parts: [t, y, arg(y, 1)] };
    return { node: b.xlogy(t, y), parts: [t, y] };
  }
  // t (log t - r): torch's kl_div, xlogy(t, t) - t r (0 where t is 0)
  for (const [t, d] of [
    [arg(n), arg(n, 1)],
    [arg(n, 1), arg(n)],
  ] as const) {
    if (is(d, 'sub') && is(arg(d), 'log') && arg(arg(d)) === t && meaningful(t, ctx)) return { node: b.sub(b.xlogy(t, t), b.mul(t, arg(d, 1))), parts: [t, t] };
  }
  return null;
}
/** A factor that is data (no gradient flows into it) and not a constant: a target, a mask, a weight. */
function meaningful(t: Node, ctx: MatchContext): boolean {
  return t.op !== 'const' && t.op !== 'param' && ctx.isData(t);
}

export const STABLE_RULES: readonly StableRule[] = [
  {
    name: 'x ** 2',
    match: (n) => (is(n, 'pow') && isConst(arg(n, 1), 2) ? { node: b.mul(arg(n), arg(n)), parts: [arg(n)] } : null),
    note: ([x]) => `${op(x)} ** 2 computed as ${op(x)} * ${op(x)} (one exact rounding, no pow call; gradient 2 * ${op(x)})`,
  },
  {
    name: '1 / (1 + exp(-x))',
    match: (n) => {
      const x = literalSigmoidArg(n);
      if (x) return { node: b.sigmoid(x), parts: [x] };
      // a / (1 + exp(-x)): a * sigmoid(x)
      const d = is(n, 'div') ? onePlus(arg(n, 1)) : null;
      const y = d && is(d, 'exp') ? negated(arg(d)) : null;
      return y ? { node: b.mul(arg(n), b.sigmoid(y)), parts: [y] } : null;
    },
    note: ([x]) => `1 / (1 + exp(-${op(x)})) computed as sigmoid(${x}) (no overflow for large |${x}|)`,
  },
  {
    name: 'exp(x) - 1',
    match: (n) => {
      let e: Node | null = null;
      if (is(n, 'sub') && isConst(arg(n, 1), 1)) e = arg(n);
      else if (is(n, 'add') && isConst(arg(n, 1), -1)) e = arg(n);
      else if (is(n, 'add') && isConst(arg(n), -1)) e = arg(n, 1);
      return e && is(e, 'exp') ? { node: b.expm1(arg(e)), parts: [arg(e)] } : null;
    },
    note: ([x]) => `exp(${x}) - 1 computed as expm1(${x}) (exact for small ${x})`,
  },
  {
    name: 'exp(x) / sum(exp(x))',
    match: (n) => {
      const s = spelledSoftmax(n);
      // with the maximum subtracted it is stable already
      return s && !s.shifted ? { node: b.exp(logSoftmaxOf(s.x, s.axes)), parts: [s.x], axes: s.axes } : null;
    },
    note: ([x], axes) => `exp(${x}) / sum(exp(${x})${axes}) computed as softmax(${x}${axes}) (no overflow for large ${x})`,
  },
  ...LOG_RULES,
  {
    name: 'x * log(y)',
    match: xlogyMatch,
    note: ([t, y, q]) =>
      q !== undefined
        ? `${op(t)} * log(${y}) computed as xlogy(${t}, ${t}) - ${op(t)} * log(${q}) (0 where ${t} is 0, as torch's kl_div; log(${q}) in its stable form)`
        : t === y
          ? `${op(t)} * log(${t}) computed as xlogy(${t}, ${t}) (0 where ${t} is 0, as torch.xlogy)`
          : `${op(t)} * log(${y}) computed as xlogy(${t}, ${y}) (0 where ${t} is 0, as torch.xlogy)`,
  },
  {
    name: 'sqrt(sum(x * x))',
    match: (n) => {
      const m = normArg(n);
      if (!m) return null;
      const { x, sum } = m;
      // torch's norm backward: x / |x|, masked to 0 where the norm is 0; stated for the sum of
      // squares s (d sqrt(s) / ds = 0.5 / sqrt(s), 0 where s = 0), so that it keeps the norm's shape
      return { node: b.withGrad(n, [sum, b.where(b.eq(sum, 0), 0, b.div(0.5, n))]), parts: [x], axes: sum.attrs.axes! };
    },
    note: ([x], axes) => `sqrt(sum(${op(x)} * ${op(x)}${axes})) is a norm: its gradient is 0 where ${x} is 0, as torch's norm (not NaN)`,
  },
];
