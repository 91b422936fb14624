// The lossc command under hostile arguments, run as a user runs it (the built binary, its own
// process): every command ends within a bound (no hang), with the documented exit code (1 for an
// error in what was asked, 2 for bad usage) and a message that names the path or argument.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { lossc, repo, tempFolder } from '../cli/helpers.js';

/** The bound on one command: far above what any of these needs, far below a hang. */
const BOUND_MS = 30_000;

describe('lossc under hostile arguments', () => {
  const tmp = tempFolder('lossc-hostile-');
  afterAll(() => tmp.done());
  const file = (name: string, text: string): string => {
    const path = join(tmp.dir, name);
    writeFileSync(path, text);
    return path;
  };
  const bin = join(repo, 'dist/cli/main.js');
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: tmp.dir, timeout: BOUND_MS, killSignal: 'SIGKILL' });
    expect(r.signal, `lossc ${args.join(' ')} did not end within ${BOUND_MS} ms`).toBe(null);
    expect(r.stderr).not.toMatch(/internal error|^\s+at /m);
    return r;
  };

  it('a source that is missing, a directory, or not a loss file: exit 2 naming it, and the process ends', () => {
    expect(existsSync(bin), 'run `npm run build` first').toBe(true);
    mkdirSync(join(tmp.dir, 'adir'), { recursive: true });
    file('notes.txt', 'hello\n');
    const missing = run('compile', '/nonexistent/x.loss', '-o', 'out');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe('lossc: no such file: /nonexistent/x.loss\n');
    const dir = run('compile', 'adir', '-o', 'out');
    expect(dir.status).toBe(2);
    expect(dir.stderr).toContain('lossc: adir is a directory: give a .loss or .ts file');
    const txt = run('compile', 'notes.txt', '-o', 'out');
    expect(txt.status).toBe(2);
    expect(txt.stderr).toContain('lossc: notes.txt: expected a .loss or .ts file');
    expect(run('check', '/nonexistent/x.loss').status).toBe(2);
    expect(run('explain', 'adir').status).toBe(2);
  });

  it('-o naming a file, an empty string, or a place that cannot be created', () => {
    const src = file('ok.loss', 'loss Ok(a: f32[*], b: f32[*]) {\n  return mean(abs(a - b))\n}\n');
    file('taken', 'a file\n');
    const onFile = run('compile', src, '-o', 'taken');
    expect(onFile.status).toBe(1);
    expect(onFile.stderr).toBe('lossc: error: -o taken: a file of that name exists; give a directory\n');
    const empty = run('compile', src, '-o', '');
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain('-o/--out needs a directory to write to');
    const under = run('compile', src, '-o', 'taken/sub');
    expect(under.status).toBe(1);
    expect(under.stderr).toBe('lossc: error: cannot create the output directory taken/sub: a part of the path is a file, not a directory\n');
  });

  it('a .loss file that declares no loss is an error, not a silent success', () => {
    file('empty.loss', '');
    file('comments.loss', '# nothing here\n\n');
    for (const [cmd, ...rest] of [
      ['compile', 'empty.loss', '-o', 'out'],
      ['check', 'empty.loss'],
      ['explain', 'comments.loss'],
    ] as const) {
      const r = run(cmd, ...rest);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/lossc: error: (empty|comments)\.loss declares no loss/);
    }
  });

  it('bench and check refuse shapes beyond their limits at once', () => {
    const bench = run('bench', 'MSELoss', '--shape', '2147483648', '--time', '10');
    expect(bench.status).toBe(2);
    expect(bench.stderr).toBe('lossc: --shape 2147483648 has 2147483648 elements; lossc bench takes at most 134217728 per input\n');
    const check = run('check', 'MSELoss', '--shape', '1000,1000');
    expect(check.status).toBe(2);
    expect(check.stderr).toContain('lossc check takes at most 16384 per input');
  });
});

describe('lossc check builds valid inputs for every built-in at any --shape', () => {
  it.each([['3'], ['1'], ['2,3']])('--shape %s', async (shape) => {
    const { builtinLosses } = await import('../../runtime/losses.js');
    const r = await lossc('check', ...builtinLosses.map((d) => d.name), '--shape', shape);
    expect(r.err).toBe('');
    expect(r.out).toContain(`${builtinLosses.length} passed, 0 failed`);
    expect(r.code).toBe(0);
  });
});
