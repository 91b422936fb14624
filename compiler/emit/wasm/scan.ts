// WebAssembly for a recurrence (a scan kernel), as the JS backend's (jsScan.ts): a loop over the
// steps around the loop over one state's elements. The state is read from the initial state at the
// first step (the host copies it in the result's element type), then from the previous slot.
import type { Kernel, Precision } from '../../plan/kernelPlan.js';
import { BodyPrinter } from '../expr.js';
import { scanBinding, scanSlot } from '../../abi/slots.js';
import { H, Scaffold, countField, outField, siteField } from './frame.js';
import type { WasmKernel } from './kernel.js';
import { as, wasmSpelling, type Locals } from './spelling.js';

export function emitScanKernel(k: Kernel, precision: Precision): WasmKernel {
  const node = k.scan!;
  const body = node.attrs.body!;
  const locals: Locals = new Map();
  const sc = new Scaffold(locals);
  const isXs = (buffer: string): boolean => body.xs.some((x) => x.attrs.name === buffer);
  let p!: BodyPrinter;
  const spelling = wasmSpelling(precision, locals, (s, index) => {
    const buffer = p.sites[s]!.buffer;
    if (buffer === '@carry') return `${index} local.get:cB i32.add @ldc`;
    if (isXs(buffer)) return `${index} local.get:xb${s} i32.add @ld:x${s}`;
    return `${index} @ld:x${s}`;
  });
  p = new BodyPrinter(spelling, { precision, materialized: new Map() });
  sc.f64('tf');
  const out = p.body([body.next], (s) => `local.get:b${s}`, '_s', new Map([[body.step, 'tf']]));
  const sites = p.sites.map((_, s) => s);
  const xsSites = sites.filter((s) => isXs(p.sites[s]!.buffer));

  sc.i32('T', 'n', 'r', 'dims', 'st', 'ast', 'pc', 'pinit', 'cB', 't', 'rem', 'id', 'nd', ...sites.map((s) => `b${s}`), ...xsSites.map((s) => `xb${s}`));
  const stride = (s: number, d: string): string => sc.elem('st', `i32.const:${s} local.get:r i32.mul ${d} i32.add`);
  const reverse = !!node.attrs.reverse;
  const run = [
    ...sites.map((s) => sc.field(`px${s}`, siteField(s))),
    ...sites.map((s) => sc.field(`cnt${s}`, countField(sites.length, 1, s))),
    sc.field('po0', outField(sites.length, 0)),
    ...p.hoisted,
    sc.field('T', H.a),
    sc.field('n', H.b),
    sc.field('r', H.r),
    sc.field('dims', H.dims),
    sc.field('st', H.st),
    sc.field('ast', H.ast),
    sc.field('pinit', H.init),
    ...sc.loop('q', 'i32.const:0', 'local.get:T', [
      reverse ? 'local.get:T i32.const:1 i32.sub local.get:q i32.sub local.set:t' : 'local.get:q local.set:t',
      'local.get:t f64.convert_i32_s local.set:tf',
      // the carried state: the initial one first, then the previous step's slot
      'local.get:pinit local.get:po0 local.get:q i32.eqz select:i32 local.set:pc',
      `i32.const:0 local.get:t ${reverse ? 'i32.const:1 i32.add' : 'i32.const:1 i32.sub'} local.get:n i32.mul local.get:q i32.eqz select:i32 local.set:cB`,
      ...xsSites.map((s) => `local.get:t ${sc.elem('ast', `i32.const:${s}`)} i32.mul local.set:xb${s}`),
      ...sc.loop('i', 'i32.const:0', 'local.get:n', [
        'local.get:i local.set:rem',
        ...sites.map((s) => `i32.const:0 local.set:b${s}`),
        ...sc.down('d', 'local.get:r i32.const:1 i32.sub', [
          `${sc.elem('dims', 'local.get:d')} local.set:nd`,
          'local.get:rem local.get:nd i32.rem_u local.set:id',
          'local.get:rem local.get:nd i32.div_u local.set:rem',
          ...sites.map((s) => `local.get:b${s} local.get:id ${stride(s, 'local.get:d')} i32.mul i32.add local.set:b${s}`),
        ]),
        ...out.lines,
        sc.store('o0', 'local.get:t local.get:n i32.mul local.get:i i32.add', as(out.values[0]!, 'f64', locals)),
      ]),
    ]),
  ];
  return {
    kind: 'scan',
    precision,
    // the bindings and the slot are the ABI's (compiler/abi/slots.ts), as for every backend
    layout: { name: k.name, domain: k.domain, sites: p.sites, scalars: p.scalars, outputs: [scanSlot(k)], source: '', scan: scanBinding(k) },
    run,
    fin: [],
    locals,
    hostUsed: spelling.hostUsed,
    registers: 0,
  };
}
