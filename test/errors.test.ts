// Bad input gets an Error that names the argument and the shapes, as torch's messages do.
import { describe, it, expect } from 'vitest';
import { compile, nn, tensor } from 'lossc';

const f32 = (shape: number[], fill = 0.5) => tensor(new Array(shape.reduce((a, b) => a * b, 1)).fill(fill), shape, 'float32');

describe('errors', () => {
  it('shapes that cannot broadcast name both tensors and their shapes', () => {
    expect(() => new nn.MSELoss().forward(f32([4, 3]), f32([4, 5]))).toThrow(
      /MSELoss: The size of tensor input \(3\) must match the size of tensor target \(5\) at non-singleton dimension 1 \(input has shape \[4, 3\], target has shape \[4, 5\]\)/,
    );
  });
  it('an int tensor where a float is expected', () => {
    expect(() => new nn.L1Loss().forward(tensor([1, 2], [2], 'int32'), f32([2]))).toThrow(
      /L1Loss\.forward\(input, target\): expected 'input' to be a floating-point tensor, got int32 with shape \[2\]/,
    );
  });
  it('the wrong number of arguments', () => {
    expect(() => new nn.MSELoss().forward(f32([2]))).toThrow(/MSELoss\.forward\(input, target\) takes 2 tensors, got 1/);
    expect(() => new nn.MarginRankingLoss().forward(f32([2]), f32([2]))).toThrow(/takes 3 tensors, got 2/);
  });
  it('mixed float32 and float64 arguments', () => {
    expect(() => new nn.MSELoss().forward(f32([2]), tensor([1, 2], [2], 'float64'))).toThrow(
      /expected 'target' to have dtype float32 like the other float arguments, got float64/,
    );
  });
  it('a negative var in GaussianNLLLoss', () => {
    expect(() => new nn.GaussianNLLLoss().forward(f32([3]), f32([3]), tensor([1, -2, 3], [3]))).toThrow(
      /GaussianNLLLoss: var has negative entry\/entries \(var\[1\] = -2\)/,
    );
  });
  it('a var of incorrect size', () => {
    expect(() => new nn.GaussianNLLLoss().forward(f32([2, 3]), f32([2, 3]), f32([3, 2]))).toThrow(
      /var is of incorrect size: var has shape \[3, 2\], input has shape \[2, 3\]/,
    );
  });
  it('BCE: input outside [0, 1], and target of another size', () => {
    expect(() => new nn.BCELoss().forward(tensor([0.5, 1.5], [2]), f32([2]))).toThrow(/all elements of input should be between 0 and 1 \(input\[1\] = 1\.5\)/);
    expect(() => new nn.BCEWithLogitsLoss().forward(f32([2, 2]), f32([2]))).toThrow(/Target size \(\[2\]\) must be the same as input size \(\[2, 2\]\)/);
  });
  it('unknown options and invalid option values', () => {
    expect(() => new nn.MSELoss({ reductoin: 'sum' })).toThrow(/MSELoss got an unexpected option 'reductoin' \(options: reduction\)/);
    expect(() => new nn.MSELoss({ reduction: 'avg' as 'mean' })).toThrow(/avg is not a valid value for reduction/);
    expect(() => new nn.SmoothL1Loss({ beta: '1' as unknown as number })).toThrow(/option 'beta' must be a number/);
    expect(() => new nn.MSELoss({ reduction: 'batchmean' })).toThrow(/batchmean is not a valid value for reduction/);
  });
  it('a gradOutput of the wrong shape', () => {
    const fn = new nn.MSELoss({ reduction: 'none' });
    expect(() => fn.vjp([f32([2, 3]), f32([2, 3])], f32([3]))).toThrow(/MSELoss\.vjp: gradOutput has shape \[3\] but the loss output has shape \[2, 3\]/);
  });
  it('valueAndGrad on a loss that is not reduced to a scalar', () => {
    expect(() => new nn.MSELoss({ reduction: 'none' }).valueAndGrad(f32([2]), f32([2]))).toThrow(/needs a scalar loss/);
  });
  it('tensor() rejects data that does not fit the shape', () => {
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(/shape \[2, 2\] has 4 elements but 3 values were given/);
  });

  it('a class index outside [0, C) that is not ignore_index names the index', () => {
    const logits = f32([2, 5]);
    expect(() => new nn.CrossEntropyLoss().forward(logits, tensor([1, 7], [2], 'int32'))).toThrow(
      /CrossEntropyLoss: Target 7 is out of bounds \(target\[1\]; 5 classes\)/,
    );
    expect(() => new nn.NLLLoss().forward(logits, tensor([-1, 0], [2], 'int32'))).toThrow(/Target -1 is out of bounds/);
    // ignore_index is not a class and is never out of bounds
    expect(new nn.CrossEntropyLoss({ ignoreIndex: 7 }).forward(logits, tensor([1, 7], [2], 'int32')).data[0]).toBeCloseTo(Math.log(5), 5);
  });
  it('class-index targets of the wrong dtype or shape', () => {
    expect(() => new nn.NLLLoss().forward(f32([2, 5]), f32([2]))).toThrow(
      /NLLLoss\.forward\(input, target\): expected 'target' to be an int32 tensor of indices, got float32 with shape \[2\]/,
    );
    expect(() => new nn.CrossEntropyLoss().forward(f32([3, 5]), tensor([1, 2], [2], 'int32'))).toThrow(
      /Expected target of shape \[3\] for input of shape \[3, 5\], got \[2\]/,
    );
    expect(() => new nn.CrossEntropyLoss().forward(f32([3, 5]), f32([3, 4]))).toThrow(
      /class-probability targets must have the shape of input: target \[3, 4\], input \[3, 5\]/,
    );
  });
  it('CTC lengths that do not fit the inputs', () => {
    const logProbs = f32([4, 1, 3], -1);
    const targets = tensor([1, 2], [1, 2], 'int32');
    const ctc = new nn.CTCLoss();
    expect(() => ctc.forward(logProbs, targets, tensor([5], [1], 'int32'), tensor([2], [1], 'int32'))).toThrow(
      /Expected input_lengths to have value at most 4, but got value 5/,
    );
    expect(() => ctc.forward(logProbs, targets, tensor([4], [1], 'int32'), tensor([3], [1], 'int32'))).toThrow(
      /Expected tensor to have size at least 3 at dimension 1, but got size 2/,
    );
    expect(() => ctc.forward(logProbs, tensor([1, 3], [1, 2], 'int32'), tensor([4], [1], 'int32'), tensor([2], [1], 'int32'))).toThrow(
      /target 3 \(targets\[0, 1\]\) is out of range for 3 classes/,
    );
  });
  it('a weight of the wrong rank', () => {
    expect(() => new nn.CrossEntropyLoss({ weight: f32([5, 1]) }).forward(f32([2, 5]), tensor([1, 2], [2], 'int32'))).toThrow(
      'weight tensor should be defined either for all 5 classes or no classes but got weight tensor of shape: [5, 1]',
    );
  });
});

describe('derivatives of mod and floorDiv, as torch', () => {
  const source = (body: string): string => `loss L(input: f32[N]) {\n  return ${body}\n}\n`;
  it('sum(mod(x, 2.0)) has gradient 1 (torch.remainder)', () => {
    const loss = compile(source('sum(mod(input, 2.0))'));
    const { value, grads } = loss.valueAndGrad(tensor([3.5, -1.25, 4], [3], 'float64'));
    expect(value.data[0]).toBe(1.5 + 0.75 + 0);
    expect([...grads[0]!.data]).toEqual([1, 1, 1]);
  });
  it('a gradient through floorDiv is an error naming it (torch: "derivative for aten::floor_divide is not implemented")', () => {
    const loss = compile(source('sum(floorDiv(input, 2.0))'));
    expect(loss.forward(tensor([3.5, -1.25], [2], 'float64')).data[0]).toBe(1 - 1);
    expect(() => loss.valueAndGrad(tensor([3.5, -1.25], [2], 'float64'))).toThrow(
      /^<compile>:2:14: lossc: cannot differentiate through floorDiv in floorDiv\(input, 2\)/,
    );
  });
});
