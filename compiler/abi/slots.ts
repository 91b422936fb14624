// Output slots and the other facts about a plan kernel that every backend must agree on before
// it spells anything: how the kernel's outputs are numbered and written, which values earlier
// kernels left in memory, and which buffer each placeholder of a scan body is bound to. The JS,
// WGSL (and any later) emitters read these; none decides them on its own.
import type { Node } from '../ir/node.js';
import { reduceShape, scalarShape, type ShapeExpr } from '../ir/shape.js';
import type { Kernel, KernelOutput, KernelPlan } from '../plan/kernelPlan.js';
import type { ReductionDesc } from './strides.js';
import { primitive } from '../primitives/table.js';
import { reductionOf } from '../reference.js';

/**
 * One output slot. Loop outputs are stored per element, or accumulated: in a register when the
 * result is a scalar (written to out[0]), else through strides into a float64 scratch tensor.
 * Epilogue outputs are scalars computed once after the loop.
 */
export interface OutputSlot {
  readonly buffer: string;
  readonly mode: 'store' | 'sum' | 'max';
  readonly phase: 'loop' | 'epilogue';
  readonly register: boolean;
  readonly shape: Kernel['domain'];
  /** compile-time only (not carried by standalone modules): the node computed */
  readonly node: Node;
  /** for accumulations: what is reduced, as data */
  readonly reduction?: ReductionDesc;
  /** row kernels: the shape the value is computed over (the domain, or a row shape), and whether it is written through strides */
  readonly from?: Kernel['domain'];
  readonly addressed?: boolean;
  /** row kernels: accumulated across rows into memory (a scatter), not once per row */
  readonly accumulates?: boolean;
}

/** An accumulated output's reduction, as data. */
export const reductionField = (n: Node): { reduction?: ReductionDesc } => (primitive(n.op).category === 'reduce' ? { reduction: reductionOf(n) } : {});

/** A full reduction (to a scalar) is kept in a register and written once; anything else goes to memory. */
const isRegister = (o: KernelOutput): boolean => o.mode !== 'store' && o.node.shape === scalarShape;

const epilogueSlots = (k: Kernel): OutputSlot[] => k.epilogue.map((o) => ({ ...o, phase: 'epilogue', register: false, shape: o.node.shape }));

/** A plain kernel's slots: its loop outputs in plan order, then its epilogue. */
export function plainSlots(k: Kernel): { loop: OutputSlot[]; epilogue: OutputSlot[] } {
  const loop = k.outputs.map((o): OutputSlot => ({ ...o, ...reductionField(o.node), phase: 'loop', register: isRegister(o), shape: o.node.shape }));
  return { loop, epilogue: epilogueSlots(k) };
}

export interface RowSlots {
  /** every stage's outputs in stage order (slot j), then the epilogue's */
  readonly loop: OutputSlot[];
  readonly epilogue: OutputSlot[];
  /** the slot of each plan output */
  readonly slotOf: ReadonlyMap<KernelOutput, number>;
  /** the shapes of a value computed once per row (keeping or dropping the row axis) */
  readonly rowShapes: ReadonlySet<ShapeExpr>;
  /** the loop slots written through strides (everything but registers), in slot order: their strides follow the sites' */
  readonly addressed: readonly number[];
}

/**
 * A row kernel's slots. A store, or a value per row, is written once per element or row; a
 * reduction into anything larger than a row value accumulates across rows (a scatter); a total
 * over every row is a register.
 */
export function rowSlots(k: Kernel): RowSlots {
  const rows = k.rows!;
  const rowShapes = new Set<ShapeExpr>([reduceShape(k.domain, [rows.axis], true), reduceShape(k.domain, [rows.axis], false)]);
  const loop: OutputSlot[] = [];
  const slotOf = new Map<KernelOutput, number>();
  for (const stage of rows.stages)
    for (const o of stage.outputs) {
      const from = o.mode === 'store' ? o.node.shape : o.node.inputs[0]!.shape;
      const register = isRegister(o);
      const perRow = o.mode === 'store' || rowShapes.has(o.node.shape);
      slotOf.set(o, loop.length);
      loop.push({
        ...o,
        ...reductionField(o.node),
        phase: 'loop',
        register,
        shape: o.node.shape,
        from,
        addressed: !register,
        accumulates: !register && !perRow,
      });
    }
  const addressed = loop.map((o, j) => (o.addressed ? j : -1)).filter((j) => j >= 0);
  return { loop, epilogue: epilogueSlots(k), slotOf, rowShapes, addressed };
}

/** How a scan kernel is bound: the outer buffer of each placeholder of its body ('@carry': the initial state), and the sequence whose first axis counts the steps. */
export interface ScanBinding {
  readonly reverse: boolean;
  readonly bind: Readonly<Record<string, string>>;
  readonly steps: string;
}

export function scanBinding(k: Kernel): ScanBinding {
  const node = k.scan!;
  const body = node.attrs.body!;
  // an operand lives in its input's own buffer, or in the temp an earlier kernel stored it in
  const operandBuffer = (n: Node): string => {
    if (n.op === 'input') return n.attrs.name!;
    const name = k.operandBuffers?.get(n);
    if (!name) throw new Error(`internal: scan operand %${n.id} was not stored`);
    return name;
  };
  const bind: Record<string, string> = { '@carry': operandBuffer(node.inputs[0]!) };
  body.xs.forEach((p, i) => (bind[p.attrs.name!] = operandBuffer(node.inputs[1 + i]!)));
  body.consts.forEach((p, i) => (bind[p.attrs.name!] = operandBuffer(node.inputs[1 + body.xs.length + i]!)));
  return { reverse: !!node.attrs.reverse, bind, steps: bind['@x0']! };
}

/** A scan kernel's one slot: the stacked states. */
export const scanSlot = (k: Kernel): OutputSlot => ({
  buffer: k.outputs[0]!.buffer,
  mode: 'store',
  phase: 'loop',
  register: false,
  shape: k.scan!.shape,
  node: k.scan!,
});

/**
 * What each kernel finds in memory when it runs, rather than recomputing it: the reductions,
 * scans and stored temporaries of the kernels before it. The one "what is materialised" decision.
 */
export function materializedBefore(plan: KernelPlan): Map<Kernel, ReadonlyMap<Node, string>> {
  const temps = new Set(plan.buffers.filter((b) => b.role === 'temp').map((b) => b.name));
  const known = new Map<Node, string>();
  const byKernel = new Map<Kernel, ReadonlyMap<Node, string>>();
  for (const k of plan.kernels) {
    byKernel.set(k, new Map(known));
    for (const o of k.outputs) if (o.mode !== 'store' || temps.has(o.buffer) || o.node.op === 'scan') known.set(o.node, o.buffer);
  }
  return byKernel;
}

/**
 * How many buffers a kernel binds at most: what it reads, what it writes, and the partials of its
 * full reductions. A backend with a binding limit (WebGPU's storage buffers per shader stage)
 * compares its plans with it.
 */
export function kernelBufferCount(k: Kernel): number {
  const buffers = new Set([...k.reads, ...k.outputs.map((o) => o.buffer), ...k.epilogue.map((o) => o.buffer)]);
  return buffers.size + (k.outputs.some(isRegister) ? 1 : 0);
}
