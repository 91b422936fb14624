// Calling a function of the table (functions.ts), generically: bind the arguments to its
// parameters (by position or name), check each against its sort and accepted kinds, infer the
// result's kind and declared shape, fold plain numbers in float64 (as Python folds 2 * math.pi),
// and otherwise return a closure that calls the builder when the graph is built (a builder's
// error then becomes a diagnostic at the call).
import { Graph, type Node, type Kind } from '../compiler/ir/node.js';
import { PRIMITIVES } from '../compiler/primitives/table.js';
import type { Accepts, DslFunction, Param } from './functions.js';
import { BuildFailure, didYouMean, errorValue, type Env, type Loc, type Lowered, type Reporter, type Value } from './lower.js';
import { describeType, scalarFloat, tensorOf, type Dims, type StaticType } from './types.js';

export interface Arg {
  readonly keyword?: { readonly name: string; readonly at: Loc };
  readonly value: Lowered;
}

/** How a call reads in messages: `log`, or `'+'` for an operator. */
export interface Callee {
  readonly display: string;
  readonly isOperator: boolean;
}

/** A bound argument: how to get its value at build time, and what is known before. */
interface Bound {
  readonly param: Param;
  readonly arg: Lowered | undefined;
  /** the static value (ints, axes, known flags), null when known only at build time */
  readonly known: unknown;
  get(env: Env): unknown;
}

/** Call `f` on `args`: bind them to its parameters, check each, infer the result, fold constants. */
export function applyFunction(f: DslFunction, callee: Callee, args: readonly Arg[], at: Loc, r: Reporter): Lowered {
  const bound = bindArguments(f, callee, args, at, r);
  if (!bound) return errorValue(at);
  const checked = bound.map((b) => checkArgument(b, callee, r));
  if (checked.some((c) => c === null)) return errorValue(at);
  const all = checked as Bound[];
  const tensors = all.filter((b) => b.param.sort === 'tensor' && b.arg);
  const shape = f.shape({
    dims: (name) => dimsOf(all.find((b) => b.param.name === name)?.arg),
    tensorDims: () => tensors.map((b) => dimsOf(b.arg)),
    value: (name) => all.find((b) => b.param.name === name)?.known,
    text: (name) => {
      const a = all.find((b) => b.param.name === name)?.arg;
      return a ? r.source.quote(a.at) : name;
    },
  });
  if ('error' in shape) {
    r.error(`${callee.display}: ${shape.error}`, at);
    return errorValue(at);
  }
  const operandKinds = tensors.filter((b) => b.param.sort === 'tensor' && b.param.accepts !== 'bool').map((b) => (b.arg!.type as { kind: Kind }).kind);
  const kind: Kind = f.result === 'join' ? (operandKinds.includes('float') || operandKinds.length === 0 ? 'float' : 'int') : f.result;

  const callBuilder = (env: Env | null, lift: (v: number) => Node): Node => {
    const values: unknown[] = [];
    for (const b of all) {
      const v = env ? b.get(env) : b.known;
      if (b.param.sort === 'pairs') values.push(...((v as unknown[] | undefined) ?? []));
      else values.push(typeof v === 'number' && b.param.sort === 'tensor' ? lift(v) : v);
    }
    while (values.length && values[values.length - 1] === undefined) values.pop(); // omitted: the builder's default
    return (f.builder as unknown as (...a: unknown[]) => Node)(...values);
  };

  // plain numbers in, a float out: fold now, in float64
  if (kind === 'float' && tensors.length > 0 && tensors.every((b) => b.known !== null && typeof b.known === 'number') && all.every((b) => b.known !== null)) {
    const scratch = new Graph();
    const value = constantValue(callBuilder(null, (v) => scratch.constant(v)));
    if (value === undefined) {
      r.error(`${callee.display} needs a tensor ${callee.isOperator ? 'operand' : 'argument'}, not only numbers`, at);
      return errorValue(at);
    }
    return { type: scalarFloat(value), at, eval: () => value };
  }
  return {
    type: tensorOf(kind, shape.dims),
    at,
    eval: (env) => {
      try {
        return callBuilder(env, (v) => env.ctx.graph.scalarConst(v));
      } catch (e) {
        if (e instanceof BuildFailure) throw e;
        throw new BuildFailure({ severity: 'error', message: `${callee.display}: ${(e as Error).message}`, span: r.source.span(at) });
      }
    },
  };
}

const dimsOf = (l: Lowered | undefined): Dims => (l?.type.sort === 'tensor' ? l.type.dims : null);

function signature(f: DslFunction): string {
  return f.params.map((p) => (p.sort === 'pairs' ? `${p.name}...` : p.name)).join(', ');
}

function bindArguments(f: DslFunction, callee: Callee, args: readonly Arg[], at: Loc, r: Reporter): { param: Param; arg: Lowered | undefined; rest?: Lowered[] }[] | null {
  const slots = f.params.map((param) => ({ param, arg: undefined as Lowered | undefined, rest: [] as Lowered[] }));
  const positional = args.filter((a) => !a.keyword);
  const required = f.params.filter((p) => !p.optional).length;
  const variadic = f.params.some((p) => p.sort === 'pairs');
  const count = args.length;
  if (count < required || (!variadic && count > f.params.length)) {
    const range = variadic ? `at least ${required}` : required === f.params.length ? `${required}` : `${required} to ${f.params.length}`;
    r.error(`${callee.display} takes ${range} argument${range === '1' ? '' : 's'} (${signature(f)}), got ${count}`, at);
    return null;
  }
  let ok = true;
  positional.forEach((a, i) => {
    const slot = slots[Math.min(i, slots.length - 1)]!;
    if (slot.param.sort === 'pairs') slot.rest.push(a.value);
    else if (i < slots.length) slot.arg = a.value;
  });
  for (const a of args) {
    if (!a.keyword) continue;
    const slot = slots.find((s) => s.param.name === a.keyword!.name);
    if (!slot || slot.param.sort === 'pairs') {
      r.error(`${callee.display} has no parameter '${a.keyword.name}' (its parameters: ${signature(f)})`, a.keyword.at, didYouMean(a.keyword.name, f.params.map((p) => p.name)));
      ok = false;
    } else if (slot.arg) {
      r.error(`${callee.display} got two values for '${a.keyword.name}'`, a.keyword.at);
      ok = false;
    } else slot.arg = a.value;
  }
  for (const s of slots) {
    if (ok && !s.arg && !s.param.optional) {
      r.error(`${callee.display} is missing its argument '${s.param.name}' (${signature(f)})`, at);
      ok = false;
    }
  }
  return ok ? slots.map((s) => (s.param.sort === 'pairs' ? { param: s.param, arg: undefined, rest: s.rest } : s)) : null;
}

/** Check one argument against its parameter's sort; null (after a diagnostic) when it does not fit. */
function checkArgument(slot: { param: Param; arg: Lowered | undefined; rest?: Lowered[] }, callee: Callee, r: Reporter): Bound | null {
  const { param, arg } = slot;
  const what = `${param.name === 'x' || param.name === 'a' || param.name === 'b' ? '' : `'${param.name}' of `}${callee.display}`;
  if (param.sort === 'pairs') {
    const pairs = slot.rest ?? [];
    for (const p of pairs) {
      const t = p.type;
      if (t.sort === 'error') return null;
      if (t.sort !== 'tuple' || t.items.length !== 2 || t.items.some((i) => i.sort !== 'tensor' && i.sort !== 'error')) {
        r.error(`each partial of ${callee.display} is a pair (x, dx) of tensors, but ${r.source.quote(p.at)} is ${describeType(t)}`, p.at);
        return null;
      }
    }
    return { param, arg: undefined, known: pairs.length ? null : undefined, get: (env) => pairs.map((p) => (p.eval(env) as Value[]).map((v) => (typeof v === 'number' ? env.ctx.graph.scalarConst(v) : v))) };
  }
  if (!arg) return { param, arg, known: undefined, get: () => undefined };
  const t = arg.type;
  if (t.sort === 'error') return null;
  const text = r.source.quote(arg.at);
  const fail = (message: string): null => {
    r.error(message, arg.at);
    return null;
  };
  switch (param.sort) {
    case 'tensor': {
      if (t.sort !== 'tensor') return fail(notATensor(what, text, t));
      const problem = kindProblem(param.accepts, t.kind, callee, param, text);
      if (problem) return fail(problem);
      return { param, arg, known: t.constant ?? null, get: (env) => arg.eval(env) };
    }
    case 'int':
      if (t.sort !== 'tensor' || t.constant === undefined || !Number.isInteger(t.constant)) return fail(`${what} must be an integer such as 1 or -1, but ${text} is ${describeType(t)}`);
      return { param, arg, known: t.constant, get: () => t.constant };
    case 'axes': {
      const items = t.sort === 'tuple' ? t.items : [t];
      const axes = items.map((i) => (i.sort === 'tensor' && i.constant !== undefined && Number.isInteger(i.constant) ? i.constant : undefined));
      if (axes.some((a) => a === undefined)) return fail(`${what} must be an integer or a tuple of integers such as (0, 1), but ${text} is ${describeType(t)}`);
      return { param, arg, known: axes, get: () => axes };
    }
    case 'flag':
      if (t.sort !== 'flag') return fail(`${what} must be true or false (or a bool option), but ${text} is ${describeType(t)}`);
      return { param, arg, known: t.constant ?? null, get: (env) => arg.eval(env) };
    case 'text':
      if (t.sort !== 'text') return fail(`${what} must be a string such as 'mean' (or an option with such values), but ${text} is ${describeType(t)}`);
      return { param, arg, known: t.constant ?? null, get: (env) => arg.eval(env) };
  }
}

function notATensor(what: string, text: string, t: StaticType): string {
  switch (t.sort) {
    case 'optional':
      return `${text} may be none here: use it inside 'if ${text} != none { ... }'`;
    case 'flag':
      return `${what} needs a tensor, but ${text} is a bool known when the graph is built: choose with 'if ${text} { ... } else { ... }'`;
    case 'text':
      return `${what} needs a tensor, but ${text} is ${describeType(t)}: compare it in an 'if', or pass it to reduce(x, ${text})`;
    case 'tuple':
      return `${what} needs a tensor, but ${text} is a tuple: tuples are only withGrad's (x, dx) pairs and axis lists`;
    default:
      return `${what} needs a tensor, but ${text} is ${describeType(t)}`;
  }
}

function kindProblem(accepts: Accepts, kind: Kind, callee: Callee, param: Param, text: string): string | null {
  const operands = callee.isOperator ? 'operands' : 'arguments';
  if (accepts === 'any' || accepts === kind) return null;
  if (accepts === 'number' && kind !== 'bool') return null;
  if (accepts === 'bool') {
    return param.name === 'condition'
      ? `the condition of ${callee.display} must be a comparison (a bool), but ${text} is ${describeType(tensorOf(kind, null))}`
      : `${callee.display} needs comparisons (bools), but ${text} is ${describeType(tensorOf(kind, null))}`;
  }
  if (accepts === 'int') return `'${param.name}' of ${callee.display} must be an int32 tensor, but ${text} is ${describeType(tensorOf(kind, null))}`;
  if (kind === 'int') return `${callee.display} needs float ${operands}, but ${text} is an int32 tensor: cast it with float(${text})`;
  return `${callee.display} needs numbers, but ${text} is a comparison (bool): use where(${text}, 1, 0) or float(${text})`;
}

/** The float64 value of a graph of constants and elementwise operations, or undefined. */
function constantValue(n: Node): number | undefined {
  if (n.op === 'const') return n.attrs.value;
  const def = PRIMITIVES[n.op];
  if (def.category !== 'elementwise' || !def.eval) return undefined;
  const xs: number[] = [];
  for (const i of n.inputs) {
    const v = constantValue(i);
    if (v === undefined) return undefined;
    xs.push(v);
  }
  return def.eval(...xs);
}

