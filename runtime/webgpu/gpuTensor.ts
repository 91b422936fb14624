/// <reference types="@webgpu/types" />
// A tensor in a GPU buffer. Its own file (not loss.ts) so that `import { GpuTensor, fromGpuBuffer }
// from 'lossc'` does not pull the WebGPU runtime into the main bundle: to('webgpu') loads that.
import type { Tensor } from '../tensor.js';
import type { GpuContext } from './context.js';
import { numel } from '../../compiler/abi/strides.js';

/**
 * A tensor in a GPU buffer: f32 or i32 elements, row-major, from byte `offset` of `buffer`.
 *
 * Ownership: a GpuTensor lossc made (`upload`, the results of forwardGpu / vjpGpu /
 * valueAndGradGpu) owns a buffer of lossc's pool: `release()` returns it (a GpuTensor that is
 * garbage-collected is released too); never destroy its buffer yourself. A GpuTensor over your
 * buffer (`fromGpuBuffer`, or your `out` tensors) owns nothing: `release()` only marks it unusable,
 * and the buffer stays yours to destroy, after the last call that uses it was made (lossc submits
 * its work during the call, on the device's queue, so a buffer destroyed later is safe).
 */
export class GpuTensor {
  private released = false;

  constructor(
    /** the device's lossc context; null for a wrapped buffer whose device was not given (it cannot read()) */
    private readonly ctx: GpuContext | null,
    readonly buffer: GPUBuffer,
    readonly shape: readonly number[],
    readonly dtype: 'float32' | 'int32',
    private readonly owner: boolean,
    /** where the elements start in `buffer`, in bytes */
    readonly offset: number = 0,
  ) {
    if (owner && ctx) finalizer.register(this, { ctx, buffer }, this);
  }

  get size(): number {
    return numel(this.shape);
  }

  get isReleased(): boolean {
    return this.released;
  }

  /** The lossc context of the device this tensor's buffer belongs to (null when unknown). */
  get context(): GpuContext | null {
    return this.ctx;
  }

  /** Copy the contents back to the host. */
  async read(): Promise<Tensor> {
    this.check('read');
    if (!this.ctx) throw new Error(`lossc: read() of a GpuTensor over your buffer needs its device: fromGpuBuffer(buffer, shape, dtype, { device })`);
    const bytes = this.size * 4;
    const { device, pool } = this.ctx;
    const staging = pool.acquire(Math.max(bytes, 4), GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'lossc read');
    const encoder = device.createCommandEncoder();
    if (bytes > 0) encoder.copyBufferToBuffer(this.buffer, this.offset, staging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const raw = staging.getMappedRange(0, Math.max(bytes, 4)).slice(0, bytes);
    staging.unmap();
    pool.release(staging);
    const data = this.dtype === 'int32' ? new Int32Array(raw) : new Float32Array(raw);
    return { data, shape: [...this.shape], dtype: this.dtype };
  }

  /** Return the buffer to lossc's pool (a buffer lossc does not own stays as it is); the GpuTensor may not be used afterwards. */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.owner && this.ctx) {
      finalizer.unregister(this);
      this.ctx.pool.release(this.buffer);
    }
  }

  check(what: string): void {
    if (this.released) throw new Error(`lossc: ${what} of a released GpuTensor (shape [${this.shape.join(', ')}])`);
  }
}

const finalizer = new FinalizationRegistry<{ ctx: GpuContext; buffer: GPUBuffer }>(({ ctx, buffer }) => ctx.pool.release(buffer));

export const isGpuTensor = (x: unknown): x is GpuTensor => x instanceof GpuTensor;
