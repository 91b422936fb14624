// Every public PyTorch case of every implemented loss, through the public API on the JS backend.
import { describe, it, expect } from 'vitest';
import { nn } from 'lossc';
import { loadCases, toOptions, toTensor, caseProblems, type RefCase } from './reference.js';

/** every loss lossc implements; each must have its golden file */
const LOSSES = Object.keys(nn) as (keyof typeof nn)[];

export function checkCase(c: RefCase): string[] {
  const Loss = nn[c.loss as keyof typeof nn];
  const fn = new Loss(toOptions(c.options));
  const inputs = c.inputs.map(toTensor);
  return caseProblems(c, fn.forward(...inputs), fn.vjp(inputs, toTensor(c.grad_output)));
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
