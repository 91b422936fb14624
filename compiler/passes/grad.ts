// Reverse-mode differentiation on the graph: walk the nodes from the output back to the
// inputs, apply each primitive's VJP rule from the table, and add up the cotangents. The rules
// return cotangents shaped like the node; here they are summed down to broadcast operands.
import { toposort, type Node } from '../ir/node.js';
import { hasDerivative, primitive } from '../primitives/table.js';
import { exprText } from '../ir/print.js';
import { originOf } from '../ir/origin.js';
import { add, sumTo } from '../ir/builders.js';

/**
 * d<output, seed>/d wrt_i for each `wrt` node: the gradient graph, built in the same graph
 * (so it shares every forward node it needs). null where wrt_i does not influence output.
 */
export function vjpGraph(output: Node, seed: Node, wrt: readonly Node[]): (Node | null)[] {
  const order = toposort([output]);
  const influenced = nodesInfluencedBy(order, new Set(wrt));
  // A cotangent may be shaped like a broadcast of its node (the consumer broadcast the node):
  // elementwise VJPs apply to it as is, so the sum over broadcast axes happens once, at the
  // end of the chain, inside the same kernel, instead of after every op.
  const cotangent = new Map<Node, Node>([[output, seed]]);
  const accumulate = (n: Node, c: Node): void => {
    const prev = cotangent.get(n);
    if (!prev) cotangent.set(n, c);
    else if (prev.shape === c.shape) cotangent.set(n, add(prev, c));
    else cotangent.set(n, add(sumTo(prev, n.shape), sumTo(c, n.shape)));
  };

  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]!;
    let g = cotangent.get(node);
    if (!g || node.inputs.length === 0) continue;
    const rule = primitive(node.op).vjp;
    if (!hasDerivative(rule)) throw new NoDerivativeError(node, rule.none);
    if (primitive(node.op).category !== 'elementwise') g = sumTo(g, node.shape);
    const parts = rule(g, node, context);
    node.inputs.forEach((x, k) => {
      const c = parts[k];
      if (c && x.kind === 'float' && influenced.has(x)) accumulate(x, c);
    });
  }
  return wrt.map((w) => {
    const c = cotangent.get(w);
    return c ? sumTo(c, w.shape) : null;
  });
}

/** A gradient reached a primitive that has none (the table says why). */
export class NoDerivativeError extends Error {
  constructor(
    readonly node: Node,
    readonly why: string,
  ) {
    const at = originOf(node);
    super(`${at ? `${at.file}:${at.line}:${at.column}: ` : ''}lossc: cannot differentiate through ${node.op} in ${exprText(node)}: ${why}`);
    this.name = 'NoDerivativeError';
  }
}

/** What VJP rules get beside the builders: this pass, for the bodies of scans. */
const context = { vjpGraph };

/** The nodes whose value depends on one of `sources` (gradients flow only through them). */
function nodesInfluencedBy(order: readonly Node[], sources: ReadonlySet<Node>): Set<Node> {
  const out = new Set<Node>();
  for (const n of order) if (sources.has(n) || n.inputs.some((i) => out.has(i))) out.add(n);
  return out;
}
