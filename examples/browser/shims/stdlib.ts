// Browser stand-in for dsl/stdlib/index.ts (swapped in by vite.config.ts). The Node loader reads
// the .loss files with node:fs; here Vite inlines them at build time (import.meta.glob with
// ?raw), and they are compiled exactly as the Node loader compiles them: files in name order,
// no trial builds, a name defined twice is an error.
/// <reference types="vite/client" />
import type { LossDef } from '../../../compiler/loss.js';
import { compileLossSource } from '../../../dsl/index.js';

const sources = import.meta.glob<string>('../../../dsl/stdlib/*.loss', { query: '?raw', import: 'default', eager: true });

/** Every loss of every built-in .loss file, files in name order. */
export function loadLossFiles(): LossDef[] {
  return Object.keys(sources)
    .map((path) => path.slice(path.lastIndexOf('/') + 1))
    .sort()
    .flatMap((f) => compileLossSource(sources[`../../../dsl/stdlib/${f}`]!, `dsl/stdlib/${f}`, { trialBuilds: false }));
}

/** The .loss built-ins, then any `typescriptLosses`; a name defined twice is an error. */
export function loadStdlib(typescriptLosses: readonly LossDef[] = []): LossDef[] {
  const all = [...loadLossFiles(), ...typescriptLosses];
  const names = new Set<string>();
  for (const d of all) {
    if (names.has(d.name)) throw new Error(`lossc: the built-in loss ${d.name} is defined twice (in a .loss file and in TypeScript?)`);
    names.add(d.name);
  }
  return all;
}
