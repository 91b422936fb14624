// The SIMD loop of a kernel (plain kernels' flat loop and strided inner axis, row kernels'
// contiguous passes): a body translated to two float64 lanes (vector.ts vectorize) or, in float32
// kernels, to four float32 lanes (vectorizeF32x4), possibly several copies per iteration for the
// latency of a long body (a polynomial), its results stored, added into memory or reduced. Sums
// accumulate in float64 (two lanes each); after the loop each vector accumulator folds into its
// scalar one lane by lane, in element order, and the caller's scalar loop finishes the tail from
// the index the vector loop left.
import type { Scaffold } from './frame.js';
import { NotVectorizable } from './vector.js';

export interface SimdOutput {
  /** 'add': added into the output's elements in memory (an accumulation, four lanes only) */
  readonly mode: 'store' | 'sum' | 'max' | 'add';
  /** store, add: the output's key ('o3') and its element index for a loop index (i32 instructions) */
  readonly key?: string;
  readonly at?: (index: string) => string;
  /** sum, max: the scalar float64 accumulator the lanes fold into */
  readonly acc?: string;
}

export interface SimdBody {
  /** what the loop computes once before it (every copy's, shared where they are the same line) */
  readonly pre?: string[];
  readonly lines: string[];
  /** per output, its value: f64x2 (two lanes) or f32x4 (four) */
  readonly exprs: string[];
}

const HIGH_HALF = 'i8x16.shuffle:8,9,10,11,12,13,14,15,8,9,10,11,12,13,14,15';

/**
 * for (i = from; i + lanes * copies <= limit; i += lanes * copies) { copies of the body }, then
 * one copy at a time while `lanes` elements remain, leaving i at the scalar tail. `body(c)` is
 * copy c, for elements i + lanes * c onwards; `tag` names this loop's vector accumulators.
 */
export function simdLoop(
  sc: Scaffold,
  o: {
    readonly i: string;
    readonly from: string;
    readonly limit: string;
    readonly lanes: 2 | 4;
    readonly copies: number;
    readonly body: (copy: number) => SimdBody;
    readonly outputs: readonly SimdOutput[];
    readonly tag: string;
  },
): string[] {
  const { i, lanes } = o;
  const four = lanes === 4;
  const bodies = Array.from({ length: o.copies }, (_, c) => o.body(c));
  const v = (n: string): string => {
    sc.locals.set(n, 'v128');
    return n;
  };
  const tmp = v(`vt_${o.tag}`);
  const init: string[] = [];
  const fold: string[] = [];
  // per output, how a copy's value joins it
  const join = o.outputs.map((out, j): ((e: string, c: number) => string) => {
    if (out.mode === 'store' || out.mode === 'add') {
      const at = (c: number): string => out.at!(c ? `local.get:${i} i32.const:${lanes * c} i32.add` : `local.get:${i}`);
      if (out.mode === 'add') {
        if (!four) throw new NotVectorizable('an accumulation into memory on two lanes');
        return (e, c) => `${at(c)} @vaddr:${out.key} ${e} @vadd4:${out.key}`;
      }
      return (e, c) => `${at(c)} @vaddr:${out.key} ${e} @${four ? 'vst4' : 'vst'}:${out.key}`;
    }
    const acc = out.acc!;
    if (out.mode === 'max') {
      const m = v(`vmax${j}_${o.tag}`);
      const [x, promote] = four ? ['f32x4', 'f64.promote_f32'] : ['f64x2', ''];
      init.push(`${four ? 'f32.const:-inf f32x4.splat' : 'f64.const:-inf f64x2.splat'} local.set:${m}`);
      // as the scalar combine (the new value where it is greater, so the first of equal ones; NaN
      // once seen): pmax, one instruction, keeps the first of equals; NaN is kept apart, as a mask
      const nan = v(`vnan${j}_${o.tag}`);
      init.push(`i32.const:0 i32x4.splat local.set:${nan}`);
      for (let l = 0; l < lanes; l++) fold.push(sc.combine('max', acc, `local.get:${m} ${x}.extract_lane:${l} ${promote}`));
      fold.push(`local.get:${nan} v128.any_true`, 'if', `f64.const:nan local.set:${acc}`, 'end');
      return (e) =>
        `${e} local.set:${tmp} local.get:${m} local.get:${tmp} ${x}.pmax local.set:${m} local.get:${nan} local.get:${tmp} local.get:${tmp} ${x}.ne v128.or local.set:${nan}`;
    }
    const lo = v(`vsum${j}_${o.tag}`);
    init.push(`f64.const:0 f64x2.splat local.set:${lo}`);
    if (!four) {
      fold.push(...[0, 1].map((l) => sc.combine('sum', acc, `local.get:${lo} f64x2.extract_lane:${l}`)));
      return (e) => `local.get:${lo} ${e} f64x2.add local.set:${lo}`;
    }
    // four float32 lanes into two float64 sums: elements 0, 1 (mod 4) and 2, 3
    const hi = v(`vsumh${j}_${o.tag}`);
    init.push(`f64.const:0 f64x2.splat local.set:${hi}`);
    fold.push(...[lo, hi].flatMap((a) => [0, 1].map((l) => sc.combine('sum', acc, `local.get:${a} f64x2.extract_lane:${l}`))));
    return (e) =>
      `${e} local.set:${tmp} local.get:${lo} local.get:${tmp} f64x2.promote_low_f32x4 f64x2.add local.set:${lo} local.get:${hi} local.get:${tmp} local.get:${tmp} ${HIGH_HALF} f64x2.promote_low_f32x4 f64x2.add local.set:${hi}`;
  });
  // the copies per step, then (several copies) the first alone, so that the scalar tail is under `lanes` elements
  const loop = (copies: number): string[] => [
    'block',
    'loop',
    `local.get:${i} i32.const:${lanes * copies} i32.add ${o.limit} i32.gt_s br_if:1`,
    ...bodies.slice(0, copies).flatMap((b) => b.lines),
    ...bodies.slice(0, copies).flatMap((b, c) => b.exprs.map((e, j) => join[j]!(e, c))),
    `local.get:${i} i32.const:${lanes * copies} i32.add local.set:${i}`,
    'br:0',
    'end',
    'end',
  ];
  return [...init, ...new Set(bodies.flatMap((b) => b.pre ?? [])), `${o.from} local.set:${i}`, ...loop(o.copies), ...(o.copies > 1 ? loop(1) : []), ...fold];
}

/**
 * How many copies of a four-lane body one step runs: four where the (scalar) body calls exp, log, log1p, expm1 or tanh
 * (a long dependent chain; independent copies overlap it), else two. Measured on BCEWithLogits
 * 2^24: 117 ms with two copies, 80 with four; MSE and CrossEntropy do not change.
 */
export const copiesFor = (scalarBody: readonly string[]): number => (/\bcall:(exp|log|log1p|expm1|tanh)\b/.test(scalarBody.join(' ')) ? 4 : 2);

/** The first of these SIMD translations that succeeds (the others throw NotVectorizable or give undefined), or undefined. */
export function firstVectorizable(attempts: readonly (() => string[] | undefined)[]): string[] | undefined {
  for (const attempt of attempts) {
    try {
      const simd = attempt();
      if (simd) return simd;
    } catch (e) {
      if (!(e instanceof NotVectorizable)) throw e;
    }
  }
  return undefined;
}

/**
 * `simd` run only where every site it loads contiguously (`@vld:x3`, `@vld4:x3`) and every output
 * it stores has stride 1 along the loop: `stride(s)` is site s's stride local, `stores` the
 * outputs' ('ao2'); checked per call (or per row) before the loop.
 */
export function whereContiguous(simd: readonly string[], stride: (site: number) => string, stores: readonly string[]): string[] {
  const sites = [...new Set([...simd.join(' ').matchAll(/@vld4?:x(\d+)/g)].map((m) => Number(m[1])))];
  const strides = [...sites.map(stride), ...stores];
  return [`i32.const:1 ${strides.map((a) => `local.get:${a} i32.const:1 i32.eq i32.and`).join(' ')}`, 'if', ...simd, 'end'];
}
