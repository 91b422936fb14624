// Seeded test data for the tests and benches that need many numbers fast: a 32-bit linear
// congruential generator (Numerical Recipes' constants), uniform in [-scale/2, scale/2).
export function lcgFloat32(n: number, seed: number, scale = 4): Float32Array {
  const d = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    d[i] = (s / 2 ** 32 - 0.5) * scale;
  }
  return d;
}
