// The pipeline, as a table of contents: each pass is named, runs in order, and can be dumped
// (`lossc explain`, `fn.explain()`).
//
//   build graph -> stabilize -> differentiate -> simplify (markers, algebra, stable forms, CSE) -> fuse -> emit
import type { Node } from './ir/node.js';
import { scalarShape } from './ir/shape.js';
import { vjpGraph } from './passes/grad.js';
import { rewrite } from './rewrite/engine.js';
import { algebra, eraseGradientMarkers, stableForms } from './rewrite/rules.js';
import { fuseIntoKernels, type Program } from './passes/fuse.js';
import type { KernelPlan } from './plan/kernelPlan.js';
import { priorInput, type MethodVariant } from './methodVariant.js';
import type { LossInstance } from './loss.js';
import { printNodes, printPlan } from './ir/print.js';
import { add } from './ir/builders.js';
import { stabilize, printFindings, type Stabilized } from './passes/stabilize.js';

export type Method = 'forward' | 'vjp' | 'valueAndGrad';

export interface CompiledMethod {
  readonly method: Method;
  readonly instance: LossInstance;
  /** the program after each pass, for explain */
  readonly dumps: readonly { readonly pass: string; readonly text: string }[];
  /** the results as graphs, as the 'graph' and 'simplify' dumps print them (drawn by the playground) */
  readonly graphs: { readonly graph: readonly MethodResult[]; readonly simplify: readonly MethodResult[] };
  readonly plan: KernelPlan;
  /** names of the results, in order: 'value' and/or 'grad_<input>' per differentiable input */
  readonly results: readonly string[];
  /** index in the loss's inputs of each grad result */
  readonly gradOf: readonly number[];
  /** which gradients, and whether they are added to prior values: see MethodVariant */
  readonly variant: MethodVariant;
}

export { methodVariantKey, type MethodVariant } from './methodVariant.js';

/** A named result of a compiled method and the node that computes it. */
export interface MethodResult {
  readonly name: string;
  readonly node: Node;
}

export function compileMethod(inst: LossInstance, method: Method, variant: MethodVariant = {}): CompiledMethod {
  const dumps: { pass: string; text: string }[] = [];
  const name = `${inst.def.name}_${method}`;
  // the forward graph in its stable forms, before anything is differentiated
  const stable = stableForward(inst);
  dumps.push({ pass: 'stabilize', text: printFindings(stable.findings, inst.def.stabilize !== false) });
  const out = stable.output;
  const results: { name: string; node: Node }[] = [];
  const gradOf: number[] = [];

  if (method !== 'forward') {
    let seed: Node;
    if (method === 'valueAndGrad') {
      if (out.shape !== scalarShape)
        throw new Error(`${inst.def.name}.valueAndGrad needs a scalar loss; with reduction='none' the loss is a tensor: use vjp(inputs, gradOutput)`);
      seed = inst.graph.constant(1);
      results.push({ name: 'value', node: out });
    } else seed = inst.graph.input('grad_output', 'float', out.shape);
    const wanted = (i: number): boolean => inst.differentiable[i]! && (!variant.wrt || variant.wrt.includes(i));
    for (const i of variant.wrt ?? []) if (!inst.differentiable[i]) throw new Error(`${inst.def.name}: input ${i} is not differentiable`);
    const wrt = inst.inputs.filter((_, i) => wanted(i));
    const grads = vjpGraph(out, seed, wrt);
    inst.inputs.forEach((n, i) => {
      if (!wanted(i)) return;
      const g = grads[wrt.indexOf(n)] ?? null;
      const name = `grad_${n.attrs.name}`;
      // an input the loss does not depend on has a zero gradient, of its own shape
      const grad = g ?? inst.graph.make('broadcastTo', [inst.graph.constant(0)], { shape: n.shape });
      // torch's .grad accumulation: prior + gradient, each rounded as torch rounds them
      results.push({ name, node: variant.accumulate ? add(inst.graph.input(priorInput(name), 'float', n.shape), grad) : grad });
      gradOf.push(i);
    });
  } else results.push({ name: 'value', node: out });
  dumps.push({ pass: 'graph', text: printNodes(results.map((r) => [r.name, r.node])) });

  const simplified = rewrite(
    results.map((r) => r.node),
    [...eraseGradientMarkers, ...algebra, ...stableForms],
  );
  const program: Program = {
    name,
    inputs: [
      ...inst.inputs,
      ...(method === 'vjp' ? graphSeed(inst) : []),
      ...(variant.accumulate ? gradOf.map((i) => inst.graph.input(priorInput(`grad_${inst.inputs[i]!.attrs.name}`), 'float', inst.inputs[i]!.shape)) : []),
    ],
    params: inst.params,
    results: results.map((r, i) => ({ name: r.name, node: simplified[i]! })),
  };
  dumps.push({ pass: 'simplify', text: printNodes(program.results.map((r) => [r.name, r.node])) });

  const plan = fuseIntoKernels(program, variant.maxBuffers);
  dumps.push({ pass: 'fuse', text: printPlan(plan) });
  const graphs = { graph: results, simplify: program.results };
  return { method, instance: inst, dumps, graphs, plan, results: results.map((r) => r.name), gradOf, variant };
}

function graphSeed(inst: LossInstance): Node[] {
  return [inst.graph.input('grad_output', 'float', inst.output.shape)];
}

const stabilized = new WeakMap<LossInstance, Stabilized>();

/**
 * The instance's output with its unstable patterns rewritten, and the notes and warnings
 * (once per instance: every method differentiates the same stable graph). Built-in losses
 * (def.stabilize === false) keep torch's formulas as they are.
 */
export function stableForward(inst: LossInstance): Stabilized {
  let s = stabilized.get(inst);
  if (!s) {
    s =
      inst.def.stabilize === false
        ? { output: inst.output, findings: [] }
        : stabilize(
            inst.output,
            inst.inputs.filter((_, i) => inst.differentiable[i]),
          );
    stabilized.set(inst, s);
  }
  return s;
}
