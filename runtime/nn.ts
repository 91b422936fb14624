// PyTorch-style loss objects over compiled graphs: `new nn.MSELoss({ reduction: 'sum' })`,
// then forward / vjp / valueAndGrad / explain. Every built-in and every custom loss goes
// through the same class: a LossDef in, kernels out, compiled once per structure and dtype.
import { instantiate, structuralKey, type LossDef, type OptionValue, type LossInstance } from '../compiler/loss.js';
import { compileMethod, type CompiledMethod, type Method } from '../compiler/pipeline.js';
import { resolveShape, ShapeError } from '../compiler/ir/shape.js';
import type { Precision } from '../compiler/plan/kernelPlan.js';
import { compileCpuProgram, type CpuProgram } from './cpu.js';
import { applyChecks, type Arg } from './checks.js';
import { isTensor, shapeStr, type Tensor } from './tensor.js';
import { sameDims } from './strides.js';

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

/** Compiled methods per definition, by structure and method: every instance with the same structure shares them. */
const methodCache = new WeakMap<LossDef, Map<string, CompiledMethod>>();
const instanceCache = new WeakMap<LossDef, Map<string, LossInstance>>();

export function compiled(def: LossDef, options: Readonly<Record<string, OptionValue>>, method: Method): CompiledMethod {
  const skey = structuralKey(def, options);
  const key = `${skey}#${method}`;
  let methods = methodCache.get(def);
  if (!methods) methodCache.set(def, (methods = new Map()));
  let c = methods.get(key);
  if (!c) {
    let instances = instanceCache.get(def);
    if (!instances) instanceCache.set(def, (instances = new Map()));
    let inst = instances.get(skey);
    if (!inst) instances.set(skey, (inst = instantiate(def, options)));
    methods.set(key, (c = compileMethod(inst, method)));
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
    const c = compiled(def, this.options, method);
    const out: (Tensor | null)[] = def.inputs.map(() => null);
    c.gradOf.forEach((inputIndex, k) => {
      if (inputIndex < out.length) out[inputIndex] = { ...results[k]!, shape: [...inputs[inputIndex]!.shape] };
    });
    return out;
  }

  private call(method: Method, inputs: Tensor[], gradOutput: Tensor | null): { def: LossDef; results: Tensor[] } {
    const def = this.formFor(inputs, method);
    const c = compiled(def, this.options, method);
    const { args, precision, unbatched } = this.bind(def, inputs, method);
    try {
      const outShape = resolveShape(c.instance.output.shape, new Map([...args].map(([k, v]) => [k, v.shape] as const)));
      // an unbatched call computes with a batch of one; its 'none' result has no batch axis
      const shownShape = unbatched && outShape.length > 0 ? outShape.slice(1) : outShape;
      if (gradOutput) {
        if (!isTensor(gradOutput)) throw new TypeError(`${def.name}.vjp: gradOutput must be a tensor`);
        if (!sameDims(gradOutput.shape, shownShape)) throw new RangeError(`${def.name}.vjp: gradOutput has shape ${shapeStr(gradOutput.shape)} but the loss output has shape ${shapeStr(shownShape)}`);
        if (gradOutput.dtype !== (precision === 'f32' ? 'float32' : 'float64')) throw new TypeError(`${def.name}.vjp: gradOutput has dtype ${gradOutput.dtype} but the inputs are ${precision === 'f32' ? 'float32' : 'float64'}`);
        args.set('grad_output', { data: gradOutput.data, shape: outShape });
      }
      const params = new Map<string, number>();
      for (const p of c.instance.params) params.set(p, this.options[p] as number);
      const results = this.backend.run(c, precision, args, params);
      const dtype = precision === 'f32' ? 'float32' : 'float64';
      return {
        def,
        results: results.map((r, i) => ({ data: r.data, shape: i === 0 && c.results[0] === 'value' ? [...shownShape] : r.shape, dtype })),
      };
    } catch (e) {
      if (e instanceof ShapeError) throw new RangeError(`${def.name}: ${e.message}`);
      throw e;
    }
  }

  /** The form of the loss these tensors fit (index or probability targets, float or int labels). */
  private formFor(inputs: readonly Tensor[], method: Method): LossDef {
    const forms = [this.def, ...(this.def.overloads ?? [])];
    if (forms.length === 1) return this.def;
    const fits = (d: LossDef): boolean => d.inputs.every((spec, i) => !isTensor(inputs[i]) || (inputs[i]!.dtype === 'int32') === (spec.kind === 'int'));
    return forms.find(fits) ?? this.def; // bind() then names what does not fit
  }

  /** Check the arguments (count, dtypes, data-dependent checks) and name them as the graph does. */
  private bind(def: LossDef, inputs: Tensor[], method: Method): { args: Map<string, Arg>; precision: Precision; unbatched: boolean } {
    const names = def.inputs.map((i) => i.name);
    const sig = `${def.name}.${method}(${names.join(', ')})`;
    if (inputs.length !== def.inputs.length) throw new TypeError(`${sig} takes ${def.inputs.length} tensors, got ${inputs.length}`);
    let floatDtype: string | null = null;
    const args = new Map<string, Arg>();
    const take = (name: string, t: unknown, kind: 'float' | 'int'): void => {
      if (!isTensor(t)) throw new TypeError(`${sig}: argument '${name}' must be a tensor (got ${t === null ? 'null' : typeof t})`);
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
    for (const [name, t] of this.tensorOptions) take(name, t, 'float');
    if (!floatDtype) throw new TypeError(`${sig}: no floating-point argument`);
    const { unbatched } = def.checks ? applyChecks(def.name, def.checks, args, this.options) : { unbatched: false };
    checkDerivedShapes(def, args);
    return { args, precision: floatDtype === 'float32' ? 'f32' : 'f64', unbatched };
  }
}

/** An input declared with another's shape (see InputSpec.shapeLike) must have it. */
function checkDerivedShapes(def: LossDef, args: Map<string, Arg>): void {
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

function normalizeOptions(def: LossDef, given: Record<string, unknown>): { values: Record<string, OptionValue>; tensors: Map<string, Tensor> } {
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
        else if (!isTensor(v)) throw new TypeError(`${def.name}: option '${o.name}' must be a tensor or null`);
        else {
          if (v.dtype === 'int32') throw new TypeError(`${def.name}: option '${o.name}' must be a floating-point tensor, got int32`);
          values[o.name] = { shape: v.shape };
          tensors.set(o.name, v);
        }
        break;
    }
  }
  return { values, tensors };
}
