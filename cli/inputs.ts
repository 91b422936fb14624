// Random valid inputs for a loss (`lossc check`, `lossc bench`), made from what the loss declares:
// its checks (declared shapes with named sizes, class indices, ranges, non-negative inputs, same
// shapes), its inputs' derived shapes, and, for index inputs nothing else describes, how the
// graph uses them (the axis a gather or one-hot reads along).
import { instantiate, type LossDef, type OptionValue } from '../compiler/loss.js';
import { toposort, type Node } from '../compiler/ir/node.js';
import { resolveShape } from '../compiler/ir/shape.js';
import type { DType, Tensor } from '../runtime/tensor.js';

export type Random = () => number;

/** A small, seeded generator (mulberry32): the same inputs for the same seed. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Plan {
  shape?: number[];
  /** int inputs: values in [lo, hi) */
  range?: [number, number];
  /** float inputs: values in [lo, hi] */
  floats?: [number, number];
  /** int inputs: a generator of each value */
  values?: () => number;
}

/**
 * Inputs for `def` (its own inputs, in order), float ones of `dtype`, with `base` as the shape of
 * inputs nothing else shapes (and the sizes of declared named dimensions, in order).
 */
export function randomInputs(
  def: LossDef,
  options: Readonly<Record<string, OptionValue>>,
  random: Random,
  dtype: Exclude<DType, 'int32'>,
  base: readonly number[] = [4, 5],
): Tensor[] {
  const plans = new Map<string, Plan>(def.inputs.map((i) => [i.name, {}]));
  const plan = (name: string): Plan => plans.get(name) ?? (plans.set(name, {}), plans.get(name)!);
  const named = new Map<string, number>();
  const sizeOf = (dim: string | number): number => {
    if (typeof dim === 'number') return dim;
    if (dim === '_') return 3;
    if (!named.has(dim)) named.set(dim, base[named.size] ?? 3 + named.size);
    return named.get(dim)!;
  };
  const checks = def.checks ?? [];
  for (const c of checks) {
    if (c.kind === 'dims') plan(c.input).shape ??= c.dims.flatMap((d) => (d === '*' ? [] : [sizeOf(d)]));
  }
  for (const c of checks) {
    if (c.kind === 'classIndex') {
      const of = plan(c.of);
      of.shape ??= [...base];
      // an unbatched `of` (torch's single sample, e.g. a [C] input) is seen with a batch axis of 1: so is the index
      const unbatched = checks.some((b) => b.kind === 'batchIfUnbatched' && b.of === c.of && b.rank === of.shape!.length && b.inputs.includes(c.input));
      const seen = unbatched ? [1, ...of.shape] : of.shape;
      const axis = c.axis < 0 ? c.axis + seen.length : c.axis;
      const index = c.sameShape ? [...seen] : seen.filter((_, i) => i !== axis);
      plan(c.input).shape ??= unbatched ? index.slice(1) : index;
      plan(c.input).range = [Math.max(0, c.min ?? 0), seen[axis] ?? 1];
    } else if (c.kind === 'ctc') {
      // torch's (T, N, C) log-probabilities, (N, S) padded targets without the blank, every frame used
      const [N, C] = [base[0] ?? 4, Math.max(3, base[1] ?? 5)];
      const [T, S] = [2 * 3 + 2, 3];
      plan(c.logProbs).shape ??= [T, N, C];
      plan(c.logProbs).floats = [-3, -0.1];
      plan(c.targets).shape ??= [N, S];
      const blank = Number(options.blank ?? 0);
      plan(c.targets).values = () => {
        const v = 1 + Math.floor(random() * (C - 1));
        return v <= blank ? v - 1 : v; // every class but the blank
      };
      plan(c.inputLengths).shape ??= [N];
      plan(c.inputLengths).values = () => T;
      plan(c.targetLengths).shape ??= [N];
      plan(c.targetLengths).values = () => 1 + Math.floor(random() * S);
    } else if (c.kind === 'range') plan(c.input).floats = [c.min + 0.1 * (c.max - c.min), c.max - 0.1 * (c.max - c.min)];
    else if (c.kind === 'nonNegative') plan(c.input).floats = [0.1, 1];
  }
  // derived shapes, in declaration order (an input takes its shape from an earlier one)
  for (const spec of def.inputs) {
    const p = plan(spec.name);
    if (spec.shapeLike) {
      const like = plan(spec.shapeLike.input);
      like.shape ??= [...base];
      const axis = spec.shapeLike.dropAxis;
      // as for class indices: an unbatched `like` is seen with a batch axis of 1, and so is this input
      const unbatched =
        axis !== undefined &&
        checks.some((b) => b.kind === 'batchIfUnbatched' && b.of === spec.shapeLike!.input && b.rank === like.shape!.length && b.inputs.includes(spec.name));
      const seen = unbatched ? [1, ...like.shape] : like.shape;
      const a = axis === undefined ? -1 : axis < 0 ? axis + seen.length : axis;
      const derived = axis === undefined ? [...seen] : seen.filter((_, i) => i !== a);
      p.shape ??= unbatched ? derived.slice(1) : derived;
      if (spec.kind === 'int' && axis !== undefined) p.range ??= [0, seen[a] ?? 1];
    }
  }
  for (const c of checks) {
    if (c.kind === 'sameShape' || c.kind === 'unsqueezeLastIfMissing') plan(c.input).shape ??= [...(plan(c.like).shape ?? base)];
  }
  for (const spec of def.inputs) if (spec.kind === 'float') plan(spec.name).shape ??= [...base];
  // index inputs nothing declares: follow the graph's gathers and one-hots
  const open = def.inputs.filter((s) => s.kind === 'int' && (!plan(s.name).shape || (!plan(s.name).range && !plan(s.name).values)));
  if (open.length)
    inferIndexInputs(
      def,
      options,
      plans,
      open.map((s) => s.name),
    );
  return def.inputs.map((spec) => {
    const p = plan(spec.name);
    const shape = p.shape ?? [base[0] ?? 4];
    const n = shape.reduce((a, b) => a * b, 1);
    if (spec.kind === 'int') {
      const [lo, hi] = p.range ?? [0, 2];
      const value = p.values ?? (() => lo + Math.floor(random() * Math.max(1, hi - lo)));
      return { data: Int32Array.from({ length: n }, value), shape, dtype: 'int32' };
    }
    // a float input the loss does not differentiate is a label: ±1, which margin and embedding losses test for
    if (spec.differentiable === false && !p.floats) return { data: fill(dtype, n, () => (random() < 0.5 ? -1 : 1)), shape, dtype };
    const [lo, hi] = p.floats ?? [0.1, 0.9];
    return { data: fill(dtype, n, () => lo + (hi - lo) * random()), shape, dtype };
  });
}

function fill(dtype: 'float32' | 'float64', n: number, value: () => number): Float32Array | Float64Array {
  const data = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = value();
  return data;
}

/** An index input read by gather(x, index, axis), or compared with iota(x, axis): x's shape without the axis, values in [0, size). */
function inferIndexInputs(def: LossDef, options: Readonly<Record<string, OptionValue>>, plans: Map<string, Plan>, names: readonly string[]): void {
  let nodes: Node[];
  try {
    const inst = instantiate(def, options);
    nodes = toposort([inst.output]);
  } catch {
    return;
  }
  const shapes = new Map<string, readonly number[]>();
  for (const [name, p] of plans) if (p.shape) shapes.set(name, p.shape);
  const strip = (n: Node): Node => (n.op === 'unsqueeze' || n.op === 'cast' ? strip(n.inputs[0]!) : n);
  for (const n of nodes) {
    let index: Node | undefined;
    let frame: Node | undefined;
    let axis = 0;
    if (n.op === 'gather') [frame, index, axis] = [n.inputs[0], strip(n.inputs[1]!), n.attrs.axis ?? 0];
    else if (n.op === 'eq') {
      const iota = n.inputs.find((i) => i.op === 'iota');
      const other = n.inputs.find((i) => i !== iota);
      if (iota && other) [frame, index, axis] = [iota, strip(other), iota.attrs.axis ?? 0];
    }
    if (!index || !frame || index.op !== 'input' || !names.includes(index.attrs.name!)) continue;
    let dims: number[];
    try {
      dims = resolveShape(frame.op === 'iota' ? frame.attrs.shape! : frame.shape, shapes);
    } catch {
      continue;
    }
    const a = axis < 0 ? axis + dims.length : axis;
    const p = plans.get(index.attrs.name!)!;
    p.shape ??= dims.filter((_, i) => i !== a);
    p.range ??= [0, dims[a] ?? 1];
  }
}
