// Calling a loss, apart from compiling it: options normalised, the form chosen by the tensors'
// dtypes, arguments checked and bound by name, gradOutput checked, results shaped. The library's
// Loss (nn.ts) and standalone kernel modules (standalone.ts, bundled into `lossc compile` output)
// run this same code, so it imports no compiler code (types aside).
import type { InputCheck, InputSpec, OptionSpec, OptionValue } from '../compiler/loss.js';
import type { Method } from '../compiler/pipeline.js';
import type { Precision } from '../compiler/plan/kernelPlan.js';
import { priorInput, type MethodVariant } from '../compiler/methodVariant.js';
import { resolveShape, ShapeError, type ShapeExpr } from '../compiler/ir/shape.js';
import { applyChecks, checkOptionValues, type Arg } from './checks.js';
import { isTensor, shapeStr, type Tensor, type TensorData } from './tensor.js';
import { checkElementCount, validateTensor } from './validate.js';
import { numel, sameDims } from '../compiler/abi/strides.js';
import { resolveOutputs, resolveVariant, type CallOptions } from './callOptions.js';

/** What calling a loss needs of its definition: a LossDef is one; a standalone module carries one as data. */
export interface LossSignature {
  readonly name: string;
  readonly inputs: readonly InputSpec[];
  readonly options: readonly OptionSpec[];
  readonly checks?: readonly InputCheck[];
  /** other forms taking inputs of other dtypes: a call uses the first its tensors fit */
  readonly overloads?: readonly LossSignature[];
}

/** One compiled method of one form, as a call sees it. */
export interface MethodRunner {
  /** the loss output's symbolic shape */
  readonly outputShape: ShapeExpr;
  /** numeric options the kernels read */
  readonly params: readonly string[];
  /** result names: 'value' and/or 'grad_<input>' */
  readonly results: readonly string[];
  /** for each grad result, the index of its input */
  readonly gradOf: readonly number[];
  /**
   * `outs`: per result, the caller's array to write it into (else a fresh one); `memo`: state the
   * backend may keep for this binding (same shapes and dtypes on every call that passes it)
   */
  run(
    precision: Precision,
    args: Map<string, Arg>,
    params: Map<string, number>,
    outs: readonly (Float32Array | Float64Array | undefined)[],
    memo: Record<string, unknown>,
  ): { data: Float32Array | Float64Array; shape: number[] }[];
}

/** A loss's options after normalisation: every value (tensors as their shape), and the tensors themselves. */
export interface NormalizedOptions {
  readonly values: Record<string, OptionValue>;
  readonly tensors: Map<string, Tensor>;
}

export function normalizeOptions(def: LossSignature, given: Record<string, unknown>): NormalizedOptions {
  if (given === null || typeof given !== 'object') throw new TypeError(`${def.name}: options must be an object`);
  const values: Record<string, OptionValue> = {};
  const tensors = new Map<string, Tensor>();
  for (const key of Object.keys(given)) {
    if (!def.options.some((o) => o.name === key) && given[key] !== undefined)
      throw new TypeError(`${def.name} got an unexpected option '${key}' (options: ${def.options.map((o) => o.name).join(', ') || 'none'})`);
  }
  for (const o of def.options) {
    const v = given[o.name] ?? o.default;
    switch (o.type) {
      case 'number':
        if (typeof v !== 'number') throw new TypeError(`${def.name}: option '${o.name}' must be a number, got ${typeof v}`);
        values[o.name] = v;
        break;
      case 'function':
        if (v !== null && typeof v !== 'function')
          throw new TypeError(`${def.name}: option '${o.name}' must be a function of lossc tensors (builder nodes) or null`);
        values[o.name] = v as OptionValue;
        break;
      case 'bool':
        if (typeof v !== 'boolean') throw new TypeError(`${def.name}: option '${o.name}' must be a boolean, got ${typeof v}`);
        values[o.name] = v;
        break;
      case 'enum':
        if (typeof v !== 'string' || !o.values.includes(v))
          throw new RangeError(`${def.name}: ${String(v)} is not a valid value for ${o.name} (expected one of ${o.values.map((x) => `'${x}'`).join(', ')})`);
        values[o.name] = v;
        break;
      case 'tensor':
        if (v === null) values[o.name] = null;
        else {
          validateTensor(v, `${def.name}: option '${o.name}'`);
          if (v.dtype === 'int32') throw new TypeError(`${def.name}: option '${o.name}' must be a floating-point tensor, got int32`);
          values[o.name] = { shape: v.shape };
          tensors.set(o.name, v);
        }
        break;
    }
  }
  const checks = [def, ...(def.overloads ?? [])].flatMap((d) => d.checks ?? []);
  checkOptionValues(def.name, def.options, checks, values);
  return { values, tensors };
}

/** The structural variant a set of option values selects (compiler/variant.ts): standalone modules key their compiled variants by it. */
export { variantKey } from '../compiler/variant.js';

/** The hooks a caller of callLoss may give: its binding cache, and what its backend holds off the host. */
export interface CallHooks {
  /** this loss's bindings per input-shape signature (a Loss keeps one): see BindingCache */
  readonly cache?: BindingCache;
  /** data the backend holds elsewhere (a GPU buffer's stand-in): no host length to check */
  readonly isResident?: (data: TensorData) => boolean;
}

/**
 * Run `method` of the loss on `inputs`: choose the form the tensors' dtypes fit, bind and check
 * the arguments, run, and shape the results (an unbatched call's 'none' result has no batch axis).
 * `opts` (see callOptions.ts): the gradients to compute, caller-owned results (returned as the
 * same objects), accumulation into them.
 */
export function callLoss<S extends LossSignature>(
  def: S,
  options: NormalizedOptions,
  method: Method,
  inputs: readonly Tensor[],
  gradOutput: Tensor | null,
  runnerFor: (form: S, variant: MethodVariant) => MethodRunner,
  opts: CallOptions = {},
  hooks: CallHooks = {},
): { def: S; runner: MethodRunner; results: Tensor[] } {
  const key = hooks.cache ? signature(method, inputs, gradOutput, opts) : null;
  let b = key === null ? undefined : hooks.cache!.get(key);
  let args: Map<string, Arg>;
  if (b && fits(b, inputs, gradOutput, hooks.isResident)) {
    args = new Map();
    b.argShapes.forEach((shape, k) =>
      args.set(b!.argNames[k]!, { data: k < inputs.length ? inputs[k]!.data : options.tensors.get(b!.argNames[k]!)!.data, shape }),
    );
    if (b.valueChecks.length) applyChecks(b.form.name, b.valueChecks, args, options.values);
  } else {
    const bound = bindCall(def, options, method, inputs, gradOutput, runnerFor, opts);
    b = bound.binding;
    args = bound.args;
    if (key !== null && b.cacheable) hooks.cache!.set(key, b);
  }
  const { form, runner, precision, outShape } = b;
  if (gradOutput) args.set('grad_output', { data: gradOutput.data, shape: outShape });
  const dtype = precision === 'f32' ? 'float32' : 'float64';
  const outs = resolveOutputs(
    {
      loss: form.name,
      method,
      names: b.argNames.slice(0, inputs.length),
      results: runner.results,
      gradOf: runner.gradOf,
      inputs,
      valueShape: b.shownShape,
      dtype,
      isResident: hooks.isResident,
    },
    opts,
  );
  if (opts.accumulate) {
    runner.results.forEach((r, k) => {
      if (r === 'value') return;
      const input = form.inputs[runner.gradOf[k - (runner.results[0] === 'value' ? 1 : 0)]!]!.name;
      args.set(priorInput(r), { data: outs[k]!.data, shape: args.get(input)!.shape });
    });
  }
  let results: ReturnType<MethodRunner['run']>;
  try {
    results = runner.run(
      precision,
      args,
      b.params,
      outs.map((t) => t?.data as Float32Array | Float64Array | undefined),
      b.memo,
    );
  } catch (e) {
    if (e instanceof ShapeError) throw new RangeError(`${form.name}: ${e.message}`, { cause: e });
    throw e;
  }
  return {
    def: form as S,
    runner,
    results: results.map((r, i) => outs[i] ?? { data: r.data, shape: i === 0 && runner.results[0] === 'value' ? [...b!.shownShape] : r.shape, dtype }),
  };
}

/**
 * What a call with one input-shape signature resolved (the form, the compiled method, argument
 * shapes after the shape checks, the result shapes, the parameters): a repeated call with the
 * same shapes and dtypes reuses it and runs only the checks that read values.
 */
export interface Binding {
  readonly form: LossSignature;
  readonly runner: MethodRunner;
  readonly precision: Precision;
  /** argument names in binding order (the inputs, then tensor options) and their shapes as the kernels see them */
  readonly argNames: readonly string[];
  readonly argShapes: readonly (readonly number[])[];
  /** element counts of the inputs as given */
  readonly numels: readonly number[];
  readonly outShape: number[];
  readonly shownShape: number[];
  readonly params: Map<string, number>;
  /** the checks that read values, run on every call */
  readonly valueChecks: readonly InputCheck[];
  /** checks that read values can change shapes (CTC's concatenated targets): then no reuse */
  readonly cacheable: boolean;
  /** the backend's own per-signature state (the CPU executor's laid-out kernels) */
  readonly memo: Record<string, unknown>;
}

/** A loss's bindings by signature, bounded (a loop over ever new shapes does not grow it). */
export class BindingCache {
  private readonly entries = new Map<string, Binding>();
  constructor(private readonly limit = 64) {}
  get(key: string): Binding | undefined {
    return this.entries.get(key);
  }
  set(key: string, b: Binding): void {
    if (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, b);
  }
}

/** Checks that only look at shapes: a cached binding has passed them for its signature. */
const SHAPE_CHECKS: ReadonlySet<InputCheck['kind']> = new Set(['dims', 'sameShape', 'unsqueezeLastIfMissing', 'batchIfUnbatched']);

/** The signature of a call: method, options' wrt and accumulate, each tensor's dtype and shape; null when something is not a plain tensor (the slow path names it). */
function signature(method: Method, inputs: readonly Tensor[], gradOutput: Tensor | null, opts: CallOptions): string | null {
  if (!Array.isArray(inputs)) return null;
  let key = `${method}|${opts.wrt ? opts.wrt.join(',') : '*'}|${opts.accumulate ? 1 : 0}`;
  const add = (t: Tensor | null): boolean => {
    if (!isTensor(t) || !Array.isArray(t.shape)) return false;
    key += `|${t.dtype}`;
    for (let i = 0; i < t.shape.length; i++) {
      const d = t.shape[i];
      if (typeof d !== 'number') return false;
      key += i ? `,${d}` : `:${d}`;
    }
    return true;
  };
  for (let i = 0; i < inputs.length; i++) if (!add(inputs[i]!)) return null;
  if (gradOutput && !add(gradOutput)) return null;
  return key;
}

const dataOf: Record<string, unknown> = { float32: Float32Array, float64: Float64Array, int32: Int32Array };

/** The data of every tensor is of its dtype and holds its shape's elements (the signature matched the rest); resident data (a GPU buffer's stand-in) has no host length. */
function fits(b: Binding, inputs: readonly Tensor[], gradOutput: Tensor | null, isResident?: (data: TensorData) => boolean): boolean {
  if (inputs.length !== b.numels.length) return false;
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i]!;
    if (t.data.constructor !== dataOf[t.dtype] || (t.data.length !== b.numels[i] && !isResident?.(t.data))) return false;
  }
  return (
    !gradOutput ||
    (gradOutput.data.constructor === dataOf[gradOutput.dtype] && (gradOutput.data.length === numel(gradOutput.shape) || !!isResident?.(gradOutput.data)))
  );
}

/** The full path: choose the form, check and bind every argument, resolve the shapes. */
function bindCall<S extends LossSignature>(
  def: S,
  options: NormalizedOptions,
  method: Method,
  inputs: readonly Tensor[],
  gradOutput: Tensor | null,
  runnerFor: (form: S, variant: MethodVariant) => MethodRunner,
  opts: CallOptions,
): { binding: Binding; args: Map<string, Arg> } {
  const form = formFor(def, inputs);
  const runner = runnerFor(form, resolveVariant(form, method, opts));
  const { args, precision, unbatched } = bindArguments(form, options, inputs, method);
  try {
    const outShape = resolveShape(runner.outputShape, new Map([...args].map(([k, v]) => [k, v.shape] as const)));
    const shownShape = unbatched && outShape.length > 0 ? outShape.slice(1) : outShape;
    checkElementCount(outShape, `${form.name}: the result`);
    if (method === 'vjp') {
      validateTensor(gradOutput, `${form.name}.vjp: gradOutput`);
      if (!sameDims(gradOutput.shape, shownShape))
        throw new RangeError(`${form.name}.vjp: gradOutput has shape ${shapeStr(gradOutput.shape)} but the loss output has shape ${shapeStr(shownShape)}`);
      if (gradOutput.dtype !== (precision === 'f32' ? 'float32' : 'float64'))
        throw new TypeError(`${form.name}.vjp: gradOutput has dtype ${gradOutput.dtype} but the inputs are ${precision === 'f32' ? 'float32' : 'float64'}`);
    }
    const params = new Map<string, number>();
    for (const p of runner.params) params.set(p, options.values[p] as number);
    const argNames = [...args.keys()];
    const checks = form.checks ?? [];
    const binding: Binding = {
      form,
      runner,
      precision,
      argNames,
      argShapes: argNames.map((n) => args.get(n)!.shape),
      numels: inputs.map((t) => numel(t.shape)),
      outShape,
      shownShape,
      params,
      valueChecks: checks.filter((c) => !SHAPE_CHECKS.has(c.kind)),
      cacheable: !checks.some((c) => c.kind === 'ctc') && argNames.slice(0, inputs.length).every((n, i) => n === form.inputs[i]!.name),
      memo: {},
    };
    return { binding, args };
  } catch (e) {
    if (e instanceof ShapeError) throw new RangeError(`${form.name}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** Gradients by argument position, each shaped like the argument as given (checks may view it otherwise); null for the others. */
export function gradsByArgument(
  def: LossSignature,
  gradOf: readonly number[],
  grads: readonly Tensor[],
  inputs: readonly Tensor[],
  opts: CallOptions = {},
): (Tensor | null)[] {
  const out: (Tensor | null)[] = def.inputs.map(() => null);
  const given = opts.out?.grads;
  gradOf.forEach((inputIndex, k) => {
    if (inputIndex >= out.length) return;
    // a caller-owned result is returned as the same object
    out[inputIndex] = given && given[inputIndex] === grads[k] ? grads[k]! : { ...grads[k]!, shape: [...inputs[inputIndex]!.shape] };
  });
  return out;
}

/** The form of the loss these tensors fit (index or probability targets, float or int labels). */
function formFor<S extends LossSignature>(def: S, inputs: readonly Tensor[]): S {
  const forms = [def, ...((def.overloads ?? []) as readonly S[])]; // a form's overloads are of its own sort
  if (forms.length === 1) return def;
  const fits = (d: S): boolean => d.inputs.every((spec, i) => !isTensor(inputs[i]) || (inputs[i]!.dtype === 'int32') === (spec.kind === 'int'));
  return forms.find(fits) ?? def; // bindArguments then names what does not fit
}

/** Check the arguments (count, dtypes, data-dependent checks) and name them as the graph does. */
function bindArguments(
  def: LossSignature,
  options: NormalizedOptions,
  inputs: readonly Tensor[],
  method: Method,
): { args: Map<string, Arg>; precision: Precision; unbatched: boolean } {
  const names = def.inputs.map((i) => i.name);
  const sig = `${def.name}.${method}(${names.join(', ')})`;
  if (inputs.length !== def.inputs.length) throw new TypeError(`${sig} takes ${def.inputs.length} tensors, got ${inputs.length}`);
  let floatDtype: string | null = null;
  const args = new Map<string, Arg>();
  const take = (name: string, t: unknown, kind: 'float' | 'int'): void => {
    validateTensor(t, `${sig}: argument '${name}'`);
    if (kind === 'int') {
      if (t.dtype !== 'int32')
        throw new TypeError(`${sig}: expected '${name}' to be an int32 tensor of indices, got ${t.dtype} with shape ${shapeStr(t.shape)}`);
    } else {
      if (t.dtype === 'int32') throw new TypeError(`${sig}: expected '${name}' to be a floating-point tensor, got int32 with shape ${shapeStr(t.shape)}`);
      if (floatDtype && t.dtype !== floatDtype)
        throw new TypeError(`${sig}: expected '${name}' to have dtype ${floatDtype} like the other float arguments, got ${t.dtype}`);
      floatDtype = t.dtype;
    }
    args.set(name, { data: t.data, shape: t.shape });
  };
  def.inputs.forEach((spec, i) => take(spec.name, inputs[i], spec.kind));
  for (const [name, t] of options.tensors) take(name, t, 'float');
  if (!floatDtype) throw new TypeError(`${sig}: no floating-point argument`);
  const { unbatched } = def.checks ? applyChecks(def.name, def.checks, args, options.values) : { unbatched: false };
  checkDerivedShapes(def, args);
  return { args, precision: floatDtype === 'float32' ? 'f32' : 'f64', unbatched };
}

/** An input declared with another's shape (see InputSpec.shapeLike) must have it. */
function checkDerivedShapes(def: LossSignature, args: Map<string, Arg>): void {
  for (const spec of def.inputs) {
    if (!spec.shapeLike) continue;
    const like = args.get(spec.shapeLike.input)!.shape;
    const axis = spec.shapeLike.dropAxis;
    const a = axis === undefined ? -1 : axis < 0 ? axis + like.length : axis;
    if (axis !== undefined && (a < 0 || a >= like.length))
      throw new RangeError(`${def.name}: ${spec.shapeLike.input} of shape ${shapeStr(like)} has no dimension ${axis}`);
    const expected = axis === undefined ? like : like.filter((_, i) => i !== a);
    const got = args.get(spec.name)!.shape;
    if (!sameDims(got, expected))
      throw new RangeError(
        `${def.name}: expected ${spec.name} of shape ${shapeStr(expected)} for ${spec.shapeLike.input} of shape ${shapeStr(like)}, got ${shapeStr(got)}`,
      );
  }
}
