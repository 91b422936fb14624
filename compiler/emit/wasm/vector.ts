// SIMD: a scalar kernel body (float64 numbers, i32 bools) translated token by token into the same
// body over two elements at once (f64x2 numbers, i64x2 masks). Every operation keeps its meaning
// lane by lane, float32 rounding included (f32x4.demote / promote round exactly as f32.demote
// does), so the vector loop computes the scalar loop's values. Bodies that read through a gather
// or a shift are not translated (their reads are not contiguous): those kernels stay scalar.
import type { Locals } from './spelling.js';

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
