// Strided views, shared by the reference interpreter and the kernel runtime. Kernels iterate
// over a domain shape; every tensor they read, and every smaller tensor they accumulate into,
// is addressed through strides over that domain (0 along broadcast or reduced axes).
// Self-contained on purpose (no imports): standalone kernel modules inline this file.

/** The buffer name of sites that read an iota: the executor makes the arange itself. */
export const IOTA = '@iota';

export function contiguousStrides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = dims[i] === 1 ? 0 : acc;
    acc *= dims[i]!;
  }
  return s;
}

/** Strides of a `child`-shaped tensor (with `childStrides`) seen broadcast to `parent` (numpy, right-aligned). */
export function broadcastView(child: readonly number[], childStrides: readonly number[], parent: readonly number[]): number[] {
  const off = parent.length - child.length;
  const s = new Array<number>(parent.length);
  for (let j = 0; j < parent.length; j++) {
    const c = j - off;
    s[j] = c >= 0 && child[c] === parent[j] ? childStrides[c]! : 0;
  }
  return s;
}

/** Strides after inserting size-1 axes at `axes` (positions in the result, possibly negative). */
export function unsqueezeView(childStrides: readonly number[], axes: readonly number[]): number[] {
  const rank = childStrides.length + axes.length;
  const at = axes.map((a) => (a < 0 ? a + rank : a)).sort((x, y) => x - y);
  const s = [...childStrides];
  for (const a of at) s.splice(a, 0, 0);
  return s;
}

/**
 * Merge adjacent axes that every view walks contiguously, so that a broadcast read of an
 * N-d domain usually becomes a 1-d or 2-d loop. Returns the merged dims and per-view strides.
 */
export function coalesce(dims: readonly number[], views: readonly (readonly number[])[]): { dims: number[]; strides: number[][] } {
  const outDims: number[] = [];
  const outStrides: number[][] = views.map(() => []);
  for (let j = 0; j < dims.length; j++) {
    const d = dims[j]!;
    if (d === 1) continue;
    const last = outDims.length - 1;
    const mergeable = last >= 0 && views.every((v, k) => outStrides[k]![last] === v[j]! * d);
    if (mergeable) {
      outDims[last] = outDims[last]! * d;
      views.forEach((v, k) => (outStrides[k]![last] = v[j]!));
    } else {
      outDims.push(d);
      views.forEach((v, k) => outStrides[k]!.push(v[j]!));
    }
  }
  return { dims: outDims, strides: outStrides };
}

export const numel = (dims: readonly number[]): number => {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
};

export function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** What a reduction sums (or maxes) over, as plain data: the axes (negative: from the end), or every axis, or down to a shape it broadcasts from. */
export interface ReductionDesc {
  readonly op: 'sum' | 'max' | 'sumTo';
  readonly axes?: readonly number[] | 'all';
  readonly keepDims?: boolean;
}

/** Strides, over the operand's shape, of the output a reduction accumulates into (0 along reduced axes). */
export function reductionStrides(inShape: readonly number[], outShape: readonly number[], r: ReductionDesc): number[] {
  if (r.op === 'sumTo') return broadcastView(outShape, contiguousStrides(outShape), inShape);
  if (r.axes === 'all' || r.axes === undefined) return inShape.map(() => 0);
  const rank = inShape.length;
  const norm = r.axes.map((a) => (a < 0 ? a + rank : a));
  const kept = r.keepDims ? contiguousStrides(outShape) : unsqueezeView(contiguousStrides(outShape), norm);
  return kept.map((s, i) => (norm.includes(i) ? 0 : s));
}
