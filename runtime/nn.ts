// PyTorch-style loss objects over compiled graphs: `new nn.MSELoss({ reduction: 'sum' })`,
// then forward / vjp / valueAndGrad / explain. Every built-in and every custom loss goes
// through the same class: a LossDef in, kernels out, compiled once per structure and dtype.
import { checkLossNames, instantiate, structuralKey, type LossDef, type OptionValue, type LossInstance } from '../compiler/loss.js';
import { compileMethod, methodVariantKey, stableForward, type CompiledMethod, type Method, type MethodVariant } from '../compiler/pipeline.js';
import type { Precision } from '../compiler/plan/kernelPlan.js';
import { compileCpuProgram, type CpuProgram } from './cpu.js';
import type { Arg } from './checks.js';
import type { Tensor, TensorData } from './tensor.js';
import { BindingCache, callLoss, gradsByArgument, normalizeOptions, type MethodRunner } from './binding.js';
import { parseCallOptions, type CallOptions, type ForwardOptions } from './callOptions.js';
import { findingsToDiagnostics } from './notes.js';
import type { Diagnostic } from '../dsl/diagnostics.js';
import { kernelBufferCount } from '../compiler/abi/slots.js';

export interface ExplainResult {
  readonly kernels: { readonly name: string; readonly reads: string[]; readonly writes: string[] }[];
  readonly text: string;
}

export interface ValueAndGrad {
  readonly value: Tensor;
  readonly grads: (Tensor | null)[];
}

/** What a loss needs from a backend: run one compiled method on bound arguments. */
export interface Backend {
  readonly name: 'js' | 'webgpu' | 'wasm';
  run(
    compiled: CompiledMethod,
    precision: Precision,
    args: Map<string, Arg>,
    params: Map<string, number>,
    outs: readonly (Float32Array | Float64Array | undefined)[],
    memo: Record<string, unknown>,
  ): { data: Float32Array | Float64Array; shape: number[] }[];
  /** data the backend holds elsewhere (a GPU buffer's stand-in): no host length to check */
  isResident?(data: TensorData): boolean;
  /** the most buffers one kernel may bind here (a WebGPU device's storage-buffer limit): plans are fused within it */
  readonly maxBuffers?: number;
}

/**
 * Compiled methods per definition, by structure and method: every instance with the same structure
 * shares them. A structure with a function option (distanceFunction) is cached under that function,
 * so its kernels are freed with it: a new closure per instance must not grow the cache forever.
 */
interface Caches {
  readonly methods: Map<string, CompiledMethod>;
  readonly instances: Map<string, LossInstance>;
}
const caches = new WeakMap<object, WeakMap<LossDef, Caches>>();

function cachesFor(def: LossDef, options: Readonly<Record<string, OptionValue>>): Caches {
  const fn = def.options.map((o) => (o.type === 'function' ? options[o.name] : null)).find((v) => typeof v === 'function');
  const owner: object = fn ?? def;
  let byDef = caches.get(owner);
  if (!byDef) caches.set(owner, (byDef = new WeakMap()));
  let c = byDef.get(def);
  if (!c) byDef.set(def, (c = { methods: new Map(), instances: new Map() }));
  return c;
}

export function compiled(def: LossDef, options: Readonly<Record<string, OptionValue>>, method: Method, variant: MethodVariant = {}): CompiledMethod {
  const skey = structuralKey(def, options);
  const key = `${skey}#${method}#${methodVariantKey(variant)}`;
  const { methods, instances } = cachesFor(def, options);
  let c = methods.get(key);
  if (!c) {
    let inst = instances.get(skey);
    if (!inst) instances.set(skey, (inst = instantiate(def, options)));
    try {
      c = compileMethod(inst, method, variant);
    } catch (e) {
      // the passes recurse along the graph's depth: say so rather than leak the engine's words
      if (e instanceof RangeError && /call stack/i.test(e.message))
        throw new RangeError(
          `${def.name}.${method}: the loss's expression is too deep to compile (thousands of operations in one chain); split it, e.g. sum a stack of terms instead of chaining them with '+'`,
          { cause: e },
        );
      throw e;
    }
    methods.set(key, c);
  }
  return c;
}

const cpuPrograms = new WeakMap<CompiledMethod, Partial<Record<Precision, CpuProgram>>>();
export const cpuBackend: Backend = {
  name: 'js',
  run(c, precision, args, params, outs, memo) {
    let byPrecision = cpuPrograms.get(c);
    if (!byPrecision) cpuPrograms.set(c, (byPrecision = {}));
    const prog = (byPrecision[precision] ??= compileCpuProgram(c.plan, precision));
    return prog.run({ buffers: args, params, outs, memo });
  },
};

export class Loss {
  readonly options: Readonly<Record<string, OptionValue>>;
  private readonly tensorOptions: Map<string, Tensor>;
  /** bindings per input-shape signature, and method runners per form and variant: a repeated call reuses them */
  private readonly bindings = new BindingCache();
  private readonly runners = new WeakMap<LossDef, Map<string, MethodRunner>>();

  constructor(
    readonly def: LossDef,
    options: Record<string, unknown> = {},
    protected readonly backend: Backend = cpuBackend,
  ) {
    checkLossNames(def);
    const { values, tensors } = normalizeOptions(def, options);
    this.options = values;
    this.tensorOptions = tensors;
  }

  get name(): string {
    return this.def.name;
  }

  /**
   * The loss. Array form: `forward(inputs, { out })` writes the result into `out` (a tensor of the
   * result's shape and dtype) and returns it.
   */
  forward(...inputs: Tensor[]): Tensor;
  forward(inputs: Tensor[], opts?: ForwardOptions): Tensor;
  forward(...args: unknown[]): Tensor {
    const [inputs, opts] = arrayForm(this.name, 'forward', args);
    return this.call('forward', inputs, null, opts).results[0]!;
  }

  /**
   * d sum(output * gradOutput) / d input_i, for each input (null where torch gives none, and for
   * inputs outside `opts.wrt`). `opts`: see valueAndGrad.
   */
  vjp(inputs: Tensor[], gradOutput: Tensor, opts?: CallOptions): (Tensor | null)[] {
    if (!Array.isArray(inputs)) throw new TypeError(`${this.name}.vjp(inputs, gradOutput): inputs must be an array of tensors`);
    const o = parseCallOptions(this.name, 'vjp', opts);
    const { def, runner, results } = this.call('vjp', inputs, gradOutput, o);
    return gradsByArgument(def, runner.gradOf, results, inputs, o);
  }

  /**
   * The loss and its gradients in one fused pass. Array form, for a training step:
   * `valueAndGrad(inputs, { wrt, out: { value, grads }, accumulate })`: only the gradients of
   * `wrt` (input names or positions) are computed, the others are null; results are written into
   * the `out` tensors given (and returned as the same objects); `accumulate` adds the gradients
   * into out.grads (torch's .grad accumulation) in the same pass.
   */
  valueAndGrad(...inputs: Tensor[]): ValueAndGrad;
  valueAndGrad(inputs: Tensor[], opts?: CallOptions): ValueAndGrad;
  valueAndGrad(...args: unknown[]): ValueAndGrad {
    const [inputs, opts] = arrayForm(this.name, 'valueAndGrad', args);
    const { def, runner, results } = this.call('valueAndGrad', inputs, null, opts);
    return { value: results[0]!, grads: gradsByArgument(def, runner.gradOf, results.slice(1), inputs, opts) };
  }

  /**
   * This loss on another backend, with the same options. 'webgpu' loads lossc's WebGPU runtime
   * only now (Dawn in Node, navigator.gpu in browsers); its methods return Promises, and it
   * rejects when no adapter exists. 'js' is this loss itself. `{ device }`: run on a GPUDevice you
   * already have (its queue, in order with your own submissions) instead of lossc's own.
   */
  to(device: 'js'): Promise<Loss>;
  to(device: 'webgpu', opts?: import('./webgpu/interop.js').WebGpuOptions): Promise<import('./webgpu/loss.js').WebGpuLoss>;
  /**
   * WebAssembly (SIMD, and worker threads with `threads` > 1): the same synchronous methods, and
   * `tensor()` for tensors in its memory, which calls read and write with no copy
   */
  to(device: 'wasm', opts?: import('./wasm/backend.js').WasmOptions): Promise<import('./wasm/tensor.js').WasmLoss>;
  async to(
    device: 'webgpu' | 'js' | 'wasm',
    opts?: import('./webgpu/interop.js').WebGpuOptions | import('./wasm/backend.js').WasmOptions,
  ): Promise<Loss | import('./webgpu/loss.js').WebGpuLoss | import('./wasm/tensor.js').WasmLoss> {
    if (device === 'js') return this;
    if (device === 'wasm') {
      const { wasmBackend } = await import('./wasm/backend.js');
      const backend = await wasmBackend(opts as import('./wasm/backend.js').WasmOptions | undefined);
      const loss = new Loss(this.def, { ...this.options, ...Object.fromEntries(this.tensorOptions) }, backend);
      // outside Node (a browser's main thread compiles only small modules synchronously): the default methods' kernels now
      if (typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node !== 'string') {
        const methods = (['forward', 'vjp', 'valueAndGrad'] as const).flatMap((m) => {
          try {
            return [loss.compiledMethod(m)];
          } catch {
            return []; // a method this loss does not have (no gradient): its call will say so
          }
        });
        await backend.prepare(methods);
      }
      return Object.assign(loss, { tensor: backend.tensor });
    }
    if (device !== 'webgpu') throw new TypeError(`${this.name}.to(): unknown device '${String(device)}' (expected 'js', 'wasm' or 'webgpu')`);
    const { toWebGpu } = await import('./webgpu/loss.js');
    return toWebGpu(this.def, (backend) => this.withBackend(backend), opts as import('./webgpu/interop.js').WebGpuOptions | undefined);
  }

  /** This loss, with the same options, driven by another backend (to() uses it; so does lossc/tfjs, which cannot await). */
  withBackend(backend: Backend): Loss {
    return new Loss(this.def, { ...this.options, ...Object.fromEntries(this.tensorOptions) }, backend);
  }

  /** The compiled method (default variant) this loss's calls run: shared with every loss of the same structure. */
  compiledMethod(method: Method): CompiledMethod {
    return compiled(this.def, this.options, method, this.backendVariant(method));
  }

  /**
   * What the backend asks of a compiled method: a buffer budget, only where the method's plan
   * binds more buffers in one kernel than the backend allows (then fused within the budget).
   */
  private backendVariant(method: Method, variant: MethodVariant = {}, def: LossDef = this.def): MethodVariant {
    const maxBuffers = this.backend.maxBuffers;
    if (maxBuffers === undefined) return variant;
    const plan = compiled(def, this.options, method, variant).plan;
    return plan.kernels.some((k) => kernelBufferCount(k) > maxBuffers) ? { ...variant, maxBuffers } : variant;
  }

  explain(method: Method = 'forward'): ExplainResult {
    const c = this.compiledMethod(method);
    const kernels = c.plan.kernels.map((k) => ({ name: k.name, reads: [...k.reads], writes: [...k.writes] }));
    const text = c.dumps.map((d) => `== ${d.pass}\n${d.text}`).join('\n\n');
    return { kernels, text };
  }

  /**
   * What the stabilisation stage rewrote in this loss (notes: `log(sigmoid(x)) computed as
   * logSigmoid(x) ...`) and what it could not make stable (warnings), at their source positions.
   */
  get notes(): Diagnostic[] {
    return findingsToDiagnostics(this.def.name, stableForward(compiled(this.def, this.options, 'forward').instance).findings);
  }

  /** Choose the form, bind and check the arguments, run, shape the results: runtime/binding.ts, shared with standalone modules. */
  private call(method: Method, inputs: Tensor[], gradOutput: Tensor | null, opts: CallOptions = {}): { def: LossDef; runner: MethodRunner; results: Tensor[] } {
    const options = { values: this.options as Record<string, OptionValue>, tensors: this.tensorOptions };
    const runnerFor = (form: LossDef, variant: MethodVariant): MethodRunner => {
      let byKey = this.runners.get(form);
      if (!byKey) this.runners.set(form, (byKey = new Map()));
      const key = `${method}#${methodVariantKey(variant)}`;
      let r = byKey.get(key);
      if (!r) {
        const c = compiled(form, this.options, method, this.backendVariant(method, variant, form));
        const { params, output } = c.instance;
        r = {
          outputShape: output.shape,
          params,
          results: c.results,
          gradOf: c.gradOf,
          run: (precision, args, values, outs, memo) => this.backend.run(c, precision, args, values, outs, memo),
        };
        byKey.set(key, r);
      }
      return r;
    };
    const isResident = this.backend.isResident?.bind(this.backend);
    return callLoss(this.def, options, method, inputs, gradOutput, runnerFor, opts, { cache: this.bindings, isResident });
  }
}

/** `f(a, b)` or `f([a, b], opts)`: the inputs and the parsed options. */
export function arrayForm(loss: string, method: 'forward' | 'valueAndGrad', args: readonly unknown[]): [Tensor[], CallOptions] {
  if (!Array.isArray(args[0])) return [args as Tensor[], {}];
  if (args.length > 2) throw new TypeError(`${loss}.${method}(inputs, options): takes an array of tensors and an options object, got ${args.length} arguments`);
  return [args[0] as Tensor[], parseCallOptions(loss, method, args[1])];
}
