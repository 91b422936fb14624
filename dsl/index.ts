// The .loss front end: source text -> LossDefs, with every problem reported as a diagnostic.
//
//   lex (tokens.ts) -> parse (grammar.ts) -> visit and check (toGraph.ts) -> trial builds
//
// The trial builds instantiate each loss (and each of its overloads) once per combination of its
// structural options (numeric options' cases included, and a function option given or not), so
// errors only a builder can see (a reduction name the builder rejects, say) are reported now,
// at the call's span, rather than when someone first calls the loss. An error("...") the loss
// raises on purpose for some option value is not a mistake.
import { EOF, type IRecognitionException, type IToken } from './chevrotain.js';
import type { LossDef } from '../compiler/loss.js';
import { trialBuild } from './trial.js';
import { CompileError, sortAndDedupe, type Diagnostic, type Span } from './diagnostics.js';
import { lex, LineEnd } from './tokens.js';
import { parseTokens } from './grammar.js';
import { Source } from './lower.js';
import { toLossDefs } from './toGraph.js';
import { capDiagnostics, MAX_DIAGNOSTICS, nestingDiagnostic } from './limits.js';
import { MAX_SYNTAX_ERRORS } from './syntaxErrors.js';

export { CompileError, formatDiagnostic, type Diagnostic } from './diagnostics.js';

export interface ParseOptions {
  /**
   * Build each loss once per combination of its structural options, so that errors only a
   * builder finds are reported now (default). The built-in library, whose every combination the
   * tests build, skips it to load fast.
   */
  readonly trialBuilds?: boolean;
}

/**
 * The losses of a .loss source and its diagnostics. Any text gets an answer: diagnostics (at most
 * MAX_DIAGNOSTICS, then a count), never an exception, in about linear time (see limits.ts).
 */
export function parseLossSource(text: string, file: string, opts: ParseOptions = {}): { losses: LossDef[]; diagnostics: Diagnostic[] } {
  if (typeof text !== 'string') throw new TypeError(`parseLossSource: the source must be a string, got ${text === null ? 'null' : typeof text}`);
  try {
    const { losses, diagnostics } = readLossSource(text, file, opts);
    return { losses, diagnostics: capDiagnostics(diagnostics, file) };
  } catch (e) {
    // the limits should make this unreachable; if some construct still recurses too deeply, say so as a diagnostic
    const what =
      e instanceof RangeError && /call stack|array length|string length/i.test(e.message)
        ? 'the source is nested too deeply or is too large to read'
        : `internal error while reading the source: ${(e as Error).message}`;
    return { losses: [], diagnostics: [error(what, { file, line: 1, column: 1, length: 1 })] };
  }
}

function readLossSource(text: string, file: string, opts: ParseOptions): { losses: LossDef[]; diagnostics: Diagnostic[] } {
  const source = new Source(file, text);
  const lexed = lex(text);
  const syntax: Diagnostic[] = lexed.errors.map((e) => error(e.message, { file, line: e.line ?? 1, column: e.column ?? 1, length: e.length }));
  if (syntax.length > MAX_DIAGNOSTICS) return { losses: [], diagnostics: sortAndDedupe(syntax) };
  const tooDeep = nestingDiagnostic(lexed.tokens, file);
  if (tooDeep) return { losses: [], diagnostics: sortAndDedupe([...syntax, tooDeep]) };
  const parsed = parseTokens(lexed.tokens);
  // a character the lexer dropped leaves the parser confused: report it alone
  if (syntax.length === 0) syntax.push(...parsed.errors.map((e) => error(e.message, syntaxErrorSpan(e, lexed.tokens, file))));
  if (parsed.stopped && syntax.length) {
    const last = syntax[syntax.length - 1]!.span;
    syntax.push(error(`more syntax errors follow; reading stopped after ${MAX_SYNTAX_ERRORS}`, last));
  }
  if (syntax.length) return { losses: [], diagnostics: sortAndDedupe(syntax) };

  const read = toLossDefs(parsed.cst, source);
  const diagnostics = [...read.diagnostics];
  const losses: LossDef[] = [];
  for (const { def, at } of read.losses) {
    const problems = opts.trialBuilds === false ? [] : [def, ...(def.overloads ?? [])].flatMap((form) => trialBuild(form, source.span(at)));
    diagnostics.push(...problems);
    if (problems.length === 0) losses.push(def);
  }
  return { losses, diagnostics: sortAndDedupe(diagnostics) };
}

/** The losses of a source, or a CompileError listing every diagnostic. */
export function compileLossSource(text: string, file: string, opts: ParseOptions = {}): LossDef[] {
  const { losses, diagnostics } = parseLossSource(text, file, opts);
  if (diagnostics.some((d) => d.severity === 'error')) throw new CompileError(diagnostics, new Map([[file, text]]));
  return losses;
}

const error = (message: string, span: Span): Diagnostic => ({ severity: 'error', message, span });

/** At the unexpected token; at the end of the last token when the file ended early. */
function syntaxErrorSpan(e: IRecognitionException, tokens: readonly IToken[], file: string): Span {
  const t = e.token;
  if (t.tokenType !== EOF && Number.isFinite(t.startOffset)) {
    return { file, line: t.startLine ?? 1, column: t.startColumn ?? 1, length: t.tokenType === LineEnd ? 1 : t.image.length };
  }
  const last = tokens[tokens.length - 1];
  return last ? { file, line: last.endLine ?? 1, column: (last.endColumn ?? 0) + 1, length: 1 } : { file, line: 1, column: 1, length: 1 };
}
