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

