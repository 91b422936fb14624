// A graph: the one factory of nodes. Structurally equal nodes are made once (hash-consing), and
// each node's kind and shape come from its primitive's rule in the table.
import { PRIMITIVES, type OpName, type Attrs } from '../primitives/table.js';
import { inputShape, type ShapeExpr } from './shape.js';
import { Node, type Kind, type Operand } from './node.js';

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
  /** A new, empty graph (a scan body's), made by the same table. */
  fresh(): Graph {
    return new Graph();
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
