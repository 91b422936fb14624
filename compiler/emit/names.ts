// Generated source never splices user text as it is: a loss's name reaches kernel function names
// and comments, so it passes through here first. Loss and input names are also validated where a
// loss is defined (compiler/loss.ts checkLossNames); this is the emitters' own guarantee.

/** `text` as a JS / WGSL identifier: every character outside [A-Za-z0-9_] becomes '_'. */
export function identifier(text: string): string {
  const id = text.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(id) || id === '' ? `_${id}` : id;
}
