// Graph IR: immutable nodes, hash-consed per graph, so structurally equal expressions are the
// same node (CSE for free) and node identity is expression identity.
// Nodes are made only by a Graph (graph.ts), which asks the primitive table for their shape and kind.
import type { OpName, Attrs } from '../primitives/table.js';
import { scalarShape, type ShapeExpr } from './shape.js';
import type { Graph } from './graph.js';

export type { Graph } from './graph.js';

/** Element kinds. Float precision (f32 or f64) is chosen when a graph is compiled, not here. */
export type Kind = 'float' | 'int' | 'bool';

export class Node {
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly op: OpName,
    readonly inputs: readonly Node[],
    readonly attrs: Attrs,
    readonly kind: Kind,
    readonly shape: ShapeExpr,
    readonly key: string,
  ) {}

  toString(): string {
    return `%${this.id}`;
  }
}

export type Operand = Node | number | boolean;

/** Nodes reachable from `roots`, inputs before users. Iterative: deep graphs do not overflow the stack. */
export function toposort(roots: readonly Node[]): Node[] {
  const order: Node[] = [];
  const state = new Map<Node, 1 | 2>(); // 1: on the stack, 2: emitted
  const stack: [Node, number][] = roots.map((r) => [r, 0]);
  stack.reverse();
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [node, next] = top;
    if (next === 0) {
      if (state.get(node) === 2) {
        stack.pop();
        continue;
      }
      state.set(node, 1);
    }
    if (next < node.inputs.length) {
      top[1] = next + 1;
      const child = node.inputs[next]!;
      if (!state.has(child)) stack.push([child, 0]);
      continue;
    }
    stack.pop();
    if (state.get(node) !== 2) {
      state.set(node, 2);
      order.push(node);
    }
  }
  return order;
}

export const isScalar = (n: Node): boolean => n.shape === scalarShape;
