// The package's public declarations, after tsc and the bundles (npm run build):
//
// 1. dist/types/lossc.d.ts: tsc's declarations of runtime/index.ts, with `nn` typed per loss from
//    the stdlib itself (each loss's options, their types and enum values, and its inputs): a
//    misspelt or foreign option, a reduction the loss does not have, or a missing target is a
//    type error. Generated from the built bundle's builtinLosses, so from the .loss files.
// 2. WebGPU's types only for a user who opts in: the declarations of lossc's WebGPU runtime name
//    GPUBuffer, GPUDevice... (globals of @webgpu/types). Each such name becomes a local alias that
//    is WebGPU's own type when the program has @webgpu/types, and `unknown` when it has not, so
//    a program without WebGPU type-checks without skipLibCheck.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

// ------------------------------------------------------------------ 2. GPU types by opt-in

/** WebGPU names that are type aliases, not interfaces with a global constructor. */
const GPU_TYPE_ALIASES = {
  GPUBufferUsageFlags: 'number',
  GPUMapModeFlags: 'number',
  GPUShaderStageFlags: 'number',
  GPUSize64: 'number',
  GPUSize32: 'number',
  GPUIndex32: 'number',
};
const walk = (dir) => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));

export function optInGpuTypes(text) {
  const names = [...new Set(text.match(/\bGPU[A-Z][A-Za-z0-9]*\b/g) ?? [])].sort();
  if (names.length === 0 || text.includes('lossc: WebGPU types by opt-in')) return text;
  const aliases = names.map((n) =>
    n in GPU_TYPE_ALIASES ? `type ${n} = ${GPU_TYPE_ALIASES[n]};` : `type ${n} = typeof globalThis extends { ${n}: { prototype: infer T } } ? T : unknown;`,
  );
  return `// lossc: WebGPU types by opt-in: WebGPU's own with @webgpu/types in the program, else unknown.\n${aliases.join('\n')}\n${text}${text.includes('export {};') ? '' : '\nexport {};\n'}`;
}

// ------------------------------------------------------------------ 1. nn, typed per loss

const optionType = (o) =>
  o.type === 'number'
    ? 'number'
    : o.type === 'bool'
      ? 'boolean'
      : o.type === 'enum'
        ? o.values.map((v) => JSON.stringify(v)).join(' | ')
        : o.type === 'tensor'
          ? 'Tensor | null'
          : '((...args: Node[]) => Node) | null';
const optionDefault = (o) => (o.type === 'function' || o.type === 'tensor' ? 'null' : JSON.stringify(o.default));
const doc = (text, indent = '') => `${indent}/** ${text.replace(/\*\//g, '*\\/').replace(/\s+/g, ' ').trim()} */\n`;
const RESERVED = new Set(['default', 'function', 'var', 'new', 'delete', 'in', 'class', 'this', 'void']);
const param = (n) => (RESERVED.has(n) ? `${n}_` : n);

export function nnDeclarations(defs) {
  const out = [];
  for (const def of defs) {
    out.push(doc(`Options of nn.${def.name} (torch's constructor arguments, camelCased), each with torch's default.`));
    out.push(`export interface ${def.name}Options {\n`);
    for (const o of def.options) out.push(doc(`${o.doc ? `${o.doc}. ` : ''}Default: ${optionDefault(o)}.`, '  '), `  ${o.name}?: ${optionType(o)};\n`);
    out.push('}\n');
    const forms = [...new Map([def, ...(def.overloads ?? [])].map((f) => f.inputs.map((i) => param(i.name))).map((ns) => [ns.join(','), ns])).values()];
    const tuple = forms.map((ns) => `[${ns.map((n) => `${n}: Tensor`).join(', ')}]`).join(' | ');
    out.push(`/** The inputs of nn.${def.name}, in torch's forward order. */\nexport type ${def.name}Inputs = ${tuple};\n`);
  }
  out.push(
    '/** A built-in loss with its inputs typed: forward / vjp / valueAndGrad take exactly its inputs. */\n',
    "export type BuiltinLoss<Inputs extends Tensor[]> = Omit<Loss, 'forward' | 'vjp' | 'valueAndGrad'> & {\n",
    '  forward(...inputs: Inputs): Tensor;\n',
    '  /** The loss, written into `out` when given. */\n',
    '  forward(inputs: Inputs, opts?: ForwardOptions): Tensor;\n',
    '  /** d sum(output * gradOutput) / d input_i, for each input (null where torch gives none, or outside opts.wrt). */\n',
    '  vjp(inputs: Inputs, gradOutput: Tensor, opts?: CallOptions): (Tensor | null)[];\n',
    '  valueAndGrad(...inputs: Inputs): ValueAndGrad;\n',
    '  /** A training step: only the gradients of `wrt`, into `out` (returned as the same objects), added to them with `accumulate`. */\n',
    '  valueAndGrad(inputs: Inputs, opts?: CallOptions): ValueAndGrad;\n',
    '};\n',
    '/** The built-in losses, named as torch names them. */\n',
    'export declare const nn: {\n',
    ...defs.map((d) => `${doc(d.doc, '  ')}  readonly ${d.name}: new (options?: ${d.name}Options) => BuiltinLoss<${d.name}Inputs>;\n`),
    '};\n',
  );
  return out.join('');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const file of walk(dist).filter((f) => f.endsWith('.d.ts'))) {
    const text = readFileSync(file, 'utf8');
    const next = optInGpuTypes(text);
    if (next !== text) writeFileSync(file, next);
  }
  const lossc = await import(pathToFileURL(join(dist, 'esm', 'lossc.mjs')).href);
  const builtinLosses = Object.keys(lossc.nn).map((name) => lossc.builtinLoss(name)); // in nn's (torch's) order
  const types = join(dist, 'types');
  mkdirSync(types, { recursive: true });
  const index = relative(types, join(dist, 'runtime', 'index.js')).replace(/\\/g, '/');
  writeFileSync(
    join(types, 'lossc.d.ts'),
    [
      "// lossc's public types: runtime/index's, with nn typed per built-in loss (generated by scripts/build-types.mjs from the stdlib).",
      `export * from '${index}';`,
      `import type { CallOptions, ForwardOptions, Loss, Node, Tensor, ValueAndGrad } from '${index}';`,
      nnDeclarations(builtinLosses),
    ].join('\n'),
  );
}
