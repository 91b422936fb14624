// The WebAssembly backend's emitter: each plan kernel becomes two functions (run, fin) printed as
// instruction tokens over the element types it keeps in memory, and one module assembled from them.
import { materializedBefore } from '../../abi/slots.js';
import { IOTA } from '../../abi/strides.js';
import type { KernelPlan, Precision } from '../../plan/kernelPlan.js';
import type { KernelLayout } from '../js.js';
import { encodeModule, type FuncDef } from './encoder.js';
import { PARAMS } from './frame.js';
import { MATHLIB } from './mathlib.js';
import { emitPlainKernel } from './plain.js';
import { emitRowKernel } from './rows.js';
import { emitScanKernel } from './scan.js';
import type { HostMath, Locals } from './spelling.js';

export interface WasmKernel {
  readonly kind: 'plain' | 'rows' | 'scan';
  readonly precision: Precision;
  /** the same layout the JS executor lays out (sites, scalars, outputs), with no JS source */
  readonly layout: KernelLayout;
  /** the bodies of run(frame, sc, lo, hi, part) and fin(frame, sc, lo, nparts, part) */
  readonly run: readonly string[];
  readonly fin: readonly string[];
  readonly locals: Locals;
  readonly hostUsed: ReadonlySet<HostMath>;
  /** full reductions kept in registers (one float64 partial each per part) */
  readonly registers: number;
  /** row kernels: caches of a row's expensive values (in the kernel's precision), C elements each per part */
  readonly caches?: number;
  /** the element type of each site ('x0'...) and output ('o0'...) in the module's memory */
  readonly types?: ReadonlyMap<string, ElemType>;
}

export interface WasmKernels {
  readonly precision: Precision;
  readonly kernels: readonly WasmKernel[];
  readonly results: readonly string[];
}

export function emitWasm(plan: KernelPlan, precision: Precision): WasmKernels {
  const inMemory = materializedBefore(plan);
  // element types in the module's memory, fixed here (the host converts as it copies): integer
  // inputs and iota int32, other tensors in the kernel's precision, accumulations float64
  const integer = new Set(plan.inputs.filter((b) => b.kind !== 'float').map((b) => b.name));
  const isInteger = (buffer: string): boolean => buffer === IOTA || integer.has(buffer);
  const emitted = plan.kernels.map((k) =>
    k.scan
      ? emitScanKernel(k, precision)
      : k.rows
        ? emitRowKernel(k, precision, inMemory.get(k)!, isInteger)
        : emitPlainKernel(k, precision, inMemory.get(k)!, isInteger),
  );
  const own: ElemType = precision === 'f32' ? 'f32' : 'f64';
  const kernels = emitted.map((k): WasmKernel => {
    const types = new Map<string, ElemType>();
    k.layout.sites.forEach((site, s) => types.set(`x${s}`, isInteger(site.buffer) ? 'i32' : own));
    k.layout.outputs.forEach((o, j) => types.set(`o${j}`, o.mode !== 'store' && !o.register ? 'f64' : own));
    return { ...k, types };
  });
  return { precision, kernels, results: plan.results };
}

/** Element types of the arrays a kernel is called with: its sites' ('x0'...) and outputs' ('o0'...). */
export type ElemType = 'f32' | 'f64' | 'i32';

const SHIFT: Record<ElemType, number> = { f32: 2, f64: 3, i32: 2 };
const LOAD: Record<ElemType, string> = { f32: 'f32.load f64.promote_f32', f64: 'f64.load', i32: 'i32.load f64.convert_i32_s' };
const STORE: Record<ElemType, string> = { f32: 'f32.demote_f64 f32.store', f64: 'f64.store', i32: 'i32.trunc_sat_f64_s i32.store' };

const VLOAD: Record<ElemType, string> = {
  f32: 'v128.load64_zero f64x2.promote_low_f32x4',
  f64: 'v128.load',
  i32: 'v128.load64_zero f64x2.convert_low_i32x4_s',
};
const VSTORE: Partial<Record<ElemType, string>> = { f32: 'f32x4.demote_f64x2_zero v128.store64_lane:0', f64: 'v128.store' };

/** four lanes: loads of four contiguous float32 or int32 elements, and stores of four float32 numbers */
const VLOAD4: Partial<Record<ElemType, string>> = { f32: 'v128.load', i32: 'v128.load' };
const VSTORE4: Partial<Record<ElemType, string>> = {
  f32: 'v128.store',
  f64: 'local.set:vs4 local.tee:va4 local.get:vs4 f64x2.promote_low_f32x4 v128.store local.get:va4 local.get:vs4 local.get:vs4 i8x16.shuffle:8,9,10,11,12,13,14,15,8,9,10,11,12,13,14,15 f64x2.promote_low_f32x4 v128.store:16',
};

/**
 * four float32 lanes added into four contiguous elements (an accumulation: in float64 memory as the
 * scalar path's f64.add, in float32 memory rounded once, as its demote)
 */
const VADD4: Partial<Record<ElemType, string>> = {
  f32: 'local.set:vs4 local.tee:va4 local.get:va4 v128.load local.get:vs4 f32x4.add v128.store',
  f64: `local.set:vs4 local.tee:va4 local.get:va4 v128.load local.get:vs4 f64x2.promote_low_f32x4 f64x2.add v128.store local.get:va4 local.get:va4 v128.load:16 local.get:vs4 local.get:vs4 ${'i8x16.shuffle:8,9,10,11,12,13,14,15,8,9,10,11,12,13,14,15'} f64x2.promote_low_f32x4 f64x2.add v128.store:16`,
};

export const MAX_PAGES = 32768; // 2 GiB

/** The kernel's module: pseudo-instructions resolved to loads and stores of its element types. */
export function assembleKernel(k: WasmKernel, shared: boolean): Uint8Array {
  const types = k.types!;
  const lib = MATHLIB[k.precision];
  const typeOfKey = (key: string): ElemType => types.get(key) ?? fail(`no element type for ${key}`);
  const ptr = (key: string): string => `local.get:p${key}`;
  const f32 = k.precision === 'f32';
  const cacheAddr = (key: string): string => `i32.const:${f32 ? 2 : 3} i32.shl local.get:p${key} i32.add`;
  const resolve = (line: string): string =>
    line.replace(/@(\w+)(?::(\w+))?/g, (_m, op: string, key: string | undefined) => {
      switch (op) {
        case 'ld':
          return `i32.const:${SHIFT[typeOfKey(key!)]} i32.shl ${ptr(key!)} i32.add ${LOAD[typeOfKey(key!)]}`;
        case 'addr':
          return `i32.const:${SHIFT[typeOfKey(key!)]} i32.shl ${ptr(key!)} i32.add`;
        case 'ldat':
          return LOAD[typeOfKey(key!)];
        // a row kernel's cache of expensive values, one element per position along the row, in the kernel's precision
        case 'cld':
          return `${cacheAddr(key!)} ${f32 ? 'f32.load f64.promote_f32' : 'f64.load'}`;
        case 'vcld':
          return `${cacheAddr(key!)} ${f32 ? 'v128.load64_zero f64x2.promote_low_f32x4' : 'v128.load'}`;
        case 'vcld4':
          return `${cacheAddr(key!)} ${f32 ? 'v128.load' : fail('a four-lane cache read in a float64 kernel')}`;
        case 'caddr':
          return cacheAddr(key!);
        case 'cstore':
          return f32 ? 'f32.demote_f64 f32.store' : 'f64.store';
        case 'vcstore':
          return f32 ? 'f32x4.demote_f64x2_zero v128.store64_lane:0' : 'v128.store';
        case 'vcstore4':
          return f32 ? 'v128.store' : fail('a four-lane cache write in a float64 kernel');
        // four float32 lanes: contiguous elements index ... index + 3
        case 'vld4':
          return `i32.const:${SHIFT[typeOfKey(key!)]} i32.shl ${ptr(key!)} i32.add ${VLOAD4[typeOfKey(key!)] ?? fail(`no four-lane load of ${typeOfKey(key!)}`)}`;
        case 'vadd4':
          return VADD4[typeOfKey(key!)] ?? fail(`no four-lane accumulation into ${typeOfKey(key!)}`);
        case 'vst4':
          return VSTORE4[typeOfKey(key!)] ?? fail(`no four-lane store into ${typeOfKey(key!)}`);
        // two lanes: contiguous elements index, index + 1
        case 'vld':
          return `i32.const:${SHIFT[typeOfKey(key!)]} i32.shl ${ptr(key!)} i32.add ${VLOAD[typeOfKey(key!)]}`;
        case 'vaddr':
          return `i32.const:${SHIFT[typeOfKey(key!)]} i32.shl ${ptr(key!)} i32.add`;
        case 'vst':
          return VSTORE[typeOfKey(key!)] ?? fail(`no two-lane store into ${typeOfKey(key!)}`);
        case 'st':
          return STORE[typeOfKey(key!)];
        case 'clamp': {
          const cnt = `local.get:cnt${key!.slice(1)}`;
          return `local.set:ci local.get:ci i32.const:0 local.get:ci i32.const:0 i32.gt_s select:i32 local.set:ci local.get:ci ${cnt} i32.const:1 i32.sub local.get:ci ${cnt} i32.lt_s select:i32`;
        }
        // scan: the carried state, at the initial state's or the result's address (both the result's type)
        case 'ldc':
          return `i32.const:${SHIFT[typeOfKey('o0')]} i32.shl local.get:pc i32.add ${LOAD[typeOfKey('o0')]}`;
        default:
          return fail(`unknown pseudo-instruction @${op}`);
      }
    });
  const locals = new Map(k.locals);
  locals.set('ci', 'i32');
  locals.set('va4', 'i32');
  locals.set('vs4', 'v128');
  const fn = (name: string, body: readonly string[]): FuncDef => ({ name, params: PARAMS, locals, body: body.map(resolve), exported: true });
  // exp, log, log1p: the module's own (mathlib.ts), which call the host's only outside their fast path
  const used = new Set<string>();
  const addLib = (name: string): void => {
    if (used.has(name)) return;
    used.add(name);
    lib[name]!.uses.forEach(addLib);
  };
  for (const h of k.hostUsed) if (lib[h]) addLib(h);
  for (const m of [...k.run, ...k.fin].join(' ').matchAll(/call:(\w+)/g)) if (lib[m[1]!]) addLib(m[1]!);
  const hosts = [...[...k.hostUsed].filter((h) => !lib[h]), ...[...used].filter((l) => !l.startsWith('v')).map((l) => `host_${l}`)];
  return encodeModule({
    memory: { initialPages: 1, maxPages: MAX_PAGES, shared },
    imports: hosts.map((name) => ({ name, params: name === 'pow' || name === 'fmod' ? ['f64', 'f64'] : ['f64'], result: 'f64' })),
    funcs: [fn('run', k.run), fn('fin', k.fin), ...[...used].map((l) => lib[l]!.def)],
  });
}

function fail(msg: string): never {
  throw new Error(`internal (wasm assembler): ${msg}`);
}
