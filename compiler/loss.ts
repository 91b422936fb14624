// A loss definition: what every source (DSL, TS builders, a TS function) produces, and what
// every built-in loss is. Options come in two sorts: structural ones (reduction, flags, whether
// an optional tensor is given) choose the graph; numeric ones are run-time parameters, so one
// compiled kernel serves every margin or beta.
import type { Node, Kind } from './ir/node.js';
import { Graph } from './ir/graph.js';
import { inputShape, reduceShape } from './ir/shape.js';
import { variantKey } from './variant.js';

export interface InputSpec {
  readonly name: string;
  readonly kind: Exclude<Kind, 'bool'>;
  /** torch does not differentiate some float inputs (e.g. SoftMarginLoss's target) */
  readonly differentiable?: boolean;
  /**
   * the shape is that of an earlier input (without axis `dropAxis`, for class indices): known
   * to the compiler, so per-row work shares kernels; checked against the tensor at each call
   */
  readonly shapeLike?: { readonly input: string; readonly dropAxis?: number };
}

export type OptionSpec =
  /**
   * `cases`: values that choose another graph (p = 1 or 2 of a norm, a label smoothing of 0); any
   * other value shares one graph in which the option is a run-time parameter. So a finite set of
   * variants covers every value, and a standalone module can carry them all.
   */
  | {
      readonly name: string;
      readonly type: 'number';
      readonly default: number;
      readonly cases?: readonly number[];
      readonly integer?: boolean;
      readonly doc?: string;
    }
  /** a function of builder nodes (e.g. a distance function): structural, by identity */
  | { readonly name: string; readonly type: 'function'; readonly default: null; readonly doc?: string }
  | { readonly name: string; readonly type: 'enum'; readonly values: readonly string[]; readonly default: string; readonly doc?: string }
  | { readonly name: string; readonly type: 'bool'; readonly default: boolean; readonly doc?: string }
  /** an optional tensor option (weight, posWeight): a float input of the graph when given; `rank` when fixed */
  | { readonly name: string; readonly type: 'tensor'; readonly default: null; readonly rank?: number; readonly doc?: string };

export type OptionValue = number | string | boolean | null | { readonly shape: readonly number[] } | BuilderFunction;
export type BuilderFunction = (...args: Node[]) => Node;

/** What a loss's `build` sees: input nodes, numeric options as nodes, structural options as values. */
export interface BuildContext {
  readonly graph: Graph;
  input(name: string): Node;
  /** a numeric option: a run-time scalar */
  num(name: string): Node;
  /** a structural option's value */
  str(name: string): string;
  flag(name: string): boolean;
  /** an optional tensor option: its input node, or null when not given */
  tensor(name: string): Node | null;
  /** which case of a numeric option applies: one of its `cases`, or 'other' (then use num(name)) */
  numCase(name: string): number | 'other';
  /** a function option, or null when not given */
  fn(name: string): BuilderFunction | null;
}

/** Run-time checks on the arguments, before any kernel runs (data-dependent errors torch raises). */
export type InputCheck =
  | { readonly kind: 'nonNegative'; readonly input: string; readonly message: string }
  /** every element within [min, max] */
  | { readonly kind: 'range'; readonly input: string; readonly min: number; readonly max: number; readonly message: string }
  /** exactly `like`'s shape ({input} / {like names} in the message are replaced by the shapes) */
  | { readonly kind: 'sameShape'; readonly input: string; readonly like: string; readonly message: string }
  /** torch's GaussianNLLLoss: var may lack input's last dimension; it is then unsqueezed */
  | { readonly kind: 'unsqueezeLastIfMissing'; readonly input: string; readonly like: string; readonly message: string }
  /**
   * torch's unbatched form: when `of` has rank `rank`, every listed input is seen with a leading
   * batch axis of 1 (and a 'none'-reduced result drops it again)
   */
  | {
      readonly kind: 'batchIfUnbatched';
      readonly of: string;
      readonly rank: number;
      readonly inputs: readonly (string | { readonly name: string; readonly axis: number })[];
    }
  /**
   * CTC's arguments: targets given concatenated (1-D) become padded [N, max length]; lengths are
   * checked against T and the targets, labels against the classes, as torch does
   */
  | { readonly kind: 'ctc'; readonly logProbs: string; readonly targets: string; readonly inputLengths: string; readonly targetLengths: string }
  /**
   * class indices: `input`'s shape is `of`'s without `axis`, and each value is in [min, size of
   * that axis), or equals the option named `ignore`
   */
  | {
      readonly kind: 'classIndex';
      readonly input: string;
      readonly of: string;
      readonly axis: number;
      readonly min?: number;
      readonly ignore?: string;
      readonly sameShape?: boolean;
    }
  /**
   * a declared shape (the DSL's `f32[N, C]`): the rank, fixed sizes, and named sizes that must
   * agree across every input declaring the same name; '*' stands for any number of axes
   */
  | { readonly kind: 'dims'; readonly input: string; readonly dims: readonly (string | number | '*')[] }
  /**
   * a numeric option's range, checked when the loss is constructed (torch checks it at each call):
   * min <= value (min < value with minExclusive) and value <= max; {value} in the message is the value
   */
  | {
      readonly kind: 'optionRange';
      readonly option: string;
      readonly min?: number;
      readonly max?: number;
      readonly minExclusive?: boolean;
      readonly message: string;
    }
  /** a per-class tensor option: given, it is 1-D with one entry per class (`of`'s size along `axis`); {classes} and {shape} in the message */
  | { readonly kind: 'classWeight'; readonly input: string; readonly of: string; readonly axis: number; readonly message: string }
  /** `input` broadcasts against `like` without growing it (torch's BCELoss weight); {input}, {like} and {broadcast} in the message */
  | { readonly kind: 'broadcastsTo'; readonly input: string; readonly like: string; readonly message: string };

export interface LossDef {
  readonly name: string;
  readonly doc: string;
  readonly inputs: readonly InputSpec[];
  readonly options: readonly OptionSpec[];
  readonly checks?: readonly InputCheck[];
  build(ctx: BuildContext): Node;
  /**
   * false: compile the formulas as written, without the stabilisation stage
   * (compiler/passes/stabilize.ts). The built-in losses, which follow torch's own formulas and
   * quirks to the bit, say so; a custom loss is stabilised unless it opts out.
   */
  readonly stabilize?: boolean;
  /**
   * other forms of the same loss taking inputs of other kinds (CrossEntropyLoss's class
   * probabilities instead of indices): a call uses the first form its tensors' dtypes fit
   */
  readonly overloads?: readonly LossDef[];
}

/** A loss with its structural options fixed: one graph, ready for the pipeline. */
export interface LossInstance {
  readonly def: LossDef;
  readonly graph: Graph;
  /** graph inputs in call order: the loss's arguments, then given tensor options */
  readonly inputs: readonly Node[];
  readonly differentiable: readonly boolean[];
  readonly params: readonly string[];
  readonly output: Node;
  readonly structureKey: string;
}

const fnIds = new WeakMap<object, number>();
let nextFnId = 1;
const fnId = (f: object): number => {
  let id = fnIds.get(f);
  if (id === undefined) fnIds.set(f, (id = nextFnId++));
  return id;
};

/** A value of a numeric option that is none of its `cases`: the one its run-time-parameter graph is built with. */
export function otherThanCases(o: { readonly cases?: readonly number[]; readonly integer?: boolean }): number {
  const top = Math.max(0, ...(o.cases ?? []).filter(Number.isFinite));
  return o.integer ? top + 1 : top + 0.5;
}

/**
 * THE structural variants of a loss's options, each a full set of values: every enum value, both
 * bools, a tensor option absent or given, each numeric case and one value that is none of them,
 * a function option as `functions` lists (default: absent only; a trial build passes a stand-in).
 * More than `limit` combinations: the defaults, then each option varied alone.
 */
export function structuralVariants(
  def: { readonly options: readonly OptionSpec[] },
  opts: { readonly functions?: readonly OptionValue[]; readonly limit?: number } = {},
): Record<string, OptionValue>[] {
  const defaults: Record<string, OptionValue> = Object.fromEntries(def.options.map((o) => [o.name, o.default]));
  const choices: [string, readonly OptionValue[]][] = [];
  for (const o of def.options) {
    if (o.type === 'enum') choices.push([o.name, o.values]);
    else if (o.type === 'bool') choices.push([o.name, [false, true]]);
    else if (o.type === 'tensor') choices.push([o.name, [null, { shape: [1] }]]);
    else if (o.type === 'function') choices.push([o.name, opts.functions ?? [null]]);
    else if (o.cases?.length) choices.push([o.name, [...o.cases, otherThanCases(o)]]);
  }
  const total = choices.reduce((n, [, vs]) => n * vs.length, 1);
  if (opts.limit !== undefined && total > opts.limit) return [defaults, ...choices.flatMap(([name, vs]) => vs.map((v) => ({ ...defaults, [name]: v })))];
  let combos: Record<string, OptionValue>[] = [defaults];
  for (const [name, vs] of choices) combos = combos.flatMap((c) => vs.map((v) => ({ ...c, [name]: v })));
  return combos;
}

export function structuralKey(def: LossDef, options: Readonly<Record<string, OptionValue>>): string {
  return variantKey(def.options, options, (v) => (typeof v === 'function' ? `fn${fnId(v)}` : 'none'));
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A loss's name, and its inputs' and options' names, are identifiers, each used once: they name
 * kernels, files of standalone modules and arguments in messages, so they are checked before any
 * of that (names made of other text are refused, never escaped).
 */
export function checkLossNames(def: LossDef): void {
  const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}...` : v) : String(v));
  if (typeof def.name !== 'string' || !IDENTIFIER.test(def.name))
    throw new TypeError(`a loss's name must be an identifier (letters, digits and _, not starting with a digit), got ${show(def.name)}`);
  const seen = new Set<string>();
  for (const [what, name] of [...def.inputs.map((i) => ['input', i.name] as const), ...def.options.map((o) => ['option', o.name] as const)]) {
    if (typeof name !== 'string' || !IDENTIFIER.test(name))
      throw new TypeError(`${def.name}: ${what} names must be identifiers (letters, digits and _, not starting with a digit), got ${show(name)}`);
    if (seen.has(name)) throw new TypeError(`${def.name}: the name '${name}' is used twice (${what} names must be distinct)`);
    seen.add(name);
  }
}

export function instantiate(def: LossDef, options: Readonly<Record<string, OptionValue>>): LossInstance {
  checkLossNames(def);
  const graph = new Graph();
  const inputs = new Map<string, Node>();
  const order: Node[] = [];
  const differentiable: boolean[] = [];
  for (const spec of def.inputs) {
    const like = spec.shapeLike ? inputs.get(spec.shapeLike.input)?.shape : undefined;
    if (spec.shapeLike && !like) throw new Error(`${def.name}: input '${spec.name}' takes its shape from '${spec.shapeLike.input}', which must come before it`);
    const shape = like && spec.shapeLike?.dropAxis !== undefined ? reduceShape(like, [spec.shapeLike.dropAxis], false) : like;
    const n = graph.input(spec.name, spec.kind, shape);
    inputs.set(spec.name, n);
    order.push(n);
    differentiable.push(spec.kind === 'float' && spec.differentiable !== false);
  }
  const params: string[] = [];
  const spec = (name: string): OptionSpec => {
    const o = def.options.find((x) => x.name === name);
    if (!o) throw new Error(`${def.name} has no option '${name}'`);
    return o;
  };
  const ctx: BuildContext = {
    graph,
    input: (name) => {
      const n = inputs.get(name);
      if (!n) throw new Error(`${def.name} has no input '${name}'`);
      return n;
    },
    numCase: (name) => {
      const o = spec(name);
      if (o.type !== 'number' || !o.cases) throw new Error(`${def.name}: option '${name}' has no cases`);
      const v = options[name] as number;
      return o.cases.includes(v) ? v : 'other';
    },
    fn: (name) => {
      if (spec(name).type !== 'function') throw new Error(`${def.name}: option '${name}' is not a function option`);
      const f = options[name];
      return typeof f === 'function' ? f : null;
    },
    num: (name) => {
      const o = spec(name);
      if (o.type !== 'number') throw new Error(`${def.name}: option '${name}' is not numeric`);
      if (!params.includes(name)) params.push(name);
      return graph.param(name);
    },
    str: (name) => String(options[spec(name).name]),
    flag: (name) => Boolean(options[spec(name).name]),
    tensor: (name) => {
      const o = spec(name);
      if (o.type !== 'tensor' || options[name] == null) return null;
      let n = inputs.get(name);
      if (!n) {
        n = graph.input(name, 'float', inputShape(name, o.rank));
        inputs.set(name, n);
        order.push(n);
        differentiable.push(false); // torch does not return gradients for weight options
      }
      return n;
    },
  };
  // tensor options become inputs in declaration order, whatever order build asks for them
  for (const o of def.options) if (o.type === 'tensor') ctx.tensor(o.name);
  const output = def.build(ctx);
  return { def, graph, inputs: order, differentiable, params, output, structureKey: structuralKey(def, options) };
}
