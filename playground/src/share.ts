// The share link: the page's state (source, chosen loss, options, ...) as JSON in the URL's hash,
// base64url-encoded UTF-8, so the link carries everything and no server keeps anything.
const PREFIX = '#state=';

export function encodeState(state: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(state));
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return PREFIX + btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The state in a hash made by encodeState; null for another hash, or one that does not decode. */
export function decodeState(hash: string): unknown {
  if (!hash.startsWith(PREFIX)) return null;
  try {
    const b64 = hash.slice(PREFIX.length).replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
  } catch {
    return null;
  }
}
