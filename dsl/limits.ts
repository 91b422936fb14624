// Bounds on what the .loss reader accepts, so that any text, however hostile, gets diagnostics in
// about linear time and never overflows the stack: the parser, the visitor and a graph's build
// recurse once per level of nesting, so nesting is limited (with a diagnostic at the place), and
// the number of diagnostics reported is capped ("N more errors").
import type { IToken, TokenType } from './chevrotain.js';
import type { Diagnostic } from './diagnostics.js';
import * as T from './tokens.js';

/** Levels of nesting one expression may have: brackets, prefix operators, '**' chains and 'if's together. */
export const MAX_NESTING = 100;
/** Diagnostics reported for one source; the rest are counted in a last one ("N more errors"). */
export const MAX_DIAGNOSTICS = 100;

const is = (t: IToken | undefined, ...types: TokenType[]): boolean => !!t && types.some((x) => t.tokenType === x || (t.tokenType.CATEGORIES ?? []).includes(x));
/** a '+' or '-' is a prefix (unary) operator unless it follows something that ends an operand */
const endsOperand = (t: IToken | undefined): boolean =>
  is(t, T.Identifier, T.NumberLiteral, T.StringLiteral, T.RParen, T.RBracket, T.RBrace, T.True, T.False, T.None, T.Question);

/**
 * The first place where nesting goes past MAX_NESTING, as a diagnostic. Each open bracket is a
 * level; within one, each prefix operator ('-', '+', 'not'), '**' and 'if' opens a level that the
 * next binary operator, ',' or end of statement at that bracket closes.
 */
export function nestingDiagnostic(tokens: readonly IToken[], file: string): Diagnostic | null {
  const open: number[] = [0]; // per open bracket: the levels its prefix operators opened
  let total = 0;
  let previous: IToken | undefined;
  for (const t of tokens) {
    if (is(t, T.LParen, T.LBracket, T.LBrace)) {
      open.push(0);
      total++;
    } else if (is(t, T.RParen, T.RBracket, T.RBrace)) {
      if (open.length > 1) total -= 1 + open.pop()!;
      else {
        total -= open[0]!; // an unmatched closer: the parser reports it
        open[0] = 0;
      }
    } else if (is(t, T.Not, T.If, T.PowerOperator) || (is(t, T.AdditiveOperator) && !endsOperand(previous))) {
      open[open.length - 1]!++;
      total++;
    } else if (is(t, T.AdditiveOperator, T.MultiplicativeOperator, T.ComparisonOperator, T.And, T.Or, T.Comma, T.StatementEnd, T.Equals)) {
      total -= open[open.length - 1]!;
      open[open.length - 1] = 0;
    }
    if (total > MAX_NESTING) {
      const brackets = open.length - 1;
      const message =
        brackets > MAX_NESTING / 2
          ? `more than ${MAX_NESTING / 2} brackets are open here (${brackets}): is a ')', ']' or '}' missing? Nest less, or split the expression with 'let'`
          : `this expression nests more than ${MAX_NESTING} levels deep (brackets, prefix operators, '**' and 'if' together): split it with 'let'`;
      return {
        severity: 'error',
        message,
        span: { file, line: t.startLine ?? 1, column: t.startColumn ?? 1, length: Math.max(1, t.image.length) },
      };
    }
    previous = t;
  }
  return null;
}

/** At most MAX_DIAGNOSTICS diagnostics, then one that says how many more there were. */
export function capDiagnostics(ds: readonly Diagnostic[], file: string): Diagnostic[] {
  if (ds.length <= MAX_DIAGNOSTICS) return [...ds];
  const rest = ds.slice(MAX_DIAGNOSTICS);
  const errors = rest.filter((d) => d.severity === 'error').length;
  const last = rest[0]!.span;
  const more = errors === rest.length ? `${errors} more error${errors === 1 ? '' : 's'}` : `${rest.length} more diagnostics (${errors} errors)`;
  return [...ds.slice(0, MAX_DIAGNOSTICS), { severity: errors ? 'error' : 'warning', message: `${more} not shown`, span: { ...last, file } }];
}
