// A small WebAssembly binary encoder: one module of functions over one imported memory, with
// imported host functions. Function bodies are written as instruction tokens, `mnemonic` or
// `mnemonic:immediate` (`local.get:v3`, `f64.const:1.5`, `f32.load:16` for an offset, `call:exp`),
// so the kernel emitters can compose them as text while the bytes stay exact.

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128';
const VALTYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** plain opcodes, no immediates */
const OPS: Record<string, number> = {
  unreachable: 0x00,
  nop: 0x01,
  else: 0x05,
  end: 0x0b,
  return: 0x0f,
  drop: 0x1a,
  select: 0x1b,
  'i32.eqz': 0x45,
  'i32.eq': 0x46,
  'i32.ne': 0x47,
  'i32.lt_s': 0x48,
  'i32.lt_u': 0x49,
  'i32.gt_s': 0x4a,
  'i32.gt_u': 0x4b,
  'i32.le_s': 0x4c,
  'i32.le_u': 0x4d,
  'i32.ge_s': 0x4e,
  'i32.ge_u': 0x4f,
  'f64.eq': 0x61,
  'f64.ne': 0x62,
  'f64.lt': 0x63,
  'f64.gt': 0x64,
  'f64.le': 0x65,
  'f64.ge': 0x66,
  'i32.add': 0x6a,
  'i32.sub': 0x6b,
  'i32.mul': 0x6c,
  'i32.div_s': 0x6d,
  'i32.div_u': 0x6e,
  'i32.rem_s': 0x6f,
  'i32.rem_u': 0x70,
  'i32.and': 0x71,
  'i32.or': 0x72,
  'i32.xor': 0x73,
  'i32.shl': 0x74,
  'i32.shr_s': 0x75,
  'i32.shr_u': 0x76,
  'i64.add': 0x7c,
  'i64.sub': 0x7d,
  'i64.and': 0x83,
  'i64.or': 0x84,
  'i64.shl': 0x86,
  'i64.shr_s': 0x87,
  'i64.shr_u': 0x88,
  'f32.add': 0x92,
  'f32.sub': 0x93,
  'f32.mul': 0x94,
  'f32.div': 0x95,
  'f64.abs': 0x99,
  'f64.neg': 0x9a,
  'f64.ceil': 0x9b,
  'f64.floor': 0x9c,
  'f64.trunc': 0x9d,
  'f64.nearest': 0x9e,
  'f64.sqrt': 0x9f,
  'f64.add': 0xa0,
  'f64.sub': 0xa1,
  'f64.mul': 0xa2,
  'f64.div': 0xa3,
  'f64.min': 0xa4,
  'f64.max': 0xa5,
  'f64.copysign': 0xa6,
  'i32.wrap_i64': 0xa7,
  'i32.trunc_f64_s': 0xaa,
  'i64.extend_i32_s': 0xac,
  'i64.trunc_f64_s': 0xb0,
  'f64.convert_i32_s': 0xb7,
  'f64.convert_i32_u': 0xb8,
  'f64.convert_i64_s': 0xb9,
  'f32.demote_f64': 0xb6,
  'f64.promote_f32': 0xbb,
  'i64.reinterpret_f64': 0xbd,
  'f64.reinterpret_i64': 0xbf,
};
/** loads and stores: opcode and natural alignment (log2 bytes); the immediate is the offset */
const MEM: Record<string, [number, number]> = {
  'i32.load': [0x28, 2],
  'f32.load': [0x2a, 2],
  'f64.load': [0x2b, 3],
  'i32.store': [0x36, 2],
  'f32.store': [0x38, 2],
  'f64.store': [0x39, 3],
};
/** SIMD (0xfd prefix) without immediates, by sub-opcode */
const SIMD: Record<string, number> = {
  'i64x2.splat': 18,
  'i32x4.splat': 17,
  'f32x4.splat': 19,
  'f64x2.splat': 20,
  'i32x4.eq': 55,
  'i32x4.ne': 56,
  'i32x4.lt_s': 57,
  'i32x4.gt_s': 59,
  'i32x4.le_s': 61,
  'i32x4.ge_s': 63,
  'f32x4.eq': 65,
  'f32x4.ne': 66,
  'f32x4.lt': 67,
  'f32x4.gt': 68,
  'f32x4.le': 69,
  'f32x4.ge': 70,
  'f64x2.eq': 71,
  'f64x2.ne': 72,
  'f64x2.lt': 73,
  'f64x2.gt': 74,
  'f64x2.le': 75,
  'f64x2.ge': 76,
  'v128.not': 77,
  'v128.and': 78,
  'v128.andnot': 79,
  'v128.or': 80,
  'v128.xor': 81,
  'v128.bitselect': 82,
  'v128.any_true': 83,
  'f32x4.demote_f64x2_zero': 94,
  'f64x2.promote_low_f32x4': 95,
  'f32x4.ceil': 103,
  'f32x4.floor': 104,
  'f32x4.trunc': 105,
  'f32x4.nearest': 106,
  'i32x4.all_true': 163,
  'i32x4.shl': 171,
  'i32x4.shr_s': 172,
  'i32x4.shr_u': 173,
  'i32x4.add': 174,
  'i32x4.sub': 177,
  'f64x2.ceil': 116,
  'f64x2.floor': 117,
  'f64x2.trunc': 122,
  'f64x2.nearest': 148,
  'i64x2.all_true': 195,
  'i64x2.shl': 203,
  'i64x2.shr_s': 204,
  'i64x2.shr_u': 205,
  'i64x2.add': 206,
  'i64x2.sub': 209,
  'f32x4.add': 228,
  'f32x4.sub': 229,
  'f32x4.mul': 230,
  'f32x4.div': 231,
  'f32x4.abs': 224,
  'f32x4.neg': 225,
  'f32x4.sqrt': 227,
  'f32x4.min': 232,
  'f32x4.max': 233,
  'f32x4.pmin': 234,
  'f32x4.pmax': 235,
  'f64x2.abs': 236,
  'f64x2.neg': 237,
  'f64x2.sqrt': 239,
  'f64x2.add': 240,
  'f64x2.sub': 241,
  'f64x2.mul': 242,
  'f64x2.div': 243,
  'f64x2.min': 244,
  'f64x2.max': 245,
  'f64x2.pmin': 246,
  'f64x2.pmax': 247,
  'i32x4.trunc_sat_f32x4_s': 248,
  'f32x4.convert_i32x4_s': 250,
  'f64x2.convert_low_i32x4_s': 254,
};
const SIMD_MEM: Record<string, [number, number]> = { 'v128.load': [0, 4], 'v128.store': [11, 4], 'v128.load64_zero': [93, 3] };
const SIMD_LANE: Record<string, number> = { 'f32x4.extract_lane': 31, 'f32x4.replace_lane': 32, 'f64x2.extract_lane': 33, 'f64x2.replace_lane': 34 };
/** stores of one lane: opcode, alignment; the immediate is the lane (offset 0) */
const SIMD_STORE_LANE: Record<string, [number, number]> = { 'v128.store64_lane': [91, 3] };

function uleb(out: number[], v: number): void {
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}
function sleb(out: number[], v: bigint): void {
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && !(byte & 0x40)) || (v === -1n && byte & 0x40)) return void out.push(byte);
    out.push(byte | 0x80);
  }
}
function name(out: number[], s: string): void {
  const b = new TextEncoder().encode(s);
  uleb(out, b.length);
  out.push(...b);
}
function section(out: number[], id: number, body: number[]): void {
  out.push(id);
  uleb(out, body.length);
  for (const b of body) out.push(b);
}

/** A float literal as text that parses back to the same bits. */
export function floatText(v: number): string {
  return Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : Object.is(v, -0) ? '-0' : String(v);
}
/** The number a float literal's text (floatText's) stands for. */
export function parseFloatText(t: string): number {
  return t === 'nan' ? NaN : t === 'inf' ? Infinity : t === '-inf' ? -Infinity : Number(t);
}

export interface FuncDef {
  readonly name: string;
  readonly params: readonly (readonly [string, ValType])[];
  readonly result?: ValType;
  readonly locals: ReadonlyMap<string, ValType>;
  readonly body: readonly string[];
  readonly exported?: boolean;
}

export interface HostImport {
  readonly name: string;
  readonly params: readonly ValType[];
  readonly result?: ValType;
}

export interface ModuleDef {
  /** imported from "env": the memory ("memory"), then these functions */
  readonly memory: { readonly initialPages: number; readonly maxPages: number; readonly shared: boolean };
  readonly imports: readonly HostImport[];
  readonly funcs: readonly FuncDef[];
}

/** Encode a module: types, imports (env.memory and env.<host function>), functions, exports, code. */
export function encodeModule(m: ModuleDef): Uint8Array {
  const types: string[] = [];
  const typeBytes: number[][] = [];
  const typeOf = (params: readonly ValType[], result?: ValType): number => {
    const key = `${params.join(',')}->${result ?? ''}`;
    let i = types.indexOf(key);
    if (i < 0) {
      i = types.length;
      types.push(key);
      const t = [0x60];
      uleb(t, params.length);
      for (const p of params) t.push(VALTYPE[p]);
      if (result) t.push(1, VALTYPE[result]);
      else t.push(0);
      typeBytes.push(t);
    }
    return i;
  };
  const funcIndex = new Map<string, number>();
  m.imports.forEach((f, i) => funcIndex.set(f.name, i));
  m.funcs.forEach((f, i) => funcIndex.set(f.name, m.imports.length + i));
  const importTypes = m.imports.map((f) => typeOf(f.params, f.result));
  const funcTypes = m.funcs.map((f) =>
    typeOf(
      f.params.map((p) => p[1]),
      f.result,
    ),
  );

  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const typeSec: number[] = [];
  uleb(typeSec, typeBytes.length);
  for (const t of typeBytes) typeSec.push(...t);
  section(out, 1, typeSec);

  const imp: number[] = [];
  uleb(imp, 1 + m.imports.length);
  name(imp, 'env');
  name(imp, 'memory');
  imp.push(0x02, m.memory.shared ? 0x03 : 0x01);
  uleb(imp, m.memory.initialPages);
  uleb(imp, m.memory.maxPages);
  m.imports.forEach((f, i) => {
    name(imp, 'env');
    name(imp, f.name);
    imp.push(0x00);
    uleb(imp, importTypes[i]!);
  });
  section(out, 2, imp);

  const fsec: number[] = [];
  uleb(fsec, m.funcs.length);
  for (const t of funcTypes) uleb(fsec, t);
  section(out, 3, fsec);

  const exported = m.funcs.filter((f) => f.exported);
  const exp: number[] = [];
  uleb(exp, exported.length);
  for (const f of exported) {
    name(exp, f.name);
    exp.push(0x00);
    uleb(exp, funcIndex.get(f.name)!);
  }
  section(out, 7, exp);

  const code: number[] = [];
  uleb(code, m.funcs.length);
  for (const f of m.funcs) {
    const body = encodeBody(f, funcIndex);
    uleb(code, body.length);
    for (const b of body) code.push(b);
  }
  section(out, 10, code);
  return Uint8Array.from(out);
}

function encodeBody(f: FuncDef, funcs: ReadonlyMap<string, number>): number[] {
  const localIndex = new Map<string, number>();
  f.params.forEach(([n], i) => localIndex.set(n, i));
  const locals = [...f.locals].filter(([n]) => !localIndex.has(n));
  locals.forEach(([n], i) => localIndex.set(n, f.params.length + i));
  const out: number[] = [];
  uleb(out, locals.length);
  for (const [, t] of locals) out.push(1, VALTYPE[t]);
  const local = (n: string): number => {
    const i = localIndex.get(n);
    if (i === undefined) throw new Error(`internal (wasm ${f.name}): unknown local ${n}`);
    return i;
  };
  for (const line of f.body)
    for (const tok of line.split(/\s+/)) {
      if (!tok) continue;
      const colon = tok.indexOf(':');
      const op = colon < 0 ? tok : tok.slice(0, colon);
      const imm = colon < 0 ? '' : tok.slice(colon + 1);
      const plain = OPS[op];
      if (plain !== undefined && !imm) {
        out.push(plain);
        continue;
      }
      const mem = MEM[op];
      if (mem) {
        out.push(mem[0]);
        uleb(out, mem[1]);
        uleb(out, imm ? Number(imm) : 0);
        continue;
      }
      const simd = SIMD[op];
      if (simd !== undefined) {
        out.push(0xfd);
        uleb(out, simd);
        continue;
      }
      const smem = SIMD_MEM[op];
      if (smem) {
        out.push(0xfd);
        uleb(out, smem[0]);
        uleb(out, smem[1]);
        uleb(out, imm ? Number(imm) : 0);
        continue;
      }
      const storeLane = SIMD_STORE_LANE[op];
      if (storeLane) {
        out.push(0xfd);
        uleb(out, storeLane[0]);
        uleb(out, storeLane[1]);
        uleb(out, 0);
        out.push(Number(imm));
        continue;
      }
      const lane = SIMD_LANE[op];
      if (lane !== undefined) {
        out.push(0xfd);
        uleb(out, lane);
        out.push(Number(imm));
        continue;
      }
      // i8x16.shuffle:l0,l1,...,l15 (byte lanes of the two operands, 0-31)
      if (op === 'i8x16.shuffle') {
        const lanes = imm.split(',').map(Number);
        if (lanes.length !== 16 || lanes.some((l) => !(l >= 0 && l < 32))) throw new Error(`internal (wasm ${f.name}): bad shuffle ${tok}`);
        out.push(0xfd);
        uleb(out, 13);
        out.push(...lanes);
        continue;
      }
      if (op === 'i32.trunc_sat_f64_s') {
        out.push(0xfc, 0x02);
        continue;
      }
      switch (op) {
        case 'local.get':
          out.push(0x20);
          uleb(out, local(imm));
          break;
        case 'local.set':
          out.push(0x21);
          uleb(out, local(imm));
          break;
        case 'local.tee':
          out.push(0x22);
          uleb(out, local(imm));
          break;
        case 'i32.const':
          out.push(0x41);
          sleb(out, BigInt(Number(imm) | 0));
          break;
        case 'i64.const':
          out.push(0x42);
          sleb(out, BigInt(imm));
          break;
        case 'f32.const':
        case 'f64.const': {
          // the value's IEEE bytes, little-endian
          const wide = op === 'f64.const';
          const b = new DataView(new ArrayBuffer(wide ? 8 : 4));
          if (wide) b.setFloat64(0, parseFloatText(imm), true);
          else b.setFloat32(0, parseFloatText(imm), true);
          out.push(wide ? 0x44 : 0x43, ...new Uint8Array(b.buffer));
          break;
        }
        case 'call': {
          const i = funcs.get(imm);
          if (i === undefined) throw new Error(`internal (wasm ${f.name}): unknown function ${imm}`);
          out.push(0x10);
          uleb(out, i);
          break;
        }
        case 'br':
          out.push(0x0c);
          uleb(out, Number(imm));
          break;
        case 'br_if':
          out.push(0x0d);
          uleb(out, Number(imm));
          break;
        // blocks without a result; typed select (`select:f64`)
        case 'block':
          out.push(0x02, 0x40);
          break;
        case 'loop':
          out.push(0x03, 0x40);
          break;
        case 'if':
          out.push(0x04, 0x40);
          break;
        case 'select':
          out.push(0x1c, 1, VALTYPE[imm as ValType]);
          break;
        default:
          throw new Error(`internal (wasm ${f.name}): unknown instruction ${tok}`);
      }
    }
  out.push(0x0b);
  return out;
}
