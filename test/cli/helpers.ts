// Shared by the CLI tests: run `lossc` in-process (its main function, output captured), run a
// script in a separate Node process, and make temporary folders outside any node_modules tree.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../cli/main.js';

export const repo = fileURLToPath(new URL('../../', import.meta.url));
export const example = (name: string): string => join(repo, 'examples', name);

export interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** `lossc ...args` through its main function, with stdout and stderr captured. */
export async function lossc(...args: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => void (out += t), err: (t) => void (err += t), progress: { isTTY: false, write: () => true } });
  return { code, out, err };
}

/** A fresh folder in the system's temporary directory (no node_modules above it), removed by `done`. */
export function tempFolder(prefix = 'lossc-cli-'): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Run `script` (an ES module) with `node` in `dir`, in its own process; resolves to its stdout. */
export function runNode(dir: string, script: string, args: readonly string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = join(dir, `run-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, script);
  return new Promise((resolve) => {
    execFile(process.execPath, [file, ...args], { cwd: dir, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Numbers as JSON, exactly: -0 and non-finite values as strings. */
export const encodeNumbers = (xs: ArrayLike<number>): (number | string)[] =>
  Array.from(xs, (v) => (Object.is(v, -0) ? '-0' : Number.isFinite(v) ? v : String(v)));
export const decodeNumbers = (xs: readonly (number | string)[]): number[] => xs.map((v) => (typeof v === 'string' ? Number(v) : v));
