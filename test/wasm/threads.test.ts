// Threads on the WebAssembly backend: a kernel large enough to be split into parts gives the same
// bits with 1 thread and with 2 (a fixed partition, partials combined in part order), and agrees
// with the JS backend at float32 tolerance. Also: the training-step call (wrt, out, accumulate).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { nn, tensor, type Tensor } from 'lossc';
import { Loss } from '../../runtime/nn.js';
import { createWasmBackend, type WasmBackend } from '../../runtime/wasm/backend.js';
import { lcgFloat32 as random } from '../support/random.js';
import { bits, on } from '../support/wasm.js';

let one: WasmBackend;
let two: WasmBackend;
beforeAll(async () => {
  one = await createWasmBackend({ threads: 1 });
  two = await createWasmBackend({ threads: 2 });
});
afterAll(() => two.close());

function close(got: Tensor, want: Tensor): void {
  let s = 1;
  for (const e of want.data) s = Math.max(s, Math.abs(e));
  const bad = Array.from(want.data).findIndex((e, i) => !(Math.abs(got.data[i]! - e) <= 1e-6 * s + 1e-5 * Math.abs(e)));
  expect(bad < 0 ? 'ok' : `element ${bad}: ${got.data[bad]} vs ${want.data[bad]}`).toBe('ok');
}

describe('wasm threads', () => {
  const n = 300_001;
  const x = tensor(random(n, 1), [n]);
  const y = tensor(random(n, 2), [n]);
  const p = tensor(
    random(n, 3, 1).map((v) => v + 0.5),
    [n],
  );
  const logits = tensor(random(600 * 1000, 4, 8), [600, 1000]);
  const target = tensor(
    Int32Array.from({ length: 600 }, (_, i) => (i * 7919) % 1000),
    [600],
  );
  const cases: [string, Loss, Tensor[]][] = [
    ['MSELoss', new nn.MSELoss(), [x, y]],
    ['BCEWithLogitsLoss', new nn.BCEWithLogitsLoss(), [x, p]],
    ['CrossEntropyLoss', new nn.CrossEntropyLoss({ labelSmoothing: 0.1 }), [logits, target]],
    ['SmoothL1Loss sum', new nn.SmoothL1Loss({ reduction: 'sum' }), [x, y]],
  ];
  for (const [name, host, inputs] of cases) {
    it(`${name}: 2 threads give the bits of 1, and the JS backend's values`, () => {
      const a = on(host, one).valueAndGrad(...inputs);
      const b = on(host, two).valueAndGrad(...inputs);
      expect(bits(b.value)).toEqual(bits(a.value));
      expect(bits(b.grads[0]!)).toEqual(bits(a.grads[0]!));
      const js = host.valueAndGrad(...inputs);
      close(a.value, js.value);
      close(a.grads[0]!, js.grads[0]!);
    });
  }
  it('the training step: wrt, caller-owned outputs and accumulate, on 2 threads', () => {
    const host = new nn.MSELoss();
    const w = on(host, two);
    const value = tensor(new Float32Array(1), []);
    const g = tensor(new Float32Array(n).fill(1), [n]);
    const r = w.valueAndGrad([x, y], { wrt: ['input'], out: { value, grads: [g] }, accumulate: true });
    expect(r.value).toBe(value);
    expect(r.grads[0]).toBe(g);
    expect(r.grads[1]).toBeNull();
    const js = host.valueAndGrad(x, y);
    close(value, js.value);
    close(
      tensor(
        g.data.map((v) => v - 1),
        [n],
      ),
      js.grads[0]!,
    );
  });
});

describe("to('wasm') options", () => {
  it('refuses a thread count that is not a positive integer, naming the option', async () => {
    await expect(new nn.MSELoss().to('wasm', { threads: 0 })).rejects.toThrow("to('wasm', { threads }): threads must be an integer from 1 to 64, got 0");
    await expect(new nn.MSELoss().to('wasm', { threads: 1.5 })).rejects.toThrow(RangeError);
  });
  it('gives losses with the same synchronous methods, on one shared backend', async () => {
    const a = await new nn.MSELoss().to('wasm');
    const b = await new nn.L1Loss().to('wasm');
    const x = tensor([1, 2, 3], [3]);
    const y = tensor([0, 2, 5], [3]);
    expect(a.forward(x, y).data[0]).toBeCloseTo(5 / 3, 6);
    expect(b.forward(x, y).data[0]).toBeCloseTo(1, 6);
    expect((a as unknown as { backend: unknown }).backend).toBe((b as unknown as { backend: unknown }).backend);
  });
});

describe('compiling ahead (what a browser main thread needs)', () => {
  it('prepare() compiles the kernels asynchronously; the calls then give the same numbers', async () => {
    const { wasmBackend } = await import('../../runtime/wasm/backend.js');
    const host = new nn.CrossEntropyLoss();
    const b = await createWasmBackend({ threads: 1 });
    const loss = new Loss(host.def, {}, b);
    await b.prepare([loss.compiledMethod('forward'), loss.compiledMethod('valueAndGrad')]);
    const x = tensor(random(12, 9), [4, 3]);
    const t = tensor(new Int32Array([0, 2, 1, 2]), [4]);
    close(loss.forward(x, t), host.forward(x, t));
    close(loss.valueAndGrad(x, t).grads[0]!, host.valueAndGrad(x, t).grads[0]!);
    expect(await wasmBackend()).not.toBe(b);
  });
});
