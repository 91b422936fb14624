// Standalone WGSL for a compiled method: one module per kernel, and a JSON manifest saying what
// a host needs to run them without lossc's compiler: which buffer each binding is (inputs,
// outputs, the uniform, partial reductions), dtypes, workgroup sizes, how many workgroups each
// entry point is dispatched with, and how each uniform word follows from the run-time shapes.
// runtime/webgpu/program.ts is the reference host; `lossc compile --target wgsl` writes these.
import type { CompiledMethod } from '../pipeline.js';
import type { ShapeExpr } from '../ir/shape.js';
import { isAllAxes } from '../ir/shape.js';
import { reductionOf } from '../reference.js';
import type { ReductionDesc } from '../abi/strides.js';
import type { ScalarSource, Site } from './expr.js';
import {
  emitWgsl,
  MAX_RANK,
  ROW_WORKGROUP_SIZE,
  SHORT_REDUCTION,
  UNIFORM_CONSTS,
  WORKGROUP_SIZE,
  type EntryKind,
  type EntryLayout,
  type WgslBinding,
  type WgslOptions,
} from './wgsl.js';

export type ShapeJson = { readonly kind: string; readonly [field: string]: unknown };

export interface WgslModules {
  /** one WGSL module per kernel, in dispatch order; `file` is a suggested file name */
  readonly modules: readonly { readonly kernel: string; readonly file: string; readonly code: string }[];
  readonly manifest: WgslManifest;
}

export interface WgslManifest {
  readonly format: 'lossc-wgsl/1';
  readonly name: string;
  readonly loss: string;
  readonly method: string;
  /** device features the modules enable ('subgroups') */
  readonly features: readonly string[];
  readonly maxRank: number;
  readonly uniform: {
    readonly doc: string;
    /** words 0..3 of every segment, as u32 */
    readonly constants: readonly number[];
    readonly segmentAlignment: number;
  };
  readonly inputs: readonly { readonly name: string; readonly dtype: 'f32' | 'i32'; readonly shape: ShapeJson }[];
  /** numeric options, passed as f32 scalars */
  readonly params: readonly string[];
  /** every buffer the kernels write: results and intermediate reductions (all f32) */
  readonly buffers: readonly { readonly name: string; readonly role: string; readonly dtype: 'f32'; readonly shape: ShapeJson }[];
  readonly results: readonly string[];
  readonly kernels: readonly KernelManifest[];
  readonly dispatch: Readonly<Record<EntryKind, string>>;
}

export interface KernelManifest {
  readonly name: string;
  readonly module: string;
  readonly domain: ShapeJson;
  /** row kernels: the row axis (negative: from the end) */
  readonly rowAxis?: number;
  /** scan kernels: placeholder -> buffer ('@carry' is the initial state), and the buffer whose first axis counts the steps */
  readonly scan?: { readonly reverse: boolean; readonly bind: Readonly<Record<string, string>>; readonly steps: string };
  /** bytes of the uniform struct: every segment bound must cover it */
  readonly uniformBytes: number;
  readonly bindings: readonly WgslBinding[];
  readonly outputs: readonly {
    readonly buffer: string;
    readonly mode: 'store' | 'sum' | 'max';
    readonly phase: 'loop' | 'epilogue';
    readonly register: boolean;
    readonly shape: ShapeJson;
    /** accumulations: what is reduced (compiler/abi/strides.ts reductionStrides gives the target's strides over the domain) */
    readonly accumulate?: ReductionDesc;
    /** row kernels: the shape the value is computed over, and whether it accumulates across rows */
    readonly from?: ShapeJson;
    readonly accumulates?: boolean;
  }[];
  readonly entries: readonly {
    readonly name: string;
    readonly kind: EntryKind;
    readonly output?: number;
    /** the shape a scatter iterates over, when not the kernel's domain */
    readonly domain?: ShapeJson;
    /** rows: the outputs addressed through strides (slots after the sites) */
    readonly addressed?: readonly number[];
    readonly workgroupSize: number;
    readonly bindings: readonly number[];
    /** header words 4.., by meaning */
    readonly header: readonly string[];
    /** scalar j is uniform word 12 + j (f32 bits; gatherStride: i32 bits; buffer: read by the shader) */
    readonly scalars: readonly unknown[];
    /** the tensors read: buffer, shape, and the view path to the domain (strides: compiler/abi/call.ts siteView) */
    readonly sites: readonly unknown[];
    readonly layout: EntryLayout;
  }[];
}

/** Every dispatch uses at most G = min(1024, maxComputeWorkgroupsPerDimension) workgroups (grid-stride loops do the rest). */
const DISPATCH: Record<EntryKind, string> = {
  main_flat:
    `workgroups W = max(1, min(ceil(n / ${WORKGROUP_SIZE}), G)); header [n = numel(domain), rank = 0, W, storeMask, partialStride = W, partialBase = 0]. ` +
    `Used when compiler/abi/call.ts loopLayout(domain, every site's siteView strides) is flat. storeMask bit j: outputWrite(output j, its target, the domain) is 'once' (an accumulation whose target has the domain's shape: stored per element). ` +
    `A domain too large for one binding runs in chunks of whole 256-byte blocks: each chunk binds the domain-sized buffers at its offset, with n = its length, partialBase = the workgroups before it, partialStride = all chunks' workgroups.`,
  main_strided: `as main_flat, with rank and dims/strides from loopLayout when it is not flat: the domain and every site's strides merged where all walk contiguously, rank <= ${MAX_RANK}.`,
  rows:
    `a row kernel (workgroup size ${ROW_WORKGROUP_SIZE}): workgroups W = max(1, min(rows, G)), rows = numel(domain) / C, C = the row axis' size; header [rows, C, outerRank, W, storeMask]. ` +
    `Slots are the sites, then the addressed outputs; compiler/abi/call.ts rowCall splits each slot's strides over the domain into the outer ones (merged) and the one along the row. storeMask bit j: outputWrite(output j, its target, its from shape) is 'once' (stored in place; 'scatter': scatter_*_j runs after rows).`,
  scan:
    `a recurrence: ONE workgroup walks the steps (storage barrier between them); header [T = the steps sequence's first size, n = numel(initial state), rank]. ` +
    `compiler/abi/call.ts scanCall: the body's placeholders take the shapes of the buffers bound to them (kernel.scan.bind; a sequence's is one step's slice); sites' strides are over the state's shape, merged; a sequence site's step stride = numel(slice). The result is [T, ...state].`,
  finish: `one workgroup, after main or rows (reads their W partials per full reduction, at [r * W + w]); header [W].`,
  scatter_wg:
    `for loop output j (an accumulation into a smaller target) when the reduced count R > ${SHORT_REDUCTION}: workgroups min(m, G), m = numel(target); ` +
    `header [m, R, keptRank, reducedRank, workgroups]; compiler/abi/call.ts scatterCall: kept axes are the domain axes > 1 where the target's accumulation stride is not 0, reduced ones the others > 1, each merged separately.`,
  scatter_inv: `as scatter_wg when R <= ${SHORT_REDUCTION}: workgroups min(ceil(m / ${WORKGROUP_SIZE}), G).`,
};

export function wgslModules(c: CompiledMethod, opts: WgslOptions = {}): WgslModules {
  const program = emitWgsl(c.plan, opts);
  const plan = c.plan;
  const modules = program.kernels.map((k) => ({ kernel: k.name, file: `${k.name}.wgsl`, code: k.code }));
  const manifest: WgslManifest = {
    format: 'lossc-wgsl/1',
    name: plan.name,
    loss: c.instance.def.name,
    method: c.method,
    features: program.subgroups ? ['subgroups'] : [],
    maxRank: MAX_RANK,
    uniform: {
      doc: 'one segment per dispatch, bound at binding 0: words 0-3 constants (0, +inf, -inf, NaN as f32 bits), 4-11 the entry header, 12.. scalars, then the layout arrays (dims and strides, MAX_RANK words each, unused words 0)',
      constants: [...UNIFORM_CONSTS],
      segmentAlignment: 256,
    },
    inputs: plan.inputs.map((b) => ({ name: b.name, dtype: b.kind === 'int' ? 'i32' : 'f32', shape: shapeJson(b.shape) })),
    params: [...plan.params],
    buffers: plan.buffers.map((b) => ({ name: b.name, role: b.role, dtype: 'f32', shape: shapeJson(b.shape) })),
    results: [...plan.results],
    kernels: program.kernels.map((k) => ({
      name: k.name,
      module: `${k.name}.wgsl`,
      domain: shapeJson(k.domain),
      ...(k.rowAxis !== undefined ? { rowAxis: k.rowAxis } : {}),
      ...(k.scan ? { scan: k.scan } : {}),
      uniformBytes: Math.ceil(k.uniformWords / 4) * 16,
      bindings: k.bindings,
      outputs: k.outputs.map((o) => ({
        buffer: o.buffer,
        mode: o.mode,
        phase: o.phase,
        register: o.register,
        shape: shapeJson(o.shape),
        ...(o.mode !== 'store' && !o.register ? { accumulate: o.reduction ?? reductionOf(o.node) } : {}),
        ...(o.from ? { from: shapeJson(o.from), accumulates: o.accumulates === true } : {}),
      })),
      entries: k.entries.map((e) => ({
        name: e.name,
        kind: e.kind,
        ...(e.output !== undefined ? { output: e.output } : {}),
        ...(e.domain ? { domain: shapeJson(e.domain) } : {}),
        ...(e.addressed ? { addressed: e.addressed } : {}),
        workgroupSize: e.workgroupSize,
        bindings: e.bindings,
        header: e.header,
        scalars: e.scalars.map(scalarJson),
        sites: e.sites.map(siteJson),
        layout: e.layout,
      })),
    })),
    dispatch: DISPATCH,
  };
  return { modules, manifest };
}

const isShape = (x: unknown): x is ShapeExpr => !!x && typeof x === 'object' && 'kind' in x && 'key' in x;

/** A shape expression as JSON: its fields without the interning key, 'all' for every axis. */
export function shapeJson(s: ShapeExpr): ShapeJson {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'key') continue;
    if (isShape(v)) out[k] = shapeJson(v);
    else if (Array.isArray(v)) out[k] = k === 'axes' && isAllAxes(v as number[]) ? 'all' : v.map((x) => (isShape(x) ? shapeJson(x) : x));
    else out[k] = v;
  }
  return out as ShapeJson;
}

function scalarJson(s: ScalarSource): unknown {
  switch (s.kind) {
    case 'numel':
    case 'dim':
      return { ...s, shape: shapeJson(s.shape) };
    default:
      return { ...s };
  }
}

function siteJson(s: Site): unknown {
  return {
    buffer: s.buffer,
    shape: shapeJson(s.shape),
    path: s.path.map((p) => ({ ...p, from: shapeJson(p.from), to: shapeJson(p.to) })),
  };
}
