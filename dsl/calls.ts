// Calling a function of the table (functions.ts), generically: bind the arguments to its
// parameters (by position or name), check each against its sort and accepted kinds, infer the
// result's kind and declared shape, fold plain numbers in float64 (as Python folds 2 * math.pi),
// and otherwise return a closure that calls the builder when the graph is built (a builder's
// error then becomes a diagnostic at the call).
import { Node, type Kind } from '../compiler/ir/node.js';
import { Graph } from '../compiler/ir/graph.js';
import { PRIMITIVES } from '../compiler/primitives/table.js';
import { recordOrigin } from '../compiler/ir/origin.js';
import type { Accepts, DslFunction, Param } from './functions.js';
import { BuildFailure, didYouMean, errorValue, RaisedError, type ShapeValue, type Env, type Loc, type Lowered, type Reporter, type Value } from './lower.js';
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
  /** the tensor operands it gives: the argument, or each of the rest ('tensors') */
  readonly operands: readonly Lowered[];
  /** the static value (ints, axes, known flags), null when known only at build time */
  readonly known: unknown;
  get(env: Env): unknown;
}

const constantOf = (l: Lowered): number | undefined => (l.type.sort === 'tensor' ? l.type.constant : undefined);

/**
 * Plain numbers become constants as the builders make them (builders.ts lift): an int constant
 * beside int tensors only, else a float one. So `s mod 2` on indices is int, `x * 2` float.
 */
function liftsToInt(operandKinds: readonly Kind[]): boolean {
  return operandKinds.length > 0 && operandKinds.every((k) => k === 'int');
}

/** Call `f` on `args`: bind them to its parameters, check each, infer the result, fold constants. */
export function applyFunction(f: DslFunction, callee: Callee, args: readonly Arg[], at: Loc, r: Reporter): Lowered {
  const bound = bindArguments(f, callee, args, at, r);
  if (!bound) return errorValue(at);
  const checked = bound.map((b) => checkArgument(b, callee, r));
  if (checked.some((c) => c === null)) return errorValue(at);
  const all = checked as Bound[];
  const operands = all.flatMap((b) => b.operands.map((arg) => ({ param: b.param, arg })));
  const shape = f.shape({
    dims: (name) => dimsOf(all.find((b) => b.param.name === name)?.arg),
    tensorDims: () => operands.map((o) => dimsOf(o.arg)),
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
  // the kinds the operands will have once numbers are lifted, as the builder lifts them
  const tensorKinds = operands.filter((o) => constantOf(o.arg) === undefined).map((o) => (o.arg.type as { kind: Kind }).kind);
  const intContext = liftsToInt(tensorKinds);
  const liftedKind = (l: Lowered): Kind => {
    const c = constantOf(l);
    return c === undefined ? (l.type as { kind: Kind }).kind : intContext && Number.isInteger(c) ? 'int' : 'float';
  };
  const mixed = mixedArithmetic(operands, callee, r);
  if (mixed) {
    r.error(mixed.message, mixed.at);
    return errorValue(at);
  }
  const values = operands.filter((o) => !(o.param.sort === 'tensor' && o.param.accepts === 'bool')).map((o) => liftedKind(o.arg));
  const result = f.result;
  const kind: Kind | 'shape' =
    result === 'join'
      ? values.length === 0 || values.includes('float')
        ? 'float'
        : values.every((k) => k === 'int')
          ? 'int'
          : 'float'
      : result === 'first'
        ? operands[0]
          ? liftedKind(operands[0].arg)
          : 'float'
        : result;

  const callBuilder = (env: Env | null, graphFor: () => Graph): Node | ShapeValue => {
    const raw = all.map((b) => (env ? b.get(env) : b.known));
    // the operands' nodes decide how plain numbers are lifted (the builders' rule)
    const nodes = all
      .flatMap((b, i) => (b.param.sort === 'tensor' ? [raw[i]] : b.param.sort === 'tensors' ? (raw[i] as unknown[]) : []))
      .filter((v): v is Node => v instanceof Node);
    const graph = nodes[0]?.graph ?? graphFor();
    const lift = (v: unknown): unknown =>
      typeof v !== 'number' ? v : liftsToInt(nodes.map((n) => n.kind)) && Number.isInteger(v) ? graph.constant(v, 'int') : graph.scalarConst(v);
    const values: unknown[] = [];
    all.forEach((b, i) => {
      const v = raw[i];
      if (b.param.sort === 'pairs') values.push(...((v as unknown[] | undefined) ?? []));
      else if (b.param.sort === 'tensors') values.push(...(v as unknown[]).map(lift));
      else values.push(b.param.sort === 'tensor' ? lift(v) : v);
    });
    while (values.length && values[values.length - 1] === undefined) values.pop(); // omitted: the builder's default
    return (f.builder as unknown as (...a: unknown[]) => Node | ShapeValue)(...values);
  };

  // plain numbers in, a float out: fold now, in float64
  if (kind === 'float' && operands.length > 0 && operands.every((o) => constantOf(o.arg) !== undefined) && all.every((b) => b.known !== null)) {
    const scratch = new Graph();
    const folded = callBuilder(null, () => scratch);
    const value = folded instanceof Node ? constantValue(folded) : undefined;
    if (value === undefined) {
      r.error(`${callee.display} needs a tensor ${callee.isOperator ? 'operand' : 'argument'}, not only numbers`, at);
      return errorValue(at);
    }
    return { type: scalarFloat(value), at, eval: () => value };
  }
  return {
    type: kind === 'shape' ? { sort: 'shape', dims: shape.dims } : tensorOf(kind, shape.dims),
    at,
    eval: (env) => {
      try {
        const made = callBuilder(env, () => env.ctx.graph);
        if (made instanceof Node) recordOrigin(made, r.source.origin(at));
        return made;
      } catch (e) {
        if (e instanceof BuildFailure || e instanceof RaisedError) throw e;
        throw new BuildFailure({ severity: 'error', message: `${callee.display}: ${(e as Error).message}`, span: r.source.span(at) });
      }
    },
  };
}

/** Float and int32 tensors in one arithmetic operation: the int one needs an explicit float(). */
function mixedArithmetic(operands: readonly { param: Param; arg: Lowered }[], callee: Callee, r: Reporter): { message: string; at: Loc } | null {
  const arith = operands.filter((o) => 'accepts' in o.param && o.param.accepts === 'arith' && constantOf(o.arg) === undefined);
  const kindOf = (l: Lowered): Kind | undefined => (l.type.sort === 'tensor' ? l.type.kind : undefined);
  if (!arith.some((o) => kindOf(o.arg) === 'float')) return null;
  const int = arith.find((o) => kindOf(o.arg) === 'int');
  if (!int) return null;
  return { message: kindProblem('float', 'int', callee, int.param, r.source.quote(int.arg.at)) ?? '', at: int.arg.at };
}

const dimsOf = (l: Lowered | undefined): Dims => (l?.type.sort === 'tensor' || l?.type.sort === 'shape' ? l.type.dims : null);

function signature(f: DslFunction): string {
  return f.params.map((p) => (p.sort === 'pairs' || p.sort === 'tensors' ? `${p.name}...` : p.name)).join(', ');
}

function bindArguments(
  f: DslFunction,
  callee: Callee,
  args: readonly Arg[],
  at: Loc,
  r: Reporter,
): { param: Param; arg: Lowered | undefined; rest?: Lowered[] }[] | null {
  const slots = f.params.map((param) => ({ param, arg: undefined as Lowered | undefined, rest: [] as Lowered[] }));
  const positional = args.filter((a) => !a.keyword);
  const required = f.params.filter((p) => !p.optional).length;
  const isRest = (p: Param): boolean => p.sort === 'pairs' || p.sort === 'tensors';
  const variadic = f.params.some(isRest);
  const count = args.length;
  if (count < required || (!variadic && count > f.params.length)) {
    const range = variadic ? `at least ${required}` : required === f.params.length ? `${required}` : `${required} to ${f.params.length}`;
    r.error(`${callee.display} takes ${range} argument${range === '1' ? '' : 's'} (${signature(f)}), got ${count}`, at);
    return null;
  }
  let ok = true;
  positional.forEach((a, i) => {
    const slot = slots[Math.min(i, slots.length - 1)]!;
    if (isRest(slot.param)) slot.rest.push(a.value);
    else if (i < slots.length) slot.arg = a.value;
  });
  for (const a of args) {
    if (!a.keyword) continue;
    const slot = slots.find((s) => s.param.name === a.keyword!.name);
    if (!slot || isRest(slot.param)) {
      r.error(
        `${callee.display} has no parameter '${a.keyword.name}' (its parameters: ${signature(f)})`,
        a.keyword.at,
        didYouMean(
          a.keyword.name,
          f.params.map((p) => p.name),
        ),
      );
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
  return ok ? slots.map((s) => (isRest(s.param) ? { param: s.param, arg: undefined, rest: s.rest } : s)) : null;
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
    return {
      param,
      arg: undefined,
      operands: [],
      known: pairs.length ? null : undefined,
      get: (env) => pairs.map((p) => (p.eval(env) as Value[]).map((v) => (typeof v === 'number' ? env.ctx.graph.scalarConst(v) : v))),
    };
  }
  if (param.sort === 'tensors') {
    const rest = slot.rest ?? [];
    for (const a of rest) {
      if (a.type.sort === 'error') return null;
      const problem =
        a.type.sort !== 'tensor'
          ? notATensor(callee.display, r.source.quote(a.at), a.type)
          : kindProblem(param.accepts, a.type.kind, callee, param, r.source.quote(a.at));
      if (problem) {
        r.error(problem, a.at);
        return null;
      }
    }
    const known = rest.map(constantOf);
    return { param, arg: undefined, operands: rest, known: known.every((k) => k !== undefined) ? known : null, get: (env) => rest.map((a) => a.eval(env)) };
  }
  if (!arg) return { param, arg, operands: [], known: undefined, get: () => undefined };
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
      return { param, arg, operands: [arg], known: t.constant ?? null, get: (env) => arg.eval(env) };
    }
    case 'shape':
      if (t.sort === 'shape' || (t.sort === 'tensor' && t.constant === undefined))
        return { param, arg, operands: [], known: null, get: (env) => arg.eval(env) };
      return fail(`${what} must be a tensor (its shape is meant) or a shape such as affineShape(x, -1, 2, 1), but ${text} is ${describeType(t)}`);
    case 'int':
      if (t.sort !== 'tensor' || t.constant === undefined || !Number.isInteger(t.constant))
        return fail(`${what} must be an integer such as 1 or -1, but ${text} is ${describeType(t)}`);
      return { param, arg, operands: [], known: t.constant, get: () => t.constant };
    case 'axes': {
      const items = t.sort === 'tuple' ? t.items : [t];
      const axes = items.map((i) => (i.sort === 'tensor' && i.constant !== undefined && Number.isInteger(i.constant) ? i.constant : undefined));
      if (axes.some((a) => a === undefined)) return fail(`${what} must be an integer or a tuple of integers such as (0, 1), but ${text} is ${describeType(t)}`);
      return { param, arg, operands: [], known: axes, get: () => axes };
    }
    case 'flag':
      if (t.sort !== 'flag') return fail(`${what} must be true or false (or a bool option), but ${text} is ${describeType(t)}`);
      return { param, arg, operands: [], known: t.constant ?? null, get: (env) => arg.eval(env) };
    case 'text':
      if (t.sort !== 'text') return fail(`${what} must be a string such as 'mean' (or an option with such values), but ${text} is ${describeType(t)}`);
      return { param, arg, operands: [], known: t.constant ?? null, get: (env) => arg.eval(env) };
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
  if ((accepts === 'number' || accepts === 'arith') && kind !== 'bool') return null;
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
