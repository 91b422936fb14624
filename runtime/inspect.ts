// What the compiler made of a loss, as data a page can draw: the result graphs before and after
// simplification (nodes with op, attributes, shape, source name and position), the kernel plan
// with the nodes each kernel computes (its partition of the simplified graph), and the generated
// JS and WGSL sources. `explain()` prints the same stages as text; the playground draws these.
import type { Loss } from './nn.js';
import type { Method, MethodResult } from '../compiler/pipeline.js';
import type { Kernel, KernelPlan } from '../compiler/plan/kernelPlan.js';
import { toposort, type Node } from '../compiler/ir/node.js';
import { attrsText, printPlan, shapeText } from '../compiler/ir/print.js';
import { nameOf, originOf } from '../compiler/ir/origin.js';
import { emitJs } from '../compiler/emit/js.js';
import { wgslModules, type WgslModules } from '../compiler/emit/wgslModules.js';

export interface GraphNodeData {
  readonly id: number;
  readonly op: string;
  /** the attributes as explain() spells them (`axes=[1] keepdims`, a constant's value, an input's name) */
  readonly attrs: string;
  readonly kind: string;
  readonly shape: string;
  /** operand node ids, in order */
  readonly inputs: readonly number[];
  /** the name the source gave it (`let p = ...`) */
  readonly name?: string;
  /** where in the source it was made */
  readonly origin?: { readonly file: string; readonly line: number; readonly column: number; readonly text: string };
  /** the plan's buffer holding it (inputs, reductions, results); absent for values recomputed inline */
  readonly buffer?: string;
  /** simplified graph only: indices of the kernels that compute it (elementwise work is recomputed in each kernel that needs it) */
  readonly kernels: readonly number[];
}

export interface GraphData {
  /** operands before their users */
  readonly nodes: readonly GraphNodeData[];
  readonly results: readonly { readonly name: string; readonly id: number }[];
}

export interface KernelData {
  readonly name: string;
  /** a flat pass over the domain, a row kernel (softmax-like rows while in cache), or a recurrence */
  readonly kind: 'pass' | 'rows' | 'scan';
  readonly domain: string;
  readonly rowAxis?: number;
  readonly reads: readonly string[];
  readonly writes: readonly string[];
  readonly outputs: readonly { readonly buffer: string; readonly mode: 'store' | 'sum' | 'max'; readonly id: number; readonly epilogue: boolean }[];
  /** ids of the simplified graph's nodes this kernel computes (its part of the partition) */
  readonly nodes: readonly number[];
}

export interface LossInspection {
  readonly loss: string;
  readonly method: Method;
  /** the forward graph in its stable forms, with the gradient (vjp, valueAndGrad) as differentiated */
  readonly graph: GraphData;
  /** after simplification: what the kernels compute */
  readonly simplified: GraphData;
  readonly kernels: readonly KernelData[];
  /** the kernel plan as explain() prints it */
  readonly planText: string;
  /** explain()'s text: every stage */
  readonly text: string;
  /** the JS kernels (one function each) for float32 and float64 inputs */
  readonly js: { readonly f32: readonly KernelSource[]; readonly f64: readonly KernelSource[] };
  /** the WGSL modules and their manifest, or why they could not be made */
  readonly wgsl: WgslModules | { readonly error: string };
}

export interface KernelSource {
  readonly kernel: string;
  readonly source: string;
}

export interface InspectOptions {
  /** WGSL with subgroup operations (as on an adapter with 'subgroups'); default false */
  readonly subgroups?: boolean;
}

/** The graphs, kernel plan and generated sources of `loss`'s `method` (the kernels its calls run). */
export function inspectLoss(loss: Loss, method: Method = 'forward', opts: InspectOptions = {}): LossInspection {
  const c = loss.compiledMethod(method);
  const plan = c.plan;
  const buffers = new Map<Node, string>([...plan.inputs, ...plan.buffers].map((b) => [b.node, b.name] as const));
  const partition = kernelNodes(plan, buffers);
  const js = (precision: 'f32' | 'f64'): KernelSource[] => emitJs(plan, precision).kernels.map((k) => ({ kernel: k.name, source: k.source }));
  let wgsl: LossInspection['wgsl'];
  try {
    wgsl = wgslModules(c, { subgroups: opts.subgroups === true });
  } catch (e) {
    wgsl = { error: (e as Error).message };
  }
  return {
    loss: loss.name,
    method,
    graph: graphData(c.graphs.graph, buffers, new Map()),
    simplified: graphData(c.graphs.simplify, buffers, partition),
    kernels: plan.kernels.map((k, i) =>
      kernelData(
        k,
        [...partition].filter(([, ks]) => ks.includes(i)).map(([n]) => n.id),
      ),
    ),
    planText: printPlan(plan),
    text: c.dumps.map((d) => `== ${d.pass}\n${d.text}`).join('\n\n'),
    js: { f32: js('f32'), f64: js('f64') },
    wgsl,
  };
}

function graphData(results: readonly MethodResult[], buffers: ReadonlyMap<Node, string>, partition: ReadonlyMap<Node, number[]>): GraphData {
  const nodes = toposort(results.map((r) => r.node)).map((n): GraphNodeData => {
    const name = nameOf(n);
    const o = originOf(n);
    const buffer = buffers.get(n);
    return {
      id: n.id,
      op: n.op,
      attrs: attrsText(n).trim(),
      kind: n.kind,
      shape: shapeText(n.shape),
      inputs: n.inputs.map((i) => i.id),
      ...(name !== undefined ? { name } : {}),
      ...(o ? { origin: { file: o.file, line: o.line, column: o.column, text: o.text } } : {}),
      ...(buffer !== undefined ? { buffer } : {}),
      kernels: partition.get(n) ?? [],
    };
  });
  return { nodes, results: results.map((r) => ({ name: r.name, id: r.node.id })) };
}

/**
 * Which kernels compute each node: from a kernel's outputs back through its operands, up to
 * what it reads from memory (inputs, and buffers other kernels wrote). Leaves (inputs,
 * parameters, constants) belong to every kernel that uses them.
 */
function kernelNodes(plan: KernelPlan, buffers: ReadonlyMap<Node, string>): Map<Node, number[]> {
  const out = new Map<Node, number[]>();
  plan.kernels.forEach((k, i) => {
    const own = new Set<Node>([...k.outputs, ...k.epilogue].map((o) => o.node));
    const seen = new Set<Node>();
    const stack = [...own];
    while (stack.length) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      let ks = out.get(n);
      if (!ks) out.set(n, (ks = []));
      ks.push(i);
      // a buffer written by another kernel (or an input) is read here, not computed
      if (n.op === 'input' || (buffers.has(n) && !own.has(n))) continue;
      stack.push(...n.inputs);
    }
  });
  return out;
}

function kernelData(k: Kernel, nodes: readonly number[]): KernelData {
  return {
    name: k.name,
    kind: k.scan ? 'scan' : k.rows ? 'rows' : 'pass',
    domain: shapeText(k.domain),
    ...(k.rows ? { rowAxis: k.rows.axis } : {}),
    reads: [...k.reads],
    writes: [...k.writes],
    outputs: [...k.outputs.map((o) => ({ o, epilogue: false })), ...k.epilogue.map((o) => ({ o, epilogue: true }))].map(({ o, epilogue }) => ({
      buffer: o.buffer,
      mode: o.mode,
      id: o.node.id,
      epilogue,
    })),
    nodes,
  };
}
