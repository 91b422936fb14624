/// <reference types="@webgpu/types" />
// GPU buffers are reused across calls instead of created and destroyed each time. Reuse is safe
// as soon as a call is submitted: every later use (a writeBuffer, a kernel writing it) goes
// through the same queue, which runs in submission order.

/** Sizes are bucketed (powers of two up to 1 MiB, then whole MiB) so that similar calls share buffers. */
export function bucket(bytes: number): number {
  const MiB = 1 << 20;
  if (bytes <= 256) return 256;
  if (bytes <= MiB) return 2 ** Math.ceil(Math.log2(bytes));
  return Math.ceil(bytes / MiB) * MiB;
}

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private freeBytes = 0;

  constructor(
    private readonly device: GPUDevice,
    /** idle bytes kept for reuse; beyond this, released buffers are destroyed */
    private readonly keepBytes = 1 << 30,
  ) {}

  acquire(bytes: number, usage: GPUBufferUsageFlags, label?: string): GPUBuffer {
    const size = bucket(bytes);
    const list = this.free.get(`${usage}:${size}`);
    const b = list?.pop();
    if (b) {
      this.freeBytes -= size;
      return b;
    }
    return this.device.createBuffer({ size, usage, ...(label ? { label } : {}) });
  }

  release(b: GPUBuffer): void {
    if (this.freeBytes + b.size > this.keepBytes) {
      b.destroy();
      return;
    }
    const key = `${b.usage}:${b.size}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(b);
    this.freeBytes += b.size;
  }

  /** Destroy every idle buffer. */
  clear(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.freeBytes = 0;
  }
}
