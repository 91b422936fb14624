// Tensors in the WebAssembly backend's memory (loss.tensor(), WasmTensor): a training step over
// them gives the copying path's bits and copies nothing in or out once warm (the backend's
// `copied` counter), at 1 and 2 threads; misuse (a released tensor, another backend's) is an
// error naming the argument; regions survive memory growth and are reused after release().
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { nn, tensor, WasmTensor } from 'lossc';
import { Loss } from '../../runtime/nn.js';
import { createWasmBackend, type WasmBackend } from '../../runtime/wasm/backend.js';
import { WasmMemory } from '../../runtime/wasm/memory.js';
import { lcgFloat32 as random } from '../support/random.js';
import { bits, on } from '../support/wasm.js';

let one: WasmBackend;
let two: WasmBackend;
beforeAll(async () => {
  one = await createWasmBackend({ threads: 1 });
  two = await createWasmBackend({ threads: 2 });
});
afterAll(() => two.close());

const copies = (b: WasmBackend): [number, number] => [b.copied.in, b.copied.out];
const temporaries = (b: WasmBackend): number => b.copied.temporaries;

describe('wasm tensors (zero copy)', () => {
  const n = 200_003;
  const rows = 300;
  const C = 1000;
  const cases: [string, Loss, (dtype: 'float32' | 'float64') => [Float32Array | Float64Array | Int32Array, number[]][]][] = [
    [
      'MSELoss',
      new nn.MSELoss(),
      () => [
        [random(n, 1), [n]],
        [random(n, 2), [n]],
      ],
    ],
    [
      'BCEWithLogitsLoss',
      new nn.BCEWithLogitsLoss(),
      () => [
        [random(n, 3, 8), [n]],
        [random(n, 4, 1).map((v) => v + 0.5), [n]],
      ],
    ],
    [
      'CrossEntropyLoss',
      new nn.CrossEntropyLoss({ labelSmoothing: 0.1 }),
      () => [
        [random(rows * C, 5, 8), [rows, C]],
        [Int32Array.from({ length: rows }, (_, i) => (i * 7919) % C), [rows]],
      ],
    ],
  ];
  for (const dtype of ['float32', 'float64'] as const)
    for (const [name, host, make] of cases)
      for (const threads of [1, 2])
        it(`${name} ${dtype}, ${threads} thread(s): the copying path's bits, and no copy in steady state`, () => {
          const b = threads === 1 ? one : two;
          const loss = on(host, b);
          const data = make(dtype).map(([d, s]) => [d instanceof Int32Array ? d : dtype === 'float64' ? Float64Array.from(d) : d, s] as const);
          const plain = data.map(([d, s]) => tensor(d, s));
          const want = loss.valueAndGrad(plain, { wrt: ['input'] });
          const inputs = data.map(([d, s]) => b.tensor(d, s));
          const value = b.tensor(want.value.shape, dtype);
          const grad = b.tensor(plain[0]!.shape, dtype);
          const step = () => loss.valueAndGrad(inputs, { wrt: ['input'], out: { value, grads: [grad] } });
          const first = step();
          expect(first.value).toBe(value);
          expect(first.grads[0]).toBe(grad);
          expect(bits(value)).toEqual(bits(want.value));
          expect(bits(grad)).toEqual(bits(want.grads[0]!));
          const before = copies(b);
          const t0 = temporaries(b);
          step();
          step();
          expect(copies(b)).toEqual(before);
          // what crosses between kernels (two steps): scalars, per-row values, a class index vector; a small
          // fraction of the arguments' elements
          expect(temporaries(b) - t0).toBeLessThan(plain[0]!.data.length / 20);
          expect(bits(value)).toEqual(bits(want.value));
          expect(bits(grad)).toEqual(bits(want.grads[0]!));
          // the copying path copies its inputs in and its results out
          const c0 = copies(b);
          loss.valueAndGrad(plain, { wrt: ['input'] });
          expect(copies(b)[0] - c0[0]).toBeGreaterThanOrEqual(plain[0]!.data.length);
          expect(copies(b)[1] - c0[1]).toBeGreaterThanOrEqual(plain[0]!.data.length);
          for (const t of [...inputs, value, grad]) t.release();
        });

  it('accumulate into a WasmTensor gradient: the copying path bits, nothing copied', () => {
    const loss = on(new nn.MSELoss(), one);
    const [xd, yd] = [random(n, 7), random(n, 8)];
    const g0 = random(n, 9);
    const want = tensor(g0.slice(), [n]);
    loss.valueAndGrad([tensor(xd, [n]), tensor(yd, [n])], { wrt: ['input'], out: { grads: [want] }, accumulate: true });
    const [x, y, g, v] = [one.tensor(xd, [n]), one.tensor(yd, [n]), one.tensor(g0, [n]), one.tensor([])];
    loss.valueAndGrad([x, y], { wrt: ['input'], out: { value: v, grads: [g] }, accumulate: true });
    expect(bits(g)).toEqual(bits(want));
    const before = copies(one);
    loss.valueAndGrad([x, y], { wrt: ['input'], out: { value: v, grads: [g] }, accumulate: true });
    expect(copies(one)).toEqual(before);
    for (const t of [x, y, g, v]) t.release();
  });

  it('the public path: await loss.to("wasm") has tensor(); forward with out', async () => {
    const loss = await new nn.MSELoss({ reduction: 'sum' }).to('wasm');
    const x = loss.tensor([1, 2, 3], [3]);
    const y = loss.tensor(new Float32Array([1, 0, 1]), [3]);
    const out = loss.tensor([]);
    expect(x).toBeInstanceOf(WasmTensor);
    expect(x.data).toBeInstanceOf(Float32Array);
    expect(loss.tensor([2, 2], 'float64').data).toEqual(new Float64Array(4));
    expect(loss.forward([x, y], { out })).toBe(out);
    expect(out.data[0]).toBe(0 + 4 + 4);
    expect(Array.from(loss.valueAndGrad(x, y).grads[0]!.data)).toEqual([0, 4, 4]);
    for (const t of [x, y, out]) t.release();
  });

  it("misuse: a released tensor or another backend's is an error naming the argument", () => {
    const loss = on(new nn.MSELoss(), one);
    const x = one.tensor([1, 2], [2]);
    const y = one.tensor([0, 0], [2]);
    const g = one.tensor([2]);
    loss.valueAndGrad([x, y], { wrt: ['input'], out: { grads: [g] } });
    y.release();
    expect(y.released).toBe(true);
    expect(y.data.length).toBe(0);
    y.release(); // idempotent
    expect(() => loss.valueAndGrad([x, y], { wrt: ['input'], out: { grads: [g] } })).toThrow(
      "MSELoss.valueAndGrad: argument 'target' is a WebAssembly tensor [2] float32 that was released (release() gave its memory back)",
    );
    // the JS backend says the same
    expect(() => new nn.MSELoss().forward(x, y)).toThrow("argument 'target' is a WebAssembly tensor [2] float32 that was released");
    const y2 = one.tensor([0, 0], [2]);
    g.release();
    expect(() => loss.valueAndGrad([x, y2], { wrt: ['input'], out: { grads: [g] } })).toThrow(/out\.grads.*'input'.*released/);
    const foreign = two.tensor([0, 0], [2]);
    expect(() => loss.forward(x, foreign)).toThrow("MSELoss.forward: argument 'target' is a WebAssembly tensor [2] float32 of another wasm backend");
    const out = two.tensor([]);
    expect(() => loss.forward([x, y2], { out })).toThrow('MSELoss.forward: out is a WebAssembly tensor [] float32 of another wasm backend');
    // an out tensor that is also an argument
    expect(() => loss.valueAndGrad([x, y2], { wrt: ['input'], out: { grads: [x] } })).toThrow(
      "MSELoss.valueAndGrad: out.grads ('input') is the same WebAssembly tensor as argument 'input'",
    );
    const v = one.tensor([]);
    expect(() => loss.valueAndGrad([x, y2], { wrt: ['input'], out: { value: v, grads: [v] } })).toThrow();
    v.release();
    // an ordinary tensor on the JS backend is fine: a live WasmTensor's data is an ordinary typed array
    expect(new nn.MSELoss().forward(x, foreign).data[0]).toBe(2.5);
    for (const t of [x, y2, foreign, out]) t.release();
  });

  it('a memory that is not shared (a page without cross-origin isolation): data is viewed again after growth', () => {
    const mem = new WasmMemory(false);
    const t = new WasmTensor(mem, [1, 2, 3], [3], 'float64');
    const before = t.data;
    mem.reset();
    mem.alloc(1 << 24); // grows the memory: the old ArrayBuffer is detached
    mem.done();
    expect(before.length).toBe(0);
    expect(Array.from(t.data)).toEqual([1, 2, 3]);
    expect(t.data.buffer).toBe(mem.buffer);
    t.release();
  });

  it('regions: zeroed, disjoint, reused after release, and valid across memory growth', async () => {
    const b = await createWasmBackend({ threads: 1 });
    expect(b.sharedMemory).toBe(true);
    const a = b.tensor(new Float32Array(1000).fill(1), [1000]);
    const c = b.tensor(new Float32Array(1000).fill(2), [1000]);
    const view = c.data;
    const aAt = a.data.byteOffset;
    a.release();
    const d = b.tensor([500]);
    expect(d.data.every((v) => v === 0)).toBe(true);
    d.data.fill(3);
    expect(view.every((v) => v === 2)).toBe(true);
    expect(d.data.byteOffset).toBe(aAt); // a's bytes, reused
    // a call that grows the memory a lot: c's array stays the same, with the same elements
    const before = b.memoryBytes;
    const m = 1 << 22;
    const loss = new Loss(new nn.MSELoss().def, {}, b);
    loss.valueAndGrad(tensor(random(m, 1), [m]), tensor(random(m, 2), [m]));
    expect(b.memoryBytes).toBeGreaterThan(before + 16 * m);
    expect(c.data).toBe(view);
    expect(view.every((v) => v === 2)).toBe(true);
    const x = b.tensor(random(m, 1), [m]);
    const y = b.tensor(random(m, 2), [m]);
    const want = loss.valueAndGrad(tensor(random(m, 1), [m]), tensor(random(m, 2), [m]));
    const got = loss.valueAndGrad(x, y);
    expect(bits(got.grads[0]!)).toEqual(bits(want.grads[0]!));
    for (const t of [c, d, x, y]) t.release();
    await b.close();
  });
});
