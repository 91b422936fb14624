// Parse errors in plain words. chevrotain calls this provider with the rule it was in, the
// token it expected and the one it found; we say what was expected and where in the program,
// e.g. "expected ')' after the arguments of sum, found the end of the line".
import { EOF, type IParserErrorMessageProvider, type IToken, type TokenType } from './chevrotain.js';
import * as T from './tokens.js';

type Phrase = (at: Context) => string;
interface Context {
  /** the token before the error */
  readonly previous: IToken;
  /** the nearest unclosed '(' before the error, and the name just before it (a callee) */
  readonly openParen: IToken | undefined;
  readonly callee: string | undefined;
  /** the name declared by the nearest enclosing 'loss' or 'fn' */
  readonly declared: string;
  /** the nearest 'if' or 'scan' before the error: whose '{' is missing */
  readonly construct: 'if' | 'scan' | undefined;
}

/** ` of sum` / ` of check range`: the name when one is known (recovery can leave none), else nothing. */
const of = (name: string | undefined, prefix = ''): string => (name ? ` of ${prefix}${name}` : '');
/** where a ')' was expected: after a call's arguments, or to close a '(' */
const closeCall = (c: Context, prefix = ''): string =>
  c.callee
    ? `after the arguments${of(c.callee, prefix)}`
    : c.openParen
      ? `to close the '(' at ${c.openParen.startLine}:${c.openParen.startColumn}`
      : 'after the arguments';

/** What was expected, by "rule:expected token". */
const MISMATCH: Readonly<Record<string, Phrase>> = {
  'nameOrCall:RParen': (c) => `expected ')' ${closeCall(c)}`,
  'parenthesized:RParen': (c) => `expected ')' to close the '(' at ${c.openParen?.startLine}:${c.openParen?.startColumn}`,
  'lossDeclaration:Identifier': () => "expected the loss's name after 'loss'",
  'lossDeclaration:LParen': (c) => `expected '(' and the inputs after 'loss ${c.previous.image}'`,
  'lossDeclaration:RParen': (c) => `expected ',' or ')' after the inputs${of(c.declared)}`,
  'lossBody:LBrace': (c) => `expected '{' to start the body${of(c.declared)}`,
  'lossBody:RBrace': (c) => `expected a statement (let, option, check or return) or '}' to end the body${of(c.declared)}`,
  'inputDeclaration:Identifier': () => 'expected the name of an input',
  'inputDeclaration:Colon': (c) => `expected ':' and a type after the input '${c.previous.image}'`,
  'tensorType:Identifier': () => 'expected a type such as f32[N, C], i32[N] or float[*]',
  'tensorType:RBracket': () => "expected ',' or ']' after the dimensions",
  'optionDeclaration:Identifier': () => "expected the option's name after 'option'",
  'optionDeclaration:Colon': (c) => `expected ':' and a type after the option '${c.previous.image}'`,
  'optionDeclaration:Equals': () => "expected '=' and the option's default value (every option has one)",
  'enumType:StringLiteral': () => "expected a string after '|'",
  'typeDeclaration:Identifier': () => "expected the type's name after 'type'",
  'typeDeclaration:Equals': (c) => `expected '=' after 'type ${c.previous.image}'`,
  'checkStatement:Identifier': () => "expected the kind of check after 'check' (nonNegative, range, sameShape, ...)",
  'checkStatement:LParen': (c) => `expected '(' after 'check ${c.previous.image}'`,
  'checkStatement:RParen': (c) => `expected ')' ${closeCall(c, 'check ')}`,
  'checkStatement:Comma': () => "expected ',' and the error message after the check",
  'checkStatement:StringLiteral': () => "expected the error message (a string) after ','",
  'letStatement:Identifier': () => "expected a name after 'let'",
  'letStatement:Equals': (c) => `expected '=' after 'let ${c.previous.image}'`,
  'functionDeclaration:Identifier': () => "expected the function's name after 'fn'",
  'functionDeclaration:LParen': (c) => `expected '(' and the parameters after 'fn ${c.previous.image}'`,
  'functionDeclaration:RParen': (c) => `expected ',' or ')' after the parameters${of(c.declared)}`,
  'functionDeclaration:Equals': (c) => `expected '=' and the body after the parameters${of(c.declared)}`,
  'ifExpression:Else': () => "expected 'else' and a second branch: an 'if' chooses between two values",
  'block:LBrace': (c) =>
    c.construct === 'scan' ? "expected '{' and the body of scan (the next state) after its header" : "expected '{' after the condition of 'if'",
  'block:RBrace': () => "expected '}' after the value of the branch",
  'optionDeclaration:LParen': () => "expected '(' after 'cases': the cases are a list such as cases (1, 2)",
  'optionDeclaration:RParen': () => "expected ',' or ')' after the cases",
  'optionDeclaration:StringLiteral': () => "expected the option's description (a string) after ','",
  'functionType:LParen': () => "expected '(' and the parameter types after 'fn', as in fn(f32, f32) -> f32",
  'functionType:RParen': () => "expected ',' or ')' after the parameter types",
  'functionType:Arrow': () => "expected '->' and the result type after the parameter types, as in fn(f32, f32) -> f32",
  'likeShape:Identifier': () => "expected the name of a tensor after 'like'",
  'likeShape:NumberLiteral': () => "expected an axis (a whole number) after 'without'",
  'scanExpression:Identifier': (c) =>
    c.previous.tokenType === T.Scan
      ? "expected the state's name after 'scan', as in scan a = start over e in xs { ... }"
      : "expected the step's name after 'step'",
  'scanExpression:Equals': () => "expected '=' and the initial state after the state's name",
  'scanExpression:Over': () => "expected 'over' and the sequences to scan after the initial state, as in scan a = start over e in xs { ... }",
  'scanOperand:Identifier': () => "expected a name for the operand, as in 'e in emit' or 'n = lengths'",
};

/** What was expected where no alternative matched, by rule. */
const NO_ALTERNATIVE: Readonly<Record<string, Phrase>> = {
  ifExpression: () => "expected '{' or 'if' after 'else'",
  optionType: () =>
    "expected the option's type: float, int, bool, choices such as 'none' | 'mean', an optional tensor such as f32[C]?, or a function such as fn(f32, f32) -> f32",
  dimension: () => "expected a dimension: a name, a size or '*'",
  scanOperand: (c) => `expected 'in' and a sequence, or '=' and a constant, after '${c.previous.image}'`,
  functionDeclaration: (c) => `expected '=' and an expression, or a block { ... }, after the parameters${of(c.declared)}`,
};

const found = (t: IToken | undefined): string =>
  !t || t.tokenType === EOF ? 'the end of the file' : t.tokenType === T.LineEnd ? 'the end of the line' : `'${t.image}'`;

const label = (t: TokenType): string => t.LABEL ?? t.name;

/** An expression is missing: say after what, when the previous token makes that helpful. */
function expectedExpression(c: Context): string {
  const p = c.previous;
  const after =
    p.tokenType === T.LParen && c.callee
      ? ` in the arguments of ${c.callee}`
      : /^[^\w\s'"]+$|^(?:and|or|not|return|if)$/.test(p.image)
        ? ` after '${p.image}'`
        : '';
  return `expected an expression${after}`;
}

const EXPRESSION_RULES = new Set([
  'expression',
  'disjunction',
  'conjunction',
  'negation',
  'comparison',
  'additive',
  'multiplicative',
  'unary',
  'power',
  'primary',
]);

/** At most this many syntax errors are reported: then parsing stops (TooManySyntaxErrors). */
export const MAX_SYNTAX_ERRORS = 99; // and one diagnostic saying that reading stopped: MAX_DIAGNOSTICS in all

/** Thrown out of the parser once MAX_SYNTAX_ERRORS messages were built: recovery over a hopeless file costs time and says nothing new. */
export class TooManySyntaxErrors extends Error {}

/** How far back an error's context is looked for (its declaration, the open '('): bounds the cost of each message. */
const CONTEXT_TOKENS = 2000;

export class SyntaxErrorMessages implements IParserErrorMessageProvider {
  private tokenList: readonly IToken[] = [];
  private index = new Map<IToken, number>();
  private built = 0;

  /** the token vector being parsed (set before each parse), for context such as the callee */
  get tokens(): readonly IToken[] {
    return this.tokenList;
  }
  set tokens(tokens: readonly IToken[]) {
    this.tokenList = tokens;
    this.index = new Map();
    this.built = 0;
  }

  /** Count a message; past the cap, stop the parse. */
  private counted(message: string): string {
    if (++this.built > MAX_SYNTAX_ERRORS) throw new TooManySyntaxErrors(message);
    return message;
  }

  private indexOf(t: IToken): number {
    if (this.index.size === 0) this.tokenList.forEach((x, i) => this.index.set(x, i));
    return this.index.get(t) ?? -1;
  }

  buildMismatchTokenMessage(o: { expected: TokenType; actual: IToken; previous: IToken; ruleName: string }): string {
    if (o.expected === EOF) return this.buildNotAllInputParsedMessage({ firstRedundant: o.actual, ruleName: o.ruleName });
    const phrase = MISMATCH[`${o.ruleName}:${o.expected.name}`];
    const what = phrase ? phrase(this.context(o.previous)) : `expected ${label(o.expected)}`;
    return this.counted(`${what}, found ${found(o.actual)}`);
  }

  buildNotAllInputParsedMessage(o: { firstRedundant: IToken; ruleName: string }): string {
    return this.counted(`expected 'loss', 'fn' or 'type' at the top level, found ${found(o.firstRedundant)}`);
  }

  buildNoViableAltMessage(o: { actual: IToken[]; previous: IToken; ruleName: string }): string {
    const c = this.context(o.previous);
    const phrase = NO_ALTERNATIVE[o.ruleName];
    const what = phrase ? phrase(c) : EXPRESSION_RULES.has(o.ruleName) ? expectedExpression(c) : `unexpected ${found(o.actual[0])}`;
    return this.counted(`${what}, found ${found(o.actual[0])}`);
  }

  buildEarlyExitMessage(o: { actual: IToken[]; previous: IToken; ruleName: string }): string {
    return this.counted(`unexpected ${found(o.actual[0])} in ${o.ruleName}`);
  }

  private context(previous: IToken): Context {
    const at = this.indexOf(previous);
    let depth = 0;
    let openParen: IToken | undefined;
    let callee: string | undefined;
    let declared = '';
    let construct: Context['construct'];
    for (let i = at; i >= Math.max(0, at - CONTEXT_TOKENS); i--) {
      const t = this.tokens[i]!;
      if (!construct && t.tokenType === T.If) construct = 'if';
      if (!construct && t.tokenType === T.Scan) construct = 'scan';
      if (!openParen && t.tokenType === T.RParen) depth++;
      else if (!openParen && t.tokenType === T.LParen && depth-- === 0) {
        openParen = t;
        const before = this.tokens[i - 1];
        callee = before?.tokenType === T.Identifier ? before.image : undefined;
      }
      const declares = (t.tokenType === T.Loss || t.tokenType === T.Fn) && this.tokens[i + 2]?.tokenType === T.LParen;
      if (declares) {
        declared = this.tokens[i + 1]?.image ?? '';
        break;
      }
    }
    return { previous, openParen, callee, declared, construct };
  }
}
