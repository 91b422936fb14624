// The .loss editor: CodeMirror 6, coloured by lossc's own lexer (highlightLossSource: the tokens
// the parser reads), with the compiler's diagnostics as squiggles at their file:line:col spans.
import { EditorState, RangeSetBuilder, type Text } from '@codemirror/state';
import {
  Decoration,
  EditorView,
  ViewPlugin,
  drawSelection,
  highlightActiveLine,
  keymap,
  lineNumbers,
  type DecorationSet,
  type ViewUpdate,
} from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { lintGutter, setDiagnostics, type Diagnostic as CmDiagnostic } from '@codemirror/lint';
import { highlightLossSource, type Diagnostic } from 'lossc';

const marks = new Map<string, Decoration>();
const mark = (cls: string): Decoration => {
  let m = marks.get(cls);
  if (!m) marks.set(cls, (m = Decoration.mark({ class: `tok-${cls}` })));
  return m;
};

function decorations(doc: Text): DecorationSet {
  const b = new RangeSetBuilder<Decoration>();
  let last = 0;
  for (const t of highlightLossSource(doc.toString())) {
    if (t.from < last || t.to <= t.from) continue; // ranges must be sorted and apart
    b.add(t.from, Math.min(t.to, doc.length), mark(t.class));
    last = t.to;
  }
  return b.finish();
}

const lossHighlighting = ViewPlugin.fromClass(
  class {
    decorations: DecorationSet;
    constructor(view: EditorView) {
      this.decorations = decorations(view.state.doc);
    }
    update(u: ViewUpdate): void {
      if (u.docChanged) this.decorations = decorations(u.state.doc);
    }
  },
  { decorations: (v) => v.decorations },
);

/** A span's 1-based line and column as offsets into the document (clamped to it). */
export function spanOffsets(doc: Text, line: number, column: number, length: number): { from: number; to: number } {
  const l = doc.line(Math.min(Math.max(1, line), doc.lines));
  const from = Math.min(l.from + Math.max(0, column - 1), l.to);
  return { from, to: Math.min(Math.max(from + Math.max(1, length), from), doc.length) };
}

const SEVERITY = { error: 'error', warning: 'warning', note: 'info' } as const;

export interface LossEditor {
  readonly view: EditorView;
  text(): string;
  setText(text: string): void;
  /** the compiler's diagnostics (and the stabilisation stage's notes) in the document */
  show(diagnostics: readonly Diagnostic[], file: string): void;
  /** put the cursor at a 1-based line and column */
  goto(line: number, column: number): void;
  /** scroll `offset` to the top of the editor, the cursor there */
  reveal(offset: number): void;
}

export function createEditor(parent: HTMLElement, text: string, onChange: (text: string) => void): LossEditor {
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: text,
      extensions: [
        lineNumbers(),
        history(),
        drawSelection(),
        highlightActiveLine(),
        lintGutter(),
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        lossHighlighting,
        EditorView.updateListener.of((u) => {
          if (u.docChanged) onChange(u.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    view,
    text: () => view.state.doc.toString(),
    setText: (t) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: t } }),
    show(diagnostics, file) {
      const doc = view.state.doc;
      const cm: CmDiagnostic[] = diagnostics
        .filter((d) => d.span.file === file && d.span.line >= 1)
        .map((d) => ({
          ...spanOffsets(doc, d.span.line, d.span.column, d.span.length),
          severity: SEVERITY[d.severity],
          source: `${d.span.line}:${d.span.column}`,
          message: [d.message, ...(d.notes ?? []).map((n) => `note: ${n.message}`)].join('\n'),
        }));
      view.dispatch(setDiagnostics(view.state, cm));
    },
    goto(line, column) {
      const { from } = spanOffsets(view.state.doc, line, column, 0);
      view.dispatch({ selection: { anchor: from }, scrollIntoView: true });
      view.focus();
    },
    reveal(offset) {
      const at = Math.min(Math.max(0, offset), view.state.doc.length);
      view.dispatch({ selection: { anchor: at }, effects: EditorView.scrollIntoView(at, { y: 'start', yMargin: 8 }) });
    },
  };
}
