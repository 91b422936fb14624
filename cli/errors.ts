// What the `lossc` command reports instead of a stack trace: usage mistakes (exit 2), mistakes in
// a loss's source (exit 1, printed like a compiler's diagnostics), and other user errors (exit 1).
import type { Diagnostic } from '../dsl/diagnostics.js';

/** Bad command-line usage: a missing file, an unknown loss name, malformed --options. Exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A loss source with errors: its diagnostics, printed with the source line and a caret. Exit 1. */
export class SourceErrors extends Error {
  override readonly name = 'SourceErrors';
  constructor(
    readonly diagnostics: readonly Diagnostic[],
    readonly source: string,
  ) {
    super(`${diagnostics.length} error${diagnostics.length === 1 ? '' : 's'}`);
  }
}

/** Something the user asked for that cannot be done (a shape the loss rejects, a failed check). Exit 1. */
export class UserError extends Error {
  override readonly name = 'UserError';
}
