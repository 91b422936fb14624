// Naive formulations of common losses, as a new user writes them: each in the loss language and
// with the TypeScript builders, the reference it must equal once stabilised (a built-in loss,
// or a stable float64 formula written with the stable builders), the inputs it is tried on
// (ordinary, and extreme: |x| up to 1e4, probabilities 0 and 1), and the rules that must fire.
import * as B from '../../compiler/ir/builders.js';
import type { Node } from '../../compiler/ir/node.js';
import type { InputSpec } from '../../compiler/loss.js';
import { tensor, type Tensor } from '../../runtime/index.js';

export type InputSet = 'binary' | 'binarySoft' | 'signs' | 'classes' | 'indices' | 'regression' | 'pairs';

export interface CorpusEntry {
  readonly name: string;
  readonly inputs: InputSet;
  /** the loss's parameters and body, in the loss language */
  readonly dsl: string;
  /** the same, with the builders: arguments in the order of the .loss inputs */
  readonly ts: (...xs: Node[]) => Node;
  /** a built-in loss (with options) or a stable formula (loss-language parameters and body, compiled as written) */
  readonly reference: { readonly builtin: string; readonly options?: Record<string, unknown> } | { readonly dsl: string };
  /** the rules that fire, in the order they fire */
  readonly fires: readonly string[];
}

const PARAMS: Record<InputSet, string> = {
  binary: 'input: f32[N], nograd target: f32[N]',
  binarySoft: 'input: f32[N], nograd target: f32[N]',
  signs: 'input: f32[N], nograd target: f32[N]',
  classes: 'input: f32[N, C], nograd target: f32[N, C]',
  indices: 'input: f32[N, C], target: i32[N]',
  regression: 'input: f32[N], nograd target: f32[N]',
  pairs: 'x1: f32[N, D], x2: f32[N, D]',
};
/** The same inputs for the builders: a target shaped like the input, as the .loss declarations say. */
const target = { name: 'target', kind: 'float', differentiable: false, shapeLike: { input: 'input' } } as const;
export const SPECS: Record<InputSet, (string | InputSpec)[]> = {
  binary: ['input', target],
  binarySoft: ['input', target],
  signs: ['input', target],
  classes: ['input', target],
  indices: ['input', { name: 'target', kind: 'int', shapeLike: { input: 'input', dropAxis: 1 } }],
  regression: ['input', target],
  pairs: ['x1', { name: 'x2', kind: 'float', shapeLike: { input: 'x1' } }],
};

export const lossSource = (name: string, set: InputSet, body: string): string => `loss ${name}(${PARAMS[set]}) {\n${body}\n}\n`;

const bce = (t: Node, p: Node, q: Node): Node => B.neg(B.add(B.mul(t, B.log(p)), B.mul(B.sub(1, t), B.log(q))));

export const CORPUS: readonly CorpusEntry[] = [
  {
    name: 'BceLogSigmoid',
    inputs: 'binary',
    dsl: 'return mean(-(target * log(sigmoid(input)) + (1 - target) * log(1 - sigmoid(input))))',
    ts: (x, t) => B.mean(bce(t!, B.sigmoid(x!), B.sub(1, B.sigmoid(x!)))),
    reference: { builtin: 'BCEWithLogitsLoss' },
    fires: ['log(sigmoid(x))', 'log(1 - sigmoid(x))'],
  },
  {
    name: 'BceLiteralSigmoid',
    inputs: 'binary',
    dsl: 'let p = 1 / (1 + exp(-input))\nreturn mean(-(target * log(p) + (1 - target) * log(1 - p)))',
    ts: (x, t) => {
      const p = B.div(1, B.add(1, B.exp(B.neg(x!))));
      return B.mean(bce(t!, p, B.sub(1, p)));
    },
    reference: { builtin: 'BCEWithLogitsLoss' },
    fires: ['1 / (1 + exp(-x))', 'log(sigmoid(x))', 'log(1 - sigmoid(x))'],
  },
  {
    name: 'BceExpRatio',
    inputs: 'binary',
    dsl: 'let p = exp(input) / (1 + exp(input))\nreturn mean(-(target * log(p) + (1 - target) * log(1 - p)))',
    ts: (x, t) => {
      const p = B.div(B.exp(x!), B.add(1, B.exp(x!)));
      return B.mean(bce(t!, p, B.sub(1, p)));
    },
    reference: { builtin: 'BCEWithLogitsLoss' },
    fires: ['1 / (1 + exp(-x))', 'log(sigmoid(x))', 'log(1 - sigmoid(x))'],
  },
  {
    name: 'BceSoftTargetsSum',
    inputs: 'binarySoft',
    dsl: 'return sum(-(target * log(sigmoid(input)) + (1 - target) * log(1 + -sigmoid(input))))',
    ts: (x, t) => B.sum(bce(t!, B.sigmoid(x!), B.add(1, B.neg(B.sigmoid(x!))))),
    reference: { builtin: 'BCEWithLogitsLoss', options: { reduction: 'sum' } },
    fires: ['log(sigmoid(x))', 'log(1 - sigmoid(x))'],
  },
  {
    name: 'SoftplusByHand',
    inputs: 'binary',
    dsl: 'return mean(log(1 + exp(input)) - input * target)',
    ts: (x, t) => B.mean(B.sub(B.log(B.add(1, B.exp(x!))), B.mul(x!, t!))),
    reference: { builtin: 'BCEWithLogitsLoss' },
    fires: ['log(1 + exp(x))'],
  },
  {
    name: 'SoftMarginByHand',
    inputs: 'signs',
    dsl: 'return mean(log(1 + exp(-target * input)))',
    ts: (x, t) => B.mean(B.log(B.add(1, B.exp(B.mul(B.neg(t!), x!))))),
    // torch's SoftMarginLoss computes this literally (inf for -target * input > 709)
    reference: { dsl: 'return mean(softplus(-target * input))' },
    fires: ['log(1 + exp(x))'],
  },
  {
    name: 'LogOfLiteralSigmoid',
    inputs: 'binary',
    dsl: 'return mean(-log(1 / (1 + exp(-input))) * target)',
    ts: (x, t) => B.mean(B.mul(B.neg(B.log(B.div(1, B.add(1, B.exp(B.neg(x!)))))), t!)),
    reference: { dsl: 'return mean(softplus(-input) * target)' },
    fires: ['1 / (1 + exp(-x))', 'log(sigmoid(x))'],
  },
  {
    name: 'CeLogSoftmax',
    inputs: 'classes',
    dsl: 'return mean(sum(-target * log(softmax(input, 1)), 1))',
    ts: (x, t) => B.mean(B.sum(B.mul(B.neg(t!), B.log(B.softmax(x!, 1))), [1])),
    reference: { builtin: 'CrossEntropyLoss' },
    fires: ['log(softmax(x))'],
  },
  {
    name: 'CeExpOverSum',
    inputs: 'classes',
    dsl: 'let p = exp(input) / sum(exp(input), axis=1, keepdims=true)\nreturn mean(sum(-target * log(p), 1))',
    ts: (x, t) => {
      const p = B.div(B.exp(x!), B.sum(B.exp(x!), [1], true));
      return B.mean(B.sum(B.mul(B.neg(t!), B.log(p)), [1]));
    },
    reference: { builtin: 'CrossEntropyLoss' },
    fires: ['exp(x) / sum(exp(x))', 'log(softmax(x))'],
  },
  {
    name: 'CeShiftedByHand',
    inputs: 'classes',
    dsl: 'let m = amax(input, axis=1, keepdims=true)\nlet e = exp(input - m)\nlet p = e / sum(e, axis=1, keepdims=true)\nreturn mean(sum(-target * log(p), 1))',
    ts: (x, t) => {
      const e = B.exp(B.sub(x!, B.amax(x!, [1], true)));
      const p = B.div(e, B.sum(e, [1], true));
      return B.mean(B.sum(B.mul(B.neg(t!), B.log(p)), [1]));
    },
    reference: { builtin: 'CrossEntropyLoss' },
    fires: ['log(softmax(x))'],
  },
  {
    name: 'CeIndicesGather',
    inputs: 'indices',
    dsl: 'return -mean(gather(log(softmax(input, 1)), target, 1))',
    ts: (x, t) => B.neg(B.mean(B.gather(B.log(B.softmax(x!, 1)), t!, 1))),
    reference: { builtin: 'CrossEntropyLoss' },
    fires: ['log(softmax(x))'],
  },
  {
    name: 'CeGatherThenLog',
    inputs: 'indices',
    dsl: 'return -mean(log(gather(softmax(input, 1), target, 1)))',
    ts: (x, t) => B.neg(B.mean(B.log(B.gather(B.softmax(x!, 1), t!, 1)))),
    reference: { builtin: 'CrossEntropyLoss' },
    fires: ['log(gather(y))'],
  },
  {
    name: 'LogProbabilityOfTarget',
    inputs: 'classes',
    dsl: 'return -mean(log(sum(target * softmax(input, 1), 1)))',
    ts: (x, t) => B.neg(B.mean(B.log(B.sum(B.mul(t!, B.softmax(x!, 1)), [1])))),
    reference: { dsl: 'return -mean(logsumexp(logSoftmax(input, 1) + log(target), 1))' },
    fires: ['log(sum(t * softmax(x)))'],
  },
  {
    name: 'CeLogsumexpByHand',
    inputs: 'classes',
    dsl: 'return mean(log(sum(exp(input), 1)) - sum(target * input, 1))',
    ts: (x, t) => B.mean(B.sub(B.log(B.sum(B.exp(x!), [1])), B.sum(B.mul(t!, x!), [1]))),
    reference: { builtin: 'CrossEntropyLoss' },
    fires: ['log(sum(exp(x)))'],
  },
  {
    name: 'LogsumexpAllByHand',
    inputs: 'classes',
    dsl: 'return log(sum(exp(input))) + 0 * sum(target)',
    ts: (x, t) => B.add(B.log(B.sum(B.exp(x!))), B.mul(0, B.sum(t!))),
    reference: { dsl: 'return logsumexp(input) + 0 * sum(target)' },
    fires: ['log(sum(exp(x)))'],
  },
  {
    name: 'KlLogRatio',
    inputs: 'classes',
    dsl: 'return sum(target * log(target / softmax(input, 1))) / dim(input, 0)',
    ts: (x, t) => B.div(B.sum(B.mul(t!, B.log(B.div(t!, B.softmax(x!, 1))))), B.dim(x!, 0)),
    // torch's KLDivLoss(reduction='batchmean') of log_softmax(input) and target
    reference: { dsl: 'return sum(xlogy(target, target) - target * logSoftmax(input, 1)) / dim(input, 0)' },
    fires: ['x * log(y)'],
  },
  {
    name: 'KlLogDifference',
    inputs: 'classes',
    dsl: 'return sum(target * (log(target) - input)) / dim(input, 0)',
    ts: (x, t) => B.div(B.sum(B.mul(t!, B.sub(B.log(t!), x!))), B.dim(x!, 0)),
    reference: { builtin: 'KLDivLoss', options: { reduction: 'batchmean' } },
    fires: ['x * log(y)'],
  },
  {
    name: 'FocalLogPt',
    inputs: 'binary',
    dsl: 'let p = sigmoid(input)\nlet pt = where(target > 0.5, p, 1 - p)\nreturn mean(-(1 - pt) ** 2 * log(pt))',
    ts: (x, t) => {
      const p = B.sigmoid(x!);
      const pt = B.where(B.gt(t!, 0.5), p, B.sub(1, p));
      return B.mean(B.mul(B.neg(B.pow(B.sub(1, pt), 2)), B.log(pt)));
    },
    reference: { dsl: 'let lp = where(target > 0.5, logSigmoid(input), logSigmoid(-input))\nlet q = 1 - exp(lp)\nreturn mean(-(q * q) * lp)' },
    fires: ['x ** 2', 'log(where(c, a, b))'],
  },
  {
    name: 'FocalWeightedBce',
    inputs: 'binary',
    dsl: 'let p = sigmoid(input)\nlet w = where(target > 0.5, (1 - p) ** 2, p ** 2)\nreturn mean(-w * (target * log(p) + (1 - target) * log(1 - p)))',
    ts: (x, t) => {
      const p = B.sigmoid(x!);
      const w = B.where(B.gt(t!, 0.5), B.pow(B.sub(1, p), 2), B.pow(p, 2));
      return B.mean(B.mul(w, bce(t!, p, B.sub(1, p))));
    },
    reference: {
      dsl: 'let p = sigmoid(input)\nlet w = where(target > 0.5, (1 - p) * (1 - p), p * p)\nreturn mean(w * -(target * logSigmoid(input) + (1 - target) * logSigmoid(-input)))',
    },
    fires: ['x ** 2', 'x ** 2', 'log(sigmoid(x))', 'log(1 - sigmoid(x))'],
  },
  {
    name: 'EntropyOfSoftmax',
    inputs: 'classes',
    dsl: 'return mean(-sum(softmax(input, 1) * log(softmax(input, 1)), 1)) + 0 * sum(target)',
    ts: (x, t) => B.add(B.mean(B.neg(B.sum(B.mul(B.softmax(x!, 1), B.log(B.softmax(x!, 1))), [1]))), B.mul(0, B.sum(t!))),
    reference: { dsl: 'return mean(-sum(softmax(input, 1) * logSoftmax(input, 1), 1)) + 0 * sum(target)' },
    fires: ['log(softmax(x))'],
  },
  {
    name: 'MseByPow',
    inputs: 'regression',
    dsl: 'return mean((input - target) ** 2)',
    ts: (x, t) => B.mean(B.pow(B.sub(x!, t!), 2)),
    reference: { builtin: 'MSELoss' },
    fires: ['x ** 2'],
  },
  {
    name: 'LogOnePlusAbs',
    inputs: 'regression',
    dsl: 'return mean(log(1 + abs(input - target)))',
    ts: (x, t) => B.mean(B.log(B.add(1, B.abs(B.sub(x!, t!))))),
    reference: { dsl: 'return mean(log1p(abs(input - target)))' },
    fires: ['log(1 + x)'],
  },
  {
    name: 'ExpMinusOneByHand',
    inputs: 'regression',
    dsl: 'return mean(exp(input - target) - 1 - (input - target))',
    ts: (x, t) => B.mean(B.sub(B.sub(B.exp(B.sub(x!, t!)), 1), B.sub(x!, t!))),
    reference: { dsl: 'return mean(expm1(input - target) - (input - target))' },
    fires: ['exp(x) - 1'],
  },
  {
    name: 'CosineNormAtZero',
    inputs: 'pairs',
    dsl: 'let cos = sum(x1 * x2, 1) / clampMin(sqrt(sum(x1 * x1, 1)) * sqrt(sum(x2 * x2, 1)), 1e-8)\nreturn mean(1 - cos)',
    ts: (a, c) => {
      const norm = (v: Node): Node => B.sqrt(B.sum(B.mul(v, v), [1]));
      return B.mean(B.sub(1, B.div(B.sum(B.mul(a!, c!), [1]), B.clampMin(B.mul(norm(a!), norm(c!)), 1e-8))));
    },
    // torch's norm backward: x / |x|, 0 where |x| = 0
    reference: {
      dsl:
        'let s1 = sum(x1 * x1, 1)\nlet s2 = sum(x2 * x2, 1)\n' +
        'let m1 = withGrad(sqrt(s1), (s1, where(s1 == 0, 0, 0.5 / sqrt(s1))))\n' +
        'let m2 = withGrad(sqrt(s2), (s2, where(s2 == 0, 0, 0.5 / sqrt(s2))))\n' +
        'return mean(1 - sum(x1 * x2, 1) / clampMin(m1 * m2, 1e-8))',
    },
    fires: ['sqrt(sum(x * x))', 'sqrt(sum(x * x))'],
  },
];

// ------------------------------------------------------------------ inputs

const f = (v: readonly number[], shape: readonly number[], dtype: 'float32' | 'float64'): Tensor => tensor(v, shape, dtype);
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
}
const normalize = (rows: number[][]): number[] => rows.flatMap((r) => r.map((v) => v / r.reduce((a, c) => a + c, 0)));

/** The inputs of a set: ordinary (random, moderate) or extreme (|x| up to 1e4, probabilities 0 and 1). */
export function inputsOf(set: InputSet, kind: 'ordinary' | 'extreme', dtype: 'float32' | 'float64'): Tensor[] {
  const r = rng(set.length * 31 + (kind === 'extreme' ? 7 : 3));
  const u = (lo: number, hi: number): number => lo + (hi - lo) * r();
  const N = 8;
  switch (set) {
    case 'binary':
    case 'binarySoft':
    case 'signs': {
      const x = kind === 'ordinary' ? Array.from({ length: N }, () => u(-3, 3)) : [-1e4, -200, -50, 0, 50, 200, 1e4, -1e4];
      const t =
        set === 'signs'
          ? kind === 'ordinary'
            ? Array.from({ length: N }, (_, i) => (i % 3 ? 1 : -1))
            : [1, -1, 1, -1, -1, 1, -1, -1]
          : set === 'binarySoft'
            ? kind === 'ordinary'
              ? Array.from({ length: N }, () => u(0, 1))
              : [0, 1, 0.5, 0, 1, 0.25, 1, 0]
            : kind === 'ordinary'
              ? Array.from({ length: N }, (_, i) => i % 2)
              : [1, 1, 0, 0, 0, 1, 0, 0];
      return [f(x, [N], dtype), f(t, [N], dtype)];
    }
    case 'classes':
    case 'indices': {
      const x =
        kind === 'ordinary'
          ? Array.from({ length: 20 }, () => u(-3, 3))
          : [1e4, 0, -1e4, 3, 1, 1000, -1000, 0, 0, 2, -1e4, -1e4, -1e4, -1e4, -1e4, 50, -50, 700, -700, 0];
      if (set === 'indices') return [f(x, [4, 5], dtype), tensor(kind === 'ordinary' ? [1, 4, 0, 2] : [2, 1, 0, 3], [4], 'int32')];
      const t =
        kind === 'ordinary'
          ? normalize(Array.from({ length: 4 }, () => Array.from({ length: 5 }, () => u(0.05, 1))))
          : [0, 0, 1, 0, 0, 0.5, 0, 0, 0.5, 0, 0.2, 0.2, 0.2, 0.2, 0.2, 0, 0, 0, 1, 0];
      return [f(x, [4, 5], dtype), f(t, [4, 5], dtype)];
    }
    case 'regression': {
      const t = Array.from({ length: N }, () => u(-2, 2));
      const d = kind === 'ordinary' ? Array.from({ length: N }, () => u(-2, 2)) : [1e-12, -1e-12, 0, 30, -30, 1e-300, 5e-9, -40];
      return [
        f(
          t.map((v, i) => v + d[i]!),
          [N],
          dtype,
        ),
        f(t, [N], dtype),
      ];
    }
    case 'pairs': {
      const a = Array.from({ length: 24 }, () => u(-2, 2));
      const c = Array.from({ length: 24 }, () => u(-2, 2));
      if (kind === 'extreme') {
        for (let i = 0; i < 6; i++) a[i] = 0; // a zero vector in row 0 of x1
        for (let i = 6; i < 12; i++) c[i] = 0; // and in row 1 of x2
        for (let i = 12; i < 18; i++) [a[i], c[i]] = [0, 0]; // both in row 2
        for (let i = 18; i < 24; i++) a[i] = a[i]! * 1e4;
      }
      return [f(a, [4, 6], dtype), f(c, [4, 6], dtype)];
    }
  }
}
