// The embedding losses as they were written with the TS builders before they moved to
// dsl/stdlib/embedding.loss: the reference the .loss versions must build node-for-node
// (sameGraph.test.ts). Following torch 1.13 (aten/src/ATen/native/Loss.cpp, Distance.cpp,
// torch/nn/functional.py).
import type { LossDef, OptionSpec, InputSpec, BuildContext } from '../../compiler/loss.js';
import type { Node } from '../../compiler/ir/node.js';
import { abs, add, amax, clampMin, div, eq, minimum, mul, ne, pow, reduce, sqrt, sub, sum, where, withGrad } from '../../compiler/ir/builders.js';

const reduction: OptionSpec = { name: 'reduction', type: 'enum', values: ['none', 'mean', 'sum'], default: 'mean' };
const float = (name: string, differentiable = true): InputSpec => ({ name, kind: 'float', differentiable });
/** torch wants these shaped alike; saying so lets per-row work share one kernel */
const like = (spec: InputSpec, input: string, dropAxis?: number): InputSpec => ({
  ...spec,
  shapeLike: dropAxis === undefined ? { input } : { input, dropAxis },
});

/** torch adds a float constant 1e-12 to each squared norm: 9.99999996e-13, even in float64 */
const COSINE_EPSILON = Math.fround(1e-12);

/** cos(x1, x2) along axis 1, each squared norm offset by epsilon as torch does (0 for zero vectors) */
function cosineEmbedding(c: BuildContext): Node {
  const [x1, x2, y] = [c.input('input1'), c.input('input2'), c.input('target')];
  const prod = sum(mul(x1, x2), [1]);
  const mag1 = add(sum(mul(x1, x1), [1]), COSINE_EPSILON);
  const mag2 = add(sum(mul(x2, x2), [1]), COSINE_EPSILON);
  const cos = div(prod, sqrt(mul(mag1, mag2)));
  const pos = sub(1, cos);
  const neg = clampMin(sub(cos, c.num('margin')), 0);
  return reduce(add(where(eq(y, 1), pos, 0), where(eq(y, -1), neg, 0)), c.str('reduction'));
}

const cosineOptions: OptionSpec[] = [{ name: 'margin', type: 'number', default: 0 }, reduction];
const cosineChecks = [{ kind: 'batchIfUnbatched', of: 'input1', rank: 1, inputs: ['input1', 'input2', 'target'] }] as const;

export const CosineEmbeddingLoss: LossDef = {
  name: 'CosineEmbeddingLoss',
  doc: '1 - cos(x1, x2) where target == 1, max(0, cos(x1, x2) - margin) where target == -1',
  inputs: [float('input1'), like(float('input2'), 'input1'), like(float('target', false), 'input1', 1)],
  options: cosineOptions,
  checks: cosineChecks,
  build: cosineEmbedding,
  overloads: [
    {
      name: 'CosineEmbeddingLoss',
      doc: 'with integer targets',
      inputs: [float('input1'), like(float('input2'), 'input1'), like({ name: 'target', kind: 'int' }, 'input1', 1)],
      options: cosineOptions,
      checks: cosineChecks,
      build: cosineEmbedding,
    },
  ],
};

/** √s whose derivative is 0 at s = 0, as torch's norm backward masks zero norms. */
const maskedSqrt = (s: Node): Node => withGrad(sqrt(s), [s, where(eq(s, 0), 0, div(0.5, sqrt(s)))]);

/** ||v||_p along the last axis, with torch's gradient conventions at zero norms. */
export function pnorm(v: Node, p: Node | 0 | 1 | 2 | typeof Infinity): Node {
  if (p === 1) return sum(abs(v), [-1]);
  if (p === 2) return maskedSqrt(sum(mul(v, v), [-1]));
  if (p === Infinity) return amax(abs(v), [-1]);
  if (p === 0) return sum(where(ne(v, 0), 1, 0), [-1]);
  const s = sum(pow(abs(v), p), [-1]);
  const invP = div(1, p);
  return withGrad(pow(s, invP), [s, where(eq(s, 0), 0, mul(invP, pow(s, sub(invP, 1))))]);
}

/** torch's pairwise_distance: ||x1 - x2 + eps||_p over the last axis. */
export const pairwiseDistance = (a: Node, b: Node, p: Node | 0 | 1 | 2 | typeof Infinity = 2, eps: Node | number = 1e-6): Node => pnorm(add(sub(a, b), eps), p);

function tripletLoss(c: BuildContext, distance: (a: Node, b: Node) => Node): Node {
  const [a, pos, neg] = [c.input('anchor'), c.input('positive'), c.input('negative')];
  const dPos = distance(a, pos);
  let dNeg = distance(a, neg);
  if (c.flag('swap')) dNeg = minimum(dNeg, distance(pos, neg));
  return reduce(clampMin(sub(add(c.num('margin'), dPos), dNeg), 0), c.str('reduction'));
}

const tripletInputs = [float('anchor'), like(float('positive'), 'anchor'), like(float('negative'), 'anchor')];

export const TripletMarginLoss: LossDef = {
  name: 'TripletMarginLoss',
  doc: 'max(0, margin + d(anchor, positive) - d(anchor, negative)), d = ||a - b + eps||_p',
  inputs: tripletInputs,
  options: [
    { name: 'margin', type: 'number', default: 1 },
    { name: 'p', type: 'number', default: 2, cases: [0, 1, 2, Infinity] },
    { name: 'eps', type: 'number', default: 1e-6 },
    { name: 'swap', type: 'bool', default: false },
    reduction,
  ],
  build: (c) => {
    const p = c.numCase('p');
    return tripletLoss(c, (x, y) => pairwiseDistance(x, y, p === 'other' ? c.num('p') : p, c.num('eps')));
  },
};

export const TripletMarginWithDistanceLoss: LossDef = {
  name: 'TripletMarginWithDistanceLoss',
  doc: 'max(0, margin + d(anchor, positive) - d(anchor, negative)) for any distance function of two tensors (default: pairwise_distance)',
  inputs: tripletInputs,
  options: [
    { name: 'distanceFunction', type: 'function', default: null, doc: 'a lossc builder function (a, b) => distance per sample' },
    { name: 'margin', type: 'number', default: 1 },
    { name: 'swap', type: 'bool', default: false },
    reduction,
  ],
  build: (c) => tripletLoss(c, c.fn('distanceFunction') ?? ((x, y) => pairwiseDistance(x, y))),
};

export const embeddingLosses: readonly LossDef[] = [CosineEmbeddingLoss, TripletMarginLoss, TripletMarginWithDistanceLoss];
