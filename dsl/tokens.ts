// The tokens of the .loss language, and the lexer. Operators of one precedence level share a
// token category (AdditiveOperator, MultiplicativeOperator, ...), so the grammar has one rule per
// level and the visitor reads the actual operator off the token.
//
// Newlines end statements, Go-style: after lexing, a newline becomes a LineEnd token when the
// line's last token can end an expression and no '(' or '[' is open; otherwise it is dropped.
// So an expression continues onto the next line when the line ends with an operator or a comma,
// or inside parentheses. A scan's header (from 'scan' to its '{') may span lines freely.
import { createToken, createTokenInstance, Lexer, type IToken, type TokenType, type ILexingError } from './chevrotain.js';

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/, label: 'a name' });
/**
 * A soft keyword is also an Identifier (a token category): it starts a declaration where one can
 * start, and is an ordinary name elsewhere, so `let loss = ...` and an input named `type` work.
 */
const keyword = (word: string, soft = false): TokenType =>
  createToken({
    name: word[0]!.toUpperCase() + word.slice(1),
    pattern: new RegExp(word),
    longer_alt: Identifier,
    label: `'${word}'`,
    categories: soft ? [Identifier] : [],
  });

export const Loss = keyword('loss', true);
export const Fn = keyword('fn', true);
export const Type = keyword('type', true);
export const Option = keyword('option', true);
export const Check = keyword('check', true);
/** words with a meaning in one place only (a shape, an option, a scan's header): names elsewhere */
export const Like = keyword('like', true);
export const Without = keyword('without', true);
export const Cases = keyword('cases', true);
export const Over = keyword('over', true);
export const With = keyword('with', true);
export const In = keyword('in', true);
export const Step = keyword('step', true);
export const Let = keyword('let');
export const Return = keyword('return');
export const If = keyword('if');
export const Else = keyword('else');
export const Nograd = keyword('nograd');
export const None = keyword('none');
export const True = keyword('true');
export const False = keyword('false');
export const And = keyword('and');
export const Or = keyword('or');
export const Not = keyword('not');
export const Scan = keyword('scan');

/** `1`, `0.5`, `1e-8`, `.5`; a trailing `f` rounds the value to float32 (`1e-12f`), as a C float literal. */
export const NumberLiteral = createToken({ name: 'NumberLiteral', pattern: /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?f?/, label: 'a number' });
export const StringLiteral = createToken({ name: 'StringLiteral', pattern: /'[^'\r\n]*'|"[^"\r\n]*"/, label: 'a string' });
/** Matched only when StringLiteral is not: the lexer turns it into an "unterminated string" error. */
export const UnterminatedString = createToken({ name: 'UnterminatedString', pattern: /'[^'\r\n]*|"[^"\r\n]*/, label: 'an unterminated string' });

export const ComparisonOperator = createToken({ name: 'ComparisonOperator', pattern: Lexer.NA, label: 'a comparison' });
export const AdditiveOperator = createToken({ name: 'AdditiveOperator', pattern: Lexer.NA, label: "'+' or '-'" });
export const MultiplicativeOperator = createToken({ name: 'MultiplicativeOperator', pattern: Lexer.NA, label: "'*' or '/'" });
export const PowerOperator = createToken({ name: 'PowerOperator', pattern: Lexer.NA, label: "'**'" });
/** A statement's end: an explicit ';' or a newline that ends a line (see insertLineEnds). */
export const StatementEnd = createToken({ name: 'StatementEnd', pattern: Lexer.NA, label: 'the end of the statement' });

const op = (name: string, pattern: RegExp, label: string, category?: TokenType): TokenType =>
  createToken({ name, pattern, label, categories: category ? [category] : [] });
export const EqualEqual = op('EqualEqual', /==/, "'=='", ComparisonOperator);
export const NotEqual = op('NotEqual', /!=/, "'!='", ComparisonOperator);
export const LessEqual = op('LessEqual', /<=/, "'<='", ComparisonOperator);
export const GreaterEqual = op('GreaterEqual', />=/, "'>='", ComparisonOperator);
export const Less = op('Less', /</, "'<'", ComparisonOperator);
export const Greater = op('Greater', />/, "'>'", ComparisonOperator);
export const StarStar = op('StarStar', /\*\*/, "'**'", PowerOperator);
export const Caret = op('Caret', /\^/, "'^'", PowerOperator);
export const Star = op('Star', /\*/, "'*'", MultiplicativeOperator);
export const Slash = op('Slash', /\//, "'/'", MultiplicativeOperator);
export const Plus = op('Plus', /\+/, "'+'", AdditiveOperator);
export const Arrow = op('Arrow', /->/, "'->'");
export const Minus = op('Minus', /-/, "'-'", AdditiveOperator);
export const Equals = op('Equals', /=/, "'='");
export const LParen = op('LParen', /\(/, "'('");
export const RParen = op('RParen', /\)/, "')'");
export const LBracket = op('LBracket', /\[/, "'['");
export const RBracket = op('RBracket', /]/, "']'");
export const LBrace = op('LBrace', /\{/, "'{'");
export const RBrace = op('RBrace', /}/, "'}'");
export const Comma = op('Comma', /,/, "','");
export const Colon = op('Colon', /:/, "':'");
export const Question = op('Question', /\?/, "'?'");
export const Pipe = op('Pipe', /\|/, "'|'");
export const Semicolon = op('Semicolon', /;/, "';'", StatementEnd);
/** Never lexed directly: made from a Newline by insertLineEnds. */
export const LineEnd = createToken({ name: 'LineEnd', pattern: Lexer.NA, categories: [StatementEnd], label: 'the end of the line' });

/** A line ends with LF, CRLF or a lone CR (classic Mac files): each is one line break, as chevrotain counts them. */
const Newline = createToken({ name: 'Newline', pattern: /\r\n?|\n/, line_breaks: true });
const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t]+/, group: Lexer.SKIPPED });
const Comment = createToken({ name: 'Comment', pattern: /(?:#|\/\/)[^\r\n]*/, group: Lexer.SKIPPED });

/** In matching order: comments before '/', longer operators before their prefixes, keywords before names. */
export const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  Newline,
  Loss,
  Fn,
  Type,
  Option,
  Check,
  Without,
  Like,
  Cases,
  Over,
  With,
  In,
  Step,
  Let,
  Return,
  If,
  Else,
  Nograd,
  None,
  True,
  False,
  And,
  Or,
  Not,
  Scan,
  Identifier,
  NumberLiteral,
  StringLiteral,
  UnterminatedString,
  EqualEqual,
  NotEqual,
  LessEqual,
  GreaterEqual,
  Less,
  Greater,
  StarStar,
  Caret,
  Star,
  Slash,
  Plus,
  Arrow,
  Minus,
  Equals,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Colon,
  Question,
  Pipe,
  Semicolon,
  ComparisonOperator,
  AdditiveOperator,
  MultiplicativeOperator,
  PowerOperator,
  StatementEnd,
  LineEnd,
];

// built on first use, not when lossc is imported (building it analyses every token pattern)
let lexer: InstanceType<typeof Lexer> | undefined;
const makeLexer = (): InstanceType<typeof Lexer> =>
  new Lexer(allTokens, {
    positionTracking: 'full',
    ensureOptimizations: false,
    errorMessageProvider: {
      buildUnexpectedCharactersMessage: (text, offset, length) =>
        length === 1 ? `unexpected character '${text.charAt(offset)}'` : `unexpected characters '${text.substr(offset, length)}'`,
      buildUnableToPopLexerModeMessage: () => 'internal error: lexer mode stack is empty',
    },
  });

export interface LexResult {
  readonly tokens: IToken[];
  readonly errors: ILexingError[];
}

export function lex(text: string): LexResult {
  const result = (lexer ??= makeLexer()).tokenize(text);
  const errors = [...result.errors];
  for (const t of result.tokens) {
    if (t.tokenType === UnterminatedString)
      errors.push({
        offset: t.startOffset,
        line: t.startLine,
        column: t.startColumn,
        length: t.image.length,
        message: 'unterminated string: add the closing quote on the same line',
      });
  }
  const tokens = insertLineEnds(result.tokens.filter((t) => t.tokenType !== UnterminatedString));
  return { tokens, errors };
}

/** Tokens after which a newline ends the statement (Go's rule). */
const endsAnExpression = new Set<TokenType>([
  Identifier,
  Loss,
  Fn,
  Type,
  Option,
  Check,
  Like,
  Without,
  Cases,
  Over,
  With,
  In,
  Step,
  NumberLiteral,
  StringLiteral,
  RParen,
  RBracket,
  RBrace,
  True,
  False,
  None,
  Question,
]);
/** A newline before these does not end the statement: `}\nelse {`, and `loss L(...)\n{`. */
const continuesTheStatement = new Set<TokenType>([Else, LBrace]);

function insertLineEnds(tokens: readonly IToken[]): IToken[] {
  // the first token after each run of newlines, found in one backward pass (linear in blank lines)
  const after: (IToken | undefined)[] = new Array(tokens.length);
  for (let i = tokens.length - 1, next: IToken | undefined; i >= 0; i--) {
    after[i] = next;
    if (tokens[i]!.tokenType !== Newline) next = tokens[i];
  }
  const out: IToken[] = [];
  let depth = 0; // open '(' and '['
  let scanHeader: number | null = null; // the depth of a scan whose header ('scan ... {') is being read
  tokens.forEach((t, i) => {
    if (t.tokenType === LParen || t.tokenType === LBracket) depth++;
    else if (t.tokenType === RParen || t.tokenType === RBracket) depth = Math.max(0, depth - 1);
    else if (t.tokenType === Scan && scanHeader === null) scanHeader = depth;
    else if (t.tokenType === LBrace && scanHeader === depth) scanHeader = null;
    if (t.tokenType !== Newline) return void out.push(t);
    if (scanHeader !== null) return; // a scan's header may span lines, up to its '{'
    const last = out[out.length - 1];
    const next = after[i];
    if (depth === 0 && last && endsAnExpression.has(last.tokenType) && !(next && continuesTheStatement.has(next.tokenType))) {
      out.push(createTokenInstance(LineEnd, '', t.startOffset, t.startOffset, t.startLine!, t.startLine!, t.startColumn!, t.startColumn!));
    }
  });
  return out;
}
