// WGSL backend: the same KernelPlan as the JS backend, through the same BodyPrinter, spelled
// with the table's `wgsl` column. Each plan kernel becomes one WGSL module; its entry points are
// dispatched in order, all in one command encoder per call. A function per kernel kind:
//
//   emitPlainKernel (wgslPlain.ts)
//     main_flat / main_strided  a grid-stride loop over the domain (flat: every site has the
//                               domain's contiguous layout; strided: offsets from dims and strides
//                               in the uniform). Stores per-element outputs (and accumulations whose
//                               target has the domain's shape at run time: a mask bit); full
//                               reductions go through a workgroup tree (subgroupAdd / subgroupMax
//                               when the device has them) into one partial per workgroup.
//     finish                    one workgroup: partials -> each full reduction, then the scalar
//                               epilogue. A fixed order, no float atomics: deterministic.
//     scatter_wg_j / _inv_j     accumulation j into a smaller tensor: one workgroup (or, for short
//                               reductions, one invocation) per output element, over the reduced
//                               index set in a fixed order.
//   emitRowKernel (wgslRows.ts)  rows: one workgroup per row (a softmax's class axis), the row's
//                               stages in order; row reductions are workgroup reductions.
//   emitScanKernel (wgslScan.ts) scan: a recurrence, its steps in order in one workgroup.
//
// Values are f32, i32 (int kind) and bool. f32 arithmetic is already float32, but each rounded
// result goes through lc_r, which the shader compiler cannot see through, so it may not
// reassociate or contract across it; NaN tests are bit tests and the IEEE specials come from the
// uniform (wgslPrelude.ts). wgslModules.ts turns a method's modules into standalone files + manifest.
import type { Kind } from '../ir/node.js';
import { materializedBefore } from '../abi/slots.js';
import type { KernelPlan } from '../plan/kernelPlan.js';
import type { KernelEnv, WgslKernel, WgslOptions, WgslProgram } from './wgslCore.js';
import { emitPlainKernel } from './wgslPlain.js';
import { emitRowKernel } from './wgslRows.js';
import { emitScanKernel } from './wgslScan.js';

export {
  WORKGROUP_SIZE,
  ROW_WORKGROUP_SIZE,
  MAX_RANK,
  SHORT_REDUCTION,
  UNIFORM_CONSTS,
  entryLayout,
  convert,
  wgslLiteral,
  type EntryKind,
  type EntryLayout,
  type WgslBinding,
  type WgslEntry,
  type WgslKernel,
  type WgslOptions,
  type WgslProgram,
  type WgslSlot,
} from './wgslCore.js';

export function emitWgsl(plan: KernelPlan, opts: WgslOptions = {}): WgslProgram {
  const subgroups = opts.subgroups === true;
  const kinds = new Map<string, { kind: Kind; type: 'f32' | 'i32' }>();
  for (const b of plan.inputs) kinds.set(b.name, { kind: b.kind, type: b.kind === 'int' ? 'i32' : 'f32' });
  for (const b of plan.buffers) kinds.set(b.name, { kind: b.kind, type: 'f32' });
  const inMemory = materializedBefore(plan);
  const kernels: WgslKernel[] = [];
  for (const k of plan.kernels) {
    const env: KernelEnv = { subgroups, kinds, materialized: inMemory.get(k)! };
    kernels.push(k.scan ? emitScanKernel(k, env) : k.rows ? emitRowKernel(k, env) : emitPlainKernel(k, env));
  }
  return { subgroups, kernels };
}
