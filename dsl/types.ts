// What the DSL knows about a value before any graph exists: its sort (a tensor, an option's
// string, a compile-time flag, none, a tuple), a tensor's element kind, and as much of its shape
// as the declarations say (named or fixed sizes per axis, or "any rank"). These drive the static
// diagnostics: int arithmetic without a cast, a where without a comparison, axes out of range,
// declared sizes that cannot broadcast.
import type { Kind } from '../compiler/ir/node.js';

/** One axis: a declared name (`N`), a fixed size, or '?' (not known before run time). */
export type Dim = string | number;
/** Every axis, or null when even the rank is unknown (`f32[*]`). */
export type Dims = readonly Dim[] | null;

export type StaticType =
  /**
   * a Node at build time, or a plain number when `constant` is set (literals, folded arithmetic);
   * `cases`: a numeric option with cases, which `==` compares while the graph is built
   */
  | { readonly sort: 'tensor'; readonly kind: Kind; readonly dims: Dims; readonly constant?: number; readonly cases?: NumberCases }
  /** a structural string: an enum option (its possible values) or a string literal */
  | { readonly sort: 'text'; readonly values: readonly string[]; readonly constant?: string }
  /** a boolean known when the graph is built: a bool option, true/false, a static comparison */
  | { readonly sort: 'flag'; readonly constant?: boolean }
  | { readonly sort: 'none' }
  /** an optional tensor option, outside an `if name != none` that proves it given */
  | { readonly sort: 'optional'; readonly dims: Dims }
  | { readonly sort: 'tuple'; readonly items: readonly StaticType[] }
  /** a function option, called with `arity` float tensors; `optional` outside an `if f != none` */
  | { readonly sort: 'function'; readonly arity: number; readonly optional: boolean }
  /** a shape no tensor has yet (affineShape(targets, -1, 2, 1)): for iota and broadcastTo */
  | { readonly sort: 'shape'; readonly dims: Dims }
  /** error("..."): stops the build, so it has no value and fits any branch */
  | { readonly sort: 'never' }
  /** after a reported error: absorbs every use silently, so one mistake gives one diagnostic */
  | { readonly sort: 'error' };

/** The option a value is, and the values that choose another graph. */
export interface NumberCases {
  readonly option: string;
  readonly values: readonly number[];
}

export const ERROR: StaticType = { sort: 'error' };
export const scalarFloat = (constant?: number): StaticType => ({ sort: 'tensor', kind: 'float', dims: [], ...(constant === undefined ? {} : { constant }) });
export const tensorOf = (kind: Kind, dims: Dims): StaticType => ({ sort: 'tensor', kind, dims });

export const dimsText = (dims: Dims): string => (dims === null ? '[*]' : `[${dims.join(', ')}]`);

const KIND_WORDS: Record<Kind, string> = { float: 'a float tensor', int: 'an int32 tensor', bool: 'a comparison (bool)' };

/** "a float tensor [N, C]", "the value 'mean'", ...: for messages. */
export function describeType(t: StaticType): string {
  switch (t.sort) {
    case 'tensor':
      if (t.constant !== undefined) return `the number ${t.constant}`;
      return t.kind === 'bool' || t.dims === null || t.dims.length === 0 ? KIND_WORDS[t.kind] : `${KIND_WORDS[t.kind]} ${dimsText(t.dims)}`;
    case 'text':
      return t.constant !== undefined ? `the string '${t.constant}'` : `a choice among ${t.values.map((v) => `'${v}'`).join(' | ')}`;
    case 'flag':
      return 'a bool known when the graph is built';
    case 'none':
      return 'none';
    case 'optional':
      return 'an optional tensor (maybe none)';
    case 'tuple':
      return `a tuple of ${t.items.length}`;
    case 'function':
      return t.optional ? 'an optional function (maybe none)' : `a function of ${t.arity} tensor${t.arity === 1 ? '' : 's'}`;
    case 'shape':
      return `a shape ${dimsText(t.dims)}`;
    case 'never':
      return 'error(...), which stops the build';
    case 'error':
      return 'an erroneous value';
  }
}

/** numpy broadcasting of declared shapes; an error message when declared sizes cannot match. */
export function broadcastDims(shapes: readonly Dims[]): { dims: Dims } | { error: string } {
  let acc: Dims = [];
  for (const s of shapes) {
    if (acc === null || s === null) {
      acc = null;
      continue;
    }
    const rank = Math.max(acc.length, s.length);
    const out: Dim[] = [];
    for (let i = 0; i < rank; i++) {
      const a = acc[acc.length - rank + i] ?? 1;
      const b = s[s.length - rank + i] ?? 1;
      if (a === b || b === 1) out.push(a);
      else if (a === 1) out.push(b);
      else if (a === '?' || b === '?' || typeof a !== typeof b) out.push('?');
      else return { error: `shapes ${dimsText(acc)} and ${dimsText(s)} do not broadcast: sizes ${a} and ${b} differ (align the axes, e.g. with unsqueeze)` };
    }
    acc = out;
  }
  return { dims: acc };
}

/** A static axis (negative: from the end) as a position, or an error when it is out of range. */
export function normalizeStaticAxis(axis: number, dims: Dims, what: string): number | { error: string } {
  if (dims === null) return axis;
  const rank = dims.length;
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || a < 0 || a >= rank) {
    return { error: `axis ${axis} is out of range for ${what}, a tensor of rank ${rank} ${dimsText(dims)} (expected an axis in [${-rank}, ${rank - 1}])` };
  }
  return a;
}

/** The shape after reducing `axes` (null: every axis). */
export function reducedDims(dims: Dims, axes: readonly number[] | null, keepDims: boolean, what: string): { dims: Dims } | { error: string } {
  if (dims === null) return { dims: null };
  if (axes === null) return { dims: keepDims ? dims.map(() => 1) : [] };
  const positions: number[] = [];
  for (const axis of axes) {
    const a = normalizeStaticAxis(axis, dims, what);
    if (typeof a !== 'number') return a;
    positions.push(a);
  }
  return { dims: keepDims ? dims.map((d, i) => (positions.includes(i) ? 1 : d)) : dims.filter((_, i) => !positions.includes(i)) };
}

/** The shape after inserting size-1 axes at `axes` (positions in the result). */
export function unsqueezedDims(dims: Dims, axes: readonly number[]): Dims {
  if (dims === null) return null;
  const rank = dims.length + axes.length;
  const out: Dim[] = [...dims];
  for (const a of axes.map((x) => (x < 0 ? x + rank : x)).sort((x, y) => x - y)) out.splice(a, 0, 1);
  return out;
}

/** The type both branches of an `if` agree on (a shape known only when both know the same one). */
export function joinTypes(a: StaticType, b: StaticType): StaticType | null {
  if (a.sort === 'error' || a.sort === 'never') return b;
  if (b.sort === 'error' || b.sort === 'never') return a;
  if (a.sort === 'tensor' && b.sort === 'tensor') {
    if (a.kind !== b.kind) return null;
    const same = a.dims !== null && b.dims !== null && a.dims.length === b.dims.length && a.dims.every((d, i) => d === b.dims![i]);
    return tensorOf(a.kind, same ? a.dims : null);
  }
  if (a.sort === 'text' && b.sort === 'text') return { sort: 'text', values: [...new Set([...a.values, ...b.values])] };
  if (a.sort === b.sort && (a.sort === 'flag' || a.sort === 'none')) return { sort: a.sort };
  return null;
}
