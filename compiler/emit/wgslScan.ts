// The scan kernel kind: a recurrence, one step after another in one workgroup.
import type { Kernel } from '../plan/kernelPlan.js';
import { scanBinding, scanSlot } from '../abi/slots.js';
import {
  assemble,
  builtins,
  EntryCtx,
  entryLayout,
  header,
  HEADERS,
  indent,
  ModuleCtx,
  offsetLoop,
  readAs,
  toF32,
  WORKGROUP_SIZE,
  type KernelEnv,
  type WgslEntry,
  type WgslKernel,
  type WgslSlot,
} from './wgslCore.js';

/**
 * A recurrence: one workgroup runs the steps in order (a storage barrier between them), its
 * invocations sharing each step's state elements. The state is read from the initial buffer at
 * the first step, else from the previous step's slot of the stacked result.
 */
export function emitScanKernel(k: Kernel, env: KernelEnv): WgslKernel {
  const node = k.scan!;
  const body = node.attrs.body!;
  const reverse = !!node.attrs.reverse;
  const scan = scanBinding(k);
  const { bind } = scan;
  const xs = new Set(body.xs.map((p) => p.attrs.name!));
  const mod = new ModuleCtx(env);
  const e = new EntryCtx(mod, { ...env, materialized: new Map() }, { bind, xs });
  const out = k.outputs[0]!;
  const values = e.p.body([body.next], (s) => `o${s}`, '_s', new Map([[body.step, 'lc_t']]));
  const init = e.use(bind['@carry']!, 'read');
  const result = e.use(out.buffer, 'read_write');
  const nSites = e.p.sites.length;
  const layout = entryLayout('scan', e.p.scalars.length, nSites);
  const decls = [
    '',
    "// the scan state: the initial one at the first step, else the previous step's",
    'var<private> lc_first: bool;',
    'var<private> lc_prev: i32;',
    'var<private> lc_t: i32;',
    `fn lc_carry(i: i32) -> f32 { if (lc_first) { return ${readAs(`${init.name}[i]`, init.type, 'float')}; } return ${result.name}[lc_prev + i]; }`,
  ];
  const code = [
    `@compute @workgroup_size(${WORKGROUP_SIZE})`,
    `fn scan(${builtins(env.subgroups)}) {`,
    ...indent(1, [
      'lc_init();',
      `let T = ${header('scan', 'steps')};`,
      `let n = ${header('scan', 'n')};`,
      `let rank = ${header('scan', 'rank')};`,
      ...e.p.sites.map((_, s) => `let xs${s} = lc_i(${layout.along! + s}u);`),
      ...e.p.hoisted,
      // one workgroup: T is uniform, and the storage barrier orders each step after the last
      'for (var q = 0u; q < T; q = q + 1u) {',
      ...indent(1, [
        `let t = ${reverse ? 'T - 1u - q' : 'q'};`,
        'lc_t = i32(t);',
        'lc_first = q == 0u;',
        `lc_prev = (lc_t ${reverse ? '+' : '-'} 1) * i32(n);`,
        `for (var i = li; i < n; i = i + ${WORKGROUP_SIZE}u) {`,
        ...indent(1, [
          ...offsetLoop('i', 'rank', layout.dims!, layout.strides!, nSites, () => '0i', ''),
          ...values.lines,
          `${result.name}[t * n + i] = ${toF32(values.values[0]!, body.next.kind)};`,
        ]),
        '}',
        'storageBarrier();',
      ]),
      '}',
    ]),
    '}',
  ].join('\n');
  const entry: WgslEntry = {
    name: 'scan',
    kind: 'scan',
    workgroupSize: WORKGROUP_SIZE,
    bindings: [...e.used].sort((a, b) => a - b),
    sites: e.p.sites,
    scalars: e.p.scalars,
    layout,
    header: HEADERS.scan,
  };
  const slot: WgslSlot = scanSlot(k);
  return assemble(k, mod, env, [{ entry, code, reduces: null }], [slot], undefined, { decls, scan });
}
