// compile(): a custom loss, from a builder function or a LossDef, to the same object the
// built-in losses are.
import { Loss } from './nn.js';
import { compileLossSource } from '../dsl/index.js';
import type { WebGpuLoss } from './webgpu/loss.js';
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
  /** .loss text declaring several losses: which one (default: the only one) */
  readonly name?: string;
  /** .loss text: the file name diagnostics name */
  readonly file?: string;
  /**
   * false: compile the formulas as written, without the stabilisation stage (log(sigmoid(x)) ->
   * logSigmoid(x), ...; see `loss.notes`). Default true.
   */
  readonly stabilize?: boolean;
}

type Source = string | LossDef | CustomLossSpec;

/**
 * A custom loss, from .loss text, a LossDef, or the short builder form. With target 'wgsl' the
 * result runs on WebGPU (a Promise: the device is acquired asynchronously).
 */
// the short form first: its builder's parameters are then typed (Node) without annotations
export function compile(source: CustomLossSpec, opts?: CompileOptions & { target?: 'js' }): Loss;
export function compile(source: CustomLossSpec, opts: CompileOptions & { target: 'wgsl' }): Promise<WebGpuLoss>;
export function compile(source: Source, opts?: CompileOptions & { target?: 'js' }): Loss;
export function compile(source: Source, opts: CompileOptions & { target: 'wgsl' }): Promise<WebGpuLoss>;
export function compile(source: Source, opts: CompileOptions = {}): Loss | Promise<WebGpuLoss> {
  const def = definition(source, opts);
  const loss = new Loss(opts.stabilize === false ? { ...def, stabilize: false } : def, opts.options ?? {});
  return opts.target === 'wgsl' ? loss.to('webgpu') : loss;
}

function definition(source: Source, opts: CompileOptions): LossDef {
  if (typeof source !== 'string') return isLossDef(source) ? source : defineLoss(source);
  const losses = compileLossSource(source, opts.file ?? '<compile>');
  const chosen = opts.name ? losses.find((d) => d.name === opts.name) : losses.length === 1 ? losses[0] : undefined;
  if (!chosen) {
    const names = losses.map((d) => d.name).join(', ') || 'none';
    throw new Error(
      opts.name
        ? `compile(): no loss named ${opts.name} in the source (it declares ${names})`
        : `compile(): the source declares ${losses.length} losses (${names}); pass { name } to choose one`,
    );
  }
  return chosen;
}

const isLossDef = (s: LossDef | CustomLossSpec): s is LossDef => 'options' in s && Array.isArray(s.options) && typeof s.doc === 'string';
