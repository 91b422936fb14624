// Lowering: every DSL expression becomes a typed closure (Lowered). Its static type is checked
// when the file is read (errors are diagnostics, collected by a Reporter); its `eval` runs when
// a loss's graph is built and calls the builders, the ones TS users call (see calls.ts). Names
// live in Scopes: defined once, looked up outward, narrowed where an optional tensor is given.
import type { Graph, Node } from '../compiler/ir/node.js';
import type { ShapeExpr } from '../compiler/ir/shape.js';
import type { BuildContext, BuilderFunction } from '../compiler/loss.js';
import type { Diagnostic, Span } from './diagnostics.js';
import { quietAt, type Origin } from '../compiler/ir/origin.js';
import { ERROR, tensorOf, type StaticType } from './types.js';
import { LexicalScope } from './scope.js';

/** A shape no node has yet (affineShape's value): iota and broadcastTo take it. */
export class ShapeValue {
  constructor(
    readonly graph: Graph,
    readonly shape: ShapeExpr,
  ) {}
}

export type Value = Node | number | boolean | string | null | ShapeValue | BuilderFunction | readonly Value[];

/** What a build sees: the loss's context, and the values of let-bindings and fn parameters. */
export interface Env {
  readonly ctx: BuildContext;
  readonly values: Map<Binding, Value>;
}

/** A source position: offsets for slicing and joining, line and column for diagnostics. */
export interface Loc {
  readonly start: number;
  readonly end: number;
  readonly line: number;
  readonly column: number;
}

export interface Lowered {
  readonly type: StaticType;
  readonly at: Loc;
  eval(env: Env): Value;
  /** set when the expression is a bare name: what it names */
  readonly binding?: Binding;
  /** optional tensors this (static) condition proves given when it is true / false */
  readonly narrows?: { readonly whenTrue: readonly string[]; readonly whenFalse: readonly string[] };
  /** a tuple's items, for checks that name inputs inside one: `(log_probs, 1)` */
  readonly items?: readonly Lowered[];
  /** why this cannot be an `if` condition, when there is more to say than its type */
  readonly hint?: string;
}

export interface Binding {
  readonly name: string;
  readonly type: StaticType;
  readonly at: Loc;
  readonly what: 'input' | 'option' | 'let' | 'parameter';
  eval(env: Env): Value;
}

/** Thrown while a graph is built: a builder rejected its operands at this source position. */
export class BuildFailure extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

/**
 * Thrown by `error("...")` while a graph is built: an option value the loss refuses (torch's
 * MultiMarginLoss with p = 3). It reaches the caller as it is, as a TS loss's throw would.
 */
export class RaisedError extends RangeError {}

/**
 * A function given as an option (distanceFunction) threw, or returned no tensor: the user's code,
 * not the .loss source that called it, is to blame, so no source position is given; the error it
 * threw is the cause. A RaisedError, so it reaches the caller unchanged.
 */
export class OptionFunctionError extends RaisedError {}

// ------------------------------------------------------------------ source and diagnostics

export class Source {
  constructor(
    readonly file: string,
    readonly text: string,
  ) {}
  span(at: Loc): Span {
    return { file: this.file, line: at.line, column: at.column, length: Math.max(1, at.end - at.start + 1) };
  }
  private lines?: string[];
  /** where a node built at `at` came from, for the compiler's notes and warnings */
  origin(at: Loc): Origin {
    this.lines ??= this.text.split(/\r?\n/);
    return { ...this.span(at), text: this.quote(at), ...(quietAt(this.lines, at.line) ? { quiet: true } : {}) };
  }
  /** the source text of `at`, shortened for messages */
  quote(at: Loc): string {
    // at most a few hundred characters are read: a long expression's quote costs no more than a short one's
    const s = this.text.slice(at.start, Math.min(at.end + 1, at.start + 200)).replace(/\s+/g, ' ');
    return s.length > 40 ? `${s.slice(0, 37)}...` : s;
  }
}

export const joinLoc = (a: Loc, b: Loc): Loc => ({ start: a.start, end: b.end, line: a.line, column: a.column });

/** Collects diagnostics; the same message at the same place is reported once (fn bodies are lowered per call). */
export class Reporter {
  readonly diagnostics: Diagnostic[] = [];
  /** every report, duplicates included: a loss is in error when this grew while it was read */
  reports = 0;
  private readonly seen = new Set<string>();
  constructor(readonly source: Source) {}

  error(message: string, at: Loc, notes: Diagnostic['notes'] = []): void {
    this.reports++;
    const key = `${at.start}:${at.end}:${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.diagnostics.push({ severity: 'error', message, span: this.source.span(at), ...(notes.length ? { notes } : {}) });
  }
}

/** "did you mean 'target'?" for a name one or two edits away from a known one. */
export function didYouMean(name: string, candidates: Iterable<string>): Diagnostic['notes'] {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1;
  if (name.length > MAX_SUGGESTED_LENGTH) return [];
  let examined = 0;
  for (const c of candidates) {
    // bounded work per unknown name, however many names a hostile file defines
    if (++examined > MAX_SUGGESTION_CANDIDATES) break;
    if (Math.abs(c.length - name.length) >= bestDistance) continue;
    const d = c.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best === undefined ? [] : [{ message: `did you mean '${best}'?` }];
}

/** Suggestions are looked for among this many names (the innermost first), for names up to this long. */
const MAX_SUGGESTION_CANDIDATES = 500;
const MAX_SUGGESTED_LENGTH = 64;

/** Edits (insert, delete, substitute, swap two neighbours) from a to b: "flaot" is one from "float". */
function editDistance(a: string, b: string): number {
  // three rows (this one, the last, the one before for swaps), no allocation per call
  const n = b.length + 1;
  if (rows.length < 3 * n) rows = new Int32Array(3 * n * 2);
  let prev2 = rows.subarray(0, n);
  let prev = rows.subarray(n, 2 * n);
  let cur = rows.subarray(2 * n, 3 * n);
  for (let j = 0; j < n; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j < n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n - 1]!;
}
let rows = new Int32Array(192);

// ------------------------------------------------------------------ scopes

export class Scope extends LexicalScope<Binding> {
  declare readonly parent: Scope | null;
  /**
   * `outside`: for a scope that sees nothing of its surroundings (a scan body), those
   * surroundings and why, to explain an unknown name that is defined there
   */
  constructor(
    parent: Scope | null,
    readonly outside?: { readonly scope: Scope; readonly why: (name: string) => string },
  ) {
    super(parent);
  }

  /** why `name`, unknown here, is defined in surroundings this scope does not see (or undefined) */
  isolatedFrom(name: string): string | undefined {
    for (let s: Scope | null = this; s; s = s.parent) if (s.outside?.scope.lookup(name)) return s.outside.why(name);
    return undefined;
  }
  /** Names are never redefined in a loss: a second definition is an error pointing at the first. */
  define(b: Binding, report: Reporter): void {
    const first = this.lookup(b.name);
    if (first) report.error(`'${b.name}' is already defined`, b.at, [{ message: `'${b.name}' was first defined here`, span: report.source.span(first.at) }]);
    else this.bind(b);
  }
  /** A child scope in which the optional tensors and functions `given` are known to be present. */
  narrowed(given: readonly string[] = []): Scope {
    const s = new Scope(this);
    for (const name of given) {
      const b = this.lookup(name);
      if (b && b.type.sort === 'optional') s.names.set(name, { ...b, type: tensorOf('float', b.type.dims) });
      if (b && b.type.sort === 'function') s.names.set(name, { ...b, type: { ...b.type, optional: false } });
    }
    return s;
  }
}

export const errorValue = (at: Loc): Lowered => ({
  type: ERROR,
  at,
  eval: () => {
    throw new Error('internal error: evaluated an expression that failed to check');
  },
});
