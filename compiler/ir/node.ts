// Graph IR: immutable nodes, hash-consed per graph, so structurally equal expressions are the
// same node (CSE for free) and node identity is expression identity.
import { PRIMITIVES, type OpName, type Attrs } from '../primitives/table.js';
import { scalarShape, inputShape, type ShapeExpr } from './shape.js';

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

export class Graph {
  private readonly byKey = new Map<string, Node>();
  private readonly all: Node[] = [];

  get size(): number {
    return this.all.length;
  }

  /** The one way nodes are made: shape and kind come from the primitive's rule in the table. */
  make(op: OpName, inputs: readonly Node[], attrs: Attrs = {}): Node {
    for (const i of inputs) if (i.graph !== this) throw new Error(`${op}: operand %${i.id} belongs to another graph`);
    const key = `${op}(${inputs.map((i) => i.id).join(',')})${attrKey(attrs)}`;
    const hit = this.byKey.get(key);
    if (hit) return hit;
    const def = PRIMITIVES[op];
    const { kind, shape } = def.infer(inputs, attrs as never);
    const node = new Node(this, this.all.length, op, Object.freeze([...inputs]), Object.freeze({ ...attrs }), kind, shape, key);
    this.byKey.set(key, node);
    this.all.push(node);
    return node;
  }

  input(name: string, kind: Kind, shape: ShapeExpr = inputShape(name)): Node {
    return this.make('input', [], { name, kind, shape });
  }
  param(name: string, kind: Kind = 'float'): Node {
    return this.make('param', [], { name, kind });
  }
  constant(value: number, kind: Kind = 'float'): Node {
    return this.make('const', [], { value, kind });
  }
  scalarConst(value: Operand): Node {
    if (value instanceof Node) return value;
    if (typeof value === 'boolean') return this.constant(value ? 1 : 0, 'bool');
    return this.constant(value);
  }
}

function attrKey(attrs: Attrs): string {
  const entries = Object.entries(attrs);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}=${valueKey(v)}`).join(';')}}`;
}
function valueKey(v: unknown): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (v && typeof v === 'object' && 'key' in v) return String((v as { key: string }).key);
  if (Array.isArray(v)) return `[${v.map(valueKey).join(',')}]`;
  return String(v);
}

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
