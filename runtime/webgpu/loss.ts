/// <reference types="@webgpu/types" />
// A loss on the GPU: `await new nn.MSELoss().to('webgpu')`. The same checks, shapes and result
// layout as the JS backend (it drives an ordinary Loss whose backend records GPU work instead of
// running JS kernels), and every method returns a Promise.
//
// Two ways to call it:
// - forward / vjp / valueAndGrad take Tensors (or GpuTensors) and resolve to host Tensors with
//   float32 data, like the JS backend's results.
// - forwardGpu / vjpGpu / valueAndGradGpu keep everything on the GPU for a training step: inputs
//   may be GpuTensors (`loss.upload(t)`, or results of earlier calls), results are GpuTensors
//   (a GPUBuffer, a shape, a dtype); nothing is read back until you call `read()`. Release them
//   with `release()` when done (their buffers return to lossc's pool; a GpuTensor that is
//   garbage-collected is released too). Checks that read values (BCELoss's input range,
//   GaussianNLLLoss's var >= 0, class indices in range) cannot run on GPU-resident inputs and are
//   skipped for them; shape checks still run.
//
// Both take the training-step options of the JS backend (runtime/callOptions.ts): `wrt`, `out`
// (host Tensors for the first way, GpuTensors for the second: results are written into their
// buffers and the same objects returned) and `accumulate` (added into out.grads on the GPU).
import type { Backend, ExplainResult, Loss } from '../nn.js';
import type { CallOptions, ForwardOptions } from '../callOptions.js';
import type { LossDef, OptionValue } from '../../compiler/loss.js';
import type { CompiledMethod, Method } from '../../compiler/pipeline.js';
import type { Precision } from '../../compiler/plan/kernelPlan.js';
import type { Arg } from '../checks.js';
import type { Tensor } from '../tensor.js';
import { deviceResident, validateTensor } from '../validate.js';
import { numel } from '../../compiler/abi/strides.js';
import { lastDeviceAttempts, requestDevice } from './device.js';
import { gpuContext, type GpuContext } from './context.js';
import { WebGpuProgram, type CallStats, type GivenBuffer, type GpuValue, type Submitted } from './program.js';
import { wgslModules, type WgslModules } from '../../compiler/emit/wgslModules.js';
import { GpuTensor, isGpuTensor } from './gpuTensor.js';
import { checkOnDevice, externalDevice, type WebGpuOptions } from './interop.js';

export { GpuTensor, isGpuTensor };

export type TensorArg = Tensor | GpuTensor;

/** The training-step options with GPU-resident out tensors (for forwardGpu / vjpGpu / valueAndGradGpu). */
export interface GpuCallOptions {
  readonly wrt?: readonly (string | number)[];
  readonly out?: { readonly value?: GpuTensor | null; readonly grads?: readonly (GpuTensor | null | undefined)[] };
  readonly accumulate?: boolean;
}

export interface GpuValueAndGrad {
  readonly value: GpuTensor;
  readonly grads: (GpuTensor | null)[];
}

interface Pending {
  readonly readback: boolean;
  submitted?: Submitted;
  /** host mode: the arrays handed to the Loss, filled when the readback lands */
  arrays: Float32Array[];
}

export class WebGpuLoss {
  private readonly inner: Loss;
  private pending: Pending | null = null;
  private readonly programs = new WeakMap<CompiledMethod, WebGpuProgram>();
  /** stand-in data arrays for GPU-resident arguments and results (`given`: the caller's out tensor) */
  private readonly stands = new WeakMap<object, { buffer: GPUBuffer; offset?: number; tensor?: GpuTensor; given?: GpuTensor }>();
  /** kernels and dispatches of the last call */
  lastStats: CallStats | null = null;

  /**
   * `onBackend` makes the host-side Loss this one drives (the caller's: Loss.to passes one with
   * the same definition and options), so this module needs nothing of nn.ts at run time.
   */
  constructor(
    readonly def: LossDef,
    onBackend: (backend: Backend) => Loss,
    readonly ctx: GpuContext,
  ) {
    const backend: Backend = {
      name: 'webgpu',
      run: (c, precision, args, params, outs) => this.execute(c, precision, args, params, outs),
      isResident: (data) => this.stands.has(data),
      maxBuffers: ctx.limits.maxStorageBuffersPerShaderStage,
    };
    this.inner = onBackend(backend);
  }

  get name(): string {
    return this.def.name;
  }

  get options(): Readonly<Record<string, OptionValue>> {
    return this.inner.options;
  }

  /** The stabilisation stage's notes and warnings (the same as on the JS backend: one graph). */
  get notes(): Loss['notes'] {
    return this.inner.notes;
  }

  /** The loss, read back. Array form: `forward(inputs, { out })` (a host tensor, filled and returned). */
  async forward(...inputs: TensorArg[]): Promise<Tensor>;
  async forward(inputs: TensorArg[], opts?: { out?: Tensor | null }): Promise<Tensor>;
  async forward(...args: unknown[]): Promise<Tensor> {
    const [inputs, opts] = arrayForm(args);
    return this.host(inputs, [], (ts) => this.inner.forward(ts, hostOut(this.name, opts) as ForwardOptions));
  }

  /** d sum(output * gradOutput) / d input_i, for each input (null where torch gives none, or outside opts.wrt). */
  async vjp(inputs: TensorArg[], gradOutput: TensorArg, opts?: CallOptions): Promise<(Tensor | null)[]> {
    if (!Array.isArray(inputs)) throw new TypeError(`${this.name}.vjp(inputs, gradOutput): inputs must be an array of tensors`);
    return this.host(inputs, [gradOutput], (ts, [g]) => this.inner.vjp(ts, g!, hostOut(this.name, opts)));
  }

  /** The loss and its gradients, read back. Array form: `valueAndGrad(inputs, { wrt, out, accumulate })` with host out tensors. */
  async valueAndGrad(...inputs: TensorArg[]): Promise<{ value: Tensor; grads: (Tensor | null)[] }>;
  async valueAndGrad(inputs: TensorArg[], opts?: CallOptions): Promise<{ value: Tensor; grads: (Tensor | null)[] }>;
  async valueAndGrad(...args: unknown[]): Promise<{ value: Tensor; grads: (Tensor | null)[] }> {
    const [inputs, opts] = arrayForm(args);
    return this.host(inputs, [], (ts) => this.inner.valueAndGrad(ts, hostOut(this.name, opts)));
  }

  async explain(method: Method = 'forward'): Promise<ExplainResult> {
    return this.inner.explain(method);
  }

  /** forward, with the result left on the GPU (written into `opts.out`, a GpuTensor, when given). */
  async forwardGpu(...inputs: TensorArg[]): Promise<GpuTensor>;
  async forwardGpu(inputs: TensorArg[], opts?: { out?: GpuTensor | null }): Promise<GpuTensor>;
  async forwardGpu(...args: unknown[]): Promise<GpuTensor> {
    const [inputs, opts] = arrayForm(args);
    return this.device(
      inputs,
      [],
      (ts) => this.inner.forward(ts, this.gpuOut(opts) as ForwardOptions),
      (t) => this.wrap(t)!,
    );
  }

  async vjpGpu(inputs: TensorArg[], gradOutput: TensorArg, opts?: GpuCallOptions): Promise<(GpuTensor | null)[]> {
    return this.device(
      inputs,
      [gradOutput],
      (ts, [g]) => this.inner.vjp(ts, g!, this.gpuOut(opts)),
      (gs) => gs.map((g) => this.wrap(g)),
    );
  }

  /**
   * valueAndGrad, with the value and gradients left on the GPU: the fused step of a training loop.
   * Array form: `valueAndGradGpu(inputs, { wrt, out: { value, grads }, accumulate })`, out as GpuTensors.
   */
  async valueAndGradGpu(...inputs: TensorArg[]): Promise<GpuValueAndGrad>;
  async valueAndGradGpu(inputs: TensorArg[], opts?: GpuCallOptions): Promise<GpuValueAndGrad>;
  async valueAndGradGpu(...args: unknown[]): Promise<GpuValueAndGrad> {
    const [inputs, opts] = arrayForm(args);
    return this.device(
      inputs,
      [],
      (ts) => this.inner.valueAndGrad(ts, this.gpuOut(opts)),
      (r) => ({ value: this.wrap(r.value)!, grads: r.grads.map((g) => this.wrap(g)) }),
    );
  }

  /**
   * A GPU-resident call submitted now, its results returned at once rather than as a Promise: for
   * hosts whose own call must return synchronously (tfjs's customGrad, lossc/tfjs). The same work
   * as forwardGpu / vjpGpu / valueAndGradGpu; `validated` rejects if the device refused it (the
   * results are then garbage). `gradOutput` is vjp's.
   */
  submitGpu(
    method: 'forward' | 'vjp' | 'valueAndGrad',
    inputs: TensorArg[],
    opts?: GpuCallOptions,
    gradOutput?: TensorArg,
  ): { value: GpuTensor | null; grads: (GpuTensor | null)[]; validated: Promise<void> } {
    if (method === 'vjp' && gradOutput === undefined) throw new TypeError(`${this.name}.submitGpu('vjp'): gradOutput is required`);
    const extra = method === 'vjp' ? [gradOutput!] : [];
    const { out, pending } = this.capture(inputs, extra, false, (ts, [g]) =>
      method === 'forward'
        ? this.inner.forward(ts, this.gpuOut(opts) as ForwardOptions)
        : method === 'vjp'
          ? this.inner.vjp(ts, g!, this.gpuOut(opts))
          : this.inner.valueAndGrad(ts, this.gpuOut(opts)),
    );
    const validated = pending.submitted!.validated;
    if (method === 'forward') return { value: this.wrap(out as Tensor), grads: [], validated };
    if (method === 'vjp') return { value: null, grads: (out as (Tensor | null)[]).map((g) => this.wrap(g)), validated };
    const r = out as { value: Tensor; grads: (Tensor | null)[] };
    return { value: this.wrap(r.value), grads: r.grads.map((g) => this.wrap(g)), validated };
  }

  /** Put a host tensor on the GPU (float32 or int32). */
  upload(t: Tensor): GpuTensor {
    validateTensor(t, `${this.name}.upload: the tensor`);
    if (t.dtype === 'float64') throw new TypeError(`${this.name}.upload: WebGPU computes in float32; got a float64 tensor`);
    const buffer = this.uploadData(t.data as Float32Array | Int32Array);
    return new GpuTensor(this.ctx, buffer, [...t.shape], t.dtype, true);
  }

  /** Standalone WGSL modules and their manifest for one method (what `lossc compile --target wgsl` writes). */
  wgsl(method: Method = 'valueAndGrad'): WgslModules {
    return wgslModules(this.compiledFor(method), { subgroups: this.ctx.subgroups });
  }

  // ---------------------------------------------------------------- internals

  /** The compiled method calls run (nn's cache: shared with the JS backend and explain). */
  private compiledFor(method: Method): CompiledMethod {
    return this.inner.compiledMethod(method);
  }

  private async host<T>(inputs: readonly TensorArg[], extra: readonly TensorArg[], call: (ts: Tensor[], extra: Tensor[]) => T): Promise<T> {
    const { out, pending } = this.capture(inputs, extra, true, call);
    const data = await pending.submitted!.data!;
    pending.arrays.forEach((a, i) => a.set(data[i]!));
    return out;
  }

  private async device<T, R>(
    inputs: readonly TensorArg[],
    extra: readonly TensorArg[],
    call: (ts: Tensor[], extra: Tensor[]) => T,
    convert: (out: T) => R,
  ): Promise<R> {
    const { out, pending } = this.capture(inputs, extra, false, call);
    try {
      await pending.submitted!.validated;
    } catch (e) {
      for (const r of pending.submitted!.results) this.ctx.pool.release(r.value.buffer);
      throw e;
    }
    return convert(out);
  }

  private capture<T>(
    inputs: readonly TensorArg[],
    extra: readonly TensorArg[],
    readback: boolean,
    call: (ts: Tensor[], extra: Tensor[]) => T,
  ): { out: T; pending: Pending } {
    const pending: Pending = { readback, arrays: [] };
    this.pending = pending;
    let out: T;
    try {
      out = call(
        inputs.map((a) => this.standIn(a)),
        extra.map((a) => this.standIn(a)),
      );
    } finally {
      this.pending = null;
    }
    if (!pending.submitted) throw new Error(`internal: ${this.name}: no GPU work was recorded`);
    this.lastStats = pending.submitted.stats;
    return { out, pending };
  }

  /** A GpuTensor seen by the Loss as a tensor with empty data of its dtype (checks that read values see none). */
  private standIn(a: TensorArg): Tensor {
    if (!isGpuTensor(a)) return a;
    a.check(`${this.name}: an argument`);
    checkOnDevice(this.ctx, a, this.name);
    const data = a.dtype === 'int32' ? new Int32Array(0) : new Float32Array(0);
    deviceResident.add(data); // its elements are in the GPU buffer: the boundary check skips the length
    this.stands.set(data, { buffer: a.buffer, offset: a.offset });
    return { data, shape: a.shape, dtype: a.dtype };
  }

  /** Options with GpuTensor outs, as the Loss sees them: their stand-ins (host tensors are refused: the results stay on the GPU). */
  private gpuOut(opts: unknown): CallOptions {
    if (opts === undefined || opts === null || typeof opts !== 'object') return opts as CallOptions;
    const o = opts as { out?: unknown };
    if (!o.out || typeof o.out !== 'object') return opts as CallOptions;
    const given = (t: unknown, label: string): Tensor | null | undefined => {
      if (t === undefined || t === null) return t;
      if (!isGpuTensor(t))
        throw new TypeError(`${this.name}: ${label} must be a GpuTensor (the results stay on the GPU; use valueAndGrad / vjp / forward for host tensors)`);
      if (t.dtype !== 'float32') throw new TypeError(`${this.name}: ${label} has dtype ${t.dtype} but the result is float32`);
      const stand = this.standIn(t);
      this.stands.get(stand.data)!.given = t;
      return stand;
    };
    if (isGpuTensor(o.out)) return { ...(opts as CallOptions), out: given(o.out, 'out') as never };
    const out = o.out as { value?: unknown; grads?: unknown };
    return {
      ...(opts as CallOptions),
      out: {
        ...out,
        ...(out.value !== undefined ? { value: given(out.value, 'out.value') } : {}),
        ...(Array.isArray(out.grads) ? { grads: out.grads.map((g, i) => given(g, `out.grads[${i}]`)) } : {}),
      },
    } as CallOptions;
  }

  private wrap(t: Tensor | null): GpuTensor | null {
    if (t === null) return null;
    const s = this.stands.get(t.data);
    if (!s) throw new Error(`internal: ${this.name}: a result that is not on the GPU`);
    if (s.given) return s.given; // the caller's out tensor, written in place
    // two results may share a buffer: the first GpuTensor owns it
    const owner = !s.tensor;
    const g = new GpuTensor(this.ctx, s.buffer, [...t.shape], 'float32', owner);
    s.tensor ??= g;
    return g;
  }

  private uploadData(data: Float32Array | Int32Array): GPUBuffer {
    const { device, pool } = this.ctx;
    const buffer = pool.acquire(Math.max(data.byteLength, 4), GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, 'lossc input');
    if (data.byteLength > 0) device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  /** The Loss's backend: record the GPU work for one compiled method and hand back result arrays. */
  private execute(
    c: CompiledMethod,
    precision: Precision,
    args: Map<string, Arg>,
    params: Map<string, number>,
    outs: readonly (Float32Array | Float64Array | undefined)[],
  ): { data: Float32Array; shape: number[] }[] {
    const pending = this.pending;
    if (!pending) throw new Error(`internal: ${this.name}: GPU work outside a call`);
    if (precision !== 'f32') {
      const name = [...args].find(([, a]) => a.data instanceof Float64Array)?.[0] ?? 'input';
      throw new TypeError(`${this.name}.${c.method}: WebGPU computes in float32; got float64 for '${name}'`);
    }
    let prog = this.programs.get(c);
    if (!prog) this.programs.set(c, (prog = new WebGpuProgram(this.ctx, c.plan)));
    const inputs = new Map<string, GpuValue>();
    const uploads: GPUBuffer[] = [];
    for (const [name, a] of args) {
      const s = this.stands.get(a.data as object);
      if (s) inputs.set(name, { buffer: s.buffer, shape: a.shape, offset: s.offset ?? 0 });
      else {
        const buffer = this.uploadData(a.data as Float32Array | Int32Array);
        uploads.push(buffer);
        inputs.set(name, { buffer, shape: a.shape });
      }
    }
    // caller-owned results: GpuTensors (their stand-ins) are written in place on the GPU; host
    // arrays (the read-back methods) are filled when the readback lands
    const outputs = new Map<string, GivenBuffer>();
    outs.forEach((o, i) => {
      const s = o && this.stands.get(o);
      if (s) outputs.set(c.plan.results[i]!, { buffer: s.buffer, offset: s.offset ?? 0 });
    });
    let submitted: Submitted;
    try {
      submitted = prog.submit(inputs, params, pending.readback, outputs);
    } finally {
      for (const b of uploads) this.ctx.pool.release(b); // submitted (or abandoned): safe to reuse
    }
    pending.submitted = submitted;
    return submitted.results.map((r, i) => {
      const shape = [...r.value.shape];
      const out = outs[i];
      if (pending.readback) {
        const data = out instanceof Float32Array && !this.stands.has(out) ? out : new Float32Array(numel(shape));
        pending.arrays.push(data);
        return { data, shape };
      }
      if (out && this.stands.has(out)) return { data: out as Float32Array, shape };
      const data = new Float32Array(0);
      this.stands.set(data, { buffer: r.value.buffer });
      return { data, shape };
    });
  }
}

/** `loss.to('webgpu')`: the loss on the process's WebGPU device, or on `opts.device` (the caller's). */
export async function toWebGpu(def: LossDef, onBackend: (backend: Backend) => Loss, opts: WebGpuOptions = {}): Promise<WebGpuLoss> {
  if (opts.device !== undefined) return new WebGpuLoss(def, onBackend, gpuContext(externalDevice(opts.device, `${def.name}.to('webgpu', { device })`)));
  const gpu = await requestDevice();
  if (!gpu)
    throw new Error(
      `lossc: no WebGPU adapter is available. Tried:\n  - ${lastDeviceAttempts().join('\n  - ')}\n(no GPU? run .ci/install-webgpu.sh for Mesa lavapipe, Vulkan on the CPU)`,
    );
  return new WebGpuLoss(def, onBackend, gpuContext(gpu));
}

/** `f(a, b)` or `f([a, b], opts)`. */
function arrayForm(args: readonly unknown[]): [TensorArg[], unknown] {
  return Array.isArray(args[0]) ? [args[0] as TensorArg[], args[1]] : [args as TensorArg[], undefined];
}

/** Options for the read-back methods: out tensors are host tensors (a GpuTensor there is refused). */
function hostOut(loss: string, opts: unknown): CallOptions {
  const o = opts as { out?: unknown } | undefined;
  const out = o?.out as { value?: unknown; grads?: unknown[] } | undefined;
  const gpu = out && (isGpuTensor(out) || isGpuTensor(out.value) || (Array.isArray(out.grads) && out.grads.some(isGpuTensor)));
  if (gpu)
    throw new TypeError(`${loss}: out tensors of forward / vjp / valueAndGrad are host tensors; for GpuTensors use forwardGpu / vjpGpu / valueAndGradGpu`);
  return (opts ?? {}) as CallOptions;
}
