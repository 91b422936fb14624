// JS for a recurrence (a scan kernel): a loop over the steps around the body's loop over one
// state's elements. Each step reads the previous state (the initial one first), its slice of each
// sequence and the constants, and writes its state into the stacked result.
import type { Kernel, Precision } from '../plan/kernelPlan.js';
import { BodyPrinter, type Spelling } from './expr.js';
import type { KernelLayout } from './js.js';
import { identifier } from './names.js';
import { scanBinding, scanSlot, type ScanBinding } from '../abi/slots.js';

export type { ScanBinding as ScanLayout } from '../abi/slots.js';

export function emitScanKernel(k: Kernel, precision: Precision, base: Spelling): KernelLayout & { scan: ScanBinding } {
  const node = k.scan!;
  const body = node.attrs.body!;
  const scan = scanBinding(k);

  let printer: BodyPrinter;
  const spelling: Spelling = {
    ...base,
    // the state is read from the initial buffer at the first step, then from the previous slot
    siteRead: (s, index) => {
      const buffer = printer.sites[s]!.buffer;
      if (buffer === '@carry') return `cA[cB + ${index}]`;
      if (body.xs.some((p) => p.attrs.name === buffer)) return `x${s}[xb${s} + ${index}]`;
      return `x${s}[${index}]`;
    },
  };
  printer = new BodyPrinter(spelling, { precision, materialized: new Map() });
  const out = printer.body([body.next], (s) => `b${s}`, '_s', new Map([[body.step, 't']]));
  const sites = printer.sites.map((_, s) => s);
  const xsSites = sites.filter((s) => body.xs.some((p) => p.attrs.name === printer.sites[s]!.buffer));

  const lines = [
    `function ${identifier(k.name)}(X, O, S, L) {`,
    `  const fr = Math.fround;`,
    ...sites.map((s) => `  const x${s} = X[${s}];`),
    `  const out = O[0], init = L.init;`,
    ...printer.hoisted.map((l) => `  ${l}`),
    `  const T = L.T, n = L.n, dims = L.dims, r = dims.length, st = L.st, step = L.step;`,
    ...sites.map((s) => `  const st${s} = st[${s}];`),
    ...xsSites.map((s) => `  const xs${s} = step[${s}];`),
    `  for (let q = 0; q < T; q++) {`,
    `    const t = ${node.attrs.reverse ? 'T - 1 - q' : 'q'};`,
    `    const cA = q === 0 ? init : out, cB = q === 0 ? 0 : (${node.attrs.reverse ? 't + 1' : 't - 1'}) * n;`,
    ...xsSites.map((s) => `    const xb${s} = t * xs${s};`),
    `    for (let i = 0; i < n; i++) {`,
    `      let rem = i${sites.map((s) => `, b${s} = 0`).join('')};`,
    `      for (let d = r - 1; d >= 0; d--) {`,
    `        const n_d = dims[d], id = rem % n_d;`,
    `        rem = (rem - id) / n_d;`,
    ...sites.map((s) => `        b${s} += id * st${s}[d];`),
    `      }`,
    ...out.lines.map((l) => `      ${l}`),
    `      out[t * n + i] = ${out.values[0]};`,
    `    }`,
    `  }`,
    `}`,
  ];
  return {
    name: k.name,
    domain: k.domain,
    sites: printer.sites,
    scalars: printer.scalars,
    outputs: [scanSlot(k)],
    source: lines.join('\n'),
    scan,
  };
}
