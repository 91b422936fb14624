// The corpus of naive formulations (test/stabilize/corpus.ts), as .loss and as TS builders:
// stabilised, each equals its reference (a built-in, or a stable float64 formula) at SCHEMA's
// tolerances on ordinary inputs and on extreme ones (|x| up to 1e4, probabilities 0 and 1),
// in float64 and float32; where the reference is finite, so are the value and every gradient.
import { describe, it, expect } from 'vitest';
import { CORPUS, allFinite, differences, firedRules, naive, reference } from './harness.js';
import { inputsOf } from './corpus.js';

describe('the naive corpus, stabilised', () => {
  it('has at least 15 formulations', () => expect(CORPUS.length).toBeGreaterThanOrEqual(15));
  for (const e of CORPUS) {
    describe(e.name, () => {
      const ref = reference(e);
      for (const form of ['dsl', 'ts'] as const) {
        it(`${form}: fires ${e.fires.join(', ')}`, () => {
          expect(firedRules(naive(e, form))).toEqual(e.fires);
        });
        for (const dtype of ['float64', 'float32'] as const) {
          for (const kind of ['ordinary', 'extreme'] as const) {
            it(`${form}, ${dtype}, ${kind} inputs: equal to the reference`, () => {
              const loss = naive(e, form);
              const inputs = inputsOf(e.inputs, kind, dtype);
              const got = loss.valueAndGrad(...inputs);
              const want = ref.valueAndGrad(...inputs);
              expect(differences(got, want, dtype)).toEqual([]);
              if (allFinite(want)) expect(allFinite(got)).toBe(true);
            });
          }
        }
      }
    });
  }
});
