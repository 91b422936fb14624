// The built-in library, read on demand: `import 'lossc'` must stay fast (issue 12: < 100 ms), and
// reading every .loss file costs ~150 ms. The files are only lexed to learn which losses each
// declares (`loss Name(`); a file is parsed and read when one of its losses is first asked for.
// The .loss sources stay the single source of truth: the same compileStdlib reads them.
import type { LossDef } from '../../compiler/loss.js';
import { Identifier, lex, Loss } from '../tokens.js';
import { compileStdlib } from './compile.js';

export interface Stdlib {
  /** every built-in loss name, in file order (files by name) */
  names(): readonly string[];
  /** one loss, its file read on first use; undefined for an unknown name */
  get(name: string): LossDef | undefined;
  /** every loss (reads every file) */
  all(): readonly LossDef[];
  /** the .loss file that declares a loss, and its text (without parsing it); undefined for an unknown name */
  source(name: string): { readonly file: string; readonly text: string } | undefined;
}

/** `files`: file name -> .loss text, read when first needed. */
export function lazyStdlib(files: () => ReadonlyMap<string, string>): Stdlib {
  let index: Map<string, string> | undefined; // loss name -> file
  const read = new Map<string, Map<string, LossDef>>(); // file -> its losses
  let sources: ReadonlyMap<string, string> | undefined;
  const text = (): ReadonlyMap<string, string> => (sources ??= files());

  const byName = (): Map<string, string> => {
    if (index) return index;
    index = new Map();
    for (const file of [...text().keys()].sort()) {
      for (const name of declaredLosses(text().get(file)!)) {
        const other = index.get(name);
        if (other !== undefined && other !== file) throw new Error(`lossc: the built-in loss ${name} is defined twice (in ${other} and ${file})`);
        index.set(name, file);
      }
    }
    return index;
  };
  const fileLosses = (file: string): Map<string, LossDef> => {
    let defs = read.get(file);
    if (!defs) read.set(file, (defs = new Map(compileStdlib(new Map([[file, text().get(file)!]])).map((d) => [d.name, d] as const))));
    return defs;
  };
  return {
    names: () => [...byName().keys()],
    get: (name) => {
      const file = byName().get(name);
      return file === undefined ? undefined : fileLosses(file).get(name);
    },
    all: () => [...byName()].map(([name, file]) => fileLosses(file).get(name)!),
    source: (name) => {
      const file = byName().get(name);
      return file === undefined ? undefined : { file, text: text().get(file)! };
    },
  };
}

/** The names a .loss text declares with `loss Name(`, from its tokens (overloads once). */
function declaredLosses(text: string): string[] {
  const tokens = lex(text).tokens;
  const names = new Set<string>();
  tokens.forEach((t, i) => {
    const next = tokens[i + 1];
    if (t.tokenType === Loss && next?.tokenType === Identifier) names.add(next.image);
  });
  return [...names];
}
