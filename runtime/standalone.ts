// The run-time half of a standalone kernel module (`lossc compile`): create(options) over a loss
// compiled ahead of time into plain data. esbuild bundles this file, and what it imports, into
// each emitted module, which therefore has no imports and needs no compiler. It is the library's
// own code: options, argument checks, overload choice and result shapes come from binding.ts
// (which nn.ts's Loss runs too), the kernels run on executor.ts's CpuProgram.
//
// Imports: executor, checks, strides, compiler/ir/shape (through binding.ts) only; types aside.
import type { Method } from '../compiler/pipeline.js';
import type { Precision } from '../compiler/plan/kernelPlan.js';
import type { ShapeExpr } from '../compiler/ir/shape.js';
import type { OptionValue } from '../compiler/loss.js';
import { CpuProgram, type CpuProgramData } from './executor.js';
import { callLoss, gradsByArgument, normalizeOptions, variantKey, type LossSignature, type MethodRunner } from './binding.js';
import type { Tensor } from './tensor.js';

/** One method of one variant, compiled: what a call needs, and the kernels per precision. */
export interface StandaloneMethodData {
  readonly outputShape: ShapeExpr;
  readonly params: readonly string[];
  readonly results: readonly string[];
  readonly gradOf: readonly number[];
  /** per precision compiled for (`lossc compile --precision` may carry one) */
  readonly f32?: CpuProgramData;
  readonly f64?: CpuProgramData;
}

/** A method the compiler refused for a variant (valueAndGrad of a 'none'-reduced loss): the call throws this message. */
export interface StandaloneMethodError {
  readonly error: string;
}

/** A loss form as data: its signature, and per structural variant (binding.ts variantKey) its compiled methods. */
export interface StandaloneForm extends LossSignature {
  readonly doc?: string;
  readonly variants: Readonly<Record<string, Readonly<Partial<Record<Method, StandaloneMethodData | StandaloneMethodError>>>>>;
  readonly overloads?: readonly StandaloneForm[];
}

export interface StandaloneLoss {
  readonly name: string;
  /** the normalised option values (tensor options as their shapes) */
  readonly options: Readonly<Record<string, unknown>>;
  forward(...inputs: Tensor[]): Tensor;
  /** d sum(output * gradOutput) / d input_i, for each input (null for integer and non-differentiable inputs) */
  vjp(inputs: Tensor[], gradOutput: Tensor): (Tensor | null)[];
  valueAndGrad(...inputs: Tensor[]): { value: Tensor; grads: (Tensor | null)[] };
}

/** A loss from its compiled data, with `options` applied at run time over the loss's defaults. */
export function createLoss(data: StandaloneForm, options: Record<string, unknown> = {}): StandaloneLoss {
  const normalized = normalizeOptions(data, options ?? {});
  for (const o of data.options) {
    if (o.type === 'function' && normalized.values[o.name] !== null)
      throw new Error(`${data.name}: option '${o.name}' is a function of lossc builder nodes, which a standalone module cannot carry (it would need the compiler): use lossc's library, or write the function into the loss`);
  }
  const programs = new Map<StandaloneMethodData, Partial<Record<Precision, CpuProgram>>>();
  const runnerFor = (method: Method) => (form: StandaloneForm): MethodRunner => {
    const key = variantKey(form, normalized.values);
    const variant = form.variants[key];
    if (!variant) throw new Error(`${form.name}: this module carries no compiled variant for options ${key} (it was compiled for ${Object.keys(form.variants).join('; ') || 'none'}: lossc compile --options)`);
    const m = variant[method];
    if (!m) throw new Error(`${form.name}: this module was compiled without the ${method} method (lossc compile --methods)`);
    if ('error' in m) throw new Error(m.error);
    return {
      outputShape: m.outputShape,
      params: m.params,
      results: m.results,
      gradOf: m.gradOf,
      run: (precision, args, params) => {
        let byPrecision = programs.get(m);
        if (!byPrecision) programs.set(m, (byPrecision = {}));
        const data = m[precision];
        if (!data) throw new Error(`${form.name}: this module was compiled without ${precision === 'f32' ? 'float32' : 'float64'} kernels (lossc compile --precision)`);
        const program = (byPrecision[precision] ??= new CpuProgram(data));
        return program.run({ buffers: args, params });
      },
    };
  };
  const call = (method: Method, inputs: Tensor[], gradOutput: Tensor | null) => callLoss(data, normalized, method, inputs, gradOutput, runnerFor(method));
  return {
    name: data.name,
    options: { ...(normalized.values as Record<string, OptionValue>) },
    forward: (...inputs) => call('forward', inputs, null).results[0]!,
    vjp: (inputs, gradOutput) => {
      if (!Array.isArray(inputs)) throw new TypeError(`${data.name}.vjp(inputs, gradOutput): inputs must be an array of tensors`);
      const { def, runner, results } = call('vjp', inputs, gradOutput);
      return gradsByArgument(def, runner.gradOf, results, inputs);
    },
    valueAndGrad: (...inputs) => {
      const { def, runner, results } = call('valueAndGrad', inputs, null);
      return { value: results[0]!, grads: gradsByArgument(def, runner.gradOf, results.slice(1), inputs) };
    },
  };
}
