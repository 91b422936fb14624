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

/** Every source module and the modules it imports (type-only imports included: they are edges too). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of LAYERS.flatMap((l) => sources(join(repo, l)))) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const edges = importedFiles
      .map((f) => f.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => relative(repo, resolve(dirname(file), spec.replace(/\.js$/, '.ts'))));
    graph.set(relative(repo, file), edges);
  }
  return graph;
}

const layerOf = (file: string): number => LAYERS.indexOf(file.split('/')[0] as (typeof LAYERS)[number]);

/** Strongly connected components with more than one module (Tarjan), or a module importing itself. */
function cycles(graph: Map<string, string[]>): string[][] {
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

  it('reads the whole tree', () => {
    expect(graph.size).toBeGreaterThan(50);
    for (const layer of LAYERS) expect([...graph.keys()].some((f) => f.startsWith(`${layer}/`))).toBe(true);
  });

  it('every import points to the same layer or one below', () => {
    const upward = [...graph].flatMap(([from, tos]) => tos.filter((to) => layerOf(to) > layerOf(from)).map((to) => `${from} -> ${to}`));
    expect(upward).toEqual([]);
  });

  it('compiler/ imports nothing from dsl/, runtime/ or cli/', () => {
    const out = [...graph].filter(([from]) => from.startsWith('compiler/')).flatMap(([from, tos]) => tos.filter((to) => !to.startsWith('compiler/')).map((to) => `${from} -> ${to}`));
    expect(out).toEqual([]);
  });

  it('has no import cycles', () => {
    expect(cycles(graph)).toEqual([]);
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
