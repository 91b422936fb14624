// Scheduling: partition a graph into kernels. Elementwise work is never materialised: it is
// recomputed inline wherever it is used. Only reductions and the program's results are
// written to memory. A value is "ready" at the level after the kernel that reduces it, and
// every output needing the same level over the same iteration domain shares one kernel: so a
// pointwise loss's value and all its gradients come out of a single pass over the inputs.
import { toposort, type Node } from '../ir/node.js';
import { primitive } from '../primitives/table.js';
import { scalarShape } from '../ir/shape.js';
import type { BufferDef, Kernel, KernelOutput, KernelPlan } from '../plan/kernelPlan.js';
import { buffersOf, fuseRows, type Draft } from './fuseRows.js';

export interface Program {
  readonly name: string;
  readonly inputs: readonly Node[];
  readonly params: readonly string[];
  readonly results: readonly { readonly name: string; readonly node: Node }[];
}

const isReduce = (n: Node): boolean => primitive(n.op).category === 'reduce';
const isScan = (n: Node): boolean => n.op === 'scan';
const isLeaf = (n: Node): boolean => primitive(n.op).category === 'leaf';

export function fuseIntoKernels(program: Program, maxBuffers = Infinity): KernelPlan {
  const roots = program.results.map((r) => r.node);
  const order = toposort(roots);
  const ready = readiness(order);

  // every reduction gets a buffer; results get theirs (a result that is a reduction shares it)
  const buffers = new Map<Node, BufferDef>();
  const resultNames: string[] = [];
  for (const r of program.results) {
    const existing = buffers.get(r.node);
    if (existing) resultNames.push(existing.name);
    else {
      buffers.set(r.node, { name: r.name, role: 'output', shape: r.node.shape, kind: r.node.kind, node: r.node });
      resultNames.push(r.name);
    }
  }
  // what is written to memory: reductions, scans, and the operands a scan reads from memory
  const stored = new Set<Node>();
  for (const n of order) if (isScan(n)) for (const o of n.inputs) if (o.op !== 'input' && !isReduce(o) && !isScan(o)) stored.add(o);
  const materialized = (n: Node): boolean => isReduce(n) || isScan(n) || stored.has(n);
  let temps = 0;
  for (const n of order) if (materialized(n) && !buffers.has(n)) buffers.set(n, { name: `t${temps++}`, role: 'temp', shape: n.shape, kind: n.kind, node: n });

  const drafts = new Map<string, Draft>();
  const draftFor = (level: number, domain: Node['shape']): Draft => {
    const key = `${level}|${domain.key}`;
    let d = drafts.get(key);
    if (!d) drafts.set(key, (d = { level, domain, outputs: [], epilogue: [] }));
    return d;
  };

  const scans: Draft[] = [];
  for (const n of order) {
    if (isReduce(n)) {
      const x = n.inputs[0]!;
      draftFor(ready.get(x)!, x.shape).outputs.push({ node: n, buffer: buffers.get(n)!.name, mode: n.op === 'max' ? 'max' : 'sum' });
    } else if (stored.has(n)) draftFor(ready.get(n)!, n.shape).outputs.push({ node: n, buffer: buffers.get(n)!.name, mode: 'store' });
    else if (isScan(n)) {
      // a recurrence is a kernel of its own, after the kernels that store its operands
      scans.push({
        level: ready.get(n)! - 1,
        domain: n.inputs[0]!.shape,
        outputs: [{ node: n, buffer: buffers.get(n)!.name, mode: 'store' }],
        epilogue: [],
        scan: n,
      });
    }
  }
  for (const r of program.results) {
    const n = r.node;
    if (materialized(n) || resultScheduled(drafts, n)) continue;
    const out: KernelOutput = { node: n, buffer: buffers.get(n)!.name, mode: 'store' };
    const host = n.shape === scalarShape ? epilogueHost(n, ready, drafts) : null;
    if (host) host.epilogue.push(out);
    else draftFor(ready.get(n)!, n.shape).outputs.push(out);
  }

  const plain = [...drafts.values()].flatMap((d) => withinBudget(d, materialized, maxBuffers));
  const sorted = fuseRows([...plain, ...scans], materialized, maxBuffers);
  const reads = sorted.map((d) => readsOf(d, buffers, materialized));
  const readLater = new Set(reads.flat());
  const kernels: Kernel[] = sorted.map((d, i) => ({
    name: `${program.name}_k${i}`,
    domain: d.domain,
    outputs: d.outputs,
    epilogue: d.epilogue,
    reads: reads[i]!,
    writes: [...new Set([...d.outputs, ...d.epilogue].map((o) => o.buffer))].filter((b) => resultNames.includes(b) || readLater.has(b)),
    ...(d.rows ? { rows: d.rows } : {}),
    ...(d.scan ? { scan: d.scan, operandBuffers: new Map(d.scan.inputs.filter((o) => buffers.has(o)).map((o) => [o, buffers.get(o)!.name] as const)) } : {}),
  }));
  const inputDefs: BufferDef[] = program.inputs.map((n) => ({ name: n.attrs.name!, role: 'input', shape: n.shape, kind: n.kind, node: n }));
  return { name: program.name, inputs: inputDefs, params: program.params, buffers: [...buffers.values()], kernels, results: resultNames };
}

/** Level at which a node's value can be used: leaves at once, reductions one kernel after their operand. */
function readiness(order: readonly Node[]): Map<Node, number> {
  const ready = new Map<Node, number>();
  for (const n of order) {
    if (isLeaf(n)) ready.set(n, 0);
    else if (isReduce(n)) ready.set(n, ready.get(n.inputs[0]!)! + 1);
    else if (isScan(n)) ready.set(n, Math.max(...n.inputs.map((i) => ready.get(i)!)) + 1);
    else ready.set(n, Math.max(0, ...n.inputs.map((i) => ready.get(i)!)));
  }
  return ready;
}

function resultScheduled(drafts: Map<string, Draft>, n: Node): boolean {
  for (const d of drafts.values()) if (d.outputs.some((o) => o.node === n) || d.epilogue.some((o) => o.node === n)) return true;
  return false;
}

/** A scalar result computed from full reductions of one kernel can be finished inside that kernel. */
function epilogueHost(n: Node, ready: Map<Node, number>, drafts: Map<string, Draft>): Draft | null {
  const level = ready.get(n)!;
  if (level === 0) return null;
  const hosts = new Set<Draft>();
  for (const r of frontier(n)) {
    if (ready.get(r) !== level) continue;
    for (const d of drafts.values()) if (d.outputs.some((o) => o.node === r)) hosts.add(d);
  }
  return hosts.size === 1 ? [...hosts][0]! : null;
}

/** The reductions an elementwise expression reads directly (without crossing another reduction). */
export function frontier(n: Node): Node[] {
  const out: Node[] = [];
  const seen = new Set<Node>();
  const stack = [n];
  while (stack.length) {
    const m = stack.pop()!;
    if (seen.has(m)) continue;
    seen.add(m);
    if (isReduce(m) && m !== n) out.push(m);
    else stack.push(...m.inputs);
  }
  return out;
}

function readsOf(d: Draft, buffers: Map<Node, BufferDef>, materialized: (n: Node) => boolean): string[] {
  const reads = new Set<string>();
  const mine = new Set(d.outputs.map((o) => o.node));
  const seen = new Set<Node>();
  // depth first, in operand order, with an explicit stack (a chain of thousands of ops is deep)
  const visit = (root: Node): void => {
    const stack = [root];
    while (stack.length) {
      const m = stack.pop()!;
      if (seen.has(m)) continue;
      seen.add(m);
      if (m.op === 'input') reads.add(m.attrs.name!);
      else if (materialized(m) && !mine.has(m)) reads.add(buffers.get(m)!.name);
      else for (let i = m.inputs.length - 1; i >= 0; i--) stack.push(m.inputs[i]!);
    }
  };
  for (const o of d.outputs) (o.mode === 'store' && !isScan(o.node) ? [o.node] : o.node.inputs).forEach(visit);
  for (const o of d.epilogue) visit(o.node);
  return [...reads];
}

/**
 * A kernel that would bind more than `maxBuffers` buffers, split by its outputs into kernels over
 * the same domain that each stay within it (in order; one output per kernel at worst). A kernel
 * with an epilogue keeps its outputs together: the epilogue reads its full reductions.
 */
function withinBudget(d: Draft, materialized: (n: Node) => boolean, maxBuffers: number): Draft[] {
  if (maxBuffers === Infinity || d.epilogue.length > 0 || buffersOf([d], materialized) <= maxBuffers) return [d];
  const parts: Draft[] = [];
  for (const o of d.outputs) {
    const last = parts[parts.length - 1];
    if (last && buffersOf([{ ...last, outputs: [...last.outputs, o] }], materialized) <= maxBuffers) last.outputs.push(o);
    else parts.push({ level: d.level, domain: d.domain, outputs: [o], epilogue: [] });
  }
  return parts;
}
