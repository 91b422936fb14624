// The built-in library from its .loss sources, however they were read (node:fs in Node, Vite's
// import.meta.glob in the browser): files in name order, no trial builds (the tests build every
// structural combination of the built-ins), a name defined twice is an error.
import type { LossDef } from '../../compiler/loss.js';
import { compileLossSource } from '../index.js';

/** `files`: file name -> .loss text. */
export function compileStdlib(files: ReadonlyMap<string, string>, typescriptLosses: readonly LossDef[] = []): LossDef[] {
  const all = [
    ...[...files.keys()].sort().flatMap((f) => compileLossSource(files.get(f)!, `dsl/stdlib/${f}`, { trialBuilds: false })),
    ...typescriptLosses,
  ].map(asWritten);
  const names = new Set<string>();
  for (const d of all) {
    if (names.has(d.name)) throw new Error(`lossc: the built-in loss ${d.name} is defined twice (in a .loss file and in TypeScript?)`);
    names.add(d.name);
  }
  return all;
}

/** Built-ins are torch's formulas, quirks included: the stabilisation stage leaves them as written. */
const asWritten = (d: LossDef): LossDef => ({ ...d, stabilize: false, ...(d.overloads ? { overloads: d.overloads.map(asWritten) } : {}) });
