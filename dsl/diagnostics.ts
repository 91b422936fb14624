// Diagnostics are data, not throws: every front end (the .loss DSL, the TS reader) returns them,
// and the CLI prints them like a compiler does.

export interface Span {
  readonly file: string;
  /** 1-based */
  readonly line: number;
  /** 1-based */
  readonly column: number;
  readonly length: number;
}

export interface Diagnostic {
  readonly severity: 'error' | 'warning' | 'note';
  readonly message: string;
  readonly span: Span;
  readonly notes?: readonly { readonly message: string; readonly span?: Span }[];
}

/** `file:line:col: error: message`, then the source line and a caret under the span. */
export function formatDiagnostic(d: Diagnostic, source?: string): string {
  const { file, line, column, length } = d.span;
  const out = [`${file}:${line}:${column}: ${d.severity}: ${d.message}`];
  const text = source === undefined ? undefined : lineOf(source, line);
  if (text !== undefined) {
    out.push(`  ${text}`);
    out.push(`  ${' '.repeat(Math.max(0, column - 1))}${'^'.repeat(Math.max(1, Math.min(length, text.length - column + 1)))}`);
  }
  for (const n of d.notes ?? []) out.push(n.span ? `${n.span.file}:${n.span.line}:${n.span.column}: note: ${n.message}` : `  note: ${n.message}`);
  return out.join('\n');
}

/** Line `line` (1-based) of `source`, lines ending with LF, CRLF or a lone CR; found without splitting the whole text. */
export function lineOf(source: string, line: number): string | undefined {
  const ends = /\r\n?|\n/g;
  let start = 0;
  for (let l = 1; l < line; l++) {
    const m = ends.exec(source);
    if (!m) return undefined;
    start = m.index + m[0].length;
  }
  ends.lastIndex = start;
  const m = ends.exec(source);
  return source.slice(start, m ? m.index : source.length);
}

/** Each diagnostic once (same place, same message), in source order. */
export function sortAndDedupe(ds: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds
    .filter((d) => {
      const key = `${d.span.line}:${d.span.column}:${d.message}`;
      return !seen.has(key) && Boolean(seen.add(key));
    })
    .sort((a, b) => a.span.line - b.span.line || a.span.column - b.span.column);
}

/** Thrown by APIs that must produce a value (e.g. compile()) when a source has errors. */
export class CompileError extends Error {
  constructor(
    readonly diagnostics: readonly Diagnostic[],
    sources: ReadonlyMap<string, string> = new Map(),
  ) {
    super(diagnostics.map((d) => formatDiagnostic(d, sources.get(d.span.file))).join('\n'));
    this.name = 'CompileError';
  }
}
