// The stdlib loader, and DSL losses at run time: declared shapes checked with torch-like
// messages, class indices through gather, builder errors reported at their source position.
import { describe, it, expect } from 'vitest';
import { builtinLosses, tensor, Loss, type LossDef } from 'lossc';
import type { Node } from '../../compiler/ir/node.js';
import { Graph } from '../../compiler/ir/graph.js';
import type { BuildContext } from '../../compiler/loss.js';
import { loadLossFiles, loadStdlib } from '../../dsl/stdlib/index.js';
import { compileLossSource, CompileError } from '../../dsl/index.js';

const THE_LOSS_FILES = [
  'BCELoss',
  'BCEWithLogitsLoss',
  'CTCLoss',
  'CosineEmbeddingLoss',
  'CrossEntropyLoss',
  'GaussianNLLLoss',
  'HingeEmbeddingLoss',
  'HuberLoss',
  'KLDivLoss',
  'L1Loss',
  'MSELoss',
  'MarginRankingLoss',
  'MultiLabelMarginLoss',
  'MultiLabelSoftMarginLoss',
  'MultiMarginLoss',
  'NLLLoss',
  'PoissonNLLLoss',
  'SmoothL1Loss',
  'SoftMarginLoss',
  'TripletMarginLoss',
  'TripletMarginWithDistanceLoss',
];

describe('the stdlib loader', () => {
  it('reads every .loss file', () => {
    expect(
      loadLossFiles()
        .map((d) => d.name)
        .sort(),
    ).toEqual(THE_LOSS_FILES);
  });
  it('every built-in loss is a .loss one', () => {
    expect(builtinLosses.map((d) => d.name).sort()).toEqual(THE_LOSS_FILES);
  });
  it('overloads are chosen by dtype, as torch chooses: CrossEntropyLoss with class indices or probabilities', () => {
    const ce = builtinLosses.find((d) => d.name === 'CrossEntropyLoss')!;
    expect([ce, ...(ce.overloads ?? [])].map((f) => f.inputs.map((i) => i.kind))).toEqual([
      ['float', 'int'],
      ['float', 'float'],
    ]);
    const fn = new Loss(ce);
    const input = tensor([1, 2, 3, 1, 1, 1], [2, 3], 'float64');
    const byIndex = fn.forward(input, tensor([2, 0], [2], 'int32')).data[0]!;
    const byProbability = fn.forward(input, tensor([0, 0, 1, 1, 0, 0], [2, 3], 'float64')).data[0]!;
    expect(byProbability).toBeCloseTo(byIndex, 12);
  });
  it('takes extra TypeScript losses alongside, and refuses a name defined twice', () => {
    const extra: LossDef = { name: 'Extra', doc: '', inputs: [{ name: 'x', kind: 'float' }], options: [], build: (c) => c.input('x') };
    expect(loadStdlib([extra]).map((d) => d.name)).toContain('Extra');
    expect(() => loadStdlib([{ ...extra, name: 'MSELoss' }])).toThrow('lossc: the built-in loss MSELoss is defined twice (in a .loss file and in TypeScript?)');
  });
});

const [RowLoss] = compileLossSource(
  `loss RowLoss(input: f32[N, C], target: i32[N], scale: f32[_, 3, *]) {
  return mean(-gather(input, target, 1)) + sum(scale) * 0
}`,
  'row.loss',
);
const f32 = (shape: number[], fill = 0.5) => tensor(new Array(shape.reduce((a, b) => a * b, 1)).fill(fill), shape);
const i32 = (values: number[]) => tensor(values, [values.length], 'int32');

describe('declared shapes, checked at run time', () => {
  const fn = new Loss(RowLoss!);
  it('a wrong rank', () => {
    expect(() => fn.forward(f32([6]), i32([0, 1]), f32([2, 3]))).toThrow('RowLoss: Expected input to have 2 dimensions [N, C], got shape [6]');
  });
  it('a named size that differs between inputs', () => {
    expect(() => fn.forward(f32([2, 3]), i32([0, 1, 2]), f32([2, 3]))).toThrow(
      'RowLoss: Expected target size N (3) to match input size N (2) (target has shape [3], input has shape [2, 3])',
    );
  });
  it("a fixed size, and '*' standing for any number of axes", () => {
    expect(() => fn.forward(f32([2, 3]), i32([0, 1]), f32([2, 4, 5]))).toThrow('RowLoss: Expected dimension 1 of scale to be 3 [_, 3, *], got shape [2, 4, 5]');
    expect(() => fn.forward(f32([2, 3]), i32([0, 1]), f32([2]))).toThrow('RowLoss: Expected scale to have at least 2 dimensions [_, 3, *], got shape [2]');
    expect(fn.forward(f32([2, 3]), i32([0, 1]), f32([7, 3, 1, 2])).shape).toEqual([]);
  });
  it('computes with class indices (gather) and differentiates the float inputs only', () => {
    const input = tensor([1, 2, 3, 4, 5, 6], [2, 3], 'float64');
    const { value, grads } = fn.valueAndGrad(input, i32([2, 0]), tensor([0, 0, 0], [1, 3], 'float64'));
    expect(value.data[0]).toBe(-(3 + 4) / 2);
    expect([...grads[0]!.data]).toEqual([0, 0, -0.5, -0.5, 0, 0]);
    expect(grads[1]).toBeNull();
  });
});

describe('errors a builder raises while building', () => {
  it('become a CompileError at the call', () => {
    const [def] = compileLossSource("loss R(x: f32) {\n  option reduction: 'none' | 'sum' = 'sum'\n  return reduce(x, reduction)\n}", 'r.loss');
    const graph = new Graph();
    const ctx = {
      graph,
      input: (n: string) => graph.input(n, 'float'),
      num: (n: string) => graph.param(n),
      str: (_: string): string => 'bogus',
      flag: (_: string): boolean => false,
      tensor: (_: string): Node | null => null,
    } satisfies Partial<BuildContext> as BuildContext;
    expect(() => def!.build(ctx)).toThrow(CompileError);
    expect(() => def!.build(ctx)).toThrow('r.loss:3:10: error: reduce: bogus is not a valid value for reduction');
  });
});
