// Trial builds, shared by both front ends: build every structural variant of a loss once, when
// it is read, so that an error only a build sees (a shape mismatch behind an option's case, a
// gradient through a primitive without one) is reported now, at its source span.
import { instantiate, structuralVariants, type LossDef } from '../compiler/loss.js';
import { add } from '../compiler/ir/builders.js';
import type { Node } from '../compiler/ir/node.js';
import { CompileError, type Diagnostic, type Span } from './diagnostics.js';
import { RaisedError } from './lower.js';

/** At most this many structural combinations are built; beyond it, each option is varied alone. */
export const MAX_TRIAL_BUILDS = 256;

/** The problems of building `def` in each of its variants (none: it builds); `at` is where an internal failure is reported. */
export function trialBuild(def: LossDef, at: Span): Diagnostic[] {
  for (const options of structuralVariants(def, { functions: [null, trialFunction], limit: MAX_TRIAL_BUILDS })) {
    try {
      instantiate(def, options);
    } catch (e) {
      // a loss that raises for some option values (a `raise` behind a case) is not broken for the others
      if (e instanceof RaisedError) continue;
      if (e instanceof CompileError) return [...e.diagnostics];
      return [{ severity: 'error', message: `internal error while building ${def.name}: ${(e as Error).message}`, span: at }];
    }
  }
  return [];
}

/** A function option's stand-in for trial builds: any function of its arguments' nodes. */
const trialFunction = (...xs: Node[]): Node => xs.reduce((a, b) => add(a, b));
