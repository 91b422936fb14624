// What a kernel reads, as data: each tensor read inside its loop (a site: the buffer and the
// view path from the domain down to it) and each scalar hoisted out of the loop. The emitters
// record them while printing; every host lays out strides and scalar slots from them.
import type { ShapeExpr } from '../ir/shape.js';

/**
 * One step of a view path, on a value's way up to the domain: an unsqueeze, or a gather (the
 * value is read at position `index` along `axis`, an index computed in the loop body).
 */
export type ViewStep =
  | { readonly kind: 'unsqueeze'; readonly from: ShapeExpr; readonly to: ShapeExpr; readonly axes: readonly number[] }
  | { readonly kind: 'gather'; readonly from: ShapeExpr; readonly to: ShapeExpr; readonly axis: number }
  /** y[i] = x[i - by] along `axis` (the bounds are checked where the shift is evaluated) */
  | { readonly kind: 'shift'; readonly from: ShapeExpr; readonly to: ShapeExpr; readonly axis: number; readonly by: number };

/** A tensor read inside the loop: the buffer, seen through `path` (outermost first) from the domain. */
export interface Site {
  readonly buffer: string;
  readonly shape: ShapeExpr;
  readonly path: readonly ViewStep[];
  /** the shape the read happens in, when not the kernel's domain (a row kernel's per-row work) */
  readonly frame?: ShapeExpr;
}

/** A scalar hoisted out of the loop. */
export type ScalarSource =
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'numel'; readonly shape: ShapeExpr }
  | { readonly kind: 'dim'; readonly shape: ShapeExpr; readonly axis: number }
  | { readonly kind: 'buffer'; readonly buffer: string }
  /** a site's stride along the axis of its `step`-th gather or shift: offset += index * stride (gather) or -= by * stride (shift) */
  | { readonly kind: 'gatherStride'; readonly site: number; readonly step: number };
