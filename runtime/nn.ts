// PyTorch-style loss objects over compiled graphs: `new nn.MSELoss({ reduction: 'sum' })`,
// then forward / vjp / valueAndGrad / explain. Every built-in and every custom loss goes
// through the same class: a LossDef in, kernels out, compiled once per structure and dtype.
import { checkLossNames, instantiate, structuralKey, type LossDef, type OptionValue, type LossInstance } from '../compiler/loss.js';
import { compileMethod, type CompiledMethod, type Method } from '../compiler/pipeline.js';
import type { Precision } from '../compiler/plan/kernelPlan.js';
import { compileCpuProgram, type CpuProgram } from './cpu.js';
import type { Arg } from './checks.js';
import type { Tensor } from './tensor.js';
import { callLoss, gradsByArgument, normalizeOptions, type MethodRunner } from './binding.js';

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
  readonly name: 'js' | 'webgpu';
  run(compiled: CompiledMethod, precision: Precision, args: Map<string, Arg>, params: Map<string, number>): { data: Float32Array | Float64Array; shape: number[] }[];
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

export function compiled(def: LossDef, options: Readonly<Record<string, OptionValue>>, method: Method): CompiledMethod {
  const skey = structuralKey(def, options);
  const key = `${skey}#${method}`;
  const { methods, instances } = cachesFor(def, options);
  let c = methods.get(key);
  if (!c) {
    let inst = instances.get(skey);
    if (!inst) instances.set(skey, (inst = instantiate(def, options)));
    try {
      c = compileMethod(inst, method);
    } catch (e) {
      // the passes recurse along the graph's depth: say so rather than leak the engine's words
      if (e instanceof RangeError && /call stack/i.test(e.message)) throw new RangeError(`${def.name}.${method}: the loss's expression is too deep to compile (thousands of operations in one chain); split it, e.g. sum a stack of terms instead of chaining them with '+'`);
      throw e;
    }
    methods.set(key, c);
  }
  return c;
}

const cpuPrograms = new WeakMap<CompiledMethod, Partial<Record<Precision, CpuProgram>>>();
export const cpuBackend: Backend = {
  name: 'js',
  run(c, precision, args, params) {
    let byPrecision = cpuPrograms.get(c);
    if (!byPrecision) cpuPrograms.set(c, (byPrecision = {}));
    const prog = (byPrecision[precision] ??= compileCpuProgram(c.plan, precision));
    return prog.run({ buffers: args, params });
  },
};

export class Loss {
  readonly options: Readonly<Record<string, OptionValue>>;
  private readonly tensorOptions: Map<string, Tensor>;

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

  forward(...inputs: Tensor[]): Tensor {
    return this.call('forward', inputs, null).results[0]!;
  }

  /** d sum(output * gradOutput) / d input_i, for each input (null where torch gives none). */
  vjp(inputs: Tensor[], gradOutput: Tensor): (Tensor | null)[] {
    if (!Array.isArray(inputs)) throw new TypeError(`${this.name}.vjp(inputs, gradOutput): inputs must be an array of tensors`);
    const { def, results } = this.call('vjp', inputs, gradOutput);
    return this.grads(def, results, 'vjp', inputs);
  }

  valueAndGrad(...inputs: Tensor[]): ValueAndGrad {
    const { def, results } = this.call('valueAndGrad', inputs, null);
    return { value: results[0]!, grads: this.grads(def, results.slice(1), 'valueAndGrad', inputs) };
  }

  /**
   * This loss on another backend, with the same options. 'webgpu' loads lossc's WebGPU runtime
   * only now (Dawn in Node, navigator.gpu in browsers); its methods return Promises, and it
   * rejects when no adapter exists. 'js' is this loss itself.
   */
  to(device: 'js'): Promise<Loss>;
  to(device: 'webgpu'): Promise<import('./webgpu/loss.js').WebGpuLoss>;
  async to(device: 'webgpu' | 'js'): Promise<Loss | import('./webgpu/loss.js').WebGpuLoss> {
    if (device === 'js') return this;
    if (device !== 'webgpu') throw new TypeError(`${this.name}.to(): unknown device '${String(device)}' (expected 'webgpu' or 'js')`);
    const { toWebGpu } = await import('./webgpu/loss.js');
    return toWebGpu(this.def, { ...this.options, ...Object.fromEntries(this.tensorOptions) });
  }

  explain(method: Method = 'forward'): ExplainResult {
    const c = compiled(this.def, this.options, method);
    const kernels = c.plan.kernels.map((k) => ({ name: k.name, reads: [...k.reads], writes: [...k.writes] }));
    const text = c.dumps.map((d) => `== ${d.pass}\n${d.text}`).join('\n\n');
    return { kernels, text };
  }

  /** Gradients by argument position, each shaped like the argument as given (checks may view it otherwise). */
  private grads(def: LossDef, results: Tensor[], method: Method, inputs: readonly Tensor[]): (Tensor | null)[] {
    return gradsByArgument(def, compiled(def, this.options, method).gradOf, results, inputs);
  }

  /** Choose the form, bind and check the arguments, run, shape the results: runtime/binding.ts, shared with standalone modules. */
  private call(method: Method, inputs: Tensor[], gradOutput: Tensor | null): { def: LossDef; results: Tensor[] } {
    const options = { values: this.options as Record<string, OptionValue>, tensors: this.tensorOptions };
    const runnerFor = (form: LossDef): MethodRunner => {
      const c = compiled(form, this.options, method);
      const { params, output } = c.instance;
      return { outputShape: output.shape, params, results: c.results, gradOf: c.gradOf, run: (precision, args, values) => this.backend.run(c, precision, args, values) };
    };
    const { def, results } = callLoss(this.def, options, method, inputs, gradOutput, runnerFor);
    return { def, results };
  }
}
