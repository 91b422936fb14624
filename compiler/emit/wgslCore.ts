// The WGSL backend's shared parts: the plan-independent types the runtime and the manifest read
// (entry points, bindings, uniform layouts), the spelling of values (f32, i32, bool) over the
// table's `wgsl` column, the per-entry BodyPrinter context, and the module text around entry
// points. The kernel kinds are in wgslPlain.ts, wgslRows.ts and wgslScan.ts.
import type { Kind, Node } from '../ir/node.js';
import type { OutputSlot } from '../abi/slots.js';
import type { ShapeExpr } from '../ir/shape.js';
import type { Kernel } from '../plan/kernelPlan.js';
import { foldedValue } from '../reference.js';
import { BodyPrinter, IOTA, type ScalarSource, type Site, type Spelling } from './expr.js';
import { helpersFor, workgroupReductions } from './wgslPrelude.js';
import { identifier } from './names.js';

export const WORKGROUP_SIZE = 256;
/** invocations per row in a row kernel: fewer than a plain pass, since every row reduction is a barrier round */
export const ROW_WORKGROUP_SIZE = 64;
/** the highest rank a strided loop handles after merging axes */
export const MAX_RANK = 8;
/** scatter accumulations over at most this many elements use one invocation per output element */
export const SHORT_REDUCTION = 64;

/**
 * Uniform words (u32) of every entry point's segment: 0-3 the IEEE constants (0, +inf, -inf,
 * NaN as f32 bits), 4-11 the entry's header, 12.. its scalars, then its arrays (see entryLayout).
 */
export const UNIFORM_CONSTS = [0, 0x7f800000, 0xff800000, 0x7fc00000] as const;
export const HEADER = 4;
export const SCALARS = 12;

export type EntryKind = 'main_flat' | 'main_strided' | 'rows' | 'scan' | 'finish' | 'scatter_wg' | 'scatter_inv';

export interface WgslBinding {
  readonly binding: number;
  /** the plan buffer, or '$uniform' / '$partials' */
  readonly buffer: string;
  readonly access: 'uniform' | 'read' | 'read_write';
  readonly type: 'f32' | 'i32' | 'u32';
}

/** One output slot, as in the JS backend: loop outputs (stored or accumulated), then epilogue scalars. */
export type WgslSlot = OutputSlot;

/** Where an entry's arrays sit in its uniform segment (u32 words). */
export interface EntryLayout {
  readonly words: number;
  /** main: dims[MAX_RANK], then per site strides[MAX_RANK] */
  readonly dims?: number;
  readonly strides?: number;
  /** scatter: kept dims, reduced dims, then per site kept strides and reduced strides */
  readonly keptDims?: number;
  readonly redDims?: number;
  readonly keptStrides?: number;
  readonly redStrides?: number;
  /** rows: outer dims, per slot (sites, then addressed outputs) outer strides, then one along-row stride per slot; scan: dims, strides, then per site its step stride (sequences) */
  readonly along?: number;
}

export interface WgslEntry {
  readonly name: string;
  readonly kind: EntryKind;
  readonly workgroupSize: number;
  /** scatter entries: the index of the loop output they accumulate */
  readonly output?: number;
  /** the shape iterated over, when not the kernel's domain (a row kernel's scatter of a row value) */
  readonly domain?: ShapeExpr;
  /** rows: the outputs written through strides, in slot order after the sites */
  readonly addressed?: readonly number[];
  /** the bindings this entry uses (its pipeline layout) */
  readonly bindings: readonly number[];
  readonly sites: readonly Site[];
  readonly scalars: readonly ScalarSource[];
  readonly layout: EntryLayout;
  /** the header words (4..11), by meaning */
  readonly header: readonly string[];
}

export interface WgslKernel {
  readonly name: string;
  readonly domain: Kernel['domain'];
  /** row kernels: the row axis */
  readonly rowAxis?: number;
  /** scan kernels: the outer buffer of each placeholder of the body ('@carry': the initial state), and the sequence that counts the steps */
  readonly scan?: { readonly reverse: boolean; readonly bind: Readonly<Record<string, string>>; readonly steps: string };
  readonly code: string;
  readonly outputs: readonly WgslSlot[];
  readonly bindings: readonly WgslBinding[];
  readonly entries: readonly WgslEntry[];
  /** words of the uniform struct every segment must cover */
  readonly uniformWords: number;
}

export interface WgslOptions {
  /** use subgroupAdd / subgroupMax in workgroup reductions (needs the 'subgroups' feature) */
  readonly subgroups?: boolean;
}

export interface WgslProgram {
  readonly subgroups: boolean;
  readonly kernels: readonly WgslKernel[];
}

/** `slots`: sites (rows: sites and addressed outputs) */
export function entryLayout(kind: EntryKind, scalars: number, slots: number): EntryLayout {
  const base = SCALARS + scalars;
  const sites = slots;
  if (kind === 'finish') return { words: base };
  if (kind === 'scan') return { words: base + MAX_RANK * (1 + slots) + slots, dims: base, strides: base + MAX_RANK, along: base + MAX_RANK * (1 + slots) };
  if (kind === 'rows') return { words: base + MAX_RANK * (1 + slots) + slots, dims: base, strides: base + MAX_RANK, along: base + MAX_RANK * (1 + slots) };
  if (kind === 'main_flat' || kind === 'main_strided') return { words: base + MAX_RANK * (1 + sites), dims: base, strides: base + MAX_RANK };
  const keptStrides = base + 2 * MAX_RANK;
  return { words: keptStrides + 2 * MAX_RANK * sites, keptDims: base, redDims: base + MAX_RANK, keptStrides, redStrides: keptStrides + MAX_RANK * sites };
}

export const HEADERS: Record<EntryKind, readonly string[]> = {
  // a domain too large for one binding is dispatched in chunks: each writes its partials from
  // partialBase, and the finish entry reads partialStride of them per full reduction
  main_flat: ['n', 'rank', 'workgroups', 'storeMask', 'partialStride', 'partialBase'],
  main_strided: ['n', 'rank', 'workgroups', 'storeMask', 'partialStride', 'partialBase'],
  rows: ['rows', 'C', 'outerRank', 'workgroups', 'storeMask'],
  scan: ['steps', 'n', 'rank'],
  finish: ['partials'],
  scatter_wg: ['outputs', 'reduced', 'keptRank', 'reducedRank', 'workgroups'],
  scatter_inv: ['outputs', 'reduced', 'keptRank', 'reducedRank', 'workgroups'],
};
export const header = (kind: EntryKind, name: string): string => `lc_u(${HEADER + HEADERS[kind].indexOf(name)}u)`;

export interface KernelEnv {
  readonly subgroups: boolean;
  readonly kinds: ReadonlyMap<string, { kind: Kind; type: 'f32' | 'i32' }>;
  readonly materialized: ReadonlyMap<Node, string>;
}

// ------------------------------------------------------------------ spelling

const joinKinds = (ks: readonly Kind[]): Kind => (ks.includes('float') ? 'float' : ks.includes('int') ? 'int' : 'bool');
const COMPARISONS = new Set(['lt', 'le', 'gt', 'ge', 'eq', 'ne']);
const isLiteral = (e: string): boolean => /^\(?-?[0-9.e+-]+f\)?$|^\(?-?lc_k\.[xyzw]\)?$/.test(e);

/** The kind operand `i` of `op` must have in WGSL (which has no implicit conversions), or null: any. */
function operandKind(op: Node, i: number): Kind | null {
  switch (op.op) {
    case 'where':
      return i === 0 ? 'bool' : op.kind;
    case 'cast':
      return null;
    case 'and':
    case 'or':
    case 'not':
      return 'bool';
    case 'withGrad':
    case 'stopGradient':
      return i === 0 ? op.kind : null;
    case 'floorDiv':
      return 'float'; // floor(a / b): declared() converts an int result back
    default:
      return COMPARISONS.has(op.op) ? joinKinds(op.inputs.map((n) => n.kind)) : op.kind;
  }
}

export function convert(expr: string, from: Kind, to: Kind): string {
  if (from === to) return expr;
  if (to === 'float') return `f32(${expr})`;
  if (to === 'int') return `i32(${expr})`;
  return from === 'float' ? `(${expr} != 0.0f)` : `(${expr} != 0i)`;
}

/** A WGSL literal: typed (f32 'f', i32 'i'); 0, ±inf and NaN come from the uniform (lc_k). */
export function wgslLiteral(v: number, kind: Kind): string {
  if (kind === 'bool') return v ? 'true' : 'false';
  if (kind === 'int') return v < 0 ? `(-${-v}i)` : `${v}i`;
  const x = Math.fround(v);
  if (Number.isNaN(x)) return 'lc_k.w';
  if (x === Infinity) return 'lc_k.y';
  if (x === -Infinity) return 'lc_k.z';
  if (x === 0) return Object.is(x, -0) ? '(-lc_k.x)' : 'lc_k.x';
  const s = String(Math.abs(x));
  const lit = `${s.includes('.') || s.includes('e') ? s : `${s}.0`}f`;
  return x < 0 ? `(-${lit})` : lit;
}

/** A stored element read as a value of `kind`. */
export const readAs = (expr: string, type: 'f32' | 'i32', kind: Kind): string => convert(expr, type === 'i32' ? 'int' : 'float', kind);

/** One entry point being printed: its body printer, and the bindings it touches. */
export class EntryCtx {
  readonly used = new Set<number>([0]);
  readonly p: BodyPrinter;

  constructor(
    readonly mod: ModuleCtx,
    env: KernelEnv,
    /** a scan body: its placeholders' outer buffers; the carry and the sequences are read per step */
    private readonly scan?: { readonly bind: Readonly<Record<string, string>>; readonly xs: ReadonlySet<string> },
  ) {
    this.p = new BodyPrinter(this.spelling(), { precision: 'f32', materialized: env.materialized });
  }

  private outer(buffer: string): string {
    return this.scan?.bind[buffer] ?? buffer;
  }

  use(buffer: string, access: 'read' | 'read_write'): { name: string; type: 'f32' | 'i32' } {
    const b = this.mod.bind(buffer, access);
    this.used.add(b.binding);
    return { name: this.mod.varName(b), type: b.type === 'i32' ? 'i32' : 'f32' };
  }

  private spelling(): Spelling {
    const mod = this.mod;
    return {
      column: 'wgsl',
      literal: wgslLiteral,
      round: (e) => `lc_r(${e})`,
      declare: (name, expr, node) => `let ${name} = ${declared(expr, node)};`,
      select: (c, a, e) => `select(${e}, ${a}, ${c})`,
      siteRead: (k, index) => {
        const site = this.p.sites[k]!;
        if (site.buffer === IOTA) return `(${index})`;
        // a scan's state: the initial one at the first step, else the previous step's (lc_carry)
        if (this.scan && site.buffer === '@carry') return convert(`lc_carry(${index})`, 'float', mod.kindOf(this.outer(site.buffer)));
        const b = this.use(this.outer(site.buffer), 'read');
        const at = this.scan?.xs.has(site.buffer) ? `lc_t * xs${k} + ${index}` : index;
        return readAs(`${b.name}[${at}]`, b.type, mod.kindOf(this.outer(site.buffer)));
      },
      scalarRead: (slot, source, node) => {
        if (source.kind === 'buffer') {
          const b = this.use(this.outer(source.buffer), 'read');
          return readAs(`${b.name}[0]`, b.type, node.kind);
        }
        const w = `lc_u(${SCALARS + slot}u)`;
        if (source.kind === 'gatherStride' || node.kind === 'int') return `bitcast<i32>(${w})`;
        return node.kind === 'bool' ? `(${w} != 0u)` : `bitcast<f32>(${w})`;
      },
      coerce: (expr, operand, op, i) => {
        const want = operandKind(op, i);
        const e = want === null ? expr : convert(expr, operand.kind, want);
        // float comparison operands pass lc_r: otherwise a compiler may merge select(x, 0, x < 0)
        // into max(x, 0), which drops NaN (Mesa's GL path does; JS keeps the NaN)
        return COMPARISONS.has(op.op) && want === 'float' && !isLiteral(e) ? `lc_r(${e})` : e;
      },
    };
  }
}

/**
 * The right-hand side of a declaration: an operation on literals only is folded here, in float32
 * as the JS backend computes it (WGSL would fold it at shader creation, where an overflow is an
 * error); a cast to int or bool converts the table's f32(...) spelling.
 */
export function declared(expr: string, node: Node): string {
  const folded = foldedValue(node, 'f32');
  if (folded !== null) return wgslLiteral(folded, node.kind);
  if ((node.op === 'cast' || node.op === 'floorDiv') && node.kind !== 'float') return convert(expr, 'float', node.kind);
  return expr;
}

/** One kernel's module: its bindings (binding 0 is the uniform), assigned as entries use them. */
export class ModuleCtx {
  readonly bindings: WgslBinding[] = [{ binding: 0, buffer: '$uniform', access: 'uniform', type: 'u32' }];
  private readonly byName = new Map<string, WgslBinding>();

  constructor(readonly env: KernelEnv) {}

  kindOf(buffer: string): Kind {
    return this.env.kinds.get(buffer)?.kind ?? 'float';
  }

  bind(buffer: string, access: 'read' | 'read_write'): WgslBinding {
    const known = this.byName.get(buffer);
    if (known) {
      // read by one entry point and written by another (a row kernel's scatter reads its rows' results)
      if (known.access !== access) (known as { access: WgslBinding['access'] }).access = 'read_write';
      return known;
    }
    const type = buffer === '$partials' ? 'f32' : (this.env.kinds.get(buffer)?.type ?? 'f32');
    const b: WgslBinding = { binding: this.bindings.length, buffer, access, type };
    this.bindings.push(b);
    this.byName.set(buffer, b);
    return b;
  }

  varName(b: WgslBinding): string {
    if (b.buffer === '$uniform') return 'U';
    if (b.buffer === '$partials') return 'lc_part';
    return `b${b.binding}_${b.buffer.replace(/[^A-Za-z0-9_]/g, '_')}`;
  }
}

export interface EntryText {
  readonly entry: WgslEntry;
  readonly code: string;
  /** the workgroup size whose reduction helpers the entry calls, or null */
  readonly reduces: number | null;
}

/** The module text of one kernel: uniform and buffer declarations, helpers, entry points. */
export function assemble(
  k: Kernel,
  mod: ModuleCtx,
  env: KernelEnv,
  texts: readonly EntryText[],
  outputs: WgslSlot[],
  rowAxis?: number,
  extra: { decls?: string[]; scan?: WgslKernel['scan'] } = {},
): WgslKernel {
  if (outputs.filter((o) => o.phase === 'loop').length > 32)
    throw new Error(`WebGPU: kernel ${k.name} has more than 32 loop outputs; at most 32 fit its store mask`);
  const uniformWords = Math.max(...texts.map((t) => t.entry.layout.words));
  const vec4s = Math.ceil(uniformWords / 4);
  const body = texts.map((t) => t.code).join('\n\n');
  const sizes = [...new Set(texts.map((t) => t.reduces).filter((x): x is number => x !== null))];
  const reductions = sizes.map((size) => workgroupReductions(size, env.subgroups, reductionTag(size))).join('\n');
  const decls = mod.bindings.map((b) => {
    const name = mod.varName(b);
    if (b.access === 'uniform') return `@group(0) @binding(${b.binding}) var<uniform> U: LcUniform;`;
    const access = b.access === 'read' ? 'read' : 'read_write';
    const what = b.buffer === '$partials' ? 'partial reductions, one per workgroup' : `${b.access === 'read' ? 'reads' : 'writes'} '${b.buffer}'`;
    return `@group(0) @binding(${b.binding}) var<storage, ${access}> ${name}: array<${b.type}>; // ${what}`;
  });
  const core = [
    `struct LcUniform { w: array<vec4<u32>, ${vec4s}> }`,
    ...decls,
    '',
    '// 0, +inf, -inf, NaN, from the uniform: the shader compiler cannot fold IEEE specials away',
    'var<private> lc_k: vec4<f32>;',
    'fn lc_init() { lc_k = bitcast<vec4<f32>>(U.w[0]); }',
    'fn lc_u(k: u32) -> u32 { return U.w[k >> 2u][k & 3u]; }',
    'fn lc_i(k: u32) -> i32 { return bitcast<i32>(lc_u(k)); }',
    ...(extra.decls ?? []),
  ].join('\n');
  const helpers = helpersFor(`${reductions}\n${body}`);
  const code = [
    ...(env.subgroups ? ['enable subgroups;', ''] : []),
    `// lossc kernel ${identifier(k.name)}${rowAxis !== undefined ? ` (rows along axis ${rowAxis})` : ''}`,
    core,
    '',
    ...helpers,
    ...(reductions ? ['', reductions] : []),
    '',
    body,
    '',
  ].join('\n');
  return {
    name: k.name,
    domain: k.domain,
    ...(rowAxis !== undefined ? { rowAxis } : {}),
    ...(extra.scan ? { scan: extra.scan } : {}),
    code,
    outputs,
    bindings: mod.bindings,
    entries: texts.map((t) => t.entry),
    uniformWords,
  };
}

export const builtins = (subgroups: boolean): string =>
  `@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wg: vec3<u32>${subgroups ? ', @builtin(subgroup_invocation_id) sgi: u32, @builtin(subgroup_size) sgs: u32' : ''}`;
const reductionTag = (size: number): string => (size === WORKGROUP_SIZE ? '' : String(size));
export const reduceCall = (mode: 'sum' | 'max', v: string, subgroups: boolean, size = WORKGROUP_SIZE): string =>
  `lc_wg${reductionTag(size)}_${mode}(${v}, li${subgroups ? ', sgi, sgs' : ''})`;
export const initOf = (mode: 'store' | 'sum' | 'max'): string => (mode === 'max' ? 'lc_k.z' : '0.0f');
export const indent = (n: number, lines: readonly string[]): string[] => lines.map((l) => '  '.repeat(n) + l);

/** Offsets `o<k>` (i32) of each site for the flat domain index `index`, from dims and strides words. */
export function offsetLoop(
  index: string,
  rank: string,
  dimsWord: number,
  stridesWord: number,
  sites: number,
  init: (k: number) => string,
  tag: string,
): string[] {
  if (sites === 0) return [];
  const lines = [`var rem${tag} = ${index};`, ...Array.from({ length: sites }, (_, k) => `var o${k} = ${init(k)};`)];
  lines.push(`for (var d = ${rank}; d > 0u; d = d - 1u) {`);
  lines.push(`  let nd = lc_u(${dimsWord - 1}u + d);`, `  let c = i32(rem${tag} % nd);`, `  rem${tag} = rem${tag} / nd;`);
  for (let k = 0; k < sites; k++) lines.push(`  o${k} = o${k} + c * lc_i(${stridesWord + k * MAX_RANK - 1}u + d);`);
  lines.push('}');
  return lines;
}

export const toF32 = (expr: string, kind: Kind): string => convert(expr, kind, 'float');
