// The WGSL helper functions the table's `wgsl` spellings call (lc_*), emitted into a module only
// when used. Why they exist:
// - WGSL has no log1p, expm1 or xlogy, and its log / tanh are only accurate to 2^-21 absolute near
//   their zeros (measured on lavapipe: tanh 57 ulp, log 24 ulp): series keep them within a few ulp.
// - WGSL's max/min, sign and pow leave NaN, signed zeros and negative bases to the implementation;
//   JS's Math.max / Math.sign / Math.pow define them, and the JS backend is what we must match.
// - Drivers may assume no NaN or infinity (WGSL allows it; Mesa's NIR folds x != x to false and
//   x * 0.0 to 0.0 — measured). So NaN tests are integer bit tests, and the IEEE specials and zero
//   come from the uniform buffer (lc_k: 0, +inf, -inf, NaN), where no compiler can see them.

const f = (x: number): string => {
  const s = String(Math.fround(x));
  return `${s.includes('.') || s.includes('e') ? s : `${s}.0`}f`;
};
/** 1/k! for k = 2..9, as f32 literals (expm1's Taylor coefficients) */
const invFact = [2, 3, 4, 5, 6, 7, 8, 9].map((k) => f(1 / [1, 2, 3, 4, 5, 6, 7, 8, 9].slice(0, k).reduce((a, b) => a * b, 1)));
/** 1/(2k+1) for k = 1..8 (the atanh series of log1p) */
const invOdd = [3, 5, 7, 9, 11, 13, 15, 17].map((k) => f(1 / k));

const horner = (v: string, coefs: readonly string[]): string => coefs.reduceRight((acc, c) => `(${c} + ${v} * ${acc})`);

interface Helper {
  readonly deps: readonly string[];
  readonly code: string;
}

export const WGSL_HELPERS: Readonly<Record<string, Helper>> = {
  lc_r: {
    deps: [],
    code: `// a float32 result, as the JS backend rounds it (fr): opaque to the shader compiler, which may
// otherwise reassociate (a - b) + c into a + (c - b) or contract a * b + c into an fma (measured on
// Mesa: it does), changing results where they cancel. x ^ 0, with the 0 from the uniform.
fn lc_r(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) ^ bitcast<u32>(lc_k.x)); }`,
  },
  lc_isnan: { deps: [], code: 'fn lc_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }' },
  lc_isinf: { deps: [], code: 'fn lc_isinf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }' },
  lc_max: {
    deps: ['lc_isnan'],
    code: `// Math.max: NaN if either is NaN, +0 over -0
fn lc_max(a: f32, b: f32) -> f32 {
  if (lc_isnan(a) || lc_isnan(b)) { return lc_k.w; }
  if (a == b) { return bitcast<f32>(bitcast<u32>(a) & bitcast<u32>(b)); }
  return select(b, a, a > b);
}`,
  },
  lc_min: {
    deps: ['lc_isnan'],
    code: `// Math.min: NaN if either is NaN, -0 over +0
fn lc_min(a: f32, b: f32) -> f32 {
  if (lc_isnan(a) || lc_isnan(b)) { return lc_k.w; }
  if (a == b) { return bitcast<f32>(bitcast<u32>(a) | bitcast<u32>(b)); }
  return select(b, a, a < b);
}`,
  },
  lc_maxacc: {
    deps: ['lc_isnan'],
    code: `// the JS kernels' max accumulation: (v > acc || v !== v) ? v : acc (the first NaN sticks)
fn lc_maxacc(acc: f32, v: f32) -> f32 { return select(acc, v, v > acc || lc_isnan(v)); }`,
  },
  lc_max2: {
    deps: ['lc_isnan'],
    code: `// combining two partial maxima: NaN-propagating
fn lc_max2(a: f32, b: f32) -> f32 {
  if (lc_isnan(a)) { return a; }
  if (lc_isnan(b)) { return b; }
  return select(b, a, a >= b);
}`,
  },
  lc_sign: {
    deps: ['lc_isnan'],
    code: `// Math.sign: NaN stays NaN, ±0 stay themselves
fn lc_sign(x: f32) -> f32 {
  if (lc_isnan(x)) { return x; }
  return select(select(x, -1.0f, x < 0.0f), 1.0f, x > 0.0f);
}`,
  },
  lc_log1p_series: {
    deps: [],
    code: `// log(1 + u) for |u| <= 0.5: 2 atanh(s), s = u / (2 + u), |s| <= 1/3
fn lc_log1p_series(u: f32) -> f32 {
  let s = u / (2.0f + u);
  let s2 = s * s;
  return 2.0f * s * ${horner('s2', ['1.0f', ...invOdd])};
}`,
  },
  lc_log: {
    deps: ['lc_log1p_series'],
    code: `// ln x: the builtin, except near 1 (where it is only absolutely accurate) and for subnormals
fn lc_log(x: f32) -> f32 {
  if (x > 0.5f && x < 1.5f) { return lc_log1p_series(x - 1.0f); }
  if (x > 0.0f && x < 1.17549435e-38f) { return log(x * 16777216.0f) - 16.635532f; }
  return log(x);
}`,
  },
  lc_log1p: {
    deps: ['lc_log1p_series', 'lc_log'],
    code: `fn lc_log1p(x: f32) -> f32 {
  if (abs(x) <= 0.5f) { return lc_log1p_series(x); }
  return lc_log(1.0f + x);
}`,
  },
  lc_expm1: {
    deps: ['lc_exp'],
    code: `// e^x - 1: Taylor to x^9/9! for |x| < 0.5 (relative error < 3e-10), else the builtin exp
fn lc_expm1(x: f32) -> f32 {
  if (abs(x) < 0.5f) { return x * ${horner('x', ['1.0f', ...invFact])}; }
  return lc_exp(x) - 1.0f;
}`,
  },
  lc_tanh: {
    deps: ['lc_expm1'],
    code: `// tanh x = expm1(2x) / (expm1(2x) + 2): a few ulp everywhere (the builtin loses digits near 0)
fn lc_tanh(x: f32) -> f32 {
  if (abs(x) > 9.0f) { return select(-1.0f, 1.0f, x > 0.0f); }
  let e = lc_expm1(2.0f * x);
  return e / (e + 2.0f);
}`,
  },
  lc_pow2: { deps: [], code: '// 2^k for k in [-126, 127], exactly\nfn lc_pow2(k: i32) -> f32 { return bitcast<f32>(u32(k + 127) << 23u); }' },
  lc_exp: {
    deps: ['lc_isnan', 'lc_r', 'lc_pow2'],
    code: `// e^x within a few ulp (the builtin drifts to tens of ulp for |x| near 88): x = n ln2 + r, the
// builtin on |r| <= ln2 / 2, then two exact scalings (the second rounds once into subnormals)
fn lc_exp(x: f32) -> f32 {
  if (lc_isnan(x)) { return x; }
  if (x > 89.0f) { return lc_k.y; }
  if (x < -104.0f) { return lc_k.x; }
  let n = round(x * 1.44269502f);
  let r = lc_r(lc_r(x - n * 0.693145751953125f) - n * 1.42860677e-6f);
  let k = i32(n);
  let k1 = k / 2;
  return exp(r) * lc_pow2(k1) * lc_pow2(k - k1);
}`,
  },
  lc_pow: {
    deps: ['lc_isnan', 'lc_isinf', 'lc_r', 'lc_exp', 'lc_log'],
    code: `// Math.pow: x^0 = 1, negative bases with integer exponents, zeros and infinities as JS has them
fn lc_pow(x: f32, y: f32) -> f32 {
  if (y == 0.0f) { return 1.0f; }
  if (lc_isnan(x) || lc_isnan(y)) { return lc_k.w; }
  if (y == 1.0f) { return x; }
  if (y == 2.0f) { return x * x; }
  let ax = abs(x);
  let negative = bitcast<u32>(x) >= 0x80000000u;
  let integer = !lc_isinf(y) && floor(y) == y;
  let odd = integer && floor(y * 0.5f) != y * 0.5f;
  var r: f32;
  if (lc_isinf(y)) {
    if (ax == 1.0f) { return lc_k.w; }
    r = select(lc_k.x, lc_k.y, (ax > 1.0f) == (y > 0.0f));
  } else if (ax == 0.0f) {
    r = select(lc_k.x, lc_k.y, y < 0.0f);
  } else if (lc_isinf(ax)) {
    r = select(lc_k.x, lc_k.y, y > 0.0f);
  } else if (integer && abs(y) <= 64.0f) {
    // binary powering: a few roundings (the builtin, exp2(y log2 x), drifts by |y log2 x| ulp)
    var b = ax;
    var e = u32(abs(y));
    var acc = 1.0f;
    loop {
      if ((e & 1u) != 0u) { acc = lc_r(acc * b); }
      e = e >> 1u;
      if (e == 0u) { break; }
      b = lc_r(b * b);
    }
    r = select(acc, 1.0f / acc, y < 0.0f);
  } else {
    if (negative && !integer) { return lc_k.w; }
    // e^(y ln x) with lc_log, accurate near x = 1 where the builtin pow (exp2(y log2 x)) is not
    if (y == 0.5f) { r = sqrt(ax); } else if (y == -0.5f) { r = 1.0f / sqrt(ax); } else { r = lc_exp(lc_r(y * lc_log(ax))); }
  }
  return select(r, -r, negative && odd);
}`,
  },
  lc_xlogy: {
    deps: ['lc_isnan', 'lc_log'],
    code: `// torch.xlogy: NaN where y is NaN, else 0 where x == 0, else x ln y
fn lc_xlogy(x: f32, y: f32) -> f32 {
  if (lc_isnan(y)) { return y; }
  if (x == 0.0f) { return 0.0f; }
  return x * lc_log(y);
}`,
  },
};

/** The helpers `code` calls, with their dependencies, in dependency order. */
export function helpersFor(code: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const d of WGSL_HELPERS[name]!.deps) add(d);
    out.push(WGSL_HELPERS[name]!.code);
  };
  for (const name of Object.keys(WGSL_HELPERS)) if (new RegExp(`\\b${name}\\(`).test(code)) add(name);
  return out;
}

/**
 * Workgroup reductions (sum or NaN-propagating max) of one f32 per invocation, in a fixed order,
 * with every invocation receiving the total. Two levels over workgroup memory: 16 invocations
 * each combine 16 slots, then everyone combines those 16 (3 barriers, where a halving tree takes
 * log2(size) + 2: barriers dominate short reductions such as one softmax row). With subgroups,
 * each subgroup first reduces itself (subgroupAdd / subgroupMax) and only its lane 0 fills a slot
 * (the others the identity), so nothing depends on how invocations map to subgroups.
 */
export function workgroupReductions(size: number, subgroups: boolean, tag = ''): string {
  const side = Math.sqrt(size);
  if (!Number.isInteger(side)) throw new Error(`internal: workgroup size ${size} is not a square`);
  const fn = (mode: 'sum' | 'max'): string => {
    const id = mode === 'sum' ? '0.0f' : 'lc_k.z';
    const op = (a: string, b: string): string => (mode === 'sum' ? `${a} + ${b}` : `lc_max2(${a}, ${b})`);
    const own = subgroups
      ? mode === 'sum'
        ? `let own = select(${id}, subgroupAdd(v), sgi == 0u);`
        : `let own = select(${id}, select(subgroupMax(v), lc_k.w, subgroupAny(lc_isnan(v))), sgi == 0u);`
      : 'let own = v;';
    return `fn lc_wg${tag}_${mode}(v: f32, li: u32${subgroups ? ', sgi: u32, sgs: u32' : ''}) -> f32 {
  ${own}
  lc_red${tag}[li] = own;
  workgroupBarrier();
  if (li < ${side}u) {
    var acc = lc_red${tag}[li * ${side}u];
    for (var k = 1u; k < ${side}u; k = k + 1u) { acc = ${op('acc', `lc_red${tag}[li * ${side}u + k]`)}; }
    lc_red${tag}[li * ${side}u] = acc;
  }
  workgroupBarrier();
  var total = lc_red${tag}[0];
  for (var k = 1u; k < ${side}u; k = k + 1u) { total = ${op('total', `lc_red${tag}[k * ${side}u]`)}; }
  workgroupBarrier();
  return total;
}`;
  };
  return [`var<workgroup> lc_red${tag}: array<f32, ${size}>;`, fn('sum'), fn('max')].join('\n');
}
