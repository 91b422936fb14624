// WebGPU kernels against the JS backend on random shapes that broadcast in every way numpy
// allows (flat and strided loops, scatter-accumulated gradients), and on custom losses whose
// plans have axis reductions (scatter max and sum), several kernels and row kernels.
import { describe, it, expect, afterAll } from 'vitest';
import fc from 'fast-check';
import { amax, builtinLosses, compile, logsumexp, mean, mul, nn, sub, sum, tensor, type Node, type Tensor } from 'lossc';
import { Loss } from '../../runtime/nn.js';
import { mismatch, type RefTensor } from '../golden/reference.js';
import { releaseDevice } from '../../runtime/webgpu/device.js';
import { skipNote, skipReason } from './gpu.js';
import { POINTWISE } from '../support/losses.js';

afterAll(releaseDevice);

const asRef = (t: Tensor): RefTensor => ({ shape: [...t.shape], dtype: 'float32', data: Array.from(t.data) });
const rand = (shape: readonly number[], seed: number, lo = 0.2, hi = 1.8): Tensor => {
  let s = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(
    Array.from({ length: n }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * (hi - lo) + lo),
    shape,
  );
};

/** Every difference between the WebGPU and JS results, at the golden float32 tolerance. */
async function compare(host: Loss, inputs: Tensor[], reduction: string): Promise<string[]> {
  const gpu = await host.to('webgpu');
  const problems: string[] = [];
  const check = (got: Tensor | null, want: Tensor | null, what: string): void => {
    if (!want) return void (got !== null && problems.push(`${what}: JS gives none`));
    const m = mismatch(got, asRef(want), what);
    if (m) problems.push(m);
  };
  const out = host.forward(...inputs);
  check(await gpu.forward(...inputs), out, 'forward');
  const g = rand(out.shape, 99, -1, 1);
  const jsVjp = host.vjp(inputs, g);
  (await gpu.vjp(inputs, g)).forEach((t, i) => check(t, jsVjp[i]!, `vjp ${i}`));
  if (reduction !== 'none') {
    const js = host.valueAndGrad(...inputs);
    const got = await gpu.valueAndGrad(...inputs);
    check(got.value, js.value, 'value');
    got.grads.forEach((t, i) => check(t, js.grads[i]!, `grad ${i}`));
  }
  return problems;
}

/** A pair of shapes that broadcast together: a base shape, and one with some axes set to 1 or dropped. */
const broadcastPair = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 4 }).chain((base) =>
  fc
    .tuple(fc.constant(base), fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }), fc.integer({ min: 0, max: base.length }))
    .map(([b, ones, drop]) => {
      const other = b.map((d, i) => (ones[i] ? 1 : d)).slice(drop);
      return [b, other] as const;
    }),
);

describe.skipIf(skipReason !== null)(`WebGPU kernels agree with the JS backend${skipNote}`, () => {
  for (const def of builtinLosses.filter((d) => POINTWISE.includes(d.name))) {
    it(`${def.name}: broadcast shapes, every reduction, forward / vjp / valueAndGrad`, async () => {
      await fc.assert(
        fc.asyncProperty(broadcastPair, fc.boolean(), fc.constantFrom('none', 'mean', 'sum'), fc.integer(), async ([a, b], swap, reduction, seed) => {
          const host = new Loss(def, { reduction });
          const inputs = def.inputs.map((_, i) => rand((i === 0) !== swap ? a : b, seed + i));
          expect(await compare(host, inputs, reduction)).toEqual([]);
        }),
        { numRuns: 12 },
      );
    });
  }

  const custom: [string, (x: Node, y: Node) => Node][] = [
    ['max over axis 1, minus a mean of logsumexp over the last axis', (x, y) => sub(mean(amax(mul(x, y), [1])), mean(logsumexp(x, [-1])))],
    ['sum over axes 0 and 2 with keepDims, squared', (x, y) => sum(mul(sum(sub(x, y), [0, 2], true), sum(sub(x, y), [0, 2], true)))],
    ['max over everything minus the mean', (x, y) => sub(amax(sub(x, y)), mean(mul(x, y)))],
  ];
  for (const [what, build] of custom) {
    it(`custom: ${what}`, async () => {
      const loss = compile({ name: 'Custom', inputs: ['x', 'y'], build });
      for (const [sx, sy] of [
        [
          [3, 4, 5],
          [3, 4, 5],
        ],
        [
          [2, 7, 3],
          [7, 1],
        ],
        [
          [4, 1, 6],
          [4, 5, 6],
        ],
        [
          [64, 3, 300],
          [3, 300],
        ],
      ] as number[][][]) {
        expect(await compare(loss, [rand(sx!, 1, -3, 3), rand(sy!, 2, -3, 3)], 'mean'), `${sx} ${sy}`).toEqual([]);
      }
    });
  }

  it('CrossEntropyLoss with weights and label smoothing, and probability targets, on larger rows than a workgroup', async () => {
    const w = rand([700], 3);
    const host = new nn.CrossEntropyLoss({ weight: w, labelSmoothing: 0.1 });
    const x = rand([33, 700], 4, -5, 5);
    const t = tensor(
      Array.from({ length: 33 }, (_, i) => (i * 97) % 700),
      [33],
      'int32',
    );
    expect(await compare(host, [x, t], 'mean')).toEqual([]);
    const probs = new nn.CrossEntropyLoss();
    expect(await compare(probs, [x, rand([33, 700], 5, 0, 1)], 'mean')).toEqual([]);
  });
});
