// Type-checking code as a user's project would: strict TypeScript, Node's ES module resolution
// (package.json exports), no ambient @types. Tests of the package's types share these options.
import ts from 'typescript';

/** The diagnostics of `files` under those options, `extra` added (a lib, a stricter flag). */
export function userDiagnostics(files: readonly string[], extra: ts.CompilerOptions = {}): readonly ts.Diagnostic[] {
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
    ...extra,
  });
  return ts.getPreEmitDiagnostics(program);
}

/** `file:line: message` (line from 1), one line per diagnostic. */
export const diagnosticText = (d: ts.Diagnostic): string =>
  `${d.file?.fileName ?? ''}:${d.file ? d.file.getLineAndCharacterOfPosition(d.start!).line + 1 : 0}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
