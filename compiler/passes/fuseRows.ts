// Row fusion: the kernels a softmax-like loss needs (reduce each row, use the reduction on the
// same row, reduce again) become ONE kernel that walks the rows once and runs several short
// passes over each row while it is in cache. This applies whenever every value flowing between
// those kernels is a reduction along a single axis of one domain (a "row reduction"); a
// reduction over all rows that a row needs (a weighted mean's denominator) must come from an
// earlier kernel, and one that only the final scalar needs is accumulated across rows.
import { toposort, type Node } from '../ir/node.js';
import { primitive } from '../primitives/table.js';
import { isAllAxes, reduceShape, type ShapeExpr } from '../ir/shape.js';
import type { KernelOutput, RowStage } from '../plan/kernelPlan.js';

export interface Draft {
  level: number;
  domain: ShapeExpr;
  outputs: KernelOutput[];
  epilogue: KernelOutput[];
  rows?: { axis: number; stages: RowStage[] };
  /** a recurrence: this scan node is the kernel */
  scan?: Node;
}

const isReduce = (n: Node): boolean => primitive(n.op).category === 'reduce';

interface Family {
  readonly domain: ShapeExpr;
  readonly axis: number;
  readonly rowShapes: ReadonlySet<ShapeExpr>;
}

/** Is `n` a reduction of `f`'s domain along exactly `f`'s axis (a sum or max, or a sum down to a row shape)? */
const isRowReduction = (n: Node, f: Family): boolean =>
  n.inputs[0]?.shape === f.domain &&
  (((n.op === 'sum' || n.op === 'max') && !isAllAxes(n.attrs.axes!) && n.attrs.axes!.length === 1 && n.attrs.axes![0] === f.axis) ||
    (n.op === 'sumTo' && f.rowShapes.has(n.attrs.shape!)));

/** Is a value in memory (a reduction, a scan, a stored operand) rather than recomputed inline? */
type Materialized = (n: Node) => boolean;

/** The materialised values (buffers) a draft's loop reads, and those only its epilogue reads. */
function readsOf(d: Draft, isBoundary: Materialized): { loop: Set<Node>; epilogue: Set<Node> } {
  const walk = (roots: Node[], mine: Set<Node>): Set<Node> => {
    const out = new Set<Node>();
    const seen = new Set<Node>();
    const stack = [...roots];
    while (stack.length) {
      const m = stack.pop()!;
      if (seen.has(m)) continue;
      seen.add(m);
      if (isBoundary(m) && !mine.has(m)) out.add(m);
      else if (!isBoundary(m)) stack.push(...m.inputs);
    }
    return out;
  };
  const mine = new Set(d.outputs.map((o) => o.node));
  const loopRoots = d.outputs.flatMap((o) =>
    o.node.op === 'scan'
      ? [...o.node.inputs]
      : o.mode === 'store' && !isBoundary(o.node)
        ? [o.node]
        : o.mode === 'store'
          ? [...o.node.inputs]
          : [o.node.inputs[0]!],
  );
  return {
    loop: walk(loopRoots, new Set()),
    epilogue: walk(
      d.epilogue.map((o) => o.node),
      mine,
    ),
  };
}

export function fuseRows(input: readonly Draft[], materialized: Materialized = isReduce, maxBuffers = Infinity): Draft[] {
  let drafts = [...input];
  const families = new Map<string, Family>();
  for (const d of drafts)
    for (const o of d.outputs) {
      const n = o.node;
      if ((n.op === 'sum' || n.op === 'max') && !isAllAxes(n.attrs.axes!) && n.attrs.axes!.length === 1) {
        const domain = n.inputs[0]!.shape;
        const axis = n.attrs.axes![0]!;
        families.set(`${domain.key}|${axis}`, { domain, axis, rowShapes: new Set([reduceShape(domain, [axis], true), reduceShape(domain, [axis], false)]) });
      }
    }
  for (const f of families.values()) {
    const members = withoutPrepasses(
      drafts.filter((d) => !d.rows && !d.scan && (d.domain === f.domain || f.rowShapes.has(d.domain))),
      f,
      materialized,
    );
    if (members.length < 2 || !canMerge(members, drafts, f, materialized) || buffersOf(members, materialized) > maxBuffers) continue;
    const merged = mergeRows(members, f);
    const at = drafts.indexOf(members[0]!);
    drafts = drafts.filter((d) => !members.includes(d));
    drafts.splice(Math.min(at, drafts.length), 0, merged);
  }
  return orderByDependencies(drafts, materialized);
}

/**
 * The buffers one kernel made of `members` binds: each output's, each input or materialised value
 * it reads from outside, and the partials of full reductions (counted whether or not a backend
 * needs them: an upper bound).
 */
export function buffersOf(members: readonly Draft[], isBoundary: Materialized): number {
  const outputs = members.flatMap((m) => [...m.outputs, ...m.epilogue]);
  const written = new Set(outputs.map((o) => o.buffer));
  const mine = new Set(outputs.map((o) => o.node));
  const read = new Set<Node>();
  const seen = new Set<Node>();
  const stack = outputs.flatMap((o) => (o.mode === 'store' && !isBoundary(o.node) ? [o.node] : [...o.node.inputs]));
  while (stack.length) {
    const m = stack.pop()!;
    if (seen.has(m)) continue;
    seen.add(m);
    if (m.op === 'input' || (isBoundary(m) && !mine.has(m))) read.add(m);
    else if (!mine.has(m) || !isBoundary(m)) stack.push(...m.inputs);
  }
  const partials = outputs.some((o) => o.mode !== 'store' && o.node.shape.kind === 'scalar') ? 1 : 0;
  return written.size + read.size + partials;
}

function producers(drafts: readonly Draft[], isBoundary: Materialized): Map<Node, Draft> {
  const by = new Map<Node, Draft>();
  for (const d of drafts) for (const o of d.outputs) if (isBoundary(o.node)) by.set(o.node, d);
  return by;
}

/**
 * Leave out the kernels whose results a row needs but that reduce across rows (e.g. the sum of
 * weight[target] a weighted mean divides by): they run first, as pre-passes.
 */
function withoutPrepasses(candidates: Draft[], f: Family, materialized: Materialized): Draft[] {
  let members = candidates;
  for (;;) {
    const loopReads = new Set(members.flatMap((m) => [...readsOf(m, materialized).loop]));
    const kept = members.filter((m) => !m.outputs.some((o) => o.mode !== 'store' && loopReads.has(o.node) && !isRowReduction(o.node, f)));
    if (kept.length === members.length) return members;
    members = kept;
  }
}

function canMerge(members: Draft[], drafts: Draft[], f: Family, materialized: Materialized): boolean {
  const producedBy = producers(drafts, materialized);
  // inside the family, only row reductions may flow from one loop to another
  for (const m of members)
    for (const n of readsOf(m, materialized).loop) {
      const p = producedBy.get(n);
      if (p && members.includes(p) && !isRowReduction(n, f)) return false;
    }
  // and no kernel outside may sit between two members (it would have to run in the middle)
  const deps = new Map(
    drafts.map((d) => {
      const r = readsOf(d, materialized);
      return [d, new Set([...r.loop, ...r.epilogue].map((n) => producedBy.get(n)).filter((p): p is Draft => !!p && p !== d))] as const;
    }),
  );
  const reaches = (from: Draft, target: (d: Draft) => boolean): boolean => {
    const seen = new Set<Draft>();
    const stack = [...deps.get(from)!];
    while (stack.length) {
      const d = stack.pop()!;
      if (seen.has(d)) continue;
      seen.add(d);
      if (target(d)) return true;
      stack.push(...deps.get(d)!);
    }
    return false;
  };
  const isMember = (d: Draft): boolean => members.includes(d);
  return !drafts.some((x) => !isMember(x) && reaches(x, isMember) && members.some((m) => reaches(m, (d) => d === x)));
}

/** One row kernel from the members: each output goes to the stage its row level allows. */
function mergeRows(members: Draft[], f: Family): Draft {
  const producedHere = new Set(members.flatMap((m) => m.outputs.map((o) => o.node)));
  const outputs = members.flatMap((m) => m.outputs);
  const roots = outputs.map((o) => o.node);
  // row level: how many passes over the row must precede a value
  const level = new Map<Node, number>();
  for (const n of toposort(roots)) {
    if (isReduce(n)) level.set(n, producedHere.has(n) ? level.get(n.inputs[0]!)! + 1 : 0);
    else level.set(n, Math.max(0, ...n.inputs.map((i) => level.get(i)!)));
  }
  const stages = new Map<string, { over: 'pass' | 'row'; level: number; outputs: KernelOutput[] }>();
  for (const o of outputs) {
    const x = o.mode === 'store' ? o.node : o.node.inputs[0]!;
    const over = x.shape === f.domain ? 'pass' : 'row';
    const l = level.get(x)!;
    const key = `${l}|${over}`;
    if (!stages.has(key)) stages.set(key, { over, level: l, outputs: [] });
    stages.get(key)!.outputs.push(o);
  }
  // per level: the once-per-row work first (it uses the previous passes), then the pass
  const ordered = [...stages.values()].sort((a, b) => a.level - b.level || (a.over === 'row' ? -1 : 1));
  return {
    level: Math.min(...members.map((m) => m.level)),
    domain: f.domain,
    outputs,
    epilogue: members.flatMap((m) => m.epilogue),
    rows: { axis: f.axis, stages: ordered.map((s) => ({ over: s.over, outputs: s.outputs })) },
  };
}

/** Kernels in an order where each runs after those whose results it reads. */
function orderByDependencies(drafts: Draft[], materialized: Materialized): Draft[] {
  const producedBy = producers(drafts, materialized);
  const out: Draft[] = [];
  const state = new Map<Draft, 'visiting' | 'done'>();
  const visit = (d: Draft): void => {
    if (state.get(d) === 'done') return;
    if (state.get(d) === 'visiting') throw new Error('internal: kernels depend on each other in a cycle');
    state.set(d, 'visiting');
    const r = readsOf(d, materialized);
    for (const n of [...r.loop, ...r.epilogue]) {
      const p = producedBy.get(n);
      if (p && p !== d) visit(p);
    }
    state.set(d, 'done');
    out.push(d);
  };
  [...drafts].sort((a, b) => a.level - b.level).forEach(visit);
  return out;
}
