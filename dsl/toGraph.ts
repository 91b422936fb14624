// The CST visitor: a parsed .loss file -> LossDefs (compiler/loss.ts). Declarations become
// specs (inputs, options, checks); expressions are lowered (lower.ts) into typed closures that
// call the builders when a loss's graph is built. Every mistake is a diagnostic with a span.
//
// Top-level `type` and `fn` declarations are read before the losses, so their order does not
// matter. Inside a loss, names must be defined before use and are never redefined.
import type { CstNode, IToken } from 'chevrotain';
import type { InputCheck, InputSpec, LossDef, OptionSpec } from '../compiler/loss.js';
import type { Node } from '../compiler/ir/node.js';
import { CompileError, type Diagnostic } from './diagnostics.js';
import { BaseLossVisitor } from './grammar.js';
import { CHECKS, CONSTANTS, FUNCTIONS } from './functions.js';
import { BuildFailure, didYouMean, errorValue, Reporter, Scope, type Binding, type Env, type Loc, type Lowered, type Source } from './lower.js';
import { applyFunction, type Arg } from './calls.js';
import { binary, logical, logicalNot, negative } from './operators.js';
import { child, childrenLoc, elementLoc, first, inSourceOrder, isToken, nodes, tokenLoc, tokens, unquote, type Children } from './cst.js';
import { ELEMENT_KINDS, needsDimsCheck, readOption, staticDims, withShapeLike, type DeclaredDim, type OptionType, type TensorTypeDecl } from './declarations.js';
import { ERROR, describeType, joinTypes, scalarFloat, tensorOf } from './types.js';

const WHAT: Readonly<Record<Binding['what'], string>> = { input: 'an input', option: 'an option', let: 'a value', parameter: 'a parameter' };

interface FnDecl {
  readonly name: string;
  readonly params: readonly { readonly name: string; readonly at: Loc }[];
  readonly body: CstNode;
}

/** A loss being read: its scope and the specs gathered so far. */
interface LossState {
  readonly name: string;
  readonly scope: Scope;
  readonly options: OptionSpec[];
  readonly checks: InputCheck[];
  doc?: string;
  result?: Lowered;
  statements: number;
}

export interface ReadLoss {
  readonly def: LossDef;
  readonly at: Loc;
}

export function toLossDefs(cst: CstNode, source: Source): { losses: ReadLoss[]; diagnostics: Diagnostic[] } {
  const visitor = new FileVisitor(source);
  const losses = visitor.readFile(cst.children);
  return { losses, diagnostics: visitor.report.diagnostics };
}

class FileVisitor extends BaseLossVisitor {
  readonly report: Reporter;
  private readonly types = new Map<string, { values: readonly string[]; at: Loc }>();
  private readonly fns = new Map<string, FnDecl>();
  /** fns being inlined, innermost last: a call of one of these would never end */
  private readonly inlining: string[] = [];

  constructor(readonly source: Source) {
    super();
    this.report = new Reporter(source);
    this.validateVisitor();
  }

  private expr(n: CstNode, scope: Scope): Lowered {
    return this.visit(n, scope) as Lowered;
  }

  // ---------------------------------------------------------------- the file

  readFile(c: Children): ReadLoss[] {
    for (const n of nodes(c, 'typeDeclaration')) this.visit(n);
    for (const n of nodes(c, 'functionDeclaration')) this.visit(n);
    // a fn body's names are checked once here; its types at each call
    for (const f of this.fns.values()) this.inline(f, f.params.map((p) => ({ value: { type: ERROR, at: p.at, eval: () => null } })), elementLoc(f.body));
    const losses: ReadLoss[] = [];
    const seen = new Map<string, Loc>();
    for (const n of nodes(c, 'lossDeclaration')) {
      const nameTok = first(n.children, 'name');
      const earlier = seen.get(nameTok.image);
      if (earlier) this.report.error(`loss '${nameTok.image}' is already defined`, tokenLoc(nameTok), [{ message: 'first defined here', span: this.source.span(earlier) }]);
      seen.set(nameTok.image, tokenLoc(nameTok));
      const def = this.visit(n) as LossDef | null;
      if (def && !earlier) losses.push({ def, at: tokenLoc(nameTok) });
    }
    return losses;
  }

  file(): void {
    throw new Error('internal error: use readFile');
  }

  typeDeclaration(c: Children): void {
    const name = first(c, 'name');
    const values = this.visit(child(c, 'enumType')) as string[];
    const earlier = this.types.get(name.image);
    if (earlier || ELEMENT_KINDS[name.image]) this.report.error(`type '${name.image}' is already defined`, tokenLoc(name));
    else this.types.set(name.image, { values, at: tokenLoc(name) });
  }

  enumType(c: Children): string[] {
    const strings = tokens(c, 'StringLiteral');
    const values = strings.map(unquote);
    strings.forEach((s, i) => {
      if (values.indexOf(values[i]!) !== i) this.report.error(`'${values[i]}' is listed twice`, tokenLoc(s));
    });
    return values;
  }

  functionDeclaration(c: Children): void {
    const name = first(c, 'name');
    const params = tokens(c, 'parameter').map((p) => ({ name: p.image, at: tokenLoc(p) }));
    params.forEach((p, i) => {
      if (params.findIndex((q) => q.name === p.name) !== i) this.report.error(`parameter '${p.name}' is listed twice`, p.at);
    });
    if (FUNCTIONS[name.image]) this.report.error(`fn '${name.image}' would hide the built-in function ${name.image}`, tokenLoc(name));
    else if (this.fns.has(name.image)) this.report.error(`fn '${name.image}' is already defined`, tokenLoc(name));
    else this.fns.set(name.image, { name: name.image, params, body: child(c, 'expression') });
  }

  // ---------------------------------------------------------------- a loss

  lossDeclaration(c: Children): LossDef | null {
    const reportsBefore = this.report.reports;
    const nameTok = first(c, 'name');
    const state: LossState = { name: nameTok.image, scope: new Scope(null), options: [], checks: [], statements: 0 };
    const declared: { spec: InputSpec; dims: readonly DeclaredDim[] | null }[] = [];
    for (const n of nodes(c, 'inputDeclaration')) {
      const input = this.visit(n, state) as { spec: InputSpec; dims: readonly DeclaredDim[] | null } | null;
      if (input) declared.push(input);
    }
    const inputs = declared.map(({ spec, dims }, i) => withShapeLike(spec, dims, declared.slice(0, i)));
    this.visit(child(c, 'lossBody'), state);
    const result = state.result;
    if (!result) this.report.error(`${state.name} has no return statement: end its body with 'return <the loss>'`, tokenLoc(nameTok));
    else if (result.type.sort !== 'error' && (result.type.sort !== 'tensor' || result.type.kind !== 'float' || result.type.constant !== undefined)) {
      this.report.error(`${state.name} must return a float tensor computed from its inputs, but this is ${describeType(result.type)}`, result.at);
    }
    if (!result || this.report.reports > reportsBefore) return null;
    const source = this.source;
    return {
      name: state.name,
      doc: state.doc ?? `${state.name} (${source.file})`,
      inputs,
      options: state.options,
      ...(state.checks.length ? { checks: state.checks } : {}),
      build: (ctx) => {
        const env: Env = { ctx, values: new Map() };
        try {
          const out = result.eval(env) as Node | number; // a branch may be a plain number
          return typeof out === 'number' ? ctx.graph.scalarConst(out) : out;
        } catch (e) {
          if (e instanceof BuildFailure) throw new CompileError([e.diagnostic], new Map([[source.file, source.text]]));
          throw e;
        }
      },
    };
  }

  inputDeclaration(c: Children, state: LossState): { spec: InputSpec; dims: readonly DeclaredDim[] | null } | null {
    const name = first(c, 'name');
    const type = this.visit(child(c, 'tensorType')) as TensorTypeDecl;
    const kind = ELEMENT_KINDS[type.element.image];
    const at = tokenLoc(name);
    if (kind !== 'float' && kind !== 'int') {
      state.scope.define({ name: name.image, type: ERROR, at, what: 'input', eval: () => null }, this.report);
      this.report.error(
        kind === 'bool' ? `input '${name.image}' cannot be bool: inputs are float or int32 tensors` : `unknown element type '${type.element.image}' (expected f32, f64, float, i32 or int)`,
        tokenLoc(type.element),
        kind ? [] : didYouMean(type.element.image, Object.keys(ELEMENT_KINDS)),
      );
      return null;
    }
    const binding: Binding = { name: name.image, type: tensorOf(kind, staticDims(type.dims)), at, what: 'input', eval: (env) => env.ctx.input(name.image) };
    state.scope.define(binding, this.report);
    if (needsDimsCheck(type.dims)) state.checks.push({ kind: 'dims', input: name.image, dims: type.dims });
    return { spec: tokens(c, 'Nograd').length ? { name: name.image, kind, differentiable: false } : { name: name.image, kind }, dims: type.dims };
  }

  tensorType(c: Children): TensorTypeDecl {
    const element = first(c, 'element');
    if (!c.LBracket) return { element, dims: null };
    const dims = nodes(c, 'dimension').map((d) => this.visit(d) as DeclaredDim);
    const stars = dims.filter((d) => d === '*').length;
    if (stars > 1) this.report.error("a shape has at most one '*' (any number of axes)", childrenLoc(c));
    return { element, dims };
  }

  dimension(c: Children): DeclaredDim {
    const t = tokens(c, 'Identifier')[0] ?? tokens(c, 'NumberLiteral')[0] ?? first(c, 'Star');
    if (t.tokenType.name !== 'NumberLiteral') return t.image;
    const size = Number(t.image);
    if (!Number.isInteger(size) || size < 0) this.report.error(`a dimension's size must be a whole number, got ${t.image}`, tokenLoc(t));
    return size;
  }

  lossBody(c: Children, state: LossState): void {
    for (const e of inSourceOrder(c, ['doc', 'optionDeclaration', 'checkStatement', 'letStatement', 'returnStatement'])) {
      if (state.result) {
        this.report.error(`nothing may follow the return statement of ${state.name}`, elementLoc(e));
        break;
      }
      if (isToken(e)) {
        if (state.statements === 0) state.doc = unquote(e);
        else this.report.error("a string on its own is only allowed first in a loss, as its description", tokenLoc(e));
      } else if (e.name === 'letStatement') this.visit(e, state.scope);
      else this.visit(e, state);
      state.statements++;
    }
  }

  optionDeclaration(c: Children, state: LossState): void {
    const nameTok = first(c, 'name');
    const type = this.visit(child(c, 'optionType')) as OptionType;
    const dflt = this.expr(child(c, 'default'), state.scope);
    if (dflt.type.sort === 'error') return;
    const option = readOption(nameTok.image, type, dflt, this.types, this.report);
    if (!option) return;
    state.options.push(option.spec);
    if (option.check) state.checks.push(option.check);
    state.scope.define({ name: nameTok.image, type: option.type, at: tokenLoc(nameTok), what: 'option', eval: option.eval }, this.report);
  }

  optionType(c: Children): OptionType {
    if (c.enumType) return { enumValues: this.visit(child(c, 'enumType')) as string[] };
    return { tensor: this.visit(child(c, 'tensorType')) as TensorTypeDecl, optional: tokens(c, 'Question').length > 0 };
  }

  checkStatement(c: Children, state: LossState): void {
    const kindTok = first(c, 'kind');
    const kind = CHECKS[kindTok.image];
    const args = c.arguments ? (this.visit(child(c, 'arguments'), state.scope) as Arg[]) : [];
    if (!kind) {
      this.report.error(`unknown check '${kindTok.image}' (checks: ${Object.keys(CHECKS).join(', ')})`, tokenLoc(kindTok), didYouMean(kindTok.image, Object.keys(CHECKS)));
      return;
    }
    const signature = kind.params.map((p) => p.name).join(', ');
    if (args.length !== kind.params.length || args.some((a) => a.keyword)) {
      this.report.error(`check ${kindTok.image} takes ${kind.params.length} argument${kind.params.length === 1 ? '' : 's'} by position (${signature}), got ${args.length}`, childrenLoc(c));
      return;
    }
    const values: (string | number)[] = [];
    kind.params.forEach((p, i) => {
      const a = args[i]!.value;
      if (a.type.sort === 'error') return;
      const isTensorName = a.binding && (a.binding.what === 'input' || a.binding.type.sort === 'optional');
      if (p.sort === 'tensor' && isTensorName) values.push(a.binding!.name);
      else if (p.sort === 'number' && a.type.sort === 'tensor' && a.type.constant !== undefined) values.push(a.type.constant);
      else this.report.error(`'${p.name}' of check ${kindTok.image} must be ${p.sort === 'tensor' ? 'the name of an input or tensor option' : 'a number'}, but ${this.source.quote(a.at)} is not`, a.at);
    });
    if (values.length === kind.params.length) state.checks.push(kind.make(values, unquote(first(c, 'message'))));
  }

  /** let name = value: evaluated when first used while building (so unused lets add nothing). */
  letStatement(c: Children, scope: Scope): void {
    const nameTok = first(c, 'name');
    const value = this.expr(child(c, 'expression'), scope);
    const binding: Binding = {
      name: nameTok.image,
      type: value.type,
      at: tokenLoc(nameTok),
      what: 'let',
      eval: (env) => {
        if (!env.values.has(binding)) env.values.set(binding, value.eval(env));
        return env.values.get(binding)!;
      },
    };
    if (CONSTANTS[nameTok.image] !== undefined) this.report.error(`'${nameTok.image}' is a built-in constant`, binding.at);
    else scope.define(binding, this.report);
  }

  returnStatement(c: Children, state: LossState): void {
    state.result = this.expr(child(c, 'expression'), state.scope);
  }

  // ---------------------------------------------------------------- expressions

  expression(c: Children, scope: Scope): Lowered {
    return this.expr(child(c, c.ifExpression ? 'ifExpression' : 'disjunction'), scope);
  }

  ifExpression(c: Children, scope: Scope): Lowered {
    const at = childrenLoc(c);
    const cond = this.expr(child(c, 'condition'), scope);
    const then = this.expr(child(c, 'then'), scope.narrowed(cond.narrows?.whenTrue));
    const elseScope = scope.narrowed(cond.narrows?.whenFalse);
    const otherwise = this.expr(child(c, c.elseIf ? 'elseIf' : 'else'), elseScope);
    if (cond.type.sort !== 'flag') {
      if (cond.type.sort !== 'error') {
        const hint =
          cond.type.sort === 'tensor' ? '; to choose per element by tensor values use where(condition, a, b)'
          : cond.type.sort === 'optional' ? `; write 'if ${this.source.quote(cond.at)} != none'` : '';
        this.report.error(`the condition of 'if' must be known when the graph is built (a bool option, an option compared with ==, or 'weight != none'), but ${this.source.quote(cond.at)} is ${describeType(cond.type)}${hint}`, cond.at);
      }
      return errorValue(at);
    }
    const type = joinTypes(then.type, otherwise.type);
    if (!type) {
      this.report.error(`the branches of 'if' give different kinds of value: ${describeType(then.type)} and ${describeType(otherwise.type)}`, at);
      return errorValue(at);
    }
    return { type, at, eval: (env) => (cond.eval(env) ? then.eval(env) : otherwise.eval(env)) };
  }

  block(c: Children, scope: Scope): Lowered {
    const inner = scope.narrowed();
    for (const n of nodes(c, 'letStatement')) this.visit(n, inner);
    return this.expr(child(c, 'expression'), inner);
  }

  disjunction(c: Children, scope: Scope): Lowered {
    return nodes(c, 'conjunction').map((n) => this.expr(n, scope)).reduce((a, b) => logical('or', a, b, this.report));
  }

  conjunction(c: Children, scope: Scope): Lowered {
    return nodes(c, 'negation').map((n) => this.expr(n, scope)).reduce((a, b) => logical('and', a, b, this.report));
  }

  negation(c: Children, scope: Scope): Lowered {
    if (c.Not) return logicalNot(this.expr(child(c, 'negation'), scope), childrenLoc(c), this.report);
    return this.expr(child(c, 'comparison'), scope);
  }

  comparison(c: Children, scope: Scope): Lowered {
    const [lhs, rhs, third] = nodes(c, 'additive').map((n) => this.expr(n, scope));
    if (third) {
      const [a, b] = tokens(c, 'ComparisonOperator').map((t) => t.image);
      const [x, y, z] = [lhs!, rhs!, third].map((l) => this.source.quote(l.at));
      this.report.error(`comparisons do not chain: write ${x} ${a} ${y} and ${y} ${b} ${z}`, childrenLoc(c));
      return errorValue(childrenLoc(c));
    }
    return rhs ? binary(first(c, 'ComparisonOperator').image, lhs!, rhs, this.report) : lhs!;
  }

  additive(c: Children, scope: Scope): Lowered {
    return this.leftAssociative(nodes(c, 'multiplicative'), tokens(c, 'AdditiveOperator'), scope);
  }

  multiplicative(c: Children, scope: Scope): Lowered {
    return this.leftAssociative(nodes(c, 'unary'), tokens(c, 'MultiplicativeOperator'), scope);
  }

  private leftAssociative(operands: CstNode[], operators: IToken[], scope: Scope): Lowered {
    const values = operands.map((n) => this.expr(n, scope));
    return values.reduce((acc, v, i) => binary(operators[i - 1]!.image, acc, v, this.report));
  }

  unary(c: Children, scope: Scope): Lowered {
    if (!c.AdditiveOperator) return this.expr(child(c, 'power'), scope);
    const x = this.expr(child(c, 'unary'), scope);
    return first(c, 'AdditiveOperator').image === '-' ? negative(x, childrenLoc(c), this.report) : x;
  }

  power(c: Children, scope: Scope): Lowered {
    const base = this.expr(child(c, 'primary'), scope);
    if (!c.PowerOperator) return base;
    return binary(first(c, 'PowerOperator').image, base, this.expr(child(c, 'exponent'), scope), this.report);
  }

  primary(c: Children, scope: Scope): Lowered {
    const sub = nodes(c, 'nameOrCall')[0] ?? nodes(c, 'parenthesized')[0];
    if (sub) return this.expr(sub, scope);
    const t = inSourceOrder(c, Object.keys(c))[0] as IToken;
    const at = tokenLoc(t);
    switch (t.tokenType.name) {
      case 'NumberLiteral': {
        // a trailing f rounds to float32: torch's C++ float constants, such as BCE's 1e-12
        const value = t.image.endsWith('f') ? Math.fround(Number(t.image.slice(0, -1))) : Number(t.image);
        return { type: scalarFloat(value), at, eval: () => value };
      }
      case 'StringLiteral': {
        const s = unquote(t);
        return { type: { sort: 'text', values: [s], constant: s }, at, eval: () => s };
      }
      case 'True':
      case 'False': {
        const b = t.tokenType.name === 'True';
        return { type: { sort: 'flag', constant: b }, at, eval: () => b };
      }
      default:
        return { type: { sort: 'none' }, at, eval: () => null };
    }
  }

  nameOrCall(c: Children, scope: Scope): Lowered {
    const nameTok = first(c, 'name');
    const name = nameTok.image;
    const at = childrenLoc(c);
    if (!c.LParen) return this.reference(name, at, scope);
    const args = c.arguments ? (this.visit(child(c, 'arguments'), scope) as Arg[]) : [];
    const user = this.fns.get(name);
    if (user) return this.inline(user, args, at);
    const f = FUNCTIONS[name];
    if (f) return applyFunction(f, { display: name, isOperator: false }, args, at, this.report);
    const b = scope.lookup(name);
    if (b) this.report.error(`'${name}' is ${WHAT[b.what]}, not a function`, tokenLoc(nameTok));
    else this.report.error(`unknown function '${name}'`, tokenLoc(nameTok), didYouMean(name, [...Object.keys(FUNCTIONS), ...this.fns.keys()]));
    return errorValue(at);
  }

  private reference(name: string, at: Loc, scope: Scope): Lowered {
    const b = scope.lookup(name);
    if (b) return { type: b.type, at, eval: b.eval, binding: b };
    const constant = CONSTANTS[name];
    if (constant !== undefined) return { type: scalarFloat(constant), at, eval: () => constant };
    if (FUNCTIONS[name] || this.fns.has(name)) this.report.error(`'${name}' is a function: call it, as in ${name}(...)`, at);
    else this.report.error(`unknown name '${name}'`, at, didYouMean(name, [...scope.visibleNames(), ...Object.keys(CONSTANTS)]));
    return errorValue(at);
  }

  /** A call of a user fn: its body, lowered again here with the arguments' types. */
  private inline(f: FnDecl, args: readonly Arg[], at: Loc): Lowered {
    const wanted = `${f.params.length} argument${f.params.length === 1 ? '' : 's'} (${f.params.map((p) => p.name).join(', ')})`;
    if (args.some((a) => a.keyword) || args.length !== f.params.length) {
      this.report.error(`${f.name} takes ${wanted} by position, got ${args.length}`, at);
      return errorValue(at);
    }
    if (this.inlining.includes(f.name)) {
      this.report.error(`${f.name} calls itself: fn bodies cannot be recursive`, at);
      return errorValue(at);
    }
    const scope = new Scope(null); // a fn sees its parameters and the constants, nothing of the loss
    const bindings = f.params.map((p, i): Binding => {
      const b: Binding = { name: p.name, type: args[i]!.value.type, at: p.at, what: 'parameter', eval: (env) => env.values.get(b)! };
      return b;
    });
    bindings.forEach((b) => scope.define(b, this.report));
    this.inlining.push(f.name);
    const body = this.expr(f.body, scope);
    this.inlining.pop();
    if (body.type.sort === 'error') return errorValue(at);
    return {
      type: body.type,
      at,
      eval: (env) => {
        bindings.forEach((b, i) => env.values.set(b, args[i]!.value.eval(env)));
        return body.eval(env);
      },
    };
  }

  arguments(c: Children, scope: Scope): Arg[] {
    return nodes(c, 'argument').map((n) => this.visit(n, scope) as Arg);
  }

  argument(c: Children, scope: Scope): Arg {
    const value = this.expr(child(c, 'expression'), scope);
    const keyword = tokens(c, 'keyword')[0];
    return keyword ? { keyword: { name: keyword.image, at: tokenLoc(keyword) }, value } : { value };
  }

  parenthesized(c: Children, scope: Scope): Lowered {
    const at = childrenLoc(c);
    const items = nodes(c, 'expression').map((n) => this.expr(n, scope));
    if (items.length === 1 && !c.Comma) return { ...items[0]!, at };
    if (items.some((i) => i.type.sort === 'error')) return errorValue(at);
    return { type: { sort: 'tuple', items: items.map((i) => i.type) }, at, eval: (env) => items.map((i) => i.eval(env)) };
  }
}
