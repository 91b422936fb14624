/// <reference types="@webgpu/types" />
// lossc/tfjs: any lossc loss as a TensorFlow.js loss. `tfLoss(loss)` is a function of tf.Tensors
// (in the loss's own input order, torch's) that returns a tf.Tensor, with lossc's gradient
// registered through tf.customGrad: usable in optimizer.minimize, tf.variableGrads, tf.grads and
// custom training loops; `{ order: 'keras' }` takes (yTrue, yPred) as model.compile({ loss }) does.
//
// Where the tensors live decides the path, per call:
// - tfjs's cpu (or wasm) backend: the JS kernels on the tensors' own data (dataSync returns the
//   backend's arrays: no copy), value and gradients in one fused pass when the gradient is taped.
// - tfjs's webgpu backend: lossc on tfjs's own GPUDevice, reading tfjs's buffers (dataToGPU) and
//   handing its gradient buffers to tfjs (WebGPUData): no readback in a training step.
//
// Memory the tfjs way: a call creates only the tensors it returns (the value, and the gradients
// when tfjs asks for them); everything else is lossc's (typed arrays, or its GPU buffer pool).
import * as tf from '@tensorflow/tfjs-core';
import type { Loss } from './nn.js';
import type { Tensor, TensorData } from './tensor.js';
import type { InputSpec } from '../compiler/loss.js';
import { WebGpuLoss, type GpuTensor } from './webgpu/loss.js';
import { contextOf, fromGpuBuffer } from './webgpu/interop.js';

export interface TfLossOptions {
  /**
   * The inputs whose gradient lossc computes (names or positions); the others get zeros. Default:
   * every input lossc differentiates. `['input']` saves the work of a target's gradient in training.
   */
  readonly wrt?: readonly (string | number)[];
  /** 'torch' (default): the loss's own input order, e.g. (logits, labels). 'keras': (yTrue, yPred), as model.compile({ loss }) calls it. */
  readonly order?: 'torch' | 'keras';
  /**
   * tfjs holds float32 only. 'float32' (default) computes as lossc computes float32 (as torch
   * does); 'float64' computes in float64 from the float32 data on the JS path and rounds the
   * results to float32 (the webgpu path computes in float32 and refuses it).
   */
  readonly precision?: 'float32' | 'float64';
}

/** A lossc loss as a tfjs loss function. */
export interface TfLoss {
  (...inputs: tf.Tensor[]): tf.Tensor;
  /** the lossc loss it runs */
  readonly loss: Loss;
}

type TapedFn = (...args: tf.Tensor[]) => tf.Tensor;

/** Is tfjs recording for a gradient (tf.grads, variableGrads, minimize)? Outside one, only the value is computed. */
function taping(): boolean {
  const engine = tf.engine() as unknown as { isTapeOn?: () => boolean };
  return typeof engine.isTapeOn === 'function' ? engine.isTapeOn() : true;
}

const isInt = (spec: InputSpec): boolean => spec.kind === 'int';

export function tfLoss(loss: Loss, opts: TfLossOptions = {}): TfLoss {
  const l = loss as unknown as (Partial<Loss> & { forwardGpu?: unknown }) | null;
  if (l && typeof l === 'object' && typeof l.forwardGpu === 'function')
    throw new TypeError(`tfLoss(): pass the loss itself, not its .to('webgpu') form: lossc/tfjs follows tfjs's backend (on 'webgpu', tfjs's own GPUDevice)`);
  if (
    !l ||
    typeof l !== 'object' ||
    typeof l.valueAndGrad !== 'function' ||
    typeof l.withBackend !== 'function' ||
    typeof l.compiledMethod !== 'function' ||
    !l.def
  )
    throw new TypeError(`tfLoss(): loss must be a lossc loss (new nn.CrossEntropyLoss(), compile(...)), got ${loss === null ? 'null' : typeof loss}`);
  if (opts.order !== undefined && opts.order !== 'torch' && opts.order !== 'keras')
    throw new TypeError(`tfLoss(): order must be 'torch' or 'keras', got '${String(opts.order)}'`);
  if (opts.precision !== undefined && opts.precision !== 'float32' && opts.precision !== 'float64')
    throw new TypeError(`tfLoss(): precision must be 'float32' or 'float64', got '${String(opts.precision)}'`);
  const def = loss.def;
  const where = `tfLoss(${def.name})`;
  const names = def.inputs.map((i) => i.name);
  const scalar = loss.compiledMethod('forward').instance.output.shape.kind === 'scalar';
  const f64 = opts.precision === 'float64';
  const wrtOpt = opts.wrt ? { wrt: opts.wrt } : {};
  const cpu = new CpuPath(loss, where, f64, wrtOpt);
  const gpus = new WeakMap<GPUDevice, GpuPath>();

  // one customGrad'd function per path; inputs in the loss's own order
  const onCpu: TapedFn = tf.customGrad(((...args: unknown[]) =>
    cpu.call(args.slice(0, -1) as tf.Tensor[], scalar, args.at(-1) as tf.GradSaveFunc)) as never) as TapedFn;
  const onGpu = new WeakMap<GpuPath, TapedFn>();

  const fn = ((...given: tf.Tensor[]): tf.Tensor => {
    if (given.length !== names.length)
      throw new TypeError(
        `${where}: takes ${names.length} tensors (${opts.order === 'keras' ? [...names].reverse().join(', ') : names.join(', ')}), got ${given.length}`,
      );
    const inputs = opts.order === 'keras' && given.length === 2 ? [given[1]!, given[0]!] : given;
    inputs.forEach((t, i) => {
      if (!(t instanceof tf.Tensor)) throw new TypeError(`${where}: argument '${names[i]}' must be a tf.Tensor, got ${t === null ? 'null' : typeof t}`);
      if (t.dtype === 'complex64' || t.dtype === 'string')
        throw new TypeError(`${where}: argument '${names[i]}' has dtype ${t.dtype}; lossc takes float32, int32 or bool tensors`);
    });
    const backend = tf.backend() as unknown as { device?: GPUDevice };
    if (tf.getBackend() === 'webgpu' && backend.device) {
      if (f64) throw new TypeError(`${where}: precision 'float64' on tfjs's webgpu backend: WebGPU computes in float32`);
      let gpu = gpus.get(backend.device);
      if (!gpu) gpus.set(backend.device, (gpu = new GpuPath(loss, where, backend.device, wrtOpt)));
      let taped = onGpu.get(gpu);
      const path = gpu;
      if (!taped)
        onGpu.set(
          gpu,
          (taped = tf.customGrad(((...args: unknown[]) =>
            path.call(args.slice(0, -1) as tf.Tensor[], scalar, args.at(-1) as tf.GradSaveFunc)) as never) as TapedFn),
        );
      return taping() ? taped(...inputs) : gpu.value(inputs);
    }
    return taping() ? onCpu(...inputs) : cpu.value(inputs);
  }) as TfLoss;
  Object.defineProperty(fn, 'loss', { value: loss, enumerable: true });
  return fn;
}

type CustomGradResult = { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[] };

/** tfjs's cpu / wasm backends: the JS kernels over the tensors' data. */
class CpuPath {
  constructor(
    private readonly loss: Loss,
    private readonly where: string,
    private readonly f64: boolean,
    private readonly wrt: { wrt?: readonly (string | number)[] },
  ) {}

  /** A tf.Tensor as a lossc tensor: the backend's own array where the dtype fits, an explicit conversion where not. */
  private lossc(t: tf.Tensor, i: number): Tensor {
    const spec = this.loss.def.inputs[i]!;
    const data = t.dataSync() as TensorData | Uint8Array;
    if (isInt(spec)) {
      if (data instanceof Int32Array) return { data, shape: t.shape, dtype: 'int32' };
      const ints = new Int32Array(data.length);
      for (let k = 0; k < data.length; k++) {
        const v = data[k]!;
        if (!Number.isInteger(v))
          throw new TypeError(`${this.where}: argument '${spec.name}' holds class indices, but element ${k} of the ${t.dtype} tensor is ${v} (not an integer)`);
        ints[k] = v;
      }
      return { data: ints, shape: t.shape, dtype: 'int32' };
    }
    if (this.f64) return { data: Float64Array.from(data), shape: t.shape, dtype: 'float64' };
    return { data: data instanceof Float32Array ? data : Float32Array.from(data), shape: t.shape, dtype: 'float32' };
  }

  private toTf(t: Tensor): tf.Tensor {
    return tf.tensor(t.data instanceof Float32Array ? t.data : Float32Array.from(t.data), [...t.shape], 'float32');
  }

  /** The value alone (no gradient is being recorded). */
  value(inputs: tf.Tensor[]): tf.Tensor {
    return this.toTf(this.loss.forward(...inputs.map((t, i) => this.lossc(t, i))));
  }

  call(inputs: tf.Tensor[], scalar: boolean, save: tf.GradSaveFunc): CustomGradResult {
    const xs = inputs.map((t, i) => this.lossc(t, i));
    if (scalar) {
      // value and gradients in one fused pass; the gradients wait as typed arrays (no tf.Tensor
      // to leak if tfjs never asks for them)
      const { value, grads } = this.loss.valueAndGrad(xs, this.wrt);
      return {
        value: this.toTf(value),
        gradFunc: (dy) => {
          const s = dy.dataSync()[0]!;
          return inputs.map((x, i) => {
            const g = grads[i];
            if (!g) return tf.zerosLike(x);
            if (s !== 1) for (let k = 0; k < g.data.length; k++) g.data[k]! *= s;
            return this.toTf(g);
          });
        },
      };
    }
    // an unreduced loss: the gradient is a vjp with tfjs's dy, on the inputs tfjs keeps for it
    save(inputs);
    return {
      value: this.toTf(this.loss.forward(...xs)),
      gradFunc: (dy, saved) => {
        const gradOut: Tensor = {
          data: this.f64 ? Float64Array.from(dy.dataSync() as Float32Array) : (dy.dataSync() as Float32Array),
          shape: dy.shape,
          dtype: this.f64 ? 'float64' : 'float32',
        };
        const grads = this.loss.vjp(
          saved.map((t, i) => this.lossc(t, i)),
          gradOut,
          this.wrt,
        );
        return saved.map((x, i) => (grads[i] ? this.toTf(grads[i]!) : tf.zerosLike(x)));
      },
    };
  }
}

/** tfjs's webgpu backend: lossc on tfjs's GPUDevice, on tfjs's buffers. */
class GpuPath {
  private readonly gpu: WebGpuLoss;
  /** lossc buffers lent to tfjs (zero-copy gradient tensors): returned to lossc's pool once tfjs has submitted the work reading them */
  private lent: GpuTensor[] = [];
  /** 1, kept on the device for handoff() (one tensor per tfLoss and device, for good) */
  private one: tf.Tensor | null = null;
  /** a validation error of an earlier (synchronous) submission, reported by the next call */
  private failure: unknown = null;

  constructor(
    loss: Loss,
    private readonly where: string,
    private readonly device: GPUDevice,
    private readonly wrt: { wrt?: readonly (string | number)[] },
  ) {
    this.gpu = new WebGpuLoss(loss.def, (backend) => loss.withBackend(backend), contextOf(device, where));
  }

  /** tfjs's buffers for the inputs (dataToGPU submits tfjs's pending work first), cast where the loss needs another dtype. */
  private gpuInputs(inputs: tf.Tensor[]): { xs: GpuTensor[]; refs: tf.Tensor[] } {
    const refs: tf.Tensor[] = [];
    const xs = inputs.map((t, i) => {
      const spec = this.gpu.def.inputs[i];
      const want = spec && isInt(spec) ? 'int32' : 'float32';
      const src = t.dtype === want ? t : tf.cast(t, want);
      if (src !== t) refs.push(src);
      // a tensor tfjs still holds on the host (made from an array, not yet used by a kernel) goes up first
      (tf.backend() as unknown as { uploadToGPU?: (id: object) => void }).uploadToGPU?.(src.dataId);
      const { buffer, tensorRef } = src.dataToGPU() as unknown as { buffer: GPUBuffer; tensorRef: tf.Tensor };
      refs.push(tensorRef);
      return fromGpuBuffer(buffer, [...t.shape], want);
    });
    // tfjs's encoder is flushed now: what lossc lent to tfjs before has been submitted, so it may be reused
    for (const g of this.lent) g.release();
    this.lent = [];
    return { xs, refs };
  }

  private checkFailure(): void {
    if (this.failure === null) return;
    const e = this.failure;
    this.failure = null;
    throw e;
  }

  private watch(validated: Promise<void>): void {
    validated.catch((e: unknown) => (this.failure = e));
  }

  /**
   * A lossc result as a tfjs tensor of its own, `t * scale`: tfjs reads lossc's buffer in place
   * (zero copy) in one elementwise kernel whose output is tfjs's, of exactly the tensor's size
   * (tfjs reads a buffer whole: lossc's pool rounds sizes up). The lossc buffer is lent until
   * tfjs next submits its work (see gpuInputs).
   */
  private handoff(t: GpuTensor, scale?: tf.Tensor): tf.Tensor {
    const view = tf.tensor({ buffer: t.buffer, zeroCopy: true }, [...t.shape], 'float32');
    const out = tf.mul(view, scale ?? (this.one ??= tf.keep(tf.scalar(1))));
    view.dispose();
    this.lent.push(t);
    return out;
  }

  /** A one-element dy's value when tfjs holds it on the host (not yet uploaded: reading it reads no GPU memory); else undefined. */
  private hostScalar(dy: tf.Tensor): number | undefined {
    if (dy.size !== 1) return undefined;
    // tfjs-backend-webgpu's tensor map (no public API says where a tensor's data is)
    const map = (tf.backend() as unknown as { tensorMap?: { get?: (id: object) => { values?: ArrayLike<number> | null; resource?: unknown } | undefined } })
      .tensorMap;
    const data = typeof map?.get === 'function' ? map.get(dy.dataId) : undefined;
    return data && data.resource == null && data.values ? data.values[0] : undefined;
  }

  value(inputs: tf.Tensor[]): tf.Tensor {
    this.checkFailure();
    const { xs, refs } = this.gpuInputs(inputs);
    const r = this.gpu.submitGpu('forward', xs);
    this.watch(r.validated);
    tf.dispose(refs); // lossc's work is submitted: tfjs may reuse these buffers for later work
    return this.handoff(r.value!);
  }

  call(inputs: tf.Tensor[], scalar: boolean, save: tf.GradSaveFunc): CustomGradResult {
    this.checkFailure();
    if (scalar) {
      const { xs, refs } = this.gpuInputs(inputs);
      const r = this.gpu.submitGpu('valueAndGrad', xs, this.wrt);
      this.watch(r.validated);
      tf.dispose(refs);
      return {
        value: this.handoff(r.value!),
        gradFunc: (dy) => {
          // tfjs's gradient seed is tf.ones on the host: scaling by it would upload it (a buffer
          // created per step); by the 1 kept on the GPU it is the same product
          const scale = this.hostScalar(dy) === 1 ? undefined : dy;
          return inputs.map((x, i) => {
            const g = r.grads[i];
            return g ? this.handoff(g, scale) : tf.zerosLike(x);
          });
        },
      };
    }
    save(inputs);
    const { xs, refs } = this.gpuInputs(inputs);
    const r = this.gpu.submitGpu('forward', xs);
    this.watch(r.validated);
    tf.dispose(refs);
    return {
      value: this.handoff(r.value!),
      gradFunc: (dy, saved) => {
        this.checkFailure();
        const { xs: ys, refs: yrefs } = this.gpuInputs([...saved, dy]);
        const gradOutput = ys.pop()!;
        const v = this.gpu.submitGpu('vjp', ys, this.wrt, gradOutput);
        this.watch(v.validated);
        tf.dispose(yrefs);
        return saved.map((x, i) => (v.grads[i] ? this.handoff(v.grads[i]!) : tf.zerosLike(x)));
      },
    };
  }
}
