// A training step in steady state (same shapes, caller-owned outputs) allocates no typed array:
// temporaries, float64 scratch and row scratch come from the program's pool, and the binding
// (checks, shapes, strides) is reused. Counted by wrapping the typed-array constructors while
// the calls run.
import { describe, it, expect } from 'vitest';
import { nn, tensor, type Tensor } from 'lossc';

const CTORS = ['Float32Array', 'Float64Array', 'Int32Array', 'Uint32Array', 'ArrayBuffer'] as const;

/** The number of typed arrays (and ArrayBuffers) constructed while `fn` runs. */
function countAllocations(fn: () => void): number {
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = CTORS.map((name) => g[name]);
  let count = 0;
  CTORS.forEach((name, i) => {
    g[name] = new Proxy(saved[i] as object, {
      construct(target, args, newTarget) {
        count++;
        return Reflect.construct(target as new (...a: unknown[]) => object, args, newTarget === g[name] ? (target as never) : newTarget);
      },
    });
  });
  try {
    fn();
  } finally {
    CTORS.forEach((name, i) => (g[name] = saved[i]));
  }
  return count;
}

const seq = (n: number, f: (i: number) => number, shape: number[], Arr: typeof Float32Array | typeof Float64Array = Float32Array): Tensor => {
  const data = new Arr(n);
  for (let i = 0; i < n; i++) data[i] = f(i);
  return tensor(data, shape);
};
const zerosLike = (t: Tensor): Tensor => tensor(new (t.dtype === 'float64' ? Float64Array : Float32Array)(t.data.length), t.shape);

describe('a steady-state call with out allocates no typed array', () => {
  it('the counter sees allocations (a default call makes fresh results)', () => {
    const mse = new nn.MSELoss();
    const x = seq(100, Math.sin, [100]),
      y = seq(100, Math.cos, [100]);
    mse.valueAndGrad(x, y);
    expect(countAllocations(() => mse.valueAndGrad(x, y))).toBeGreaterThan(0);
  });

  const cases: { name: string; loss: () => InstanceType<(typeof nn)['MSELoss']>; inputs: Tensor[]; wrt?: string[]; accumulate?: boolean }[] = [
    { name: 'MSELoss [1000], wrt input', loss: () => new nn.MSELoss(), inputs: [seq(1000, Math.sin, [1000]), seq(1000, Math.cos, [1000])], wrt: ['input'] },
    {
      name: 'MSELoss, target broadcast (a scatter into float64 scratch), accumulate',
      loss: () => new nn.MSELoss(),
      inputs: [seq(20, Math.sin, [4, 5]), seq(5, Math.cos, [5])],
      accumulate: true,
    },
    {
      name: 'BCEWithLogitsLoss float64, posWeight',
      loss: () => new nn.BCEWithLogitsLoss({ posWeight: seq(3, (i) => i + 1, [3], Float64Array) }),
      inputs: [seq(12, Math.sin, [4, 3], Float64Array), seq(12, (i) => (i % 2) * 0.75, [4, 3], Float64Array)],
      wrt: ['input'],
    },
    {
      name: 'CrossEntropyLoss [64, 10] (row kernels, row scratch), label smoothing',
      loss: () => new nn.CrossEntropyLoss({ labelSmoothing: 0.1 }),
      inputs: [
        seq(640, Math.sin, [64, 10]),
        tensor(
          Int32Array.from({ length: 64 }, (_, i) => i % 10),
          [64],
        ),
      ],
      wrt: ['input'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const loss = c.loss();
      const value = zerosLike(loss.forward(...c.inputs));
      const grads = loss
        .vjp(c.inputs, tensor(new (c.inputs[0]!.dtype === 'float64' ? Float64Array : Float32Array)(1).fill(1), []))
        .map((g, i) => (g && (!c.wrt || c.wrt.includes(['input', 'target'][i]!)) ? zerosLike(g) : null));
      const opts = { wrt: c.wrt, out: { value, grads }, accumulate: c.accumulate };
      loss.valueAndGrad(c.inputs, opts); // first call: compiles, binds, fills the pool
      const before = grads.map((g) => (g ? Array.from(g.data) : null));
      expect(
        countAllocations(() => {
          for (let i = 0; i < 10; i++) loss.valueAndGrad(c.inputs, opts);
        }),
      ).toBe(0);
      // and the calls did their work
      if (c.accumulate) grads.forEach((g, i) => g && expect(Array.from(g.data)).not.toEqual(before[i]));
      expect(value.data[0]).toBe(loss.forward(...c.inputs).data[0]);
    });
  }
});
