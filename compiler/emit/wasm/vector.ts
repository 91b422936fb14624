// SIMD: a scalar kernel body (float64 numbers, i32 bools) translated into the same body over
// several elements at once. vectorize: token by token, two elements (f64x2 numbers, i64x2 masks);
// every operation keeps its meaning lane by lane, float32 rounding included (f32x4.demote /
// promote round exactly as f32.demote does), so the vector loop computes the scalar loop's values.
// vectorizeF32x4 (float32 kernels): value by value, four elements (f32x4 numbers, i32x4 masks and
// integers), where the body provably computes float32 values. Bodies that read through a gather or
// a shift are not translated (their reads are not contiguous): those loops stay scalar.
import type { Locals } from './spelling.js';
import { INLINE4, freshNames } from './math4.js';
import { parseFloatText } from './encoder.js';

/** scalar op -> the same op on two lanes */
const LANEWISE: Record<string, string> = {
  'f64.add': 'f64x2.add',
  'f64.sub': 'f64x2.sub',
  'f64.mul': 'f64x2.mul',
  'f64.div': 'f64x2.div',
  'f64.min': 'f64x2.min',
  'f64.max': 'f64x2.max',
  'f64.sqrt': 'f64x2.sqrt',
  'f64.neg': 'f64x2.neg',
  'f64.abs': 'f64x2.abs',
  'f64.floor': 'f64x2.floor',
  'f64.ceil': 'f64x2.ceil',
  'f64.trunc': 'f64x2.trunc',
  'f64.nearest': 'f64x2.nearest',
  'f64.eq': 'f64x2.eq',
  'f64.ne': 'f64x2.ne',
  'f64.lt': 'f64x2.lt',
  'f64.gt': 'f64x2.gt',
  'f64.le': 'f64x2.le',
  'f64.ge': 'f64x2.ge',
  'i32.and': 'v128.and',
  'i32.or': 'v128.or',
  'i32.eqz': 'v128.not',
  'select:f64': 'v128.bitselect',
  'select:i32': 'v128.bitselect',
  'f32.demote_f64': 'f32x4.demote_f64x2_zero',
  'f64.promote_f32': 'f64x2.promote_low_f32x4',
  // index arithmetic (i32 only ever indexes; numbers are float64, bools use and / or / eqz)
  'i32.add': 'i32.add',
  'i32.mul': 'i32.mul',
  'i32.sub': 'i32.sub',
  // a bool as a number: its mask and 1.0
  'f64.convert_i32_u': 'f64.const:1 f64x2.splat v128.and',
};

/** functions with vector versions in the math library; the rest are called lane by lane */
const VECTOR_LIB = new Set(['exp', 'log', 'log1p']);
const BINARY_HOST = new Set(['pow', 'fmod']);

export class NotVectorizable extends Error {}

/**
 * Translate body lines. `vec` maps each body local to its vector twin (declared in `locals` as
 * v128); locals not in the body (hoisted scalars) are splat where read, index locals stay scalar.
 */
export function vectorize(
  lines: readonly string[],
  exprs: readonly string[],
  locals: Locals,
  isIndex: (name: string) => boolean,
): { lines: string[]; exprs: string[] } {
  const vec = new Map<string, string>();
  for (const l of lines) for (const m of l.matchAll(/local\.set:(\w+)/g)) vec.set(m[1]!, `${m[1]}_v`);
  for (const v of vec.values()) locals.set(v, 'v128');
  locals.set('vta', 'v128');
  locals.set('vtb', 'v128');
  locals.set('vt64', 'i64');
  const one = (tok: string): string => {
    if (!tok) return tok;
    const mapped = LANEWISE[tok];
    if (mapped) return mapped;
    const [op, imm] = tok.split(':') as [string, string | undefined];
    switch (op) {
      case 'local.get':
      case 'local.set': {
        const v = vec.get(imm!);
        if (v) return `${op}:${v}`;
        if (op === 'local.set' || isIndex(imm!)) return tok;
        const t = locals.get(imm!);
        if (t === 'f64') return `${tok} f64x2.splat`;
        if (t === 'i32') return `${tok} i64.extend_i32_u local.set:vt64 i64.const:0 local.get:vt64 i64.sub i64x2.splat`;
        throw new NotVectorizable(`local ${imm}`);
      }
      case 'f64.const':
        return `${tok} f64x2.splat`;
      case 'i32.const':
        return `i64.const:${-Number(imm)} i64x2.splat`;
      case '@ld':
        return `@vld:${imm}`;
      case '@cld':
        return `@vcld:${imm}`;
      case '@caddr':
        return tok;
      case '@cstore':
        return '@vcstore';
      case 'call': {
        if (VECTOR_LIB.has(imm!)) return `call:v${imm}`;
        if (BINARY_HOST.has(imm!))
          return `local.set:vtb local.set:vta local.get:vta f64x2.extract_lane:0 local.get:vtb f64x2.extract_lane:0 call:${imm} f64x2.splat local.get:vta f64x2.extract_lane:1 local.get:vtb f64x2.extract_lane:1 call:${imm} f64x2.replace_lane:1`;
        return `local.set:vta local.get:vta f64x2.extract_lane:0 call:${imm} f64x2.splat local.get:vta f64x2.extract_lane:1 call:${imm} f64x2.replace_lane:1`;
      }
      default:
        throw new NotVectorizable(tok);
    }
  };
  const translate = (l: string): string => l.split(/\s+/).map(one).join(' ');
  return { lines: lines.map(translate), exprs: exprs.map(translate) };
}

// ---- float32 kernels: four lanes (f32x4)

/**
 * A value on the translator's stack: its instructions and what it is: a number on four float32
 * lanes ('f'), four integers read from integer memory ('n', exact as the body's float64 is), a bool
 * mask ('b'), a scalar i32 index ('i'), or an i32 constant ('k', an index or a bool, decided by its
 * use). A number is `exact` when it is the float32 the scalar body computes; an inexact one (an
 * operation's float32 result, the body rounding it next) may only be rounded.
 */
interface Val {
  readonly code: string;
  readonly t: 'f' | 'b' | 'i' | 'k' | 'n';
  readonly exact: boolean;
  /** 'k': the constant; 'f': a constant's value */
  readonly k?: number;
  /** 'i': whether the index moves with the loop (else a read through it is one value for every lane) */
  readonly varies?: boolean;
}

export interface F32x4Context {
  readonly locals: Locals;
  /** locals that index (stay scalar) */
  readonly isIndex: (name: string) => boolean;
  /** float64 locals outside the body holding float32 values (rounded, or read from float32 memory) */
  readonly exact: ReadonlySet<string>;
  /** sites whose elements are float32 numbers (the others are integers) */
  readonly floatSite: (s: number) => boolean;
  /** the loop's index local, and the element this copy of the body starts at (an unrolled copy) */
  readonly index?: { readonly name: string; readonly offset: number };
  /** appended to the names of this copy's locals */
  readonly suffix?: string;
}

/**
 * The scalar body's float64 operations by what they are on float32 values: inexact (one rounding,
 * the body's own, follows), or exact (a float32 result), or a comparison. On four lanes each is
 * the f32x4 operation of the same name (`f64.add` -> `f32x4.add`); integers compare as i32x4.
 */
const F32_INEXACT = new Set(['f64.add', 'f64.sub', 'f64.mul', 'f64.div', 'f64.sqrt']);
const F32_EXACT = new Set(['f64.neg', 'f64.abs', 'f64.floor', 'f64.ceil', 'f64.trunc', 'f64.nearest', 'f64.min', 'f64.max']);
const COMPARE = new Set(['f64.eq', 'f64.ne', 'f64.lt', 'f64.gt', 'f64.le', 'f64.ge']);
const UNARY = new Set(['f64.sqrt', 'f64.neg', 'f64.abs', 'f64.floor', 'f64.ceil', 'f64.trunc', 'f64.nearest']);
const f32x4 = (op: string): string => op.replace('f64.', 'f32x4.');
const i32x4 = (op: string): string => (op === 'f64.eq' || op === 'f64.ne' ? op.replace('f64.', 'i32x4.') : `${op.replace('f64.', 'i32x4.')}_s`);

const isFloat32 = (v: number): boolean => Number.isNaN(v) || Math.fround(v) === v;

/**
 * Translate a float32 kernel's scalar body (float64 values rounded after each inexact operation)
 * into the same body on four float32 lanes. Each rounded float64 operation of float32 operands is
 * the float32 operation (one rounding either way, for + - * / sqrt), exact operations stay exact,
 * and exp / log / log1p become the float32 polynomials of math4.ts. Whatever is not a float32
 * computation of this kind (a float64 scalar, an unrounded intermediate, a gather) throws
 * NotVectorizable: that body keeps the two-lane float64 translation.
 */
export function vectorizeF32x4(lines: readonly string[], exprs: readonly string[], cx: F32x4Context): { pre: string[]; lines: string[]; exprs: string[] } {
  const suffix = cx.suffix ?? '';
  const twins = new Map<string, { name: string; t: 'f' | 'b'; exact: boolean }>();
  const out: string[] = [];
  // values the same for every element of the loop (a splat scalar, a read through an index that
  // does not move): computed once before it (V8 does not hoist them), named by what they compute
  // so that every copy of the body shares them
  const pre: string[] = [];
  const invariant = (code: string): string => {
    const name = `q4_${code.replace(/[^A-Za-z0-9]+/g, '_')}`;
    if (!cx.locals.has(name)) cx.locals.set(name, 'v128');
    if (!pre.some((l) => l.endsWith(`local.set:${name}`))) pre.push(`${code} local.set:${name}`);
    return `local.get:${name}`;
  };
  const fresh = freshNames(cx.locals, `m4${suffix}_`);
  const no = (why: string): never => {
    throw new NotVectorizable(why);
  };
  const num = (v: Val | undefined): string => (v?.t === 'f' && v.exact ? v.code : no('an inexact or non-number operand'));
  const mask = (v: Val | undefined): string =>
    v?.t === 'b' ? v.code : v?.t === 'k' && (v.k === 0 || v.k === 1) ? `i32.const:${-v.k} i32x4.splat` : no('not a bool');
  const index = (v: Val | undefined): string => (v?.t === 'i' || v?.t === 'k' ? v.code : no('not an index'));
  const run = (text: string, statement: boolean): Val | undefined => {
    const st: Val[] = [];
    const pop = (): Val => st.pop() ?? no('stack underflow');
    for (const tok of text.split(/\s+/)) {
      if (!tok) continue;
      const [op, imm] = tok.split(':') as [string, string | undefined];
      if (F32_INEXACT.has(op) || F32_EXACT.has(op)) {
        const operands = UNARY.has(op) ? [pop()] : [pop(), pop()].reverse();
        st.push({ code: `${operands.map(num).join(' ')} ${f32x4(op)}`, t: 'f', exact: F32_EXACT.has(op) });
      } else if (COMPARE.has(op)) {
        const b = pop();
        const a = pop();
        // integers compare as integers (an integral constant with them), exactly as float64 compares them
        const int = (v: Val): string | undefined =>
          v.t === 'n'
            ? v.code
            : v.t === 'f' && v.k !== undefined && Number.isInteger(v.k) && Math.abs(v.k) < 2 ** 31
              ? `i32.const:${v.k} i32x4.splat`
              : undefined;
        if (a.t === 'n' || b.t === 'n') {
          const [ia, ib] = [int(a), int(b)];
          st.push(ia && ib ? { code: `${ia} ${ib} ${i32x4(op)}`, t: 'b', exact: true } : no('an integer against a float'));
        } else st.push({ code: `${num(a)} ${num(b)} ${f32x4(op)}`, t: 'b', exact: true });
      } else
        switch (op) {
          // the body's rounding: the float32 operation already rounded once
          case 'f32.demote_f64': {
            const v = pop();
            // an integer to the nearest float32 (float64 holds it exactly; one rounding either way)
            if (v.t === 'n') st.push({ code: `${v.code} f32x4.convert_i32x4_s`, t: 'f', exact: true });
            else st.push(v.t === 'f' ? { ...v, exact: true } : no('rounding a non-number'));
            break;
          }
          case 'f64.promote_f32':
            st.push({ code: num(pop()), t: 'f', exact: true });
            break;
          case 'f64.const': {
            const c = parseFloatText(imm!);
            st.push(isFloat32(c) ? { code: `f32.const:${imm} f32x4.splat`, t: 'f', exact: true, k: c } : no(`constant ${imm}`));
            break;
          }
          case 'i32.const':
            st.push({ code: tok, t: 'k', exact: true, k: Number(imm) });
            break;
          case 'local.get': {
            const twin = twins.get(imm!);
            if (twin) st.push({ code: `local.get:${twin.name}`, t: twin.t, exact: twin.exact });
            else if (cx.index && imm === cx.index.name)
              st.push({ code: cx.index.offset ? `${tok} i32.const:${cx.index.offset} i32.add` : tok, t: 'i', exact: true, varies: true });
            else if (cx.isIndex(imm!)) st.push({ code: tok, t: 'i', exact: true, varies: imm === cx.index?.name });
            // a float64 local: its float32 when it holds one, else a value the body may only round
            else if (cx.locals.get(imm!) === 'f64') st.push({ code: invariant(`${tok} f32.demote_f64 f32x4.splat`), t: 'f', exact: cx.exact.has(imm!) });
            // an i32 local outside the body: a bool (0 or 1) as a mask
            else if (cx.locals.get(imm!) === 'i32') st.push({ code: invariant(`i32.const:0 ${tok} i32.sub i32x4.splat`), t: 'b', exact: true });
            else no(`local ${imm}`);
            break;
          }
          case 'local.set': {
            const v = pop();
            if (v.t !== 'f' && v.t !== 'b') no('setting a non-number');
            if (v.t === 'f' && !v.exact) no('an unrounded local');
            const name = `${imm}_v4${suffix}`;
            cx.locals.set(name, 'v128');
            twins.set(imm!, { name, t: v.t as 'f' | 'b', exact: true });
            out.push(`${v.code} local.set:${name}`);
            break;
          }
          case 'i32.add':
          case 'i32.sub':
          case 'i32.mul': {
            const b = pop();
            const a = pop();
            st.push({ code: `${index(a)} ${index(b)} ${op}`, t: 'i', exact: true, varies: !!(a.varies || b.varies) });
            break;
          }
          case 'i32.and':
          case 'i32.or': {
            const b = mask(pop());
            st.push({ code: `${mask(pop())} ${b} v128.${op.slice(4)}`, t: 'b', exact: true });
            break;
          }
          case 'i32.eqz':
            st.push({ code: `${mask(pop())} v128.not`, t: 'b', exact: true });
            break;
          case 'select': {
            const c = mask(pop());
            const b = pop();
            const a = pop();
            st.push(
              imm === 'f64'
                ? { code: `${num(a)} ${num(b)} ${c} v128.bitselect`, t: 'f', exact: true }
                : { code: `${mask(a)} ${mask(b)} ${c} v128.bitselect`, t: 'b', exact: true },
            );
            break;
          }
          // a bool as a number: 1.0 where the mask is set
          case 'f64.convert_i32_u':
            st.push({ code: `${mask(pop())} f32.const:1 f32x4.splat v128.and`, t: 'f', exact: true });
            break;
          case '@ld': {
            const at = pop();
            const float = cx.floatSite(Number(imm!.slice(1)));
            // four contiguous elements, or (an index that does not move with the loop) one for every lane
            if (at.varies) st.push({ code: `${index(at)} @vld4:${imm}`, t: float ? 'f' : 'n', exact: true });
            else if (float) st.push({ code: invariant(`${index(at)} @ld:${imm} f32.demote_f64 f32x4.splat`), t: 'f', exact: true });
            else st.push({ code: invariant(`${index(at)} @ld:${imm} i32.trunc_sat_f64_s i32x4.splat`), t: 'n', exact: true });
            break;
          }
          case '@cld':
            st.push({ code: `${index(pop())} @vcld4:${imm}`, t: 'f', exact: true });
            break;
          case '@caddr':
            st.push({ code: `${index(pop())} @caddr:${imm}`, t: 'i', exact: true });
            break;
          case '@cstore': {
            const v = num(pop());
            out.push(`${index(pop())} ${v} @vcstore4`);
            break;
          }
          case 'call': {
            const inline = INLINE4[imm!];
            const x = num(pop());
            if (inline) {
              const r = inline(x, fresh());
              out.push(...r.lines);
              st.push({ code: r.expr, t: 'f', exact: false });
            } else {
              // any other function of the host: lane by lane in float64, rounded (the body's rounding follows)
              if (BINARY_HOST.has(imm!)) no(`binary ${imm}`);
              const name = fresh()('host');
              out.push(
                `${x} local.set:${name}`,
                ...[0, 1, 2, 3].map(
                  (l) =>
                    `local.get:${name} local.get:${name} f32x4.extract_lane:${l} f64.promote_f32 call:${imm} f32.demote_f64 f32x4.replace_lane:${l} local.set:${name}`,
                ),
              );
              st.push({ code: `local.get:${name}`, t: 'f', exact: false });
            }
            break;
          }
          default:
            no(tok);
        }
    }
    if (statement) return st.length === 0 ? undefined : no('a statement leaves a value');
    return st.length === 1 ? st[0] : no('an expression of more than one value');
  };
  for (const l of lines) run(l, true);
  const values = exprs.map((e) => num(run(e, false)));
  return { pre, lines: out, exprs: values };
}

/**
 * The float64 locals that scalar `lines` (a kernel's prologue and per-row work, before a pass) set
 * to float32 values: what a four-lane body may splat. A statement that is not a float32
 * computation leaves its local out.
 */
export function float32Locals(lines: readonly string[], cx: Omit<F32x4Context, 'exact'>): Set<string> {
  const exact = new Set<string>();
  for (const line of lines)
    for (const m of line.matchAll(/(.*?)local\.set:(\w+)/g)) {
      const [, expr, name] = m as unknown as [string, string, string];
      if (cx.locals.get(name) !== 'f64') continue;
      // rounded to float32 last: a float32, however the scalar code computed it
      if (/f32\.demote_f64 f64\.promote_f32\s*$/.test(expr)) {
        exact.add(name);
        continue;
      }
      try {
        const scratch: Locals = new Map(cx.locals);
        vectorizeF32x4([], [expr], { ...cx, locals: scratch, exact });
        exact.add(name);
      } catch (e) {
        if (!(e instanceof NotVectorizable)) throw e;
        exact.delete(name);
      }
    }
  return exact;
}
