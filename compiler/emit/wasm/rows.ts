// WebAssembly for a row kernel: as the JS backend's (jsRows.ts), rows [lo, hi) of the part, and per
// row its stages in order: passes over the row's elements reducing into locals, and work done once
// per row. Totals over every row go to the part's float64 partials; `fin` combines them in order.
import type { Node } from '../../ir/node.js';
import type { Kernel, KernelOutput, Precision } from '../../plan/kernelPlan.js';
import { BodyPrinter } from '../expr.js';
import { rowSlots } from '../../abi/slots.js';
import { rowCaches } from '../jsRows.js';
import { H, Scaffold, countField, outField, siteField } from './frame.js';
import type { WasmKernel } from './kernel.js';
import { readSite } from './plain.js';
import { as, wasmSpelling, type Locals } from './spelling.js';
import { float32Locals, vectorize, vectorizeF32x4, type F32x4Context } from './vector.js';
import { copiesFor, firstVectorizable, simdLoop, whereContiguous, type SimdBody, type SimdOutput } from './simd.js';

/**
 * The SIMD part of a pass over a row: j from 0 while every tensor the pass reads or writes is
 * contiguous along the row (checked per call: stride 1), leaving j at the scalar tail; its
 * reductions fold into the scalar ones before the tail. Float32 kernels take four float32 lanes
 * (several copies of the body per step: simd.ts copiesFor) where the pass is a float32
 * computation, else two float64 lanes. No vector part (j = 0) when the pass gathers, scatters into
 * memory, or uses an operation without a vector form.
 */
function vectorPass(
  sc: Scaffold,
  si: number,
  b: { lines: string[]; values: string[] },
  outs: readonly { slot: number; mode: KernelOutput['mode']; kind: 'store' | 'rr' | 'g' | 'mem' }[],
  four: Omit<F32x4Context, 'index' | 'suffix'> | undefined,
): string[] {
  const none = ['i32.const:0 local.set:j'];
  if (outs.some((o) => o.kind === 'mem')) return none;
  const exprs = b.values.map((x) => as(x, 'f64', sc.locals));
  const outputs = outs.map((o): SimdOutput =>
    o.kind === 'store'
      ? { mode: 'store', key: `o${o.slot}`, at: (j) => `local.get:bo${o.slot} ${j} local.get:ao${o.slot} i32.mul i32.add` }
      : { mode: o.mode, acc: `${o.kind === 'rr' ? 'rr' : 'g'}${o.slot}` },
  );
  const loop = (lanes: 2 | 4, copies: number, body: (c: number) => SimdBody): string[] =>
    simdLoop(sc, { i: 'j', from: 'i32.const:0', limit: 'local.get:C', lanes, copies, body, outputs, tag: `p${si}` });
  const simd = firstVectorizable([
    () =>
      four
        ? loop(4, copiesFor(b.lines), (c) => vectorizeF32x4(b.lines, exprs, { ...four, index: { name: 'j', offset: 4 * c }, suffix: c ? `_${c}` : '' }))
        : undefined,
    () => loop(2, 1, () => vectorize(b.lines, exprs, sc.locals, four?.isIndex ?? ROW_INDEX)),
  ]);
  if (!simd) return none;
  return [
    'i32.const:0 local.set:j',
    ...whereContiguous(
      simd,
      (s) => `a${s}`,
      outs.filter((o) => o.kind === 'store').map((o) => `ao${o.slot}`),
    ),
  ];
}

/** the row loop's own i32 locals: index arithmetic, which stays scalar */
const ROW_INDEX = (n: string): boolean => /^(j|b\d+|a\d+|bo\d+|ao\d+)$/.test(n);

export function emitRowKernel(k: Kernel, precision: Precision, materialized: ReadonlyMap<Node, string>, isInteger: (buffer: string) => boolean): WasmKernel {
  const locals: Locals = new Map();
  const sc = new Scaffold(locals);
  let p!: BodyPrinter;
  const spelling = wasmSpelling(precision, locals, (s, index) => readSite(p, s, index));
  p = new BodyPrinter(spelling, { precision, materialized: new Map(materialized) });
  const f64 = (v: string): string => as(v, 'f64', locals);
  const round = (e: string): string => (precision === 'f32' ? `${e} f32.demote_f64 f64.promote_f32` : e);

  const rows = k.rows!;
  const slots = rowSlots(k);
  const { slotOf, rowShapes, addressed } = slots;
  const outputs = [...slots.loop, ...slots.epilogue];
  const isRowValue = (n: Node): boolean => rowShapes.has(n.shape);
  const regs = outputs.map((o, j) => (o.register ? j : -1)).filter((j) => j >= 0);
  const init = (mode: KernelOutput['mode']): string => `f64.const:${mode === 'max' ? '-inf' : '0'}`;
  const off = (j: number): string => `local.get:bo${j}`;
  const along = (j: number): string => `${off(j)} local.get:j local.get:ao${j} i32.mul i32.add`;

  // values a later pass needs again and that cost a transcendental: kept per row, as the JS backend does
  // (its dry run prints into a scratch copy of the locals: none of its text is kept)
  const dry = wasmSpelling(precision, new Map(locals), () => 'f64.const:0', true);
  const caches = rowCaches(k, new BodyPrinter(dry, p.env), precision, isRowValue);
  const cacheLine = (l: string): string => {
    const m = /^(cache\d+)\[j\] = (\w+);$/.exec(l);
    return m ? `local.get:j @caddr:${m[1]} ${as(m[2]!, 'f64', locals)} @cstore` : l;
  };
  const bound = new Map<Node, string>();
  const body: string[] = [];
  /** sites whose elements are float32 numbers (in a float32 kernel; the others are integers) */
  const floatSite = (s: number): boolean => !isInteger(p.sites[s]!.buffer);
  rows.stages.forEach((stage, si) => {
    const roots = stage.outputs.map((o) => (o.mode === 'store' ? o.node : o.node.inputs[0]!));
    if (stage.over === 'row') {
      const b = p.body(roots, (s) => `local.get:b${s}`, `_r${si}`, bound, { scalarInvariants: true, rootFrames: true });
      body.push(...b.lines);
      stage.outputs.forEach((o, i) => {
        const j = slotOf.get(o)!;
        const v = f64(b.values[i]!);
        if (o.mode === 'store') {
          body.push(sc.store(`o${j}`, off(j), v));
          bound.set(o.node, b.values[i]!);
        } else if (outputs[j]!.register) body.push(sc.combine(o.mode, `g${j}`, v));
        else body.push(sc.combineAt(o.mode, `o${j}`, off(j), v));
      });
      return;
    }
    const hoisted: string[] = [];
    const printed = p.body(roots, (s) => `local.get:b${s} local.get:j local.get:a${s} i32.mul i32.add`, `_p${si}`, bound, {
      scalarInvariants: true,
      hoistRow: { test: isRowValue, index: (s) => `local.get:b${s}`, lines: hoisted },
      cacheWrite: caches.writes[si],
      cacheRead: caches.reads[si],
    });
    const b = { lines: printed.lines.map(cacheLine), values: printed.values };
    body.push(...hoisted);
    const rowReductions = stage.outputs.filter((o) => o.mode !== 'store' && rowShapes.has(o.node.shape) && o.node.inputs[0]!.shape === k.domain);
    for (const o of rowReductions) {
      sc.f64(`rr${slotOf.get(o)!}`);
      body.push(`${init(o.mode)} local.set:rr${slotOf.get(o)!}`);
    }
    const inner = stage.outputs.map((o, i) => {
      const j = slotOf.get(o)!;
      const v = f64(b.values[i]!);
      if (o.mode === 'store') return sc.store(`o${j}`, along(j), v);
      if (rowReductions.includes(o)) return sc.combine(o.mode, `rr${j}`, v);
      if (outputs[j]!.register) return sc.combine(o.mode, `g${j}`, v);
      return sc.combineAt(o.mode, `o${j}`, along(j), v);
    });
    // four float32 lanes: what the pass may read of the scalar locals set so far
    const four =
      precision === 'f32'
        ? { locals, isIndex: ROW_INDEX, floatSite, exact: float32Locals([...p.hoisted, ...body], { locals, isIndex: ROW_INDEX, floatSite }) }
        : undefined;
    body.push(
      ...vectorPass(
        sc,
        si,
        b,
        stage.outputs.map((o) => ({
          slot: slotOf.get(o)!,
          mode: o.mode,
          kind: o.mode === 'store' ? 'store' : rowReductions.includes(o) ? 'rr' : outputs[slotOf.get(o)!]!.register ? 'g' : 'mem',
        })),
        four,
      ),
    );
    body.push(...sc.loop('j', 'local.get:j', 'local.get:C', [...b.lines, ...inner]));
    for (const o of rowReductions) {
      const j = slotOf.get(o)!;
      sc.f64(`red${j}`);
      body.push(`${round(`local.get:rr${j}`)} local.set:red${j}`, sc.store(`o${j}`, off(j), `local.get:red${j}`));
      bound.set(o.node, `red${j}`);
    }
  });
  const nSites = p.sites.length;

  // fin: totals over every row (combined over the parts in order), then the scalar results
  const epiBound = new Map<Node, string>();
  const fin: string[] = [];
  regs.forEach((j, ri) => {
    fin.push(...sc.partials(ri, regs.length, outputs[j]!.mode, `tg${j}`));
    sc.f64(`tot${j}`);
    fin.push(`${round(`local.get:tg${j}`)} local.set:tot${j}`, sc.store(`o${j}`, 'i32.const:0', `local.get:tot${j}`));
    epiBound.set(outputs[j]!.node, `tot${j}`);
  });
  const epiOutputs = outputs.filter((o) => o.phase === 'epilogue');
  const eb = p.body(
    epiOutputs.map((o) => o.node),
    () => 'i32.const:0',
    '_e',
    epiBound,
  );
  fin.push(...eb.lines, ...epiOutputs.map((o, e) => sc.store(`o${outputs.indexOf(o)}`, 'i32.const:0', f64(eb.values[e]!))));

  const sites = Array.from({ length: nSites }, (_, s) => s);
  const prologue = [
    ...sites.map((s) => sc.field(`px${s}`, siteField(s))),
    ...sites.map((s) => sc.field(`cnt${s}`, countField(nSites, outputs.length, s))),
    ...outputs.map((_, j) => sc.field(`po${j}`, outField(nSites, j))),
    ...p.hoisted,
  ];
  // strides: L.ost [slot][r] (sites, then addressed outputs) and L.ast [slot]
  sc.i32('C', 'r', 'dims', 'st', 'ast', 'rem', 'id', 'nd', ...sites.flatMap((s) => [`b${s}`, `a${s}`]), ...addressed.flatMap((j) => [`bo${j}`, `ao${j}`]));
  regs.forEach((j) => sc.f64(`g${j}`));
  const ost = (slot: number, d: string): string => sc.elem('st', `i32.const:${slot} local.get:r i32.mul ${d} i32.add`);
  const slotOfSiteOrOut = [...sites.map((s) => [`b${s}`, `a${s}`, s] as const), ...addressed.map((j, i) => [`bo${j}`, `ao${j}`, nSites + i] as const)];
  const run = [
    ...prologue,
    ...regs.map((j) => `${init(outputs[j]!.mode)} local.set:g${j}`),
    sc.field('C', H.b),
    sc.field('r', H.r),
    sc.field('dims', H.dims),
    sc.field('st', H.st),
    sc.field('ast', H.ast),
    // this part's caches
    ...caches.names.flatMap((name, c) => [
      sc.field(`p${name}`, H.cache),
      `local.get:p${name} local.get:part i32.const:${caches.names.length} i32.mul i32.const:${c} i32.add local.get:C i32.mul i32.const:3 i32.shl i32.add local.set:p${name}`,
    ]),
    ...slotOfSiteOrOut.map(([, a, slot]) => `${sc.elem('ast', `i32.const:${slot}`)} local.set:${a}`),
    ...sc.loop('q', 'local.get:lo', 'local.get:hi', [
      'local.get:q local.set:rem',
      ...slotOfSiteOrOut.map(([b]) => `i32.const:0 local.set:${b}`),
      ...sc.down('d', 'local.get:r i32.const:1 i32.sub', [
        `${sc.elem('dims', 'local.get:d')} local.set:nd`,
        'local.get:rem local.get:nd i32.rem_u local.set:id',
        'local.get:rem local.get:nd i32.div_u local.set:rem',
        ...slotOfSiteOrOut.map(([b, , slot]) => `local.get:${b} local.get:id ${ost(slot, 'local.get:d')} i32.mul i32.add local.set:${b}`),
      ]),
      ...body,
    ]),
    ...regs.map((j, ri) => sc.partial(ri, regs.length, `g${j}`)),
  ];
  return {
    kind: 'rows',
    precision,
    layout: { name: k.name, domain: k.domain, rowAxis: rows.axis, sites: p.sites, scalars: p.scalars, outputs, source: '' },
    run,
    fin: [...prologue, ...fin],
    locals,
    hostUsed: spelling.hostUsed,
    registers: regs.length,
    caches: caches.names.length,
  };
}
