// Output slots: how a backend lays out what one plan kernel writes. Shared by the JS and WGSL
// emitters (and the runtimes that bind their buffers).
import type { Node } from '../ir/node.js';
import type { Kernel } from '../plan/kernelPlan.js';
import type { ReductionDesc } from '../abi/strides.js';
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
