// The class-index losses as they were written with the TS builders before they moved to
// dsl/stdlib/classification.loss: the reference the .loss versions must build node-for-node
// (sameGraph.test.ts), overloads included. Following torch 1.13's definitions
// (aten/src/ATen/native/LossNLL.cpp, LossMultiMargin.cpp, LossMultiLabelMargin.cpp, torch/nn/functional.py).
import type { LossDef, OptionSpec, InputSpec, BuildContext, InputCheck } from '../../compiler/loss.js';
import type { Node } from '../../compiler/ir/node.js';
import {
  add,
  and,
  cast,
  div,
  dim,
  eq,
  gather,
  gt,
  iota,
  le,
  logSigmoid,
  logSoftmax,
  lt,
  mul,
  ne,
  neg,
  not,
  numel,
  reduce,
  sub,
  sum,
  unsqueeze,
  where,
} from '../../compiler/ir/builders.js';

const reduction: OptionSpec = { name: 'reduction', type: 'enum', values: ['none', 'mean', 'sum'], default: 'mean' };
const weight: OptionSpec = { name: 'weight', type: 'tensor', default: null, rank: 1, doc: 'a rescaling weight per class, shape [C]' };
const ignoreIndex: OptionSpec = { name: 'ignoreIndex', type: 'number', default: -100, integer: true, doc: 'a target value that contributes nothing' };
const float = (name: string, differentiable = true): InputSpec => ({ name, kind: 'float', differentiable });
/** class indices: the input's shape without the class axis */
const classTarget: InputSpec = { name: 'target', kind: 'int', shapeLike: { input: 'input', dropAxis: 1 } };

/** torch accepts one sample without its batch axis: seen as a batch of one. */
const unbatched = (rank: number, ...inputs: string[]): InputCheck => ({ kind: 'batchIfUnbatched', of: 'input', rank, inputs });
const classWeight = (
  message = 'weight tensor should be defined either for all {classes} classes or no classes but got weight tensor of shape: {shape}',
): InputCheck => ({ kind: 'classWeight', input: 'weight', of: 'input', axis: 1, message });
const labelSmoothingRange: InputCheck = {
  kind: 'optionRange',
  option: 'labelSmoothing',
  min: 0,
  max: 1,
  message: 'label_smoothing must be between 0.0 and 1.0. Got: {value}',
};
const classIndex = (extra: Partial<Extract<InputCheck, { kind: 'classIndex' }>> = {}): InputCheck => ({
  kind: 'classIndex',
  input: 'target',
  of: 'input',
  axis: 1,
  ...extra,
});

/** weight[c] for every class position c along `axis` of x: broadcasts against x whatever its rank. */
const weightAlong = (w: Node, x: Node, axis: number): Node => gather(w, iota(x, axis), 0);

/**
 * torch's nll_loss over log-probabilities `logp` [N, C, d...] and class indices `t` [N, d...]:
 * -w[t] logp[t] per position, 0 where t == ignoreIndex; 'mean' divides by the sum of w[t] over
 * positions not ignored (0/0 = nan when all are).
 */
function nll(c: BuildContext, logp: Node, t: Node, w: Node | null): { perPosition: Node; valid: Node; weightSum: Node } {
  const valid = ne(cast(t, 'float'), c.num('ignoreIndex')); // exact: class indices are far below 2^24
  const wt = w ? gather(w, t, 0) : null;
  const picked = gather(logp, t, 1);
  const perPosition = where(valid, neg(wt ? mul(picked, wt) : picked), 0);
  return { perPosition, valid, weightSum: sum(where(valid, wt ?? 1, 0)) };
}

const reduceNll = (r: string, perPosition: Node, weightSum: Node): Node => (r === 'mean' ? div(sum(perPosition), weightSum) : reduce(perPosition, r));

export const NLLLoss: LossDef = {
  name: 'NLLLoss',
  doc: 'negative log likelihood of class indices under log-probabilities: -weight[t] * input[t]',
  inputs: [float('input'), classTarget],
  options: [weight, ignoreIndex, reduction],
  checks: [unbatched(1, 'input', 'target'), classWeight(), classIndex({ ignore: 'ignoreIndex' })],
  build: (c) => {
    const { perPosition, weightSum } = nll(c, c.input('input'), c.input('target'), c.tensor('weight'));
    return reduceNll(c.str('reduction'), perPosition, weightSum);
  },
};

const crossEntropyOptions: OptionSpec[] = [weight, ignoreIndex, reduction, { name: 'labelSmoothing', type: 'number', default: 0, cases: [0] }];

/** CrossEntropyLoss with class probabilities as targets (same shape as input). */
const CrossEntropyLossProbabilities: LossDef = {
  name: 'CrossEntropyLoss',
  doc: 'cross entropy against class probabilities: -sum_c weight[c] target[c] log_softmax(input)[c]',
  inputs: [float('input'), { name: 'target', kind: 'float', shapeLike: { input: 'input' } }],
  options: crossEntropyOptions,
  checks: [
    labelSmoothingRange,
    unbatched(1, 'input', 'target'),
    classWeight('cross_entropy: weight tensor should be defined either for all {classes} classes or no classes but got weight tensor of shape: {shape}'),
    { kind: 'sameShape', input: 'target', like: 'input', message: 'class-probability targets must have the shape of input: target {target}, input {input}' },
  ],
  build: (c) => {
    const [x, t0, w] = [c.input('input'), c.input('target'), c.tensor('weight')];
    const classes = dim(x, 1);
    const logp = logSoftmax(x, 1);
    const eps = c.numCase('labelSmoothing') === 0 ? null : c.num('labelSmoothing');
    const t = eps ? add(mul(t0, sub(1, eps)), div(eps, classes)) : t0;
    const terms = w ? mul(mul(logp, t), weightAlong(w, x, 1)) : mul(logp, t);
    const r = c.str('reduction');
    if (r === 'none') return neg(sum(terms, [1]));
    if (r === 'sum') return neg(sum(terms));
    return div(neg(sum(terms)), div(numel(x), classes)); // mean over N * d1 * ... * dk
  },
};

export const CrossEntropyLoss: LossDef = {
  name: 'CrossEntropyLoss',
  doc: 'cross entropy of class indices under softmax(input), with weights, ignore_index and label smoothing',
  inputs: [float('input'), classTarget],
  options: crossEntropyOptions,
  checks: [labelSmoothingRange, unbatched(1, 'input', 'target'), classWeight(), classIndex({ ignore: 'ignoreIndex' })],
  overloads: [CrossEntropyLossProbabilities],
  build: (c) => {
    const [x, t, w] = [c.input('input'), c.input('target'), c.tensor('weight')];
    const logp = logSoftmax(x, 1);
    const { perPosition, valid, weightSum } = nll(c, logp, t, w);
    const r = c.str('reduction');
    const loss = reduceNll(r, perPosition, weightSum);
    if (c.numCase('labelSmoothing') === 0) return loss;
    const eps = c.num('labelSmoothing');
    // (1 - eps) * nll + eps / C * the smoothing term, which spreads the target over every class
    const smoothPerPosition = where(valid, neg(sum(w ? mul(logp, weightAlong(w, x, 1)) : logp, [1])), 0);
    const smooth = r === 'mean' ? div(sum(smoothPerPosition), w ? weightSum : sum(where(valid, 1, 0))) : reduce(smoothPerPosition, r);
    return add(mul(loss, sub(1, eps)), mul(smooth, div(eps, dim(x, 1))));
  },
};

export const MultiMarginLoss: LossDef = {
  name: 'MultiMarginLoss',
  doc: 'multi-class hinge: sum over i != y of max(0, margin - x[y] + x[i])^p * weight[y], divided by C',
  inputs: [float('input'), classTarget],
  options: [{ name: 'p', type: 'number', default: 1, cases: [1, 2], integer: true }, { name: 'margin', type: 'number', default: 1 }, weight, reduction],
  checks: [
    { kind: 'optionRange', option: 'p', min: 1, max: 2, message: 'only p == 1 and p == 2 supported' },
    unbatched(1, 'input', 'target'),
    classWeight('inconsistent weight size, expected {classes} but got {shape}'),
    classIndex(),
  ],
  build: (c) => {
    const [x, t, w] = [c.input('input'), c.input('target'), c.tensor('weight')];
    const p = c.numCase('p');
    if (p === 'other') throw new RangeError('MultiMarginLoss: only p == 1 and p == 2 supported');
    const z = add(sub(c.num('margin'), unsqueeze(gather(x, t, 1), [1])), x);
    // torch's kernel tests z > 0: no loss and no gradient exactly at the margin
    const counted = and(ne(iota(x, 1), unsqueeze(t, [1])), gt(z, 0));
    let h = where(counted, p === 1 ? z : mul(z, z), 0);
    if (w) h = mul(h, unsqueeze(gather(w, t, 0), [1]));
    return reduce(div(sum(h, [1]), dim(x, 1)), c.str('reduction'));
  },
};

export const MultiLabelMarginLoss: LossDef = {
  name: 'MultiLabelMarginLoss',
  doc: 'multi-label hinge: for each target label j (up to the first -1) and non-target class i, max(0, 1 - (x[j] - x[i])), divided by C',
  inputs: [float('input'), { name: 'target', kind: 'int', shapeLike: { input: 'input' } }],
  options: [reduction],
  checks: [unbatched(1, 'input', 'target'), classIndex({ sameShape: true, min: -1 })],
  build: (c) => {
    const [x, t] = [c.input('input'), c.input('target')];
    // pairs (j, c) of a target slot and a class: a [N, slots, C] space
    const pairs = add(unsqueeze(x, [1]), unsqueeze(cast(t, 'float'), [2]));
    const slot = iota(pairs, 1);
    const cls = iota(pairs, 2);
    // slot j counts while no -1 appears at or before it
    const negativeUpTo = sum(where(and(le(cls, slot), unsqueeze(lt(t, 0), [1])), 1, 0), [2]);
    const validSlot = eq(negativeUpTo, 0);
    const hit = and(unsqueeze(validSlot, [2]), eq(unsqueeze(t, [2]), cls)); // slot j names class c
    const isTarget = gt(sum(where(hit, 1, 0), [1]), 0);
    const xTarget = sum(where(hit, unsqueeze(x, [1]), 0), [2]); // x[t[j]]
    const z = add(sub(1, unsqueeze(xTarget, [2])), unsqueeze(x, [1]));
    const counted = and(and(unsqueeze(validSlot, [2]), unsqueeze(not(isTarget), [1])), gt(z, 0));
    return reduce(div(sum(where(counted, z, 0), [1, 2]), dim(x, 1)), c.str('reduction'));
  },
};

export const MultiLabelSoftMarginLoss: LossDef = {
  name: 'MultiLabelSoftMarginLoss',
  doc: 'per-class logistic loss averaged over classes: -(y log sigmoid(x) + (1 - y) log sigmoid(-x)) * weight',
  inputs: [float('input'), float('target')],
  options: [weight, reduction],
  build: (c) => {
    const [x, y, w] = [c.input('input'), c.input('target'), c.tensor('weight')];
    let loss = neg(add(mul(y, logSigmoid(x)), mul(sub(1, y), logSigmoid(neg(x)))));
    if (w) loss = mul(loss, w);
    return reduce(div(sum(loss, [-1]), dim(x, -1)), c.str('reduction'));
  },
};

export const classificationLosses: readonly LossDef[] = [CrossEntropyLoss, NLLLoss, MultiMarginLoss, MultiLabelMarginLoss, MultiLabelSoftMarginLoss];
