// Reading chevrotain's CST: children by label, source positions, source order. A visitor method
// receives a rule's children (grouped by label), not the node, so these helpers live apart.
import type { CstElement, CstNode, IToken } from './chevrotain.js';
import type { Loc } from './lower.js';

export type Children = Record<string, CstElement[] | undefined>;
export const tokens = (c: Children, key: string): IToken[] => (c[key] ?? []) as IToken[];
export const nodes = (c: Children, key: string): CstNode[] => (c[key] ?? []) as CstNode[];
export const first = (c: Children, key: string): IToken => tokens(c, key)[0]!;
export const child = (c: Children, key: string): CstNode => nodes(c, key)[0]!;
export const isToken = (e: CstElement): e is IToken => 'image' in e;
export const tokenLoc = (t: IToken): Loc => ({ start: t.startOffset, end: t.endOffset ?? t.startOffset, line: t.startLine ?? 1, column: t.startColumn ?? 1 });
export const elementLoc = (e: CstElement): Loc => {
  if (isToken(e)) return tokenLoc(e);
  const l = e.location!;
  return { start: l.startOffset, end: l.endOffset ?? l.startOffset, line: l.startLine ?? 1, column: l.startColumn ?? 1 };
};
/** Where a rule's children span (a visitor method sees the children, not the node). */
export function childrenLoc(c: Children): Loc {
  const locs = Object.values(c)
    .flatMap((es) => (es ?? []).map(elementLoc))
    .filter((l) => Number.isFinite(l.start));
  const start = locs.reduce((a, b) => (b.start < a.start ? b : a));
  return { ...start, end: Math.max(...locs.map((l) => l.end)) };
}
/** The children under `keys` in source order (the CST groups them by kind). */
export const inSourceOrder = (c: Children, keys: readonly string[]): CstElement[] =>
  keys.flatMap((k) => c[k] ?? []).sort((a, b) => elementLoc(a).start - elementLoc(b).start);
export const unquote = (t: IToken): string => t.image.slice(1, -1);
