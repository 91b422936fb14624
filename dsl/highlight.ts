// The .loss language's tokens as highlighting classes, from the lexer itself (tokens.ts): an
// editor that colours .loss text (the playground's CodeMirror) sees exactly the words, numbers
// and operators the parser will, with no grammar of its own to drift from this one.
import type { TokenType } from './chevrotain.js';
import { Identifier, LParen, lex, LineEnd, NumberLiteral, StringLiteral } from './tokens.js';

export type HighlightClass = 'keyword' | 'name' | 'call' | 'number' | 'string' | 'operator' | 'punctuation' | 'comment' | 'invalid';

/** [from, to) in UTF-16 offsets of the text. */
export interface HighlightToken {
  readonly from: number;
  readonly to: number;
  readonly class: HighlightClass;
}

/** A keyword is a token whose longer alternative is a name (tokens.ts's `keyword()`): `loss`, `let`, `scan`... */
const isKeyword = (t: TokenType): boolean => {
  const alt = t.LONGER_ALT;
  return Array.isArray(alt) ? alt.includes(Identifier) : alt === Identifier;
};

const PUNCTUATION = /^[()[\]{},:;]$/;

/**
 * The highlighting classes of `text`, in order: every token the lexer reads, comments (which the
 * lexer skips: whatever starts with '#' or '//' between tokens) and characters it cannot read.
 * A name followed by '(' is a `call` (a builtin or a `fn`).
 */
export function highlightLossSource(text: string): HighlightToken[] {
  const { tokens, errors } = lex(text);
  const out: HighlightToken[] = [];
  const comments = (from: number, to: number): void => {
    const gap = text.slice(from, to);
    for (const m of gap.matchAll(/(?:#|\/\/)[^\r\n]*/g)) out.push({ from: from + m.index, to: from + m.index + m[0].length, class: 'comment' });
  };
  let at = 0;
  tokens.forEach((t, i) => {
    if (t.tokenType === LineEnd) return;
    comments(at, t.startOffset);
    at = t.startOffset + t.image.length;
    const type = t.tokenType;
    const next = tokens[i + 1];
    const cls: HighlightClass = isKeyword(type)
      ? 'keyword'
      : type === Identifier
        ? next?.tokenType === LParen && next.startOffset === at
          ? 'call'
          : 'name'
        : type === NumberLiteral
          ? 'number'
          : type === StringLiteral
            ? 'string'
            : PUNCTUATION.test(t.image)
              ? 'punctuation'
              : 'operator';
    out.push({ from: t.startOffset, to: at, class: cls });
  });
  comments(at, text.length);
  const invalid = errors.map((e): HighlightToken => ({ from: e.offset, to: e.offset + Math.max(1, e.length), class: 'invalid' }));
  // an unterminated string is no token: a '#' inside it starts no comment
  const inInvalid = (t: HighlightToken): boolean => invalid.some((e) => t.from >= e.from && t.from < e.to);
  return [...out.filter((t) => t.class !== 'comment' || !inInvalid(t)), ...invalid].sort((a, b) => a.from - b.from);
}
