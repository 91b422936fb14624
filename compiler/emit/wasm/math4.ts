// exp, log, log1p, expm1 and tanh on four float32 lanes (f32x4), for float32 kernels: written into the kernel's
// loop (V8 does not inline WebAssembly calls, and a call would spill every live vector register),
// as statements over fresh locals followed by the expression of the result. Float32 arithmetic
// throughout, in the form of Cephes' expf / logf with minimax polynomials a term or two shorter
// (fitted for relative error; test/wasm/mathlib.test.ts measures them): within 1 ulp of the
// correctly rounded float32 result, log1p 2 (SCHEMA allows float32 1e-5 relative, about 80 ulp).
// No branches and no calls: exp's argument is clamped to where the float32 result is 0 or
// infinity and 2^k is applied in two halves, so subnormal results round once, and NaN stays NaN;
// log and log1p select their special lanes (zero, negative, subnormal, infinite, NaN) after the
// polynomial.
import type { Locals } from './spelling.js';

/** a float32 constant on four lanes */
const f = (c: number): string => `f32.const:${c} f32x4.splat`;
const i = (c: number): string => `i32.const:${c} i32x4.splat`;
/** c[0] + c[1] r + ... by Horner's rule, r a local */
const horner = (r: string, c: readonly number[]): string => {
  let e = f(c[c.length - 1]!);
  for (let k = c.length - 2; k >= 0; k--) e = `${e} local.get:${r} f32x4.mul ${f(c[k]!)} f32x4.add`;
  return e;
};

export interface Inlined {
  /** statements, in order, before the expression */
  readonly lines: string[];
  /** the result (an f32x4) */
  readonly expr: string;
}

/** Names fresh locals (v128) for one inlined call. */
export type Fresh = (name: string) => string;

const EXP_HI = 89; // e^89 > FLT_MAX: infinity
const EXP_LO = -104; // e^-104 < half the least subnormal: 0
const MAGIC = 12582912; // 1.5 * 2^23: x + MAGIC rounds x to an integer, which the low bits of its representation hold
const MAGIC_BITS = 0x4b400000;
// ln 2 in two parts (the first exact for any integer multiple that occurs here)
const C1 = 0.693359375;
const C2 = -2.1219444e-4;
// e^r = 1 + r + r^2 (c2 + c3 r + ... + c6 r^4): a minimax fit of relative error 3e-9 on |r| <= ln 2 / 2
// (0.05 ulp; Cephes' expf carries one more term, for 5e-11)
const EXPF = [1, 1, 0.49999993451625724, 0.16666520688656442, 0.04166838737394589, 0.008368709961375757, 0.0013814613090953592];

/** e^x: k = round(x log2 e), r = x - k ln 2, e^r by a polynomial, times 2^(k >> 1) times 2^(k - (k >> 1)). */
export function exp4(x: string, fresh: Fresh): Inlined {
  const [X, T, K, R, KI, K1] = ['x', 't', 'k', 'r', 'ki', 'k1'].map(fresh) as [string, string, string, string, string, string];
  const scale = (k: string): string => `${k} ${i(127)} i32x4.add i32.const:23 i32x4.shl f32x4.mul`;
  return {
    lines: [
      `${x} ${f(EXP_HI)} f32x4.pmin ${f(EXP_LO)} f32x4.pmax local.set:${X}`,
      `local.get:${X} ${f(Math.LOG2E)} f32x4.mul ${f(MAGIC)} f32x4.add local.tee:${T} ${f(MAGIC)} f32x4.sub local.set:${K}`,
      `local.get:${X} local.get:${K} ${f(C1)} f32x4.mul f32x4.sub local.get:${K} ${f(C2)} f32x4.mul f32x4.sub local.set:${R}`,
      `local.get:${T} ${i(MAGIC_BITS)} i32x4.sub local.tee:${KI} i32.const:1 i32x4.shr_s local.set:${K1}`,
    ],
    // 1 + r + r^2 (...): the Cephes form, the small terms summed first
    expr: `${horner(R, EXPF.slice(2))} local.get:${R} local.get:${R} f32x4.mul f32x4.mul local.get:${R} f32x4.add ${f(1)} f32x4.add ${scale(`local.get:${K1}`)} ${scale(`local.get:${KI} local.get:${K1} i32x4.sub`)}`,
  };
}

const SQRTHF = Math.SQRT1_2;
// ln(1 + f) = f - f^2/2 + f^3 (c0 + c1 f + ... + c6 f^6): a minimax fit of relative error 3e-8 on
// f in [sqrt(1/2) - 1, sqrt 2 - 1] (Cephes' logf carries two more terms)
const LOGF = [0.3333391074025635, -0.25001337046963495, 0.19963063666259329, -0.16577584300899417, 0.1491476910378826, -0.142674905589869, 0.08700436871839777];
const FLT_MIN = 1.1754943508222875e-38;

/**
 * ln x = e ln 2 + ln m, m in [sqrt(1/2), sqrt 2) from the representation (a subnormal scaled by
 * 2^23 first); ln(1 + f) by a polynomial. Then the special lanes, by selection (no branch,
 * no call: a call in the loop would make V8 spill every vector register around it): 0 gives -inf,
 * infinity itself, and a negative number or NaN gives NaN.
 */
export function log4(x: string, fresh: Fresh): Inlined {
  const [X, XS, E, M, S, F, Z, EF, Y] = ['x', 'xs', 'e', 'm', 's', 'f', 'z', 'ef', 'y'].map(fresh) as string[] as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  return {
    lines: [
      `${x} local.set:${X}`,
      // subnormals (and, harmlessly, what is below them) times 2^23, with 23 off their exponent
      `local.get:${X} ${f(FLT_MIN)} f32x4.lt local.set:${S}`,
      `local.get:${X} ${f(2 ** 23)} f32x4.mul local.get:${X} local.get:${S} v128.bitselect local.set:${XS}`,
      // m in [1/2, 1) with x = m 2^(e + 1)... then, below sqrt(1/2), 2m and one less e
      `local.get:${XS} i32.const:23 i32x4.shr_u ${i(126)} i32x4.sub local.get:${S} ${i(-23)} v128.and i32x4.add local.set:${E}`,
      `local.get:${XS} ${i(0x007fffff)} v128.and ${i(0x3f000000)} v128.or local.tee:${M} ${f(SQRTHF)} f32x4.lt local.set:${S}`,
      `local.get:${M} local.get:${M} local.get:${S} v128.and f32x4.add ${f(1)} f32x4.sub local.set:${F}`,
      `local.get:${E} local.get:${S} i32x4.add f32x4.convert_i32x4_s local.set:${EF}`,
      `local.get:${F} local.get:${F} f32x4.mul local.set:${Z}`,
      `${horner(F, LOGF)} local.get:${F} f32x4.mul local.get:${Z} f32x4.mul local.get:${EF} ${f(C2)} f32x4.mul f32x4.add local.get:${Z} ${f(-0.5)} f32x4.mul f32x4.add local.set:${Y}`,
      `local.get:${F} local.get:${Y} f32x4.add local.get:${EF} ${f(C1)} f32x4.mul f32x4.add local.set:${Y}`,
      `${f(-Infinity)} local.get:${Y} local.get:${X} ${f(0)} f32x4.eq v128.bitselect local.set:${Y}`,
      `${f(Infinity)} local.get:${Y} local.get:${X} ${f(Infinity)} f32x4.eq v128.bitselect local.set:${Y}`,
      `local.get:${Y} ${f(NaN)} local.get:${X} ${f(0)} f32x4.ge v128.bitselect local.set:${Y}`,
    ],
    expr: `local.get:${Y}`,
  };
}

/**
 * ln(1 + x) = ln(u) (x / (u - 1)), u = 1 + x rounded (Goldberg; the quotient first, near 1, so that
 * no product overflows), x itself where u == 1 (keeps -0), and infinity at infinity.
 */
export function log1p4(x: string, fresh: Fresh): Inlined {
  const [X, U, Y] = ['x', 'u', 'y'].map(fresh) as [string, string, string];
  const inner = log4(`local.get:${U}`, (name) => fresh(`log_${name}`));
  return {
    lines: [
      `${x} local.set:${X}`,
      `local.get:${X} ${f(1)} f32x4.add local.set:${U}`,
      ...inner.lines,
      `${inner.expr} local.get:${X} local.get:${U} ${f(1)} f32x4.sub f32x4.div f32x4.mul local.get:${X} local.get:${U} ${f(1)} f32x4.ne v128.bitselect local.set:${Y}`,
      `local.get:${X} local.get:${Y} local.get:${X} ${f(Infinity)} f32x4.eq v128.bitselect local.set:${Y}`,
    ],
    expr: `local.get:${Y}`,
  };
}

// expm1(x) = x + x^2/2 + x^3 (c0 + ... + c4 x^4) on |x| <= 1/2: a minimax fit of relative error 5e-9
const EXPM1 = [0.16666663368400209, 0.04166587099605389, 0.008333705790921766, 0.0013981225103227198, 0.00019805942880378805];

/** e^x - 1: a polynomial where |x| <= 1/2 (no cancellation), else e^x - 1 (within 3 ulp there). */
export function expm14(x: string, fresh: Fresh): Inlined {
  const [X, Y] = ['x', 'y'].map(fresh) as [string, string];
  const e = exp4(`local.get:${X}`, (name) => fresh(`exp_${name}`));
  return {
    lines: [
      `${x} local.set:${X}`,
      ...e.lines,
      `${e.expr} ${f(1)} f32x4.sub local.set:${Y}`,
      `${horner(X, EXPM1)} local.get:${X} local.get:${X} f32x4.mul local.get:${X} f32x4.mul f32x4.mul local.get:${X} local.get:${X} f32x4.mul ${f(0.5)} f32x4.mul f32x4.add local.get:${X} f32x4.add`,
      `local.get:${Y} local.get:${X} f32x4.abs ${f(0.5)} f32x4.le v128.bitselect local.set:${Y}`,
      // ±0 itself (the sum above gives +0 for -0)
      `local.get:${X} local.get:${Y} local.get:${X} ${f(0)} f32x4.eq v128.bitselect local.set:${Y}`,
    ],
    expr: `local.get:${Y}`,
  };
}

// Cephes' tanhf: tanh x = x + x^3 P(x^2) where |x| < 0.625
const TANHF = [-3.33332819422e-1, 1.33314422036e-1, -5.37397155531e-2, 2.06390887954e-2, -5.70498872745e-3];

/** tanh x: a polynomial where |x| < 0.625, else 1 - 2 / (e^(2|x|) + 1) with x's sign (1 from |x| = 9 on; NaN stays NaN). */
export function tanh4(x: string, fresh: Fresh): Inlined {
  const [X, A, Z, Y] = ['x', 'a', 'z', 'y'].map(fresh) as [string, string, string, string];
  const e = exp4(`local.get:${A} local.get:${A} f32x4.add`, (name) => fresh(`exp_${name}`));
  return {
    lines: [
      `${x} local.tee:${X} f32x4.abs local.set:${A}`,
      ...e.lines,
      `${f(1)} ${f(2)} ${e.expr} ${f(1)} f32x4.add f32x4.div f32x4.sub local.get:${X} ${i(-0x80000000)} v128.and v128.or local.set:${Y}`,
      `local.get:${X} local.get:${X} f32x4.mul local.set:${Z}`,
      `${horner(Z, TANHF)} local.get:${Z} f32x4.mul local.get:${X} f32x4.mul local.get:${X} f32x4.add local.get:${Y} local.get:${A} ${f(0.625)} f32x4.lt v128.bitselect local.set:${Y}`,
      // ±0 itself (the sum above gives +0 for -0)
      `local.get:${X} local.get:${Y} local.get:${X} ${f(0)} f32x4.eq v128.bitselect local.set:${Y}`,
    ],
    expr: `local.get:${Y}`,
  };
}

export const INLINE4: Readonly<Record<string, (x: string, fresh: Fresh) => Inlined>> = { exp: exp4, log: log4, log1p: log1p4, expm1: expm14, tanh: tanh4 };

/** A Fresh over `locals`: v128 locals `<prefix><n>_<name>`, n counting calls. */
export function freshNames(locals: Locals, prefix: string): () => Fresh {
  let n = 0;
  return () => {
    const id = n++;
    return (name) => {
      const l = `${prefix}${id}_${name}`;
      locals.set(l, 'v128');
      return l;
    };
  };
}
