// KernelPlan: what runs, in what order, reading and writing what. Pure data: the emitters
// turn it into JS or WGSL, `explain` prints it, and nothing in it depends on a backend.
import type { Node } from '../ir/node.js';
import type { ShapeExpr } from '../ir/shape.js';

export type Precision = 'f32' | 'f64';

export interface BufferDef {
  readonly name: string;
  readonly role: 'input' | 'output' | 'temp';
  readonly shape: ShapeExpr;
  readonly kind: Node['kind'];
  /** the node whose value the buffer holds (inputs: the input node) */
  readonly node: Node;
}

export interface KernelOutput {
  readonly node: Node;
  readonly buffer: string;
  /** store: one write per domain element; sum / max: accumulate over the domain into a smaller shape */
  readonly mode: 'store' | 'sum' | 'max';
}

/** One stage of a row kernel: a loop over one row's elements, or work done once per row. */
export interface RowStage {
  readonly over: 'pass' | 'row';
  readonly outputs: readonly KernelOutput[];
}

export interface Kernel {
  readonly name: string;
  /** the iteration space: every element of this shape is visited once */
  readonly domain: ShapeExpr;
  /** what each domain element computes and where it goes */
  readonly outputs: readonly KernelOutput[];
  /** scalar results computed once after the loop, from this kernel's full reductions */
  readonly epilogue: readonly KernelOutput[];
  /** buffers read: inputs and results of earlier kernels */
  readonly reads: readonly string[];
  /** buffers written for others: results, and reductions later kernels read (not scratch used only here) */
  readonly writes: readonly string[];
  /**
   * A row kernel: the domain is walked row by row along `axis` (a softmax's class axis), and each
   * row goes through `stages` in order while it is hot in cache: passes over its elements that
   * reduce it (max, sum of exp), work once per row on those results, then passes that use them.
   * `outputs` lists every stage's outputs too. Absent: one flat pass over the domain.
   */
  readonly rows?: { readonly axis: number; readonly stages: readonly RowStage[] };
  /** a recurrence kernel: the scan node (its body is a graph of its own); the domain is one state */
  readonly scan?: Node;
  /** a scan kernel: the buffer each operand was stored in (inputs are read where they are) */
  readonly operandBuffers?: ReadonlyMap<Node, string>;
}

export interface KernelPlan {
  readonly name: string;
  readonly inputs: readonly BufferDef[];
  readonly params: readonly string[];
  readonly buffers: readonly BufferDef[];
  readonly kernels: readonly Kernel[];
  /** program outputs, in order, by buffer name */
  readonly results: readonly string[];
}
