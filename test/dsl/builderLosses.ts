// The pointwise losses as they were written with the TS builders before they moved to
// dsl/stdlib/*.loss: the reference the .loss versions must build node-for-node (sameGraph.test.ts).
// The class-index, embedding and sequence losses are in the builder*.ts files beside this one.
import type { LossDef, OptionSpec, InputSpec } from '../../compiler/loss.js';
import {
  abs,
  add,
  clampMin,
  div,
  exp,
  log,
  log1p,
  logSigmoid,
  softplus,
  mul,
  ne,
  neg,
  reduce,
  sigmoid,
  square,
  sub,
  sum,
  dim,
  where,
  withGrad,
  xlogy,
  le,
  lt,
  ge,
  gt,
} from '../../compiler/ir/builders.js';
import type { Node } from '../../compiler/ir/node.js';
import { classificationLosses } from './builderClassification.js';
import { embeddingLosses } from './builderEmbedding.js';
import { sequenceLosses } from './builderSequence.js';

const reduction = (values: readonly string[] = ['none', 'mean', 'sum']): OptionSpec => ({ name: 'reduction', type: 'enum', values, default: 'mean' });
const num = (name: string, dflt: number): OptionSpec => ({ name, type: 'number', default: dflt });
const flag = (name: string, dflt: boolean): OptionSpec => ({ name, type: 'bool', default: dflt });
const weight = (name = 'weight'): OptionSpec => ({ name, type: 'tensor', default: null });
const f = (name: string, differentiable = true): InputSpec => ({ name, kind: 'float', differentiable });
const inputTarget = [f('input'), f('target')];

const TWO_PI = 2 * Math.PI;
/** torch's BCE backward clamps x(1 - x) at a float constant 1e-12: 9.99999996e-13 even in float64 */
const BCE_EPSILON = Math.fround(1e-12);

export const L1Loss: LossDef = {
  name: 'L1Loss',
  doc: 'mean absolute error |input - target|',
  inputs: inputTarget,
  options: [reduction()],
  build: (c) => reduce(abs(sub(c.input('input'), c.input('target'))), c.str('reduction')),
};

export const MSELoss: LossDef = {
  name: 'MSELoss',
  doc: 'mean squared error (input - target)^2',
  inputs: inputTarget,
  options: [reduction()],
  build: (c) => reduce(square(sub(c.input('input'), c.input('target'))), c.str('reduction')),
};

/** torch's smooth_l1 backward, as a function of d = a - b: -1 below -beta, 1 above beta, d/beta between. */
const smoothL1Slope = (d: Node, beta: Node): Node => where(le(d, neg(beta)), -1, where(ge(d, beta), 1, div(d, beta)));

export const SmoothL1Loss: LossDef = {
  name: 'SmoothL1Loss',
  doc: '0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target)',
  inputs: inputTarget,
  options: [reduction(), num('beta', 1.0)],
  checks: [{ kind: 'optionRange', option: 'beta', min: 0, message: 'smooth_l1_loss does not support negative values for beta.' }],
  build: (c) => {
    const [x, y, beta] = [c.input('input'), c.input('target'), c.num('beta')];
    const z = abs(sub(x, y));
    const value = where(lt(z, beta), div(mul(mul(0.5, z), z), beta), sub(z, mul(0.5, beta)));
    // torch differentiates the target by swapping the arguments: at beta = 0, d = 0 both get -1
    const loss = withGrad(value, [x, smoothL1Slope(sub(x, y), beta)], [y, smoothL1Slope(sub(y, x), beta)]);
    return reduce(loss, c.str('reduction'));
  },
};

/** torch's huber backward, as a function of d = a - b: the clipped difference. */
const huberSlope = (d: Node, delta: Node): Node => where(lt(d, neg(delta)), neg(delta), where(gt(d, delta), delta, d));

export const HuberLoss: LossDef = {
  name: 'HuberLoss',
  doc: '0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)',
  inputs: inputTarget,
  options: [reduction(), num('delta', 1.0)],
  checks: [{ kind: 'optionRange', option: 'delta', min: 0, minExclusive: true, message: 'huber_loss does not support non-positive values for delta.' }],
  build: (c) => {
    const [x, y, delta] = [c.input('input'), c.input('target'), c.num('delta')];
    const z = abs(sub(x, y));
    const value = where(lt(z, delta), mul(mul(0.5, z), z), mul(delta, sub(z, mul(0.5, delta))));
    const loss = withGrad(value, [x, huberSlope(sub(x, y), delta)], [y, huberSlope(sub(y, x), delta)]);
    return reduce(loss, c.str('reduction'));
  },
};

export const SoftMarginLoss: LossDef = {
  name: 'SoftMarginLoss',
  doc: 'log(1 + exp(-target * input)), computed literally as torch does',
  inputs: [f('input'), f('target', false)],
  options: [reduction()],
  build: (c) => reduce(log1p(exp(mul(neg(c.input('input')), c.input('target')))), c.str('reduction')),
};

export const BCELoss: LossDef = {
  name: 'BCELoss',
  doc: '-w (y log x + (1 - y) log(1 - x)), each log clamped at -100',
  inputs: inputTarget,
  options: [weight(), reduction()],
  checks: [
    {
      kind: 'sameShape',
      input: 'target',
      like: 'input',
      message: 'Using a target size ({target}) that is different to the input size ({input}) is deprecated. Please ensure they have the same size.',
    },
    { kind: 'range', input: 'input', min: 0, max: 1, message: 'all elements of input should be between 0 and 1' },
    { kind: 'broadcastsTo', input: 'weight', like: 'input', message: "output with shape {like} doesn't match the broadcast shape {broadcast}" },
  ],
  build: (c) => {
    const [x, y, w] = [c.input('input'), c.input('target'), c.tensor('weight')];
    const value = sub(mul(sub(y, 1), clampMin(log1p(neg(x)), -100)), mul(y, clampMin(log(x), -100)));
    // torch: d/dx = (x - y) / max((1 - x) x, 1e-12); d/dy = -logit(x) = log((1 - x) / x)
    const dx = div(sub(x, y), clampMin(mul(sub(1, x), x), BCE_EPSILON));
    const dy = neg(log(div(x, sub(1, x))));
    const loss = withGrad(value, [x, dx], [y, dy]);
    return reduce(w ? mul(loss, w) : loss, c.str('reduction'));
  },
};

export const BCEWithLogitsLoss: LossDef = {
  name: 'BCEWithLogitsLoss',
  doc: 'binary cross entropy on logits, in the log-sum-exp form (finite for any logit)',
  inputs: inputTarget,
  options: [weight(), reduction(), weight('posWeight')],
  checks: [{ kind: 'sameShape', input: 'target', like: 'input', message: 'Target size ({target}) must be the same as input size ({input})' }],
  build: (c) => {
    const [x, y, w, pw] = [c.input('input'), c.input('target'), c.tensor('weight'), c.tensor('posWeight')];
    // torch writes log(1 + e^-x) as log(e^-m + e^(-x-m)) + m, m = max(-x, 0): the same stable
    // value as softplus(-x), which needs one exp where that needs two
    const lse = softplus(neg(x));
    const value = pw ? add(mul(sub(1, y), x), mul(add(mul(sub(pw, 1), y), 1), lse)) : add(mul(sub(1, y), x), lse);
    // torch's backward kernels: d/dx = (pw y + 1 - y) sigmoid(x) - pw y; d/dy = -x (no pos_weight)
    // or log_sigmoid(-x) - pw log_sigmoid(x)
    const t = pw ? mul(pw, y) : null;
    const dx = t ? sub(mul(sub(add(t, 1), y), sigmoid(x)), t) : sub(sigmoid(x), y);
    const dy = pw ? sub(logSigmoid(neg(x)), mul(pw, logSigmoid(x))) : neg(x);
    const loss = withGrad(value, [x, dx], [y, dy]);
    return reduce(w ? mul(loss, w) : loss, c.str('reduction'));
  },
};

export const PoissonNLLLoss: LossDef = {
  name: 'PoissonNLLLoss',
  doc: "exp(input) - target * input (log_input), or input - target * log(input + eps); full adds Stirling's term where target > 1",
  inputs: inputTarget,
  options: [flag('logInput', true), flag('full', false), num('eps', 1e-8), reduction()],
  build: (c) => {
    const [x, y] = [c.input('input'), c.input('target')];
    let loss = c.flag('logInput') ? sub(exp(x), mul(y, x)) : sub(x, mul(y, log(add(x, c.num('eps')))));
    if (c.flag('full')) {
      const stirling = add(sub(mul(y, log(y)), y), mul(0.5, log(mul(TWO_PI, y))));
      loss = add(loss, where(le(y, 1), 0, stirling));
    }
    return reduce(loss, c.str('reduction'));
  },
};

export const GaussianNLLLoss: LossDef = {
  name: 'GaussianNLLLoss',
  doc: '0.5 (log(max(var, eps)) + (input - target)^2 / max(var, eps)), the clamp without gradient',
  inputs: [f('input'), f('target'), f('var')],
  options: [flag('full', false), num('eps', 1e-6), reduction()],
  checks: [
    { kind: 'unsqueezeLastIfMissing', input: 'var', like: 'input', message: 'var is of incorrect size' },
    { kind: 'nonNegative', input: 'var', message: 'var has negative entry/entries' },
  ],
  build: (c) => {
    const [x, y, v0] = [c.input('input'), c.input('target'), c.input('var')];
    const v = withGrad(clampMin(v0, c.num('eps')), [v0, 1]); // torch clamps in no_grad: straight through
    let loss = mul(0.5, add(log(v), div(square(sub(x, y)), v)));
    if (c.flag('full')) loss = add(loss, 0.5 * Math.log(TWO_PI));
    return reduce(loss, c.str('reduction'));
  },
};

export const KLDivLoss: LossDef = {
  name: 'KLDivLoss',
  doc: 'target * (log target - input), or exp(target) * (target - input) with logTarget',
  inputs: inputTarget,
  options: [reduction(['none', 'mean', 'sum', 'batchmean']), flag('logTarget', false)],
  checks: [{ kind: 'batchIfUnbatched', of: 'input', rank: 0, inputs: ['input', 'target'] }],
  build: (c) => {
    const [x, y] = [c.input('input'), c.input('target')];
    const loss = c.flag('logTarget') ? mul(exp(y), sub(y, x)) : sub(xlogy(y, y), mul(y, x));
    const r = c.str('reduction');
    return r === 'batchmean' ? div(sum(loss), dim(x, 0)) : reduce(loss, r);
  },
};

export const MarginRankingLoss: LossDef = {
  name: 'MarginRankingLoss',
  doc: 'max(0, -target * (input1 - input2) + margin)',
  inputs: [f('input1'), f('input2'), f('target')],
  options: [num('margin', 0), reduction()],
  build: (c) => {
    const [a, b2, y] = [c.input('input1'), c.input('input2'), c.input('target')];
    return reduce(clampMin(add(mul(neg(y), sub(a, b2)), c.num('margin')), 0), c.str('reduction'));
  },
};

export const HingeEmbeddingLoss: LossDef = {
  name: 'HingeEmbeddingLoss',
  doc: 'x where target == 1, max(0, margin - x) where target == -1 (torch: both terms for other targets)',
  inputs: [f('input'), f('target', false)],
  options: [num('margin', 1.0), reduction()],
  build: (c) => {
    const [x, y] = [c.input('input'), c.input('target')];
    const marginTerm = where(ne(y, 1), clampMin(sub(c.num('margin'), x), 0), 0);
    const selfTerm = where(ne(y, -1), x, 0);
    return reduce(add(marginTerm, selfTerm), c.str('reduction'));
  },
};

export const pointwiseLosses: readonly LossDef[] = [
  L1Loss,
  MSELoss,
  SmoothL1Loss,
  HuberLoss,
  SoftMarginLoss,
  BCELoss,
  BCEWithLogitsLoss,
  PoissonNLLLoss,
  GaussianNLLLoss,
  KLDivLoss,
  MarginRankingLoss,
  HingeEmbeddingLoss,
];

/** every built-in loss, as written with the builders */
export const builderLosses: readonly LossDef[] = [...pointwiseLosses, ...classificationLosses, ...embeddingLosses, ...sequenceLosses];
