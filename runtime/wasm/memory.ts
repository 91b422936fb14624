// The WebAssembly backend's memory: one WebAssembly.Memory per backend instance (shared when a
// worker pool reads it), grown when a call needs more and never shrunk, so that steady-state
// calls allocate nothing. Within one kernel call a bump arena hands out 16-byte-aligned regions.
// Below the arena lie the caller's tensors (`loss.tensor()`, runtime/wasm/tensor.ts): regions that
// outlive calls, allocated and freed between calls (first fit, neighbours merged); the arena
// starts above the highest one.
import { MAX_PAGES } from '../../compiler/emit/wasm/kernel.js';

const PAGE = 65536;
/** the first KiB stays unused: no region starts at address 0 */
const BASE = 1024;

export class WasmMemory {
  readonly memory: WebAssembly.Memory;
  private top = BASE;
  /** where the arena starts: above every tensor region */
  private base = BASE;
  /** free gaps below `base`, by address */
  private readonly gaps: { at: number; bytes: number }[] = [];
  /** the high-water mark of one call, in bytes */
  highWater = BASE;
  /** the bytes the last call used */
  lastCall = 0;
  /**
   * elements kernel calls copied into this memory (arguments), out of it (results), and either way
   * for temporaries between kernels (a scalar or per-row value the host reads), all calls so far
   */
  readonly copied = { in: 0, out: 0, temporaries: 0 };

  constructor(readonly shared: boolean) {
    this.memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared } as WebAssembly.MemoryDescriptor);
  }

  reset(): void {
    this.top = this.base;
  }

  /** A tensor region of `bytes` bytes (16-aligned), zeroed; only between calls. */
  allocRegion(bytes: number): number {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const g = this.gaps.findIndex((g) => g.bytes >= size);
    let at: number;
    if (g >= 0) {
      const gap = this.gaps[g]!;
      at = gap.at;
      if (gap.bytes === size) this.gaps.splice(g, 1);
      else this.gaps[g] = { at: gap.at + size, bytes: gap.bytes - size };
    } else {
      at = this.base;
      this.top = this.base = at + size;
      this.alloc(0); // grow to hold it (and a guard page)
      this.top = this.base;
    }
    new Uint8Array(this.buffer, at, size).fill(0);
    return at;
  }

  /** Give back a region from allocRegion (its size as asked). */
  freeRegion(at: number, bytes: number): void {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    let i = this.gaps.findIndex((g) => g.at > at);
    if (i < 0) i = this.gaps.length;
    this.gaps.splice(i, 0, { at, bytes: size });
    // merge with the next and the previous gap
    const next = this.gaps[i + 1];
    if (next && at + size === next.at) {
      this.gaps[i]!.bytes += next.bytes;
      this.gaps.splice(i + 1, 1);
    }
    const prev = this.gaps[i - 1];
    if (prev && prev.at + prev.bytes === at) {
      prev.bytes += this.gaps[i]!.bytes;
      this.gaps.splice(i, 1);
    }
    // a gap that reaches the arena gives its bytes back to it
    const last = this.gaps[this.gaps.length - 1];
    if (last && last.at + last.bytes === this.base) {
      this.base = last.at;
      this.gaps.pop();
    }
    this.top = this.base;
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
