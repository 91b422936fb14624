// exp, log and log1p in WebAssembly (float64), so the hot kernels (softmax, log-sum-exp, softplus)
// do not cross into the host per element. Relative error under 6e-16 (3 ulp) on the fast path, which is
// what float64 kernels need (SCHEMA: 1e-10) and, after rounding, float32 ones; outside it
// (NaN, infinities, zero, subnormals, overflow) the host's Math function gives the exact IEEE answer.
import { floatText, type FuncDef, type ValType } from './encoder.js';

const LN2_HI = 6.9314718036912381649e-1;
const LN2_LO = 1.90821492927058770002e-10;

/**
 * c[0] + c[1] x + ... by Estrin's scheme: halves combined with x^2, x^4, x^8 (locals `<x>2`, `<x>4`,
 * `<x>8`, which `powers` sets), so that independent products overlap instead of one long chain of
 * dependent multiply-adds. `v`: on two lanes. The scalar and two-lane forms round alike.
 */
function estrin(x: string, c: readonly number[], v = false): string {
  const lit = (k: number): string => (v ? `f64.const:${floatText(k)} f64x2.splat` : `f64.const:${floatText(k)}`);
  const [mul, add] = v ? ['f64x2.mul', 'f64x2.add'] : ['f64.mul', 'f64.add'];
  const poly = (cs: readonly number[]): string => {
    if (cs.length === 1) return lit(cs[0]!);
    if (cs.length === 2) return `${lit(cs[0]!)} local.get:${x} ${lit(cs[1]!)} ${mul} ${add}`;
    let h = 1;
    while (h * 2 < cs.length) h *= 2;
    return `${poly(cs.slice(0, h))} local.get:${x}${h === 1 ? '' : h} ${poly(cs.slice(h))} ${mul} ${add}`;
  };
  return poly(c);
}
/** x^2, x^4, x^8 into locals <x>2, <x>4, <x>8 */
function powers(x: string, v = false): string {
  const mul = v ? 'f64x2.mul' : 'f64.mul';
  return `local.get:${x} local.get:${x} ${mul} local.tee:${x}2 local.get:${x}2 ${mul} local.tee:${x}4 local.get:${x}4 ${mul} local.set:${x}8`;
}
const powerLocals = (x: string, t: ValType): Record<string, ValType> => ({ [`${x}2`]: t, [`${x}4`]: t, [`${x}8`]: t });

const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));

const fn = (name: string, locals: Record<string, ValType>, body: string[]): FuncDef => ({
  name,
  params: [['x', 'f64']],
  result: 'f64',
  locals: new Map(Object.entries(locals)),
  body,
});

/**
 * Float32 kernels round every result to float32, and SCHEMA allows them 1e-5 relative: their
 * polynomials stop at 1e-10 (degree 9 for exp, z^5 for log), which costs half the latency.
 */
export type MathPrecision = 'f32' | 'f64';

// e^x = 2^k e^r, k = round(x / ln 2), |r| <= ln2 / 2; e^r by its Taylor series to degree 13 (error < 1e-17)
const exp = (degree: number): FuncDef =>
  fn('exp', { k: 'f64', r: 'f64', ...powerLocals('r', 'f64') }, [
    'local.get:x f64.const:-708 f64.gt local.get:x f64.const:709 f64.lt i32.and i32.eqz',
    'if local.get:x call:host_exp return end',
    'local.get:x f64.const:1.4426950408889634 f64.mul f64.nearest local.set:k',
    `local.get:x local.get:k f64.const:${LN2_HI} f64.mul f64.sub local.get:k f64.const:${LN2_LO} f64.mul f64.sub local.set:r`,
    powers('r'),
    estrin(
      'r',
      Array.from({ length: degree + 1 }, (_, i) => 1 / fact(i)),
    ),
    'local.get:k i64.trunc_f64_s i64.const:1023 i64.add i64.const:52 i64.shl f64.reinterpret_i64 f64.mul',
  ]);

// ln x = e ln 2 + ln m, m in [sqrt(1/2), sqrt 2); ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172
const log = (terms: number): FuncDef =>
  fn('log', { b: 'i64', e: 'f64', m: 'f64', f: 'f64', s: 'f64', z: 'f64', ...powerLocals('z', 'f64') }, [
    'local.get:x f64.const:2.2250738585072014e-308 f64.ge local.get:x f64.const:inf f64.lt i32.and i32.eqz',
    'if local.get:x call:host_log return end',
    'local.get:x i64.reinterpret_f64 local.set:b',
    'local.get:b i64.const:52 i64.shr_u i64.const:2047 i64.and i64.const:1023 i64.sub f64.convert_i64_s local.set:e',
    'local.get:b i64.const:4503599627370495 i64.and i64.const:4607182418800017408 i64.or f64.reinterpret_i64 local.set:m',
    'local.get:m f64.const:1.4142135623730951 f64.gt',
    'if local.get:m f64.const:0.5 f64.mul local.set:m local.get:e f64.const:1 f64.add local.set:e end',
    'local.get:m f64.const:1 f64.sub local.set:f',
    'local.get:f local.get:f f64.const:2 f64.add f64.div local.set:s',
    'local.get:s local.get:s f64.mul local.set:z',
    // 2 s (1 + z/3 + z^2/5 + ...), to z^11 (|s|^23 / 23 < 1e-19)
    powers('z'),
    `local.get:s f64.const:2 f64.mul ${estrin(
      'z',
      Array.from({ length: terms }, (_, i) => 1 / (2 * i + 1)),
    )} f64.mul`,
    `local.get:e f64.const:${LN2_LO} f64.mul f64.add local.get:e f64.const:${LN2_HI} f64.mul f64.add`,
  ]);

// ln(1 + x) = ln(u) * x / (u - 1) with u = 1 + x rounded (Goldberg), and x itself where u == 1 (keeps -0)
const LOG1P = fn('log1p', { u: 'f64' }, [
  'local.get:x f64.const:-1 f64.gt local.get:x f64.const:inf f64.lt i32.and i32.eqz',
  'if local.get:x call:host_log1p return end',
  'local.get:x f64.const:1 f64.add local.set:u',
  'local.get:u f64.const:1 f64.eq if local.get:x return end',
  'local.get:u call:log local.get:x f64.mul local.get:u f64.const:1 f64.sub f64.div',
]);

// ---- the same functions on two lanes (f64x2); a lane outside the fast path sends both lanes to the scalar function

const vfn = (name: string, locals: Record<string, ValType>, body: string[]): FuncDef => ({
  name,
  params: [['x', 'v128']],
  result: 'v128',
  locals: new Map(Object.entries(locals)),
  body,
});
const splat = (c: number): string => `f64.const:${floatText(c)} f64x2.splat`;
const laneByLane = (scalar: string): string =>
  `if local.get:x f64x2.extract_lane:0 call:${scalar} f64x2.splat local.get:x f64x2.extract_lane:1 call:${scalar} f64x2.replace_lane:1 return end`;
const vexp = (degree: number): FuncDef =>
  vfn('vexp', { k: 'v128', r: 'v128', ...powerLocals('r', 'v128') }, [
    `local.get:x ${splat(-708)} f64x2.gt local.get:x ${splat(709)} f64x2.lt v128.and i64x2.all_true i32.eqz`,
    laneByLane('exp'),
    `local.get:x ${splat(1.4426950408889634)} f64x2.mul f64x2.nearest local.set:k`,
    `local.get:x local.get:k ${splat(LN2_HI)} f64x2.mul f64x2.sub local.get:k ${splat(LN2_LO)} f64x2.mul f64x2.sub local.set:r`,
    powers('r', true),
    estrin(
      'r',
      Array.from({ length: degree + 1 }, (_, i) => 1 / fact(i)),
      true,
    ),
    // 2^k: k + 1023 in the low bits of 2^52 + k + 1023, shifted into the exponent field
    `local.get:k ${splat(4503599627371519)} f64x2.add i32.const:52 i64x2.shl f64x2.mul`,
  ]);

const vlog = (terms: number): FuncDef =>
  vfn('vlog', { e: 'v128', m: 'v128', f: 'v128', s: 'v128', z: 'v128', big: 'v128', ...powerLocals('z', 'v128') }, [
    `local.get:x ${splat(2.2250738585072014e-308)} f64x2.ge local.get:x ${splat(Infinity)} f64x2.lt v128.and i64x2.all_true i32.eqz`,
    laneByLane('log'),
    // the exponent field as a float: its bits under 2^52's, minus 2^52, minus the bias
    `local.get:x i32.const:52 i64x2.shr_u i64.const:4841369599423283200 i64x2.splat v128.or ${splat(4503599627370496 + 1023)} f64x2.sub local.set:e`,
    'local.get:x i64.const:4503599627370495 i64x2.splat v128.and i64.const:4607182418800017408 i64x2.splat v128.or local.set:m',
    `local.get:m ${splat(1.4142135623730951)} f64x2.gt local.set:big`,
    `local.get:m ${splat(0.5)} f64x2.mul local.get:m local.get:big v128.bitselect local.set:m`,
    `local.get:e local.get:big ${splat(1)} v128.and f64x2.add local.set:e`,
    `local.get:m ${splat(1)} f64x2.sub local.set:f`,
    `local.get:f local.get:f ${splat(2)} f64x2.add f64x2.div local.set:s`,
    'local.get:s local.get:s f64x2.mul local.set:z',
    powers('z', true),
    `local.get:s ${splat(2)} f64x2.mul ${estrin(
      'z',
      Array.from({ length: terms }, (_, i) => 1 / (2 * i + 1)),
      true,
    )} f64x2.mul`,
    `local.get:e ${splat(LN2_LO)} f64x2.mul f64x2.add local.get:e ${splat(LN2_HI)} f64x2.mul f64x2.add`,
  ]);

const VLOG1P = vfn('vlog1p', { u: 'v128' }, [
  `local.get:x ${splat(-1)} f64x2.gt local.get:x f64.const:inf f64x2.splat f64x2.lt v128.and i64x2.all_true i32.eqz`,
  laneByLane('log1p'),
  `local.get:x ${splat(1)} f64x2.add local.set:u`,
  // where u == 1: x itself
  `local.get:x local.get:u call:vlog local.get:x f64x2.mul local.get:u ${splat(1)} f64x2.sub f64x2.div local.get:u ${splat(1)} f64x2.eq v128.bitselect`,
]);

type Lib = Readonly<Record<string, { readonly def: FuncDef; readonly uses: readonly string[] }>>;
/** Library functions by name, and the other library functions each calls, per kernel precision. */
export const MATHLIB: Readonly<Record<MathPrecision, Lib>> = {
  f64: {
    exp: { def: exp(13), uses: [] },
    log: { def: log(12), uses: [] },
    log1p: { def: LOG1P, uses: ['log'] },
    vexp: { def: vexp(13), uses: ['exp'] },
    vlog: { def: vlog(12), uses: ['log'] },
    vlog1p: { def: VLOG1P, uses: ['vlog', 'log1p'] },
  },
  f32: {
    exp: { def: exp(9), uses: [] },
    log: { def: log(6), uses: [] },
    log1p: { def: LOG1P, uses: ['log'] },
    vexp: { def: vexp(9), uses: ['exp'] },
    vlog: { def: vlog(6), uses: ['log'] },
    vlog1p: { def: VLOG1P, uses: ['vlog', 'log1p'] },
  },
};
