// The module's own exp, log and log1p against the host's, over their whole range and edges:
// float64 kernels need 1e-10 relative (SCHEMA), the fast paths give about 1e-16. Then the float32
// kernels' four-lane versions against the float32 rounding of the exact value, in ulps.
import { describe, it, expect } from 'vitest';
import { encodeModule } from '../../compiler/emit/wasm/encoder.js';
import { MATHLIB } from '../../compiler/emit/wasm/mathlib.js';
import { INLINE4 } from '../../compiler/emit/wasm/math4.js';

type Fns = Record<'exp' | 'log' | 'log1p' | 'vexp0' | 'vexp1' | 'vlog0' | 'vlog1' | 'vlog1p0' | 'vlog1p1', (x: number, y?: number) => number>;
function load(precision: 'f32' | 'f64' = 'f64'): Fns {
  // the vector versions through scalar wrappers: lane `l` of f(x, y)
  const lanes = ['exp', 'log', 'log1p'].flatMap((f) =>
    [0, 1].map((l) => ({
      name: `v${f}${l}`,
      params: [
        ['x', 'f64'],
        ['y', 'f64'],
      ] as const,
      result: 'f64' as const,
      locals: new Map(),
      body: [`local.get:x f64x2.splat local.get:y f64x2.replace_lane:1 call:v${f} f64x2.extract_lane:${l}`],
      exported: true,
    })),
  );
  const bytes = encodeModule({
    memory: { initialPages: 1, maxPages: 1, shared: false },
    imports: ['host_exp', 'host_log', 'host_log1p'].map((name) => ({ name, params: ['f64'], result: 'f64' })),
    funcs: [...Object.values(MATHLIB[precision]).map((l) => ({ ...l.def, exported: !l.def.name.startsWith('v') })), ...lanes],
  });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), {
    env: { memory: new WebAssembly.Memory({ initial: 1, maximum: 1 }), host_exp: Math.exp, host_log: Math.log, host_log1p: Math.log1p },
  });
  return inst.exports as never;
}

describe('the WebAssembly math library', () => {
  const m = load();
  const rel = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.abs(b));
  const xs = [...Array.from({ length: 20001 }, (_, i) => (i - 10000) * 0.0731), ...Array.from({ length: 2000 }, (_, i) => Math.pow(10, (i - 1000) / 30))];
  it('exp agrees with Math.exp to 6e-16 (3 ulp), and at the edges exactly', () => {
    let worst = 0;
    for (const x of xs) if (x < 700) worst = Math.max(worst, rel(m.exp(x), Math.exp(x)));
    expect(worst).toBeLessThan(6e-16);
    for (const x of [NaN, Infinity, -Infinity, 0, -0, 709.5, 710, -745, -746, -708.5]) expect(m.exp(x)).toBe(Math.exp(x));
  });
  it('log agrees with Math.log to 4e-16, and at the edges exactly', () => {
    let worst = 0;
    for (const x of xs) if (x > 0) worst = Math.max(worst, rel(m.log(x), Math.log(x)));
    expect(worst).toBeLessThan(4e-16);
    for (const x of [NaN, Infinity, -Infinity, 0, -0, -1, 1, 5e-324, 1e-310]) expect(m.log(x)).toBe(Math.log(x));
  });
  it("the float32 kernels' versions agree to 1e-10 (SCHEMA allows float32 1e-5)", () => {
    const f = load('f32');
    let worst = 0;
    for (const x of xs) {
      if (x < 700) worst = Math.max(worst, rel(f.exp(x), Math.exp(x)));
      if (x > 0) worst = Math.max(worst, rel(f.log(x), Math.log(x)));
      if (x > -1) worst = Math.max(worst, rel(f.log1p(x), Math.log1p(x)));
    }
    expect(worst).toBeLessThan(1e-10);
  });
  it("the two-lane versions give the scalar versions' bits in each lane, fast path or not", () => {
    for (const p of ['f64', 'f32'] as const) {
      const f = load(p);
      for (let i = 0; i < xs.length; i++) {
        const [x, y] = [xs[i]!, xs[(i * 7919) % xs.length]!];
        for (const [name, lane0, lane1] of [
          ['exp', f.vexp0, f.vexp1],
          ['log', f.vlog0, f.vlog1],
          ['log1p', f.vlog1p0, f.vlog1p1],
        ] as const) {
          const s = f[name];
          if (!Object.is(lane0(x, y), s(x)) || !Object.is(lane1(x, y), s(y))) expect(`${p} v${name}(${x}, ${y})`).toBe(`[${s(x)}, ${s(y)}]`);
        }
      }
      for (const e of [NaN, Infinity, -Infinity, 0, -0, -1, 1e-310]) {
        expect(Object.is(f.vexp0(e, 1), f.exp(e))).toBe(true);
        expect(Object.is(f.vlog1(2, e), f.log(e))).toBe(true);
        expect(Object.is(f.vlog1p0(e, 0.5), f.log1p(e))).toBe(true);
      }
    }
  });
  it('log1p agrees with Math.log1p to 1e-15, and at the edges exactly', () => {
    let worst = 0;
    for (const x of [...xs, ...xs.map((v) => v * 1e-9)]) if (x > -1) worst = Math.max(worst, rel(m.log1p(x), Math.log1p(x)));
    expect(worst).toBeLessThan(1e-15);
    for (const x of [NaN, Infinity, -Infinity, 0, -0, -1, -2, 1e-300, -1e-300]) expect(Object.is(m.log1p(x), Math.log1p(x))).toBe(true);
  });
});

/** The float32 kernels' four-lane exp, log, log1p, expm1 and tanh (math4.ts), each as a function of four floats in memory. */
function load4(): { memory: Float32Array; run: Record<'exp' | 'log' | 'log1p' | 'expm1' | 'tanh', () => void> } {
  const funcs = Object.entries(INLINE4).map(([name, inline]) => {
    const locals = new Map<string, 'v128'>();
    let n = 0;
    const r = inline('i32.const:0 v128.load', (local) => {
      const l = `t${n++}_${local}`;
      locals.set(l, 'v128');
      return l;
    });
    return { name, params: [], locals, body: [...r.lines, `i32.const:0 ${r.expr} v128.store`], exported: true };
  });
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const bytes = encodeModule({ memory: { initialPages: 1, maxPages: 1, shared: false }, imports: [], funcs });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), { env: { memory } });
  return { memory: new Float32Array(memory.buffer, 0, 4), run: inst.exports as never };
}

describe("the float32 kernels' four-lane exp, log, log1p, expm1 and tanh", () => {
  const { memory, run } = load4();
  const ulp = (v: number): number => {
    const a = Math.abs(v);
    return a === 0 ? 2 ** -149 : 2 ** Math.max(Math.floor(Math.log2(a)) - 23, -149);
  };
  /** the worst error in units of the last place against Math's function rounded to float32, over xs */
  const worstUlp = (name: 'exp' | 'log' | 'log1p' | 'expm1' | 'tanh', ref: (x: number) => number, xs: readonly number[]): number => {
    let worst = 0;
    for (let i = 0; i < xs.length; i += 4) {
      const lanes = xs.slice(i, i + 4).map(Math.fround);
      while (lanes.length < 4) lanes.push(1);
      memory.set(lanes);
      run[name]();
      lanes.forEach((x, l) => {
        const want = Math.fround(ref(x));
        const got = memory[l]!;
        if (!Number.isFinite(want) || want === 0) {
          if (!Object.is(got, want)) worst = Infinity;
        } else worst = Math.max(worst, Math.abs(got - want) / ulp(want));
      });
    }
    return worst;
  };
  // every exponent of float32 (subnormals too), a few mantissas each; and a dense sweep around 0
  const spread = [
    ...Array.from({ length: 254 * 16 }, (_, i) => (1 + ((i * 0.6180339887) % 1)) * 2 ** ((i >> 4) - 126)),
    ...Array.from({ length: 23 * 4 }, (_, i) => (1 + ((i * 0.6180339887) % 1)) * 2 ** ((i >> 2) - 149)),
  ];
  const dense = Array.from({ length: 40001 }, (_, i) => (i - 20000) * 0.0061);
  it('exp: within 1 ulp of the rounded exact value from underflow to overflow, and exactly 0, infinity, NaN beyond', () => {
    expect(worstUlp('exp', Math.exp, [...dense, ...dense.map((x) => x * 17)])).toBeLessThanOrEqual(1);
    expect(worstUlp('exp', Math.exp, [NaN, Infinity, -Infinity, 0, -0, 88.72, 88.73, 89, 100, -87.3, -103.9, -104, -1e30, 3e38])).toBeLessThanOrEqual(1);
  });
  it('log: within 1 ulp over every exponent (subnormals included), exactly -inf at ±0, NaN below 0, infinity at infinity', () => {
    expect(worstUlp('log', Math.log, [...spread, ...dense.filter((x) => x > 0)])).toBeLessThanOrEqual(1);
    expect(worstUlp('log', Math.log, [NaN, Infinity, -Infinity, 0, -0, -1, 1, 1e-45, -1e-45, 1.1754942e-38, 3.4e38])).toBeLessThanOrEqual(1);
  });
  it('log1p: within 2 ulp from -1 to infinity, x itself where 1 + x rounds to 1 (so -0 stays -0), exactly at the edges', () => {
    expect(worstUlp('log1p', Math.log1p, [...spread, ...spread.map((x) => -x).filter((x) => x > -1), ...dense.filter((x) => x > -1)])).toBeLessThanOrEqual(2);
    expect(worstUlp('log1p', Math.log1p, [NaN, Infinity, -Infinity, 0, -0, -1, -2, 1e-45, -1e-45, 1e-30, 3.4e38])).toBeLessThanOrEqual(2);
  });
  const tiny = spread.flatMap((x) => (x < 1 ? [x, -x] : []));
  it('expm1: within 2 ulp, small arguments without cancellation (x itself below 2^-24), and -1, infinity, NaN at the edges', () => {
    expect(worstUlp('expm1', Math.expm1, [...dense, ...dense.map((x) => x * 15), ...tiny])).toBeLessThanOrEqual(2);
    expect(worstUlp('expm1', Math.expm1, [NaN, Infinity, -Infinity, 0, -0, 0.5, -0.5, 88.7, 89, -104, -200, 1e-30])).toBeLessThanOrEqual(2);
  });
  it('tanh: within 1 ulp, odd (signed zeros kept), exactly ±1 from |x| = 9 on, NaN stays NaN', () => {
    expect(worstUlp('tanh', Math.tanh, [...dense, ...tiny])).toBeLessThanOrEqual(1);
    expect(worstUlp('tanh', Math.tanh, [NaN, Infinity, -Infinity, 0, -0, 0.625, -0.625, 9, -9, 30, 1e-30, -1e-45])).toBeLessThanOrEqual(1);
  });
});
