// Row kernels against the float64 reference interpreter: class-index losses on random ranks,
// class counts, targets (some ignored), weights and label smoothing.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { builtinLoss } from 'lossc';
import { instantiate, type OptionValue } from '../compiler/loss.js';
import { compileMethod, type Method } from '../compiler/pipeline.js';
import { compileCpuProgram } from '../runtime/cpu.js';
import { evaluate } from '../compiler/reference.js';

const caseArb = fc.record({
  n: fc.integer({ min: 1, max: 4 }),
  classes: fc.integer({ min: 1, max: 6 }),
  extra: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
  reduction: fc.constantFrom('none', 'mean', 'sum'),
  weighted: fc.boolean(),
  smoothing: fc.constantFrom(0, 0.1, 0.3),
  ignore: fc.constantFrom(-100, 0, 1),
  seed: fc.integer(),
});

describe('row kernels agree with the reference interpreter', () => {
  for (const name of ['CrossEntropyLoss', 'NLLLoss', 'MultiMarginLoss']) {
    it(`${name}: forward, vjp and valueAndGrad (float64)`, () => {
      fc.assert(
        fc.property(caseArb, (k) => {
          const def = builtinLoss(name)!;
          const rowLoss = name !== 'MultiMarginLoss';
          const shape = [k.n, k.classes, ...(rowLoss ? k.extra : [])];
          const options: Record<string, OptionValue> = {};
          for (const o of def.options) options[o.name] = o.default;
          options['reduction'] = k.reduction;
          if ('labelSmoothing' in options) options['labelSmoothing'] = k.smoothing;
          if ('ignoreIndex' in options) options['ignoreIndex'] = k.ignore;
          if (k.weighted) options['weight'] = { shape: [k.classes] };
          let s = k.seed >>> 0;
          const rand = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
          const count = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);
          const targetShape = shape.filter((_, i) => i !== 1);
          const buffers = new Map<string, { shape: number[]; data: Float64Array }>([
            ['input', { shape, data: Float64Array.from({ length: count(shape) }, () => rand() * 6 - 3) }],
            ['target', { shape: targetShape, data: Float64Array.from({ length: count(targetShape) }, () => Math.floor(rand() * k.classes)) }],
          ]);
          if (k.weighted) buffers.set('weight', { shape: [k.classes], data: Float64Array.from({ length: k.classes }, () => rand() + 0.1) });
          const inst = instantiate(def, options);
          const params = new Map(inst.params.map((p) => [p, options[p] as number]));
          for (const method of ['forward', 'vjp', 'valueAndGrad'] as Method[]) {
            if (method === 'valueAndGrad' && k.reduction === 'none') continue;
            const c = compileMethod(inst, method);
            const args = new Map(buffers);
            if (method === 'vjp') {
              const out = evaluate([inst.output], { inputs: buffers, params })[0]!.shape;
              args.set('grad_output', { shape: [...out], data: Float64Array.from({ length: count(out) }, rand) });
            }
            const got = compileCpuProgram(c.plan, 'f64').run({ buffers: args, params });
            const nodes = c.plan.results.map((r) => c.plan.buffers.find((b) => b.name === r)!.node);
            evaluate(nodes, { inputs: args, params }).forEach((w, i) => {
              expect(got[i]!.shape).toEqual(w.shape);
              w.data.forEach((v, e) => {
                if (Number.isNaN(v)) expect(got[i]!.data[e]).toBeNaN();
                else expect(Math.abs(got[i]!.data[e]! - v)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(v)));
              });
            });
          }
        }),
        { numRuns: 60 },
      );
    });
  }
});
