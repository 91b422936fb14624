// compile(): a custom loss, from a builder function or a LossDef, to the same object the
// built-in losses are.
import { Loss } from './nn.js';
import type { InputSpec, LossDef } from '../compiler/loss.js';
import type { Node } from '../compiler/ir/node.js';

/** The short form of a custom loss: named arguments and a builder function over them. */
export interface CustomLossSpec {
  readonly name: string;
  /** argument names (float tensors), or full specs for integer or non-differentiable ones */
  readonly inputs: readonly (string | InputSpec)[];
  /** the loss over its arguments, in order */
  readonly build: (...args: Node[]) => Node;
  readonly doc?: string;
}

/** Turn the short custom-loss form into a LossDef. */
export function defineLoss(spec: CustomLossSpec): LossDef {
  const inputs: InputSpec[] = spec.inputs.map((i) => (typeof i === 'string' ? { name: i, kind: 'float' } : i));
  return {
    name: spec.name,
    doc: spec.doc ?? `custom loss ${spec.name}`,
    inputs,
    options: [],
    build: (ctx) => spec.build(...inputs.map((i) => ctx.input(i.name))),
  };
}

export interface CompileOptions {
  readonly target?: 'js' | 'wgsl';
  /** option values, as for a built-in loss's constructor */
  readonly options?: Record<string, unknown>;
}

export function compile(source: LossDef | CustomLossSpec, opts: CompileOptions = {}): Loss {
  if (opts.target && opts.target !== 'js') throw new Error(`compile(): target '${opts.target}' is not available yet: use 'js', then loss.to('webgpu') once the WebGPU backend lands`);
  const def = isLossDef(source) ? source : defineLoss(source);
  return new Loss(def, opts.options ?? {});
}

const isLossDef = (s: LossDef | CustomLossSpec): s is LossDef => 'options' in s && Array.isArray(s.options) && typeof s.doc === 'string';
