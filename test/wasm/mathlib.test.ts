// The module's own exp, log and log1p against the host's, over their whole range and edges:
// float64 kernels need 1e-10 relative (SCHEMA), the fast paths give about 1e-16.
import { describe, it, expect } from 'vitest';
import { encodeModule } from '../../compiler/emit/wasm/encoder.js';
import { MATHLIB } from '../../compiler/emit/wasm/mathlib.js';

function load(precision: 'f32' | 'f64' = 'f64'): Record<'exp' | 'log' | 'log1p', (x: number) => number> {
  const bytes = encodeModule({
    memory: { initialPages: 1, maxPages: 1, shared: false },
    imports: ['host_exp', 'host_log', 'host_log1p'].map((name) => ({ name, params: ['f64'], result: 'f64' })),
    funcs: Object.values(MATHLIB[precision]).map((l) => ({ ...l.def, exported: true })),
  });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource), { env: { memory: new WebAssembly.Memory({ initial: 1, maximum: 1 }), host_exp: Math.exp, host_log: Math.log, host_log1p: Math.log1p } });
  return inst.exports as never;
}

describe('the WebAssembly math library', () => {
  const m = load();
  const rel = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.abs(b));
  const xs = [...Array.from({ length: 20001 }, (_, i) => (i - 10000) * 0.0731), ...Array.from({ length: 2000 }, (_, i) => Math.pow(10, (i - 1000) / 30))];
  it('exp agrees with Math.exp to 4e-16, and at the edges exactly', () => {
    let worst = 0;
    for (const x of xs) if (x < 700) worst = Math.max(worst, rel(m.exp(x), Math.exp(x)));
    expect(worst).toBeLessThan(4e-16);
    for (const x of [NaN, Infinity, -Infinity, 0, -0, 709.5, 710, -745, -746, -708.5]) expect(m.exp(x)).toBe(Math.exp(x));
  });
  it('log agrees with Math.log to 4e-16, and at the edges exactly', () => {
    let worst = 0;
    for (const x of xs) if (x > 0) worst = Math.max(worst, rel(m.log(x), Math.log(x)));
    expect(worst).toBeLessThan(4e-16);
    for (const x of [NaN, Infinity, -Infinity, 0, -0, -1, 1, 5e-324, 1e-310]) expect(m.log(x)).toBe(Math.log(x));
  });
  it('the float32 kernels\' versions agree to 1e-10 (SCHEMA allows float32 1e-5)', () => {
    const f = load('f32');
    let worst = 0;
    for (const x of xs) {
      if (x < 700) worst = Math.max(worst, rel(f.exp(x), Math.exp(x)));
      if (x > 0) worst = Math.max(worst, rel(f.log(x), Math.log(x)));
      if (x > -1) worst = Math.max(worst, rel(f.log1p(x), Math.log1p(x)));
    }
    expect(worst).toBeLessThan(1e-10);
  });
  it('log1p agrees with Math.log1p to 1e-15, and at the edges exactly', () => {
    let worst = 0;
    for (const x of [...xs, ...xs.map((v) => v * 1e-9)]) if (x > -1) worst = Math.max(worst, rel(m.log1p(x), Math.log1p(x)));
    expect(worst).toBeLessThan(1e-15);
    for (const x of [NaN, Infinity, -Infinity, 0, -0, -1, -2, 1e-300, -1e-300]) expect(Object.is(m.log1p(x), Math.log1p(x))).toBe(true);
  });
});
