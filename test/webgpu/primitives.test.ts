// Every elementwise primitive's WGSL spelling against the JS backend's on IEEE special values:
// NaN, ±inf, ±0, subnormals, huge and tiny numbers. NaN and infinities must match exactly (the
// shader compiler must not fold NaN checks away or flush them), exact operations bit for bit,
// transcendental ones within a few float32 ulp.
import { describe, it, expect, afterAll } from 'vitest';
import * as L from 'lossc';
import { compile, tensor, type Node, type Tensor } from 'lossc';
import { releaseDevice } from '../../runtime/webgpu/device.js';
import { skipNote, skipReason } from './gpu.js';

afterAll(releaseDevice);

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, -0.5, 2, -2.5, 3, 1e-30, -1e-30, 1e30, 1e-40, 88.5, -88.5, 100, -100, 1e-7, 0.999, 1.001, 20];

const ulps = (a: number, b: number): number => {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  const key = (x: number): number => (x < 0 ? -2147483648 - x : x); // monotone over the float line
  return Math.abs(key(i[0]!) - key(i[1]!));
};

/** `null` when the GPU result agrees with the JS backend's. */
/**
 * `exact`: bit for bit (but +0 and -0 are equal); else within `ulpBound` float32 ulp. pow with a
 * fractional exponent is e^(y ln x) in float32, whose error grows with |y ln x| (up to 88): it gets 64.
 */
function disagree(gpu: Tensor, js: Tensor, exact: boolean, label: (i: number) => string, ulpBound = 8): string | null {
  for (let i = 0; i < js.data.length; i++) {
    const [g, j] = [gpu.data[i]!, js.data[i]!];
    if (Number.isNaN(j) || Number.isNaN(g)) {
      if (Number.isNaN(j) !== Number.isNaN(g)) return `${label(i)}: ${g} on WebGPU, ${j} on JS`;
      continue;
    }
    if (!Number.isFinite(j) || !Number.isFinite(g)) {
      if (g !== j) return `${label(i)}: ${g} on WebGPU, ${j} on JS`;
      continue;
    }
    if (exact ? !Object.is(g, j) && !(g === 0 && j === 0) : ulps(g, j) > ulpBound && Math.abs(g - j) > 1e-37)
      return `${label(i)}: ${g} on WebGPU, ${j} on JS (${ulps(g, j)} ulp)`;
  }
  return null;
}

type Unary = (x: Node) => Node;
type Binary = (a: Node, b: Node) => Node;
const b01 =
  (f: Binary): Binary =>
  (a, b) =>
    L.where(f(a, b), 1, 0);
const UNARY: Record<string, [Unary, boolean]> = {
  neg: [L.neg, true],
  abs: [L.abs, true],
  sign: [L.sign, true],
  exp: [L.exp, false],
  expm1: [L.expm1, false],
  log: [L.log, false],
  log1p: [L.log1p, false],
  sqrt: [L.sqrt, false],
  tanh: [L.tanh, false],
  relu: [L.relu, true],
  sigmoid: [L.sigmoid, false],
  softplus: [L.softplus, false],
  logSigmoid: [L.logSigmoid, false],
  isNaN: [(x) => L.where(L.ne(x, x), 1, 0), true],
};
const BINARY: Record<string, [Binary, boolean, number?]> = {
  add: [L.add, true],
  sub: [L.sub, true],
  mul: [L.mul, true],
  div: [L.div, false],
  pow: [L.pow, false, 64],
  maximum: [L.maximum, true],
  minimum: [L.minimum, true],
  xlogy: [L.xlogy, false],
  lt: [b01(L.lt), true],
  le: [b01(L.le), true],
  gt: [b01(L.gt), true],
  ge: [b01(L.ge), true],
  eq: [b01(L.eq), true],
  ne: [b01(L.ne), true],
  where: [(a, b) => L.where(L.gt(a, b), a, b), true],
};

describe.skipIf(skipReason !== null)(`primitives on WebGPU agree with JS on IEEE special values${skipNote}`, () => {
  const xs = tensor(SPECIAL, [SPECIAL.length]);
  for (const [name, [f, exact]] of Object.entries(UNARY)) {
    it(`${name}(x)`, async () => {
      const loss = compile({ name: `u_${name}`, inputs: ['x'], build: (x: Node) => f(x) });
      const got = await (await loss.to('webgpu')).forward(xs);
      expect(disagree(got, loss.forward(xs), exact, (i) => `${name}(${SPECIAL[i]})`)).toBeNull();
    });
  }
  const n = SPECIAL.length;
  const as = tensor(
    SPECIAL.flatMap((a) => SPECIAL.map(() => a)),
    [n, n],
  );
  const bs = tensor(
    SPECIAL.flatMap(() => SPECIAL),
    [n, n],
  );
  for (const [name, [f, exact, ulpBound]] of Object.entries(BINARY)) {
    it(`${name}(a, b)`, async () => {
      const loss = compile({ name: `b_${name}`, inputs: ['a', 'b'], build: (a: Node, b: Node) => f(a, b) });
      const got = await (await loss.to('webgpu')).forward(as, bs);
      expect(disagree(got, loss.forward(as, bs), exact, (i) => `${name}(${SPECIAL[Math.floor(i / n)]}, ${SPECIAL[i % n]})`, ulpBound)).toBeNull();
    });
  }
});
