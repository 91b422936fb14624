// JS backend: each kernel becomes one plain function over typed arrays. Two loops over the
// same body: a flat loop, unrolled 4x with independent accumulators, for the common case where
// every operand has the domain's shape; and a strided loop (coalesced axes, inner loop with
// constant strides) for broadcasting and axis reductions. No closures or arrays per element.
import type { Node } from '../ir/node.js';
import type { Kernel, KernelPlan, Precision } from '../plan/kernelPlan.js';
import { BodyPrinter, type ScalarSource, type Site, type Spelling } from './expr.js';
import { emitRowKernelBody } from './jsRows.js';
import { identifier } from './names.js';
import { materializedBefore, plainSlots, type OutputSlot } from '../abi/slots.js';
import { emitScanKernel, type ScanLayout } from './jsScan.js';

/** How the runtime must call a kernel: what to bind, in which slot. */
export interface KernelLayout {
  readonly name: string;
  readonly domain: Kernel['domain'];
  readonly sites: readonly Site[];
  readonly scalars: readonly ScalarSource[];
  /** a row kernel walks the domain row by row along this axis */
  readonly rowAxis?: number;
  /** a scan kernel: a loop over steps around the body */
  readonly scan?: ScanLayout;
  /** one per output slot: `register` = a full reduction kept in a local, written as out[0] */
  readonly outputs: readonly OutputSlot[];
  readonly source: string;
}

export interface JsKernels {
  readonly precision: Precision;
  readonly kernels: readonly KernelLayout[];
}

/**
 * e^x for float32 kernels: a 64-entry table of 2^(i/64), a power-of-two table and a degree-5
 * polynomial on |r| <= ln2/128 (relative error 1e-14: the float32 rounding that follows gives the
 * correctly rounded result), about twice as fast as Math.exp. Outside (-745, 709), and for
 * NaN and infinities, Math.exp itself.
 */
const FAST_EXP = `const EXP_T = Float64Array.from({ length: 64 }, (_, i) => Math.pow(2, i / 64));
  const EXP_P = Float64Array.from({ length: 2100 }, (_, i) => Math.pow(2, i - 1075));
  const EXP_HI = 0.010830424696249145, EXP_LO = Math.LN2 / 64 - EXP_HI, EXP_SHIFT = 6755399441055744;
  function fexp(x) {
    if (!(x > -745 && x < 709)) return Math.exp(x);
    const kd = (x * 92.33248261689366 + EXP_SHIFT) - EXP_SHIFT;
    const k = kd | 0;
    const r = (x - kd * EXP_HI) - kd * EXP_LO;
    return EXP_T[k & 63] * EXP_P[(k >> 6) + 1075] * (1 + r * (1 + r * (0.5 + r * (0.16666666666666666 + r * (0.041666666666666664 + r * 0.008333333333333333)))));
  }`;

/** A kernel's source, with the helpers it uses defined in front (so it stays one self-contained expression). */
export function withPrelude(source: string, spelling: Spelling & { usesFastExp?: boolean }): string {
  return spelling.usesFastExp ? `(() => {\n  ${FAST_EXP}\n  return ${source};\n})()` : source;
}

function jsSpelling(precision: Precision): Spelling & { readonly usesFastExp: boolean } {
  // shared by copies of this spelling (a scan kernel extends it): any use turns the prelude on
  const used = { fastExp: false };
  return {
    column: 'js',
    literal: (v, kind) => {
      if (kind === 'bool') return v ? 'true' : 'false';
      const x = precision === 'f32' && kind === 'float' ? Math.fround(v) : v;
      if (Number.isNaN(x)) return 'NaN';
      if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '(-Infinity)';
      return Object.is(x, -0) ? '(-0)' : x < 0 ? `(${x})` : String(x);
    },
    round: (e) => `fr(${e})`,
    declare: (name, expr) => `const ${name} = ${expr};`,
    siteRead: (k, index) => `x${k}[${index}]`,
    select: (c, a, e) => `(${c} ? ${a} : ${e})`,
    scalarRead: (slot) => `S[${slot}]`,
    override(n, [x]) {
      if (precision !== 'f32' || n.op !== 'exp') return undefined;
      used.fastExp = true;
      return `fexp(${x})`;
    },
    get usesFastExp() {
      return used.fastExp;
    },
  };
}

export function emitJs(plan: KernelPlan, precision: Precision): JsKernels {
  const inMemory = materializedBefore(plan);
  const kernels: KernelLayout[] = [];
  for (const k of plan.kernels) {
    const spelling = jsSpelling(precision);
    const layout = k.scan ? emitScanKernel(k, precision, spelling) : emitKernel(k, precision, inMemory.get(k)!, spelling);
    kernels.push({ ...layout, source: withPrelude(layout.source, spelling) });
  }
  return { precision, kernels };
}

function emitKernel(k: Kernel, precision: Precision, materialized: ReadonlyMap<Node, string>, spelling: Spelling): KernelLayout {
  const p = new BodyPrinter(spelling, { precision, materialized: new Map(materialized) });
  if (k.rows) {
    const code = emitRowKernelBody(k, p, precision);
    const head = [
      `function ${identifier(k.name)}(X, O, S, L) {`,
      `  const fr = Math.fround;`,
      ...p.sites.map((_, s) => `  const x${s} = X[${s}];`),
      ...code.outputs.map((_, j) => `  const o${j} = O[${j}];`),
      ...p.hoisted.map((l) => `  ${l}`),
    ];
    return {
      name: k.name,
      domain: k.domain,
      rowAxis: k.rows.axis,
      sites: p.sites,
      scalars: p.scalars,
      outputs: code.outputs,
      source: [...head, ...code.lines, '}'].join('\n'),
    };
  }
  const { loop: loopOutputs, epilogue } = plainSlots(k);
  const outputs = [...loopOutputs, ...epilogue];
  const roots = loopOutputs.map((o) => (o.mode === 'store' ? o.node : o.node.inputs[0]!));
  const regs = loopOutputs.map((o, j) => (o.register ? j : -1)).filter((j) => j >= 0);
  const strided = loopOutputs.map((o, j) => (o.register ? -1 : j)).filter((j) => j >= 0);
  const init = (j: number): string => (loopOutputs[j]!.mode === 'max' ? '-Infinity' : '0');
  const combine = (j: number, acc: string, v: string): string =>
    loopOutputs[j]!.mode === 'max' ? `${acc} = (${v} > ${acc} || ${v} !== ${v}) ? ${v} : ${acc};` : `${acc} += ${v};`;

  // the flat loop: every site and store is indexed by the element number itself
  const unroll = 4;
  const flatCopies = Array.from({ length: unroll }, (_, u) => p.body(roots, () => (u ? `i + ${u}` : 'i'), `_${u}`));
  const flatTail = p.body(roots, () => 'i', '_t');
  // the strided loop: offsets b<k> per row, inner strides a<k>
  const nSites = () => p.sites.length;
  const stridedBody = p.body(roots, (site) => `b${site} + j * a${site}`, '_s');
  const siteCount = nSites();
  const outSlot = (j: number): number => siteCount + strided.indexOf(j); // strides of strided outputs follow the sites'

  // in the flat loop an accumulated output has the domain's shape (the runtime checks): a store
  const flatStore = (body: { values: string[] }, u: number, idx: string): string[] =>
    loopOutputs.map((o, j) => (o.register ? combine(j, `r${j}_${u}`, body.values[j]!) : `o${j}[${idx}] = ${body.values[j]!};`));
  const stridedStore = stridedBody.values.map((v, j) =>
    loopOutputs[j]!.register
      ? combine(j, `r${j}_0`, v)
      : loopOutputs[j]!.mode === 'store'
        ? `o${j}[b${outSlot(j)} + j * a${outSlot(j)}] = ${v};`
        : combine(j, `o${j}[b${outSlot(j)} + j * a${outSlot(j)}]`, v),
  );

  // epilogue: scalar results from this kernel's full reductions
  const bound = new Map<Node, string>();
  const epi: string[] = [];
  for (const j of regs) {
    const name = `red${j}`;
    const total = accTotal(loopOutputs[j]!.mode, j, unroll);
    epi.push(`const ${name} = ${precision === 'f32' ? `fr(${total})` : total};`, `o${j}[0] = ${name};`);
    bound.set(loopOutputs[j]!.node, name);
  }
  const epiBody = p.body(
    epilogue.map((o) => o.node),
    () => '0',
    '_e',
    bound,
  );
  epi.push(...epiBody.lines, ...epilogue.map((o, e) => `o${loopOutputs.length + e}[0] = ${epiBody.values[e]!};`));

  const sitesUsed = p.sites.length;
  const lines: string[] = [];
  const emit = (indent: number, ...ls: string[]): void => void lines.push(...ls.map((l) => '  '.repeat(indent) + l));
  emit(0, `function ${identifier(k.name)}(X, O, S, L) {`);
  emit(1, `const fr = Math.fround;`);
  emit(1, ...Array.from({ length: sitesUsed }, (_, s) => `const x${s} = X[${s}];`));
  emit(1, ...outputs.map((_, j) => `const o${j} = O[${j}];`));
  emit(1, ...p.hoisted);
  emit(1, ...regs.flatMap((j) => Array.from({ length: unroll }, (_, u) => `let r${j}_${u} = ${init(j)};`)));
  emit(1, `if (L.flat) {`);
  emit(2, `const n = L.n;`, `let i = 0;`, `for (; i + ${unroll - 1} < n; i += ${unroll}) {`);
  flatCopies.forEach((c, u) => emit(3, ...c.lines, ...flatStore(c, u, u ? `i + ${u}` : 'i')));
  emit(2, `}`, `for (; i < n; i++) {`);
  emit(3, ...flatTail.lines, ...flatStore(flatTail, 0, 'i'));
  emit(2, `}`);
  emit(1, `} else {`);
  emit(2, `const dims = L.dims, st = L.st, r = dims.length, inner = dims[r - 1], rows = L.n / inner;`);
  const slots = [...Array.from({ length: sitesUsed }, (_, s) => s), ...strided.map(outSlot)];
  emit(2, ...slots.map((s) => `const st${s} = st[${s}], a${s} = st${s}[r - 1];`));
  emit(2, `for (let q = 0; q < rows; q++) {`);
  emit(3, `let rem = q${slots.map((s) => `, b${s} = 0`).join('')};`);
  emit(3, `for (let d = r - 2; d >= 0; d--) {`);
  emit(4, `const n_d = dims[d], id = rem % n_d;`, `rem = (rem - id) / n_d;`, ...slots.map((s) => `b${s} += id * st${s}[d];`));
  emit(3, `}`);
  emit(3, `for (let j = 0; j < inner; j++) {`);
  emit(4, ...stridedBody.lines, ...stridedStore);
  emit(3, `}`);
  emit(2, `}`);
  emit(1, `}`);
  emit(1, ...epi);
  emit(0, `}`);
  if (p.sites.length !== siteCount) throw new Error('internal: the loops of a kernel read different sites');

  return { name: k.name, domain: k.domain, sites: p.sites, scalars: p.scalars, outputs, source: lines.join('\n') };
}

function accTotal(mode: 'store' | 'sum' | 'max', j: number, unroll: number): string {
  const parts = Array.from({ length: unroll }, (_, u) => `r${j}_${u}`);
  if (mode === 'max') return `Math.max(${parts.join(', ')})`; // NaN-propagating, like the loop
  // pairwise, in a fixed order: (r0 + r1) + (r2 + r3)
  return unroll === 4 ? `((${parts[0]} + ${parts[1]}) + (${parts[2]} + ${parts[3]}))` : parts.join(' + ');
}
