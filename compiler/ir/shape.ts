// Symbolic shapes. A loss is compiled once for every input shape, so a node's shape is an
// expression over the inputs' shapes, resolved to numbers only when a call binds real tensors.
// Shapes are interned: two structurally equal shapes are the same object, so `a === b` is
// shape equality, which is what fusion and simplification ask all the time.

export type ShapeExpr =
  | { readonly kind: 'scalar'; readonly key: string }
  /** an argument's shape; `rank` when declared (checked when the call binds it) */
  | { readonly kind: 'input'; readonly key: string; readonly name: string; readonly rank?: number }
  /** numpy broadcasting of two or more shapes (parts sorted by key, no scalar, no duplicates) */
  | { readonly kind: 'broadcast'; readonly key: string; readonly parts: readonly ShapeExpr[] }
  /** `of` with `axes` summed away (axes may be negative: counted from the end at run time) */
  | { readonly kind: 'reduce'; readonly key: string; readonly of: ShapeExpr; readonly axes: readonly number[]; readonly keepDims: boolean }
  /** `of` with size-1 axes inserted at `axes` (positions in the result) */
  | { readonly kind: 'unsqueeze'; readonly key: string; readonly of: ShapeExpr; readonly axes: readonly number[] }
  /** `of` with every axis but `axis` set to 1: the shape of an index along that axis (iota) */
  | { readonly kind: 'axisOnly'; readonly key: string; readonly of: ShapeExpr; readonly axis: number }
  /** `of` with axis `axis` of size n made scale * n + offset (CTC's 2S + 1 extended labels) */
  | { readonly kind: 'affine'; readonly key: string; readonly of: ShapeExpr; readonly axis: number; readonly scale: number; readonly offset: number }
  /** a leading axis as long as `steps`'s first axis, then `of`: the stacked states of a scan */
  | { readonly kind: 'stack'; readonly key: string; readonly steps: ShapeExpr; readonly of: ShapeExpr };

const interned = new Map<string, ShapeExpr>();
function intern<T extends ShapeExpr>(s: T): T {
  const found = interned.get(s.key);
  if (found) return found as T;
  interned.set(s.key, s);
  return s;
}

export const scalarShape: ShapeExpr = intern({ kind: 'scalar', key: '[]' });

export function inputShape(name: string, rank?: number): ShapeExpr {
  return intern(rank === undefined ? { kind: 'input', key: `%${name}`, name } : { kind: 'input', key: `%${name}#${rank}`, name, rank });
}

/** Every part this shape broadcasts from; a broadcast of a keep-dims reduction of S with S is S. */
function flattenParts(shapes: readonly ShapeExpr[]): ShapeExpr[] {
  const out = new Set<ShapeExpr>();
  for (const s of shapes) {
    if (s.kind === 'scalar') continue;
    if (s.kind === 'broadcast') s.parts.forEach((p) => out.add(p));
    else out.add(s);
  }
  // reduce(S, keepDims) and unsqueeze-free views of S add nothing to S itself
  for (const s of [...out]) if (((s.kind === 'reduce' && s.keepDims) || s.kind === 'axisOnly') && out.has(s.of)) out.delete(s);
  return [...out].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function broadcastShapes(...shapes: ShapeExpr[]): ShapeExpr {
  const parts = flattenParts(shapes);
  if (parts.length === 0) return scalarShape;
  if (parts.length === 1) return parts[0]!;
  return intern({ kind: 'broadcast', key: `bcast(${parts.map((p) => p.key).join(',')})`, parts });
}

/** `axes` is a list of axes (negative ones counted from the end) or ALL_AXES. */
export function reduceShape(of: ShapeExpr, axes: readonly number[], keepDims: boolean): ShapeExpr {
  const all = isAllAxes(axes);
  if (of.kind === 'scalar' || (all && !keepDims)) return scalarShape;
  // every axis of an argument of known rank: a scalar
  if (
    !keepDims &&
    of.kind === 'input' &&
    of.rank !== undefined &&
    new Set(axes.map((a) => (a < 0 ? a + of.rank! : a))).size === of.rank &&
    axes.every((a) => a >= -of.rank! && a < of.rank!)
  )
    return scalarShape;
  // summing away exactly the axes an unsqueeze inserted gives the original shape back
  if (!all && !keepDims && of.kind === 'unsqueeze' && sameAxes(of.axes, axes)) return of.of;
  // one step of stacked states is a state
  if (!all && !keepDims && of.kind === 'stack' && axes.length === 1 && axes[0] === 0) return of.of;
  // dropping the size-1 axes a keepdims reduction left is that reduction without keepdims
  if (!all && !keepDims && of.kind === 'reduce' && of.keepDims && !isAllAxes(of.axes) && sameAxes(of.axes, axes)) return reduceShape(of.of, axes, false);
  const ax = all ? ALL_AXES : [...axes].sort((a, b) => a - b);
  return intern({ kind: 'reduce', key: `reduce(${of.key};${all ? '*' : ax.join(',')};${keepDims ? 'k' : ''})`, of, axes: ax, keepDims });
}

const sameAxes = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && [...b].sort((x, y) => x - y).every((v, i) => v === a[i]);

export function unsqueezeShape(of: ShapeExpr, axes: readonly number[]): ShapeExpr {
  if (axes.length === 0) return of;
  const ax = [...axes].sort((a, b) => a - b);
  // putting back exactly the axes a reduction took away: that reduction with keepDims
  if (of.kind === 'reduce' && !of.keepDims && !isAllAxes(of.axes) && sameAxes(of.axes, ax)) return reduceShape(of.of, ax, true);
  return intern({ kind: 'unsqueeze', key: `unsqueeze(${of.key};${ax.join(',')})`, of, axes: ax });
}

export function axisOnlyShape(of: ShapeExpr, axis: number): ShapeExpr {
  return intern({ kind: 'axisOnly', key: `axisOnly(${of.key};${axis})`, of, axis });
}

export function affineShape(of: ShapeExpr, axis: number, scale: number, offset: number): ShapeExpr {
  return intern({ kind: 'affine', key: `affine(${of.key};${axis};${scale};${offset})`, of, axis, scale, offset });
}

export function stackShape(steps: ShapeExpr, of: ShapeExpr): ShapeExpr {
  return intern({ kind: 'stack', key: `stack(${steps.key};${of.key})`, steps, of });
}

/** The marker for "every axis" inside a reduce shape (distinct from an empty list of axes). */
export const ALL_AXES: readonly number[] = Object.freeze([-Infinity]);
export const isAllAxes = (axes: readonly number[]): boolean => axes === ALL_AXES || (axes.length === 1 && axes[0] === -Infinity);

/** Does broadcasting `small` up to `big` (numpy rules) hold for every binding, by construction? */
export function broadcastsTo(small: ShapeExpr, big: ShapeExpr): boolean {
  if (small === big || small.kind === 'scalar') return true;
  if (small.kind === 'broadcast') return small.parts.every((p) => broadcastsTo(p, big));
  if (big.kind === 'broadcast') return big.parts.includes(small) || big.parts.some((p) => broadcastsTo(small, p));
  return (small.kind === 'reduce' && small.keepDims && small.of === big) || (small.kind === 'axisOnly' && small.of === big);
}

// ---------------------------------------------------------------- run-time resolution

/** Thrown when the shapes bound at run time do not fit; the runtime adds the loss and argument names. */
export class ShapeError extends Error {}

export function normalizeAxis(axis: number, rank: number, what: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new ShapeError(`Dimension out of range (expected to be in range of [${-rank}, ${rank - 1}], but got ${axis}) in ${what}`);
  return a;
}

export function broadcastDims(a: readonly number[], b: readonly number[], nameA = 'a', nameB = 'b'): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `The size of tensor ${nameA} (${da}) must match the size of tensor ${nameB} (${db}) at non-singleton dimension ${i} ` +
          `(${nameA} has shape [${a.join(', ')}], ${nameB} has shape [${b.join(', ')}])`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Resolve a symbolic shape given the inputs' shapes; results are memoised per call in `memo`. */
export function resolveShape(s: ShapeExpr, inputs: ReadonlyMap<string, readonly number[]>, memo = new Map<ShapeExpr, number[]>()): number[] {
  const hit = memo.get(s);
  if (hit) return hit;
  let dims: number[];
  switch (s.kind) {
    case 'scalar':
      dims = [];
      break;
    case 'input': {
      const d = inputs.get(s.name);
      if (!d) throw new ShapeError(`no shape bound for input '${s.name}'`);
      if (s.rank !== undefined && d.length !== s.rank)
        throw new ShapeError(`expected ${s.name} to have ${s.rank} dimension${s.rank === 1 ? '' : 's'}, got shape [${d.join(', ')}]`);
      dims = [...d];
      break;
    }
    case 'broadcast': {
      let acc: number[] = [];
      let accName = '';
      for (const p of s.parts) {
        const d = resolveShape(p, inputs, memo);
        const name = describe(p);
        acc = accName ? broadcastDims(acc, d, accName, name) : [...d];
        accName = accName ? `${accName}*${name}` : name;
      }
      dims = acc;
      break;
    }
    case 'reduce': {
      const of = resolveShape(s.of, inputs, memo);
      const axes = isAllAxes(s.axes) ? of.map((_, i) => i) : s.axes.map((a) => normalizeAxis(a, of.length, 'reduction'));
      dims = s.keepDims ? of.map((d, i) => (axes.includes(i) ? 1 : d)) : of.filter((_, i) => !axes.includes(i));
      break;
    }
    case 'axisOnly': {
      const of = resolveShape(s.of, inputs, memo);
      const a = normalizeAxis(s.axis, of.length, 'iota');
      dims = of.map((d, i) => (i === a ? d : 1));
      break;
    }
    case 'affine': {
      const of = resolveShape(s.of, inputs, memo);
      const a = normalizeAxis(s.axis, of.length, 'shape');
      dims = of.map((d, i) => (i === a ? d * s.scale + s.offset : d));
      break;
    }
    case 'stack': {
      const steps = resolveShape(s.steps, inputs, memo);
      if (steps.length === 0) throw new ShapeError('a scan needs a sequence with at least one axis');
      dims = [steps[0]!, ...resolveShape(s.of, inputs, memo)];
      break;
    }
    case 'unsqueeze': {
      const of = resolveShape(s.of, inputs, memo);
      dims = [...of];
      const rank = of.length + s.axes.length;
      for (const a of s.axes.map((a) => (a < 0 ? a + rank : a)).sort((x, y) => x - y)) dims.splice(a, 0, 1);
      break;
    }
  }
  memo.set(s, dims);
  return dims;
}

/** A human name for a shape expression, for error messages. */
export function describe(s: ShapeExpr): string {
  switch (s.kind) {
    case 'scalar':
      return 'scalar';
    case 'input':
      return s.name;
    case 'broadcast':
      return s.parts.map(describe).join('*');
    case 'reduce':
      return `${describe(s.of)} reduced`;
    case 'unsqueeze':
    case 'axisOnly':
    case 'affine':
      return describe(s.of);
    case 'stack':
      return `stack of ${describe(s.of)}`;
  }
}

export const numelOf = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
