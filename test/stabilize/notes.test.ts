// Every rewrite the stabilisation stage makes is reported: as a note at the source position of
// the rewritten expression (loss.notes, from .loss text and from TypeScript files), and in
// explain()'s `stabilize` section. Built-in losses are left as torch writes them.
import { describe, it, expect } from 'vitest';
import { builtinLosses, compile, tensor } from '../../runtime/index.js';
import { Loss } from '../../runtime/nn.js';
import { parseTsLossSource } from '../../dsl/tsFront.js';
import { formatDiagnostic } from '../../dsl/diagnostics.js';
import type { Node } from '../../compiler/ir/node.js';

const LOGSIG = `loss LogSig(input: f32[N], nograd target: f32[N]) {
  return mean(-(target * log(sigmoid(input)) + (1 - target) * log(1 - sigmoid(input))))
}
`;

describe('notes', () => {
  it("the issue's example: finite, with a note per rewrite at its position", () => {
    const loss = compile(LOGSIG, { file: 'logsig.loss' });
    expect(loss.notes.map((d) => formatDiagnostic(d).split('\n')[0])).toEqual([
      'logsig.loss:2:26: note: log(sigmoid(input)) computed as logSigmoid(input) (finite for large |input|)',
      'logsig.loss:2:63: note: log(1 - sigmoid(input)) computed as logSigmoid(-input) (finite for large |input|)',
    ]);
    const x = tensor([-200, -50, 0, 50, 200], [5], 'float64');
    const t = tensor([1, 1, 0, 0, 0], [5], 'float64');
    const { value, grads } = loss.valueAndGrad(x, t);
    // BCEWithLogitsLoss on the same numbers: (200 + 50 + log 2 + 50 + 200) / 5, (sigmoid(x) - t) / 5
    expect(value.data[0]).toBeCloseTo((500 + Math.LN2) / 5, 12);
    expect([...grads[0]!.data]).toEqual([-0.2, -0.2, 0.1, 0.2, 0.2]);
    // as written: inf, and NaN gradients
    const asWritten = compile(LOGSIG, { stabilize: false });
    expect(asWritten.notes).toEqual([]);
    expect(asWritten.forward(x, t).data[0]).toBe(Infinity);
  });

  it('CE via log(softmax) on logits [[1000, 0], [-1000, 0]]: finite', () => {
    const ce = compile('loss CE(input: f32[N, C], nograd target: f32[N, C]) {\n  return mean(sum(-target * log(softmax(input, 1)), 1))\n}\n');
    const r = ce.valueAndGrad(tensor([1000, 0, -1000, 0], [2, 2], 'float64'), tensor([0, 1, 1, 0], [2, 2], 'float64'));
    expect(r.value.data[0]).toBe(1000);
    expect([...r.grads[0]!.data]).toEqual([0.5, -0.5, -0.5, 0.5]);
  });

  it('from a TypeScript file, with positions, names from its consts', () => {
    const text = [
      "import { type Tensor, log, mean, sigmoid } from 'lossc/loss';",
      '',
      'export function naiveBce(input: Tensor, target: Tensor): Tensor {',
      '  const p = sigmoid(input);',
      '  return mean(-(target * log(p) + (1 - target) * log(1 - p)));',
      '}',
    ].join('\n');
    const { losses, diagnostics } = parseTsLossSource(text, 'naiveBce.ts');
    expect(diagnostics).toEqual([]);
    expect(new Loss(losses[0]!).notes.map((d) => formatDiagnostic(d).split('\n')[0])).toEqual([
      'naiveBce.ts:5:26: note: log(sigmoid(input)) computed as logSigmoid(input) (finite for large |input|)',
      'naiveBce.ts:5:50: note: log(1 - sigmoid(input)) computed as logSigmoid(-input) (finite for large |input|)',
    ]);
  });

  it("a loss built with the builders: notes without a file (at the loss's name, line 0)", async () => {
    const { log, mean, sigmoid } = await import('../../runtime/index.js');
    const loss = compile({ name: 'Naive', inputs: ['x'], build: (x: Node) => mean(log(sigmoid(x))) });
    expect(loss.notes).toEqual([
      { severity: 'note', message: 'log(sigmoid(x)) computed as logSigmoid(x) (finite for large |x|)', span: { file: 'Naive', line: 0, column: 0, length: 0 } },
    ]);
  });

  it('explain() has a stabilize section: rule, before and after, position', () => {
    const text = compile(LOGSIG, { file: 'logsig.loss' }).explain('valueAndGrad').text;
    expect(text.split('== graph')[0]).toBe(
      '== stabilize\n' +
        'log(sigmoid(x))        log(sigmoid(input)) computed as logSigmoid(input) (finite for large |input|)  [logsig.loss:2:26]\n' +
        'log(1 - sigmoid(x))    log(1 - sigmoid(input)) computed as logSigmoid(-input) (finite for large |input|)  [logsig.loss:2:63]\n\n',
    );
  });

  it('what a loss states with withGrad, value and derivative, is left as written', () => {
    const src = 'loss Stated(input: f32[N]) {\n  return sum(withGrad(log(sigmoid(input)), (input, log(1 + exp(input)))))\n}\n';
    expect(compile(src).notes).toEqual([]);
  });

  it('built-in losses are compiled as torch writes them: no stabilisation, no notes', () => {
    for (const def of builtinLosses) {
      expect(def.stabilize, def.name).toBe(false);
      for (const o of def.overloads ?? []) expect(o.stabilize, def.name).toBe(false);
    }
    const bce = new Loss(builtinLosses.find((d) => d.name === 'SoftMarginLoss')!);
    expect(bce.notes).toEqual([]);
    expect(bce.explain().text).toMatch(/^== stabilize\n\(off: the built-in losses follow torch's own formulas\)/);
  });
});
