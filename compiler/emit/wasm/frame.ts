// How a WebAssembly kernel is called: every kernel function takes (frame, sc, lo, hi, part).
// `frame` is the byte address of an i32 header the host writes before the call; `sc` the address
// of the kernel's float64 scalars. `run` covers [lo, hi) of its partition (elements, strided rows
// or tensor rows) and leaves its full reductions in partial slot `part`; `fin` (hi = the number of
// parts) combines the partials in order, rounds them once, and computes the epilogue.
import type { ValType } from './encoder.js';
import type { Locals } from './spelling.js';

/** Header fields (i32 words). */
export const H = {
  /** plain: 1 when flat; rows: the number of rows; scan: T */
  a: 0,
  /** plain: n; rows: C (the row length); scan: n (one state's elements) */
  b: 1,
  /** the rank of the dims array */
  r: 2,
  /** byte addresses of i32 arrays: dims[r]; strides [slot][r]; rows: per-slot stride along the row, scan: per-site step */
  dims: 3,
  st: 4,
  ast: 5,
  /** byte address of the float64 partials: [part][register] */
  part: 6,
  /** scan: the initial state */
  init: 7,
  /** rows: byte address of the caches, [part][cache][C] float64 */
  cache: 8,
  /** then: site addresses, output addresses, site element counts */
  sites: 9,
} as const;

export const headerWords = (sites: number, outs: number): number => H.sites + 2 * sites + outs;
export const siteField = (s: number): number => H.sites + s;
export const outField = (sites: number, j: number): number => H.sites + sites + j;
export const countField = (sites: number, outs: number, s: number): number => H.sites + sites + outs + s;

export const PARAMS: readonly (readonly [string, ValType])[] = [
  ['frame', 'i32'],
  ['sc', 'i32'],
  ['lo', 'i32'],
  ['hi', 'i32'],
  ['part', 'i32'],
];

/** Small builders for the loop scaffolding, over a function's locals. */
export class Scaffold {
  constructor(readonly locals: Locals) {
    for (const [n, t] of PARAMS) locals.set(n, t);
  }
  i32(...names: string[]): void {
    for (const n of names) this.locals.set(n, 'i32');
  }
  f64(...names: string[]): void {
    for (const n of names) this.locals.set(n, 'f64');
  }
  /** header word `w` into local `name` */
  field(name: string, w: number): string {
    this.i32(name);
    return `local.get:frame i32.load:${w * 4} local.set:${name}`;
  }
  /** element `index` (i32 instructions) of the i32 array at local `ptr` */
  elem(ptr: string, index: string): string {
    return `local.get:${ptr} ${index} i32.const:2 i32.shl i32.add i32.load`;
  }
  /** for (c = from; c < limit; c++) { body } */
  loop(c: string, from: string, limit: string, body: readonly string[]): string[] {
    this.i32(c);
    return [
      `${from} local.set:${c}`,
      'block',
      'loop',
      `local.get:${c} ${limit} i32.ge_s br_if:1`,
      ...body,
      `local.get:${c} i32.const:1 i32.add local.set:${c}`,
      'br:0',
      'end',
      'end',
    ];
  }
  /** for (c = from; c >= 0; c--) { body } */
  down(c: string, from: string, body: readonly string[]): string[] {
    this.i32(c);
    return [
      `${from} local.set:${c}`,
      'block',
      'loop',
      `local.get:${c} i32.const:0 i32.lt_s br_if:1`,
      ...body,
      `local.get:${c} i32.const:1 i32.sub local.set:${c}`,
      'br:0',
      'end',
      'end',
    ];
  }
  /** acc = combine(acc, v) for a sum or a NaN-propagating max (as the JS backend: v > acc || v !== v) */
  combine(mode: 'store' | 'sum' | 'max', acc: string, v: string): string {
    this.f64('cv');
    if (mode === 'max')
      return `${v} local.set:cv local.get:cv local.get:${acc} local.get:cv local.get:${acc} f64.gt local.get:cv local.get:cv f64.ne i32.or select:f64 local.set:${acc}`;
    return `local.get:${acc} ${v} f64.add local.set:${acc}`;
  }
  /** memory[K at index] = combine(memory[..], v), through the pseudo-instructions of the assembler */
  combineAt(mode: 'store' | 'sum' | 'max', key: string, index: string, v: string): string {
    this.i32('ad');
    this.f64('ca');
    const addr = `${index} @addr:${key} local.set:ad`;
    if (mode === 'max')
      return `${addr} local.get:ad @ldat:${key} local.set:ca ${v} local.set:cv local.get:ad local.get:cv local.get:ca local.get:cv local.get:ca f64.gt local.get:cv local.get:cv f64.ne i32.or select:f64 @st:${key}`;
    return `${addr} local.get:ad local.get:ad @ldat:${key} ${v} f64.add @st:${key}`;
  }
  store(key: string, index: string, v: string): string {
    return `${index} @addr:${key} ${v} @st:${key}`;
  }
  /** sum or max of the partials of register `ri` (of `regs`) into local `tot`, in part order */
  partials(ri: number, regs: number, mode: 'store' | 'sum' | 'max', tot: string): string[] {
    this.f64(tot);
    this.i32('pp', 'pk');
    const at = (k: string): string => `local.get:pp ${k} i32.const:${regs} i32.mul i32.const:${ri} i32.add i32.const:3 i32.shl i32.add f64.load`;
    return [
      this.field('pp', H.part),
      `${at('i32.const:0')} local.set:${tot}`,
      ...this.loop('pk', 'i32.const:1', 'local.get:hi', [this.combine(mode, tot, at('local.get:pk'))]),
    ];
  }
  /** store local `v` as register `ri`'s partial for this part */
  partial(ri: number, regs: number, v: string): string {
    this.i32('pp');
    return `${this.field('pp', H.part)} local.get:pp local.get:part i32.const:${regs} i32.mul i32.const:${ri} i32.add i32.const:3 i32.shl i32.add local.get:${v} f64.store`;
  }
}
