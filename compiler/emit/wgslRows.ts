// The row kernel kind (a softmax's class axis): one workgroup per row, the row's stages in order.
import type { Node } from '../ir/node.js';
import type { ShapeExpr } from '../ir/shape.js';
import type { Kernel, KernelOutput } from '../plan/kernelPlan.js';
import {
  assemble,
  builtins,
  convert,
  EntryCtx,
  entryLayout,
  header,
  HEADERS,
  indent,
  initOf,
  MAX_RANK,
  ModuleCtx,
  reduceCall,
  toF32,
  ROW_WORKGROUP_SIZE,
  type EntryText,
  type KernelEnv,
  type WgslKernel,
  type WgslSlot,
} from './wgslCore.js';
import { emitFinish, emitScatter } from './wgslPlain.js';
import { rowSlots } from '../abi/slots.js';

/** A row kernel: one workgroup per row (grid-stride over rows), the stages in order. */
export function emitRowKernel(k: Kernel, env: KernelEnv): WgslKernel {
  const rows = k.rows!;
  const { loop, epilogue, slotOf, rowShapes } = rowSlots(k);
  const mod = new ModuleCtx(env);
  // what the rows entry writes per row, a later scatter reads from memory
  const written = new Map(env.materialized);
  for (const o of loop) if (!o.register && !o.accumulates) written.set(o.node, o.buffer);
  const scatterEnv: KernelEnv = { ...env, materialized: written };
  const texts: EntryText[] = [
    ...emitRows(k, mod, env, loop, slotOf, rowShapes),
    ...emitFinish(mod, env, loop, epilogue),
    ...loop.flatMap((o, j) => (o.accumulates ? emitScatter(mod, scatterEnv, o, j, o.from) : [])),
  ];
  return assemble(k, mod, env, texts, [...loop, ...epilogue], rows.axis);
}

/**
 * The rows entry: workgroup w takes rows w, w + G, ...; per row its stages in order. A pass
 * splits the row's C elements over the workgroup; a row reduction is a workgroup reduction
 * every invocation sees (so later stages may use it); work once per row is computed by every
 * invocation (it feeds later stages) and written by invocation 0.
 */
function emitRows(
  k: Kernel,
  mod: ModuleCtx,
  env: KernelEnv,
  loop: readonly WgslSlot[],
  slotOf: ReadonlyMap<KernelOutput, number>,
  rowShapes: ReadonlySet<ShapeExpr>,
): EntryText[] {
  const e = new EntryCtx(mod, env);
  const rootOf = (o: KernelOutput): Node => (o.mode === 'store' ? o.node : o.node.inputs[0]!);
  const addressed = loop.map((o, j) => (o.addressed ? j : -1)).filter((j) => j >= 0);
  const regs = loop.map((o, j) => (o.register ? j : -1)).filter((j) => j >= 0);
  const outs = loop.map((o) => (o.register ? null : e.use(o.buffer, 'read_write')));
  const part = regs.length ? e.use('$partials', 'read_write') : null;
  const bit = (j: number): string => `(mask & ${(2 ** j) >>> 0}u) != 0u`;
  const combine = (mode: KernelOutput['mode'], acc: string, v: string): string =>
    mode === 'max' ? `${acc} = lc_maxacc(${acc}, ${v});` : `${acc} = ${acc} + ${v};`;
  const bound = new Map<Node, string>();
  const body: string[] = [];
  k.rows!.stages.forEach((stage, si) => {
    const roots = stage.outputs.map(rootOf);
    if (stage.over === 'row') {
      const b = e.p.body(roots, (site) => `b${site}`, `_r${si}`, bound, { scalarInvariants: true, rootFrames: true });
      const once = stage.outputs.map((o, i) => {
        const j = slotOf.get(o)!;
        const v = toF32(b.values[i]!, roots[i]!.kind);
        if (loop[j]!.register) return combine(o.mode, `g${j}`, v);
        if (loop[j]!.accumulates) return `if (${bit(j)}) { ${outs[j]!.name}[bo${j}] = ${v}; }`;
        return `${outs[j]!.name}[bo${j}] = ${v};`;
      });
      stage.outputs.forEach((o, i) => o.mode === 'store' && bound.set(o.node, b.values[i]!));
      body.push(...b.lines, 'if (li == 0u) {', ...indent(1, once), '}');
      return;
    }
    const hoisted: string[] = [];
    const b = e.p.body(roots, (site) => `b${site} + jj * a${site}`, `_p${si}`, bound, {
      scalarInvariants: true,
      hoistRow: { test: (n) => rowShapes.has(n.shape), index: (site) => `b${site}`, lines: hoisted },
    });
    const rowReductions = stage.outputs.filter((o) => o.mode !== 'store' && rowShapes.has(o.node.shape) && o.node.inputs[0]!.shape === k.domain);
    const inner = stage.outputs.map((o, i) => {
      const j = slotOf.get(o)!;
      const v = toF32(b.values[i]!, roots[i]!.kind);
      const at = `${outs[j]?.name}[bo${j} + jj * ao${j}]`;
      if (o.mode === 'store') return `${at} = ${v};`;
      if (rowReductions.includes(o)) return combine(o.mode, `rr${j}`, v);
      if (loop[j]!.register) return combine(o.mode, `g${j}`, v);
      if (loop[j]!.accumulates) return `if (${bit(j)}) { ${at} = ${v}; }`;
      throw new Error(`internal: ${k.name}: output ${o.buffer} of a pass over the row is neither stored nor reduced`);
    });
    body.push(...hoisted, ...rowReductions.map((o) => `var rr${slotOf.get(o)!} = ${initOf(o.mode)};`));
    body.push(`for (var jj = i32(li); jj < C; jj = jj + ${ROW_WORKGROUP_SIZE}i) {`, ...indent(1, [...b.lines, ...inner]), '}');
    for (const o of rowReductions) {
      const j = slotOf.get(o)!;
      body.push(
        `let red${j} = ${reduceCall(o.mode as 'sum' | 'max', `rr${j}`, env.subgroups, ROW_WORKGROUP_SIZE)};`,
        `if (li == 0u) { ${outs[j]!.name}[bo${j}] = red${j}; }`,
      );
      bound.set(o.node, convert(`red${j}`, 'float', o.node.kind));
    }
  });
  const nSites = e.p.sites.length;
  const layout = entryLayout('rows', e.p.scalars.length, nSites + addressed.length);
  const slotNames = [...Array.from({ length: nSites }, (_, s) => `b${s}`), ...addressed.map((j) => `bo${j}`)];
  const alongNames = [...Array.from({ length: nSites }, (_, s) => `a${s}`), ...addressed.map((j) => `ao${j}`)];
  const offsets = [
    'var rem = q;',
    ...slotNames.map((b) => `var ${b} = 0i;`),
    'for (var d = orank; d > 0u; d = d - 1u) {',
    `  let nd = lc_u(${layout.dims! - 1}u + d);`,
    '  let c = i32(rem % nd);',
    '  rem = rem / nd;',
    ...slotNames.map((b, slot) => `  ${b} = ${b} + c * lc_i(${layout.strides! + slot * MAX_RANK - 1}u + d);`),
    '}',
  ];
  const code = [
    `@compute @workgroup_size(${ROW_WORKGROUP_SIZE})`,
    `fn rows(${builtins(env.subgroups)}) {`,
    ...indent(1, [
      'lc_init();',
      `let nrows = ${header('rows', 'rows')};`,
      `let C = i32(${header('rows', 'C')});`,
      `let orank = ${header('rows', 'outerRank')};`,
      `let G = ${header('rows', 'workgroups')};`,
      `let mask = ${header('rows', 'storeMask')};`,
      ...alongNames.map((a, slot) => `let ${a} = lc_i(${layout.along! + slot}u);`),
      ...e.p.hoisted,
      ...regs.map((j) => `var g${j} = ${initOf(loop[j]!.mode)};`),
      // q is the same for the whole workgroup: barriers (row reductions) may sit inside the loop
      'for (var q = wg.x; q < nrows; q = q + G) {',
      ...indent(1, [...offsets, ...body]),
      '}',
      ...regs.flatMap((j, r) => [
        `let t${j} = ${reduceCall(loop[j]!.mode as 'sum' | 'max', `g${j}`, env.subgroups, ROW_WORKGROUP_SIZE)};`,
        `if (li == 0u) { ${part!.name}[${r}u * G + wg.x] = t${j}; }`,
      ]),
    ]),
    '}',
  ].join('\n');
  return [
    {
      entry: {
        name: 'rows',
        kind: 'rows',
        workgroupSize: ROW_WORKGROUP_SIZE,
        bindings: [...e.used].sort((a, b) => a - b),
        sites: e.p.sites,
        scalars: e.p.scalars,
        layout,
        header: HEADERS.rows,
        addressed,
      },
      code,
      reduces: ROW_WORKGROUP_SIZE,
    },
  ];
}
