// The built-in losses: every .loss file in this directory, compiled through the same path as a
// user's loss. A caller may add losses written in TypeScript (none of the built-ins is).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LossDef } from '../../compiler/loss.js';
import { compileStdlib } from './compile.js';

/**
 * Where the .loss files are: next to this module when it runs from source; when it runs from
 * dist/dsl/stdlib (tsc copies no .loss files), the package's own dsl/stdlib, which package.json's
 * "files" ships.
 */
function stdlibDirectory(): string {
  const candidates = [new URL('./', import.meta.url), new URL('../../../dsl/stdlib/', import.meta.url)].map((u) => fileURLToPath(u));
  const found = candidates.find((d) => existsSync(d) && readdirSync(d).some((f) => f.endsWith('.loss')));
  if (!found) throw new Error(`lossc: the built-in .loss files were not found (looked in ${candidates.join(' and ')})`);
  return found;
}

/** Every loss of every .loss file in `dir`; a CompileError if any has errors. */
export function loadLossFiles(dir: string = stdlibDirectory()): LossDef[] {
  return compileStdlib(lossSources(dir));
}

/** The .loss built-ins, then any `typescriptLosses`; a name defined twice is an error. */
export function loadStdlib(typescriptLosses: readonly LossDef[] = []): LossDef[] {
  return compileStdlib(lossSources(stdlibDirectory()), typescriptLosses);
}

/** The built-in .loss files: file name -> text (a browser bundle carries them inlined instead). */
export function stdlibSources(): Map<string, string> {
  return lossSources(stdlibDirectory());
}

function lossSources(dir: string): Map<string, string> {
  return new Map(
    readdirSync(dir)
      .filter((f) => f.endsWith('.loss'))
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')] as const),
  );
}
