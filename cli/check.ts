// `lossc check`: a loss's gradients against central finite differences, in float64, through the
// public API (forward on perturbed inputs), on random valid inputs. For a scalar loss the
// gradient is valueAndGrad's; otherwise vjp's with a random gradOutput g, against the finite
// differences of sum(forward(x) * g).
import type { LossDef, OptionValue } from '../compiler/loss.js';
import type { Tensor } from '../runtime/tensor.js';
import { Loss } from '../runtime/nn.js';
import { randomInputs, seededRandom } from './inputs.js';

export interface CheckResult {
  readonly loss: string;
  readonly ok: boolean;
  /** per input: the largest error, or why there is none */
  readonly inputs: readonly { readonly name: string; readonly error: number | null; readonly note?: string }[];
  readonly text: string;
}

export interface CheckOptions {
  readonly options?: Record<string, unknown>;
  readonly seed?: number;
  readonly shape?: readonly number[];
  /** allowed |grad - fd| / max(1, |fd|) */
  readonly tolerance?: number;
}

export function checkGradients(def: LossDef, opts: CheckOptions = {}): CheckResult {
  const loss = new Loss(def, opts.options ?? {});
  const random = seededRandom(opts.seed ?? 1);
  const random64 = randomInputs(def, loss.options as Record<string, OptionValue>, random, 'float64', opts.shape);
  // also at 0 (every differentiable input zero): where a zero-initialised layer starts, and the
  // seam of most composites (sigmoid, softplus, relu)
  const zero = random64.map((t, k) =>
    def.inputs[k]?.kind === 'float' && def.inputs[k]?.differentiable !== false ? { ...t, data: new Float64Array(t.data.length) } : t,
  );
  const atRandom = checkAt(loss, def, random64, random);
  // ...where 0 lies inside the loss's domain: BCELoss's input must stay in [0, 1], and a step
  // below 0 is an error there, so such a loss is checked at random inputs only
  let outside: string | null = null;
  let atZero: Row[];
  try {
    atZero = checkAt(loss, def, zero, random);
  } catch (e) {
    outside = (e as Error).message;
    atZero = atRandom.map((r) => ({ name: r.name, error: null }));
  }
  const tolerance = opts.tolerance ?? 1e-5;
  const rows = atRandom.map((r, k) => {
    const z = atZero[k]!;
    return r.error === null || z.error === null ? r : { name: r.name, error: Math.max(r.error, z.error), atZero: z.error };
  });
  const ok = rows.every((r) => r.error === null || r.error <= tolerance);
  const shapes = random64.map((t, i) => `${def.inputs[i]!.name} [${t.shape.join(', ')}]`).join(', ');
  const how = loss.forward(...random64).shape.length === 0 ? 'valueAndGrad' : 'vjp';
  const where = outside === null ? 'at random inputs and at 0' : `at random inputs; not at 0, outside its domain: ${outside}`;
  const lines = [`${ok ? 'ok  ' : 'FAIL'} ${def.name}  (${shapes}; ${how} vs central differences, float64, ${where})`];
  for (const r of rows) {
    const at0 = r.atZero !== undefined ? ` (at 0: ${r.atZero.toExponential(2)})` : '';
    lines.push(
      `     ${r.name}: ${r.error === null ? r.note : `max error ${r.error.toExponential(2)}${at0}${r.error > tolerance ? `  > ${tolerance.toExponential(0)}` : ''}`}`,
    );
  }
  return { loss: def.name, ok, inputs: rows.map(({ name, error, note }) => ({ name, error, ...(note ? { note } : {}) })), text: lines.join('\n') };
}

type Row = { name: string; error: number | null; note?: string; atZero?: number };

/** The largest |grad - fd| / max(1, |fd|) per input, at one point. */
function checkAt(loss: Loss, def: LossDef, inputs: Tensor[], random: () => number): Row[] {
  const out = loss.forward(...inputs);
  const seed: Tensor | null =
    out.shape.length === 0 ? null : { data: Float64Array.from({ length: out.data.length }, () => random() * 2 - 1), shape: out.shape, dtype: 'float64' };
  const grads = seed ? loss.vjp(inputs, seed) : loss.valueAndGrad(...inputs).grads;
  const objective = (xs: Tensor[]): number => {
    const y = loss.forward(...xs).data;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i]! * (seed ? seed.data[i]! : 1);
    return s;
  };
  return def.inputs.map((spec, k): Row => {
    if (spec.kind === 'int') return { name: spec.name, error: null, note: 'int32 indices: no gradient' };
    const g = grads[k];
    if (!g) return { name: spec.name, error: null, note: 'not differentiated (declared so, as torch does)' };
    const x = inputs[k]!;
    let worst = 0;
    for (let i = 0; i < x.data.length; i++) {
      const v = x.data[i]!;
      const at = (d: number): number => {
        const data = Float64Array.from(x.data);
        data[i] = v + d;
        return objective(inputs.map((t, j) => (j === k ? { ...t, data } : t)));
      };
      const fdWithStep = (h: number): number => (at(h) - at(-h)) / (2 * h);
      const errorOf = (fd: number): number => Math.abs(g.data[i]! - fd) / Math.max(1, Math.abs(fd));
      // a step of 1e-6 misjudges a function that bends on that scale (a norm at 0 kept off its
      // kink by an eps of 1e-6): then a step 1000 times smaller decides
      const h = 1e-6 * Math.max(1, Math.abs(v));
      const fd = fdWithStep(h);
      const first = errorOf(fd);
      const err = first <= 1e-7 || Number.isNaN(first) ? first : Math.min(first, errorOf(fdWithStep(h * 1e-3)));
      worst = Number.isNaN(err) ? (Number.isNaN(g.data[i]!) && Number.isNaN(fd) ? worst : Infinity) : Math.max(worst, err);
    }
    return { name: spec.name, error: worst };
  });
}
