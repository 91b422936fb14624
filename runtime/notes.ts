// The stabilisation stage's findings as diagnostics: `file:line:col: note: log(sigmoid(input))
// computed as logSigmoid(input) (finite for large |input|)`, and warnings for what it could not
// make stable. A loss built with the TS builders has no source file: its findings are placed at
// the loss's name, line 0.
import type { Finding } from '../compiler/passes/stabilize.js';
import type { Diagnostic } from '../dsl/diagnostics.js';

export function findingsToDiagnostics(lossName: string, findings: readonly Finding[]): Diagnostic[] {
  return findings.map((f) => {
    const o = f.origin;
    const span = o ? { file: o.file, line: o.line, column: o.column, length: o.length } : { file: lossName, line: 0, column: 0, length: 0 };
    return { severity: f.severity, message: f.message, span };
  });
}
