// Which SIMD form each float32 kernel loop takes on the WebAssembly backend: four float32 lanes
// where the loop body is a float32 computation (every inexact operation rounded, float32 reads,
// float32 constants and scalars), two float64 lanes where it reads a float64 value the float32
// lanes could not hold (here HuberLoss's delta = 0.1), and the same values as the JS backend either way.
import { describe, it, expect } from 'vitest';
import { compile, nn, tensor } from 'lossc';
import { compiled, type Loss } from '../../runtime/nn.js';
import { emitWasm } from '../../compiler/emit/wasm/kernel.js';
import { lcgFloat32 as random } from '../support/random.js';

/** the SIMD loads of each kernel of a method's float32 program: four-lane, two-lane */
function loads(loss: Loss, method: 'forward' | 'valueAndGrad'): { four: number; two: number }[] {
  const c = compiled(loss.def, loss.options, method, method === 'valueAndGrad' ? { wrt: [0] } : {});
  return emitWasm(c.plan, 'f32').kernels.map((k) => {
    const text = k.run.join(' ');
    return { four: (text.match(/@vld4:/g) ?? []).length, two: (text.match(/@vld:/g) ?? []).length };
  });
}

describe('four float32 lanes in float32 kernels', () => {
  it('MSELoss and BCEWithLogitsLoss: the flat loop, forward and training step', () => {
    for (const loss of [new nn.MSELoss(), new nn.BCEWithLogitsLoss()] as unknown as Loss[])
      for (const method of ['forward', 'valueAndGrad'] as const) {
        const [k] = loads(loss, method);
        expect(k!.four).toBeGreaterThan(0);
        expect(k!.two).toBe(0);
      }
  });
  it("CrossEntropyLoss: every pass over a row (max, sum of exp, the gradient's, which compares class indices as integers)", () => {
    const ks = loads(new nn.CrossEntropyLoss() as unknown as Loss, 'valueAndGrad');
    const rows = ks[ks.length - 1]!;
    expect(rows.two).toBe(0);
    // reads per pass: the max's input, two copies; exp's input, four copies; the gradient's class
    // index, two copies (its exp comes from the row's cache); each then once more, one copy at a time
    expect(rows.four).toBe(2 + 1 + (4 + 1) + (2 + 1));
  });
  it("a float64 scalar in the loop (HuberLoss's delta = 0.1) keeps two float64 lanes, with the JS backend's values", async () => {
    const huber = new nn.HuberLoss({ delta: 0.1 }) as unknown as Loss;
    const [k] = loads(huber, 'valueAndGrad');
    expect(k!.four).toBe(0);
    expect(k!.two).toBeGreaterThan(0);
    const n = 1003;
    const x = tensor(random(n, 1), [n]);
    const y = tensor(random(n, 2), [n]);
    const w = (await huber.to('wasm')) as Loss;
    const [a, b] = [huber.valueAndGrad(x, y), w.valueAndGrad(x, y)];
    expect(Array.from(b.grads[0]!.data)).toEqual(Array.from(a.grads[0]!.data));
    expect(Math.abs(b.value.data[0]! - a.value.data[0]!)).toBeLessThanOrEqual(1e-6 * Math.abs(a.value.data[0]!));
  });
  it('four lanes give the JS backend values: elementwise exactly, exp/log within float32 tolerance', async () => {
    const n = 4099;
    const x = tensor(random(n, 3, 6), [n]);
    const y = tensor(random(n, 4, 6), [n]);
    const mse = new nn.MSELoss() as unknown as Loss;
    const w = (await mse.to('wasm')) as Loss;
    const [a, b] = [mse.valueAndGrad(x, y), w.valueAndGrad(x, y)];
    // the gradient is elementwise: each element's float32 operations round as the JS backend's
    expect(Array.from(b.grads[0]!.data)).toEqual(Array.from(a.grads[0]!.data));
    const p = tensor(
      random(n, 5, 1).map((v) => v + 0.5),
      [n],
    );
    const bce = new nn.BCEWithLogitsLoss() as unknown as Loss;
    const wb = (await bce.to('wasm')) as Loss;
    const [c, d] = [bce.valueAndGrad(x, p), wb.valueAndGrad(x, p)];
    const bad = Array.from(c.grads[0]!.data).findIndex((e, i) => !(Math.abs(d.grads[0]!.data[i]! - e) <= 1e-6 + 1e-5 * Math.abs(e)));
    expect(bad).toBe(-1);
    expect(Math.abs(d.value.data[0]! - c.value.data[0]!)).toBeLessThanOrEqual(1e-5 * Math.abs(c.value.data[0]!));
  });
  it("a max over four lanes: NaN anywhere in a row (any lane, any copy, the tail) makes the row's max NaN, as on the JS backend", async () => {
    const [rows, classes] = [6, 37];
    const data = random(rows * classes, 9, 4);
    [0, 5, 18, 36].forEach((c, r) => (data[r * classes + c] = NaN));
    data[4 * classes + 3] = Infinity;
    const logits = tensor(data, [rows, classes]);
    const target = tensor(Int32Array.from([1, 2, 3, 4, 5, 6]), [rows]);
    const ce = new nn.CrossEntropyLoss({ reduction: 'none' }) as unknown as Loss;
    const w = (await ce.to('wasm')) as Loss;
    const [a, b] = [ce.forward(logits, target), w.forward(logits, target)];
    expect(Array.from(b.data, Number.isNaN)).toEqual([true, true, true, true, true, false]);
    expect(Array.from(a.data, Number.isNaN)).toEqual([true, true, true, true, true, false]);
    expect(Math.abs(b.data[5]! - a.data[5]!)).toBeLessThanOrEqual(1e-5 * Math.abs(a.data[5]!));
  });
  it('tanh and expm1 in a float32 loop: four lanes, the JS backend values within float32 tolerance', async () => {
    const custom = compile('loss L(x: f32[N], y: f32[N]) { return mean(tanh(x) * y + expm1(x * 0.5) + log1p(abs(y))) }') as unknown as Loss;
    const [k] = loads(custom, 'valueAndGrad');
    expect(k!.four).toBeGreaterThan(0);
    expect(k!.two).toBe(0);
    const n = 5003;
    const x = tensor(random(n, 11, 8), [n]);
    const y = tensor(random(n, 12, 3), [n]);
    const w = (await custom.to('wasm')) as Loss;
    const [a, b] = [custom.valueAndGrad(x, y), w.valueAndGrad(x, y)];
    for (const [got, want] of [
      [b.value, a.value],
      [b.grads[0]!, a.grads[0]!],
      [b.grads[1]!, a.grads[1]!],
    ] as const) {
      const scale = Math.max(1, ...Array.from(want.data, Math.abs));
      const bad = Array.from(want.data).findIndex((e, i) => !(Math.abs(got.data[i]! - e) <= 1e-6 * scale + 1e-5 * Math.abs(e)));
      expect(bad).toBe(-1);
    }
  });
  it('broadcasts: the strided loop four lanes at a time along its inner axis, stores and sums into memory with the JS backend bits', async () => {
    const mse = new nn.MSELoss() as unknown as Loss;
    const w = (await mse.to('wasm')) as Loss;
    const [rows, cols] = [300, 67];
    const big = tensor(random(rows * cols, 13), [rows, cols]);
    const row = tensor(random(cols, 14), [cols]);
    // input [300, 67] against a target row: each gradient element once; a row input against [300, 67]
    // targets: each gradient element summed over 300 rows (in float64, in the same order)
    for (const [x, y] of [
      [big, row],
      [row, big],
    ] as const) {
      const [a, b] = [mse.valueAndGrad(x, y), w.valueAndGrad(x, y)];
      expect(Array.from(b.grads[0]!.data)).toEqual(Array.from(a.grads[0]!.data));
      expect(Array.from(b.grads[1]!.data)).toEqual(Array.from(a.grads[1]!.data));
      expect(Math.abs(b.value.data[0]! - a.value.data[0]!)).toBeLessThanOrEqual(1e-6 * Math.abs(a.value.data[0]!));
    }
    const [k] = loads(mse, 'valueAndGrad');
    expect(k!.four).toBeGreaterThan(4); // the flat loop's and the strided loop's
    // BCEWithLogits with a per-class pos_weight: exp/log1p in the strided loop, within float32 tolerance
    const pw = tensor(
      random(cols, 15, 1).map((v) => v + 1.5),
      [cols],
    );
    const bce = new nn.BCEWithLogitsLoss({ posWeight: pw }) as unknown as Loss;
    const p = tensor(
      random(rows * cols, 16, 1).map((v) => v + 0.5),
      [rows, cols],
    );
    const wb = (await bce.to('wasm')) as Loss;
    const [c, d] = [bce.valueAndGrad(big, p), wb.valueAndGrad(big, p)];
    const scale = Math.max(1, ...Array.from(c.grads[0]!.data, Math.abs));
    expect(Array.from(c.grads[0]!.data).findIndex((e, i) => !(Math.abs(d.grads[0]!.data[i]! - e) <= 1e-6 * scale + 1e-5 * Math.abs(e)))).toBe(-1);
    expect(Math.abs(d.value.data[0]! - c.value.data[0]!)).toBeLessThanOrEqual(1e-5 * Math.abs(c.value.data[0]!));
  });
});
