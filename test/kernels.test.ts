// Generated kernels against the float64 reference interpreter, on random shapes that
// broadcast in every way numpy allows (flat loop, strided loop, scatter-accumulated gradients).
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { builtinLosses } from 'lossc';
import { instantiate, type OptionValue } from '../compiler/loss.js';
import { compileMethod, type Method } from '../compiler/pipeline.js';
import { compileCpuProgram } from '../runtime/cpu.js';
import { evaluate } from '../compiler/reference.js';
import { POINTWISE } from './support/losses.js';

/** A pair of shapes that broadcast together: a base shape, and a second one with some axes set to 1 or dropped. */
const broadcastPair = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 }).chain((base) =>
  fc
    .tuple(fc.constant(base), fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length }), fc.integer({ min: 0, max: base.length }))
    .map(([b, ones, drop]) => {
      const other = b.map((d, i) => (ones[i] ? 1 : d)).slice(drop);
      return [b, other] as const;
    }),
);

const pointwise = builtinLosses.filter((d) => POINTWISE.includes(d.name));

describe('kernels agree with the reference interpreter', () => {
  for (const def of pointwise) {
    it(`${def.name}: forward, vjp and valueAndGrad on broadcast shapes (float64)`, () => {
      fc.assert(
        fc.property(broadcastPair, fc.boolean(), fc.constantFrom('none', 'mean', 'sum'), fc.integer(), ([a, b], swap, reduction, seed) => {
          const options: Record<string, OptionValue> = {};
          for (const o of def.options) options[o.name] = o.default;
          options['reduction'] = reduction;
          const inst = instantiate(def, options);
          let s = seed >>> 0;
          const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 1.6 + 0.2; // in (0.2, 1.8): valid for every loss here
          const shapes = def.inputs.map((_, i) => ((i === 0) !== swap ? a : b));
          const buffers = new Map(
            def.inputs.map((spec, i) => {
              const shape = shapes[i]!;
              const n = shape.reduce((x, y) => x * y, 1);
              return [spec.name, { shape, data: Float64Array.from({ length: n }, rand) }] as const;
            }),
          );
          const params = new Map(inst.params.map((p) => [p, options[p] as number]));
          for (const method of ['forward', 'vjp', 'valueAndGrad'] as Method[]) {
            if (method === 'valueAndGrad' && reduction === 'none') continue;
            const c = compileMethod(inst, method);
            const args = new Map(buffers);
            if (method === 'vjp') {
              const outShape = evaluate([inst.output], { inputs: buffers, params })[0]!.shape;
              args.set('grad_output', { shape: [...outShape], data: Float64Array.from({ length: outShape.reduce((x, y) => x * y, 1) }, rand) });
            }
            const got = compileCpuProgram(c.plan, 'f64').run({ buffers: args, params });
            const nodes = c.plan.results.map((r) => c.plan.buffers.find((bf) => bf.name === r)!.node);
            const want = evaluate(nodes, { inputs: args, params });
            want.forEach((w, k) => {
              expect(got[k]!.shape).toEqual(w.shape);
              w.data.forEach((v, i) => expect(Math.abs(got[k]!.data[i]! - v)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(v))));
            });
          }
        }),
        { numRuns: 40 },
      );
    });
  }
});
