// The WebAssembly column of the expression printer: every value is a float64 (numbers, as in the
// JS backend) or an i32 (bools); each primitive is spelled as instruction tokens over operands
// that are local names or token sequences. Float32 kernels round with f32.demote / promote after
// each inexact operation, exactly as the JS backend's Math.fround does. Tensor reads are left as
// pseudo-instructions (`@ld:x3`) that the module assembler resolves once the element types of the
// bound arrays are known.
import type { Node } from '../../ir/node.js';
import type { OpName } from '../../primitives/table.js';
import type { Precision } from '../../plan/kernelPlan.js';
import type { Spelling } from '../expr.js';
import { floatText, type ValType } from './encoder.js';

/** Host functions every kernel module imports (each f64 -> f64, or (f64, f64) -> f64). */
export const HOST_MATH = {
  exp: Math.exp,
  expm1: Math.expm1,
  log: Math.log,
  log1p: Math.log1p,
  tanh: Math.tanh,
  pow: Math.pow,
  fmod: (a: number, b: number) => a % b,
} as const;
export type HostMath = keyof typeof HOST_MATH;

/** Locals of the function being printed, with their types. */
export type Locals = Map<string, ValType>;

const NAME = /^[A-Za-z_]\w*$/;
const CMP = /^f64\.(eq|ne|lt|gt|le|ge)$/;

/** The type an expression leaves on the stack. */
export function typeOf(expr: string, locals: Locals): ValType {
  const e = expr.trim();
  if (NAME.test(e)) return locals.get(e) ?? fail(`unknown local ${e}`);
  if (CACHE_READ.test(e) || NUMBER.test(e)) return 'f64';
  const last = e.slice(e.lastIndexOf(' ') + 1);
  const [op, imm] = last.split(':') as [string, string | undefined];
  if (op === 'select') return imm as ValType;
  if (op === 'local.get' || op === 'local.tee') return locals.get(imm!) ?? fail(`unknown local ${imm}`);
  if (op.startsWith('@ld') || op === '@cld') return 'f64';
  if (op === 'call') return 'f64';
  if (CMP.test(op) || op.startsWith('i32.')) return 'i32';
  if (op.startsWith('f64.')) return 'f64';
  return fail(`cannot type ${last}`);
}

function fail(msg: string): never {
  throw new Error(`internal (wasm emitter): ${msg}`);
}

/** An operand as instructions: a local's name becomes local.get. */
export const get = (x: string): string => {
  const t = x.trim();
  if (NAME.test(t)) return `local.get:${t}`;
  // a plain number (the placeholder a row kernel's dry run binds its reductions to)
  if (NUMBER.test(t)) return `f64.const:${t}`;
  // a row kernel's cached value (the printer spells the read `cacheN[j]`)
  const cached = CACHE_READ.exec(t);
  return cached ? `local.get:j @cld:${cached[1]}` : x;
};
const CACHE_READ = /^(cache\d+)\[j\]$/;
const NUMBER = /^-?\d+(\.\d+)?$/;

/** `x` converted to `want` (bools are 0 / 1 as numbers; a number is true when non-zero). */
export function as(x: string, want: ValType, locals: Locals): string {
  const have = typeOf(x, locals);
  if (have === want) return get(x);
  if (want === 'f64' && have === 'i32') return `${get(x)} f64.convert_i32_u`;
  if (want === 'i32' && have === 'f64') return `${get(x)} f64.const:0 f64.ne`;
  return fail(`cannot convert ${have} to ${want}`);
}

type OpSpell = (a: readonly string[], n: Node, c: (x: string, t: ValType) => string, lit: (v: number) => string) => string;
const bin =
  (op: string): OpSpell =>
  (a, _n, c) =>
    `${c(a[0]!, 'f64')} ${c(a[1]!, 'f64')} ${op}`;
const un =
  (op: string): OpSpell =>
  (a, _n, c) =>
    `${c(a[0]!, 'f64')} ${op}`;
const host =
  (fn: HostMath): OpSpell =>
  (a, _n, c) =>
    `${a.map((x) => c(x, 'f64')).join(' ')} call:${fn}`;
const kindType = (n: Node): ValType => (n.kind === 'bool' ? 'i32' : 'f64');
/** identity ops keep their operand's type */
const same: OpSpell = (a, n, c) => c(a[0]!, kindType(n.inputs[0]!));

/** Every elementwise primitive, spelled in WebAssembly (JS semantics, including NaN and signed zeros). */
const WASM: Partial<Record<OpName, OpSpell>> = {
  add: bin('f64.add'),
  sub: bin('f64.sub'),
  mul: bin('f64.mul'),
  div: bin('f64.div'),
  pow: host('pow'),
  // wasm's min / max propagate NaN and order -0 < +0, as Math.min / Math.max do
  maximum: bin('f64.max'),
  minimum: bin('f64.min'),
  xlogy: (a, _n, c) => {
    const [x, y] = [c(a[0]!, 'f64'), c(a[1]!, 'f64')];
    return `f64.const:nan f64.const:0 ${x} ${y} call:log f64.mul ${x} f64.const:0 f64.eq select:f64 ${y} ${y} f64.ne select:f64`;
  },
  mod: (a, _n, c) => {
    const [x, y] = [c(a[0]!, 'f64'), c(a[1]!, 'f64')];
    return `${x} ${y} call:fmod ${y} f64.add ${y} call:fmod`;
  },
  floorDiv: (a, _n, c) => `${c(a[0]!, 'f64')} ${c(a[1]!, 'f64')} f64.div f64.floor`,
  neg: un('f64.neg'),
  abs: un('f64.abs'),
  // Math.sign: 1, -1, or x itself (0, -0, NaN)
  sign: (a, _n, c) => {
    const x = c(a[0]!, 'f64');
    return `f64.const:1 f64.const:-1 ${x} ${x} f64.const:0 f64.lt select:f64 ${x} f64.const:0 f64.gt select:f64`;
  },
  exp: host('exp'),
  expm1: host('expm1'),
  log: host('log'),
  log1p: host('log1p'),
  sqrt: un('f64.sqrt'),
  tanh: host('tanh'),
  lt: bin('f64.lt'),
  le: bin('f64.le'),
  gt: bin('f64.gt'),
  ge: bin('f64.ge'),
  eq: bin('f64.eq'),
  ne: bin('f64.ne'),
  and: (a, _n, c) => `${c(a[0]!, 'i32')} ${c(a[1]!, 'i32')} i32.and`,
  or: (a, _n, c) => `${c(a[0]!, 'i32')} ${c(a[1]!, 'i32')} i32.or`,
  not: (a, _n, c) => `${c(a[0]!, 'i32')} i32.eqz`,
  where: (a, n, c) => {
    const t = kindType(n);
    return `${c(a[1]!, t)} ${c(a[2]!, t)} ${c(a[0]!, 'i32')} select:${t}`;
  },
  cast: (a, n, c) => c(a[0]!, kindType(n)),
  stopGradient: same,
  withGrad: same,
};

export interface WasmSpelling extends Spelling {
  readonly locals: Locals;
  /** the host functions used (imported by the module) */
  readonly hostUsed: Set<HostMath>;
}

/**
 * A spelling over `locals` (shared with the loop scaffolding); `scratch`: text that is thrown away
 * (a dry run), whose names may be reused with other types. `siteRead(s, index)` receives the
 * element index as i32 instructions, possibly followed by ` + value * stride` (a gather) or
 * ` - by * stride` (a shift) from the printer; `read` turns the final index into the load.
 */
export function wasmSpelling(precision: Precision, locals: Locals, read: (site: number, index: string) => string, scratch = false): WasmSpelling {
  const hostUsed = new Set<HostMath>();
  const c = (x: string, t: ValType): string => as(x, t, locals);
  const lit = (v: number): string => `f64.const:${floatText(v)}`;
  return {
    column: 'js',
    locals,
    hostUsed,
    literal: (v, kind) => (kind === 'bool' ? `i32.const:${v ? 1 : 0}` : lit(precision === 'f32' && kind === 'float' ? Math.fround(v) : v)),
    round: (e) => `${e} f32.demote_f64 f64.promote_f32`,
    declare(name, expr) {
      const t = typeOf(expr, locals);
      const had = locals.get(name);
      if (had && had !== t && !scratch) fail(`local ${name} declared as ${had} and ${t}`);
      locals.set(name, t);
      return `${get(expr)} local.set:${name}`;
    },
    siteRead: (s, index) => read(s, indexInstructions(index, locals)),
    select: (cond, a, e) => {
      const t = typeOf(a, locals);
      return `${c(a, t)} ${c(e, t)} ${c(cond, 'i32')} select:${t}`;
    },
    scalarRead: (slot) => `local.get:sc f64.load:${slot * 8}`,
    override(n, operands) {
      const f = WASM[n.op as OpName];
      if (!f) fail(`${n.op} has no WebAssembly spelling`);
      const e = f(operands, n, c, lit);
      for (const m of e.matchAll(/call:(\w+)/g)) hostUsed.add(m[1] as HostMath);
      return e;
    },
  };
}

/**
 * The printer's index, `base [+ value * stride | - by * stride]...`, as i32 instructions: base is
 * already i32; gathered values and strides are float64 (saturating conversion: a NaN index reads
 * element 0, and an out-of-range one is clamped by the load, never a trap).
 */
function indexInstructions(index: string, locals: Locals): string {
  const parts = index.split(/ ([+*-]) /);
  let out = parts[0]!;
  for (let i = 1; i + 3 < parts.length + 1; i += 4) {
    const sign = parts[i]!;
    const value = parts[i + 1]!;
    const stride = parts[i + 3]!;
    if (parts[i + 2] !== '*') fail(`unexpected index ${index}`);
    const v = /^-?\d+$/.test(value.trim()) ? `i32.const:${value.trim()}` : `${as(value, 'f64', locals)} i32.trunc_sat_f64_s`;
    out += ` ${v} ${as(stride, 'f64', locals)} i32.trunc_sat_f64_s i32.mul ${sign === '+' ? 'i32.add' : 'i32.sub'}`;
  }
  return out;
}
