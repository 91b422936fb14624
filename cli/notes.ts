// What the stabilisation stage did to a loss (notes) and what it could not make stable
// (warnings), printed like a compiler's diagnostics by `lossc compile`, `check` and `explain`:
//   focal.loss:12:22: note: log(sigmoid(input)) computed as logSigmoid(input) (finite for large |input|)
import type { LossDef } from '../compiler/loss.js';
import type { LoadedSource } from './sources.js';

export async function printStabilization(
  source: LoadedSource | undefined,
  def: LossDef,
  options: Record<string, unknown>,
  io: { err(text: string): void },
): Promise<void> {
  if (def.stabilize === false) return;
  const [{ Loss }, { formatDiagnostic }] = await Promise.all([import('../runtime/nn.js'), import('../dsl/diagnostics.js')]);
  for (const d of new Loss(def, options).notes) io.err(`${formatDiagnostic(d, d.span.file === source?.spec ? source.text : undefined)}\n`);
}
