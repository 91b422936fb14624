// WGSL backend: the same KernelPlan as the JS backend, through the same BodyPrinter, spelled
// with the table's `wgsl` column. Each plan kernel becomes one WGSL module whose entry points
// the runtime dispatches in order:
//
//   main_flat / main_strided   grid-stride loop over the domain (flat: every site has the
//                              domain's contiguous layout; strided: offsets from dims and strides
//                              in the uniform). Stores per-element outputs (and accumulations
//                              whose target has the domain's shape at run time, per a mask bit);
//                              full reductions go through a workgroup tree into partials.
//   finish                     one workgroup: partials -> each full reduction, then the scalar
//                              epilogue. Two dispatches, a fixed order, no float atomics.
//   scatter_wg_j / scatter_inv_j  accumulation j into a smaller tensor: one workgroup (or one
//                              invocation, for short reductions) per output element, looping over
//                              the reduced index set in a fixed order.
//
// Values are f32, i32 (int kind) and bool. f32 arithmetic is already float32, but each rounded
// result goes through lc_r, which the shader compiler cannot see through: it may not reassociate
// or contract across it (see wgslPrelude.ts). The IEEE specials (and zero) come from the uniform.
//   rows                       a row kernel (a softmax's class axis): one workgroup per row, the
//                              row's stages in order (passes over its elements, reducing it in
//                              workgroup memory; work once per row), then partials as in main.
//
// Each kernel kind is one function: emitPlainKernel, emitRowKernel.
import type { Kind, Node } from '../ir/node.js';
import { reduceShape, scalarShape, type ShapeExpr } from '../ir/shape.js';
import type { Kernel, KernelOutput, KernelPlan } from '../plan/kernelPlan.js';
import { primitive } from '../primitives/table.js';
import { BodyPrinter, IOTA, type ScalarSource, type Site, type Spelling } from './expr.js';
import { helpersFor, workgroupReductions } from './wgslPrelude.js';

export const WORKGROUP_SIZE = 256;
/** the highest rank a strided loop handles after merging axes */
export const MAX_RANK = 8;
/** scatter accumulations over at most this many elements use one invocation per output element */
export const SHORT_REDUCTION = 64;

/**
 * Uniform words (u32) of every entry point's segment: 0-3 the IEEE constants (0, +inf, -inf,
 * NaN as f32 bits), 4-11 the entry's header, 12.. its scalars, then its arrays (see entryLayout).
 */
export const UNIFORM_CONSTS = [0, 0x7f800000, 0xff800000, 0x7fc00000] as const;
const HEADER = 4;
const SCALARS = 12;

export type EntryKind = 'main_flat' | 'main_strided' | 'rows' | 'finish' | 'scatter_wg' | 'scatter_inv';

export interface WgslBinding {
  readonly binding: number;
  /** the plan buffer, or '$uniform' / '$partials' */
  readonly buffer: string;
  readonly access: 'uniform' | 'read' | 'read_write';
  readonly type: 'f32' | 'i32' | 'u32';
}

/** One output slot, as in the JS backend: loop outputs (stored or accumulated), then epilogue scalars. */
export interface WgslSlot {
  readonly buffer: string;
  readonly mode: 'store' | 'sum' | 'max';
  readonly phase: 'loop' | 'epilogue';
  /** a full reduction to a scalar: partials, then the finish entry */
  readonly register: boolean;
  readonly shape: Kernel['domain'];
  readonly node: Node;
  /** row kernels: the shape the value is computed over (the domain, or a row's shape) */
  readonly from?: ShapeExpr;
  /** row kernels: accumulated across rows (stored in place when its target has `from`'s shape at run time, else scattered) */
  readonly accumulates?: boolean;
}

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
  /** rows: outer dims, per slot (sites, then addressed outputs) outer strides, then one along-row stride per slot */
  readonly along?: number;
}

export interface WgslEntry {
  readonly name: string;
  readonly kind: EntryKind;
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
  if (kind === 'rows') return { words: base + MAX_RANK * (1 + slots) + slots, dims: base, strides: base + MAX_RANK, along: base + MAX_RANK * (1 + slots) };
  if (kind === 'main_flat' || kind === 'main_strided') return { words: base + MAX_RANK * (1 + sites), dims: base, strides: base + MAX_RANK };
  const keptStrides = base + 2 * MAX_RANK;
  return { words: keptStrides + 2 * MAX_RANK * sites, keptDims: base, redDims: base + MAX_RANK, keptStrides, redStrides: keptStrides + MAX_RANK * sites };
}

const HEADERS: Record<EntryKind, readonly string[]> = {
  main_flat: ['n', 'rank', 'workgroups', 'storeMask'],
  main_strided: ['n', 'rank', 'workgroups', 'storeMask'],
  rows: ['rows', 'C', 'outerRank', 'workgroups', 'storeMask'],
  finish: ['partials'],
  scatter_wg: ['outputs', 'reduced', 'keptRank', 'reducedRank', 'workgroups'],
  scatter_inv: ['outputs', 'reduced', 'keptRank', 'reducedRank', 'workgroups'],
};
const header = (kind: EntryKind, name: string): string => `lc_u(${HEADER + HEADERS[kind].indexOf(name)}u)`;

export function emitWgsl(plan: KernelPlan, opts: WgslOptions = {}): WgslProgram {
  const subgroups = opts.subgroups === true;
  const kinds = new Map<string, { kind: Kind; type: 'f32' | 'i32' }>();
  for (const b of plan.inputs) kinds.set(b.name, { kind: b.kind, type: b.kind === 'int' ? 'i32' : 'f32' });
  for (const b of plan.buffers) kinds.set(b.name, { kind: b.kind, type: 'f32' });
  const materialized = new Map<Node, string>();
  const kernels: WgslKernel[] = [];
  for (const k of plan.kernels) {
    const emit = k.rows ? emitRowKernel : emitPlainKernel;
    kernels.push(emit(k, { subgroups, kinds, materialized: new Map(materialized) }));
    for (const o of k.outputs) if (o.mode !== 'store') materialized.set(o.node, o.buffer);
  }
  return { subgroups, kernels };
}

interface KernelEnv {
  readonly subgroups: boolean;
  readonly kinds: ReadonlyMap<string, { kind: Kind; type: 'f32' | 'i32' }>;
  readonly materialized: ReadonlyMap<Node, string>;
}

// ------------------------------------------------------------------ spelling

const joinKinds = (ks: readonly Kind[]): Kind => (ks.includes('float') ? 'float' : ks.includes('int') ? 'int' : 'bool');
const COMPARISONS = new Set(['lt', 'le', 'gt', 'ge', 'eq', 'ne']);

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
const readAs = (expr: string, type: 'f32' | 'i32', kind: Kind): string => convert(expr, type === 'i32' ? 'int' : 'float', kind);

/** One entry point being printed: its body printer, and the bindings it touches. */
class EntryCtx {
  readonly used = new Set<number>([0]);
  readonly p: BodyPrinter;

  constructor(
    readonly mod: ModuleCtx,
    env: KernelEnv,
  ) {
    this.p = new BodyPrinter(this.spelling(), { precision: 'f32', materialized: env.materialized });
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
        const b = this.use(site.buffer, 'read');
        return readAs(`${b.name}[${index}]`, b.type, mod.kindOf(site.buffer));
      },
      scalarRead: (slot, source, node) => {
        if (source.kind === 'buffer') {
          const b = this.use(source.buffer, 'read');
          return readAs(`${b.name}[0]`, b.type, node.kind);
        }
        const w = `lc_u(${SCALARS + slot}u)`;
        if (source.kind === 'gatherStride' || node.kind === 'int') return `bitcast<i32>(${w})`;
        return node.kind === 'bool' ? `(${w} != 0u)` : `bitcast<f32>(${w})`;
      },
      coerce: (expr, operand, op, i) => {
        const want = operandKind(op, i);
        return want === null ? expr : convert(expr, operand.kind, want);
      },
    };
  }
}

/**
 * The right-hand side of a declaration: an operation on literals only is folded here, in float32
 * as the JS backend computes it (WGSL would fold it at shader creation, where an overflow is an
 * error); a cast to int or bool converts the table's f32(...) spelling.
 */
function declared(expr: string, node: Node): string {
  const def = primitive(node.op);
  if (def.category === 'elementwise' && def.eval && node.inputs.length > 0 && node.inputs.every((i) => i.op === 'const')) {
    const args = node.inputs.map((i) => (i.kind === 'float' ? Math.fround(i.attrs.value!) : i.attrs.value!));
    return wgslLiteral(def.eval(...args), node.kind);
  }
  if (node.op === 'cast' && node.kind !== 'float') return convert(expr, 'float', node.kind);
  return expr;
}

/** One kernel's module: its bindings (binding 0 is the uniform), assigned as entries use them. */
class ModuleCtx {
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

// ------------------------------------------------------------------ the plain kernel kind

interface EntryText {
  readonly entry: WgslEntry;
  readonly code: string;
  readonly reduces: boolean;
}

function emitPlainKernel(k: Kernel, env: KernelEnv): WgslKernel {
  const mod = new ModuleCtx(env);
  const loop: WgslSlot[] = k.outputs.map((o) => ({ ...o, phase: 'loop', register: o.mode !== 'store' && o.node.shape === scalarShape, shape: o.node.shape }));
  const epilogue: WgslSlot[] = k.epilogue.map((o) => ({ ...o, phase: 'epilogue', register: false, shape: o.node.shape }));
  const texts: EntryText[] = [
    ...emitMain(mod, env, loop),
    ...emitFinish(mod, env, loop, epilogue),
    ...loop.flatMap((o, j) => (o.mode !== 'store' && !o.register ? emitScatter(mod, env, o, j) : [])),
  ];
  return assemble(k, mod, env, texts, [...loop, ...epilogue]);
}

/** A row kernel: one workgroup per row (grid-stride over rows), the stages in order. */
function emitRowKernel(k: Kernel, env: KernelEnv): WgslKernel {
  const rows = k.rows!;
  const rowShapes = new Set<ShapeExpr>([reduceShape(k.domain, [rows.axis], true), reduceShape(k.domain, [rows.axis], false)]);
  const mod = new ModuleCtx(env);
  // slots in stage order, as the JS row kernels number them
  const loop: WgslSlot[] = [];
  const slotOf = new Map<KernelOutput, number>();
  for (const stage of rows.stages)
    for (const o of stage.outputs) {
      const from = o.mode === 'store' ? o.node.shape : o.node.inputs[0]!.shape;
      const register = o.mode !== 'store' && o.node.shape === scalarShape;
      const perRow = o.mode === 'store' || rowShapes.has(o.node.shape);
      slotOf.set(o, loop.length);
      loop.push({ ...o, phase: 'loop', register, shape: o.node.shape, from, accumulates: !register && !perRow });
    }
  const epilogue: WgslSlot[] = k.epilogue.map((o) => ({ ...o, phase: 'epilogue', register: false, shape: o.node.shape }));
  // what the rows entry writes per row, a later scatter reads from memory
  const written = new Map(env.materialized);
  for (const o of loop) if (!o.register && !o.accumulates) written.set(o.node, o.buffer);
  const scatterEnv: KernelEnv = { ...env, materialized: written };
  const texts: EntryText[] = [
    ...emitRows(k, mod, env, loop, slotOf, rowShapes),
    ...emitFinish(mod, env, loop, epilogue),
    ...loop.flatMap((o, j) => (o.accumulates ? emitScatter(mod, scatterEnv, o, j, o.from) : [])),
  ];
  return assemble(k, mod, env, texts, [...loop, ...epilogue], rows.axis);
}

/** The module text of one kernel: uniform and buffer declarations, helpers, entry points. */
function assemble(k: Kernel, mod: ModuleCtx, env: KernelEnv, texts: readonly EntryText[], outputs: WgslSlot[], rowAxis?: number): WgslKernel {
  if (outputs.filter((o) => o.phase === 'loop').length > 32) throw new Error(`WebGPU: kernel ${k.name} has more than 32 loop outputs; at most 32 fit its store mask`);
  const uniformWords = Math.max(...texts.map((t) => t.entry.layout.words));
  const vec4s = Math.ceil(uniformWords / 4);
  const body = texts.map((t) => t.code).join('\n\n');
  const reductions = texts.some((t) => t.reduces) ? workgroupReductions(WORKGROUP_SIZE, env.subgroups) : '';
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
  ].join('\n');
  const helpers = helpersFor(`${reductions}\n${body}`);
  const code = [
    ...(env.subgroups ? ['enable subgroups;', ''] : []),
    `// lossc kernel ${k.name}${rowAxis !== undefined ? ` (rows along axis ${rowAxis})` : ''}: ${WORKGROUP_SIZE} invocations per workgroup`,
    core,
    '',
    ...helpers,
    ...(reductions ? ['', reductions] : []),
    '',
    body,
    '',
  ].join('\n');
  return { name: k.name, domain: k.domain, ...(rowAxis !== undefined ? { rowAxis } : {}), code, outputs, bindings: mod.bindings, entries: texts.map((t) => t.entry), uniformWords };
}

const builtins = (subgroups: boolean): string =>
  `@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wg: vec3<u32>${subgroups ? ', @builtin(subgroup_invocation_id) sgi: u32, @builtin(subgroup_size) sgs: u32' : ''}`;
const reduceCall = (mode: 'sum' | 'max', v: string, subgroups: boolean): string => `lc_wg_${mode}(${v}, li${subgroups ? ', sgi, sgs' : ''})`;
const initOf = (mode: 'store' | 'sum' | 'max'): string => (mode === 'max' ? 'lc_k.z' : '0.0f');
const indent = (n: number, lines: readonly string[]): string[] => lines.map((l) => '  '.repeat(n) + l);

/** Offsets `o<k>` (i32) of each site for the flat domain index `index`, from dims and strides words. */
function offsetLoop(index: string, rank: string, dimsWord: number, stridesWord: number, sites: number, init: (k: number) => string, tag: string): string[] {
  if (sites === 0) return [];
  const lines = [`var rem${tag} = ${index};`, ...Array.from({ length: sites }, (_, k) => `var o${k} = ${init(k)};`)];
  lines.push(`for (var d = ${rank}; d > 0u; d = d - 1u) {`);
  lines.push(`  let nd = lc_u(${dimsWord - 1}u + d);`, `  let c = i32(rem${tag} % nd);`, `  rem${tag} = rem${tag} / nd;`);
  for (let k = 0; k < sites; k++) lines.push(`  o${k} = o${k} + c * lc_i(${stridesWord + k * MAX_RANK - 1}u + d);`);
  lines.push('}');
  return lines;
}

const toF32 = (expr: string, kind: Kind): string => convert(expr, kind, 'float');

function emitMain(mod: ModuleCtx, env: KernelEnv, loop: readonly WgslSlot[]): EntryText[] {
  if (loop.length === 0) return [];
  const e = new EntryCtx(mod, env);
  const roots = loop.map((o) => (o.mode === 'store' ? o.node : o.node.inputs[0]!));
  const flat = e.p.body(roots, () => 'ii', '_f');
  const sitesAfterFlat = e.p.sites.length;
  const strided = e.p.body(roots, (s) => `o${s}`, '_s');
  if (e.p.sites.length !== sitesAfterFlat) throw new Error('internal: the loops of a kernel read different sites');
  const regs = loop.map((o, j) => (o.register ? j : -1)).filter((j) => j >= 0);
  const outs = loop.map((o) => (o.register ? null : e.use(o.buffer, 'read_write')));
  const part = regs.length ? e.use('$partials', 'read_write') : null;
  const layout = entryLayout('main_flat', e.p.scalars.length, e.p.sites.length);
  const stores = (values: readonly string[]): string[] =>
    loop.map((o, j) => {
      const v = toF32(values[j]!, roots[j]!.kind);
      if (o.register) return o.mode === 'max' ? `r${j} = lc_maxacc(r${j}, ${v});` : `r${j} = r${j} + ${v};`;
      const st = `${outs[j]!.name}[i] = ${v};`;
      return o.mode === 'store' ? st : `if ((mask & ${2 ** j >>> 0}u) != 0u) { ${st} }`;
    });
  const tail = regs.flatMap((j, q) => [
    `let t${j} = ${reduceCall(loop[j]!.mode as 'sum' | 'max', `r${j}`, env.subgroups)};`,
    `if (li == 0u) { ${part!.name}[${q}u * P + wg.x] = t${j}; }`,
  ]);
  const entry = (kind: 'main_flat' | 'main_strided', body: { lines: string[]; values: string[] }, offsets: string[]): EntryText => {
    const lines = [
      `@compute @workgroup_size(${WORKGROUP_SIZE})`,
      `fn ${kind}(${builtins(env.subgroups)}) {`,
      ...indent(1, [
        'lc_init();',
        `let n = ${header(kind, 'n')};`,
        `let P = ${header(kind, 'workgroups')};`,
        `let mask = ${header(kind, 'storeMask')};`,
        ...(kind === 'main_strided' ? [`let rank = ${header(kind, 'rank')};`] : []),
        ...e.p.hoisted,
        ...regs.map((j) => `var r${j} = ${initOf(loop[j]!.mode)};`),
        `for (var i = wg.x * ${WORKGROUP_SIZE}u + li; i < n; i = i + P * ${WORKGROUP_SIZE}u) {`,
        ...indent(1, [...offsets, ...body.lines, ...stores(body.values)]),
        '}',
        ...tail,
      ]),
      '}',
    ];
    return {
      entry: { name: kind, kind, bindings: [...e.used].sort((a, b) => a - b), sites: e.p.sites, scalars: e.p.scalars, layout, header: HEADERS[kind] },
      code: lines.join('\n'),
      reduces: regs.length > 0,
    };
  };
  const nSites = e.p.sites.length;
  return [
    entry('main_flat', flat, ['let ii = i32(i);']),
    entry('main_strided', strided, offsetLoop('i', 'rank', layout.dims!, layout.strides!, nSites, () => '0i', '')),
  ];
}

/**
 * The rows entry: workgroup w takes rows w, w + G, ...; per row its stages in order. A pass
 * splits the row's C elements over the workgroup; a row reduction is a workgroup reduction
 * every invocation sees (so later stages may use it); work once per row is computed by every
 * invocation (it feeds later stages) and written by invocation 0.
 */
function emitRows(k: Kernel, mod: ModuleCtx, env: KernelEnv, loop: readonly WgslSlot[], slotOf: ReadonlyMap<KernelOutput, number>, rowShapes: ReadonlySet<ShapeExpr>): EntryText[] {
  const e = new EntryCtx(mod, env);
  const rootOf = (o: KernelOutput): Node => (o.mode === 'store' ? o.node : o.node.inputs[0]!);
  const addressed = loop.map((o, j) => (o.register ? -1 : j)).filter((j) => j >= 0);
  const regs = loop.map((o, j) => (o.register ? j : -1)).filter((j) => j >= 0);
  const outs = loop.map((o) => (o.register ? null : e.use(o.buffer, 'read_write')));
  const part = regs.length ? e.use('$partials', 'read_write') : null;
  const bit = (j: number): string => `(mask & ${2 ** j >>> 0}u) != 0u`;
  const combine = (mode: KernelOutput['mode'], acc: string, v: string): string => (mode === 'max' ? `${acc} = lc_maxacc(${acc}, ${v});` : `${acc} = ${acc} + ${v};`);
  const bound = new Map<Node, string>();
  const body: string[] = [];
  k.rows!.stages.forEach((stage, si) => {
    const roots = stage.outputs.map(rootOf);
    if (stage.over === 'row') {
      const b = e.p.body(roots, (site) => `b${site}`, `_r${si}`, bound, { scalarInvariants: true, rootFrames: true });
      const once = stage.outputs.map((o, i) => {
        const j = slotOf.get(o)!;
        const v = toF32(b.values[i]!, roots[i]!.kind);
        if (loop[j]!.register) return combine(o.mode, `g${j}`, v);
        if (loop[j]!.accumulates) return `if (${bit(j)}) { ${outs[j]!.name}[bo${j}] = ${v}; }`;
        return `${outs[j]!.name}[bo${j}] = ${v};`;
      });
      stage.outputs.forEach((o, i) => o.mode === 'store' && bound.set(o.node, b.values[i]!));
      body.push(...b.lines, 'if (li == 0u) {', ...indent(1, once), '}');
      return;
    }
    const hoisted: string[] = [];
    const b = e.p.body(roots, (site) => `b${site} + jj * a${site}`, `_p${si}`, bound, {
      scalarInvariants: true,
      hoistRow: { test: (n) => rowShapes.has(n.shape), index: (site) => `b${site}`, lines: hoisted },
    });
    const rowReductions = stage.outputs.filter((o) => o.mode !== 'store' && rowShapes.has(o.node.shape) && o.node.inputs[0]!.shape === k.domain);
    const inner = stage.outputs.map((o, i) => {
      const j = slotOf.get(o)!;
      const v = toF32(b.values[i]!, roots[i]!.kind);
      const at = `${outs[j]?.name}[bo${j} + jj * ao${j}]`;
      if (o.mode === 'store') return `${at} = ${v};`;
      if (rowReductions.includes(o)) return combine(o.mode, `rr${j}`, v);
      if (loop[j]!.register) return combine(o.mode, `g${j}`, v);
      if (loop[j]!.accumulates) return `if (${bit(j)}) { ${at} = ${v}; }`;
      throw new Error(`internal: ${k.name}: output ${o.buffer} of a pass over the row is neither stored nor reduced`);
    });
    body.push(...hoisted, ...rowReductions.map((o) => `var rr${slotOf.get(o)!} = ${initOf(o.mode)};`));
    body.push(`for (var jj = i32(li); jj < C; jj = jj + ${WORKGROUP_SIZE}i) {`, ...indent(1, [...b.lines, ...inner]), '}');
    for (const o of rowReductions) {
      const j = slotOf.get(o)!;
      body.push(`let red${j} = ${reduceCall(o.mode as 'sum' | 'max', `rr${j}`, env.subgroups)};`, `if (li == 0u) { ${outs[j]!.name}[bo${j}] = red${j}; }`);
      bound.set(o.node, convert(`red${j}`, 'float', o.node.kind));
    }
  });
  const nSites = e.p.sites.length;
  const layout = entryLayout('rows', e.p.scalars.length, nSites + addressed.length);
  const slotNames = [...Array.from({ length: nSites }, (_, s) => `b${s}`), ...addressed.map((j) => `bo${j}`)];
  const alongNames = [...Array.from({ length: nSites }, (_, s) => `a${s}`), ...addressed.map((j) => `ao${j}`)];
  const offsets = [
    'var rem = q;',
    ...slotNames.map((b) => `var ${b} = 0i;`),
    'for (var d = orank; d > 0u; d = d - 1u) {',
    `  let nd = lc_u(${layout.dims! - 1}u + d);`,
    '  let c = i32(rem % nd);',
    '  rem = rem / nd;',
    ...slotNames.map((b, slot) => `  ${b} = ${b} + c * lc_i(${layout.strides! + slot * MAX_RANK - 1}u + d);`),
    '}',
  ];
  const code = [
    `@compute @workgroup_size(${WORKGROUP_SIZE})`,
    `fn rows(${builtins(env.subgroups)}) {`,
    ...indent(1, [
      'lc_init();',
      `let nrows = ${header('rows', 'rows')};`,
      `let C = i32(${header('rows', 'C')});`,
      `let orank = ${header('rows', 'outerRank')};`,
      `let G = ${header('rows', 'workgroups')};`,
      `let mask = ${header('rows', 'storeMask')};`,
      ...alongNames.map((a, slot) => `let ${a} = lc_i(${layout.along! + slot}u);`),
      ...e.p.hoisted,
      ...regs.map((j) => `var g${j} = ${initOf(loop[j]!.mode)};`),
      // q is the same for the whole workgroup: barriers (row reductions) may sit inside the loop
      'for (var q = wg.x; q < nrows; q = q + G) {',
      ...indent(1, [...offsets, ...body]),
      '}',
      ...regs.flatMap((j, r) => [`let t${j} = ${reduceCall(loop[j]!.mode as 'sum' | 'max', `g${j}`, env.subgroups)};`, `if (li == 0u) { ${part!.name}[${r}u * G + wg.x] = t${j}; }`]),
    ]),
    '}',
  ].join('\n');
  return [
    {
      entry: { name: 'rows', kind: 'rows', bindings: [...e.used].sort((a, b) => a - b), sites: e.p.sites, scalars: e.p.scalars, layout, header: HEADERS.rows, addressed },
      code,
      reduces: true,
    },
  ];
}

function emitFinish(mod: ModuleCtx, env: KernelEnv, loop: readonly WgslSlot[], epilogue: readonly WgslSlot[]): EntryText[] {
  const regs = loop.map((o, j) => (o.register ? j : -1)).filter((j) => j >= 0);
  if (regs.length === 0 && epilogue.length === 0) return [];
  const e = new EntryCtx(mod, env);
  const part = regs.length ? e.use('$partials', 'read_write') : null;
  const bound = new Map<Node, string>();
  const lines: string[] = [];
  regs.forEach((j, q) => {
    const o = loop[j]!;
    const combine = o.mode === 'max' ? (a: string, b: string) => `lc_max2(${a}, ${b})` : (a: string, b: string) => `${a} + ${b}`;
    lines.push(
      `var a${j} = ${initOf(o.mode)};`,
      `for (var q = li; q < P; q = q + ${WORKGROUP_SIZE}u) { a${j} = ${combine(`a${j}`, `${part!.name}[${q}u * P + q]`)}; }`,
      `let red${j} = ${reduceCall(o.mode as 'sum' | 'max', `a${j}`, env.subgroups)};`,
    );
    bound.set(o.node, convert(`red${j}`, 'float', o.node.kind));
  });
  const epi = e.p.body(epilogue.map((o) => o.node), () => '0i', '_e', bound);
  const writes = [
    ...regs.map((j) => `${e.use(loop[j]!.buffer, 'read_write').name}[0] = red${j};`),
    ...epilogue.map((o, x) => `${e.use(o.buffer, 'read_write').name}[0] = ${toF32(epi.values[x]!, o.node.kind)};`),
  ];
  const code = [
    `@compute @workgroup_size(${WORKGROUP_SIZE})`,
    `fn finish(${builtins(env.subgroups)}) {`,
    ...indent(1, ['lc_init();', `let P = ${header('finish', 'partials')};`, ...e.p.hoisted, ...lines, ...epi.lines, `if (li == 0u) {`, ...indent(1, writes), '}']),
    '}',
  ].join('\n');
  const layout = entryLayout('finish', e.p.scalars.length, e.p.sites.length);
  return [
    {
      entry: { name: 'finish', kind: 'finish', bindings: [...e.used].sort((a, b) => a - b), sites: e.p.sites, scalars: e.p.scalars, layout, header: HEADERS.finish },
      code,
      reduces: regs.length > 0,
    },
  ];
}

function emitScatter(mod: ModuleCtx, env: KernelEnv, o: WgslSlot, j: number, domain?: ShapeExpr): EntryText[] {
  const e = new EntryCtx(mod, env);
  const root = o.node.inputs[0]!;
  const body = e.p.body([root], (s) => `o${s}`, '_r');
  const out = e.use(o.buffer, 'read_write');
  const nSites = e.p.sites.length;
  const layout = entryLayout('scatter_wg', e.p.scalars.length, nSites);
  const v = toF32(body.values[0]!, root.kind);
  const combine = o.mode === 'max' ? `acc = lc_maxacc(acc, ${v});` : `acc = acc + ${v};`;
  // the kept coordinates of output element e give each site's base offset; the reduced index r adds the rest
  const base = offsetLoop('e', 'kr', layout.keptDims!, layout.keptStrides!, nSites, () => '0i', 'e').map((l) => l.replace(/\bo(\d+)\b/g, 'base$1'));
  const inner = offsetLoop('r', 'rr', layout.redDims!, layout.redStrides!, nSites, (k) => `base${k}`, 'r');
  const head = (kind: EntryKind): string[] => [
    'lc_init();',
    `let m = ${header(kind, 'outputs')};`,
    `let R = ${header(kind, 'reduced')};`,
    `let kr = ${header(kind, 'keptRank')};`,
    `let rr = ${header(kind, 'reducedRank')};`,
    `let G = ${header(kind, 'workgroups')};`,
    ...e.p.hoisted,
  ];
  const wgCode = [
    `@compute @workgroup_size(${WORKGROUP_SIZE})`,
    `fn scatter_wg_${j}(${builtins(env.subgroups)}) {`,
    ...indent(1, [
      ...head('scatter_wg'),
      // e is the same for the whole workgroup: the loop is uniform, so barriers may sit inside it
      'for (var e = wg.x; e < m; e = e + G) {',
      ...indent(1, [
        ...base,
        `var acc = ${initOf(o.mode)};`,
        `for (var r = li; r < R; r = r + ${WORKGROUP_SIZE}u) {`,
        ...indent(1, [...inner, ...body.lines, combine]),
        '}',
        `let total = ${reduceCall(o.mode as 'sum' | 'max', 'acc', env.subgroups)};`,
        `if (li == 0u) { ${out.name}[e] = total; }`,
      ]),
      '}',
    ]),
    '}',
  ].join('\n');
  const invCode = [
    `@compute @workgroup_size(${WORKGROUP_SIZE})`,
    `fn scatter_inv_${j}(${builtins(env.subgroups)}) {`,
    ...indent(1, [
      ...head('scatter_inv'),
      `for (var e = wg.x * ${WORKGROUP_SIZE}u + li; e < m; e = e + G * ${WORKGROUP_SIZE}u) {`,
      ...indent(1, [...base, `var acc = ${initOf(o.mode)};`, 'for (var r = 0u; r < R; r = r + 1u) {', ...indent(1, [...inner, ...body.lines, combine]), '}', `${out.name}[e] = acc;`]),
      '}',
    ]),
    '}',
  ].join('\n');
  const entry = (kind: 'scatter_wg' | 'scatter_inv'): WgslEntry => ({
    name: `${kind}_${j}`,
    kind,
    output: j,
    ...(domain ? { domain } : {}),
    bindings: [...e.used].sort((a, b) => a - b),
    sites: e.p.sites,
    scalars: e.p.scalars,
    layout,
    header: HEADERS[kind],
  });
  return [
    { entry: entry('scatter_wg'), code: wgCode, reduces: true },
    { entry: entry('scatter_inv'), code: invCode, reduces: false },
  ];
}
