// The lossc command's errors: exit 1 with file:line:col, the source line and a caret for a bad
// .ts or .loss file; exit 2 for bad usage; never a stack trace. Also through the built binary,
// as a user runs it (`npm run build` first).
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { lossc, repo, tempFolder } from './helpers.js';

const noStack = (text: string): void => expect(text).not.toMatch(/^\s+at /m);

describe('lossc errors', () => {
  const tmp = tempFolder();
  afterAll(() => tmp.done());
  const file = (name: string, text: string): string => {
    const path = join(tmp.dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('a .ts loss with unsupported constructs: exit 1, each at file:line:col naming the construct', async () => {
    const path = file(
      'bad.ts',
      [
        "import { type Tensor, mean } from 'lossc/loss';",
        'export function bad(a: Tensor, b: Tensor): Tensor {',
        '  let d = a - b;',
        '  for (const k of [1, 2]) {}',
        '  return mean(helper(d)) + a % 2;',
        '}',
        '',
      ].join('\n'),
    );
    const run = await lossc('compile', path, '-o', join(tmp.dir, 'out'));
    expect(run.code).toBe(1);
    expect(run.out).toBe('');
    expect(run.err).toContain(`${path}:3:3: error: 'let' declarations are not supported`);
    expect(run.err).toContain(`${path}:4:3: error: a for...of loop is not supported`);
    expect(run.err).toContain(`${path}:5:15: error: call of an unknown function 'helper'`);
    expect(run.err).toContain(`${path}:5:28: error: the remainder operator '%' is not supported`);
    expect(run.err).toContain('    return mean(helper(d)) + a % 2;\n                ^^^^^^');
    expect(run.err).toMatch(/4 errors\n$/);
    noStack(run.err);
  });

  it('a .ts loss whose build fails (float function on class indices): exit 1 at the argument', async () => {
    const path = file(
      'kinds.ts',
      "import { type Tensor, type IntTensor, log, mean } from 'lossc/loss';\nexport const kinds = (x: Tensor, t: IntTensor): Tensor => mean(log(t) * x);\n",
    );
    const run = await lossc('check', path);
    expect(run.code).toBe(1);
    expect(run.err).toContain(
      `${path}:2:68: error: log needs a float tensor, but this is an int tensor (class indices): use float(t) for arithmetic on indices`,
    );
    noStack(run.err);
  });

  it('a .ts syntax error: exit 1 at file:line:col', async () => {
    const path = file('syntax.ts', "import { type Tensor, mean } from 'lossc/loss';\nexport function f(a: Tensor): Tensor {\n  return mean(a +);\n}\n");
    const run = await lossc('explain', path);
    expect(run.code).toBe(1);
    expect(run.err).toContain(`${path}:3:18: error: Expression expected.`);
  });

  it('a bad .loss file: exit 1 at file:line:col with the line and a caret', async () => {
    const path = file('bad.loss', 'loss Broken(input: f32[*], target: f32[*]) {\n  return mean(abs(input - targt))\n}\n');
    const run = await lossc('compile', path, '-o', join(tmp.dir, 'out'));
    expect(run.code).toBe(1);
    expect(run.err).toMatch(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:27: error: .*targt`));
    expect(run.err).toContain('^^^^^');
    noStack(run.err);
  });

  it.each([
    [['compile', 'MSELoss'], /required option '-o, --out <dir>'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['explain', 'MSELoss', '--method', 'backward'], /argument 'backward' is invalid/],
    [['check', 'NoSuchLoss'], /'NoSuchLoss' is neither a file nor a built-in loss/],
    [['check', 'mseloss'], /did you mean MSELoss/],
    [['compile', 'missing.loss', '-o', 'x'], /no such file: missing\.loss/],
    [['explain', 'MSELoss', '--options', '{reduction: sum}'], /--options is not valid JSON/],
    [['explain', 'MSELoss', '--options', '{"margin": 1}'], /MSELoss has no option 'margin'/],
    [['compile', 'MSELoss', '-o', 'x', '--target', 'cuda'], /unknown target 'cuda'/],
    [['bench', 'MSELoss', '--shape', '4,-1'], /--shape must be positive integers/],
    [[], /Usage: lossc/],
  ])('bad usage %j: exit 2', async (args, message) => {
    const run = await lossc(...(args as string[]));
    expect(run.code).toBe(2);
    expect(run.err).toMatch(message);
    noStack(run.err);
  });

  it('a loss that rejects the request (an invalid option value): exit 1 with the message', async () => {
    const run = await lossc('explain', 'MSELoss', '--options', '{"reduction": "average"}');
    expect(run.code).toBe(1);
    expect(run.err).toBe("lossc: error: MSELoss: average is not a valid value for reduction (expected one of 'none', 'mean', 'sum')\n");
  });

  it('--help for each command', async () => {
    for (const cmd of ['list', 'compile', 'explain', 'check', 'bench']) {
      const run = await lossc(cmd, '--help');
      expect(run.code).toBe(0);
      expect(run.out).toMatch(new RegExp(`Usage: lossc ${cmd}`));
    }
  });

  it('the built binary exits with these codes too', () => {
    const bin = join(repo, 'dist/cli/main.js');
    expect(existsSync(bin), 'run `npm run build` first').toBe(true);
    const bad = file('bin.ts', "import { type Tensor } from 'lossc/loss';\nexport function f(a: Tensor): Tensor {\n  while (true) {}\n}\n");
    const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: tmp.dir });
    const compileError = run('compile', bad, '-o', 'out');
    expect(compileError.status).toBe(1);
    expect(compileError.stderr).toContain(`${bad}:3:3: error: a while loop is not supported`);
    expect(run('compile', 'MSELoss').status).toBe(2);
    expect(run('list').stdout).toMatch(/^L1Loss\(input: float, target: float\) {2}reduction='mean'$/m);
  });
});
