// Each stabilisation rule on its own (compiler/rewrite/stabilizeRules.ts): it fires; in float64
// on ordinary inputs the stabilised loss equals the formula as written (value and gradients, at
// SCHEMA's tolerance); on extreme inputs (|x| up to 1e4, probabilities 0 and 1, a zero vector)
// its value and every gradient are finite, where the formula as written is not.
import { describe, it, expect } from 'vitest';
import { compile } from '../../runtime/index.js';
import { Loss } from '../../runtime/nn.js';
import { STABLE_RULES } from '../../compiler/rewrite/stabilizeRules.js';
import { allFinite, differences, firedRules } from './harness.js';
import { inputsOf, lossSource, type InputSet } from './corpus.js';

interface RuleCase {
  readonly inputs: InputSet;
  readonly body: string;
  /** the formula as written is not finite on the extreme inputs (what the rule is for) */
  readonly unstableAsWritten: boolean;
}

const CASES: Record<string, RuleCase> = {
  'x ** 2': { inputs: 'regression', body: 'return sum((input - target) ** 2)', unstableAsWritten: false },
  '1 / (1 + exp(-x))': { inputs: 'binary', body: 'return sum(target / (1 + exp(-input)))', unstableAsWritten: true },
  'exp(x) - 1': { inputs: 'regression', body: 'return sum((exp(input - target) - 1) * target)', unstableAsWritten: false },
  'exp(x) / sum(exp(x))': { inputs: 'classes', body: 'return sum(exp(input) / sum(exp(input), axis=1, keepdims=true) * target)', unstableAsWritten: true },
  'log(sigmoid(x))': { inputs: 'binary', body: 'return sum(log(sigmoid(input)))', unstableAsWritten: true },
  'log(1 - sigmoid(x))': { inputs: 'binary', body: 'return sum(log(1 - sigmoid(input)))', unstableAsWritten: true },
  'log(softmax(x))': { inputs: 'classes', body: 'return sum(target * log(softmax(input, 1)))', unstableAsWritten: true },
  'log(sum(exp(x)))': { inputs: 'classes', body: 'return sum(log(sum(exp(input), 1)) * sum(target, 1))', unstableAsWritten: true },
  'log(1 + exp(x))': { inputs: 'binary', body: 'return sum(log(1 + exp(input)))', unstableAsWritten: true },
  'log(where(c, a, b))': { inputs: 'binary', body: 'let p = sigmoid(input)\nreturn sum(log(where(target > 0.5, p, 1 - p)))', unstableAsWritten: true },
  'log(sum(t * softmax(x)))': { inputs: 'classes', body: 'return sum(log(sum(target * softmax(input, 1), 1)))', unstableAsWritten: true },
  'log(gather(y))': { inputs: 'indices', body: 'return sum(log(gather(softmax(input, 1), target, 1)))', unstableAsWritten: true },
  'log(1 + x)': { inputs: 'regression', body: 'return sum(log(1 + abs(input - target)))', unstableAsWritten: false },
  'x * log(y)': { inputs: 'classes', body: 'return sum(target * log(target / softmax(input, 1)))', unstableAsWritten: true },
  'sqrt(sum(x * x))': { inputs: 'pairs', body: 'return sum(sqrt(sum(x1 * x1, 1)) * sum(x2, 1))', unstableAsWritten: true },
};

const build = (name: string, c: RuleCase): Loss => compile(lossSource(name, c.inputs, c.body), { file: `rules/${name}.loss` });
const asWritten = (l: Loss): Loss => new Loss({ ...l.def, stabilize: false });

describe('each stabilisation rule', () => {
  it('has a case here', () => expect(STABLE_RULES.map((r) => r.name).filter((n) => !CASES[n])).toEqual([]));
  for (const [rule, c] of Object.entries(CASES)) {
    describe(rule, () => {
      const stable = build('Rule', c);
      const written = asWritten(stable);
      it('fires', () => expect(firedRules(stable)).toContain(rule));
      it('float64, ordinary inputs: equal to the formula as written', () => {
        const inputs = inputsOf(c.inputs, 'ordinary', 'float64');
        expect(differences(stable.valueAndGrad(...inputs), written.valueAndGrad(...inputs), 'float64')).toEqual([]);
      });
      it(`float64, extreme inputs: finite${c.unstableAsWritten ? ' (as written: not)' : ''}`, () => {
        const inputs = inputsOf(c.inputs, 'extreme', 'float64');
        expect(allFinite(stable.valueAndGrad(...inputs))).toBe(true);
        expect(allFinite(written.valueAndGrad(...inputs))).toBe(!c.unstableAsWritten);
      });
    });
  }
});
