// Browser stand-in for dsl/stdlib/index.ts (swapped in by vite.config.ts). The Node loader reads
// the .loss files with node:fs; here Vite inlines them at build time (import.meta.glob with
// ?raw), and compiled by the same compileStdlib as in Node.
/// <reference types="vite/client" />
import type { LossDef } from '../../../compiler/loss.js';
import { compileStdlib } from '../../../dsl/stdlib/compile.js';

const sources = import.meta.glob<string>('../../../dsl/stdlib/*.loss', { query: '?raw', import: 'default', eager: true });

const files = new Map(Object.entries(sources).map(([path, text]) => [path.slice(path.lastIndexOf('/') + 1), text] as const));

/** Every loss of every built-in .loss file. */
export function loadLossFiles(): LossDef[] {
  return compileStdlib(files);
}

/** The .loss built-ins, then any `typescriptLosses`; a name defined twice is an error. */
export function loadStdlib(typescriptLosses: readonly LossDef[] = []): LossDef[] {
  return compileStdlib(files, typescriptLosses);
}
