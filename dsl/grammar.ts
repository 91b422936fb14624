// The .loss grammar: a chevrotain CstParser whose rules are class fields. One rule per
// precedence level, loosest first (the tokens' categories group the operators of a level):
//
//   expression  := ifExpression | disjunction
//   disjunction := conjunction ('or' conjunction)*
//   conjunction := negation ('and' negation)*
//   negation    := 'not' negation | comparison
//   comparison  := additive (('<' | '<=' | '>' | '>=' | '==' | '!=') additive)?    (chains are an error)
//   additive    := multiplicative (('+' | '-') multiplicative)*
//   multiplicative := unary (('*' | '/') unary)*
//   unary       := ('-' | '+') unary | power
//   power       := primary (('**' | '^') unary)?     right-associative; -x**2 is -(x**2), as in Python
//
// dsl/README.md has the whole grammar with examples; toGraph.ts gives it meaning.
import { CstParser, type CstNode, type ICstVisitor, type IRecognitionException, type IToken } from './chevrotain.js';
import * as T from './tokens.js';
import { MAX_SYNTAX_ERRORS, SyntaxErrorMessages, TooManySyntaxErrors } from './syntaxErrors.js';

class LossParser extends CstParser {
  constructor(readonly messages: SyntaxErrorMessages) {
    // chevrotain's grammar validations cost ~0.3 s at every start; the tests construct the parser
    // with them on (LOSSC_VALIDATE_GRAMMAR, set in vitest.config.ts), so a grammar mistake is caught there
    super(T.allTokens, {
      recoveryEnabled: true,
      nodeLocationTracking: 'full',
      errorMessageProvider: messages,
      maxLookahead: 3,
      skipValidations: !validateGrammar(),
    });
    this.performSelfAnalysis();
  }

  // ---------------------------------------------------------------- declarations

  file = this.RULE('file', () => {
    this.MANY(() =>
      this.OR([
        { ALT: () => this.SUBRULE(this.lossDeclaration) },
        { ALT: () => this.SUBRULE(this.functionDeclaration) },
        { ALT: () => this.SUBRULE(this.typeDeclaration) },
        { ALT: () => this.CONSUME(T.StatementEnd) },
      ]),
    );
  });

  /** loss Name(input: f32[N, C], nograd target: f32[*]) { statements } */
  lossDeclaration = this.RULE('lossDeclaration', () => {
    this.CONSUME(T.Loss);
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.CONSUME(T.LParen);
    this.OPTION(() => {
      this.SUBRULE(this.inputDeclaration);
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.SUBRULE2(this.inputDeclaration);
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RParen);
    this.SUBRULE(this.lossBody);
  });

  lossBody = this.RULE('lossBody', () => {
    this.CONSUME(T.LBrace);
    this.MANY(() =>
      this.OR([
        { ALT: () => this.CONSUME(T.StringLiteral, { LABEL: 'doc' }) },
        { ALT: () => this.SUBRULE(this.optionDeclaration) },
        { ALT: () => this.SUBRULE(this.checkStatement) },
        { ALT: () => this.SUBRULE(this.letStatement) },
        { ALT: () => this.SUBRULE(this.returnStatement) },
        { ALT: () => this.CONSUME(T.StatementEnd) },
      ]),
    );
    this.CONSUME(T.RBrace);
  });

  /** fn name(a, b) = expression, or fn name(a, b) { lets; value }: inlined at each call, typed by its arguments */
  functionDeclaration = this.RULE('functionDeclaration', () => {
    this.CONSUME(T.Fn);
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.CONSUME(T.LParen);
    this.OPTION(() => {
      this.CONSUME2(T.Identifier, { LABEL: 'parameter' });
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.CONSUME3(T.Identifier, { LABEL: 'parameter' });
      });
    });
    this.CONSUME(T.RParen);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Equals);
          this.SUBRULE(this.expression);
        },
      },
      { ALT: () => this.SUBRULE(this.block) },
    ]);
  });

  /** type Reduction = 'none' | 'mean' | 'sum' */
  typeDeclaration = this.RULE('typeDeclaration', () => {
    this.CONSUME(T.Type);
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.CONSUME(T.Equals);
    this.SUBRULE(this.enumType);
  });

  inputDeclaration = this.RULE('inputDeclaration', () => {
    this.OPTION(() => this.CONSUME(T.Nograd));
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.CONSUME(T.Colon);
    this.SUBRULE(this.tensorType);
  });

  /** f32, f32[*], i32[N], float[N, C, *], f64[], i32 like input without 1 */
  tensorType = this.RULE('tensorType', () => {
    this.CONSUME(T.Identifier, { LABEL: 'element' });
    this.OPTION(() =>
      this.OR([
        {
          ALT: () => {
            this.CONSUME(T.LBracket);
            this.OPTION2(() => {
              this.SUBRULE(this.dimension);
              this.MANY(() => {
                this.CONSUME(T.Comma);
                this.SUBRULE2(this.dimension);
              });
            });
            this.CONSUME(T.RBracket);
          },
        },
        { ALT: () => this.SUBRULE(this.likeShape) },
      ]),
    );
  });

  /** like input, like input without 1, like a without -1: another tensor's shape (without one axis) */
  likeShape = this.RULE('likeShape', () => {
    this.CONSUME(T.Like);
    this.CONSUME(T.Identifier, { LABEL: 'like' });
    this.OPTION(() => {
      this.CONSUME(T.Without);
      this.OPTION2(() => this.CONSUME(T.Minus));
      this.CONSUME(T.NumberLiteral, { LABEL: 'axis' });
    });
  });

  dimension = this.RULE('dimension', () => {
    this.OR([{ ALT: () => this.CONSUME(T.Identifier) }, { ALT: () => this.CONSUME(T.NumberLiteral) }, { ALT: () => this.CONSUME(T.Star) }]);
  });

  /**
   * option beta: float = 1.0 / option reduction: 'none' | 'mean' = 'mean' / option weight: f32[C]? = none,
   * then `cases (1, 2)` (values that choose another graph) and `, "a description"`
   */
  optionDeclaration = this.RULE('optionDeclaration', () => {
    this.CONSUME(T.Option);
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.CONSUME(T.Colon);
    this.SUBRULE(this.optionType);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expression, { LABEL: 'default' });
    this.OPTION(() => {
      this.CONSUME(T.Cases);
      this.CONSUME(T.LParen);
      this.SUBRULE2(this.expression, { LABEL: 'case' });
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.SUBRULE3(this.expression, { LABEL: 'case' });
      });
      this.CONSUME(T.RParen);
    });
    this.OPTION2(() => {
      this.CONSUME2(T.Comma);
      this.CONSUME(T.StringLiteral, { LABEL: 'doc' });
    });
  });

  optionType = this.RULE('optionType', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.enumType) },
      { ALT: () => this.SUBRULE(this.functionType) },
      {
        ALT: () => {
          this.SUBRULE(this.tensorType);
          this.OPTION(() => this.CONSUME(T.Question));
        },
      },
    ]);
  });

  /** fn(f32, f32) -> f32: a function of tensors (a distance), given as an option */
  functionType = this.RULE('functionType', () => {
    this.CONSUME(T.Fn);
    this.CONSUME(T.LParen);
    this.OPTION(() => {
      this.SUBRULE(this.tensorType, { LABEL: 'parameter' });
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.SUBRULE2(this.tensorType, { LABEL: 'parameter' });
      });
    });
    this.CONSUME(T.RParen);
    this.CONSUME(T.Arrow);
    this.SUBRULE3(this.tensorType, { LABEL: 'result' });
  });

  enumType = this.RULE('enumType', () => {
    this.CONSUME(T.StringLiteral);
    this.MANY(() => {
      this.CONSUME(T.Pipe);
      this.CONSUME2(T.StringLiteral);
    });
  });

  /** check range(input, 0, 1), "all elements of input should be between 0 and 1" / check ctc(...) */
  checkStatement = this.RULE('checkStatement', () => {
    this.CONSUME(T.Check);
    this.CONSUME(T.Identifier, { LABEL: 'kind' });
    this.CONSUME(T.LParen);
    this.OPTION(() => this.SUBRULE(this.arguments));
    this.CONSUME(T.RParen);
    this.OPTION2(() => {
      this.CONSUME(T.Comma);
      this.CONSUME(T.StringLiteral, { LABEL: 'message' });
    });
  });

  letStatement = this.RULE('letStatement', () => {
    this.CONSUME(T.Let);
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expression);
  });

  returnStatement = this.RULE('returnStatement', () => {
    this.CONSUME(T.Return);
    this.SUBRULE(this.expression);
  });

  // ---------------------------------------------------------------- expressions

  expression = this.RULE('expression', () => {
    this.OR([{ ALT: () => this.SUBRULE(this.ifExpression) }, { ALT: () => this.SUBRULE(this.scanExpression) }, { ALT: () => this.SUBRULE(this.disjunction) }]);
  });

  /**
   * scan a = start over e in emit like a with skip = canSkip like a, n = lengths like a without -1 step t { next }:
   * a recurrence over the first axis of the `over` sequences, its states stacked
   */
  scanExpression = this.RULE('scanExpression', () => {
    this.CONSUME(T.Scan);
    this.CONSUME(T.Identifier, { LABEL: 'state' });
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expression, { LABEL: 'init' });
    this.CONSUME(T.Over);
    this.SUBRULE(this.scanOperand, { LABEL: 'sequence' });
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.scanOperand, { LABEL: 'sequence' });
    });
    this.OPTION(() => {
      this.CONSUME(T.With);
      this.SUBRULE3(this.scanOperand, { LABEL: 'constant' });
      this.MANY2(() => {
        this.CONSUME2(T.Comma);
        this.SUBRULE4(this.scanOperand, { LABEL: 'constant' });
      });
    });
    this.OPTION2(() => {
      this.CONSUME(T.Step);
      this.CONSUME2(T.Identifier, { LABEL: 'step' });
    });
    this.SUBRULE(this.block, { LABEL: 'body' });
  });

  /** `e in emit` (a sequence) or `n = lengths` (a constant), with its step's shape relative to the state */
  scanOperand = this.RULE('scanOperand', () => {
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.OR([{ ALT: () => this.CONSUME(T.In) }, { ALT: () => this.CONSUME(T.Equals) }]);
    this.SUBRULE(this.expression, { LABEL: 'value' });
    this.OPTION(() => this.SUBRULE(this.likeShape));
  });

  /** if <structural condition> { lets; value } else { lets; value }: chosen while the graph is built */
  ifExpression = this.RULE('ifExpression', () => {
    this.CONSUME(T.If);
    this.SUBRULE(this.expression, { LABEL: 'condition' });
    this.SUBRULE(this.block, { LABEL: 'then' });
    this.CONSUME(T.Else);
    this.OR([{ ALT: () => this.SUBRULE2(this.ifExpression, { LABEL: 'elseIf' }) }, { ALT: () => this.SUBRULE2(this.block, { LABEL: 'else' }) }]);
  });

  block = this.RULE('block', () => {
    this.CONSUME(T.LBrace);
    this.MANY(() => this.OR([{ ALT: () => this.SUBRULE(this.letStatement) }, { ALT: () => this.CONSUME(T.StatementEnd) }]));
    this.SUBRULE(this.expression);
    this.MANY2(() => this.CONSUME2(T.StatementEnd));
    this.CONSUME(T.RBrace);
  });

  disjunction = this.RULE('disjunction', () => {
    this.SUBRULE(this.conjunction);
    this.MANY(() => {
      this.CONSUME(T.Or);
      this.SUBRULE2(this.conjunction);
    });
  });

  conjunction = this.RULE('conjunction', () => {
    this.SUBRULE(this.negation);
    this.MANY(() => {
      this.CONSUME(T.And);
      this.SUBRULE2(this.negation);
    });
  });

  negation = this.RULE('negation', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Not);
          this.SUBRULE(this.negation);
        },
      },
      { ALT: () => this.SUBRULE(this.comparison) },
    ]);
  });

  /** chains such as 1 < x < 2 parse, so that the visitor can say they are not allowed */
  comparison = this.RULE('comparison', () => {
    this.SUBRULE(this.additive);
    this.MANY(() => {
      this.CONSUME(T.ComparisonOperator);
      this.SUBRULE2(this.additive);
    });
  });

  additive = this.RULE('additive', () => {
    this.SUBRULE(this.multiplicative);
    this.MANY(() => {
      this.CONSUME(T.AdditiveOperator);
      this.SUBRULE2(this.multiplicative);
    });
  });

  multiplicative = this.RULE('multiplicative', () => {
    this.SUBRULE(this.unary);
    this.MANY(() => {
      this.CONSUME(T.MultiplicativeOperator);
      this.SUBRULE2(this.unary);
    });
  });

  unary = this.RULE('unary', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.AdditiveOperator);
          this.SUBRULE(this.unary);
        },
      },
      { ALT: () => this.SUBRULE(this.power) },
    ]);
  });

  power = this.RULE('power', () => {
    this.SUBRULE(this.primary);
    this.OPTION(() => {
      this.CONSUME(T.PowerOperator);
      this.SUBRULE(this.unary, { LABEL: 'exponent' });
    });
  });

  primary = this.RULE('primary', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.NumberLiteral) },
      { ALT: () => this.CONSUME(T.StringLiteral) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      { ALT: () => this.CONSUME(T.None) },
      { ALT: () => this.SUBRULE(this.nameOrCall) },
      { ALT: () => this.SUBRULE(this.parenthesized) },
    ]);
  });

  /** `x`, or a call `sum(x, axis=1, keepdims=true)` */
  nameOrCall = this.RULE('nameOrCall', () => {
    this.CONSUME(T.Identifier, { LABEL: 'name' });
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.OPTION2(() => this.SUBRULE(this.arguments));
      this.CONSUME(T.RParen);
    });
  });

  arguments = this.RULE('arguments', () => {
    this.SUBRULE(this.argument);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.argument);
    });
    this.OPTION(() => this.CONSUME2(T.Comma));
  });

  argument = this.RULE('argument', () => {
    this.OPTION(() => {
      this.CONSUME(T.Identifier, { LABEL: 'keyword' });
      this.CONSUME(T.Equals);
    });
    this.SUBRULE(this.expression);
  });

  /** `(a)`, or a tuple `(x, dx)` / `(0, 1)` */
  parenthesized = this.RULE('parenthesized', () => {
    this.CONSUME(T.LParen);
    this.SUBRULE(this.expression);
    this.MANY(() => {
      this.CONSUME(T.Comma);
      this.SUBRULE2(this.expression);
    });
    this.OPTION(() => this.CONSUME2(T.Comma));
    this.CONSUME(T.RParen);
  });
}

// One parser for the process, as chevrotain recommends: building one analyses the grammar
// (~50 ms), so it is built on the first parse or visit, not when lossc is imported.
const messages = new SyntaxErrorMessages();
let theParser: LossParser | undefined;
const parser = (): LossParser => (theParser ??= new LossParser(messages));

/** LOSSC_VALIDATE_GRAMMAR=1 (the tests set it); no `process` in a browser. */
const validateGrammar = (): boolean =>
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['LOSSC_VALIDATE_GRAMMAR'] === '1';

export interface ParseResult {
  readonly cst: CstNode;
  readonly errors: readonly IRecognitionException[];
  /** the parse stopped at MAX_SYNTAX_ERRORS errors: there may be more */
  readonly stopped?: boolean;
}

export function parseTokens(tokens: IToken[]): ParseResult {
  const p = parser();
  messages.tokens = tokens;
  p.input = tokens;
  try {
    const cst = p.file();
    return { cst, errors: p.errors };
  } catch (e) {
    if (!(e instanceof TooManySyntaxErrors)) throw e;
    return { cst: { name: 'file', children: {} }, errors: p.errors.slice(0, MAX_SYNTAX_ERRORS), stopped: true };
  }
}

/**
 * The visitor base class for this grammar (chevrotain checks that it visits every rule):
 * chevrotain's, whose methods use only `this` and the rule names, reached through the parser
 * when first called.
 */
export class BaseLossVisitor implements ICstVisitor<unknown, unknown> {
  visit(cstNode: CstNode | CstNode[], param?: unknown): unknown {
    return chevrotainVisitor().visit.call(this, cstNode, param);
  }
  validateVisitor(): void {
    chevrotainVisitor().validateVisitor.call(this);
  }
}
let visitorPrototype: ICstVisitor<unknown, unknown> | undefined;
const chevrotainVisitor = (): ICstVisitor<unknown, unknown> =>
  (visitorPrototype ??= parser().getBaseCstVisitorConstructor().prototype as ICstVisitor<unknown, unknown>);
