// The TS front end's second half: the small tree dsl/tsFront.ts reads out of a TypeScript loss,
// and its evaluation when the loss's graph is built. Every operator and call becomes a call of
// a builder (through dsl/functions.ts, the table the .loss language calls too), so the graph is
// the one the same loss written with the builders makes. Plain numbers fold in float64;
// structural values (enum and bool options, whether a tensor option is given) choose branches of
// `c ? a : b` and `if` while the graph is built; conditions on tensors become `where`.
import type { Kind, Node } from '../compiler/ir/node.js';
import type { BuildContext } from '../compiler/loss.js';
import { FUNCTIONS, OPERATORS, type Accepts, type DslFunction } from './functions.js';
import { CompileError, type Span } from './diagnostics.js';
import { nameNode, quietAt, recordOrigin } from '../compiler/ir/origin.js';

/** A name's meaning: each declaration is one Binding object, so scopes resolve once, when reading. */
export interface Binding {
  readonly name: string;
  readonly what: 'input' | 'option' | 'const' | 'parameter';
}

export type BinaryOp = '+' | '-' | '*' | '/' | '**' | '<' | '<=' | '>' | '>=' | '==' | '!=' | '&&' | '||';

export type Expr =
  | { readonly k: 'num'; readonly value: number; readonly at: Span }
  | { readonly k: 'str'; readonly value: string; readonly at: Span }
  | { readonly k: 'bool'; readonly value: boolean; readonly at: Span }
  | { readonly k: 'null'; readonly at: Span }
  | { readonly k: 'ref'; readonly binding: Binding; readonly at: Span }
  | { readonly k: 'unary'; readonly op: '-' | '+' | '!'; readonly x: Expr; readonly at: Span }
  | { readonly k: 'binary'; readonly op: BinaryOp; readonly a: Expr; readonly b: Expr; readonly at: Span }
  | { readonly k: 'cond'; readonly test: Expr; readonly a: Expr; readonly b: Expr; readonly at: Span }
  /** a lossc function, by its name in functions.ts (and/or/not: OPERATORS) */
  | { readonly k: 'call'; readonly fn: string; readonly args: readonly Expr[]; readonly at: Span }
  /** a top-level helper function of the file, inlined */
  | { readonly k: 'inline'; readonly helper: Helper; readonly args: readonly Expr[]; readonly at: Span }
  | { readonly k: 'array'; readonly items: readonly Expr[]; readonly at: Span };

export type Stmt =
  | { readonly k: 'const'; readonly binding: Binding; readonly value: Expr; readonly at: Span }
  | { readonly k: 'return'; readonly value: Expr; readonly at: Span }
  | { readonly k: 'if'; readonly test: Expr; readonly then: readonly Stmt[]; readonly otherwise: readonly Stmt[]; readonly at: Span };

export interface Helper {
  readonly name: string;
  readonly params: readonly Binding[];
  /** filled in after reading (helpers may call helpers declared later) */
  body: readonly Stmt[];
  readonly at: Span;
}

/** A value while the graph is built. */
export type Value = Node | number | boolean | string | null | readonly Value[];

/** What build() needs besides the context: the file's top-level constants. */
export interface Program {
  readonly constants: readonly { readonly binding: Binding; readonly value: Expr }[];
  readonly body: readonly Stmt[];
  readonly at: Span;
  /** the file's lines: each node a call makes records where it came from (for the compiler's notes) */
  readonly lines?: readonly string[];
}

const fail = (message: string, at: Span): never => {
  throw new CompileError([{ severity: 'error', message, span: at }]);
};

const isNode = (v: Value): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

/** How a value reads in messages. */
function describe(v: Value): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (isNode(v)) return v.kind === 'int' ? 'an int tensor (class indices)' : v.kind === 'bool' ? 'a condition' : 'a float tensor';
  if (typeof v === 'string') return `the string '${v}'`;
  return `the ${typeof v} ${String(v)}`;
}

/** Build the loss's graph: bind inputs and options, evaluate the constants, then run the body. */
export function buildProgram(program: Program, ctx: BuildContext, bindings: ReadonlyMap<Binding, (ctx: BuildContext) => Value>): Node {
  const env = new Env(ctx, program.lines);
  for (const [b, get] of bindings) env.values.set(b, get(ctx));
  for (const c of program.constants) env.values.set(c.binding, env.eval(c.value));
  const result = env.run(program.body);
  if (result === undefined) return fail('the loss must end with a return', program.at);
  if (!isNode(result.value) || result.value.kind !== 'float')
    return fail(`the loss must return a float tensor, but this is ${describe(result.value)}`, result.at);
  return result.value;
}

class Env {
  readonly values = new Map<Binding, Value>();
  private readonly inlining: Helper[] = [];
  constructor(
    readonly ctx: BuildContext,
    private readonly lines?: readonly string[],
  ) {}

  /** Where a node made at `at` came from: the span, its text (its first line), a disable comment above it. */
  private remember(v: Value, at: Span): Value {
    if (!this.lines || !isNode(v)) return v;
    const line = this.lines[at.line - 1] ?? '';
    const text = line.slice(at.column - 1, at.column - 1 + at.length).trim();
    recordOrigin(v, { ...at, text: text.length > 40 ? `${text.slice(0, 37)}...` : text, ...(quietAt(this.lines, at.line) ? { quiet: true } : {}) });
    return v;
  }

  /** Statements in order; the value of the first return reached (undefined: none). */
  run(stmts: readonly Stmt[]): { value: Value; at: Span } | undefined {
    for (const s of stmts) {
      if (s.k === 'const') {
        const v = this.eval(s.value);
        if (isNode(v)) nameNode(v, s.binding.name); // notes call it by its name
        this.values.set(s.binding, v);
      } else if (s.k === 'return') return { value: this.eval(s.value), at: s.value.at };
      else {
        const test = this.eval(s.test);
        if (typeof test !== 'boolean') {
          return fail(
            isNode(test)
              ? `'if' chooses while the graph is built, on options; this condition is ${describe(test)} (per element): use c ? a : b, which is where(c, a, b)`
              : `an 'if' condition must be true or false, but this is ${describe(test)}`,
            s.test.at,
          );
        }
        const r = this.run(test ? s.then : s.otherwise);
        if (r) return r;
      }
    }
    return undefined;
  }

  eval(e: Expr): Value {
    switch (e.k) {
      case 'num':
      case 'str':
      case 'bool':
        return e.value;
      case 'null':
        return null;
      case 'ref': {
        if (!this.values.has(e.binding)) return fail(`'${e.binding.name}' is used before it is defined`, e.at);
        return this.values.get(e.binding)!;
      }
      case 'array':
        return e.items.map((i) => this.eval(i));
      case 'unary':
        return this.unary(e.op, this.eval(e.x), e);
      case 'binary':
        return this.binary(e);
      case 'cond': {
        const test = this.eval(e.test);
        if (typeof test === 'boolean') return this.eval(test ? e.a : e.b); // structural: only one branch is built
        if (!isNode(test) || test.kind !== 'bool') return fail(`the condition of '? :' must be a comparison, but this is ${describe(test)}`, e.test.at);
        return this.call('where', FUNCTIONS.where!, [test, this.eval(e.a), this.eval(e.b)], [e.test, e.a, e.b], e.at, '? :');
      }
      case 'call':
        return this.call(
          e.fn,
          FUNCTIONS[e.fn] ?? OPERATORS[e.fn]!,
          e.args.map((a) => this.eval(a)),
          e.args,
          e.at,
          e.fn,
        );
      case 'inline': {
        const h = e.helper;
        if (this.inlining.includes(h)) return fail(`${h.name} calls itself: a loss's functions are inlined, so they cannot recurse`, e.at);
        if (e.args.length !== h.params.length)
          return fail(`${h.name} takes ${h.params.length} argument${h.params.length === 1 ? '' : 's'}, got ${e.args.length}`, e.at);
        const args = e.args.map((a) => this.eval(a));
        const saved = h.params.map((p) => this.values.get(p));
        h.params.forEach((p, i) => this.values.set(p, args[i]!));
        this.inlining.push(h);
        try {
          const r = this.run(h.body);
          if (r === undefined) return fail(`${h.name} must end with a return`, h.at);
          return r.value;
        } finally {
          this.inlining.pop();
          h.params.forEach((p, i) => (saved[i] === undefined ? this.values.delete(p) : this.values.set(p, saved[i]!)));
        }
      }
    }
  }

  private unary(op: '-' | '+' | '!', x: Value, e: Expr & { k: 'unary' }): Value {
    if (op === '!') {
      if (typeof x === 'boolean') return !x;
      return this.call('not', OPERATORS.not!, [x], [e.x], e.at, '!');
    }
    if (typeof x === 'number') return op === '-' ? -x : x;
    if (op === '+') return isNode(x) && x.kind !== 'bool' ? x : fail(`unary '+' needs a number or a tensor, but this is ${describe(x)}`, e.x.at);
    return this.call('neg', OPERATORS['unary -']!, [x], [e.x], e.at, 'unary -');
  }

  private binary(e: Expr & { k: 'binary' }): Value {
    const { op } = e;
    if (op === '&&' || op === '||') {
      const a = this.eval(e.a);
      if (typeof a === 'boolean') {
        if (op === '&&' ? !a : a) return a; // short-circuit, as in TypeScript: `weight !== null && ...`
        return this.eval(e.b);
      }
      const b = this.eval(e.b);
      if (typeof b === 'boolean') return op === '&&' ? (b ? a : false) : b ? true : a;
      return this.call(op === '&&' ? 'and' : 'or', OPERATORS[op === '&&' ? 'and' : 'or']!, [a, b], [e.a, e.b], e.at, op);
    }
    const a = this.eval(e.a);
    const b = this.eval(e.b);
    if (op === '==' || op === '!=') {
      // null, strings and bools are known while the graph is built: compare them now
      const staticSide = (v: Value): boolean => v === null || typeof v === 'string' || typeof v === 'boolean';
      if (staticSide(a) || staticSide(b)) {
        if (isNode(a) || isNode(b)) {
          if (a === null || b === null) return op === '!=';
          return fail(`'${op === '==' ? '===' : '!=='}' compares ${describe(a)} with ${describe(b)}`, e.at);
        }
        return op === '==' ? a === b : a !== b;
      }
    }
    if (typeof a === 'number' && typeof b === 'number') return fold(op, a, b);
    const f = OPERATORS[op]!;
    return this.call(op, f, [a, b], [e.a, e.b], e.at, `'${tsSpelling(op)}'`);
  }

  /** Call a builder: check each argument against its parameter's sort, lift numbers, report a builder's error at the call. */
  private call(name: string, f: DslFunction, values: readonly Value[], exprs: readonly Expr[], at: Span, display: string): Value {
    const args: unknown[] = [];
    // a whole number next to an int tensor is an int constant (index arithmetic such as 2 * n + 1)
    const intContext = values.some((v) => isNode(v) && v.kind === 'int');
    f.params.forEach((p, i) => {
      if (p.sort === 'tensors') {
        for (let j = i; j < values.length; j++) args.push(this.tensorArgument(values[j]!, p.accepts, display, exprs[j]!.at, refName(exprs[j]!), intContext));
        return;
      }
      if (p.sort === 'pairs') {
        for (let j = i; j < values.length; j++) {
          const pair = values[j]!;
          if (!Array.isArray(pair) || pair.length !== 2 || !pair.every(isNode))
            fail(`each partial of ${display} is a pair [x, dx] of tensors, but this is ${describe(pair)}`, exprs[j]!.at);
          args.push(pair);
        }
        return;
      }
      const v = values[i];
      if (v === undefined) {
        args.push(undefined);
        return;
      }
      const where = exprs[i]!.at;
      const what = `${display === name ? name : display}${f.params.length > 1 && !['a', 'b', 'x'].includes(p.name) ? ` (${p.name})` : ''}`;
      switch (p.sort) {
        case 'tensor':
          args.push(this.tensorArgument(v, p.accepts, what, where, refName(exprs[i]!), intContext));
          return;
        case 'shape':
          // a tensor stands for its shape
          if (!isNode(v)) fail(`${what} needs a tensor (for its shape), but this is ${describe(v)}`, where);
          args.push(v);
          return;
        case 'int':
          if (typeof v !== 'number' || !Number.isInteger(v))
            fail(`${what} must be an integer known when the graph is built, such as 1 or -1, but this is ${describe(v)}`, where);
          args.push(v);
          return;
        case 'axes': {
          const axes = typeof v === 'number' ? [v] : v;
          if (!Array.isArray(axes) || !axes.every((a) => typeof a === 'number' && Number.isInteger(a)))
            fail(`${what} must be an integer or an array of integers such as [0, 1], but this is ${describe(v)}`, where);
          args.push(axes);
          return;
        }
        case 'flag':
          if (typeof v !== 'boolean') fail(`${what} must be true or false (or a boolean option), but this is ${describe(v)}`, where);
          args.push(v);
          return;
        case 'text':
          if (typeof v !== 'string') fail(`${what} must be a string such as 'mean' (or an option with such values), but this is ${describe(v)}`, where);
          args.push(v);
          return;
        default:
          fail(`${display} cannot be called from TypeScript (its parameter '${(p as { name: string }).name}' is a ${(p as { sort: string }).sort})`, at);
      }
    });
    while (args.length && args[args.length - 1] === undefined) args.pop(); // omitted: the builder's default
    try {
      return this.remember((f.builder as unknown as (...a: unknown[]) => Node)(...args), at);
    } catch (e) {
      if (e instanceof CompileError) throw e;
      return fail(`${display}: ${(e as Error).message}`, at);
    }
  }

  private tensorArgument(v: Value, accepts: Accepts, what: string, at: Span, text: string, intContext = false): Node {
    const g = this.ctx.graph;
    if (typeof v === 'number') return g.constant(v, intContext && accepts !== 'float' && Number.isInteger(v) ? 'int' : 'float');
    if (typeof v === 'boolean') return g.scalarConst(v);
    if (!isNode(v)) {
      if (v === null) return fail(`${what} needs a tensor, but this may be null here: test it first (x !== null ? ... : ...)`, at);
      return fail(`${what} needs a tensor, but this is ${describe(v)}`, at);
    }
    const ok: Readonly<Record<string, readonly Kind[]>> = {
      float: ['float'],
      number: ['float', 'int'],
      arith: ['float', 'int'],
      bool: ['bool'],
      int: ['int'],
      any: ['float', 'int', 'bool'],
    };
    if ((ok[accepts] ?? ok.any!).includes(v.kind)) return v;
    const hint = v.kind === 'int' ? `: use float(${text}) for arithmetic on indices` : v.kind === 'bool' ? `: use c ? a : b, or float(${text})` : '';
    const wanted =
      accepts === 'number' || accepts === 'arith'
        ? 'a float or int tensor'
        : accepts === 'bool'
          ? 'a condition (a comparison)'
          : accepts === 'int'
            ? 'an int tensor of indices (IntTensor)'
            : 'a float tensor';
    return fail(`${what} needs ${wanted}, but this is ${describe(v)}${hint}`, at);
  }
}

const refName = (e: Expr): string => (e.k === 'ref' ? e.binding.name : 'x');
const tsSpelling = (op: BinaryOp): string => (op === '==' ? '===' : op === '!=' ? '!==' : op);

/** Arithmetic and comparisons on plain numbers, in float64, as TypeScript computes them. */
function fold(op: BinaryOp, a: number, b: number): number | boolean {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    case '**':
      return a ** b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    default:
      return fail(`internal error: cannot fold ${op}`, { file: '', line: 1, column: 1, length: 1 });
  }
}
