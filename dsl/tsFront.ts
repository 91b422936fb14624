// The TypeScript front end: a .ts file whose exported functions (or classes extending Loss with a
// `forward` method) are losses written with ordinary operators, read STATICALLY with ts-morph
// (never executed) into LossDefs whose build() calls the builders (dsl/tsFrontBuild.ts).
//
//   import { Tensor, IntTensor, mean, gather, logSoftmax } from 'lossc/loss';
//   export function nll(input: Tensor, target: IntTensor, { reduction = 'mean' }: { reduction?: 'mean' | 'sum' } = {}): Tensor {
//     const picked = -gather(logSoftmax(input, 1), target, 1);
//     return reduction === 'sum' ? sum(picked) : mean(picked);
//   }
//
// Authoring types (the decision, see runtime/authoring.ts): such files import from 'lossc/loss',
// whose Tensor is a branded number, so `a - b` type-checks with tsc while lossc's runtime Tensor
// stays an object. Imports from 'lossc' are read the same way (they do not type-check with
// operators, but the guide's snippets use them).
//
// What is read: parameters typed Tensor (float inputs) or IntTensor (int32 class indices); an
// optional last parameter, an object pattern with defaults, declaring options (number: a run-time
// parameter; boolean; a union of string literals: an enum; `Tensor | null` = null: an optional
// tensor); `const` declarations; `return`; `if` on options; the operators + - * / ** unary - and +,
// comparisons, && || !, `c ? a : b` (on options: chosen while building; on tensors: where), and
// calls of lossc's functions and of the file's own top-level (non-exported) functions, inlined.
// Anything else (loops, let, assignment, closures, other calls, object literals, ...) is a
// diagnostic at file:line:col naming the construct.
import {
  Node as TsNode,
  Project,
  SyntaxKind,
  ts,
  type CallExpression,
  type ClassDeclaration,
  type ImportDeclaration,
  type MethodDeclaration,
  type ObjectBindingPattern,
  type ParameterDeclaration,
  type SourceFile,
} from 'ts-morph';
import type { BuildContext, InputSpec, LossDef, OptionSpec } from '../compiler/loss.js';
import type { Diagnostic, Span } from './diagnostics.js';
import { CompileError, sortAndDedupe } from './diagnostics.js';
import { FUNCTIONS, OPERATORS } from './functions.js';
import { didYouMean } from './lower.js';
import { LexicalScope } from './scope.js';
import { trialBuild } from './trial.js';
import { describeExpression, describeStatement, endsWithReturn, jsDocOf, literalValue, statementHead, stringUnion, unwrap } from './tsFrontSyntax.js';
import { buildProgram, type BinaryOp, type Binding, type Expr, type Helper, type Program, type Stmt, type Value } from './tsFrontBuild.js';

const LOSSC_MODULES = new Set(['lossc', 'lossc/loss']);
/** lossc's callable functions: the .loss language's table, plus and/or/not */
const CALLABLE = new Set([...Object.keys(FUNCTIONS), 'and', 'or', 'not']);
const MATH_CONSTANTS: Readonly<Record<string, number>> = {
  'Math.PI': Math.PI,
  'Math.E': Math.E,
  'Math.LN2': Math.LN2,
  'Math.LN10': Math.LN10,
  'Math.LOG2E': Math.LOG2E,
  'Math.LOG10E': Math.LOG10E,
  'Math.SQRT2': Math.SQRT2,
  'Math.SQRT1_2': Math.SQRT1_2,
  'Number.EPSILON': Number.EPSILON,
};
const BINARY: Partial<Record<SyntaxKind, BinaryOp>> = {
  [SyntaxKind.PlusToken]: '+',
  [SyntaxKind.MinusToken]: '-',
  [SyntaxKind.AsteriskToken]: '*',
  [SyntaxKind.SlashToken]: '/',
  [SyntaxKind.AsteriskAsteriskToken]: '**',
  [SyntaxKind.LessThanToken]: '<',
  [SyntaxKind.LessThanEqualsToken]: '<=',
  [SyntaxKind.GreaterThanToken]: '>',
  [SyntaxKind.GreaterThanEqualsToken]: '>=',
  [SyntaxKind.EqualsEqualsEqualsToken]: '==',
  [SyntaxKind.EqualsEqualsToken]: '==',
  [SyntaxKind.ExclamationEqualsEqualsToken]: '!=',
  [SyntaxKind.ExclamationEqualsToken]: '!=',
  [SyntaxKind.AmpersandAmpersandToken]: '&&',
  [SyntaxKind.BarBarToken]: '||',
};

let project: Project | undefined;

/** The losses of a TypeScript source, and every problem as a diagnostic (never throws for the source's mistakes). */
export function parseTsLossSource(text: string, file: string): { losses: LossDef[]; diagnostics: Diagnostic[] } {
  project ??= new Project({ useInMemoryFileSystem: true, compilerOptions: { noLib: true, noResolve: true, types: [] } });
  const name = `/${file.replace(/^.*[\\/]/, '').replace(/\.(m|c)?tsx?$/, '') || 'loss'}.ts`;
  const sf = project.createSourceFile(name, text, { overwrite: true });
  try {
    const reader = new Reader(sf, file);
    const syntax = project.getProgram().compilerObject.getSyntacticDiagnostics(sf.compilerNode);
    if (syntax.length) return { losses: [], diagnostics: syntax.map((d) => reader.tsDiagnostic(d)) };
    const read = reader.readFile();
    const diagnostics = [...reader.diagnostics];
    const losses: LossDef[] = [];
    if (diagnostics.length === 0) {
      for (const r of read) {
        const problems = trialBuild(r.def, r.at);
        diagnostics.push(...problems);
        if (problems.length === 0) losses.push(r.def);
      }
    }
    return { losses, diagnostics: sortAndDedupe(diagnostics) };
  } finally {
    project.removeSourceFile(sf);
  }
}

/** The losses of a TypeScript source, or a CompileError listing every diagnostic. */
export function compileTsLossSource(text: string, file: string): LossDef[] {
  const { losses, diagnostics } = parseTsLossSource(text, file);
  if (diagnostics.some((d) => d.severity === 'error')) throw new CompileError(diagnostics, new Map([[file, text]]));
  return losses;
}

/** A TypeScript block scope: an inner block's const shadows an outer one. */
class Scope extends LexicalScope<Binding> {
  define(b: Binding): void {
    this.bind(b);
  }
}

interface ReadLoss {
  readonly def: LossDef;
  /** where the loss is declared */
  readonly at: Span;
}

class Reader {
  readonly diagnostics: Diagnostic[] = [];
  /** local name -> the name lossc exports (mean, Tensor, ...) */
  private readonly imports = new Map<string, string>();
  /** `import * as L from 'lossc/loss'` */
  private readonly namespaces = new Set<string>();
  private readonly helpers = new Map<string, Helper>();
  private readonly constants: { binding: Binding; value: Expr }[] = [];
  private readonly fileScope = new Scope();

  constructor(
    private readonly sf: SourceFile,
    private readonly file: string,
  ) {}

  span(n: TsNode): Span {
    const start = n.getStart();
    const { line, column } = this.sf.getLineAndColumnAtPos(start);
    return { file: this.file, line, column, length: Math.max(1, n.getEnd() - start) };
  }

  error(message: string, n: TsNode, notes: Diagnostic['notes'] = []): void {
    this.diagnostics.push({ severity: 'error', message, span: this.span(n), ...(notes.length ? { notes } : {}) });
  }

  tsDiagnostic(d: ts.Diagnostic): Diagnostic {
    const start = d.start ?? 0;
    const { line, column } = this.sf.getLineAndColumnAtPos(start);
    return {
      severity: 'error',
      message: ts.flattenDiagnosticMessageText(d.messageText, ' '),
      span: { file: this.file, line, column, length: Math.max(1, d.length ?? 1) },
    };
  }

  // -------------------------------------------------------------- the file

  readFile(): ReadLoss[] {
    const statements = this.sf.getStatements();
    // imports and helpers first, so that order does not matter
    for (const s of statements) if (TsNode.isImportDeclaration(s)) this.readImport(s);
    const losses: { name: string; node: TsNode; read: () => ReadLoss | null }[] = [];
    const helperBodies: (() => void)[] = [];
    for (const s of statements) {
      if (TsNode.isImportDeclaration(s) || TsNode.isTypeAliasDeclaration(s) || TsNode.isInterfaceDeclaration(s) || s.getKind() === SyntaxKind.EmptyStatement)
        continue;
      if (TsNode.isFunctionDeclaration(s)) {
        const name = s.getName();
        if (!name) {
          this.error('a loss function needs a name (the compiled module is named after it): export function myLoss(...)', s);
          continue;
        }
        if (!s.getBody()) continue; // an overload signature
        if (s.isAsync() || s.isGenerator()) {
          this.error(`${s.isAsync() ? 'an async' : 'a generator'} function is not supported in a loss`, s);
          continue;
        }
        if (s.isExported()) losses.push({ name, node: s, read: () => this.readFunctionLoss(name, s, s.getParameters(), s) });
        else helperBodies.push(this.declareHelper(name, s, s.getParameters(), s));
        continue;
      }
      if (TsNode.isClassDeclaration(s)) {
        const name = s.getName();
        if (!name) {
          this.error('a loss class needs a name', s);
          continue;
        }
        if (!s.isExported()) {
          this.error(`class ${name} is not exported: a loss class is 'export class ${name} extends Loss'`, s.getNameNode() ?? s);
          continue;
        }
        losses.push({ name, node: s, read: () => this.readClassLoss(name, s) });
        continue;
      }
      if (TsNode.isVariableStatement(s)) {
        if (s.getDeclarationKind() !== 'const') {
          this.error(`'${s.getDeclarationKind()}' at the top level: a loss file declares constants with const (nothing is mutable)`, s);
          continue;
        }
        for (const d of s.getDeclarations()) {
          const init = d.getInitializer();
          const nameNode = d.getNameNode();
          if (!TsNode.isIdentifier(nameNode) || !init) {
            this.error('a top-level const must be a plain name with a value: const eps = 1e-8', d);
            continue;
          }
          const name = nameNode.getText();
          const fn = unwrap(init);
          if (TsNode.isArrowFunction(fn) || TsNode.isFunctionExpression(fn)) {
            if (s.isExported()) losses.push({ name, node: d, read: () => this.readFunctionLoss(name, fn, fn.getParameters(), d) });
            else helperBodies.push(this.declareHelper(name, fn, fn.getParameters(), d));
          } else if (s.isExported()) {
            const runtime = TsNode.isCallExpression(fn)
              ? ` (${fn.getExpression().getText()}(...) runs when the module is imported; lossc compile reads losses without running them)`
              : '';
            this.error(`exported const '${name}' is not a loss${runtime}: export a function, or a class extending Loss`, nameNode);
          } else {
            const binding: Binding = { name, what: 'const' };
            this.constants.push({ binding, value: this.expr(init, this.fileScope) });
            this.fileScope.define(binding);
          }
        }
        continue;
      }
      this.error(
        `${describeStatement(s)} at the top level is not supported: a loss file holds imports, functions, classes extending Loss, constants and types`,
        s,
      );
    }
    for (const read of helperBodies) read();
    const out: ReadLoss[] = [];
    const seen = new Set<string>();
    for (const l of losses) {
      if (seen.has(l.name)) this.error(`loss '${l.name}' is defined twice`, l.node);
      seen.add(l.name);
      const r = l.read();
      if (r) out.push(r);
    }
    if (losses.length === 0 && this.diagnostics.length === 0) {
      this.diagnostics.push({
        severity: 'error',
        message: "no loss found: export a function (or a class extending Loss from 'lossc/loss') whose parameters are Tensors",
        span: { file: this.file, line: 1, column: 1, length: 1 },
      });
    }
    return out;
  }

  private readImport(s: ImportDeclaration): void {
    const from = s.getModuleSpecifierValue();
    if (!LOSSC_MODULES.has(from)) {
      this.error(
        `imports from '${from}' are not supported: a loss is read, not run, so it can use only lossc's functions (import them from 'lossc/loss')`,
        s.getModuleSpecifier(),
      );
      return;
    }
    if (s.getDefaultImport()) this.error(`lossc has no default export: import { ... } from '${from}'`, s.getDefaultImport()!);
    const ns = s.getNamespaceImport();
    if (ns) this.namespaces.add(ns.getText());
    for (const n of s.getNamedImports()) this.imports.set(n.getAliasNode()?.getText() ?? n.getName(), n.getName());
  }

  /** A top-level helper: declared now (so any loss can call it), its body read after every declaration. */
  private declareHelper(name: string, fn: TsNode, params: readonly ParameterDeclaration[], at: TsNode): () => void {
    const scope = new Scope(this.fileScope);
    const bindings: Binding[] = [];
    for (const p of params) {
      const nameNode = p.getNameNode();
      if (!TsNode.isIdentifier(nameNode) || p.isRestParameter() || p.getInitializer() || p.hasQuestionToken()) {
        this.error(`a parameter of ${name} must be a plain name (no defaults, rest or destructuring)`, p);
        continue;
      }
      const b: Binding = { name: nameNode.getText(), what: 'parameter' };
      bindings.push(b);
      scope.define(b);
    }
    const helper: Helper = { name, params: bindings, body: [], at: this.span(at) };
    this.helpers.set(name, helper);
    return () => {
      helper.body = this.functionBody(fn, scope, name);
    };
  }

  private readClassLoss(name: string, c: ClassDeclaration): ReadLoss | null {
    const base = c.getExtends();
    const baseName = base?.getExpression().getText();
    if (!base || !baseName || !this.isLosscName(baseName, 'Loss')) {
      this.error(`class ${name} must extend Loss from 'lossc/loss' to be a loss`, c.getNameNode() ?? c);
      return null;
    }
    let forward: MethodDeclaration | undefined;
    for (const m of c.getMembers()) {
      if (TsNode.isMethodDeclaration(m) && m.getName() === 'forward' && m.getBody()) forward = m;
      else if (TsNode.isMethodDeclaration(m) && m.getName() === 'forward') continue;
      else if (TsNode.isConstructorDeclaration(m))
        this.error(`a loss class has no constructor: options are forward's last parameter, an object with defaults`, m);
      else this.error(`${describeStatement(m)} in class ${name} is not supported: a loss class has only a forward method (helpers are top-level functions)`, m);
    }
    if (!forward) {
      this.error(`class ${name} needs a forward(...) method`, c.getNameNode() ?? c);
      return null;
    }
    return this.readFunctionLoss(name, forward, forward.getParameters(), c);
  }

  // -------------------------------------------------------------- a loss: signature

  private readFunctionLoss(name: string, fn: TsNode, params: readonly ParameterDeclaration[], at: TsNode): ReadLoss | null {
    const before = this.diagnostics.length;
    const scope = new Scope(this.fileScope);
    const inputs: InputSpec[] = [];
    const options: OptionSpec[] = [];
    const bindings = new Map<Binding, (ctx: BuildContext) => Value>();
    params.forEach((p, i) => {
      const nameNode = p.getNameNode();
      if (TsNode.isObjectBindingPattern(nameNode) && i === params.length - 1) {
        this.readOptions(nameNode, p, scope, options, bindings);
        return;
      }
      if (!TsNode.isIdentifier(nameNode)) {
        this.error(
          `a loss's inputs are named Tensor parameters${TsNode.isObjectBindingPattern(nameNode) ? '; options are the last parameter, an object pattern with defaults' : ''}`,
          p,
        );
        return;
      }
      if (p.isRestParameter() || p.hasQuestionToken() || p.getInitializer()) {
        this.error(`input '${nameNode.getText()}' must be a plain Tensor parameter (not optional, rest or defaulted)`, p);
        return;
      }
      const kind = this.tensorKind(p.getTypeNode(), nameNode.getText(), p);
      const inputName = nameNode.getText();
      if (kind) inputs.push({ name: inputName, kind });
      const b: Binding = { name: inputName, what: 'input' }; // defined even when in error: no cascade of unknown names
      scope.define(b);
      bindings.set(b, (ctx) => ctx.input(inputName));
    });
    if (inputs.length === 0 && this.diagnostics.length === before) this.error(`loss ${name} takes no Tensor parameter`, at);
    const body = this.functionBody(fn, scope, name);
    if (this.diagnostics.length > before) return null;
    const program: Program = { constants: this.constants, body, at: this.span(at), lines: this.sf.getFullText().split(/\r?\n/) };
    const doc = jsDocOf(at) ?? jsDocOf(fn) ?? `custom loss ${name} (TypeScript)`;
    return {
      def: { name, doc, inputs, options, build: (ctx) => buildProgram(program, ctx, bindings) },
      at: program.at,
    };
  }

  /** Tensor -> float, IntTensor -> int (as imported from lossc, possibly renamed, or through a namespace). */
  private tensorKind(type: TsNode | undefined, name: string, at: TsNode): 'float' | 'int' | null {
    const text = type?.getText().replace(/\s+/g, '');
    if (text && this.isLosscName(text, 'Tensor')) return 'float';
    if (text && this.isLosscName(text, 'IntTensor')) return 'int';
    this.error(
      text
        ? `parameter '${name}' has type ${text}: a loss's inputs are Tensor (float) or IntTensor (int32 class indices), imported from 'lossc/loss'`
        : `parameter '${name}' needs a type: Tensor (a float tensor) or IntTensor (int32 class indices), from 'lossc/loss'`,
      type ?? at,
    );
    return null;
  }

  private isLosscName(text: string, exported: string): boolean {
    if (this.imports.get(text) === exported) return true;
    const dot = text.indexOf('.');
    return dot > 0 && this.namespaces.has(text.slice(0, dot)) && text.slice(dot + 1) === exported;
  }

  /** `{ margin = 1, reduction = 'mean' }: { margin?: number; reduction?: 'none' | 'mean' | 'sum' } = {}` */
  private readOptions(
    pattern: ObjectBindingPattern,
    p: ParameterDeclaration,
    scope: Scope,
    options: OptionSpec[],
    bindings: Map<Binding, (ctx: BuildContext) => Value>,
  ): void {
    const declared = new Map<string, TsNode>();
    const typeNode = p.getTypeNode();
    if (typeNode && TsNode.isTypeLiteral(typeNode))
      for (const m of typeNode.getProperties())
        if (m.getTypeNode()) declared.set(m.getName(), m.getTypeNode()!);
        else if (typeNode) this.error("the options parameter is typed with an object type: { margin?: number; reduction?: 'mean' | 'sum' }", typeNode);
    for (const el of pattern.getElements()) {
      const key = el.getPropertyNameNode()?.getText() ?? el.getName();
      const local = el.getName();
      const init = el.getInitializer();
      if (el.getDotDotDotToken() || !TsNode.isIdentifier(el.getNameNode())) {
        this.error(`option '${key}' must be a plain name with a default`, el);
        continue;
      }
      if (!init) {
        this.error(`option '${key}' needs a default: { ${key} = ... }`, el);
        continue;
      }
      const def = literalValue(init);
      const type = declared.get(key)?.getText().replace(/\s+/g, ' ');
      let spec: OptionSpec | null = null;
      if (typeof def === 'number') spec = { name: key, type: 'number', default: def };
      else if (typeof def === 'boolean') spec = { name: key, type: 'bool', default: def };
      else if (typeof def === 'string') {
        const values = type ? stringUnion(declared.get(key)!) : null;
        if (!values)
          this.error(`option '${key}': declare its values as a union of string literals, e.g. { ${key}?: 'none' | 'mean' | 'sum' }`, declared.get(key) ?? el);
        else if (!values.includes(def)) this.error(`option '${key}': its default '${def}' is not one of ${values.map((v) => `'${v}'`).join(', ')}`, init);
        else spec = { name: key, type: 'enum', values, default: def };
      } else if (def === null) {
        const t = declared.get(key);
        const parts = t && TsNode.isUnionTypeNode(t) ? t.getTypeNodes().map((n) => n.getText()) : [];
        if (parts.length === 2 && parts.includes('null') && parts.some((x) => this.isLosscName(x, 'Tensor')))
          spec = { name: key, type: 'tensor', default: null };
        else this.error(`option '${key}' defaults to null: an optional tensor option is declared { ${key}?: Tensor | null }`, t ?? el);
      } else {
        this.error(`option '${key}' needs a literal default: a number, true or false, a string, or null (for an optional Tensor)`, init);
      }
      if (!spec) continue;
      if (type && (spec.type === 'number' ? type !== 'number' : spec.type === 'bool' ? type !== 'boolean' : false)) {
        this.error(`option '${key}' is declared ${type} but defaults to ${init.getText()}`, declared.get(key)!);
        continue;
      }
      options.push(spec);
      const b: Binding = { name: local, what: 'option' };
      scope.define(b);
      const s = spec;
      bindings.set(b, (ctx) => (s.type === 'number' ? ctx.num(key) : s.type === 'bool' ? ctx.flag(key) : s.type === 'enum' ? ctx.str(key) : ctx.tensor(key)));
    }
  }

  // -------------------------------------------------------------- bodies

  private functionBody(fn: TsNode, scope: Scope, name: string): Stmt[] {
    if (TsNode.isArrowFunction(fn)) {
      const body = fn.getBody();
      if (!TsNode.isBlock(body)) return [{ k: 'return', value: this.expr(body, scope), at: this.span(body) }];
    }
    const body = (fn as TsNode & { getBody?(): TsNode | undefined }).getBody?.();
    if (!body || !TsNode.isBlock(body)) {
      this.error(`${name} has no body`, fn);
      return [];
    }
    const stmts = this.block(body.getStatements(), new Scope(scope));
    if (!endsWithReturn(stmts)) this.error(`${name} must end with a return (of the loss)`, body.getLastChild() ?? body);
    return stmts;
  }

  private block(statements: readonly TsNode[], scope: Scope): Stmt[] {
    const out: Stmt[] = [];
    let returned = false;
    for (const s of statements) {
      if (returned) {
        this.error('unreachable code after return', s);
        break;
      }
      if (TsNode.isVariableStatement(s)) {
        const kind = s.getDeclarationKind();
        if (kind !== 'const')
          this.error(
            `'${kind}' declarations are not supported: a loss is an expression, so its names are const (no mutation)`,
            s.getDeclarationKindKeywords()[0] ?? s,
          );
        for (const d of s.getDeclarations()) {
          const nameNode = d.getNameNode();
          const init = d.getInitializer();
          if (!TsNode.isIdentifier(nameNode)) {
            this.error('destructuring is not supported: declare one name per const', nameNode);
            continue;
          }
          if (!init) continue; // tsc reports a const without a value
          const value = this.expr(init, scope);
          const binding: Binding = { name: nameNode.getText(), what: 'const' };
          scope.define(binding);
          out.push({ k: 'const', binding, value, at: this.span(d) });
        }
      } else if (TsNode.isReturnStatement(s)) {
        const e = s.getExpression();
        if (!e) this.error('return needs the loss value', s);
        else out.push({ k: 'return', value: this.expr(e, scope), at: this.span(s) });
        returned = true;
      } else if (TsNode.isIfStatement(s)) {
        const branch = (b: TsNode | undefined): Stmt[] =>
          !b ? [] : TsNode.isBlock(b) ? this.block(b.getStatements(), new Scope(scope)) : this.block([b], new Scope(scope));
        const then = branch(s.getThenStatement());
        const otherwise = branch(s.getElseStatement());
        out.push({ k: 'if', test: this.expr(s.getExpression(), scope), then, otherwise, at: this.span(s) });
        returned = endsWithReturn(then) && endsWithReturn(otherwise) && !!s.getElseStatement();
      } else if (TsNode.isBlock(s)) {
        out.push(...this.block(s.getStatements(), new Scope(scope)));
      } else if (s.getKind() === SyntaxKind.EmptyStatement) {
        continue;
      } else {
        this.error(`${describeStatement(s)} is not supported in a loss: use const, return, if on options, and c ? a : b`, statementHead(s));
      }
    }
    return out;
  }

  // -------------------------------------------------------------- expressions

  private expr(n: TsNode, scope: Scope): Expr {
    const at = this.span(n);
    const bad = (what: string, hint = ''): Expr => {
      this.error(`${what} is not supported in a loss${hint}`, n);
      return { k: 'null', at };
    };
    if (
      TsNode.isParenthesizedExpression(n) ||
      TsNode.isAsExpression(n) ||
      TsNode.isNonNullExpression(n) ||
      TsNode.isSatisfiesExpression(n) ||
      TsNode.isTypeAssertion(n)
    ) {
      return this.expr(n.getExpression(), scope);
    }
    if (TsNode.isNumericLiteral(n)) return { k: 'num', value: n.getLiteralValue(), at };
    if (TsNode.isStringLiteral(n) || TsNode.isNoSubstitutionTemplateLiteral(n)) return { k: 'str', value: n.getLiteralValue(), at };
    if (n.getKind() === SyntaxKind.TrueKeyword || n.getKind() === SyntaxKind.FalseKeyword)
      return { k: 'bool', value: n.getKind() === SyntaxKind.TrueKeyword, at };
    if (n.getKind() === SyntaxKind.NullKeyword) return { k: 'null', at };
    if (TsNode.isIdentifier(n)) return this.name(n.getText(), n, scope);
    if (TsNode.isPropertyAccessExpression(n)) {
      const text = n.getText().replace(/\s+/g, '');
      if (text in MATH_CONSTANTS) return { k: 'num', value: MATH_CONSTANTS[text]!, at };
      return bad(
        `property access (${text})`,
        n.getExpression().getKind() === SyntaxKind.ThisKeyword ? ': a loss class has only forward; helpers are top-level functions' : '',
      );
    }
    if (TsNode.isPrefixUnaryExpression(n)) {
      const op = n.getOperatorToken();
      const x = n.getOperand();
      if (op === SyntaxKind.MinusToken) return { k: 'unary', op: '-', x: this.expr(x, scope), at };
      if (op === SyntaxKind.PlusToken) return { k: 'unary', op: '+', x: this.expr(x, scope), at };
      if (op === SyntaxKind.ExclamationToken) return { k: 'unary', op: '!', x: this.expr(x, scope), at };
      if (op === SyntaxKind.PlusPlusToken || op === SyntaxKind.MinusMinusToken) return bad(`'${n.getText()}' (mutation)`);
      return bad(`the operator '${ts.tokenToString(op)}'`);
    }
    if (TsNode.isPostfixUnaryExpression(n)) return bad(`'${n.getText()}' (mutation)`);
    if (TsNode.isBinaryExpression(n)) {
      const kind = n.getOperatorToken().getKind();
      const op = BINARY[kind];
      const token = n.getOperatorToken().getText();
      if (op) return { k: 'binary', op, a: this.expr(n.getLeft(), scope), b: this.expr(n.getRight(), scope), at };
      if (kind >= SyntaxKind.FirstAssignment && kind <= SyntaxKind.LastAssignment)
        return bad(`assignment ('${token}')`, ': a loss is an expression; name intermediate values with const');
      if (kind === SyntaxKind.PercentToken) return bad("the remainder operator '%'");
      if (kind === SyntaxKind.QuestionQuestionToken) return bad("'??'", ': options always have their defaults');
      if (kind === SyntaxKind.CommaToken) return bad('the comma operator');
      return bad(`the operator '${token}'`);
    }
    if (TsNode.isConditionalExpression(n)) {
      return { k: 'cond', test: this.expr(n.getCondition(), scope), a: this.expr(n.getWhenTrue(), scope), b: this.expr(n.getWhenFalse(), scope), at };
    }
    if (TsNode.isArrayLiteralExpression(n)) return { k: 'array', items: n.getElements().map((e) => this.expr(e, scope)), at };
    if (TsNode.isCallExpression(n)) return this.call(n, scope);
    if (TsNode.isArrowFunction(n) || TsNode.isFunctionExpression(n))
      return bad('a closure (a function inside the loss)', ': declare helpers as top-level functions; they are inlined');
    if (n.getKind() === SyntaxKind.BigIntLiteral) return bad('a bigint literal');
    if (TsNode.isTemplateExpression(n)) return bad('a template string');
    if (n.getKind() === SyntaxKind.RegularExpressionLiteral) return bad('a regular expression');
    return bad(describeExpression(n));
  }

  private name(name: string, n: TsNode, scope: Scope): Expr {
    const at = this.span(n);
    if (name === 'Infinity') return { k: 'num', value: Infinity, at };
    if (name === 'NaN') return { k: 'num', value: NaN, at };
    const b = scope.lookup(name);
    if (b) return { k: 'ref', binding: b, at };
    const imported = this.imports.get(name);
    if (imported !== undefined)
      this.error(CALLABLE.has(imported) ? `${name} is a function: call it, ${name}(...)` : `'${name}' from lossc cannot be used inside a loss`, n);
    else if (this.helpers.has(name)) this.error(`${name} is a function: call it, ${name}(...)`, n);
    else if (name === 'undefined') this.error("'undefined' is not a value in a loss", n);
    else this.error(`unknown name '${name}'`, n, didYouMean(name, [...scope.visibleNames()]));
    return { k: 'null', at };
  }

  private call(n: CallExpression, scope: Scope): Expr {
    const at = this.span(n);
    const callee = n.getExpression();
    const calleeText = callee.getText().replace(/\s+/g, '');
    const args: Expr[] = [];
    for (const a of n.getArguments()) {
      if (TsNode.isSpreadElement(a)) this.error('spread arguments (...) are not supported in a loss', a);
      else args.push(this.expr(a, scope));
    }
    if (n.getQuestionDotTokenNode()) this.error("optional calls ('?.') are not supported in a loss", n);
    let fn: string | undefined;
    if (TsNode.isIdentifier(callee)) {
      if (scope.lookup(calleeText)) {
        this.error(`'${calleeText}' is a value, not a function`, callee);
        return { k: 'null', at };
      }
      const helper = this.helpers.get(calleeText);
      if (helper) return { k: 'inline', helper, args, at };
      fn = this.imports.get(calleeText);
      if (fn === undefined) {
        const known = [...this.imports.keys(), ...this.helpers.keys()];
        const notes = didYouMean(calleeText, known);
        this.error(
          CALLABLE.has(calleeText)
            ? `'${calleeText}' is not imported: import { ${calleeText} } from 'lossc/loss'`
            : `call of an unknown function '${calleeText}': a loss can call lossc's functions (imported from 'lossc/loss') and the file's own top-level functions`,
          callee,
          notes,
        );
        return { k: 'null', at };
      }
    } else if (
      TsNode.isPropertyAccessExpression(callee) &&
      TsNode.isIdentifier(callee.getExpression()) &&
      this.namespaces.has(callee.getExpression().getText())
    ) {
      fn = callee.getName();
    } else if (calleeText.startsWith('Math.')) {
      const alt = calleeText.slice(5);
      this.error(`${calleeText} computes on one JavaScript number, not on tensors${CALLABLE.has(alt) ? `: use ${alt} from 'lossc/loss'` : ''}`, callee);
      return { k: 'null', at };
    } else {
      this.error(`call of '${calleeText}': a loss can call lossc's functions (imported from 'lossc/loss') and the file's own top-level functions`, callee);
      return { k: 'null', at };
    }
    if (!CALLABLE.has(fn)) {
      this.error(`'${fn}' from lossc cannot be called inside a loss (its functions: ${[...CALLABLE].sort().join(', ')})`, callee);
      return { k: 'null', at };
    }
    const f = FUNCTIONS[fn] ?? OPERATORS[fn]!;
    const variadic = f.params.some((p) => p.sort === 'pairs');
    const required = f.params.filter((p) => !p.optional).length;
    if (args.length < required || (!variadic && args.length > f.params.length)) {
      const sig = f.params.map((p) => (p.sort === 'pairs' ? `...${p.name}` : p.optional ? `${p.name}?` : p.name)).join(', ');
      this.error(
        `${fn} takes ${variadic ? `at least ${required}` : required === f.params.length ? required : `${required} to ${f.params.length}`} argument${f.params.length === 1 ? '' : 's'} (${sig}), got ${args.length}`,
        n,
      );
      return { k: 'null', at };
    }
    return { k: 'call', fn, args, at };
  }
}
