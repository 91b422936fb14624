// The seed examples (a PyTorch loss-function guide's printed outputs) reproduce.
import { describe, it, expect } from 'vitest';
import { nn } from 'lossc';
import { loadSeedExamples, toOptions, toTensor, mismatch } from './reference.js';

const implemented = new Set(Object.keys(nn));

describe('seed examples', () => {
  for (const c of loadSeedExamples().filter((e) => implemented.has(e.loss))) {
    it(`${c.id} (${c.loss}) prints ${c.printed_output}`, () => {
      const fn = new nn[c.loss as keyof typeof nn](toOptions(c.options));
      const out = fn.forward(...c.inputs.map(toTensor));
      expect(mismatch(out, c.output, 'output')).toBeNull();
      const decimals = c.printed_output!.split('.')[1]?.length ?? 0;
      if (c.reproduces_printed) expect(out.data[0]!.toFixed(decimals)).toBe(c.printed_output);
    });
  }
});
