// Running the loss: inputs (random valid ones from what the loss declares, via lossc/check, or
// pasted), each backend the page has (JS always; WebGPU where navigator.gpu gives an adapter;
// WASM where this lossc's `to('wasm')` exists), value, gradients and timings, and lossc check's
// gradient test against central finite differences.
import { tensor, type Loss, type LossDef, type Tensor } from 'lossc';
import { checkGradients, randomInputs, seededRandom, type CheckResult } from 'lossc/check';

export type FloatDType = 'float32' | 'float64';

/** What a backend's loss offers: lossc's methods, synchronous (JS) or returning Promises. */
interface Target {
  forward(...inputs: Tensor[]): Tensor | Promise<Tensor>;
  vjp(inputs: Tensor[], gradOutput: Tensor): (Tensor | null)[] | Promise<(Tensor | null)[]>;
  valueAndGrad(...inputs: Tensor[]): { value: Tensor; grads: (Tensor | null)[] } | Promise<{ value: Tensor; grads: (Tensor | null)[] }>;
}

/** A backend this page cannot use, and why (not an error of the loss). */
export class Unavailable extends Error {}

interface BackendSpec {
  readonly name: 'js' | 'webgpu' | 'wasm';
  /** float32 only (WebGPU): float64 inputs are rounded to float32 for it */
  readonly float32Only: boolean;
  load(loss: Loss): Promise<{ label: string; target: Target }>;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export const BACKENDS: readonly BackendSpec[] = [
  { name: 'js', float32Only: false, load: async (loss) => ({ label: 'JavaScript kernels', target: loss }) },
  {
    name: 'webgpu',
    float32Only: true,
    load: async (loss) => {
      if (!(navigator as Navigator & { gpu?: unknown }).gpu)
        throw new Unavailable('navigator.gpu is absent (no WebGPU in this browser, or not a secure context)');
      const gpu = await loss.to('webgpu');
      return { label: gpu.ctx.gpu.adapterInfo, target: gpu };
    },
  },
  {
    // the WebAssembly backend: used as soon as this lossc's to() accepts 'wasm'; with Web Workers
    // where the page is cross-origin isolated (as `npm run playground` serves it)
    name: 'wasm',
    float32Only: false,
    load: async (loss) => {
      const to = loss.to as unknown as (device: string, opts?: { threads?: number }) => Promise<Target & { label?: string }>;
      const threads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
      try {
        const target = await to.call(loss, 'wasm', { threads });
        const label = typeof target.label === 'string' ? target.label : 'WebAssembly';
        return { label: threads > 1 ? `${label}, ${threads} threads` : label, target };
      } catch (e) {
        if (/unknown device/.test(message(e))) throw new Unavailable("this build of lossc has no to('wasm') yet");
        throw e;
      }
    },
  },
];

/** Random valid inputs for `def` (lossc check's): float ones of `dtype`, named sizes from `dims`. */
export function randomLossInputs(def: LossDef, loss: Loss, dims: readonly number[], dtype: FloatDType, seed: number): Tensor[] {
  return randomInputs(def, loss.options, seededRandom(seed), dtype, dims);
}

export const formatValues = (t: Tensor): string => Array.from(t.data, String).join(', ');

/** An input from its shape and values as typed (or pasted): an Error naming it when they disagree. */
export function parseTensor(name: string, shapeText: string, valuesText: string, dtype: Tensor['dtype']): Tensor {
  const shape = shapeText
    .split(/[\s,[\]x×]+/)
    .filter(Boolean)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`input '${name}': the shape [${shapeText}] must be sizes (integers >= 0)`);
  const tokens = valuesText.split(/[\s,;[\]]+/).filter(Boolean);
  const values = tokens.map((s) => (/^nan$/i.test(s) ? NaN : /^[+-]?inf(inity)?$/i.test(s) ? (s.startsWith('-') ? -Infinity : Infinity) : Number(s)));
  const bad = values.findIndex((v, i) => Number.isNaN(v) && !/^nan$/i.test(tokens[i]!));
  if (bad >= 0) throw new Error(`input '${name}': value ${bad} ('${tokens[bad]}') is not a number`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (values.length !== n) throw new Error(`input '${name}': shape [${shape.join(', ')}] holds ${n} values, ${values.length} given`);
  if (dtype === 'int32' && values.some((v) => !Number.isInteger(v)))
    throw new Error(`input '${name}' holds class indices (int32): every value must be an integer`);
  return tensor(values, shape, dtype);
}

export interface BackendOutcome {
  readonly backend: string;
  readonly label: string;
  readonly ok: boolean;
  /** why it did not run: unavailable here, or the error it raised */
  readonly error?: string;
  readonly unavailable?: boolean;
  readonly forward?: Tensor;
  readonly grads?: (Tensor | null)[];
  /** milliseconds per call of the gradient call (valueAndGrad, or vjp for an unreduced loss), and of forward */
  readonly ms?: { readonly grad: number; readonly forward: number; readonly runs: number };
  /** largest |x - js| / max |js| over the result tensors, against the JS backend's results */
  readonly maxRelDiff?: number;
}

const toFloat32 = (t: Tensor): Tensor => (t.dtype === 'float64' ? tensor(Float32Array.from(t.data), [...t.shape], 'float32') : t);

async function evaluate(target: Target, inputs: Tensor[]): Promise<{ forward: Tensor; grads: (Tensor | null)[]; gradCall: () => Promise<unknown> }> {
  const forward = await target.forward(...inputs);
  if (forward.shape.length === 0) {
    const gradCall = async (): Promise<{ value: Tensor; grads: (Tensor | null)[] }> => target.valueAndGrad(...inputs);
    return { forward, grads: (await gradCall()).grads, gradCall };
  }
  const ones = tensor(
    forward.dtype === 'float64' ? new Float64Array(forward.data.length).fill(1) : new Float32Array(forward.data.length).fill(1),
    [...forward.shape],
    forward.dtype,
  );
  const gradCall = async (): Promise<(Tensor | null)[]> => target.vjp(inputs, ones);
  return { forward, grads: await gradCall(), gradCall };
}

/**
 * Milliseconds per call of `f`: calls repeated for at least ~100 ms (and 3 calls), the total
 * divided by their number (a page's clock ticks in 0.1 ms steps: one fast call reads as 0).
 */
async function perCall(f: () => Promise<unknown>): Promise<{ ms: number; runs: number }> {
  const start = performance.now();
  let runs = 0;
  let elapsed: number;
  do {
    await f();
    runs++;
    elapsed = performance.now() - start;
  } while (runs < 3 || (elapsed < 100 && runs < 2000));
  return { ms: elapsed / runs, runs };
}

function relDiff(a: Tensor | null | undefined, b: Tensor | null | undefined): number {
  if (!a || !b) return a === b || (!a && !b) ? 0 : Infinity;
  if (a.data.length !== b.data.length) return Infinity;
  let scale = 0;
  for (const v of b.data) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) {
    const [x, y] = [a.data[i]!, b.data[i]!];
    if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))) continue;
    worst = Math.max(worst, Math.abs(x - y) / Math.max(scale, Number.MIN_VALUE));
  }
  return worst;
}

/**
 * Every backend on the same inputs, the JS backend first (the others are compared with it).
 * `lossFor(dtype)`: the loss with its tensor options in that dtype (they must match the inputs').
 */
export async function runBackends(lossFor: (dtype: FloatDType) => Loss, inputs: Tensor[]): Promise<BackendOutcome[]> {
  const dtype: FloatDType = inputs.some((t) => t.dtype === 'float64') ? 'float64' : 'float32';
  const out: BackendOutcome[] = [];
  let js: { forward: Tensor; grads: (Tensor | null)[] } | undefined;
  for (const spec of BACKENDS) {
    let label: string = spec.name;
    try {
      const loaded = await spec.load(lossFor(spec.float32Only ? 'float32' : dtype));
      label = loaded.label;
      const args = spec.float32Only ? inputs.map(toFloat32) : inputs;
      const r = await evaluate(loaded.target, args);
      const grad = await perCall(r.gradCall);
      const fwd = await perCall(async () => loaded.target.forward(...args));
      if (spec.name === 'js') js = r;
      const maxRelDiff = js && spec.name !== 'js' ? Math.max(relDiff(r.forward, js.forward), ...r.grads.map((g, i) => relDiff(g, js!.grads[i]))) : undefined;
      out.push({
        backend: spec.name,
        label,
        ok: true,
        forward: r.forward,
        grads: r.grads,
        ms: { grad: grad.ms, forward: fwd.ms, runs: grad.runs },
        ...(maxRelDiff !== undefined ? { maxRelDiff } : {}),
      });
    } catch (e) {
      out.push({ backend: spec.name, label, ok: false, error: message(e), ...(e instanceof Unavailable ? { unavailable: true } : {}) });
    }
  }
  return out;
}

/** lossc check in the page: gradients against central differences, float64, at random inputs and at 0. */
export function gradientCheck(def: LossDef, options: Record<string, unknown>, dims: readonly number[], seed: number): CheckResult {
  return checkGradients(def, { options, shape: dims, seed });
}
