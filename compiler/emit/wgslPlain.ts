// The plain kernel kind: one grid-stride pass over the domain (main_flat / main_strided), the
// finishing workgroup for full reductions and the scalar epilogue (finish), and one scatter entry
// per accumulation into a smaller tensor (scatter_wg_j / scatter_inv_j).
import type { Node } from '../ir/node.js';
import type { ShapeExpr } from '../ir/shape.js';
import type { Kernel } from '../plan/kernelPlan.js';
import { plainSlots } from '../abi/slots.js';
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
  ModuleCtx,
  offsetLoop,
  reduceCall,
  toF32,
  WORKGROUP_SIZE,
  type EntryKind,
  type EntryText,
  type KernelEnv,
  type WgslEntry,
  type WgslKernel,
  type WgslSlot,
} from './wgslCore.js';

export function emitPlainKernel(k: Kernel, env: KernelEnv): WgslKernel {
  const mod = new ModuleCtx(env);
  const { loop, epilogue } = plainSlots(k);
  const texts: EntryText[] = [
    ...emitMain(mod, env, loop),
    ...emitFinish(mod, env, loop, epilogue),
    ...loop.flatMap((o, j) => (o.mode !== 'store' && !o.register ? emitScatter(mod, env, o, j) : [])),
  ];
  return assemble(k, mod, env, texts, [...loop, ...epilogue]);
}

function emitMain(mod: ModuleCtx, env: KernelEnv, loop: readonly WgslSlot[]): EntryText[] {
  if (loop.length === 0) return [];
  const e = new EntryCtx(mod, env);
  const roots = loop.map((o) => (o.mode === 'store' ? o.node : o.node.inputs[0]!));
  const flat = e.p.body(roots, () => 'ii', '_f');
  const sitesAfterFlat = e.p.sites.length;
  const strided = e.p.body(roots, (s) => `o${s}`, '_s');
  if (e.p.sites.length !== sitesAfterFlat) throw new Error('internal: the loops of a kernel read different sites');
  const regs = loop.map((o, j) => (o.register ? j : -1)).filter((j) => j >= 0);
  const outs = loop.map((o) => (o.register ? null : e.use(o.buffer, 'read_write')));
  const part = regs.length ? e.use('$partials', 'read_write') : null;
  const layout = entryLayout('main_flat', e.p.scalars.length, e.p.sites.length);
  const stores = (values: readonly string[]): string[] =>
    loop.map((o, j) => {
      const v = toF32(values[j]!, roots[j]!.kind);
      if (o.register) return o.mode === 'max' ? `r${j} = lc_maxacc(r${j}, ${v});` : `r${j} = r${j} + ${v};`;
      const st = `${outs[j]!.name}[i] = ${v};`;
      return o.mode === 'store' ? st : `if ((mask & ${(2 ** j) >>> 0}u) != 0u) { ${st} }`;
    });
  const tail = regs.flatMap((j, q) => [
    `let t${j} = ${reduceCall(loop[j]!.mode as 'sum' | 'max', `r${j}`, env.subgroups)};`,
    `if (li == 0u) { ${part!.name}[${q}u * PS + PB + wg.x] = t${j}; }`,
  ]);
  const entry = (kind: 'main_flat' | 'main_strided', body: { lines: string[]; values: string[] }, offsets: string[]): EntryText => {
    const lines = [
      `@compute @workgroup_size(${WORKGROUP_SIZE})`,
      `fn ${kind}(${builtins(env.subgroups)}) {`,
      ...indent(1, [
        'lc_init();',
        `let n = ${header(kind, 'n')};`,
        `let P = ${header(kind, 'workgroups')};`,
        `let mask = ${header(kind, 'storeMask')};`,
        ...(regs.length ? [`let PS = ${header(kind, 'partialStride')};`, `let PB = ${header(kind, 'partialBase')};`] : []),
        ...(kind === 'main_strided' ? [`let rank = ${header(kind, 'rank')};`] : []),
        ...e.p.hoisted,
        ...regs.map((j) => `var r${j} = ${initOf(loop[j]!.mode)};`),
        `for (var i = wg.x * ${WORKGROUP_SIZE}u + li; i < n; i = i + P * ${WORKGROUP_SIZE}u) {`,
        ...indent(1, [...offsets, ...body.lines, ...stores(body.values)]),
        '}',
        ...tail,
      ]),
      '}',
    ];
    return {
      entry: {
        name: kind,
        kind,
        workgroupSize: WORKGROUP_SIZE,
        bindings: [...e.used].sort((a, b) => a - b),
        sites: e.p.sites,
        scalars: e.p.scalars,
        layout,
        header: HEADERS[kind],
      },
      code: lines.join('\n'),
      reduces: regs.length > 0 ? WORKGROUP_SIZE : null,
    };
  };
  const nSites = e.p.sites.length;
  return [
    entry('main_flat', flat, ['let ii = i32(i);']),
    entry(
      'main_strided',
      strided,
      offsetLoop('i', 'rank', layout.dims!, layout.strides!, nSites, () => '0i', ''),
    ),
  ];
}

export function emitFinish(mod: ModuleCtx, env: KernelEnv, loop: readonly WgslSlot[], epilogue: readonly WgslSlot[]): EntryText[] {
  const regs = loop.map((o, j) => (o.register ? j : -1)).filter((j) => j >= 0);
  if (regs.length === 0 && epilogue.length === 0) return [];
  const e = new EntryCtx(mod, env);
  const part = regs.length ? e.use('$partials', 'read_write') : null;
  const bound = new Map<Node, string>();
  const lines: string[] = [];
  regs.forEach((j, q) => {
    const o = loop[j]!;
    const combine = o.mode === 'max' ? (a: string, b: string) => `lc_max2(${a}, ${b})` : (a: string, b: string) => `${a} + ${b}`;
    lines.push(
      `var a${j} = ${initOf(o.mode)};`,
      `for (var q = li; q < P; q = q + ${WORKGROUP_SIZE}u) { a${j} = ${combine(`a${j}`, `${part!.name}[${q}u * P + q]`)}; }`,
      `let red${j} = ${reduceCall(o.mode as 'sum' | 'max', `a${j}`, env.subgroups)};`,
    );
    bound.set(o.node, convert(`red${j}`, 'float', o.node.kind));
  });
  const epi = e.p.body(
    epilogue.map((o) => o.node),
    () => '0i',
    '_e',
    bound,
  );
  const writes = [
    ...regs.map((j) => `${e.use(loop[j]!.buffer, 'read_write').name}[0] = red${j};`),
    ...epilogue.map((o, x) => `${e.use(o.buffer, 'read_write').name}[0] = ${toF32(epi.values[x]!, o.node.kind)};`),
  ];
  const code = [
    `@compute @workgroup_size(${WORKGROUP_SIZE})`,
    `fn finish(${builtins(env.subgroups)}) {`,
    ...indent(1, [
      'lc_init();',
      `let P = ${header('finish', 'partials')};`,
      ...e.p.hoisted,
      ...lines,
      ...epi.lines,
      `if (li == 0u) {`,
      ...indent(1, writes),
      '}',
    ]),
    '}',
  ].join('\n');
  const layout = entryLayout('finish', e.p.scalars.length, e.p.sites.length);
  return [
    {
      entry: {
        name: 'finish',
        kind: 'finish',
        workgroupSize: WORKGROUP_SIZE,
        bindings: [...e.used].sort((a, b) => a - b),
        sites: e.p.sites,
        scalars: e.p.scalars,
        layout,
        header: HEADERS.finish,
      },
      code,
      reduces: regs.length > 0 ? WORKGROUP_SIZE : null,
    },
  ];
}

export function emitScatter(mod: ModuleCtx, env: KernelEnv, o: WgslSlot, j: number, domain?: ShapeExpr): EntryText[] {
  const e = new EntryCtx(mod, env);
  const root = o.node.inputs[0]!;
  const body = e.p.body([root], (s) => `o${s}`, '_r');
  const out = e.use(o.buffer, 'read_write');
  const nSites = e.p.sites.length;
  const layout = entryLayout('scatter_wg', e.p.scalars.length, nSites);
  const v = toF32(body.values[0]!, root.kind);
  const combine = o.mode === 'max' ? `acc = lc_maxacc(acc, ${v});` : `acc = acc + ${v};`;
  // the kept coordinates of output element e give each site's base offset; the reduced index r adds the rest
  const base = offsetLoop('e', 'kr', layout.keptDims!, layout.keptStrides!, nSites, () => '0i', 'e').map((l) => l.replace(/\bo(\d+)\b/g, 'base$1'));
  const inner = offsetLoop('r', 'rr', layout.redDims!, layout.redStrides!, nSites, (k) => `base${k}`, 'r');
  const head = (kind: EntryKind): string[] => [
    'lc_init();',
    `let m = ${header(kind, 'outputs')};`,
    `let R = ${header(kind, 'reduced')};`,
    `let kr = ${header(kind, 'keptRank')};`,
    `let rr = ${header(kind, 'reducedRank')};`,
    `let G = ${header(kind, 'workgroups')};`,
    ...e.p.hoisted,
  ];
  const wgCode = [
    `@compute @workgroup_size(${WORKGROUP_SIZE})`,
    `fn scatter_wg_${j}(${builtins(env.subgroups)}) {`,
    ...indent(1, [
      ...head('scatter_wg'),
      // e is the same for the whole workgroup: the loop is uniform, so barriers may sit inside it
      'for (var e = wg.x; e < m; e = e + G) {',
      ...indent(1, [
        ...base,
        `var acc = ${initOf(o.mode)};`,
        `for (var r = li; r < R; r = r + ${WORKGROUP_SIZE}u) {`,
        ...indent(1, [...inner, ...body.lines, combine]),
        '}',
        `let total = ${reduceCall(o.mode as 'sum' | 'max', 'acc', env.subgroups)};`,
        `if (li == 0u) { ${out.name}[e] = total; }`,
      ]),
      '}',
    ]),
    '}',
  ].join('\n');
  const invCode = [
    `@compute @workgroup_size(${WORKGROUP_SIZE})`,
    `fn scatter_inv_${j}(${builtins(env.subgroups)}) {`,
    ...indent(1, [
      ...head('scatter_inv'),
      `for (var e = wg.x * ${WORKGROUP_SIZE}u + li; e < m; e = e + G * ${WORKGROUP_SIZE}u) {`,
      ...indent(1, [
        ...base,
        `var acc = ${initOf(o.mode)};`,
        'for (var r = 0u; r < R; r = r + 1u) {',
        ...indent(1, [...inner, ...body.lines, combine]),
        '}',
        `${out.name}[e] = acc;`,
      ]),
      '}',
    ]),
    '}',
  ].join('\n');
  const entry = (kind: 'scatter_wg' | 'scatter_inv'): WgslEntry => ({
    name: `${kind}_${j}`,
    kind,
    workgroupSize: WORKGROUP_SIZE,
    output: j,
    ...(domain ? { domain } : {}),
    bindings: [...e.used].sort((a, b) => a - b),
    sites: e.p.sites,
    scalars: e.p.scalars,
    layout,
    header: HEADERS[kind],
  });
  return [
    { entry: entry('scatter_wg'), code: wgCode, reduces: WORKGROUP_SIZE },
    { entry: entry('scatter_inv'), code: invCode, reduces: null },
  ];
}
