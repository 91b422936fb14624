// Recurrences: scan(init, xs, consts) runs state_t = body(state_{t-1}, xs[t], consts, t) over
// the first axis of xs and stacks the states. The body is a graph of its own, over placeholder
// inputs, so the gradient is derived from it by the same reverse-mode pass as everything else:
//
//   c_t = G[t] + dbody/dstate(c_{t+1}; state_t, xs[t+1])   a reverse scan (the "beta" recursion)
//   dxs[t], dconsts = dbody/dxs, dbody/dconsts (c_t; state_{t-1}, xs[t])   batched over t
//
// Bodies use negative axes, so that the batched copies (with a leading time axis) mean the same.
import { toposort, type Node, type Kind } from '../ir/node.js';
import type { Graph } from '../ir/graph.js';
import { affineShape, axisOnlyShape, broadcastShapes, inputShape, reduceShape, scalarShape, stackShape, unsqueezeShape, type ShapeExpr } from '../ir/shape.js';
import * as b from '../ir/builders.js';
import type { VjpContext } from './table.js';

export interface ScanBody {
  /** identity, for hash-consing the scan node */
  readonly key: string;
  readonly graph: Graph;
  readonly carry: Node;
  readonly xs: readonly Node[];
  readonly consts: readonly Node[];
  /** the step number t (int scalar), if the body uses it */
  readonly step: Node;
  readonly next: Node;
}

let bodies = 0;

/**
 * Build a scan. `step(state, xs, consts, t)` is called once, on placeholders shaped like one
 * step's slices; what it returns is the next state (the shape and kind of `init`).
 */
/** An operand's shape for one step, stated in terms of the state's shape (checked at each call). */
export type StepShape = (state: ShapeExpr) => ShapeExpr;

export interface ScanShapes {
  readonly xs?: readonly (StepShape | undefined)[];
  readonly consts?: readonly (StepShape | undefined)[];
}

export function scan(
  init: Node,
  xs: readonly Node[],
  consts: readonly Node[],
  step: (state: Node, xs: Node[], consts: Node[], t: Node) => Node,
  reverse = false,
  shapes: ScanShapes = {},
): Node {
  if (xs.length === 0) throw new Error('scan needs at least one sequence to scan over');
  const graph = init.graph.fresh();
  const place = (name: string, kind: Kind, shape: ShapeExpr): Node => graph.input(name, kind, shape);
  const state = inputShape('@carry');
  const carry = place('@carry', init.kind, state);
  // an operand whose step has the state's shape (or is declared to relate to it) says so: then the
  // body's gradient needs no reductions to bring cotangents back to the operands' shapes
  const stepShape = (slice: ShapeExpr, declared: StepShape | undefined, name: string): ShapeExpr =>
    declared ? declared(state) : slice === init.shape ? state : inputShape(name);
  const xsP = xs.map((x, i) => place(`@x${i}`, x.kind, stepShape(reduceShape(x.shape, [0], false), shapes.xs?.[i], `@x${i}`)));
  const constsP = consts.map((c, i) => place(`@c${i}`, c.kind, stepShape(c.shape, shapes.consts?.[i], `@c${i}`)));
  const t = place('@step', 'int', scalarShape);
  const next = step(carry, xsP, constsP, t);
  const body: ScanBody = { key: `body${bodies++}`, graph, carry, xs: xsP, consts: constsP, step: t, next };
  return init.graph.make('scan', [init, ...xs, ...consts], { body, reverse });
}

/** The shape of a placeholder, as the outer graph sees the operand bound to it. */
export function placeholderShapes(body: ScanBody, init: Node, xs: readonly Node[], consts: readonly Node[]): Map<ShapeExpr, ShapeExpr> {
  const m = new Map<ShapeExpr, ShapeExpr>([[body.carry.shape, init.shape]]);
  // a step's slice of a sequence: the sequence without its first axis
  xs.forEach((x, i) => m.set(body.xs[i]!.shape, reduceShape(x.shape, [0], false)));
  consts.forEach((c, i) => m.set(body.consts[i]!.shape, c.shape));
  return m;
}

/** Rewrite a shape expression of one graph's inputs into another's. */
export function substShape(s: ShapeExpr, map: ReadonlyMap<ShapeExpr, ShapeExpr>): ShapeExpr {
  const hit = map.get(s);
  if (hit) return hit;
  switch (s.kind) {
    case 'scalar':
    case 'input':
      return s;
    case 'broadcast':
      return broadcastShapes(...s.parts.map((p) => substShape(p, map)));
    case 'reduce':
      return reduceShape(substShape(s.of, map), s.axes, s.keepDims);
    case 'unsqueeze':
      return unsqueezeShape(substShape(s.of, map), s.axes);
    case 'axisOnly':
      return axisOnlyShape(substShape(s.of, map), s.axis);
    case 'affine':
      return affineShape(substShape(s.of, map), s.axis, s.scale, s.offset);
    case 'stack':
      return stackShape(substShape(s.steps, map), substShape(s.of, map));
  }
}

/** Copy `roots` (and what they depend on) into `target`, replacing the nodes in `subst`. */
export function cloneInto(target: Graph, roots: readonly Node[], subst: ReadonlyMap<Node, Node>, shapes: ReadonlyMap<ShapeExpr, ShapeExpr>): Node[] {
  const done = new Map<Node, Node>(subst);
  for (const n of toposort(roots)) {
    if (done.has(n)) continue;
    if (n.op === 'input') throw new Error(`internal: scan body input ${n.attrs.name} has no binding`);
    if (n.op === 'scan') throw new Error('scans inside a scan body are not supported');
    const attrs = n.attrs.shape ? { ...n.attrs, shape: substShape(n.attrs.shape, shapes) } : n.attrs;
    done.set(
      n,
      target.make(
        n.op,
        n.inputs.map((i) => done.get(i)!),
        attrs,
      ),
    );
  }
  return roots.map((r) => done.get(r)!);
}

/** Does a placeholder have a shape symbol of its own (rather than one stated relative to the state)? */
const ownShape = (p: Node): boolean => p.shape.kind === 'input' && p.shape.name === p.attrs.name;

/**
 * The VJP of a scan node: a reverse scan for the states, then batched body gradients. The body's
 * own derivatives come from the reverse-mode pass, handed in as `ctx` (the table does not import it).
 */
export function scanVjp(g: Node, out: Node, { vjpGraph }: VjpContext): (Node | null)[] {
  const body = out.attrs.body!;
  const nx = body.xs.length;
  const init = out.inputs[0]!;
  const xs = out.inputs.slice(1, 1 + nx);
  const consts = out.inputs.slice(1 + nx);
  const outer = out.graph;
  if (out.attrs.reverse) throw new Error('gradients through a reverse scan are not supported');

  // d next / d (state, xs, consts), for a cotangent placeholder, inside the body's graph
  const gNext = body.graph.input('@g', 'float', body.next.shape);
  const wrt = [body.carry, ...body.xs, ...body.consts];
  const partials = vjpGraph(body.next, gNext, wrt);

  // the reverse recursion: c_t = G[t] + dstate(c_{t+1}; state_t, xs[t+1])
  const nextXs = xs.map((x) => b.shift(x, 0, -1, 0));
  const relative =
    (p: Node): StepShape =>
    (st) =>
      substShape(p.shape, new Map([[body.carry.shape, st]]));
  const reverse = scan(
    b.broadcastTo(b.constant(outer, 0), init.shape),
    [g, out, ...nextXs],
    consts,
    (c, [gt, st, ...xNext], cs, t) => {
      const dState = partials[0];
      if (!dState) return gt!;
      const subst = new Map<Node, Node>([
        [gNext, c],
        [body.carry, st!],
        [body.step, b.add(t, b.castIndex(t.graph, 1))],
      ]);
      body.xs.forEach((p, i) => subst.set(p, xNext[i]!));
      body.consts.forEach((p, i) => subst.set(p, cs[i]!));
      const shapes = new Map<ShapeExpr, ShapeExpr>([
        [body.carry.shape, c.shape],
        [gNext.shape, c.shape],
      ]);
      body.xs.forEach((p, i) => ownShape(p) && shapes.set(p.shape, xNext[i]!.shape));
      body.consts.forEach((p, i) => ownShape(p) && shapes.set(p.shape, cs[i]!.shape));
      return b.add(gt!, cloneInto(c.graph, [dState], subst, shapes)[0]!);
    },
    true,
    { xs: [undefined, undefined, ...body.xs.map(relative)], consts: body.consts.map(relative) },
  );

  // every other partial, for all t at once: (c_t; state_{t-1}, xs[t])
  const previous = b.shift(out, 0, 1, init);
  const subst = new Map<Node, Node>([
    [gNext, reverse],
    [body.carry, previous],
    [body.step, b.iota(out, 0)],
  ]);
  body.xs.forEach((p, i) => subst.set(p, xs[i]!));
  body.consts.forEach((p, i) => subst.set(p, consts[i]!));
  // shapes stated relative to the state follow it to the stacked states, a leading step axis
  // included (a const's per-step gradients are then summed over the steps below)
  const shapes = new Map<ShapeExpr, ShapeExpr>([
    [body.carry.shape, out.shape],
    [gNext.shape, out.shape],
  ]);
  body.xs.forEach((p, i) => ownShape(p) && shapes.set(p.shape, xs[i]!.shape));
  body.consts.forEach((p, i) => ownShape(p) && shapes.set(p.shape, consts[i]!.shape));
  const batched = (k: number): Node | null => (partials[k] ? cloneInto(outer, [partials[k]!], subst, shapes)[0]! : null);
  const first = b.castIndex(outer, 0);
  const dInit = batched(0);
  return [
    dInit ? b.gather(b.broadcastTo(dInit, out.shape), first, 0) : null,
    ...xs.map((_, i) => batched(1 + i)),
    // summed over every step (and any axis the body broadcast it along)
    ...consts.map((c, i) => {
      const d = batched(1 + nx + i);
      return d ? b.sumTo(d, c.shape) : null;
    }),
  ];
}
