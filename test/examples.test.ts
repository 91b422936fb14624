// The examples compile and give the built-in losses' exact numbers.
import { describe, it, expect } from 'vitest';
import { nn, tensor } from 'lossc';
import { customMse } from '../examples/customMse.js';

describe('examples', () => {
  it("the custom MSE written with the builders gives exactly MSELoss's value and gradients", () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const input = tensor(
        Array.from({ length: 20 }, (_, i) => Math.sin(3 * i)),
        [4, 5],
        dtype,
      );
      const target = tensor(
        Array.from({ length: 20 }, (_, i) => Math.cos(i)),
        [4, 5],
        dtype,
      );
      const mine = customMse.valueAndGrad(input, target);
      const ref = new nn.MSELoss().valueAndGrad(input, target);
      expect(mine.value.dtype).toBe(dtype);
      expect(Array.from(mine.value.data)).toEqual(Array.from(ref.value.data));
      expect(Array.from(mine.grads[0]!.data)).toEqual(Array.from(ref.grads[0]!.data));
      expect(Array.from(mine.grads[1]!.data)).toEqual(Array.from(ref.grads[1]!.data));
      expect(customMse.explain('valueAndGrad').kernels).toHaveLength(1);
    }
  });
});

describe('compile()', () => {
  it('takes .loss text, and names the losses when it cannot choose', async () => {
    const { compile } = await import('lossc');
    const source = 'loss Sq(a: f32[*], b: f32[*]) {\n  return mean((a - b) ** 2)\n}\nloss Abs(a: f32[*], b: f32[*]) {\n  return mean(abs(a - b))\n}\n';
    const sq = compile(source, { name: 'Sq' });
    const a = tensor([1, 2, 3], [3], 'float64');
    const b = tensor([2, 2, 5], [3], 'float64');
    expect(sq.forward(a, b).data[0]).toBe(new nn.MSELoss().forward(a, b).data[0]);
    expect(() => compile(source)).toThrow(/the source declares 2 losses \(Sq, Abs\); pass \{ name \} to choose one/);
    expect(() => compile('loss Bad(a: f32[*]) {\n  return mean(a +)\n}\n', { file: 'bad.loss' })).toThrow(/bad\.loss:2:/);
  });
});
