// Calling a loss, apart from compiling it: options normalised, the form chosen by the tensors'
// dtypes, arguments checked and bound by name, gradOutput checked, results shaped. The library's
// Loss (nn.ts) and standalone kernel modules (standalone.ts, bundled into `lossc compile` output)
// run this same code, so it imports no compiler code (types aside).
import type { InputCheck, InputSpec, OptionSpec, OptionValue } from '../compiler/loss.js';
import type { Method } from '../compiler/pipeline.js';
import type { Precision } from '../compiler/plan/kernelPlan.js';
import { resolveShape, ShapeError, type ShapeExpr } from '../compiler/ir/shape.js';
import { applyChecks, checkOptionValues, type Arg } from './checks.js';
import { isTensor, shapeStr, type Tensor } from './tensor.js';
import { checkElementCount, validateTensor } from './validate.js';
import { sameDims } from './strides.js';

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
  run(precision: Precision, args: Map<string, Arg>, params: Map<string, number>): { data: Float32Array | Float64Array; shape: number[] }[];
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
        if (v !== null && typeof v !== 'function') throw new TypeError(`${def.name}: option '${o.name}' must be a function of lossc tensors (builder nodes) or null`);
        values[o.name] = v as OptionValue;
        break;
      case 'bool':
        if (typeof v !== 'boolean') throw new TypeError(`${def.name}: option '${o.name}' must be a boolean, got ${typeof v}`);
        values[o.name] = v;
        break;
      case 'enum':
        if (typeof v !== 'string' || !o.values.includes(v)) throw new RangeError(`${def.name}: ${String(v)} is not a valid value for ${o.name} (expected one of ${o.values.map((x) => `'${x}'`).join(', ')})`);
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

/**
 * The structural variant a set of option values selects, as text: every enum and bool value,
 * whether each tensor option is given, and which case of each numeric option with cases applies.
 * Standalone modules key their compiled variants by it (function options cannot be carried).
 */
export function variantKey(def: LossSignature, values: Readonly<Record<string, unknown>>): string {
  return def.options
    .filter((o) => (o.type === 'number' ? (o.cases?.length ?? 0) > 0 : o.type !== 'function'))
    .map((o) => {
      const v = values[o.name];
      const text = o.type === 'tensor' ? (v == null ? 'none' : 'given') : o.type === 'number' ? (o.cases!.includes(v as number) ? String(v) : 'other') : String(v);
      return `${o.name}=${text}`;
    })
    .join(',');
}

/**
 * Run `method` of the loss on `inputs`: choose the form the tensors' dtypes fit, bind and check
 * the arguments, run, and shape the results (an unbatched call's 'none' result has no batch axis).
 */
export function callLoss<S extends LossSignature>(
  def: S,
  options: NormalizedOptions,
  method: Method,
  inputs: readonly Tensor[],
  gradOutput: Tensor | null,
  runnerFor: (form: S) => MethodRunner,
): { def: S; runner: MethodRunner; results: Tensor[] } {
  const form = formFor(def, inputs);
  const runner = runnerFor(form);
  const { args, precision, unbatched } = bindArguments(form, options, inputs, method);
  try {
    const outShape = resolveShape(runner.outputShape, new Map([...args].map(([k, v]) => [k, v.shape] as const)));
    const shownShape = unbatched && outShape.length > 0 ? outShape.slice(1) : outShape;
    checkElementCount(outShape, `${form.name}: the result`);
    if (method === 'vjp') {
      validateTensor(gradOutput, `${form.name}.vjp: gradOutput`);
      if (!sameDims(gradOutput.shape, shownShape)) throw new RangeError(`${form.name}.vjp: gradOutput has shape ${shapeStr(gradOutput.shape)} but the loss output has shape ${shapeStr(shownShape)}`);
      if (gradOutput.dtype !== (precision === 'f32' ? 'float32' : 'float64')) throw new TypeError(`${form.name}.vjp: gradOutput has dtype ${gradOutput.dtype} but the inputs are ${precision === 'f32' ? 'float32' : 'float64'}`);
      args.set('grad_output', { data: gradOutput.data, shape: outShape });
    }
    const params = new Map<string, number>();
    for (const p of runner.params) params.set(p, options.values[p] as number);
    const results = runner.run(precision, args, params);
    const dtype = precision === 'f32' ? 'float32' : 'float64';
    return {
      def: form,
      runner,
      results: results.map((r, i) => ({ data: r.data, shape: i === 0 && runner.results[0] === 'value' ? [...shownShape] : r.shape, dtype })),
    };
  } catch (e) {
    if (e instanceof ShapeError) throw new RangeError(`${form.name}: ${e.message}`);
    throw e;
  }
}

/** Gradients by argument position, each shaped like the argument as given (checks may view it otherwise); null for the others. */
export function gradsByArgument(def: LossSignature, gradOf: readonly number[], grads: readonly Tensor[], inputs: readonly Tensor[]): (Tensor | null)[] {
  const out: (Tensor | null)[] = def.inputs.map(() => null);
  gradOf.forEach((inputIndex, k) => {
    if (inputIndex < out.length) out[inputIndex] = { ...grads[k]!, shape: [...inputs[inputIndex]!.shape] };
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
function bindArguments(def: LossSignature, options: NormalizedOptions, inputs: readonly Tensor[], method: Method): { args: Map<string, Arg>; precision: Precision; unbatched: boolean } {
  const names = def.inputs.map((i) => i.name);
  const sig = `${def.name}.${method}(${names.join(', ')})`;
  if (inputs.length !== def.inputs.length) throw new TypeError(`${sig} takes ${def.inputs.length} tensors, got ${inputs.length}`);
  let floatDtype: string | null = null;
  const args = new Map<string, Arg>();
  const take = (name: string, t: unknown, kind: 'float' | 'int'): void => {
    validateTensor(t, `${sig}: argument '${name}'`);
    if (kind === 'int') {
      if (t.dtype !== 'int32') throw new TypeError(`${sig}: expected '${name}' to be an int32 tensor of indices, got ${t.dtype} with shape ${shapeStr(t.shape)}`);
    } else {
      if (t.dtype === 'int32') throw new TypeError(`${sig}: expected '${name}' to be a floating-point tensor, got int32 with shape ${shapeStr(t.shape)}`);
      if (floatDtype && t.dtype !== floatDtype) throw new TypeError(`${sig}: expected '${name}' to have dtype ${floatDtype} like the other float arguments, got ${t.dtype}`);
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
    if (axis !== undefined && (a < 0 || a >= like.length)) throw new RangeError(`${def.name}: ${spec.shapeLike.input} of shape ${shapeStr(like)} has no dimension ${axis}`);
    const expected = axis === undefined ? like : like.filter((_, i) => i !== a);
    const got = args.get(spec.name)!.shape;
    if (!sameDims(got, expected)) throw new RangeError(`${def.name}: expected ${spec.name} of shape ${shapeStr(expected)} for ${spec.shapeLike.input} of shape ${shapeStr(like)}, got ${shapeStr(got)}`);
  }
}
