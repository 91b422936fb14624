// Which gradients a compiled vjp / valueAndGrad computes, and how it writes them. Plain data and
// no imports: the runtime (and standalone modules, which bundle it) key compiled methods by it.

/**
 * `wrt`: the indices (in the loss's inputs) of the differentiable inputs to differentiate;
 * absent: all of them. The others are neither computed nor written. `accumulate`: each gradient
 * result is added to a prior value, read from an extra input named priorInput(result) (the
 * runtime binds the caller's buffer there and writes the sum back into it), in the same pass.
 */
export interface MethodVariant {
  readonly wrt?: readonly number[];
  readonly accumulate?: boolean;
  /**
   * A backend's limit: no kernel binds more than this many buffers (a WebGPU device with the
   * default 8 storage buffers per shader stage). Row fusion that would exceed it is not done.
   */
  readonly maxBuffers?: number;
}

/** A variant as text, for the caches of compiled methods ('' for the default). */
export const methodVariantKey = (v: MethodVariant): string =>
  `${v.wrt ? `wrt=${v.wrt.join(',')}` : ''}${v.accumulate ? '+acc' : ''}${v.maxBuffers !== undefined ? `+buf${v.maxBuffers}` : ''}`;

/** The plan input holding a gradient result's prior value, in a method that accumulates into it. */
export const priorInput = (result: string): string => `prior_${result}`;
