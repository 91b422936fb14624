// Every public PyTorch case of every implemented loss, through the public API on the JS backend.
import { describe, it, expect } from 'vitest';
import { nn } from 'lossc';
import { loadCases, toOptions, toTensor, mismatch, ctcTrueGradient, type RefCase } from './reference.js';

/** every loss lossc implements; each must have its golden file */
const LOSSES = Object.keys(nn) as (keyof typeof nn)[];

export function checkCase(c: RefCase): string[] {
  const Loss = nn[c.loss as keyof typeof nn];
  const fn = new Loss(toOptions(c.options));
  const inputs = c.inputs.map(toTensor);
  const problems: string[] = [];
  const out = fn.forward(...inputs);
  const m = mismatch(out, c.output, 'output');
  if (m) problems.push(m);
  const grads = fn.vjp(inputs, toTensor(c.grad_output));
  c.inputs.forEach((inp, i) => {
    const expected = c.loss === 'CTCLoss' && inp.name === 'log_probs' ? ctcTrueGradient(c) : c.grads[inp.name!];
    if (expected) {
      const g = mismatch(grads[i], expected, `grad ${inp.name}`);
      if (g) problems.push(g);
    } else if (grads[i] !== null) problems.push(`grad ${inp.name}: torch gives none, lossc gave one`);
  });
  return problems;
}

for (const loss of LOSSES) {
  describe(loss, () => {
    for (const c of loadCases(loss)) {
      it(`${c.id}${c.tags.length ? ` [${c.tags.join(' ')}]` : ''}`, () => {
        expect(checkCase(c)).toEqual([]);
      });
    }
  });
}
