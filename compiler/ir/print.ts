// Printing graphs and plans: the text `explain` shows.
import { toposort, type Node } from './node.js';
import { isAllAxes, type ShapeExpr } from './shape.js';
import type { KernelOutput, KernelPlan } from '../plan/kernelPlan.js';
import type { Attrs } from '../primitives/table.js';

export function shapeText(s: ShapeExpr): string {
  switch (s.kind) {
    case 'scalar':
      return '[]';
    case 'input':
      return `shape(${s.name})`;
    case 'broadcast':
      return `broadcast(${s.parts.map(shapeText).join(', ')})`;
    case 'reduce':
      return `reduce(${shapeText(s.of)}, ${isAllAxes(s.axes) ? 'all' : `[${s.axes.join(', ')}]`}${s.keepDims ? ', keepdims' : ''})`;
    case 'unsqueeze':
      return `unsqueeze(${shapeText(s.of)}, [${s.axes.join(', ')}])`;
    case 'axisOnly':
      return `axis ${s.axis} of ${shapeText(s.of)}`;
    case 'affine':
      return `${shapeText(s.of)} with axis ${s.axis} of size ${s.scale}n+${s.offset}`;
    case 'stack':
      return `[steps of ${shapeText(s.steps)}, ...${shapeText(s.of)}]`;
  }
}

/**
 * Every attribute an op can carry, and how explain() spells it. The mapped type makes a new
 * attribute in the table's `Attrs` a compile error here until it has a spelling.
 */
const ATTR_TEXT: { readonly [K in keyof Attrs]-?: (v: NonNullable<Attrs[K]>) => string } = {
  name: (v) => v,
  value: (v) => (Object.is(v, -0) ? '-0' : String(v)),
  kind: (v) => `kind=${v}`,
  shape: (v) => `shape=${shapeText(v)}`,
  axes: (v) => (isAllAxes(v) ? 'axes=all' : `axes=[${v.join(', ')}]`),
  keepDims: (v) => (v ? 'keepdims' : ''),
  axis: (v) => `axis=${v}`,
  by: (v) => `by=${v}`,
  reverse: (v) => (v ? 'reverse' : ''),
  body: (v) => `body=${v.key}`,
};

/** A node's attributes as explain() spells them (` axes=[1] keepdims`), with a leading space. */
export function attrsText(n: Node): string {
  const parts = (Object.keys(n.attrs) as (keyof Attrs)[])
    .filter((k) => n.attrs[k] !== undefined)
    .map((k) => (ATTR_TEXT[k] as (v: unknown) => string)(n.attrs[k]));
  return parts
    .filter((p) => p !== '')
    .map((p) => ` ${p}`)
    .join('');
}

/** A node as a short expression, `floorDiv(input, 2)`, for messages (operands deeper than `depth` as `...`). */
export function exprText(n: Node, depth = 3): string {
  if (n.op === 'input' || n.op === 'param') return n.attrs.name!;
  if (n.op === 'const') return ATTR_TEXT.value(n.attrs.value!);
  if (depth === 0) return '...';
  const attrs = attrsText(n).trim();
  const args = [...n.inputs.map((i) => exprText(i, depth - 1)), ...(attrs ? [attrs] : [])];
  return `${n.op}(${args.join(', ')})`;
}

/** One line per node, operands first: `%7 = mul %5, %6 : float shape(input)`; a scan's body follows it, indented. */
export function printNodes(roots: readonly (readonly [string, Node])[], indent = ''): string {
  const lines: string[] = [];
  for (const n of toposort(roots.map((r) => r[1]))) {
    lines.push(
      `${indent}%${n.id} = ${n.op}${attrsText(n)}${n.inputs.length ? ' ' + n.inputs.map((i) => `%${i.id}`).join(', ') : ''} : ${n.kind} ${shapeText(n.shape)}`,
    );
    const body = n.attrs.body;
    if (body) {
      const bound = [body.carry, ...body.xs, ...body.consts, body.step].map((p) => p.attrs.name).join(', ');
      lines.push(`${indent}  ${body.key}(${bound}) {`, printNodes([['next', body.next]], `${indent}    `), `${indent}  }`);
    }
  }
  for (const [name, n] of roots) lines.push(`${indent}${name} = %${n.id}`);
  return lines.join('\n');
}

export function printPlan(plan: KernelPlan): string {
  const lines = [`plan ${plan.name}: ${plan.kernels.length} kernel${plan.kernels.length === 1 ? '' : 's'}`];
  const out = (o: KernelOutput, indent: string): string =>
    `${indent}${o.mode === 'store' ? 'writes' : o.mode === 'sum' ? 'sums into' : 'maxes into'} ${o.buffer} = %${o.node.id} : ${shapeText(o.node.shape)}`;
  for (const k of plan.kernels) {
    if (k.rows) {
      lines.push(`  kernel ${k.name}: row kernel over ${shapeText(k.domain)} along axis ${k.rows.axis}`);
      lines.push(`    reads  ${k.reads.join(', ') || '-'}`);
      lines.push(`    for each row:`);
      for (const stage of k.rows.stages) {
        lines.push(stage.over === 'pass' ? '      a pass over the row:' : '      once for the row:');
        for (const o of stage.outputs) lines.push(out(o, '        '));
      }
    } else {
      lines.push(`  kernel ${k.name} over ${shapeText(k.domain)}`);
      lines.push(`    reads  ${k.reads.join(', ') || '-'}`);
      for (const o of k.outputs) lines.push(out(o, '    '));
    }
    for (const o of k.epilogue) lines.push(`    then   ${o.buffer} = %${o.node.id} (scalar epilogue)`);
  }
  lines.push(`  results ${plan.results.join(', ')}`);
  return lines.join('\n');
}
