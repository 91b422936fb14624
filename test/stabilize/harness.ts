// Running a corpus entry: its naive form (stabilised) against its reference, in one dtype, on
// one input set; every difference at SCHEMA's tolerance.
import { builtinLoss, compile, type Tensor } from '../../runtime/index.js';
import { Loss, compiled } from '../../runtime/nn.js';
import { stableForward } from '../../compiler/pipeline.js';
import { mismatch, type RefTensor } from '../golden/reference.js';
import { CORPUS, SPECS, lossSource, type CorpusEntry } from './corpus.js';

export { CORPUS };

export const asRef = (t: Tensor, dtype: 'float32' | 'float64'): RefTensor => ({ shape: [...t.shape], dtype, data: Array.from(t.data) });

/** The naive loss, from its .loss text or its builders. */
export function naive(e: CorpusEntry, form: 'dsl' | 'ts'): Loss {
  if (form === 'dsl') return compile(lossSource(e.name, e.inputs, e.dsl), { file: `corpus/${e.name}.loss` });
  return compile({ name: e.name, inputs: SPECS[e.inputs], build: e.ts });
}

/** The reference: a built-in, or a stable formula compiled as written (no stabilisation). */
export function reference(e: CorpusEntry): Loss {
  if ('builtin' in e.reference) return new Loss(builtinLoss(e.reference.builtin)!, e.reference.options ?? {});
  const def = compile(lossSource(`${e.name}Reference`, e.inputs, e.reference.dsl)).def;
  return new Loss({ ...def, stabilize: false });
}

/** The rules the stabilisation stage fired on a loss, in order. */
export const firedRules = (loss: Loss): string[] =>
  stableForward(compiled(loss.def, loss.options, 'forward').instance)
    .findings.filter((f) => f.severity === 'note')
    .map((f) => f.rule);

export interface Results {
  readonly value: Tensor;
  readonly grads: readonly (Tensor | null)[];
}

/** Every difference between a naive loss's results and the reference's, at SCHEMA's tolerance for `dtype`. */
export function differences(got: Results, want: Results, dtype: 'float32' | 'float64'): string[] {
  const out: string[] = [];
  const m = mismatch(got.value, asRef(want.value, dtype), 'value');
  if (m) out.push(m);
  got.grads.forEach((g, i) => {
    if (!g) return;
    const w = want.grads[i];
    if (!w) return void out.push(`grad ${i}: the reference has none`);
    const d = mismatch(g, asRef(w, dtype), `grad ${i}`);
    if (d) out.push(d);
  });
  return out;
}

/** Whether every value and gradient is finite. */
export const allFinite = (r: Results): boolean => [r.value, ...r.grads].every((t) => !t || Array.from(t.data).every(Number.isFinite));
