// Tensors that live in a WebAssembly backend's memory (`wasmLoss.tensor(data | shape, dtype)`).
// Their `data` is a typed-array view into the backend's WebAssembly.Memory, so a call reads such
// an argument where it lies and writes a result straight into such an `out` tensor: a training
// step over them copies nothing in or out (program.ts).
//
// Ownership and lifetime: the caller owns the tensor. Its region stays allocated until
// `release()` (no garbage-collection hook frees it); release() gives the bytes back to the
// backend, after which `data` is an empty array and passing the tensor to a call is an error
// naming the argument. The backend is shared by every loss moved to 'wasm' with the same thread
// count, so its tensors are too.
//
// Memory growth: a call may grow the memory. Where the memory is shared (Node; a cross-origin-
// isolated page), views stay valid when it grows, and `data` is the same array for the tensor's
// whole life. Elsewhere (a page that is not cross-origin isolated) growth detaches the old
// ArrayBuffer: `data` then returns a fresh view of the same elements, so read `t.data` again after
// a call rather than keeping the array.
import type { DType, Tensor, TensorData } from '../tensor.js';
import type { Loss } from '../nn.js';
import { validateShape, releasedData } from '../validate.js';

/** What a tensor needs of the backend's memory (runtime/wasm/memory.ts): its bytes and its region allocator. */
export interface TensorMemory {
  readonly buffer: ArrayBuffer;
  allocRegion(bytes: number): number;
  freeRegion(at: number, bytes: number): void;
}

const Ctor = { float32: Float32Array, float64: Float64Array, int32: Int32Array } as const;
const TYPE = { float32: 'f32', float64: 'f64', int32: 'i32' } as const;

/** A region of a backend's memory that a tensor's views cover. */
export interface Region {
  readonly mem: TensorMemory;
  readonly at: number;
  readonly type: 'f32' | 'f64' | 'i32';
  readonly tensor: WasmTensor;
}

/** Every view a WasmTensor has handed out (live or released), by view: what a call looks up. */
const regions = new WeakMap<object, Region>();

/** The region `data` is a view of, if it is a WasmTensor's (live or released). */
export const regionOf = (data: object): Region | undefined => regions.get(data);

const show = (shape: readonly number[], dtype: DType): string => `[${shape.join(', ')}] ${dtype}`;

export class WasmTensor implements Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly #mem: TensorMemory;
  readonly #at: number;
  readonly #length: number;
  #view: TensorData;
  #released = false;

  /** @internal use `wasmLoss.tensor()` */
  constructor(mem: TensorMemory, data: ArrayLike<number> | null, shape: readonly number[], dtype: DType) {
    if (!Object.hasOwn(Ctor, dtype)) throw new TypeError(`tensor(): unknown dtype '${String(dtype)}' (expected float32, float64 or int32)`);
    const n = validateShape(shape, 'tensor()');
    if (data !== null) {
      if (!Array.isArray(data) && !ArrayBuffer.isView(data))
        throw new TypeError(`tensor(): data must be an array or a typed array of numbers, or a shape with no data`);
      if (data.length !== n) throw new RangeError(`tensor(): shape [${shape.join(', ')}] has ${n} elements but ${data.length} values were given`);
    }
    this.shape = [...shape];
    this.dtype = dtype;
    this.#mem = mem;
    this.#length = n;
    this.#at = mem.allocRegion(n * Ctor[dtype].BYTES_PER_ELEMENT);
    this.#view = this.#viewNow();
    if (data !== null) this.#view.set(data);
  }

  #viewNow(): TensorData {
    const view = new Ctor[this.dtype](this.#mem.buffer, this.#at, this.#length);
    regions.set(view, { mem: this.#mem, at: this.#at, type: TYPE[this.dtype], tensor: this });
    return view;
  }

  /** The elements, in the backend's memory (empty once released). */
  get data(): TensorData {
    // a non-shared memory that grew detached the old view (its length reads 0): view it again
    if (!this.#released && this.#view.length !== this.#length) this.#view = this.#viewNow();
    return this.#view;
  }

  /** Whether release() was called. */
  get released(): boolean {
    return this.#released;
  }

  /**
   * Give the tensor's bytes back to the backend. Afterwards `data` is empty and a call given this
   * tensor throws; views of it kept from before must not be used (the bytes are reused). Idempotent.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#mem.freeRegion(this.#at, this.#length * Ctor[this.dtype].BYTES_PER_ELEMENT);
    const empty = new Ctor[this.dtype](0);
    regions.set(empty, { mem: this.#mem, at: this.#at, type: TYPE[this.dtype], tensor: this });
    releasedData.set(empty, `is a WebAssembly tensor ${show(this.shape, this.dtype)} that was released (release() gave its memory back)`);
    this.#view = empty;
  }

  toString(): string {
    return `WasmTensor(${show(this.shape, this.dtype)}${this.#released ? ', released' : ''})`;
  }
}

/** What `await loss.to('wasm')` adds to a loss: tensors in its backend's memory. */
export interface WasmTensors {
  /**
   * A tensor in the backend's WebAssembly memory: `tensor(data, shape, dtype?)` copies `data` in
   * once (dtype from a typed array, else float32); `tensor(shape, dtype?)` is zeros. Calls read
   * it and write into it (as `out`) where it lies, with no copy. Free it with `release()`.
   */
  tensor(data: ArrayLike<number>, shape: readonly number[], dtype?: DType): WasmTensor;
  tensor(shape: readonly number[], dtype?: DType): WasmTensor;
}

/** What `await loss.to('wasm')` gives: the loss on the WebAssembly backend, with `tensor()` for its memory. */
export type WasmLoss = Loss & WasmTensors;

/** `tensor()` over a backend's memory. */
export function tensorFactory(mem: TensorMemory): WasmTensors['tensor'] {
  return (a: ArrayLike<number> | readonly number[], b?: readonly number[] | DType, c?: DType): WasmTensor => {
    if (Array.isArray(b) || ArrayBuffer.isView(b))
      return new WasmTensor(mem, a, b as readonly number[], c ?? (a instanceof Float64Array ? 'float64' : a instanceof Int32Array ? 'int32' : 'float32'));
    return new WasmTensor(mem, null, a as readonly number[], (b as DType | undefined) ?? 'float32');
  };
}

/**
 * The check a call makes before it runs: every argument and `out` array that is a WasmTensor's
 * view must be a live tensor of this memory. `label` names it in the error.
 */
export function checkResident(mem: TensorMemory, data: object, label: string): void {
  const r = regions.get(data);
  if (!r) return;
  if (r.tensor.released)
    throw new Error(`${label} is a WebAssembly tensor ${show(r.tensor.shape, r.tensor.dtype)} that was released (release() gave its memory back)`);
  if (r.mem !== mem)
    throw new Error(
      `${label} is a WebAssembly tensor ${show(r.tensor.shape, r.tensor.dtype)} of another wasm backend (another thread count): allocate it with this loss's tensor(), or pass an ordinary tensor (tensor(t.data.slice(), t.shape))`,
    );
}
