// The one validation of a tensor at the API boundary: tensor(), every loss call (library, standalone
// module, WebGPU), gradOutput, tensor options and uploads all run validateTensor. It is O(rank): it
// reads the shape and the typed array's length and kind, never the data. Anything it lets through
// is safe for the kernels to index: a typed array of the dtype's kind holding exactly numel(shape)
// elements, with every size a non-negative integer and the count within what a typed array and a
// GPU binding can address.

import type { Tensor } from './tensor.js';

/** The most elements one tensor (argument, result, or broadcast domain) may have: kernels index with 32-bit integers. */
export const MAX_ELEMENTS = 2 ** 31 - 1;

const ARRAY_OF: Readonly<Record<string, string>> = { float32: 'Float32Array', float64: 'Float64Array', int32: 'Int32Array' };

/**
 * Data arrays that stand for tensors living elsewhere (a GPU buffer): empty on the host, so their
 * length is not compared with the shape. Only lossc's own backends add to it.
 */
export const deviceResident = new WeakSet<object>();

/** Data arrays of tensors that were released (a WebAssembly tensor's, runtime/wasm/tensor.ts), with what to say. */
export const releasedData = new WeakMap<object, string>();

const show = (x: unknown): string => {
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return `[${x.map((d) => (typeof d === 'string' ? `'${d}'` : String(d))).join(', ')}]`;
  if (ArrayBuffer.isView(x)) return Object.prototype.toString.call(x).slice(8, -1);
  if (typeof x === 'string') return `'${x.length > 40 ? `${x.slice(0, 40)}...` : x}'`;
  if (typeof x === 'object') return 'an object';
  return `${typeof x} ${String(x)}`;
};

/**
 * A shape: an array of non-negative integer sizes whose product is at most MAX_ELEMENTS. Returns
 * the element count. `what` names the tensor in the message ("tensor()", "MSELoss: argument 'input'").
 */
export function validateShape(shape: unknown, what: string): number {
  if (!Array.isArray(shape)) throw new TypeError(`${what}: shape must be an array of sizes, got ${show(shape)}`);
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== 'number') throw new TypeError(`${what}: shape ${show(shape)} has a size that is not a number (dimension ${i} is ${show(d)})`);
    if (!Number.isInteger(d) || d < 0)
      throw new RangeError(`${what}: invalid shape ${show(shape)}: sizes must be non-negative integers (dimension ${i} is ${d})`);
    if (d > MAX_ELEMENTS) throw new RangeError(`${what}: shape ${show(shape)}: dimension ${i} is larger than lossc supports (${MAX_ELEMENTS})`);
    n *= d;
  }
  if (n > MAX_ELEMENTS) throw new RangeError(`${what}: shape ${show(shape)} has ${n} elements, more than lossc supports in one tensor (${MAX_ELEMENTS})`);
  return n;
}

/** The element count of a shape lossc computed itself (a broadcast result), checked against MAX_ELEMENTS. */
export function checkElementCount(shape: readonly number[], what: string): number {
  let n = 1;
  for (const d of shape) n *= d;
  if (n > MAX_ELEMENTS)
    throw new RangeError(`${what} would have shape ${show(shape)}: ${n} elements, more than lossc supports in one tensor (${MAX_ELEMENTS})`);
  return n;
}

/**
 * `x` is a tensor lossc can run: { data, shape, dtype } with data a typed array of the dtype's kind
 * (Float32Array for float32, ...) holding exactly numel(shape) elements. `what` names it.
 */
export function validateTensor(x: unknown, what: string): asserts x is Tensor {
  if (x === null || x === undefined || typeof x !== 'object' || Array.isArray(x) || ArrayBuffer.isView(x)) {
    const hint = Array.isArray(x) || ArrayBuffer.isView(x) ? ' (make one with tensor(data, shape))' : '';
    throw new TypeError(`${what} must be a tensor ({ data, shape, dtype }), got ${show(x)}${hint}`);
  }
  const { data, shape, dtype } = x as { data?: unknown; shape?: unknown; dtype?: unknown };
  const kind = typeof dtype === 'string' ? ARRAY_OF[dtype] : undefined;
  if (!kind) throw new TypeError(`${what} has an unknown dtype ${show(dtype)} (expected 'float32', 'float64' or 'int32')`);
  if (!ArrayBuffer.isView(data)) throw new TypeError(`${what}: data must be a ${kind} for dtype ${dtype as string}, got ${show(data)}`);
  const got = Object.prototype.toString.call(data).slice(8, -1); // works across realms (a browser frame's arrays)
  if (got !== kind) throw new TypeError(`${what}: data is a ${got} but dtype is ${dtype as string} (expected a ${kind})`);
  const n = validateShape(shape, what);
  const length = (data as unknown as ArrayLike<number>).length;
  const released = releasedData.get(data);
  if (released) throw new Error(`${what} ${released}`);
  if (length !== n && !deviceResident.has(data)) throw new RangeError(`${what}: shape ${show(shape)} has ${n} elements but its data has ${length}`);
}
