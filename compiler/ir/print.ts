// Printing graphs and plans: the text `explain` shows.
import { toposort, type Node } from './node.js';
import { isAllAxes, type ShapeExpr } from './shape.js';
import type { KernelOutput, KernelPlan } from '../plan/kernelPlan.js';

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

function attrsText(n: Node): string {
  const a = n.attrs;
  switch (n.op) {
    case 'input':
      return ` ${a.name}`;
    case 'param':
      return ` ${a.name}`;
    case 'const':
      return ` ${a.value}`;
    case 'numel':
      return ` ${shapeText(a.shape!)}`;
    case 'dim':
      return ` ${shapeText(a.shape!)}[${a.axis}]`;
    case 'sum':
    case 'max':
      return isAllAxes(a.axes!) ? '' : ` axes=[${a.axes!.join(', ')}]${a.keepDims ? ' keepdims' : ''}`;
    case 'sumTo':
    case 'broadcastTo':
      return ` to ${shapeText(a.shape!)}`;
    case 'unsqueeze':
      return ` axes=[${a.axes!.join(', ')}]`;
    case 'cast':
      return ` to ${a.kind}`;
    case 'gather':
      return ` axis=${a.axis}`;
    case 'iota':
      return ` axis ${a.axis} of ${shapeText(a.shape!)}`;
    default:
      return '';
  }
}

/** One line per node, operands first: `%7 = mul %5, %6 : float shape(input)`. */
export function printNodes(roots: readonly (readonly [string, Node])[]): string {
  const lines = toposort(roots.map((r) => r[1])).map(
    (n) => `%${n.id} = ${n.op}${attrsText(n)}${n.inputs.length ? ' ' + n.inputs.map((i) => `%${i.id}`).join(', ') : ''} : ${n.kind} ${shapeText(n.shape)}`,
  );
  for (const [name, n] of roots) lines.push(`${name} = %${n.id}`);
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
