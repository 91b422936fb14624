// One fixed-point rewrite engine. A rule looks at one node (whose operands are already
// rewritten) and returns a replacement or null. Nodes are rebuilt bottom-up in the same graph,
// so hash-consing keeps the result free of duplicates (CSE) at every step.
import { toposort, type Node } from '../ir/node.js';
import type { ScanBody } from '../primitives/scan.js';

export interface Rule {
  readonly name: string;
  readonly apply: (n: Node) => Node | null;
}

export interface RewriteStats {
  readonly fired: Map<string, number>;
}

/** Told when a node is remade with rewritten operands (a pass that keeps facts about nodes carries them over). */
export type OnRebuild = (from: Node, to: Node) => void;

export function rewrite(roots: readonly Node[], rules: readonly Rule[], stats?: RewriteStats, onRebuild?: OnRebuild): Node[] {
  const done = new Map<Node, Node>();
  const rebuild = (n: Node): Node => {
    const inputs = n.inputs.map((i) => done.get(i)!);
    // a scan's body is a graph of its own: the same rules apply inside it
    const body = n.attrs.body ? rewriteBody(n.attrs.body, rules, stats) : undefined;
    const same = inputs.every((x, k) => x === n.inputs[k]) && body === n.attrs.body;
    if (same) return n;
    const to = n.graph.make(n.op, inputs, body ? { ...n.attrs, body } : n.attrs);
    onRebuild?.(n, to);
    return to;
  };
  for (const n of toposort(roots)) {
    let cur = rebuild(n);
    for (let guard = 0; guard < 100; guard++) {
      const next = applyFirst(cur, rules, stats);
      if (!next || next === cur) break;
      // a replacement may be a new node whose operands themselves want rewriting
      cur = next.inputs.some((i) => !done.has(i)) ? rewrite([next], rules, stats, onRebuild)[0]! : next;
    }
    done.set(n, cur);
  }
  return roots.map((r) => done.get(r)!);
}

function applyFirst(n: Node, rules: readonly Rule[], stats?: RewriteStats): Node | null {
  for (const r of rules) {
    const out = r.apply(n);
    if (out && out !== n) {
      if (stats) stats.fired.set(r.name, (stats.fired.get(r.name) ?? 0) + 1);
      return out;
    }
  }
  return null;
}

const rewrittenBodies = new WeakMap<ScanBody, WeakMap<readonly Rule[], ScanBody>>();

function rewriteBody(body: ScanBody, rules: readonly Rule[], stats?: RewriteStats): ScanBody {
  let byRules = rewrittenBodies.get(body);
  if (!byRules) rewrittenBodies.set(body, (byRules = new WeakMap()));
  const hit = byRules.get(rules);
  if (hit) return hit;
  const [next] = rewrite([body.next], rules, stats);
  const out = next === body.next ? body : { ...body, key: `${body.key}'`, next: next! };
  byRules.set(rules, out);
  return out;
}
