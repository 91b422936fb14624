// Random hostile calls of every built-in loss, on the JS backend, on WebGPU and on WebAssembly: valid inputs made
// from what each loss declares (lossc check's generator), then, most of the time, one corruption of
// an argument or an option. Every outcome is either a result equal to the float64 reference
// interpreter's (WebGPU: to the JS backend's float32 result) or an Error whose message names the
// loss and what was wrong: never an internal TypeError, a hang, or a silent wrong number.
// Seeded; LOSSC_FUZZ_RUNS=n makes n calls per loss instead of the default.
import { describe, expect, it } from 'vitest';
import { builtinLosses } from 'lossc';
import { instantiate, type LossDef, type OptionValue } from '../../compiler/loss.js';
import { evaluate } from '../../compiler/reference.js';
import { applyChecks, type Arg } from '../../runtime/checks.js';
import { Loss } from '../../runtime/nn.js';
import { randomInputs, seededRandom, type Random } from '../../cli/inputs.js';
import type { Tensor } from '../../runtime/tensor.js';
import { gpu, skipNote } from '../webgpu/gpu.js';

const RUNS = Number(process.env['LOSSC_FUZZ_RUNS'] ?? 40);
const pick = <T>(r: Random, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const HOSTILE_NUMBERS = [NaN, -1, 0, 0.5, 1.5, 2, 3, -100, Infinity, -Infinity, 1e308, -0];

interface Call {
  readonly options: Record<string, unknown>;
  readonly inputs: unknown[];
  readonly what: string;
}

/** A valid call of `def`, then (usually) one hostile change: the call and what was changed. */
function hostileCall(def: LossDef, r: Random, dtype: 'float32' | 'float64'): Call {
  const options: Record<string, unknown> = {};
  let what = 'valid';
  const numeric = def.options.filter((o) => o.type === 'number');
  if (numeric.length && r() < 0.3) {
    const o = pick(r, numeric);
    options[o.name] = pick(r, HOSTILE_NUMBERS);
    what = `option ${o.name} = ${String(options[o.name])}`;
  }
  const defaults = Object.fromEntries(def.options.map((o) => [o.name, o.default])) as Record<string, OptionValue>;
  const base = Array.from({ length: 1 + Math.floor(r() * 3) }, () => 1 + Math.floor(r() * 4));
  let inputs: unknown[];
  try {
    inputs = randomInputs(def, { ...defaults, ...(options as Record<string, OptionValue>) }, r, dtype, base);
  } catch {
    inputs = randomInputs(def, defaults, r, dtype, base);
  }
  const tensorOption = def.options.find((o) => o.type === 'tensor');
  if (tensorOption && r() < 0.25) {
    const shape = Array.from({ length: Math.floor(r() * 3) }, () => 1 + Math.floor(r() * 4));
    const n = shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: n }, () => 0.5 + r());
    options[tensorOption.name] = { data: dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values), shape, dtype };
    what = `option ${tensorOption.name} of shape [${shape}]`;
  }
  if (r() < 0.6) {
    const k = Math.floor(r() * inputs.length);
    const t = inputs[k] as Tensor;
    const corruptions: [string, () => unknown][] = [
      ['short data', () => ({ ...t, data: t.data.slice(0, Math.max(0, t.data.length - 1)) })],
      ['long data', () => ({ ...t, data: new (t.data.constructor as Float64ArrayConstructor)(t.data.length + 1) })],
      ['fractional shape', () => ({ ...t, shape: [...t.shape.slice(0, -1), 1.5] })],
      ['string shape', () => ({ ...t, shape: t.shape.map(String) })],
      ['negative size', () => ({ ...t, shape: [-1, ...t.shape] })],
      ['huge size', () => ({ ...t, shape: [2 ** 31, ...t.shape] })],
      ['null', () => null],
      ['undefined', () => undefined],
      ['plain array data', () => ({ ...t, data: Array.from(t.data) })],
      ['wrong dtype name', () => ({ ...t, dtype: 'float16' })],
      ['mismatched data kind', () => ({ ...t, data: t.dtype === 'int32' ? Float32Array.from(t.data) : Int32Array.from(t.data) })],
      ['a number', () => 3],
      ['NaN values', () => ({ ...t, data: t.data.map(() => NaN) })],
      ['other rank', () => ({ ...t, data: t.data.slice(0, 1), shape: [1, 1, 1, 1].slice(0, 1 + Math.floor(r() * 4)) })],
    ];
    const [name, make] = pick(r, corruptions);
    inputs = [...inputs];
    inputs[k] = make();
    what = `${def.inputs[k]!.name}: ${name}`;
    if (r() < 0.1) {
      inputs.pop();
      what += ' (one argument short)';
    }
  }
  return { options, inputs, what };
}

/** The float64 reference interpreter on the same call: checks applied as the library applies them. */
function reference(def: LossDef, loss: Loss, inputs: readonly Tensor[]): { shape: readonly number[]; data: Float64Array } | null {
  const form = [def, ...(def.overloads ?? [])].find((d) => d.inputs.every((s, i) => (inputs[i]!.dtype === 'int32') === (s.kind === 'int')));
  if (!form) return null;
  const args = new Map<string, Arg>(form.inputs.map((s, i) => [s.name, { data: inputs[i]!.data, shape: inputs[i]!.shape }]));
  for (const o of form.options) {
    const v = (loss as unknown as { tensorOptions: Map<string, Tensor> }).tensorOptions.get(o.name);
    if (v) args.set(o.name, { data: v.data, shape: v.shape });
  }
  const { unbatched } = applyChecks(form.name, form.checks ?? [], args, loss.options);
  const inst = instantiate(form, loss.options);
  const params = new Map(inst.params.map((p) => [p, loss.options[p] as number]));
  const [v] = evaluate([inst.output], { inputs: args, params });
  return { shape: unbatched && v!.shape.length ? v!.shape.slice(1) : v!.shape, data: v!.data };
}

const INTERNAL = /Cannot read|is not a function|is not iterable|of undefined|internal|Maximum call stack|Invalid array length/;

function expectNamedError(e: unknown, def: LossDef, call: Call): void {
  expect(e, call.what).toBeInstanceOf(Error);
  const m = (e as Error).message;
  expect(m, `${def.name} / ${call.what}`).not.toMatch(INTERNAL);
  expect(m.startsWith(def.name), `${def.name} / ${call.what}: ${m}`).toBe(true);
}

const same = (a: number, b: number, rel: number): boolean =>
  (Number.isNaN(a) && Number.isNaN(b)) || a === b || Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));

/** What a call gives: its result, or the error it threw. */
async function outcome(run: () => Tensor | Promise<Tensor>): Promise<Tensor | Error> {
  try {
    return await run();
  } catch (e) {
    return e as Error;
  }
}

/** Another backend's result against the JS backend's: the same shape, each element within `rel` (or both not finite). */
function expectNumbersOf(got: Tensor, js: Tensor, rel: number, def: LossDef, call: Call): void {
  expect(got.shape, call.what).toEqual(js.shape);
  js.data.forEach((v, i) =>
    expect(
      same(got.data[i]!, v, rel) || (!Number.isFinite(v) && !Number.isFinite(got.data[i]!)),
      `${def.name} / ${call.what}: [${i}] ${got.data[i]} vs ${v}`,
    ).toBe(true),
  );
}

describe('hostile calls of every built-in loss (JS, float64, against the reference interpreter)', () => {
  const tally = { calls: 0, results: 0, errors: 0 };
  const byKind = new Map<string, number>();
  for (const [index, def] of builtinLosses.entries()) {
    it(`${def.name}: ${RUNS} calls`, () => {
      const r = seededRandom(1000 + index);
      for (let run = 0; run < RUNS; run++) {
        const call = hostileCall(def, r, 'float64');
        tally.calls++;
        let loss: Loss;
        let out: Tensor;
        try {
          loss = new Loss(def, call.options);
          out = loss.forward(...(call.inputs as Tensor[]));
        } catch (e) {
          expectNamedError(e, def, call);
          tally.errors++;
          const kind = (e as Error).message.replace(/[\d.e+-]+|\[[^\]]*\]|'[^']*'/g, '#').slice(0, 70);
          byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
          continue;
        }
        tally.results++;
        const want = reference(def, loss, call.inputs as Tensor[]);
        if (!want) continue;
        expect(out.shape, call.what).toEqual(want.shape);
        want.data.forEach((v, i) => expect(same(out.data[i]!, v, 1e-9), `${def.name} / ${call.what}: [${i}] ${out.data[i]} vs ${v}`).toBe(true));
      }
    });
  }
  it('tally', () => {
    console.log(`tensor/option fuzzer (JS): ${JSON.stringify(tally)}; ${byKind.size} kinds of error`);
    expect(tally.calls).toBe(RUNS * builtinLosses.length);
  });
});

describe(`hostile calls of every built-in loss on WebGPU (float32, against the JS backend)${skipNote}`, () => {
  it.skipIf(!gpu)(`${RUNS} calls per loss: the same errors as JS, or its numbers`, async () => {
    const tally = { calls: 0, results: 0, errors: 0 };
    for (const [index, def] of builtinLosses.entries()) {
      const r = seededRandom(2000 + index);
      for (let run = 0; run < RUNS; run++) {
        const call = hostileCall(def, r, 'float32');
        tally.calls++;
        const js = await outcome(() => new Loss(def, call.options).forward(...(call.inputs as Tensor[])));
        const wg = await outcome(async () => (await new Loss(def, call.options).to('webgpu')).forward(...(call.inputs as Tensor[])));
        if (js instanceof Error) {
          expectNamedError(wg, def, call);
          tally.errors++;
          continue;
        }
        if (wg instanceof Error) {
          // WebGPU has limits of its own (float32 only, binding sizes): named, not internal
          expectNamedError(wg, def, call);
          tally.errors++;
          continue;
        }
        tally.results++;
        expectNumbersOf(wg, js, 2e-4, def, call);
      }
    }
    console.log(`tensor/option fuzzer (WebGPU): ${JSON.stringify(tally)}`);
  });
});

describe('hostile calls of every built-in loss on WebAssembly (float64 and float32, 2 threads, against the JS backend)', () => {
  it(`${RUNS} calls per loss and dtype: the same errors as JS, or its numbers`, async () => {
    const tally = { calls: 0, results: 0, errors: 0 };
    for (const [index, def] of builtinLosses.entries()) {
      for (const dtype of ['float64', 'float32'] as const) {
        const r = seededRandom(3000 + index + (dtype === 'float32' ? 500 : 0));
        for (let run = 0; run < RUNS; run++) {
          const call = hostileCall(def, r, dtype);
          tally.calls++;
          const js = await outcome(() => new Loss(def, call.options).forward(...(call.inputs as Tensor[])));
          const wasm = await outcome(async () => (await new Loss(def, call.options).to('wasm', { threads: 2 })).forward(...(call.inputs as Tensor[])));
          if (js instanceof Error) {
            expectNamedError(wasm, def, call);
            expect((wasm as Error).message, `${def.name} / ${call.what}`).toBe(js.message);
            tally.errors++;
            continue;
          }
          expect(wasm, `${def.name} / ${call.what}: ${(wasm as Error).message}`).not.toBeInstanceOf(Error);
          tally.results++;
          // the module's own exp/log: within SCHEMA's float32 tolerance of Math's, float64 to 1e-12
          expectNumbersOf(wasm as Tensor, js, dtype === 'float64' ? 1e-12 : 1e-5, def, call);
        }
      }
    }
    console.log(`tensor/option fuzzer (WASM): ${JSON.stringify(tally)}`);
    expect(tally.calls).toBe(2 * RUNS * builtinLosses.length);
  });
});
