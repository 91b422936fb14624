// `lossc check` (gradients against central finite differences in float64, on random valid
// inputs made from each loss's checks) passes on every example and on built-ins of every sort:
// pointwise, class indices with a weight option, embeddings, and CTC's lengths.
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { example, lossc, repo, tempFolder } from './helpers.js';
import { checkGradients } from '../../cli/check.js';
import { defineLoss } from '../../runtime/compile.js';
import { add, mul, stopGradient, sub, sum, withGrad } from '../../compiler/ir/builders.js';

const examples = readdirSync(join(repo, 'examples')).filter(
  (f) => f.endsWith('.loss') || (f.endsWith('.ts') && !['customMse.ts', 'run-example.ts', 'tfjs-node-train.ts'].includes(f)),
);

describe('lossc check', () => {
  it('passes on every example', async () => {
    const run = await lossc('check', ...examples.map(example));
    // only the stabilisation stage's notes (naiveFocal.loss), no error or warning
    expect(run.err.split('\n').filter((l) => /: (error|warning): /.test(l))).toEqual([]);
    expect(run.out).not.toMatch(/FAIL/);
    expect(run.out).toMatch(new RegExp(`${run.out.match(/^ok /gm)!.length} passed, 0 failed`));
    expect(run.code).toBe(0);
  });

  it.each(['MSELoss', 'HuberLoss', 'BCEWithLogitsLoss', 'CrossEntropyLoss', 'NLLLoss', 'CosineEmbeddingLoss', 'TripletMarginLoss', 'CTCLoss'])(
    'passes on %s',
    async (name) => {
      const run = await lossc('check', name);
      expect(run.out, run.err).toMatch(new RegExp(`^ok +${name} `));
      expect(run.out).toMatch(/max error \d\.\d\de-(1[0-9]|[6-9])/);
      expect(run.code).toBe(0);
    },
  );

  it('applies --options (a weight tensor as a JSON array)', async () => {
    const run = await lossc('check', 'NLLLoss', '--options', '{"weight": [1, 2, 0.5, 1, 3], "reduction": "sum"}');
    expect(run.out, run.err).toMatch(/^ok +NLLLoss/);
    expect(run.code).toBe(0);
  });

  it('reports the largest error per input and fails on a wrong gradient', () => {
    // x*y whose stated derivative in x is y + 1: off by one
    const wrong = defineLoss({ name: 'Wrong', inputs: ['x', 'y'], build: (x, y) => sum(withGrad(stopGradient(mul(x, y)), [x, add(y, 1)], [y, x])) });
    const r = checkGradients(wrong);
    expect(r.ok).toBe(false);
    expect(r.inputs[0]!.error).toBeGreaterThan(0.5);
    expect(r.inputs[1]!.error).toBeLessThan(1e-8);
    expect(r.text).toMatch(/^FAIL Wrong/);
    const right = checkGradients(defineLoss({ name: 'Right', inputs: ['x', 'y'], build: (x, y) => sum(mul(sub(x, y), x)) }));
    expect(right.ok).toBe(true);
  });
});

describe('lossc prints what the stabilisation stage did', () => {
  const notes = [
    /naiveFocal\.loss:18:16: note: focus \*\* 2 computed as focus \* focus/,
    /naiveFocal\.loss:18:29: note: log\(where\(\.\.\., p, 1 - p\)\) computed as where\(\.\.\., log\(p\), log\(1 - p\)\), each in its stable form/,
  ];
  it.each([['check'], ['explain'], ['compile']])('lossc %s: the notes, at their source positions', async (command) => {
    const { dir, done } = tempFolder();
    try {
      const run = await lossc(command, example('naiveFocal.loss'), ...(command === 'compile' ? ['-o', dir] : []));
      expect(run.code, run.err).toBe(0);
      for (const n of notes) expect(run.err).toMatch(n);
      if (command === 'explain') expect(run.out).toMatch(/== stabilize\nx \*\* 2 +focus \*\* 2 computed as focus \* focus/);
    } finally {
      done();
    }
  });
});
