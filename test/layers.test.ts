// The layers of DESIGN.md section 6, checked on the import graph drawn from the code:
//   cli/ -> runtime/ -> dsl/ -> compiler/
// arrows point down only, and no module reaches itself through its imports (no cycles).
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LAYERS = ['compiler', 'dsl', 'runtime', 'cli'] as const; // bottom to top

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.ts$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

interface Edge {
  readonly to: string;
  /** `import type` / `export type`: erased from the emitted JS (verbatimModuleSyntax), so no load-order edge */
  readonly typeOnly: boolean;
}

/** Every source module and the modules it imports or re-exports, relative to the repository. */
function importGraph(): Map<string, Edge[]> {
  const graph = new Map<string, Edge[]>();
  for (const file of LAYERS.flatMap((l) => sources(join(repo, l)))) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
    const edges: Edge[] = [];
    const add = (spec: ts.Expression | undefined, typeOnly: boolean): void => {
      if (!spec || !ts.isStringLiteral(spec) || !spec.text.startsWith('.')) return;
      edges.push({ to: relative(repo, resolve(dirname(file), spec.text.replace(/\.js$/, '.ts'))), typeOnly });
    };
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node)) {
        const clause = node.importClause;
        const allTypes =
          !!clause &&
          (clause.isTypeOnly ||
            (!clause.name && !!clause.namedBindings && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.every((e) => e.isTypeOnly)));
        add(node.moduleSpecifier, allTypes);
      } else if (ts.isExportDeclaration(node)) {
        const allTypes =
          node.isTypeOnly || (!!node.exportClause && ts.isNamedExports(node.exportClause) && node.exportClause.elements.every((e) => e.isTypeOnly));
        add(node.moduleSpecifier, allTypes);
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0], false);
      ts.forEachChild(node, visit);
    };
    visit(source);
    graph.set(relative(repo, file), edges);
  }
  return graph;
}

const layerOf = (file: string): number => LAYERS.indexOf(file.split('/')[0] as (typeof LAYERS)[number]);

/** Strongly connected components with more than one module (Tarjan), or a module importing itself. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('layers (DESIGN.md section 6)', () => {
  const graph = importGraph();
  const targets = (typeOnlyToo: boolean): Map<string, string[]> =>
    new Map([...graph].map(([from, edges]) => [from, edges.filter((e) => typeOnlyToo || !e.typeOnly).map((e) => e.to)]));

  it('reads the whole tree', () => {
    expect(graph.size).toBeGreaterThan(50);
    for (const layer of LAYERS) expect([...graph.keys()].some((f) => f.startsWith(`${layer}/`))).toBe(true);
  });

  it('every import points to the same layer or one below', () => {
    const upward = [...targets(true)].flatMap(([from, tos]) => tos.filter((to) => layerOf(to) > layerOf(from)).map((to) => `${from} -> ${to}`));
    expect(upward).toEqual([]);
  });

  it('compiler/ imports nothing from dsl/, runtime/ or cli/', () => {
    const out = [...targets(true)]
      .filter(([from]) => from.startsWith('compiler/'))
      .flatMap(([from, tos]) => tos.filter((to) => !to.startsWith('compiler/')).map((to) => `${from} -> ${to}`));
    expect(out).toEqual([]);
  });

  // A type-only import is erased from the emitted JS, so it orders no module loading; the node and
  // primitive-table types refer to each other that way on purpose (a Node names its OpName).
  it('has no import cycles among the imports that run', () => {
    expect(cycles(targets(false))).toEqual([]);
  });

  it('the checker finds an upward edge and a cycle when there is one', () => {
    const bad = new Map([
      ['compiler/a.ts', ['runtime/b.ts']],
      ['runtime/b.ts', ['compiler/a.ts']],
    ]);
    expect(cycles(bad)).toEqual([['compiler/a.ts', 'runtime/b.ts']]);
    expect(layerOf('runtime/b.ts')).toBeGreaterThan(layerOf('compiler/a.ts'));
  });
});
