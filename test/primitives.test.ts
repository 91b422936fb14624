// Every primitive's VJP rule against central finite differences in float64, straight from the
// table: for each differentiable primitive, the symbolic gradient of sum(w * op(x...)) must
// match (f(x + h) - f(x - h)) / 2h at random points of its domain.
import { describe, it, expect } from 'vitest';
import type { Node } from '../compiler/ir/node.js';
import { Graph } from '../compiler/ir/graph.js';
import { PRIMITIVES, hasDerivative, type OpName } from '../compiler/primitives/table.js';
import { NoDerivativeError, vjpGraph } from '../compiler/passes/grad.js';
import { evaluate } from '../compiler/reference.js';
import * as b from '../compiler/ir/builders.js';
import { scan } from '../compiler/primitives/scan.js';

/** Operand count and a sampler of valid (smooth) points for each differentiable primitive. */
const domains: Partial<Record<OpName, { arity: number; sample: (r: () => number) => number[]; build?: (xs: Node[]) => Node }>> = {
  add: { arity: 2, sample: (r) => [r(), r()] },
  sub: { arity: 2, sample: (r) => [r(), r()] },
  mul: { arity: 2, sample: (r) => [r(), r()] },
  div: { arity: 2, sample: (r) => [r(), 0.5 + Math.abs(r())] },
  pow: { arity: 2, sample: (r) => [0.5 + Math.abs(r()), r()] },
  maximum: { arity: 2, sample: (r) => [r(), r() + 3] },
  minimum: { arity: 2, sample: (r) => [r(), r() + 3] },
  xlogy: { arity: 2, sample: (r) => [r(), 0.5 + Math.abs(r())] },
  // away from the jumps at multiples of b
  mod: { arity: 2, sample: (r) => [3.3 + 0.5 * r(), 1.5 + 0.1 * r()] },
  neg: { arity: 1, sample: (r) => [r()] },
  abs: { arity: 1, sample: (r) => [0.1 + Math.abs(r())] },
  exp: { arity: 1, sample: (r) => [r()] },
  expm1: { arity: 1, sample: (r) => [r()] },
  log: { arity: 1, sample: (r) => [0.2 + Math.abs(r())] },
  log1p: { arity: 1, sample: (r) => [Math.abs(r())] },
  sqrt: { arity: 1, sample: (r) => [0.2 + Math.abs(r())] },
  tanh: { arity: 1, sample: (r) => [r()] },
  where: { arity: 2, sample: (r) => [r(), r()], build: ([a, c]) => b.where(b.gt(a!, 0), b.mul(a!, a!), b.mul(c!, 3)) },
  cast: { arity: 1, sample: (r) => [r()], build: ([a]) => b.cast(b.mul(a!, a!), 'float') },
  withGrad: { arity: 1, sample: (r) => [r()], build: ([a]) => b.withGrad(b.exp(a!), [a!, b.exp(a!)]) },
  sum: { arity: 1, sample: (r) => [r()], build: ([a]) => b.mul(b.sum(b.mul(a!, a!), [0], true), a!) },
  max: { arity: 1, sample: (r) => [r()], build: ([a]) => b.mul(b.amax(b.mul(a!, a!), [0], true), a!) },
  sumTo: { arity: 1, sample: (r) => [r()] },
  broadcastTo: { arity: 1, sample: (r) => [r()] },
  unsqueeze: { arity: 1, sample: (r) => [r()], build: ([a]) => b.sum(b.mul(b.unsqueeze(a!, [0]), b.unsqueeze(b.exp(a!), [1]))) },
  shift: { arity: 1, sample: (r) => [r()], build: ([a]) => b.shift(b.mul(a!, a!), 0, 2, b.mul(a!, 3)) },
  // a recurrence over the 3 rows of a product with x: s_t = tanh(s_{t-1}) * x_t + exp(x_t / 4)
  scan: {
    arity: 1,
    sample: (r) => [r()],
    build: ([a]) => {
      const wide = a!.graph.input('wide', 'float');
      const xs = b.mul(b.broadcastTo(a!, wide.shape), wide);
      return scan(b.mul(a!, 0.5), [xs], [a!], (s, [x], [c], t) => b.add(b.mul(b.tanh(s), x!), b.mul(b.exp(b.div(x!, 4)), b.add(c!, b.cast(t, 'float')))));
    },
  },
  // picks rows of a [3, n] product: index `pick` (0, 1, 2, 0, ...) along axis 0
  gather: {
    arity: 1,
    sample: (r) => [r()],
    build: ([a]) =>
      b.gather(b.mul(b.broadcastTo(a!, a!.graph.input('wide', 'float').shape), a!.graph.input('wide', 'float')), a!.graph.input('pick', 'int'), 0),
  },
};

// primitives with no gradient by definition (leaves, comparisons, logic, sign, stopGradient) are
// skipped, and floorDiv, which has no derivative (below)
const skip = new Set<OpName>([
  'input',
  'param',
  'const',
  'numel',
  'dim',
  'iota',
  'sign',
  'floorDiv',
  'lt',
  'le',
  'gt',
  'ge',
  'eq',
  'ne',
  'and',
  'or',
  'not',
  'stopGradient',
]);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s / 2 ** 32) * 4 - 2;
  };
}

describe('VJP rules vs central differences (float64)', () => {
  for (const op of Object.keys(PRIMITIVES) as OpName[]) {
    if (skip.has(op)) continue;
    it(op, () => {
      const d = domains[op];
      expect(d, `no finite-difference domain for primitive '${op}': add one`).toBeDefined();
      const g = new Graph();
      const xs = Array.from({ length: d!.arity }, (_, i) => g.input(`x${i}`, 'float'));
      const n = 6;
      const r = rng(op.length * 7919 + 17);
      const points = Array.from({ length: n }, () => d!.sample(r));
      const weights = Float64Array.from({ length: n }, () => r());
      let y: Node;
      if (d!.build) y = d!.build(xs);
      else if (op === 'sumTo') y = b.sumTo(b.mul(b.broadcastTo(xs[0]!, g.input('wide', 'float').shape), g.input('wide', 'float')), xs[0]!.shape);
      else if (op === 'broadcastTo') y = b.broadcastTo(xs[0]!, g.input('wide', 'float').shape);
      else y = g.make(op, xs);
      const w = g.input('w', 'float', y.shape);
      const objective = b.sum(b.mul(y, w));
      const grads = vjpGraph(objective, g.constant(1), xs);
      const wide = { shape: [3, n], data: Float64Array.from({ length: 3 * n }, () => r()) };
      const bind = (vals: number[][]) => {
        const inputs = new Map<string, { shape: number[]; data: ArrayLike<number> }>(xs.map((_, i) => [`x${i}`, { shape: [n], data: vals.map((p) => p[i]!) }]));
        inputs.set('wide', wide);
        inputs.set('pick', { shape: [n], data: Array.from({ length: n }, (_, i) => i % 3) });
        const yShape = evaluate([y], { inputs: new Map([...inputs, ['w', { shape: [], data: [0] }]]) })[0]!.shape;
        inputs.set('w', { shape: [...yShape], data: Float64Array.from({ length: yShape.reduce((a, c) => a * c, 1) }, (_, i) => weights[i % n]! + 0.1 * i) });
        return { inputs };
      };
      const f = (vals: number[][]) => evaluate([objective], bind(vals))[0]!.data[0]!;
      const symbolic = evaluate(
        grads.filter((x): x is Node => !!x),
        bind(points),
      );
      let k = 0;
      xs.forEach((_, i) => {
        if (!grads[i]) return;
        const gs = symbolic[k++]!.data;
        for (let e = 0; e < n; e++) {
          const h = 1e-6;
          const up = points.map((p, j) => p.map((v, q) => (j === e && q === i ? v + h : v)));
          const down = points.map((p, j) => p.map((v, q) => (j === e && q === i ? v - h : v)));
          const numeric = (f(up) - f(down)) / (2 * h);
          expect(Math.abs(gs[e]! - numeric), `${op}: d/dx${i}[${e}] symbolic ${gs[e]} numeric ${numeric}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(numeric)));
        }
      });
    });
  }
});

describe('primitives without a derivative', () => {
  it('say why in their table entry', () => {
    for (const [op, def] of Object.entries(PRIMITIVES)) {
      if (hasDerivative(def.vjp)) continue;
      expect(def.vjp.none, op).toMatch(/\w{4}/);
    }
  });

  it('a gradient through floorDiv is an error naming it, as torch\'s "derivative for aten::floor_divide is not implemented"', () => {
    const g = new Graph();
    const x = g.input('x', 'float');
    expect(() => vjpGraph(b.sum(b.floorDiv(b.mul(x, 3), 2)), g.constant(1), [x])).toThrow(NoDerivativeError);
    expect(() => vjpGraph(b.sum(b.floorDiv(b.mul(x, 3), 2)), g.constant(1), [x])).toThrow(
      'lossc: cannot differentiate through floorDiv in floorDiv(mul(x, 3), 2): floor division is piecewise constant',
    );
  });

  it('but floorDiv off the gradient path (an index computation) is fine', () => {
    const g = new Graph();
    const x = g.input('x', 'float');
    const y = b.mul(x, b.cast(b.floorDiv(b.iota(x, 0), 2), 'float'));
    const [dx] = vjpGraph(b.sum(y), g.constant(1), [x]);
    expect(evaluate([dx!], { inputs: new Map([['x', { shape: [5], data: [1, 1, 1, 1, 1] }]]) })[0]!.data).toEqual(Float64Array.from([0, 0, 1, 1, 2]));
  });

  it('mod differentiates as torch.remainder: 1 for a, -floor(a / b) for b', () => {
    const g = new Graph();
    const [a, c] = [g.input('a', 'float'), g.input('c', 'float')];
    const [da, dc] = vjpGraph(b.sum(b.mod(a, c)), g.constant(1), [a, c]);
    const inputs = new Map([
      ['a', { shape: [3], data: [3.5, -1.25, 4] }],
      ['c', { shape: [3], data: [2, 2, -3] }],
    ]);
    const [ga, gc] = evaluate([da!, dc!], { inputs });
    expect([...ga!.data]).toEqual([1, 1, 1]);
    expect([...gc!.data]).toEqual([-1, 1, 2]); // torch 1.13: tensor([-1., 1., 2.])
  });
});
