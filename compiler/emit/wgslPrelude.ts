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
    deps: [],
    code: `// e^x - 1: Taylor to x^9/9! for |x| < 0.5 (relative error < 3e-10), else the builtin exp
fn lc_expm1(x: f32) -> f32 {
  if (abs(x) < 0.5f) { return x * ${horner('x', ['1.0f', ...invFact])}; }
  return exp(x) - 1.0f;
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
  lc_pow: {
    deps: ['lc_isnan', 'lc_isinf'],
    code: `// Math.pow: x^0 = 1, negative bases with integer exponents, 1^±inf = NaN
fn lc_pow(x: f32, y: f32) -> f32 {
  if (y == 0.0f) { return 1.0f; }
  if (lc_isnan(x) || lc_isnan(y)) { return lc_k.w; }
  if (y == 1.0f) { return x; }
  if (y == 2.0f) { return x * x; }
  let ax = abs(x);
  if (ax == 1.0f && lc_isinf(y)) { return lc_k.w; }
  let negative = bitcast<u32>(x) >= 0x80000000u;
  let integer = !lc_isinf(y) && floor(y) == y;
  if (negative && x != 0.0f && !lc_isinf(x) && !lc_isinf(y) && !integer) { return lc_k.w; }
  let r = pow(ax, y);
  let odd = integer && floor(y * 0.5f) != y * 0.5f;
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

/** Workgroup reductions (sum or NaN-propagating max) of one f32 per invocation, in a fixed order. */
export function workgroupReductions(size: number, subgroups: boolean): string {
  const half = size >> 1;
  const plain = (mode: 'sum' | 'max'): string => {
    const op = mode === 'sum' ? 'lc_red[li] + lc_red[li + s]' : 'lc_max2(lc_red[li], lc_red[li + s])';
    return `fn lc_wg_${mode}(v: f32, li: u32) -> f32 {
  lc_red[li] = v;
  workgroupBarrier();
  for (var s = ${half}u; s > 0u; s = s >> 1u) {
    if (li < s) { lc_red[li] = ${op}; }
    workgroupBarrier();
  }
  let total = lc_red[0];
  workgroupBarrier();
  return total;
}`;
  };
  // a shared-memory tree down to one subgroup's width, then one subgroup operation: each lane
  // reads the slot of its own subgroup_invocation_id, so nothing depends on how invocations map
  // to subgroups
  const sub = (mode: 'sum' | 'max'): string => {
    const op = mode === 'sum' ? 'lc_red[li] + lc_red[li + s]' : 'lc_max2(lc_red[li], lc_red[li + s])';
    const finish =
      mode === 'sum'
        ? `let total = subgroupAdd(select(0.0f, lc_red[min(sgi, ${size - 1}u)], live));`
        : `let x = select(lc_k.z, lc_red[min(sgi, ${size - 1}u)], live);
  let total = select(subgroupMax(x), lc_k.w, subgroupAny(lc_isnan(x)));`;
    return `fn lc_wg_${mode}(v: f32, li: u32, sgi: u32, sgs: u32) -> f32 {
  if (li == 0u) { lc_sgs = sgs; }
  let width = workgroupUniformLoad(&lc_sgs);
  lc_red[li] = v;
  workgroupBarrier();
  for (var s = ${half}u; s >= width; s = s >> 1u) {
    if (li < s) { lc_red[li] = ${op}; }
    workgroupBarrier();
  }
  let live = sgi < min(width, ${size}u);
  ${finish}
  workgroupBarrier();
  return total;
}`;
  };
  const decl = [`var<workgroup> lc_red: array<f32, ${size}>;`, ...(subgroups ? ['var<workgroup> lc_sgs: u32;'] : [])];
  return [...decl, ...(subgroups ? [sub('sum'), sub('max')] : [plain('sum'), plain('max')])].join('\n');
}
