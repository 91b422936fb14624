// The run-time half of a standalone kernel module (`lossc compile`): create(options) over a loss
// compiled ahead of time into plain data. esbuild bundles this file, and what it imports, into
// each emitted module, which therefore has no imports and needs no compiler. It is the library's
// own code: options, argument checks, overload choice and result shapes come from binding.ts
// (which nn.ts's Loss runs too), the kernels run on executor.ts's CpuProgram.
//
// Imports: executor, checks, strides, callOptions, compiler/ir/shape and compiler/methodVariant
// (through binding.ts) only; types aside.
import type { Method } from '../compiler/pipeline.js';
import { methodVariantKey, type MethodVariant } from '../compiler/methodVariant.js';
import type { Precision } from '../compiler/plan/kernelPlan.js';
import type { ShapeExpr } from '../compiler/ir/shape.js';
import type { OptionValue } from '../compiler/loss.js';
import { CpuProgram, type CpuProgramData, type RunArgs, type RunResult } from './executor.js';
import { BindingCache, callLoss, gradsByArgument, normalizeOptions, variantKey, type LossSignature, type MethodRunner } from './binding.js';
import { parseCallOptions, type CallOptions, type ForwardOptions } from './callOptions.js';
import type { Tensor } from './tensor.js';

/** One method of one variant, compiled: what a call needs, and the kernels per precision (`P`: the JS target's CpuProgramData, or the wasm target's; see runtime/wasm/standalone.ts). */
export interface StandaloneMethodData<P = CpuProgramData> {
  readonly outputShape: ShapeExpr;
  readonly params: readonly string[];
  readonly results: readonly string[];
  readonly gradOf: readonly number[];
  /** per precision compiled for (`lossc compile --precision` may carry one) */
  readonly f32?: P;
  readonly f64?: P;
}

/** A method the compiler refused for a variant (valueAndGrad of a 'none'-reduced loss): the call throws this message. */
export interface StandaloneMethodError {
  readonly error: string;
}

/**
 * A loss form as data: its signature, and per structural variant (binding.ts variantKey) its
 * compiled methods, by method name, and `<method>#<variant>` for the gradient variants the module
 * carries (pipeline.ts methodVariantKey; see module.ts carriedGradientVariants).
 */
export interface StandaloneForm<P = CpuProgramData> extends LossSignature {
  readonly doc?: string;
  readonly variants: Readonly<Record<string, Readonly<Partial<Record<string, StandaloneMethodData<P> | StandaloneMethodError>>>>>;
  readonly overloads?: readonly StandaloneForm<P>[];
}

/** A program built from a method's data for one precision: what runs its kernels. */
export type ProgramFactory<P> = (data: P) => { run(args: RunArgs): RunResult[] };

export interface StandaloneLoss {
  readonly name: string;
  /** the normalised option values (tensor options as their shapes) */
  readonly options: Readonly<Record<string, unknown>>;
  forward(...inputs: Tensor[]): Tensor;
  /** `out`: written in place and returned */
  forward(inputs: Tensor[], opts?: ForwardOptions): Tensor;
  /** d sum(output * gradOutput) / d input_i, for each input (null for integer and non-differentiable inputs, and outside `wrt`) */
  vjp(inputs: Tensor[], gradOutput: Tensor, opts?: CallOptions): (Tensor | null)[];
  valueAndGrad(...inputs: Tensor[]): { value: Tensor; grads: (Tensor | null)[] };
  /** wrt (every input, or the first differentiable one), out, accumulate: as the library's Loss */
  valueAndGrad(inputs: Tensor[], opts?: CallOptions): { value: Tensor; grads: (Tensor | null)[] };
}

/** A loss from its compiled data, with `options` applied at run time over the loss's defaults. */
export function createLoss(data: StandaloneForm, options: Record<string, unknown> = {}): StandaloneLoss {
  return createLossWith(data, options, (d) => new CpuProgram(d));
}

/** createLoss over kernels of any kind: `program` builds what runs a method's kernels from its data. */
export function createLossWith<P>(data: StandaloneForm<P>, options: Record<string, unknown>, program: ProgramFactory<P>): StandaloneLoss {
  const normalized = normalizeOptions(data, options ?? {});
  for (const o of data.options) {
    if (o.type === 'function' && normalized.values[o.name] !== null)
      throw new Error(
        `${data.name}: option '${o.name}' is a function of lossc builder nodes, which a standalone module cannot carry (it would need the compiler): use lossc's library, or write the function into the loss`,
      );
  }
  const programs = new Map<StandaloneMethodData<P>, Partial<Record<Precision, ReturnType<ProgramFactory<P>>>>>();
  const runners = new Map<StandaloneMethodData<P>, MethodRunner>();
  const runnerFor =
    (method: Method) =>
    (form: StandaloneForm<P>, mv: MethodVariant): MethodRunner => {
      const key = variantKey(form.options, normalized.values);
      const variant = form.variants[key];
      if (!variant)
        throw new Error(
          `${form.name}: this module carries no compiled variant for options ${key} (it was compiled for ${Object.keys(form.variants).join('; ') || 'none'}: lossc compile --options)`,
        );
      const m = methodEntry(form, variant, method, mv);
      if ('error' in m) throw new Error(m.error);
      let runner = runners.get(m);
      if (!runner) {
        runner = {
          outputShape: m.outputShape,
          params: m.params,
          results: m.results,
          gradOf: m.gradOf,
          run: (precision, args, params, outs) => {
            let byPrecision = programs.get(m);
            if (!byPrecision) programs.set(m, (byPrecision = {}));
            const data = m[precision];
            if (!data)
              throw new Error(
                `${form.name}: this module was compiled without ${precision === 'f32' ? 'float32' : 'float64'} kernels (lossc compile --precision)`,
              );
            return (byPrecision[precision] ??= program(data)).run({ buffers: args, params, outs });
          },
        };
        runners.set(m, runner);
      }
      return runner;
    };
  const cache = new BindingCache();
  const call = (method: Method, inputs: Tensor[], gradOutput: Tensor | null, opts: CallOptions) =>
    callLoss(data, normalized, method, inputs, gradOutput, runnerFor(method), opts, { cache });
  const arrayForm = (method: 'forward' | 'valueAndGrad', args: unknown[]): [Tensor[], CallOptions] => {
    if (!Array.isArray(args[0])) return [args as Tensor[], {}];
    if (args.length > 2)
      throw new TypeError(`${data.name}.${method}(inputs, options): takes an array of tensors and an options object, got ${args.length} arguments`);
    return [args[0] as Tensor[], parseCallOptions(data.name, method, args[1])];
  };
  return {
    name: data.name,
    options: { ...(normalized.values as Record<string, OptionValue>) },
    forward: (...args: unknown[]) => {
      const [inputs, opts] = arrayForm('forward', args);
      return call('forward', inputs, null, opts).results[0]!;
    },
    vjp: (inputs: Tensor[], gradOutput: Tensor, options?: CallOptions) => {
      if (!Array.isArray(inputs)) throw new TypeError(`${data.name}.vjp(inputs, gradOutput): inputs must be an array of tensors`);
      const opts = parseCallOptions(data.name, 'vjp', options);
      const { def, runner, results } = call('vjp', inputs, gradOutput, opts);
      return gradsByArgument(def, runner.gradOf, results, inputs, opts);
    },
    valueAndGrad: (...args: unknown[]) => {
      const [inputs, opts] = arrayForm('valueAndGrad', args);
      const { def, runner, results } = call('valueAndGrad', inputs, null, opts);
      return { value: results[0]!, grads: gradsByArgument(def, runner.gradOf, results.slice(1), inputs, opts) };
    },
  } as StandaloneLoss;
}

/** The compiled method for a gradient variant: the default under the method's name, the others under `<method>#<variant key>`. */
function methodEntry<P>(
  form: StandaloneForm<P>,
  variant: Readonly<Partial<Record<string, StandaloneMethodData<P> | StandaloneMethodError>>>,
  method: Method,
  mv: MethodVariant,
): StandaloneMethodData<P> | StandaloneMethodError {
  const vkey = methodVariantKey(mv);
  const m = variant[vkey ? `${method}#${vkey}` : method];
  if (m) return m;
  if (!variant[method]) throw new Error(`${form.name}: this module was compiled without the ${method} method (lossc compile --methods)`);
  const names = form.inputs.map((i) => i.name);
  const describe = (key: string): string => {
    const wrt = /wrt=([\d,]*)/.exec(key)?.[1];
    const set =
      wrt === undefined
        ? 'every input'
        : `wrt [${wrt
            .split(',')
            .filter(Boolean)
            .map((i) => names[Number(i)])
            .join(', ')}]`;
    return key.endsWith('+acc') ? `${set} with accumulate` : set;
  };
  const carried = Object.keys(variant)
    .filter((k) => k === method || k.startsWith(`${method}#`))
    .map(describe);
  const asked = describe(vkey);
  throw new Error(
    `${form.name}.${method}: this module carries gradients for ${carried.join('; ')}; ${asked} needs lossc's library (or a module compiled with it)`,
  );
}
