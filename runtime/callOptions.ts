// The options form of a call, for a training step:
//   valueAndGrad(inputs, { wrt, out: { value, grads }, accumulate })
//   vjp(inputs, gradOutput, { wrt, out: { grads }, accumulate })
//   forward(inputs, { out })
// `wrt` chooses the gradients (a compiled method per set: the others are neither computed nor
// written), `out` gives caller-owned tensors the results are written into, `accumulate` adds the
// gradients into out.grads (torch's .grad accumulation) in the same kernel pass. Part of the
// call path standalone modules bundle: types only from the compiler.
import type { Method } from '../compiler/pipeline.js';
import type { MethodVariant } from '../compiler/methodVariant.js';
import type { InputSpec } from '../compiler/loss.js';
import { isTensor, shapeStr, type DType, type Tensor, type TensorData } from './tensor.js';
import { numel, sameDims } from '../compiler/abi/strides.js';

export interface CallOptions {
  /** inputs to differentiate, by name or position; default: every differentiable input */
  readonly wrt?: readonly (string | number)[];
  /** caller-owned results, written in place and returned as the same objects */
  readonly out?: { readonly value?: Tensor | null; readonly grads?: readonly (Tensor | null | undefined)[] };
  /** add the gradients into out.grads instead of overwriting them */
  readonly accumulate?: boolean;
}

export interface ForwardOptions {
  readonly out?: Tensor | null;
}

const differentiable = (spec: InputSpec): boolean => spec.kind === 'float' && spec.differentiable !== false;

/** The options object checked for its form (the tensors in it are checked against the call later). */
export function parseCallOptions(loss: string, method: Method, opts: unknown): CallOptions {
  if (opts === undefined || opts === null) return {};
  const where = `${loss}.${method}`;
  if (typeof opts !== 'object' || Array.isArray(opts))
    throw new TypeError(
      `${where}: options must be an object { ${method === 'forward' ? 'out' : 'wrt, out, accumulate'} }, got ${Array.isArray(opts) ? 'an array' : typeof opts}`,
    );
  const o = opts as Record<string, unknown>;
  const known = method === 'forward' ? ['out'] : ['wrt', 'out', 'accumulate'];
  for (const key of Object.keys(o))
    if (!known.includes(key) && o[key] !== undefined) throw new TypeError(`${where}: unknown option '${key}' (options: ${known.join(', ')})`);
  if (method === 'forward') {
    if (o.out !== undefined && o.out !== null && !isTensor(o.out)) throw new TypeError(`${where}: out must be a tensor`);
    return o.out ? { out: { value: o.out as Tensor } } : {};
  }
  if (o.wrt !== undefined && !Array.isArray(o.wrt)) throw new TypeError(`${where}: wrt must be an array of input names or positions`);
  if (o.accumulate !== undefined && typeof o.accumulate !== 'boolean')
    throw new TypeError(`${where}: accumulate must be a boolean, got ${typeof o.accumulate}`);
  const out = o.out as CallOptions['out'] | undefined | null;
  if (out !== undefined && out !== null) {
    if (typeof out !== 'object' || isTensor(out)) throw new TypeError(`${where}: out must be an object { ${method === 'valueAndGrad' ? 'value, ' : ''}grads }`);
    for (const key of Object.keys(out))
      if (key !== 'value' && key !== 'grads')
        throw new TypeError(`${where}: unknown key out.${key} (expected ${method === 'valueAndGrad' ? 'value, ' : ''}grads)`);
    if (out.value !== undefined && out.value !== null) {
      if (method !== 'valueAndGrad') throw new TypeError(`${where}: out.value: ${method} returns gradients only`);
      if (!isTensor(out.value)) throw new TypeError(`${where}: out.value must be a tensor`);
    }
    if (out.grads !== undefined && out.grads !== null && !Array.isArray(out.grads))
      throw new TypeError(`${where}: out.grads must be an array (one entry per input, null where none is wanted)`);
  }
  return { wrt: o.wrt as CallOptions['wrt'], out: out ?? undefined, accumulate: o.accumulate as boolean | undefined };
}

/** The compiled variant `opts` ask for: wrt as input positions (absent when it is every differentiable input). */
export function resolveVariant(form: { readonly name: string; readonly inputs: readonly InputSpec[] }, method: Method, opts: CallOptions): MethodVariant {
  if (method === 'forward') return {};
  const accumulate = opts.accumulate === true;
  if (!opts.wrt) return accumulate ? { accumulate } : {};
  const where = `${form.name}.${method}`;
  const names = form.inputs.map((i) => i.name);
  const picked = new Set<number>();
  for (const w of opts.wrt) {
    const i = typeof w === 'number' ? (Number.isInteger(w) && w >= 0 && w < names.length ? w : -1) : typeof w === 'string' ? names.indexOf(w) : -2;
    if (i === -2) throw new TypeError(`${where}: wrt entries must be input names or positions, got ${typeof w}`);
    if (i < 0) throw new RangeError(`${where}: wrt names no input ${typeof w === 'string' ? `'${w}'` : w} (inputs: ${names.join(', ')})`);
    if (!differentiable(form.inputs[i]!))
      throw new TypeError(
        `${where}: cannot differentiate with respect to '${names[i]}' (${form.inputs[i]!.kind === 'int' ? 'an integer input' : 'torch gives it no gradient'})`,
      );
    picked.add(i);
  }
  const all = form.inputs.map((s, i) => (differentiable(s) ? i : -1)).filter((i) => i >= 0);
  const wrt = all.filter((i) => picked.has(i));
  return { ...(wrt.length === all.length ? {} : { wrt }), ...(accumulate ? { accumulate } : {}) };
}

/** What checking the out tensors needs to know of the call. */
export interface OutContext {
  readonly loss: string;
  readonly method: Method;
  readonly names: readonly string[];
  /** result names ('value', 'grad_<input>') and each grad result's input position */
  readonly results: readonly string[];
  readonly gradOf: readonly number[];
  readonly inputs: readonly Tensor[];
  /** the value's shape as returned */
  readonly valueShape: readonly number[];
  readonly dtype: DType;
  /** data the backend holds elsewhere (a GPU buffer's stand-in): no host length to check */
  readonly isResident?: (data: TensorData) => boolean;
}

const arrayOf: Record<DType, new (n: number) => TensorData> = { float32: Float32Array, float64: Float64Array, int32: Int32Array };

/**
 * The caller's out tensor for each result (undefined where none is given), checked: shape and
 * dtype as the result's, no sharing of memory with an argument or another out; with accumulate,
 * one for every gradient. O(rank) per tensor.
 */
export function resolveOutputs(c: OutContext, opts: CallOptions): (Tensor | undefined)[] {
  const out = opts.out;
  const where = `${c.loss}.${c.method}`;
  const outs: (Tensor | undefined)[] = c.results.map(() => undefined);
  if (!out && !opts.accumulate) return outs;
  const grads = out?.grads ?? [];
  if (grads.length > c.names.length) throw new RangeError(`${where}: out.grads has ${grads.length} entries but the loss takes ${c.names.length} inputs`);
  const check = (t: Tensor, label: string, shape: readonly number[]): void => {
    if (!isTensor(t)) throw new TypeError(`${where}: ${label} must be a tensor`);
    if (t.dtype !== c.dtype) throw new TypeError(`${where}: ${label} has dtype ${t.dtype} but the result is ${c.dtype}`);
    if (!sameDims(t.shape, shape)) throw new RangeError(`${where}: ${label} has shape ${shapeStr(t.shape)} but the result has shape ${shapeStr(shape)}`);
    if (c.isResident?.(t.data)) return;
    if (!(t.data instanceof arrayOf[t.dtype])) throw new TypeError(`${where}: ${label} has dtype ${t.dtype} but its data is a ${t.data.constructor.name}`);
    if (t.data.length !== numel(shape))
      throw new RangeError(`${where}: ${label} has shape ${shapeStr(shape)} (${numel(shape)} elements) but its data holds ${t.data.length}`);
  };
  c.results.forEach((r, k) => {
    if (r === 'value') {
      const v = out?.value ?? undefined;
      if (v) check(v, c.method === 'forward' ? 'out' : 'out.value', c.valueShape);
      outs[k] = v;
    }
  });
  const gradResults = c.results.filter((r) => r !== 'value').length;
  const firstGrad = c.results.length - gradResults;
  const computed = new Set(c.gradOf);
  grads.forEach((g, i) => {
    if (g === undefined || g === null) return;
    if (!computed.has(i))
      throw new TypeError(
        `${where}: out.grads[${i}] is given for '${c.names[i]}', whose gradient this call does not compute${opts.wrt ? ' (not in wrt)' : ''}`,
      );
  });
  c.gradOf.forEach((i, k) => {
    const g = grads[i] ?? undefined;
    if (!g) {
      if (opts.accumulate) throw new TypeError(`${where}: accumulate adds into out.grads, but out.grads[${i}] ('${c.names[i]}') is not given`);
      return;
    }
    check(g, `out.grads[${i}] ('${c.names[i]}')`, c.inputs[i]!.shape);
    outs[firstGrad + k] = g;
  });
  // a result written while an argument (or another result) is still read would corrupt it
  const given = outs.map((t, k) => ({
    t,
    label: c.results[k] === 'value' ? (c.method === 'forward' ? 'out' : 'out.value') : `out.grads[${c.gradOf[k - firstGrad]}]`,
  }));
  for (const [k, { t, label }] of given.entries()) {
    if (!t || c.isResident?.(t.data)) continue;
    c.inputs.forEach((x, i) => {
      if (isTensor(x) && overlaps(t.data, x.data)) throw new Error(`${where}: ${label} shares memory with argument '${c.names[i]}'`);
    });
    for (const other of given.slice(k + 1))
      if (other.t && overlaps(t.data, other.t.data)) throw new Error(`${where}: ${label} and ${other.label} share memory`);
  }
  return outs;
}

function overlaps(a: TensorData, b: TensorData): boolean {
  if (a.buffer !== b.buffer || a.byteLength === 0 || b.byteLength === 0) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}
