/// <reference types="@webgpu/types" />
// The WebGPU door for other engines: lossc on a GPUDevice the caller already has
// (`to('webgpu', { device })`), and a caller's GPUBuffer as a lossc tensor (`fromGpuBuffer`), as an
// input or as the `out` a result is written into. Nothing is copied; lossc records each call into
// one command buffer and submits it on the device's queue during the call, so it runs after the
// work the caller submitted before the call and before what they submit after it.
//
// Who destroys what: the device and the buffers you wrap stay yours (lossc never destroys them;
// destroy a buffer whenever you like after the last call that uses it). Results lossc allocates
// (GpuTensors without your `out`) are lossc's pool's: `release()` them when done, never destroy them.
import type { LosscDevice } from './device.js';
import { gpuContext, type GpuContext } from './context.js';
import { GpuTensor } from './gpuTensor.js';
import { validateShape } from '../validate.js';
import { numel } from '../../compiler/abi/strides.js';
import { shapeStr } from '../tensor.js';

export interface WebGpuOptions {
  /** a GPUDevice of yours: lossc's kernels run on it, submitted on its queue (default: lossc's own device) */
  readonly device?: GPUDevice;
}

export interface FromGpuBufferOptions {
  /** where the elements start in the buffer, in bytes: a multiple of the device's minStorageBufferOffsetAlignment (256 by default) */
  readonly offset?: number;
  /** the buffer's device: needed only to read() the tensor back */
  readonly device?: GPUDevice;
}

/** GPUBufferUsage.STORAGE, spelt as its value: Node has no GPUBufferUsage before Dawn is loaded. */
const STORAGE = 0x80;

function isDevice(x: unknown): x is GPUDevice {
  const d = x as Partial<GPUDevice> | null;
  return (
    !!d &&
    typeof d === 'object' &&
    typeof d.createBuffer === 'function' &&
    typeof d.createComputePipeline === 'function' &&
    !!d.queue &&
    !!d.limits &&
    !!d.features
  );
}

/** A caller's GPUDevice as lossc's device description (its features and limits as they are: lossc asks for nothing more). */
export function externalDevice(device: unknown, where: string): LosscDevice {
  if (!isDevice(device)) throw new TypeError(`${where}: device must be a GPUDevice, got ${device === null ? 'null' : typeof device}`);
  const info = (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const adapterInfo = info
    ? [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' ') || 'external device'
    : 'external device';
  return {
    device,
    adapterInfo,
    features: { subgroups: device.features.has('subgroups'), f16: device.features.has('shader-f16') },
    limits: device.limits,
    backend: 'external',
  };
}

/**
 * A GPUBuffer you own as a lossc tensor, without copying: f32 (float32) or i32 (int32) elements,
 * row-major, from byte `offset`. Use it as an input of forwardGpu / vjpGpu / valueAndGradGpu (or
 * the read-back methods), or as an `out` a result is written into. The buffer needs STORAGE usage
 * (and COPY_SRC to read() it). The GpuTensor owns nothing: `release()` leaves the buffer as it is.
 */
export function fromGpuBuffer(buffer: GPUBuffer, shape: readonly number[], dtype: 'float32' | 'int32' = 'float32', opts: FromGpuBufferOptions = {}): GpuTensor {
  const where = 'fromGpuBuffer()';
  const b = buffer as Partial<GPUBuffer> | null;
  if (!b || typeof b !== 'object' || typeof b.size !== 'number' || typeof b.usage !== 'number' || typeof b.destroy !== 'function')
    throw new TypeError(`${where}: buffer must be a GPUBuffer, got ${buffer === null ? 'null' : typeof buffer}`);
  const n = validateShape(shape, where);
  if (dtype !== 'float32' && dtype !== 'int32')
    throw new TypeError(`${where}: dtype must be 'float32' or 'int32' (WebGPU computes in 32 bits), got '${String(dtype)}'`);
  const offset = opts.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0 || offset % 4 !== 0)
    throw new RangeError(`${where}: offset must be a non-negative multiple of 4 bytes, got ${String(offset)}`);
  if ((buffer.usage & STORAGE) === 0)
    throw new TypeError(`${where}: the buffer was created without GPUBufferUsage.STORAGE (usage ${buffer.usage}); lossc's kernels bind it as storage`);
  if (offset + n * 4 > buffer.size)
    throw new RangeError(
      `${where}: shape ${shapeStr(shape)} (${n} elements, ${n * 4} bytes) from offset ${offset} does not fit in the buffer's ${buffer.size} bytes`,
    );
  const ctx = opts.device === undefined ? null : gpuContext(externalDevice(opts.device, `${where}: opts.device`));
  if (ctx) checkAlignment(ctx, offset, where);
  return new GpuTensor(ctx, buffer, [...shape], dtype, false, offset);
}

function checkAlignment(ctx: GpuContext, offset: number, where: string): void {
  const align = ctx.limits.minStorageBufferOffsetAlignment;
  if (offset % align !== 0)
    throw new RangeError(
      `${where}: offset ${offset} is not a multiple of this device's minStorageBufferOffsetAlignment (${align}): WebGPU binds buffers only at such offsets`,
    );
}

/** A GpuTensor used by a loss on `ctx`: one of another device's is refused; an offset must suit this device. */
export function checkOnDevice(ctx: GpuContext, t: GpuTensor, loss: string): void {
  const own = t.context;
  if (own && own.device !== ctx.device)
    throw new Error(`${loss}: a GpuTensor (shape ${shapeStr(t.shape)}) of another GPUDevice; use the device the loss runs on (to('webgpu', { device }))`);
  if (t.offset !== 0) checkAlignment(ctx, t.offset, `${loss}: a GpuTensor from fromGpuBuffer`);
  if (numel(t.shape) * 4 + t.offset > t.buffer.size) throw new RangeError(`${loss}: a GpuTensor of shape ${shapeStr(t.shape)} overruns its buffer`);
}

/** The lossc context of a caller's device (shared by every loss and wrapped buffer on it). */
export const contextOf = (device: GPUDevice, where: string): GpuContext => gpuContext(externalDevice(device, where));
