// The minimal Tensor: a typed array, a shape, a dtype. Row-major, contiguous.
import { validateShape } from './validate.js';

export type DType = 'float32' | 'float64' | 'int32';
export type TensorData = Float32Array | Float64Array | Int32Array;

export interface Tensor {
  readonly data: TensorData;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

const ctor = { float32: Float32Array, float64: Float64Array, int32: Int32Array } as const;

/** The dtype a typed array carries (Int32Array -> int32, Float64Array -> float64, Float32Array -> float32); plain arrays and other typed arrays: float32. */
export function dtypeOf(data: ArrayLike<number>): DType {
  return data instanceof Int32Array ? 'int32' : data instanceof Float64Array ? 'float64' : 'float32';
}

/** What may be given as a tensor's data: an array or typed array of numbers. */
function checkData(data: unknown, what: string): asserts data is ArrayLike<number> {
  if (!Array.isArray(data) && !ArrayBuffer.isView(data))
    throw new TypeError(`${what}: data must be an array or a typed array of numbers, got ${data === null ? 'null' : typeof data}`);
  if (Array.isArray(data))
    for (let i = 0; i < data.length; i++) if (typeof data[i] !== 'number') throw new TypeError(`${what}: data[${i}] is not a number (${typeof data[i]})`);
}

/** A tensor over `data` (kept as is when it already has the dtype's array type). dtype: when absent, taken from a typed array (see dtypeOf). */
export function tensor(data: ArrayLike<number>, shape: readonly number[], dtype: DType = dtypeOf(data)): Tensor {
  if (!Object.hasOwn(ctor, dtype)) throw new TypeError(`tensor(): unknown dtype '${String(dtype)}' (expected float32, float64 or int32)`);
  const n = validateShape(shape, 'tensor()');
  checkData(data, 'tensor()');
  if (data.length !== n) throw new RangeError(`tensor(): shape [${shape.join(', ')}] has ${n} elements but ${data.length} values were given`);
  const C = ctor[dtype];
  const arr = data instanceof C ? data : C.from(data as ArrayLike<number>);
  return { data: arr as TensorData, shape: [...shape], dtype };
}

export function zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  validateShape(shape, 'zeros()');
  return { data: new ctor[dtype](shape.reduce((a, b) => a * b, 1)), shape: [...shape], dtype };
}

export const isFloat = (t: Tensor): boolean => t.dtype === 'float32' || t.dtype === 'float64';

export function isTensor(x: unknown): x is Tensor {
  return !!x && typeof x === 'object' && 'data' in x && 'shape' in x && 'dtype' in x && ArrayBuffer.isView((x as Tensor).data);
}

export const shapeStr = (s: readonly number[]): string => `[${s.join(', ')}]`;
