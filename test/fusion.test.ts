// Scheduling: a pointwise loss's value and every gradient come out of one pass over memory.
import { describe, it, expect } from 'vitest';
import { nn, tensor } from 'lossc';

describe('fusion', () => {
  for (const name of ['MSELoss', 'BCEWithLogitsLoss', 'SmoothL1Loss'] as const) {
    it(`${name}.valueAndGrad is one kernel that reads each input once and writes each gradient once`, () => {
      const { kernels } = new nn[name]().explain('valueAndGrad');
      expect(kernels).toHaveLength(1);
      expect(kernels[0]!.reads.sort()).toEqual(['input', 'target']);
      expect(kernels[0]!.writes.sort()).toEqual(['grad_input', 'grad_target', 'value']);
    });
  }

  it('every pointwise loss fuses forward, vjp and valueAndGrad into one kernel, for every reduction', () => {
    const pointwise = [
      'L1Loss',
      'MSELoss',
      'SmoothL1Loss',
      'HuberLoss',
      'SoftMarginLoss',
      'BCELoss',
      'BCEWithLogitsLoss',
      'PoissonNLLLoss',
      'GaussianNLLLoss',
      'KLDivLoss',
      'MarginRankingLoss',
      'HingeEmbeddingLoss',
    ] as const;
    for (const name of pointwise) {
      const Loss = nn[name];
      for (const reduction of ['none', 'mean', 'sum'] as const) {
        const fn = new Loss({ reduction });
        for (const method of ['forward', 'vjp'] as const) expect(fn.explain(method).kernels, `${name} ${reduction} ${method}`).toHaveLength(1);
        if (reduction !== 'none') expect(fn.explain('valueAndGrad').kernels, `${name} ${reduction}`).toHaveLength(1);
      }
    }
  });

  it('CrossEntropyLoss.valueAndGrad is at most 2 kernels: a pre-pass for the weighted-mean denominator, then one row kernel', () => {
    for (const options of [
      {},
      { labelSmoothing: 0.1 },
      { weight: tensor([1, 2, 3], [3]), ignoreIndex: 1 },
      { weight: tensor([1, 2, 3], [3]), labelSmoothing: 0.2 },
    ]) {
      const { kernels, text } = new nn.CrossEntropyLoss(options).explain('valueAndGrad');
      expect(kernels.length).toBeLessThanOrEqual(2);
      expect(text).toMatch(/row kernel over shape\(input\) along axis 1/);
      // the row kernel writes only the results: no probability matrix is materialised beside the
      // gradient (a pre-pass may write the scalar denominator it reads)
      expect(kernels.at(-1)!.writes.sort()).toEqual(['grad_input', 'value']);
      expect(text).not.toMatch(/writes t\d+ = %\d+ : shape\(input\)/);
    }
  });

  it('every row-wise loss with a scalar reduction fuses valueAndGrad into one kernel', () => {
    for (const name of ['MultiMarginLoss', 'MultiLabelSoftMarginLoss', 'CosineEmbeddingLoss', 'TripletMarginLoss', 'TripletMarginWithDistanceLoss'] as const) {
      expect(new nn[name]().explain('valueAndGrad').kernels, name).toHaveLength(1);
    }
  });

  it('weights and pos_weight are read in the same single pass', () => {
    const fn = new nn.BCEWithLogitsLoss({ weight: tensor([1, 2, 3], [3]), posWeight: tensor([2, 2, 2], [3]) });
    const { kernels } = fn.explain('valueAndGrad');
    expect(kernels).toHaveLength(1);
    expect(kernels[0]!.reads.sort()).toEqual(['input', 'posWeight', 'target', 'weight']);
  });

  it('explain text shows the graph, the simplified gradient graph and the plan', () => {
    const { text } = new nn.MSELoss().explain('valueAndGrad');
    expect(text).toContain('== graph');
    expect(text).toContain('== simplify');
    expect(text).toContain('== fuse');
    expect(text).toMatch(/plan MSELoss_valueAndGrad: 1 kernel\n/);
    expect(text).toMatch(/sums into t\d+/);
  });
});
