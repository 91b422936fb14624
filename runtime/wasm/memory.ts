// The WebAssembly backend's memory: one WebAssembly.Memory per backend instance (shared when a
// worker pool reads it), grown when a call needs more and never shrunk, so that steady-state
// calls allocate nothing. Within one kernel call a bump arena hands out 16-byte-aligned regions.
import { MAX_PAGES } from '../../compiler/emit/wasm/kernel.js';

const PAGE = 65536;
/** the first KiB stays unused: no region starts at address 0 */
const BASE = 1024;

export class WasmMemory {
  readonly memory: WebAssembly.Memory;
  private top = BASE;
  /** the high-water mark of one call, in bytes */
  highWater = BASE;
  /** the bytes the last call used */
  lastCall = 0;

  constructor(readonly shared: boolean) {
    this.memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared } as WebAssembly.MemoryDescriptor);
  }

  reset(): void {
    this.top = BASE;
  }

  /** the end of a call: what it used */
  done(): void {
    this.lastCall = this.top;
  }

  /** `bytes` bytes, 16-aligned, growing the memory when needed. */
  alloc(bytes: number): number {
    const at = this.top;
    this.top = at + Math.ceil(bytes / 16) * 16 + 16;
    // one guard page past the last region
    const need = this.top + PAGE;
    const have = this.memory.buffer.byteLength;
    if (need > have) {
      const pages = Math.ceil((need - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES)
        throw new RangeError(
          `lossc wasm: a call needs ${Math.ceil(need / 2 ** 20)} MiB of WebAssembly memory, more than the ${(MAX_PAGES * PAGE) / 2 ** 30} GiB limit`,
        );
      // grow geometrically: a steady state reaches its size in a few calls and stays there
      this.memory.grow(Math.max(pages, Math.min(MAX_PAGES - have / PAGE, Math.ceil(have / PAGE / 4))));
    }
    if (this.top > this.highWater) this.highWater = this.top;
    return at;
  }

  get buffer(): ArrayBuffer {
    return this.memory.buffer as ArrayBuffer;
  }
}
