// Reading the PyTorch golden cases (../shared/reference, see SCHEMA.md) and comparing with them
// at SCHEMA's tolerances.
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { tensor, type Tensor } from 'lossc';

export interface RefTensor {
  shape: number[];
  dtype: 'float32' | 'float64' | 'int64';
  data: (number | 'inf' | '-inf' | 'nan')[];
  name?: string;
}
export interface RefCase {
  id: string;
  loss: string;
  dtype: 'float32' | 'float64';
  options: Record<string, unknown>;
  options_given: string[];
  tags: string[];
  note: string;
  inputs: RefTensor[];
  grad_output: RefTensor;
  output: RefTensor;
  grads: Record<string, RefTensor>;
  grads_math?: Record<string, RefTensor>;
  printed_output?: string;
  reproduces_printed?: boolean;
}

const here = dirname(fileURLToPath(import.meta.url));
/** ../shared/reference, beside the repository (LOSSC_REFERENCE overrides). */
export const referenceDir = process.env.LOSSC_REFERENCE ?? join(here, '..', '..', '..', 'shared', 'reference');

export function loadCases(loss: string): RefCase[] {
  const file = join(referenceDir, 'cases', `${loss}.json`);
  if (!existsSync(file)) throw new Error(`golden cases not found: ${file} (set LOSSC_REFERENCE to the reference folder)`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { cases: RefCase[] }).cases;
}

export function loadSeedExamples(): RefCase[] {
  return (JSON.parse(readFileSync(join(referenceDir, 'seed-examples.json'), 'utf8')) as { examples: RefCase[] }).examples;
}

const num = (v: number | string): number => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v === 'nan' ? NaN : (v as number));

export function toTensor(t: RefTensor): Tensor {
  return tensor(t.data.map(num), t.shape, t.dtype === 'int64' ? 'int32' : t.dtype);
}

const camel = (s: string): string => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** A case's options as lossc's constructor takes them. */
export function toOptions(options: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) {
    if (v && typeof v === 'object' && 'shape' in v) out[camel(k)] = toTensor(v as RefTensor);
    else if (typeof v === 'string' && ['inf', '-inf', 'nan'].includes(v)) out[camel(k)] = num(v);
    else out[camel(k)] = v;
  }
  return out;
}

/** null when `actual` matches `expected` at SCHEMA's tolerance, else a description of the first mismatch. */
export function mismatch(actual: Tensor | null | undefined, expected: RefTensor, what: string): string | null {
  if (!actual) return `${what}: missing`;
  if (actual.shape.join(',') !== expected.shape.join(',')) return `${what}: shape [${actual.shape}] vs expected [${expected.shape}]`;
  const e = expected.data.map(num);
  const s = Math.max(1, ...e.filter(Number.isFinite).map(Math.abs));
  const [abs, rel] = expected.dtype === 'float32' ? [1e-6, 1e-5] : [1e-12, 1e-10];
  for (let i = 0; i < e.length; i++) {
    const a = actual.data[i]!;
    const x = e[i]!;
    if (!Number.isFinite(x)) {
      if (Number.isNaN(x) ? !Number.isNaN(a) : a !== x) return `${what}[${i}]: ${a} vs expected ${x}`;
      continue;
    }
    if (!(Math.abs(a - x) <= abs * s + rel * Math.abs(x))) return `${what}[${i}]: ${a} vs expected ${x} (diff ${Math.abs(a - x).toExponential(3)})`;
  }
  return null;
}

/**
 * CTC: lossc returns the true derivative. Where the case gives it (grads_math) that is the
 * expectation; else (an infinite loss) it follows from torch's by SCHEMA.md's relation:
 * grads = grads_math + exp(log_probs)[t, n, :] * g_n for t < input_lengths[n].
 */
export function ctcTrueGradient(c: RefCase): RefTensor {
  if (c.grads_math?.['log_probs']) return c.grads_math['log_probs'];
  const torch = c.grads['log_probs']!;
  const lp = c.inputs[0]!;
  const il = c.inputs[2]!;
  const tl = c.inputs[3]!;
  const batched = lp.shape.length === 3;
  const [, N, C] = batched ? (lp.shape as [number, number, number]) : [lp.shape[0]!, 1, lp.shape[1]!];
  const g = c.grad_output.data.map(num);
  const lengths = tl.data.map(num);
  const weight = (n: number): number =>
    c.options['reduction'] === 'none' ? g[n]! : c.options['reduction'] === 'sum' ? g[0]! : g[0]! / (N * Math.max(lengths[n]!, 1));
  const data = torch.data.map((v, i) => {
    const t = Math.floor(i / (N * C));
    const n = Math.floor(i / C) % N;
    const x = num(v);
    if (t >= num(il.data[n]!)) return x;
    return x - Math.exp(num(lp.data[i]!)) * weight(n);
  });
  return { ...torch, data };
}

/** What differs between lossc's results and a case: output, then each input's gradient. */
export function caseProblems(c: RefCase, out: Tensor, grads: readonly (Tensor | null)[]): string[] {
  const problems: string[] = [];
  const m = mismatch(out, c.output, 'output');
  if (m) problems.push(m);
  c.inputs.forEach((inp, i) => {
    // CTCLoss is checked against the true derivative (reference/SCHEMA.md)
    const expected = c.loss === 'CTCLoss' && inp.name === 'log_probs' ? ctcTrueGradient(c) : c.grads[inp.name!];
    if (expected) {
      const g = mismatch(grads[i], expected, `grad ${inp.name}`);
      if (g) problems.push(g);
    } else if (grads[i] !== null) problems.push(`grad ${inp.name}: torch gives none, lossc gave one`);
  });
  return problems;
}
