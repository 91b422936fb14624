// Every example compiles with `lossc compile`, and the custom losses written in TypeScript
// type-check with tsc against lossc's published types (package.json "exports" -> dist, so this
// needs `npm run build`), as a user's project sees them: `import ... from 'lossc/loss'` resolved
// through node_modules/lossc. The authoring types keep what must not type-check out: operators on
// the runtime Tensor, and float functions on class indices.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { userDiagnostics } from '../support/typecheck.js';
import { example, lossc, repo, tempFolder } from './helpers.js';

const sources = readdirSync(join(repo, 'examples')).filter(
  (f) => f.endsWith('.loss') || (f.endsWith('.ts') && !['customMse.ts', 'run-example.ts', 'tfjs-node-train.ts'].includes(f)),
);
const tsExamples = sources.filter((f) => f.endsWith('.ts'));

describe('examples', () => {
  const tmp = tempFolder();
  afterAll(() => tmp.done());

  it('include focal, Dice and contrastive losses, and the custom MSE as a function and as a class', () => {
    expect(sources).toEqual(expect.arrayContaining(['focal.loss', 'dice.loss', 'contrastive.loss', 'customMseFunction.ts', 'customMseClass.ts']));
  });

  it.each(sources)('%s compiles with lossc compile', async (file) => {
    const run = await lossc('compile', example(file), '-o', join(tmp.dir, 'out'));
    // only the stabilisation stage's notes (naiveFocal.loss), no error or warning
    expect(run.err.split('\n').filter((l) => /: (error|warning): /.test(l))).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/wrote .*\.mjs/);
  });

  /** tsc, programmatically, over `files` in a project whose node_modules/lossc is this package. */
  function typecheck(files: Record<string, string>): string[] {
    const dir = join(tmp.dir, `project-${Math.random().toString(36).slice(2)}`);
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    symlinkSync(repo, join(dir, 'node_modules', 'lossc'), 'dir');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user-project', type: 'module' }));
    const roots = Object.entries(files).map(([name, text]) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    });
    return userDiagnostics(roots, { noUncheckedIndexedAccess: true, verbatimModuleSyntax: true, skipLibCheck: true }).map((d) => {
      const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      return `${d.file ? d.file.fileName.replace(`${dir}/`, '') : ''}${where ? `:${where.line + 1}:${where.character + 1}` : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    });
  }

  it("the TypeScript examples type-check with tsc against lossc's built types ('lossc/loss')", () => {
    expect(
      existsSync(join(repo, 'dist/runtime/authoring.d.ts')),
      'run `npm run build` first: the examples are checked against the published types in dist',
    ).toBe(true);
    const files = Object.fromEntries(tsExamples.map((f) => [f, readFileSync(example(f), 'utf8')]));
    expect(typecheck(files)).toEqual([]);
  });

  it('keeps operators off the runtime Tensor, and float functions off class indices', () => {
    const errors = typecheck({
      'runtime.ts': `import { tensor } from 'lossc';\nconst t = tensor([1, 2], [2]);\nexport const twice = t * 2;\n`,
      'indices.ts': `import { type Tensor, type IntTensor, log, float, mean } from 'lossc/loss';\nexport function bad(x: Tensor, t: IntTensor): Tensor {\n  return mean(log(t) + x);\n}\nexport function good(x: Tensor, t: IntTensor): Tensor {\n  return mean(log(float(t)) * x);\n}\n`,
    }).sort();
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^indices\.ts:3:19: Argument of type 'IntTensor' is not assignable to parameter of type 'Tensor'/);
    expect(errors[1]).toMatch(/^runtime\.ts:3:22: The left-hand side of an arithmetic operation must be/);
  });
});
