// WebAssembly for a plain kernel: the same two loops as the JS backend over the same body, a flat
// loop (every operand has the domain's layout) and a strided loop (coalesced axes, constant inner
// strides), over the part [lo, hi) of the domain (flat) or of its rows (strided). Full reductions
// accumulate in float64 registers, stored per part; `fin` combines the parts in order.
import type { Node } from '../../ir/node.js';
import type { Kernel, Precision } from '../../plan/kernelPlan.js';
import { BodyPrinter } from '../expr.js';
import { plainSlots } from '../../abi/slots.js';
import { H, Scaffold, countField, outField, siteField } from './frame.js';
import { as, wasmSpelling, type Locals } from './spelling.js';
import { float32Locals, vectorize, vectorizeF32x4 } from './vector.js';
import { copiesFor, firstVectorizable, simdLoop, whereContiguous, type SimdBody, type SimdOutput } from './simd.js';
import type { WasmKernel } from './kernel.js';

export function emitPlainKernel(k: Kernel, precision: Precision, materialized: ReadonlyMap<Node, string>, isInteger: (buffer: string) => boolean): WasmKernel {
  const locals: Locals = new Map();
  const sc = new Scaffold(locals);
  let p!: BodyPrinter;
  const spelling = wasmSpelling(precision, locals, (s, index) => readSite(p, s, index));
  p = new BodyPrinter(spelling, { precision, materialized: new Map(materialized) });

  const { loop: loopOutputs, epilogue } = plainSlots(k);
  const outputs = [...loopOutputs, ...epilogue];
  const roots = loopOutputs.map((o) => (o.mode === 'store' ? o.node : o.node.inputs[0]!));
  const regs = loopOutputs.map((o, j) => (o.register ? j : -1)).filter((j) => j >= 0);
  const strided = loopOutputs.map((o, j) => (o.register ? -1 : j)).filter((j) => j >= 0);

  const flat = p.body(roots, () => 'local.get:i', '_f');
  const str = p.body(roots, (s) => `local.get:b${s} local.get:j local.get:a${s} i32.mul i32.add`, '_s');
  const nSites = p.sites.length;
  const outSlot = (j: number): number => nSites + strided.indexOf(j);
  const slots = [...Array.from({ length: nSites }, (_, s) => s), ...strided.map(outSlot)];
  const f64 = (v: string): string => as(v, 'f64', locals);

  // a loop's body several elements at a time (SIMD) when every operation has a vector form: four
  // float32 lanes (simd.ts copiesFor copies per step) where the body is a float32 computation,
  // else two float64 lanes
  const floatSite = (s: number): boolean => !isInteger(p.sites[s]!.buffer);
  // the hoisted float64 locals that hold float32 values (what a four-lane body may splat): the same for both loops
  let float32Hoisted: Set<string> | undefined;
  const vectorLoop = (
    body: { lines: string[]; values: string[] },
    loop: { i: string; from: string; limit: string; tag: string; isIndex: (n: string) => boolean },
    outs: readonly SimdOutput[],
  ): string[] | undefined => {
    const exprs = body.values.map(f64);
    const { isIndex } = loop;
    const run = (lanes: 2 | 4, copies: number, b: (c: number) => SimdBody): string[] => simdLoop(sc, { ...loop, lanes, copies, body: b, outputs: outs });
    return firstVectorizable([
      () => {
        if (precision !== 'f32') return undefined;
        const exact = (float32Hoisted ??= float32Locals(p.hoisted, { locals, isIndex: (n) => /^(i|j|b\d+|a\d+)$/.test(n), floatSite }));
        return run(4, copiesFor(body.lines), (c) =>
          vectorizeF32x4(body.lines, exprs, { locals, isIndex, floatSite, exact, index: { name: loop.i, offset: 4 * c }, suffix: c ? `_${c}` : '' }),
        );
      },
      () => run(2, 1, () => vectorize(body.lines, exprs, locals, isIndex)),
    ]);
  };
  // the flat loop, when every read is contiguous
  const simd = p.sites.every((site) => site.path.every((v) => v.kind === 'unsqueeze'))
    ? vectorLoop(
        flat,
        { i: 'i', from: 'local.get:lo', limit: 'local.get:hi', tag: 'f', isIndex: (n) => n === 'i' },
        loopOutputs.map((o, j): SimdOutput => (o.register ? { mode: o.mode, acc: `acc${j}` } : { mode: 'store', key: `o${j}`, at: (i) => i })),
      )
    : undefined;
  // the strided loop's inner axis, where every tensor it reads or writes has stride 1 along it (a
  // broadcast over outer axes: checked per row); outputs summed into memory four lanes at a time
  // (four distinct elements per step, as the scalar loop adds them)
  const simdInner = loopOutputs.every((o) => o.register || o.mode !== 'max')
    ? vectorLoop(
        str,
        { i: 'j', from: 'i32.const:0', limit: 'local.get:inner', tag: 's', isIndex: (n) => /^(j|b\d+|a\d+)$/.test(n) },
        loopOutputs.map((o, j): SimdOutput =>
          o.register
            ? { mode: o.mode, acc: `acc${j}` }
            : {
                mode: o.mode === 'store' ? 'store' : 'add',
                key: `o${j}`,
                at: (jj) => `local.get:b${outSlot(j)} ${jj} local.get:a${outSlot(j)} i32.mul i32.add`,
              },
        ),
      )
    : undefined;
  const inner = simdInner
    ? [
        'i32.const:0 local.set:j',
        ...whereContiguous(
          simdInner,
          (s) => `a${s}`,
          strided.filter((j) => !loopOutputs[j]!.register).map((j) => `a${outSlot(j)}`),
        ),
      ]
    : [];
  const flatStores = loopOutputs.map((o, j) =>
    o.register ? sc.combine(o.mode, `acc${j}`, f64(flat.values[j]!)) : sc.store(`o${j}`, 'local.get:i', f64(flat.values[j]!)),
  );
  const stridedStores = loopOutputs.map((o, j) => {
    const v = f64(str.values[j]!);
    if (o.register) return sc.combine(o.mode, `acc${j}`, v);
    const idx = `local.get:b${outSlot(j)} local.get:j local.get:a${outSlot(j)} i32.mul i32.add`;
    return o.mode === 'store' ? sc.store(`o${j}`, idx, v) : sc.combineAt(o.mode, `o${j}`, idx, v);
  });

  // the epilogue: totals of the parts, rounded once, then the scalar results
  const bound = new Map<Node, string>();
  const fin: string[] = [];
  regs.forEach((j, ri) => {
    fin.push(...sc.partials(ri, regs.length, loopOutputs[j]!.mode, `tot${j}`));
    sc.f64(`red${j}`);
    fin.push(
      `local.get:tot${j} ${precision === 'f32' ? 'f32.demote_f64 f64.promote_f32' : ''} local.set:red${j}`,
      sc.store(`o${j}`, 'i32.const:0', `local.get:red${j}`),
    );
    bound.set(loopOutputs[j]!.node, `red${j}`);
  });
  const epi = p.body(
    epilogue.map((o) => o.node),
    () => 'i32.const:0',
    '_e',
    bound,
  );
  fin.push(...epi.lines, ...epilogue.map((_, e) => sc.store(`o${loopOutputs.length + e}`, 'i32.const:0', f64(epi.values[e]!))));
  if (p.sites.length !== nSites) throw new Error('internal: the loops of a kernel read different sites');

  const prologue = [
    ...p.sites.map((_, s) => sc.field(`px${s}`, siteField(s))),
    ...p.sites.map((_, s) => sc.field(`cnt${s}`, countField(nSites, outputs.length, s))),
    ...outputs.map((_, j) => sc.field(`po${j}`, outField(nSites, j))),
    ...p.hoisted,
  ];
  sc.i32('i', 'n', 'r', 'dims', 'st', 'inner', 'rem', 'id', 'nd', ...slots.flatMap((s) => [`b${s}`, `a${s}`]));
  regs.forEach((j) => sc.f64(`acc${j}`));
  const stride = (s: number, d: string): string => sc.elem('st', `i32.const:${s} local.get:r i32.mul ${d} i32.add`);
  const run = [
    ...prologue,
    ...regs.map((j) => `f64.const:${loopOutputs[j]!.mode === 'max' ? '-inf' : '0'} local.set:acc${j}`),
    `local.get:frame i32.load:${H.a * 4}`,
    'if',
    ...(simd ?? ['local.get:lo local.set:i']),
    ...sc.loop('i', 'local.get:i', 'local.get:hi', [...flat.lines, ...flatStores]),
    'else',
    sc.field('r', H.r),
    sc.field('dims', H.dims),
    sc.field('st', H.st),
    `${sc.elem('dims', 'local.get:r i32.const:1 i32.sub')} local.set:inner`,
    ...slots.map((s) => `${stride(s, 'local.get:r i32.const:1 i32.sub')} local.set:a${s}`),
    ...sc.loop('q', 'local.get:lo', 'local.get:hi', [
      'local.get:q local.set:rem',
      ...slots.map((s) => `i32.const:0 local.set:b${s}`),
      ...sc.down('d', 'local.get:r i32.const:2 i32.sub', [
        `${sc.elem('dims', 'local.get:d')} local.set:nd`,
        'local.get:rem local.get:nd i32.rem_u local.set:id',
        'local.get:rem local.get:nd i32.div_u local.set:rem',
        ...slots.map((s) => `local.get:b${s} local.get:id ${stride(s, 'local.get:d')} i32.mul i32.add local.set:b${s}`),
      ]),
      ...inner,
      ...sc.loop('j', inner.length ? 'local.get:j' : 'i32.const:0', 'local.get:inner', [...str.lines, ...stridedStores]),
    ]),
    'end',
    ...regs.map((j, ri) => sc.partial(ri, regs.length, `acc${j}`)),
  ];
  return {
    kind: 'plain',
    precision,
    layout: { name: k.name, domain: k.domain, sites: p.sites, scalars: p.scalars, outputs, source: '' },
    run,
    fin: [...prologue, ...fin],
    locals,
    hostUsed: spelling.hostUsed,
    registers: regs.length,
  };
}

/** A site's load: gathered and shifted sites clamp their index into the buffer (a masked read, e.g. an ignored target, must not trap). */
export function readSite(p: BodyPrinter, s: number, index: string): string {
  // (a row kernel's dry run, whose text is discarded, prints with a printer of its own: no site here)
  const moves = p.sites[s]?.path.some((v) => v.kind !== 'unsqueeze') ?? false;
  return `${index}${moves ? ` @clamp:x${s}` : ''} @ld:x${s}`;
}
