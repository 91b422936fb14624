// Every builder's derivative at its seams (issue 16). A custom loss gets its gradient from the
// builders it uses, so each one exported from 'lossc', and each function the .loss language
// offers, is checked here in float64 through compile():
//   - where the function is differentiable (listed points, random points near them, and the
//     switch points of the `where`s a composite is built from: 0 for sigmoid and softplus, ties
//     for logsumexp), against central differences: sigmoid'(0) = 0.25, softplus'(0) = 0.5;
//   - where it has a real kink, against torch's documented choice (abs and relu at 0: 0; clamp at
//     its bounds: 1; maximum / minimum / amax at ties: split evenly; xlogy at x = 0: 0).
import { describe, it, expect } from 'vitest';
import { compile, tensor, type Tensor } from '../runtime/index.js';
import * as B from '../compiler/ir/builders.js';
import type { Node } from '../compiler/ir/node.js';
import type { InputSpec } from '../compiler/loss.js';
import { FUNCTIONS } from '../dsl/functions.js';

type Vec = number[];
interface Case {
  readonly name: string;
  /** the builders and DSL functions this case exercises */
  readonly covers: readonly string[];
  /** float inputs (each a vector of the point's length), then int ones */
  readonly inputs?: readonly (string | InputSpec)[];
  /** the loss: summed to a scalar by the harness */
  readonly build: (...xs: Node[]) => Node;
  /** points where the function is smooth: one vector per input (int inputs too) */
  readonly smooth?: readonly (readonly Vec[])[];
  /** points at a real kink, with the gradient torch's backward gives there, per float input */
  readonly kinks?: readonly { readonly at: readonly Vec[]; readonly grad: readonly Vec[] }[];
  /** shapes of the inputs when not vectors */
  readonly shapes?: readonly number[][];
}

const c = (x: Node, v: number): Node => B.constant(x.graph, v);

const CASES: Case[] = [
  // elementwise math
  { name: 'exp', covers: ['exp'], build: (x) => B.exp(x), smooth: [[[-2, 0, 1.5]]] },
  { name: 'expm1', covers: ['expm1'], build: (x) => B.expm1(x), smooth: [[[-2, 0, 1e-9, 1.5]]] },
  { name: 'log', covers: ['log'], build: (x) => B.log(x), smooth: [[[0.3, 1, 2.5]]], kinks: [{ at: [[0]], grad: [[Infinity]] }] },
  { name: 'log1p', covers: ['log1p'], build: (x) => B.log1p(x), smooth: [[[-0.5, 0, 1e-9, 2]]] },
  { name: 'sqrt', covers: ['sqrt'], build: (x) => B.sqrt(x), smooth: [[[0.3, 1, 4]]], kinks: [{ at: [[0]], grad: [[Infinity]] }] },
  { name: 'tanh', covers: ['tanh'], build: (x) => B.tanh(x), smooth: [[[-1.5, 0, 2]]] },
  { name: 'abs', covers: ['abs'], build: (x) => B.abs(x), smooth: [[[-1, 0.5]]], kinks: [{ at: [[0, -0]], grad: [[0, 0]] }] },
  { name: 'sign (piecewise constant)', covers: ['sign'], build: (x) => B.mul(B.sign(x), 3), kinks: [{ at: [[-1, 0, 2]], grad: [[0, 0, 0]] }] },
  { name: 'neg', covers: ['neg'], build: (x) => B.neg(x), smooth: [[[-1, 0, 2]]] },
  { name: 'square', covers: ['square'], build: (x) => B.square(x), smooth: [[[-1, 0, 2]]] },
  { name: 'relu', covers: ['relu'], build: (x) => B.relu(x), smooth: [[[-1, 2, 1e-3]]], kinks: [{ at: [[0]], grad: [[0]] }] },
  // the composites that are smooth everywhere: their seams are where their branches switch
  { name: 'sigmoid', covers: ['sigmoid'], build: (x) => B.sigmoid(x), smooth: [[[-3, 0, -0, 1e-30, -1e-30, 2]]] },
  { name: 'softplus', covers: ['softplus'], build: (x) => B.softplus(x), smooth: [[[-3, 0, 1e-30, 2]]] },
  { name: 'logSigmoid', covers: ['logSigmoid'], build: (x) => B.logSigmoid(x), smooth: [[[-3, 0, 1e-30, 2]]] },
  {
    name: 'logSumExpOf (ties)',
    covers: ['logSumExpOf'],
    inputs: ['x', 'y'],
    build: (x, y) => B.logSumExpOf(x!, y!, B.mul(x!, 2)),
    smooth: [
      [
        [0, 1, -1],
        [0, 1, 2],
      ],
    ],
  },
  // arithmetic
  {
    name: 'add',
    covers: ['add'],
    inputs: ['x', 'y'],
    build: (x, y) => B.mul(B.add(x!, y!), x!),
    smooth: [
      [
        [1, 0],
        [-2, 0],
      ],
    ],
  },
  {
    name: 'sub',
    covers: ['sub'],
    inputs: ['x', 'y'],
    build: (x, y) => B.mul(B.sub(x!, y!), y!),
    smooth: [
      [
        [1, 0],
        [-2, 0],
      ],
    ],
  },
  {
    name: 'mul',
    covers: ['mul'],
    inputs: ['x', 'y'],
    build: (x, y) => B.mul(x!, y!),
    smooth: [
      [
        [1, 0],
        [-2, 0],
      ],
    ],
  },
  {
    name: 'div',
    covers: ['div'],
    inputs: ['x', 'y'],
    build: (x, y) => B.div(x!, y!),
    smooth: [
      [
        [1, 0],
        [-2, 0.5],
      ],
    ],
  },
  {
    name: 'pow',
    covers: ['pow'],
    inputs: ['x', 'y'],
    build: (x, y) => B.pow(x!, y!),
    smooth: [
      [
        [1.5, 0.5],
        [-2, 3],
      ],
    ],
    // 0^y for y > 0 is 0 whatever y: torch masks the exponent's gradient to 0 there
    kinks: [{ at: [[0], [2]], grad: [[0], [0]] }],
  },
  { name: 'pow by a constant', covers: ['pow'], build: (x) => B.pow(x, 3), smooth: [[[-1, 0, 2]]] },
  {
    name: 'maximum',
    covers: ['maximum'],
    inputs: ['x', 'y'],
    build: (x, y) => B.maximum(x!, y!),
    smooth: [
      [
        [1, -1],
        [0, 0.5],
      ],
    ],
    kinks: [{ at: [[1], [1]], grad: [[0.5], [0.5]] }],
  },
  {
    name: 'minimum',
    covers: ['minimum'],
    inputs: ['x', 'y'],
    build: (x, y) => B.minimum(x!, y!),
    smooth: [
      [
        [1, -1],
        [0, 0.5],
      ],
    ],
    kinks: [{ at: [[1], [1]], grad: [[0.5], [0.5]] }],
  },
  {
    name: 'xlogy',
    covers: ['xlogy'],
    inputs: ['x', 'y'],
    build: (x, y) => B.xlogy(x!, y!),
    smooth: [
      [
        [1, -0.5],
        [0.5, 2],
      ],
    ],
    // torch.xlogy is 0 at x = 0 by convention: its backward gives xlogy(x != 0, y) = 0 there
    kinks: [{ at: [[0], [2]], grad: [[0], [0]] }],
  },
  {
    name: 'mod',
    covers: ['mod'],
    inputs: ['x', 'y'],
    build: (x, y) => B.mod(x!, y!),
    smooth: [
      [
        [3.5, -1.2],
        [2, 1.5],
      ],
    ],
  },
  // floorDiv has no derivative (a gradient through it is an error, as torch's floor_divide; test/primitives.test.ts): behind stopGradient it is a constant factor
  {
    name: 'floorDiv (no derivative; behind stopGradient)',
    covers: ['floorDiv'],
    build: (x) => B.add(B.mul(B.stopGradient(B.floorDiv(x, 2)), x), x),
    kinks: [{ at: [[3.5, -1, 2]], grad: [[2, 0, 2]] }],
  },
  // clamps: 1 inside and at the bounds (torch's clamp_backward: min <= x <= max), 0 outside
  { name: 'clamp', covers: ['clamp'], build: (x) => B.clamp(x, -1, 2), smooth: [[[-3, 0, 3]]], kinks: [{ at: [[-1, 2]], grad: [[1, 1]] }] },
  { name: 'clampMin', covers: ['clampMin'], build: (x) => B.clampMin(x, 0.5), smooth: [[[-3, 3]]], kinks: [{ at: [[0.5]], grad: [[1]] }] },
  { name: 'clampMax', covers: ['clampMax'], build: (x) => B.clampMax(x, 0.5), smooth: [[[-3, 3]]], kinks: [{ at: [[0.5]], grad: [[1]] }] },
  // selection and comparisons: the branch the condition picks, also at the switch point
  {
    name: 'where with each comparison',
    covers: ['where', 'lt', 'le', 'gt', 'ge', 'eq', 'ne', 'and', 'or', 'not'],
    build: (x) => {
      const sq = B.mul(x, x);
      const a = B.where(B.and(B.gt(x, -5), B.not(B.eq(x, 7))), sq, B.mul(x, 3));
      const d = B.where(B.or(B.lt(x, -5), B.ge(x, 5)), x, B.where(B.le(x, 0), B.mul(x, 2), B.where(B.ne(x, 1), sq, x)));
      return B.add(a, d);
    },
    smooth: [[[-6, -1, 0.5, 2, 6]]],
    // at the switch points the condition decides: x = 0 -> le is true (2x); x = 1 -> ne is false (x)
    kinks: [{ at: [[0, 1]], grad: [[0 + 2, 2 + 1]] }],
  },
  {
    name: 'cast / float / int',
    covers: ['cast', 'float', 'int'],
    build: (x) => B.add(B.mul(B.cast(x, 'float'), x), B.cast(B.cast(x, 'int'), 'float')),
    kinks: [{ at: [[1.5, -2]], grad: [[3, -4]] }],
  },
  { name: 'stopGradient', covers: ['stopGradient'], build: (x) => B.mul(x, B.stopGradient(x)), kinks: [{ at: [[1.5, -2]], grad: [[1.5, -2]] }] },
  { name: 'withGrad', covers: ['withGrad'], build: (x) => B.withGrad(B.exp(x), [x, B.mul(B.exp(x), 2)]), kinks: [{ at: [[0, 1]], grad: [[2, 2 * Math.E]] }] },
  // reductions and axes
  {
    name: 'sum / mean',
    covers: ['sum', 'mean', 'numel', 'dim'],
    build: (x) => B.add(B.mul(B.sum(B.mul(x, x)), B.mean(x)), B.div(B.sum(x), B.add(B.numel(x), B.dim(x, 0)))),
    smooth: [[[1, -2, 0.5]]],
  },
  {
    name: 'amax',
    covers: ['amax'],
    build: (x) => B.mul(B.amax(x), 2),
    smooth: [[[1, 3, 2]]],
    // ties share the gradient evenly, as torch's amax does
    kinks: [{ at: [[1, 3, 3]], grad: [[0, 1, 1]] }],
  },
  { name: 'logsumexp (ties)', covers: ['logsumexp'], build: (x) => B.logsumexp(x), smooth: [[[1, 3, 2]], [[2, 2, 2]], [[0, 0, -1]]] },
  { name: 'logSoftmax (ties)', covers: ['logSoftmax'], build: (x) => B.mul(B.logSoftmax(x, 0), B.exp(x)), smooth: [[[1, 3, 2]], [[2, 2, 2]]] },
  { name: 'softmax (ties)', covers: ['softmax'], build: (x) => B.mul(B.softmax(x, 0), x), smooth: [[[1, 3, 2]], [[2, 2, 2]]] },
  {
    name: 'reduce',
    covers: ['reduce'],
    build: (x) => B.add(B.reduce(B.mul(x, x), 'mean'), B.add(B.reduce(x, 'sum'), B.sum(B.reduce(B.exp(x), 'none')))),
    smooth: [[[1, -2, 0.5]]],
  },
  // shapes, views and indexing (x is [2, 3])
  {
    name: 'views',
    covers: ['unsqueeze', 'broadcastTo', 'sumTo', 'expandTo'],
    inputs: ['x', 'y'],
    shapes: [[3], [2, 3]],
    build: (x, y) => {
      const wide = B.broadcastTo(B.unsqueeze(x!, [0]), y!.shape);
      return B.add(B.sum(B.mul(B.sumTo(B.mul(wide, y!), x!.shape), x!)), B.sum(B.mul(B.expandTo(B.sum(B.mul(y!, y!), [1]), [1], false, y!.shape), y!)));
    },
    smooth: [
      [
        [1, -2, 0.5],
        [0.3, 2, -1, 0, 1.5, -0.7],
      ],
    ],
  },
  {
    name: 'gather / oneHot / iota',
    covers: ['gather', 'oneHot', 'iota', 'iotaOf', 'castIndex'],
    inputs: ['x', { name: 'index', kind: 'int' }],
    shapes: [[2, 3], [2]],
    build: (x, index) => {
      const picked = B.gather(B.mul(x!, x!), index!, 1);
      const selected = B.sum(B.mul(B.oneHot(x!, index!, 1), B.exp(x!)));
      const firstColumn = B.where(B.eq(B.iota(x!, 1), B.castIndex(x!.graph, 0)), x!, 0);
      const lastRow = B.where(B.eq(B.iotaOf(x!.graph, x!.shape, 0), 1), B.mul(x!, 3), 0);
      return B.add(B.add(B.sum(picked), selected), B.add(B.sum(firstColumn), B.sum(lastRow)));
    },
    smooth: [
      [
        [1, -2, 0.5, 0.3, 2, -1],
        [2, 0],
      ],
    ],
  },
  { name: 'shift', covers: ['shift'], build: (x) => B.mul(B.shift(B.mul(x, x), 0, 1, c(x, 0.5)), x), smooth: [[[1, -2, 0.5, 3]]] },
  { name: 'constant', covers: ['constant'], build: (x) => B.mul(x, B.constant(x.graph, 3)), smooth: [[[1, -2]]] },
];

/** Shape-only or value-only functions: they make no differentiable value of their own. */
const NO_GRADIENT: Record<string, string> = {
  affineShape: 'a shape value (for iota and broadcastTo), not a tensor',
};

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

const F64 = (v: ArrayLike<number>, shape: readonly number[]): Tensor => tensor(v, shape, 'float64');

function lossOf(k: Case) {
  const inputs = k.inputs ?? ['x'];
  return compile({ name: `Seam_${k.name.replace(/\W+/g, '_')}`, inputs, build: (...xs: Node[]) => B.sum(k.build(...xs)) });
}

function tensorsAt(k: Case, at: readonly Vec[]): Tensor[] {
  const specs = (k.inputs ?? ['x']).map((s) => (typeof s === 'string' ? { name: s, kind: 'float' as const } : s));
  return at.map((v, i) => (specs[i]!.kind === 'int' ? tensor(Int32Array.from(v), k.shapes?.[i] ?? [v.length], 'int32') : F64(v, k.shapes?.[i] ?? [v.length])));
}

describe('builders: the gradient at random points and at every seam (float64, central differences)', () => {
  for (const k of CASES.filter((k) => k.smooth)) {
    it(k.name, () => {
      const loss = lossOf(k);
      // each listed point (the seams among them), and a random point near it: every entry
      // scaled by a random factor in [0.7, 1.3] (signs, zeros and int indices kept)
      const r = rng(k.name.length * 7919 + 1);
      const specs = (k.inputs ?? ['x']).map((s) => (typeof s === 'string' ? 'float' : s.kind));
      const jitter = (at: readonly Vec[]): Vec[] => at.map((v, i) => (specs[i] === 'int' ? [...v] : v.map((e) => e * (0.7 + 0.6 * r()))));
      for (const at of k.smooth!.flatMap((p) => [p, jitter(p)])) {
        const args = tensorsAt(k, at);
        const { grads } = loss.valueAndGrad(...args);
        args.forEach((t, i) => {
          if (t.dtype === 'int32') return;
          for (let e = 0; e < t.data.length; e++) {
            const v = t.data[e]!;
            const h = 1e-6 * Math.max(1, Math.abs(v));
            const f = (d: number): number => {
              const data = Float64Array.from(t.data);
              data[e] = v + d;
              return loss.forward(...args.map((u, j) => (j === i ? F64(data, t.shape) : u))).data[0]!;
            };
            const fd = (f(h) - f(-h)) / (2 * h);
            const g = grads[i]!.data[e]!;
            expect(Math.abs(g - fd), `${k.name}: d/d${i}[${e}] at ${JSON.stringify(at)}: gradient ${g}, central difference ${fd}`).toBeLessThan(
              1e-6 * Math.max(1, Math.abs(fd)),
            );
          }
        });
      }
    });
  }
  it("sigmoid'(0) = 0.25 and softplus'(0) = 0.5 exactly", () => {
    const at0 = F64([0], [1]);
    expect(lossOf(CASES.find((k) => k.name === 'sigmoid')!).valueAndGrad(at0).grads[0]!.data[0]).toBe(0.25);
    expect(lossOf(CASES.find((k) => k.name === 'softplus')!).valueAndGrad(at0).grads[0]!.data[0]).toBe(0.5);
    expect(lossOf(CASES.find((k) => k.name === 'logSigmoid')!).valueAndGrad(at0).grads[0]!.data[0]).toBe(0.5);
  });
});

describe('the same from the loss language (its functions call these builders)', () => {
  it("sigmoid'(0), softplus'(0), logSigmoid'(0), relu'(0), abs'(0), clamp' at its bounds", () => {
    const src =
      'loss Seams(input: f32[N]) {\n  return sum(sigmoid(input) + 10 * softplus(input) + 100 * logSigmoid(input) + 1000 * relu(input) + 10000 * abs(input) + 100000 * clamp(input, 0, 1))\n}\n';
    const { grads } = compile(src).valueAndGrad(F64([0, 1], [2]));
    // at 0: 0.25 + 10 * 0.5 + 100 * 0.5 + 0 + 0 + 100000 (clamp's lower bound); at 1: clamp's upper bound
    const s1 = 1 / (1 + Math.exp(-1));
    expect(grads[0]!.data[0]).toBe(0.25 + 5 + 50 + 100000);
    expect(grads[0]!.data[1]).toBeCloseTo(s1 * (1 - s1) + 10 * s1 + 100 * (1 - s1) + 1000 + 10000 + 100000, 9);
  });
});

describe("builders at real kinks: torch's choice", () => {
  for (const k of CASES.filter((k) => k.kinks)) {
    it(k.name, () => {
      const loss = lossOf(k);
      for (const { at, grad } of k.kinks!) {
        const { grads } = loss.valueAndGrad(...tensorsAt(k, at));
        // signed zeros are the same gradient
        grad.forEach((want, i) =>
          expect(
            [...grads[i]!.data].map((v) => v + 0),
            `${k.name} at ${JSON.stringify(at)}`,
          ).toEqual(want),
        );
      }
    });
  }
});

describe('the seam table covers every builder and every DSL function', () => {
  const covered = new Set([...CASES.flatMap((k) => k.covers), ...Object.keys(NO_GRADIENT)]);
  it("every builder exported from 'lossc'", () => {
    const exported = Object.entries(B)
      .filter(([, v]) => typeof v === 'function')
      .map(([name]) => name);
    expect(exported.filter((n) => !covered.has(n))).toEqual([]);
  });
  it('every function of the .loss language', () => {
    expect(Object.keys(FUNCTIONS).filter((n) => !covered.has(n))).toEqual([]);
  });
});

describe('clamp at a NaN input, as torch 1.13', () => {
  // torch.clamp(x, min=0).sum().backward() etc. with x = [nan, -1, 0, 2]: the gradient passes
  // where x >= min (clamp_min) and x <= max (clamp_max), so a NaN element gets none
  it.each([
    ['clampMin(x, 0.0)', [0, 0, 1, 1]],
    ['clampMax(x, 1.0)', [0, 1, 1, 0]],
    ['clamp(x, 0.0, 1.0)', [0, 0, 1, 0]],
    // threshold_backward: 0 where x <= 0, so a NaN x passes the gradient
    ['relu(x)', [1, 0, 0, 1]],
  ])('%s', (expr, torchGrad) => {
    const loss = compile(`loss L(x: f64[N]) { return sum(${expr}) }`);
    const { value, grads } = loss.valueAndGrad(tensor(new Float64Array([NaN, -1, 0, 2]), [4]));
    expect(Number.isNaN(value.data[0])).toBe(true);
    expect([...grads[0]!.data]).toEqual(torchGrad);
  });
  it('a tensor bound gets the gradient where x is beyond it (torch: clamp(x, min=m))', () => {
    const loss = compile(`loss L(x: f64[N], m: f64[N]) { return sum(clampMin(x, m)) }`);
    const { grads } = loss.valueAndGrad(tensor(new Float64Array([NaN, -1, 0, 2]), [4]), tensor(new Float64Array([0, 0, 0, 0]), [4]));
    expect([...grads[0]!.data]).toEqual([0, 0, 1, 1]);
    expect([...grads[1]!.data]).toEqual([0, 1, 0, 0]);
  });
});
