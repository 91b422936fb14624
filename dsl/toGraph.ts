// The CST visitor: a parsed .loss file -> LossDefs (compiler/loss.ts). Declarations become
// specs (inputs, options, checks); expressions are lowered (lower.ts) into typed closures that
// call the builders when a loss's graph is built. Every mistake is a diagnostic with a span.
//
// Top-level `type` and `fn` declarations are read before the losses, so their order does not
// matter. Inside a loss, names must be defined before use and are never redefined. Several
// `loss` declarations of one name whose inputs differ in element type are one loss with
// overloads (the first declared is primary), chosen at each call by the tensors' dtypes.
import type { CstNode, IToken } from './chevrotain.js';
import type { InputCheck, InputSpec, LossDef, OptionSpec } from '../compiler/loss.js';
import { Node } from '../compiler/ir/node.js';
import { nameNode } from '../compiler/ir/origin.js';
import { CompileError, type Diagnostic } from './diagnostics.js';
import { BaseLossVisitor } from './grammar.js';
import { CONSTANTS, FUNCTIONS } from './functions.js';
import { bindCheck, CHECKS } from './checks.js';
import {
  BuildFailure,
  didYouMean,
  errorValue,
  OptionFunctionError,
  RaisedError,
  Reporter,
  Scope,
  type Binding,
  type Env,
  type Loc,
  type Lowered,
  type Source,
  type Value,
} from './lower.js';
import { applyFunction, type Arg } from './calls.js';
import { binary, logical, logicalNot, negative } from './operators.js';
import { child, childrenLoc, elementLoc, first, inSourceOrder, isToken, nodes, tokenLoc, tokens, unquote, type Children } from './cst.js';
import {
  ELEMENT_KINDS,
  needsDimsCheck,
  readOption,
  redundantOptionCheck,
  staticDims,
  withShapeLike,
  type DeclaredDim,
  type LikeShape,
  type OptionExtras,
  type OptionType,
  type TensorTypeDecl,
} from './declarations.js';
import { lowerScan, type ScanOperand } from './scan.js';
import { ERROR, describeType, joinTypes, reducedDims, scalarFloat, tensorOf, type Dims } from './types.js';

const WHAT: Readonly<Record<Binding['what'], string>> = { input: 'an input', option: 'an option', let: 'a value', parameter: 'a parameter' };

interface FnDecl {
  readonly name: string;
  readonly params: readonly { readonly name: string; readonly at: Loc }[];
  /** an expression, or a block `{ lets; value }` */
  readonly body: CstNode;
}

/** An input as declared: its spec, declared sizes and what the checker knows of its shape. */
interface DeclaredInput {
  readonly spec: InputSpec;
  readonly dims: readonly DeclaredDim[] | null;
  readonly staticDims: Dims;
}

/** A loss being read: its scope and the specs gathered so far. */
interface LossState {
  readonly name: string;
  readonly scope: Scope;
  readonly inputs: DeclaredInput[];
  readonly options: OptionSpec[];
  readonly checks: InputCheck[];
  /** declared sizes of tensor options, by name */
  readonly optionDims: Map<string, readonly DeclaredDim[]>;
  doc?: string;
  result?: Lowered;
  statements: number;
}

/** How many operands of a left-associative chain one eval call may recurse through. */
const CHAIN_STEP = 64;

/** `l` with its value kept per build (env): evaluating it again returns the same value without recursing. */
function keptPerBuild(l: Lowered): Lowered {
  const values = new WeakMap<Env, Value>();
  return {
    ...l,
    eval: (env) => {
      if (values.has(env)) return values.get(env)!;
      const v = l.eval(env);
      values.set(env, v);
      return v;
    },
  };
}

export interface ReadLoss {
  readonly def: LossDef;
  readonly at: Loc;
}

/** Names a call can take that are not in the function table: error("message") stops the build. */
const SPECIAL_FORMS: ReadonlySet<string> = new Set(['error']);

/** How messages spell an input's element kind. */
const KIND_NAMES: Readonly<Record<string, string>> = { float: 'f32', int: 'i32' };

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
  /** the loss being read, for error("...") messages */
  private lossName = '';

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
    for (const f of this.fns.values())
      this.inline(
        f,
        f.params.map((p) => ({ value: { type: ERROR, at: p.at, eval: () => null } })),
        elementLoc(f.body),
      );
    // the forms of each loss, in declaration order: the first is primary, the others its overloads
    const groups = new Map<string, { forms: { kinds: string; at: Loc; def: LossDef | null }[] }>();
    for (const n of nodes(c, 'lossDeclaration')) {
      const nameTok = first(n.children, 'name');
      const at = tokenLoc(nameTok);
      const read = this.visit(n) as { def: LossDef | null; kinds: string };
      const group = groups.get(nameTok.image);
      if (!group) {
        groups.set(nameTok.image, { forms: [{ kinds: read.kinds, at, def: read.def }] });
        continue;
      }
      const same = group.forms.find((f) => f.kinds === read.kinds);
      const primary = group.forms[0]!.def;
      if (same) {
        this.report.error(
          `loss '${nameTok.image}' is already defined with the same input kinds (${read.kinds}): an overload must take an input of another element type`,
          at,
          [{ message: 'first defined here', span: this.source.span(same.at) }],
        );
        continue;
      }
      const differs = primary && read.def ? differentOption(primary.options, read.def.options) : null;
      if (differs !== null) {
        this.report.error(`every form of loss '${nameTok.image}' declares the same options, but this one differs from the first in ${differs}`, at, [
          { message: 'first defined here', span: this.source.span(group.forms[0]!.at) },
        ]);
        group.forms.push({ kinds: read.kinds, at, def: null });
      } else group.forms.push({ kinds: read.kinds, at, def: read.def });
    }
    const losses: ReadLoss[] = [];
    for (const { forms } of groups.values()) {
      if (forms.some((f) => !f.def)) continue; // every form is read, or none
      const [primary, ...overloads] = forms.map((f) => f.def!);
      losses.push({ def: overloads.length ? { ...primary!, overloads } : primary!, at: forms[0]!.at });
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
    if (FUNCTIONS[name.image] || SPECIAL_FORMS.has(name.image))
      this.report.error(`fn '${name.image}' would hide the built-in function ${name.image}`, tokenLoc(name));
    else if (this.fns.has(name.image)) this.report.error(`fn '${name.image}' is already defined`, tokenLoc(name));
    else this.fns.set(name.image, { name: name.image, params, body: child(c, c.block ? 'block' : 'expression') });
  }

  // ---------------------------------------------------------------- a loss

  /** A loss's form: its LossDef (null after errors), and its inputs' kinds, which tell overloads apart. */
  lossDeclaration(c: Children): { def: LossDef | null; kinds: string } {
    const reportsBefore = this.report.reports;
    const nameTok = first(c, 'name');
    const state: LossState = { name: nameTok.image, scope: new Scope(null), inputs: [], options: [], checks: [], optionDims: new Map(), statements: 0 };
    this.lossName = state.name;
    for (const n of nodes(c, 'inputDeclaration')) {
      const input = this.visit(n, state) as DeclaredInput | null;
      if (input) state.inputs.push(input);
    }
    const inputs = state.inputs.map(({ spec, dims }, i) => (spec.shapeLike ? spec : withShapeLike(spec, dims, state.inputs.slice(0, i))));
    const kinds = nodes(c, 'inputDeclaration')
      .map((n) => {
        const element = first(child(n.children, 'tensorType').children, 'element').image;
        return KIND_NAMES[ELEMENT_KINDS[element] ?? ''] ?? element;
      })
      .join(', ');
    this.visit(child(c, 'lossBody'), state);
    const result = state.result;
    if (!result) this.report.error(`${state.name} has no return statement: end its body with 'return <the loss>'`, tokenLoc(nameTok));
    else if (result.type.sort !== 'error' && (result.type.sort !== 'tensor' || result.type.kind !== 'float' || result.type.constant !== undefined)) {
      this.report.error(`${state.name} must return a float tensor computed from its inputs, but this is ${describeType(result.type)}`, result.at);
    }
    if (!result || this.report.reports > reportsBefore) return { def: null, kinds };
    const source = this.source;
    const checks = this.withoutRedundantChecks(state);
    return {
      kinds,
      def: {
        name: state.name,
        doc: state.doc ?? `${state.name} (${source.file})`,
        inputs,
        options: state.options,
        ...(checks.length ? { checks } : {}),
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
      },
    };
  }

  /** A tensor option's dims check that says no more than its rank (see redundantOptionCheck). */
  private withoutRedundantChecks(state: LossState): InputCheck[] {
    const rankOf = new Map(state.options.flatMap((o) => (o.type === 'tensor' && o.rank !== undefined ? [[o.name, o.rank] as const] : [])));
    const declared = [...state.inputs.map((i) => [i.spec.name, i.dims ?? []] as const), ...state.optionDims];
    const elsewhere = (name: string): Set<string> =>
      new Set(declared.filter(([n]) => n !== name).flatMap(([, d]) => d.filter((x): x is string => typeof x === 'string')));
    return state.checks.filter((ch) => !redundantOptionCheck(ch, rankOf, elsewhere));
  }

  inputDeclaration(c: Children, state: LossState): DeclaredInput | null {
    const name = first(c, 'name');
    const type = this.visit(child(c, 'tensorType')) as TensorTypeDecl;
    const kind = ELEMENT_KINDS[type.element.image];
    const at = tokenLoc(name);
    if (kind !== 'float' && kind !== 'int') {
      state.scope.define({ name: name.image, type: ERROR, at, what: 'input', eval: () => null }, this.report);
      this.report.error(
        kind === 'bool'
          ? `input '${name.image}' cannot be bool: inputs are float or int32 tensors`
          : `unknown element type '${type.element.image}' (expected f32, f64, float, i32 or int)`,
        tokenLoc(type.element),
        kind ? [] : didYouMean(type.element.image, Object.keys(ELEMENT_KINDS)),
      );
      return null;
    }
    const like = type.like ? this.likeInput(type.like, state) : undefined;
    if (like === null) return null;
    const dims = like ? like.dims : staticDims(type.dims);
    const binding: Binding = { name: name.image, type: tensorOf(kind, dims), at, what: 'input', eval: (env) => env.ctx.input(name.image) };
    state.scope.define(binding, this.report);
    if (needsDimsCheck(type.dims)) state.checks.push({ kind: 'dims', input: name.image, dims: type.dims });
    const spec: InputSpec = {
      name: name.image,
      kind,
      ...(tokens(c, 'Nograd').length ? { differentiable: false } : {}),
      ...(like ? { shapeLike: like.shapeLike } : {}),
    };
    return { spec, dims: type.dims, staticDims: dims };
  }

  /** `like input without 1`: an earlier input's shape, without one axis: InputSpec.shapeLike. */
  private likeInput(like: LikeShape, state: LossState): { shapeLike: NonNullable<InputSpec['shapeLike']>; dims: Dims } | null {
    const earlier = state.inputs.find((i) => i.spec.name === like.name.image);
    if (!earlier) {
      const names = state.inputs.map((i) => i.spec.name);
      this.report.error(
        `'like' names an earlier input of ${state.name}, but '${like.name.image}' is not one`,
        tokenLoc(like.name),
        didYouMean(like.name.image, names),
      );
      return null;
    }
    if (like.without === undefined) return { shapeLike: { input: earlier.spec.name }, dims: earlier.staticDims };
    const dims = reducedDims(earlier.staticDims, [like.without], false, earlier.spec.name);
    if ('error' in dims) {
      this.report.error(`'without': ${dims.error}`, tokenLoc(like.name));
      return null;
    }
    return { shapeLike: { input: earlier.spec.name, dropAxis: like.without }, dims: dims.dims };
  }

  /** like x, like x without -1 */
  likeShape(c: Children): LikeShape | null {
    const axisTok = tokens(c, 'axis')[0];
    if (!axisTok) return { name: first(c, 'like') };
    const size = Number(axisTok.image);
    if (!Number.isInteger(size)) {
      this.report.error(`'without' takes an axis, a whole number, got ${axisTok.image}`, tokenLoc(axisTok));
      return null;
    }
    return { name: first(c, 'like'), without: c.Minus ? -size : size };
  }

  tensorType(c: Children): TensorTypeDecl {
    const element = first(c, 'element');
    if (c.likeShape) {
      const like = this.visit(child(c, 'likeShape')) as LikeShape | null;
      return like ? { element, dims: null, like } : { element, dims: null };
    }
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
        else this.report.error('a string on its own is only allowed first in a loss, as its description', tokenLoc(e));
      } else if (e.name === 'letStatement') this.visit(e, state.scope);
      else this.visit(e, state);
      state.statements++;
    }
  }

  optionDeclaration(c: Children, state: LossState): void {
    const nameTok = first(c, 'name');
    const type = this.visit(child(c, 'optionType')) as OptionType;
    const dflt = this.expr(child(c, 'default'), state.scope);
    const cases = nodes(c, 'case').map((n) => this.expr(n, state.scope));
    const extras: OptionExtras = {
      ...(c.Cases ? { cases: { values: cases, at: tokenLoc(first(c, 'Cases')) } } : {}),
      ...(c.doc ? { doc: unquote(first(c, 'doc')) } : {}),
    };
    if (dflt.type.sort === 'error') return;
    const option = readOption(nameTok.image, type, dflt, extras, this.types, this.report);
    if (!option) return;
    state.options.push(option.spec);
    if (option.check) state.checks.push(option.check);
    if ('tensor' in type && type.tensor.dims) state.optionDims.set(nameTok.image, type.tensor.dims);
    state.scope.define({ name: nameTok.image, type: option.type, at: tokenLoc(nameTok), what: 'option', eval: option.eval }, this.report);
  }

  optionType(c: Children): OptionType {
    if (c.enumType) return { enumValues: this.visit(child(c, 'enumType')) as string[] };
    if (c.functionType) return { fn: this.visit(child(c, 'functionType')) as { params: TensorTypeDecl[]; result: TensorTypeDecl } };
    return { tensor: this.visit(child(c, 'tensorType')) as TensorTypeDecl, optional: tokens(c, 'Question').length > 0 };
  }

  /** fn(f32, f32) -> f32 */
  functionType(c: Children): { params: TensorTypeDecl[]; result: TensorTypeDecl } {
    return { params: nodes(c, 'parameter').map((n) => this.visit(n) as TensorTypeDecl), result: this.visit(child(c, 'result')) as TensorTypeDecl };
  }

  checkStatement(c: Children, state: LossState): void {
    const kindTok = first(c, 'kind');
    const kind = CHECKS[kindTok.image];
    const args = c.arguments ? (this.visit(child(c, 'arguments'), state.scope) as Arg[]) : [];
    if (!kind) {
      this.report.error(
        `unknown check '${kindTok.image}' (checks: ${Object.keys(CHECKS).join(', ')})`,
        tokenLoc(kindTok),
        didYouMean(kindTok.image, Object.keys(CHECKS)),
      );
      return;
    }
    const message = tokens(c, 'message')[0];
    if (kind.message && !message) {
      this.report.error(`check ${kindTok.image} needs the error message torch gives: add ', "message"' after its arguments`, tokenLoc(first(c, 'RParen')));
      return;
    }
    if (!kind.message && message) {
      this.report.error(`check ${kindTok.image} has its own error messages: remove this one`, tokenLoc(message));
      return;
    }
    const bound = bindCheck(kindTok.image, kind, args, childrenLoc(c), this.report);
    if (bound) state.checks.push(kind.make(bound, message ? unquote(message) : ''));
  }

  /** The lets read by each let's value while it is lowered (innermost let last). */
  private readonly letReads: Set<Binding>[] = [];

  /**
   * let name = value: evaluated when first used while building (so unused lets add nothing).
   * The lets it reads are evaluated first, in order, without recursing through each other: a
   * chain of 30000 lets, each reading the one before, is built at a constant stack depth.
   */
  letStatement(c: Children, scope: Scope): void {
    const nameTok = first(c, 'name');
    const reads = new Set<Binding>();
    this.letReads.push(reads);
    const value = this.expr(child(c, 'expression'), scope);
    this.letReads.pop();
    const binding: Binding = {
      name: nameTok.image,
      type: value.type,
      at: tokenLoc(nameTok),
      what: 'let',
      eval: (env) => {
        if (!env.values.has(binding)) {
          evaluateReadsFirst(binding, env);
          const v = value.eval(env);
          if (v instanceof Node) nameNode(v, nameTok.image); // notes call it by its name
          env.values.set(binding, v);
        }
        return env.values.get(binding)!;
      },
    };
    letDependencies.set(binding, [...reads]);
    if (CONSTANTS[nameTok.image] !== undefined) this.report.error(`'${nameTok.image}' is a built-in constant`, binding.at);
    else scope.define(binding, this.report);
  }

  returnStatement(c: Children, state: LossState): void {
    state.result = this.expr(child(c, 'expression'), state.scope);
  }

  // ---------------------------------------------------------------- expressions

  expression(c: Children, scope: Scope): Lowered {
    return this.expr(child(c, c.ifExpression ? 'ifExpression' : c.scanExpression ? 'scanExpression' : 'disjunction'), scope);
  }

  /** scan a = start over e in emit like a with n = lengths like a without -1 step t { next }: see scan.ts */
  scanExpression(c: Children, scope: Scope): Lowered {
    const operands = [...nodes(c, 'sequence'), ...nodes(c, 'constant')].map((n) => this.visit(n, scope) as ScanOperand | null);
    const init = this.expr(child(c, 'init'), scope);
    const at = childrenLoc(c);
    if (operands.some((o) => o === null)) return errorValue(at);
    const step = tokens(c, 'step')[0];
    return lowerScan(
      { state: first(c, 'state'), init, operands: operands as ScanOperand[], ...(step ? { step } : {}), at, outside: scope },
      (inner) => this.expr(child(c, 'body'), inner),
      this.report,
    );
  }

  scanOperand(c: Children, scope: Scope): ScanOperand | null {
    const like = c.likeShape ? (this.visit(child(c, 'likeShape')) as LikeShape | null) : undefined;
    if (like === null) return null;
    return { name: first(c, 'name'), value: this.expr(child(c, 'value'), scope), sequence: Boolean(c.In), ...(like ? { like } : {}) };
  }

  ifExpression(c: Children, scope: Scope): Lowered {
    const at = childrenLoc(c);
    const cond = this.expr(child(c, 'condition'), scope);
    const then = this.expr(child(c, 'then'), scope.narrowed(cond.narrows?.whenTrue));
    const elseScope = scope.narrowed(cond.narrows?.whenFalse);
    const otherwise = this.expr(child(c, c.elseIf ? 'elseIf' : 'else'), elseScope);
    if (cond.type.sort !== 'flag') {
      if (cond.type.sort !== 'error') {
        const hint = cond.hint
          ? cond.hint
          : cond.type.sort === 'tensor'
            ? '; to choose per element by tensor values use where(condition, a, b)'
            : cond.type.sort === 'optional' || (cond.type.sort === 'function' && cond.type.optional)
              ? `; write 'if ${this.source.quote(cond.at)} != none'`
              : '';
        this.report.error(
          `the condition of 'if' must be known when the graph is built (a bool option, an option compared with ==, or 'weight != none'), but ${this.source.quote(cond.at)} is ${describeType(cond.type)}${hint}`,
          cond.at,
        );
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
    return nodes(c, 'conjunction')
      .map((n) => this.expr(n, scope))
      .reduce((a, b) => logical('or', a, b, this.report));
  }

  conjunction(c: Children, scope: Scope): Lowered {
    return nodes(c, 'negation')
      .map((n) => this.expr(n, scope))
      .reduce((a, b) => logical('and', a, b, this.report));
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
    if (values.length <= CHAIN_STEP) return values.reduce((acc, v, i) => binary(operators[i - 1]!.image, acc, v, this.report));
    // a long chain (a + b + c + ...): each step's value is kept per build, and the last step's eval
    // first evaluates every CHAIN_STEP-th step in order, so no eval recurses more than CHAIN_STEP deep
    const steps: Lowered[] = [];
    const last = values.reduce((acc, v, i) => {
      const step = binary(operators[i - 1]!.image, acc, v, this.report);
      if (i % CHAIN_STEP !== 0) return step;
      const kept = keptPerBuild(step);
      steps.push(kept);
      return kept;
    });
    return { ...last, eval: (env) => (steps.forEach((s) => s.eval(env)), last.eval(env)) };
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
    if (name === 'error' && !scope.lookup(name)) return this.raise(args, at);
    const b = scope.lookup(name);
    if (b?.type.sort === 'function') return this.callOption(b, args, at);
    if (b?.type.sort === 'error') return errorValue(at);
    if (b) this.report.error(`'${name}' is ${WHAT[b.what]}, not a function`, tokenLoc(nameTok));
    else this.report.error(`unknown function '${name}'`, tokenLoc(nameTok), didYouMean(name, [...Object.keys(FUNCTIONS), ...this.fns.keys()]));
    return errorValue(at);
  }

  /** error("message"): the build stops with that message (an option value the loss refuses). */
  private raise(args: readonly Arg[], at: Loc): Lowered {
    const message = args[0]?.value.type;
    if (args.length !== 1 || args[0]!.keyword || message?.sort !== 'text' || message.constant === undefined) {
      this.report.error('error takes one argument, the message, a string', at);
      return errorValue(at);
    }
    const text = `${this.lossName}: ${message.constant}`;
    return {
      type: { sort: 'never' },
      at,
      eval: () => {
        throw new RaisedError(text);
      },
    };
  }

  /** distanceFunction(a, b): a function option, given (narrowed by `if distanceFunction != none`). */
  private callOption(b: Binding, args: readonly Arg[], at: Loc): Lowered {
    if (b.type.sort !== 'function') return errorValue(at);
    if (b.type.optional) {
      this.report.error(`${b.name} may be none here: call it inside 'if ${b.name} != none { ... }'`, at);
      return errorValue(at);
    }
    const arity = b.type.arity;
    if (args.length !== arity || args.some((a) => a.keyword)) {
      this.report.error(`${b.name} takes ${arity} tensor${arity === 1 ? '' : 's'} by position, got ${args.length}`, at);
      return errorValue(at);
    }
    for (const { value: a } of args) {
      if (a.type.sort === 'error') return errorValue(at);
      if (a.type.sort !== 'tensor' || a.type.kind !== 'float') {
        this.report.error(`${b.name} takes float tensors, but ${this.source.quote(a.at)} is ${describeType(a.type)}`, a.at);
        return errorValue(at);
      }
    }
    return {
      type: tensorOf('float', null),
      at,
      eval: (env) => {
        const f = b.eval(env) as (...xs: Node[]) => unknown;
        const xs = args.map(({ value }) => {
          const v = value.eval(env);
          return v instanceof Node ? v : env.ctx.graph.scalarConst(v as number);
        });
        let out: unknown;
        try {
          out = f(...xs);
        } catch (e) {
          throw new OptionFunctionError(`the ${b.name} option threw: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        }
        if (!(out instanceof Node) || out.graph !== env.ctx.graph) {
          throw new OptionFunctionError(
            `the ${b.name} option must return a lossc tensor computed from its arguments (a builder node), got ${out === null ? 'null' : typeof out}`,
          );
        }
        return out;
      },
    };
  }

  private reference(name: string, at: Loc, scope: Scope): Lowered {
    const b = scope.lookup(name);
    if (b && b.what === 'let') this.letReads.at(-1)?.add(b);
    if (b) return { type: b.type, at, eval: b.eval, binding: b };
    const constant = CONSTANTS[name];
    if (constant !== undefined) return { type: scalarFloat(constant), at, eval: () => constant };
    const outside = scope.isolatedFrom(name);
    if (FUNCTIONS[name] || this.fns.has(name) || SPECIAL_FORMS.has(name)) this.report.error(`'${name}' is a function: call it, as in ${name}(...)`, at);
    else if (outside) this.report.error(outside, at);
    else
      this.report.error(
        `unknown name '${name}'`,
        at,
        didYouMean(
          name,
          (function* () {
            yield* Object.keys(CONSTANTS);
            yield* scope.visibleNames();
          })(),
        ),
      );
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
    // each call is lowered anew, so its parameters are its own: an argument is built when the body
    // first uses it (an argument the body does not use adds nothing to the graph)
    const bindings = f.params.map((p, i): Binding => {
      const b: Binding = {
        name: p.name,
        type: args[i]!.value.type,
        at: p.at,
        what: 'parameter',
        eval: (env) => {
          if (!env.values.has(b)) env.values.set(b, args[i]!.value.eval(env));
          return env.values.get(b)!;
        },
      };
      return b;
    });
    bindings.forEach((b) => scope.define(b, this.report));
    this.inlining.push(f.name);
    const body = this.expr(f.body, scope);
    this.inlining.pop();
    if (body.type.sort === 'error') return errorValue(at);
    return { type: body.type, at, eval: (env) => body.eval(env) };
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
    return { type: { sort: 'tuple', items: items.map((i) => i.type) }, at, items, eval: (env) => items.map((i) => i.eval(env)) };
  }
}

/** The first option in which two forms of a loss differ, quoted for a message; null when none does. */
function differentOption(a: readonly OptionSpec[], b: readonly OptionSpec[]): string | null {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const [x, y] = [a[i], b[i]];
    if (JSON.stringify(x) !== JSON.stringify(y)) return `'${(x ?? y)!.name}'`;
  }
  return null;
}

/** The lets each let's value reads directly. */
const letDependencies = new WeakMap<Binding, readonly Binding[]>();

/**
 * Evaluate the lets that `b` reads, transitively, dependencies first, with an explicit stack
 * instead of recursion. A let read only on a branch not taken may fail or raise here: it is
 * left unevaluated, and fails again where (and only if) the build really reads it.
 */
function evaluateReadsFirst(b: Binding, env: Env): void {
  const order: Binding[] = [];
  const seen = new Set<Binding>([b]);
  const stack: { readonly b: Binding; next: number }[] = [{ b, next: 0 }];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const deps = letDependencies.get(top.b) ?? [];
    if (top.next < deps.length) {
      const d = deps[top.next++]!;
      if (!seen.has(d) && !env.values.has(d)) {
        seen.add(d);
        stack.push({ b: d, next: 0 });
      }
    } else {
      stack.pop();
      if (top.b !== b) order.push(top.b);
    }
  }
  for (const d of order) {
    try {
      d.eval(env);
    } catch {
      // evaluated again, and reported, where the build needs it
    }
  }
}
