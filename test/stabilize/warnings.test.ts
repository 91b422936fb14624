// What the stabilisation stage cannot make stable gets a warning at its source position: a log
// or a division of a value that can reach 0 with nothing guarding it, exp of an unbounded value
// that is then divided. `# lossc-disable-next-line` above the line turns it off.
import { describe, it, expect } from 'vitest';
import { compile } from '../../runtime/index.js';
import { formatDiagnostic } from '../../dsl/diagnostics.js';
import { lossSource } from './corpus.js';

const warningsOf = (body: string, set: Parameters<typeof lossSource>[1] = 'binary'): string[] =>
  compile(lossSource('W', set, body), { file: 'w.loss' })
    .notes.filter((d) => d.severity === 'warning')
    .map((d) => `${d.span.line}:${d.span.column}: ${d.message}`);

describe('warnings for what no rewrite makes stable', () => {
  it('log of a probability input: BCE on probabilities, unguarded', () => {
    // target * log(input) becomes xlogy(target, input) (0 where target is 0), still -inf where input is 0
    expect(warningsOf('return mean(-(target * log(input) + (1 - target) * log(1 - input)))')).toEqual([
      '2:15: target * log(input) is -inf where input is 0 (and target is not), and its gradient inf: clamp it (clampMin(input, eps))',
      '2:37: log(1 - input) is -inf where input is 1, and its gradient inf: clamp it (clampMin(1 - input, eps))',
    ]);
    expect(warningsOf('return mean(-log(input) - log(1 - input))')).toEqual([
      '2:14: log(input) is -inf where input is 0, and its gradient inf: clamp it (clampMin(input, eps))',
      '2:27: log(1 - input) is -inf where input is 1, and its gradient inf: clamp it (clampMin(1 - input, eps))',
    ]);
  });
  it('no warning once the log is guarded', () => {
    expect(warningsOf('return mean(-(target * log(clampMin(input, 1e-12)) + (1 - target) * log(clampMin(1 - input, 1e-12))))')).toEqual([]);
  });
  it('division by an input, and by a norm that can be 0', () => {
    expect(warningsOf('return mean(target / input)')).toEqual([
      '2:13: division by input, which is inf or NaN where input is 0: clamp it (clampMin(input, eps)) or add an eps',
    ]);
    expect(warningsOf('return mean(sum(x1 * x2, 1) / (sqrt(sum(x1 * x1, 1)) * sqrt(sum(x2 * x2, 1))))', 'pairs')).toEqual([
      "2:13: division by the norm of x1, which is 0 for a zero vector (0 / 0 = NaN): clampMin(norm, eps), as torch's cosine_similarity does",
    ]);
  });
  it('exp of an unbounded value, then divided (not a softmax or a sigmoid)', () => {
    expect(warningsOf('return mean(exp(input) / (exp(input) + exp(target)))')).toEqual([
      '2:13: exp(input) overflows to inf for large input (above 88 in float32), and the division then gives NaN: use softmax or sigmoid, or subtract the maximum first',
    ]);
    // the same with the maximum subtracted: bounded, no warning
    expect(warningsOf('let m = maximum(input, target)\nreturn mean(exp(input - m) / (exp(input - m) + exp(target - m)))')).toEqual([]);
  });
  it('a disable comment on the line above turns the warning off', () => {
    expect(warningsOf('# lossc-disable-next-line (the inputs are probabilities in (0, 1))\nreturn mean(-target * log(input))')).toEqual([]);
  });
  it('is printed like a compiler warning, with the line and a caret', () => {
    const src = lossSource('W', 'binary', 'return mean(-log(input))');
    const [d] = compile(src, { file: 'w.loss' }).notes;
    expect(formatDiagnostic(d!, src).split('\n')).toEqual([
      'w.loss:2:14: warning: log(input) is -inf where input is 0, and its gradient inf: clamp it (clampMin(input, eps))',
      '  return mean(-log(input))',
      '               ^^^^^^^^^^',
    ]);
  });
});
