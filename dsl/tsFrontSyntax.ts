// The TS front end's vocabulary of syntax: names for the constructs it reports (a for loop, an
// object literal, assignment), literal defaults of options, string-literal unions, doc comments.
import { Node as TsNode, SyntaxKind } from 'ts-morph';
import type { Stmt } from './tsFrontBuild.js';

export const unwrap = (n: TsNode): TsNode =>
  TsNode.isParenthesizedExpression(n) || TsNode.isAsExpression(n) || TsNode.isSatisfiesExpression(n) ? unwrap(n.getExpression()) : n;

export function endsWithReturn(stmts: readonly Stmt[]): boolean {
  const last = stmts[stmts.length - 1];
  return !!last && (last.k === 'return' || (last.k === 'if' && endsWithReturn(last.then) && endsWithReturn(last.otherwise)));
}

/** A literal default: a number (possibly negative), true/false, a string, or null; undefined otherwise. */
export function literalValue(n: TsNode): number | boolean | string | null | undefined {
  const u = unwrap(n);
  if (TsNode.isNumericLiteral(u)) return u.getLiteralValue();
  if (TsNode.isPrefixUnaryExpression(u) && u.getOperatorToken() === SyntaxKind.MinusToken && TsNode.isNumericLiteral(u.getOperand()))
    return -Number(u.getOperand().getText());
  if (TsNode.isStringLiteral(u) || TsNode.isNoSubstitutionTemplateLiteral(u)) return u.getLiteralValue();
  if (u.getKind() === SyntaxKind.TrueKeyword) return true;
  if (u.getKind() === SyntaxKind.FalseKeyword) return false;
  if (u.getKind() === SyntaxKind.NullKeyword) return null;
  if (TsNode.isIdentifier(u) && u.getText() === 'Infinity') return Infinity;
  return undefined;
}

/** 'none' | 'mean' | 'sum' -> its strings; null when the type is not a union of string literals. */
export function stringUnion(t: TsNode): string[] | null {
  const parts = TsNode.isUnionTypeNode(t) ? t.getTypeNodes() : [t];
  const values: string[] = [];
  for (const p of parts) {
    if (!TsNode.isLiteralTypeNode(p)) return null;
    const lit = p.getLiteral();
    if (!TsNode.isStringLiteral(lit)) return null;
    values.push(lit.getLiteralValue());
  }
  return values;
}

export function jsDocOf(n: TsNode): string | undefined {
  const docs = (n as TsNode & { getJsDocs?(): { getDescription(): string }[] }).getJsDocs?.();
  const text = docs
    ?.map((d) => d.getDescription().trim())
    .filter(Boolean)
    .join(' ');
  return text ? text.replace(/\s+/g, ' ') : undefined;
}

const STATEMENTS: Partial<Record<SyntaxKind, string>> = {
  [SyntaxKind.ForStatement]: 'a for loop',
  [SyntaxKind.ForOfStatement]: 'a for...of loop',
  [SyntaxKind.ForInStatement]: 'a for...in loop',
  [SyntaxKind.WhileStatement]: 'a while loop',
  [SyntaxKind.DoStatement]: 'a do...while loop',
  [SyntaxKind.SwitchStatement]: 'a switch statement',
  [SyntaxKind.TryStatement]: 'a try statement',
  [SyntaxKind.ThrowStatement]: 'a throw statement',
  [SyntaxKind.FunctionDeclaration]: 'a nested function (a closure)',
  [SyntaxKind.ClassDeclaration]: 'a class declaration',
  [SyntaxKind.LabeledStatement]: 'a labeled statement',
  [SyntaxKind.BreakStatement]: 'break',
  [SyntaxKind.ContinueStatement]: 'continue',
  [SyntaxKind.ExportDeclaration]: 'an export list',
  [SyntaxKind.ExportAssignment]: 'export default',
  [SyntaxKind.EnumDeclaration]: 'an enum',
  [SyntaxKind.ModuleDeclaration]: 'a namespace',
  [SyntaxKind.PropertyDeclaration]: 'a property',
  [SyntaxKind.GetAccessor]: 'a getter',
  [SyntaxKind.SetAccessor]: 'a setter',
  [SyntaxKind.MethodDeclaration]: 'a method other than forward',
  [SyntaxKind.ImportEqualsDeclaration]: 'import = require',
  [SyntaxKind.WithStatement]: 'a with statement',
  [SyntaxKind.DebuggerStatement]: 'debugger',
};

export function describeStatement(s: TsNode): string {
  if (TsNode.isExpressionStatement(s)) {
    const e = unwrap(s.getExpression());
    if (TsNode.isBinaryExpression(e)) {
      const k = e.getOperatorToken().getKind();
      if (k >= SyntaxKind.FirstAssignment && k <= SyntaxKind.LastAssignment) return `assignment ('${e.getOperatorToken().getText()}'; mutation)`;
    }
    if (
      TsNode.isPostfixUnaryExpression(e) ||
      (TsNode.isPrefixUnaryExpression(e) && [SyntaxKind.PlusPlusToken, SyntaxKind.MinusMinusToken].includes(e.getOperatorToken()))
    )
      return `'${e.getText()}' (mutation)`;
    if (TsNode.isCallExpression(e)) return 'a call whose value is unused';
    return 'an expression statement';
  }
  return STATEMENTS[s.getKind()] ?? `a ${s.getKindName()}`;
}

/** Where a statement's diagnostic points: its keyword (for, while, ...), else the whole statement. */
export function statementHead(s: TsNode): TsNode {
  return s.getFirstChild() ?? s;
}

const EXPRESSIONS: Partial<Record<SyntaxKind, string>> = {
  [SyntaxKind.ObjectLiteralExpression]: 'an object literal',
  [SyntaxKind.ElementAccessExpression]: 'indexing (a[i])',
  [SyntaxKind.NewExpression]: "'new'",
  [SyntaxKind.ThisKeyword]: "'this'",
  [SyntaxKind.AwaitExpression]: "'await'",
  [SyntaxKind.YieldExpression]: "'yield'",
  [SyntaxKind.TypeOfExpression]: "'typeof'",
  [SyntaxKind.DeleteExpression]: "'delete'",
  [SyntaxKind.VoidExpression]: "'void'",
  [SyntaxKind.TaggedTemplateExpression]: 'a tagged template',
  [SyntaxKind.ClassExpression]: 'a class expression',
  [SyntaxKind.SuperKeyword]: "'super'",
  [SyntaxKind.SpreadElement]: 'a spread (...)',
};
export const describeExpression = (n: TsNode): string => EXPRESSIONS[n.getKind()] ?? `a ${n.getKindName()} expression`;
