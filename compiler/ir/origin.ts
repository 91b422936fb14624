// Where a node came from in a loss's source: front ends (the .loss language, the TS reader)
// record the span of the call that made each node, so that compiler passes can report what they
// did at a source position (`file:line:col: note: ...`) without importing any front end.
// Nodes are hash-consed: the first call that made a node names it.
import type { Node } from './node.js';

export interface Origin {
  readonly file: string;
  /** 1-based */
  readonly line: number;
  /** 1-based */
  readonly column: number;
  readonly length: number;
  /** the source text of the call, shortened, for messages */
  readonly text: string;
  /** a `# lossc-disable-next-line` (or `// lossc-disable-next-line`) comment silences warnings here */
  readonly quiet?: boolean;
}

const origins = new WeakMap<Node, Origin>();

export function recordOrigin(n: Node, origin: Origin): void {
  if (!origins.has(n)) origins.set(n, origin);
}

export const originOf = (n: Node): Origin | undefined => origins.get(n);

/** The comment that silences a warning on the next source line. */
export const DISABLE_NEXT_LINE = /(#|\/\/)\s*lossc-disable-next-line\b/;

/** Whether line `line` (1-based) of a source's `lines` follows a disable comment (or carries one at its end). */
export function quietAt(lines: readonly string[], line: number): boolean {
  return DISABLE_NEXT_LINE.test(lines[line - 2] ?? '') || /(#|\/\/)\s*lossc-disable-line\b/.test(lines[line - 1] ?? '');
}

const names = new WeakMap<Node, string>();

/** A name the source gave a node (`let p = sigmoid(input)`): the first one names it. */
export function nameNode(n: Node, name: string): void {
  if (!names.has(n)) names.set(n, name);
}
export const nameOf = (n: Node): string | undefined => names.get(n);
