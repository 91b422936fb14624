// JS for a row kernel: one loop over the rows; per row, the stages in order: passes over the
// row's elements (reducing into locals that the later stages read) and work done once per row.
// Values constant along the row (its log-sum-exp, its target's weight) are computed once per row.
import type { Node } from '../ir/node.js';
import type { Kernel, KernelOutput, Precision } from '../plan/kernelPlan.js';
import { BodyPrinter } from './expr.js';
import { rowSlots, type OutputSlot } from '../abi/slots.js';

export interface RowKernelCode {
  readonly outputs: OutputSlot[];
  readonly lines: string[];
}

export function emitRowKernelBody(k: Kernel, p: BodyPrinter, precision: Precision): RowKernelCode {
  const rows = k.rows!;
  const slots = rowSlots(k);
  const { slotOf, rowShapes, addressed } = slots;
  const outputs = [...slots.loop, ...slots.epilogue];
  const isRowValue = (n: Node): boolean => rowShapes.has(n.shape);
  const round = (e: string): string => (precision === 'f32' ? `fr(${e})` : e);

  const lines: string[] = [];
  const emit = (indent: number, ...ls: string[]): void => void lines.push(...ls.map((l) => '  '.repeat(indent) + l));
  const combine = (mode: KernelOutput['mode'], acc: string, v: string): string =>
    mode === 'max' ? `${acc} = (${v} > ${acc} || ${v} !== ${v}) ? ${v} : ${acc};` : `${acc} += ${v};`;
  const init = (mode: KernelOutput['mode']): string => (mode === 'max' ? '-Infinity' : '0');

  // values a later pass needs again and that cost a transcendental call: computed once, kept in a
  // row-long scratch array (the row is in cache), e.g. softmax's exp(x - max) for the gradient
  const caches = rowCaches(k, p, precision, isRowValue);
  const bound = new Map<Node, string>();
  const body: string[] = [];
  let siteCountAtEnd = 0;
  // slots of L.ost / L.ast: sites first (their number is known only after printing), then outputs
  const off = (j: number): string => `b_o${j}`;

  rows.stages.forEach((stage, si) => {
    if (stage.over === 'row') {
      const roots = stage.outputs.map((o) => (o.mode === 'store' ? o.node : o.node.inputs[0]!));
      const b = p.body(roots, (site) => `b${site}`, `_r${si}`, bound, { scalarInvariants: true, rootFrames: true });
      body.push(...b.lines);
      stage.outputs.forEach((o, i) => {
        const j = slotOf.get(o)!;
        const v = b.values[i]!;
        if (o.mode === 'store') {
          body.push(`o${j}[${off(j)}] = ${v};`);
          bound.set(o.node, v);
        } else if (outputs[j]!.register) body.push(combine(o.mode, `g${j}`, v));
        else body.push(combine(o.mode, `o${j}[${off(j)}]`, v));
      });
      return;
    }
    // a pass over the row
    const hoisted: string[] = [];
    const roots = stage.outputs.map((o) => (o.mode === 'store' ? o.node : o.node.inputs[0]!));
    const b = p.body(roots, (site) => `b${site} + j * a${site}`, `_p${si}`, bound, {
      scalarInvariants: true,
      hoistRow: { test: isRowValue, index: (site) => `b${site}`, lines: hoisted },
      cacheWrite: caches.writes[si],
      cacheRead: caches.reads[si],
    });
    body.push(...hoisted);
    const rowReductions = stage.outputs.filter((o) => o.mode !== 'store' && rowShapes.has(o.node.shape) && o.node.inputs[0]!.shape === k.domain);
    for (const o of rowReductions) body.push(`let rr${slotOf.get(o)!} = ${init(o.mode)};`);
    body.push(`for (let j = 0; j < C; j++) {`);
    body.push(...b.lines.map((l) => `  ${l}`));
    stage.outputs.forEach((o, i) => {
      const j = slotOf.get(o)!;
      const v = b.values[i]!;
      if (o.mode === 'store') body.push(`  o${j}[${off(j)} + j * a_o${j}] = ${v};`);
      else if (rowReductions.includes(o)) body.push(`  ${combine(o.mode, `rr${j}`, v)}`);
      else if (outputs[j]!.register) body.push(`  ${combine(o.mode, `g${j}`, v)}`);
      else body.push(`  ${combine(o.mode, `o${j}[${off(j)} + j * a_o${j}]`, v)}`);
    });
    body.push(`}`);
    for (const o of rowReductions) {
      const j = slotOf.get(o)!;
      body.push(`const red${j} = ${round(`rr${j}`)};`, `o${j}[${off(j)}] = red${j};`);
      bound.set(o.node, `red${j}`);
    }
  });
  siteCountAtEnd = p.sites.length;

  // epilogue: totals over every row, then the scalar results
  const epiBound = new Map<Node, string>();
  const epi: string[] = [];
  outputs.forEach((o, j) => {
    if (!o.register) return;
    epi.push(`const tot${j} = ${round(`g${j}`)};`, `o${j}[0] = tot${j};`);
    epiBound.set(o.node, `tot${j}`);
  });
  const epiOutputs = outputs.filter((o) => o.phase === 'epilogue');
  const eb = p.body(
    epiOutputs.map((o) => o.node),
    () => '0',
    '_e',
    epiBound,
  );
  epi.push(...eb.lines, ...epiOutputs.map((o, e) => `o${outputs.indexOf(o)}[0] = ${eb.values[e]!};`));

  const sites = Array.from({ length: siteCountAtEnd }, (_, s) => s);
  emit(1, ...outputs.map((o, j) => (o.register ? `let g${j} = ${init(o.mode)};` : '')).filter(Boolean));
  emit(1, `const rows = L.rows, C = L.C, outer = L.outer, r = outer.length, ost = L.ost, ast = L.ast;`);
  // the runtime's pooled float64 arrays of at least C elements (no allocation per call)
  emit(1, ...caches.names.map((name, i) => `const ${name} = L.scratch(${i}, C);`));
  emit(1, ...sites.map((s) => `const os${s} = ost[${s}], a${s} = ast[${s}];`));
  emit(1, ...addressed.map((j, i) => `const oo${j} = ost[${siteCountAtEnd + i}], a_o${j} = ast[${siteCountAtEnd + i}];`));
  emit(1, `for (let q = 0; q < rows; q++) {`);
  emit(2, `let rem = q${sites.map((s) => `, b${s} = 0`).join('')}${addressed.map((j) => `, ${off(j)} = 0`).join('')};`);
  emit(2, `for (let d = r - 1; d >= 0; d--) {`);
  emit(
    3,
    `const n_d = outer[d], id = rem % n_d;`,
    `rem = (rem - id) / n_d;`,
    ...sites.map((s) => `b${s} += id * os${s}[d];`),
    ...addressed.map((j) => `${off(j)} += id * oo${j}[d];`),
  );
  emit(2, `}`);
  emit(2, ...body);
  emit(1, `}`);
  emit(1, ...epi);
  return { outputs, lines };
}

const EXPENSIVE = new Set(['exp', 'expm1', 'log', 'log1p', 'pow', 'tanh', 'sqrt']);

/**
 * Which per-element values to keep between the passes of a row kernel: expensive ones that a
 * later pass computes again. A dry run of every pass records what each computes.
 */
export function rowCaches(k: Kernel, p: BodyPrinter, precision: Precision, isRowValue: (n: Node) => boolean) {
  const stages = k.rows!.stages;
  // in the dry run every reduction of this kernel counts as known (the real run binds them in order)
  const known = new Map<Node, string>(
    stages
      .flatMap((s) => s.outputs)
      .filter((o) => o.mode !== 'store')
      .map((o) => [o.node, '0'] as const),
  );
  const computed = stages.map((stage) => {
    const record = new Set<Node>();
    if (stage.over === 'pass') {
      const dry = new BodyPrinter(p.spell, p.env);
      const roots = stage.outputs.map((o) => (o.mode === 'store' ? o.node : o.node.inputs[0]!));
      dry.body(roots, () => 'j', '_dry', known, { scalarInvariants: true, hoistRow: { test: isRowValue, index: () => '0', lines: [] }, record });
    }
    return record;
  });
  const writes = stages.map(() => new Map<Node, string>());
  const reads = stages.map(() => new Map<Node, string>());
  const names: string[] = [];
  const owner = new Map<Node, number>();
  computed.forEach((nodes, si) => {
    for (const n of nodes) {
      if (!EXPENSIVE.has(n.op) || n.shape !== k.domain) continue;
      const first = owner.get(n);
      if (first === undefined) owner.set(n, si);
      else {
        let name = writes[first]!.get(n);
        if (!name) {
          name = `cache${names.length}`;
          names.push(name);
          writes[first]!.set(n, name);
        }
        reads[si]!.set(n, name);
      }
    }
  });
  void precision;
  return { writes, reads, names };
}
