// What the tests that drive headless Chromium share: where Chromium is, its switches, whether the
// tests run or skip, and a static server for a built page.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type OutgoingHttpHeaders, type Server } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Chromium's switches. Only --enable-unsafe-webgpu is needed for WebGPU here: Chromium on Linux
 * then offers its bundled SwiftShader Vulkan (a CPU "fallback" adapter, with subgroups), in
 * headless mode, with no GPU, no display and no Mesa. --use-webgpu-adapter=swiftshader keeps it
 * that adapter on a machine that has a GPU (same numbers everywhere). The rest keep Chromium off
 * the network (this machine's is closed) and out of first-run work.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Why the browser tests skip (Chromium absent and not required), or null: they run. */
export const browserSkipReason: string | null =
  existsSync(CHROMIUM) || process.env['LOSSC_REQUIRE_BROWSER'] === '1'
    ? null
    : `${CHROMIUM} is absent: run .ci/install-browser.sh (Debian's chromium); LOSSC_REQUIRE_BROWSER=1 makes this a failure`;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
};

/**
 * A static server for `root` on 127.0.0.1 (an ephemeral port): a secure context, as WebGPU needs.
 * `headers` go on every file (cross-origin isolation, for one).
 */
export async function serve(root: string, headers: OutgoingHttpHeaders = {}): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(root + sep) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store', ...headers });
    res.end(readFileSync(file));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the static server has no port');
  return { server, url: `http://127.0.0.1:${address.port}/` };
}
