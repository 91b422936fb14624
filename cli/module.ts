// Standalone kernel modules (`lossc compile`): a loss compiled ahead of time for every structural
// variant of its options, so that nothing is compiled at run time.
//
//   DIR/<Name>.mjs    an ES module with no imports: `create(options?)` -> { forward, vjp, valueAndGrad }
//   DIR/<Name>.cjs    the same as a CommonJS module (`require`), so the module type is never ambiguous
//   DIR/<Name>.d.mts, DIR/<Name>.d.cts   their types
//   DIR/<Name>.wasm.mjs, DIR/<Name>.wasm.cjs (+ .d.mts, .d.cts)   --target wasm: the same API, each
//                     kernel a WebAssembly SIMD module (its bytes as base64), run single-threaded
//   DIR/<Name>.wgsl   --target wgsl: every WGSL module of every variant and method, concatenated
//   DIR/<Name>.wgsl.json   which module is which (offsets into the .wgsl) and each one's manifest
//
// Variants: each enum value x each bool x each tensor option given or not x each numeric option's
// `cases` or 'other' (function-valued options cannot be carried: create() with one throws). Per
// variant, method and precision the module carries runtime/cpu.ts's CpuProgramData, printed as a
// JS literal (shape expressions hold -Infinity for "all axes", so not JSON) with repeated parts
// hoisted into constants; each kernel is a real function in the file (no `new Function`, so the
// module runs under a strict Content-Security-Policy). `only` narrows what is carried: the
// variant of given options, some methods, one precision. The run-time code is
// runtime/standalone.ts, the library's own code (executor, checks, strides, resolveShape and
// binding.ts, which nn.ts runs), bundled by esbuild when the package is built
// (scripts/build-bundles.mjs -> dist/standalone/runtime.js): `lossc compile` needs no bundler.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { checkLossNames, instantiate, structuralVariants, type LossDef, type OptionValue } from '../compiler/loss.js';
import { compileMethod, methodVariantKey, type CompiledMethod, type Method, type MethodVariant } from '../compiler/pipeline.js';
import { cpuProgramData } from '../runtime/cpu.js';
import { assembleKernel, emitWasm } from '../compiler/emit/wasm/kernel.js';
import type { StandaloneWasmProgram } from '../runtime/wasm/standalone.js';
import type { KernelLayout } from '../compiler/emit/js.js';
import type { KernelPlan } from '../compiler/plan/kernelPlan.js';
import { variantKey } from '../runtime/binding.js';
import type { StandaloneForm, StandaloneMethodData, StandaloneMethodError } from '../runtime/standalone.js';
import type { CpuProgramData } from '../runtime/executor.js';
import type { Precision } from '../compiler/plan/kernelPlan.js';

export type Target = 'js' | 'wgsl' | 'wasm';
/** What a module's kernels are: JS functions (target js) or WebAssembly modules (target wasm). */
export type KernelKind = 'js' | 'wasm';
export const METHODS: readonly Method[] = ['forward', 'vjp', 'valueAndGrad'];
export const PRECISIONS: readonly Precision[] = ['f32', 'f64'];
export type ModuleFormat = 'mjs' | 'cjs';

/** What a module carries: every variant, method and precision unless narrowed. */
export interface ModuleSelection {
  /** option values: only the structural variant they choose (others at their defaults) */
  readonly options?: Readonly<Record<string, unknown>>;
  readonly methods?: readonly Method[];
  readonly precisions?: readonly Precision[];
}

export interface EmittedFile {
  /** a file name (no directory): <Name>.mjs, <Name>.cjs, <Name>.d.mts, <Name>.d.cts, <Name>.wgsl, <Name>.wgsl.json */
  readonly name: string;
  readonly text: string;
}

export interface ModuleOptions {
  readonly targets?: readonly Target[];
  /** called after each compiled variant (for progress displays) */
  readonly onProgress?: (done: number, total: number) => void;
  /** writes the .d.ts files; pass one to share it across losses */
  readonly types?: TypesWriter;
  /**
   * carry the training-step gradient variants (carriedGradientVariants: accumulate, wrt the first
   * input); default true. They make a module about 2-3x larger; without them a module's
   * valueAndGrad / vjp take `out` but not `wrt` or `accumulate`.
   */
  readonly gradientVariants?: boolean;
  readonly only?: ModuleSelection;
  /** module files to write (default both: .mjs and .cjs) */
  readonly formats?: readonly ModuleFormat[];
  /**
   * The run time in a file of its own (`lossc-runtime.mjs` / `.cjs`, the same for every loss)
   * that each module imports, instead of inside each module: for many losses, or the smallest files.
   */
  readonly sharedRuntime?: boolean;
}

/** The shared run time's file name (`sharedRuntime`), per kernel kind. */
export const RUNTIME_FILE = 'lossc-runtime';
const RUNTIME_FILES: Record<KernelKind, string> = { js: RUNTIME_FILE, wasm: `${RUNTIME_FILE}-wasm` };
/** dist/standalone/<bundle>: the run time each kind of module carries (scripts/build-bundles.mjs) */
const RUNTIME_BUNDLES: Record<KernelKind, string> = { js: 'runtime.js', wasm: 'runtime-wasm.js' };
/** a module's file name: <Name>.mjs (js) or <Name>.wasm.mjs (wasm) */
const moduleBase = (name: string, kind: KernelKind): string => (kind === 'js' ? name : `${name}.wasm`);

export interface EmittedModule {
  readonly loss: string;
  readonly files: readonly EmittedFile[];
  /** structural variants over every form (overloads included) */
  readonly variants: number;
}

// ------------------------------------------------------------------ variants

const formsOf = (def: LossDef): LossDef[] => [def, ...(def.overloads ?? [])];

/**
 * The gradient variants a JS module carries besides each method's default (see
 * runtime/standalone.ts methodEntry): accumulating into out.grads, and the training step's
 * `wrt: [first differentiable input]`, with and without accumulation. Every wrt subset would
 * multiply the module's size by up to 2^inputs; other subsets need lossc's library.
 */
export function carriedGradientVariants(inst: { readonly differentiable: readonly boolean[] }): MethodVariant[] {
  const diff = inst.differentiable.flatMap((d, i) => (d ? [i] : []));
  const first = diff.length > 1 ? [{ wrt: [diff[0]!] }, { wrt: [diff[0]!], accumulate: true }] : [];
  return [{ accumulate: true }, ...first];
}

/** A compiled method of every variant of every form, with a progress callback per variant; `gradientVariants`: also carriedGradientVariants, as `<method>#<variant key>`. */
function compileAll(
  def: LossDef,
  each: (form: LossDef, key: string, method: Method, c: CompiledMethod | Error) => void,
  onProgress?: (done: number, total: number) => void,
  only: ModuleSelection = {},
  gradientVariants = false,
): number {
  const work = formsOf(def).flatMap((form) => selectedVariants(form, only.options).map((values) => ({ form, values })));
  const methods = only.methods ?? METHODS;
  work.forEach(({ form, values }, i) => {
    const key = variantKey(form.options, values);
    let inst: ReturnType<typeof instantiate> | Error;
    try {
      inst = instantiate(form, values);
    } catch (e) {
      inst = e as Error;
    }
    for (const method of methods) {
      let c: CompiledMethod | Error;
      try {
        c = inst instanceof Error ? inst : compileMethod(inst, method);
      } catch (e) {
        c = e instanceof Error ? e : new Error(String(e));
      }
      each(form, key, method, c);
      if (!gradientVariants || method === 'forward' || inst instanceof Error || c instanceof Error) continue;
      for (const v of carriedGradientVariants(inst)) each(form, key, `${method}#${methodVariantKey(v)}` as Method, compileMethod(inst, method, v));
    }
    onProgress?.(i + 1, work.length);
  });
  return work.length;
}

/** The structural variants of `form` that `options` (when given) choose: one, with the others at their defaults. */
function selectedVariants(form: LossDef, options: Readonly<Record<string, unknown>> | undefined): Record<string, OptionValue>[] {
  const all = structuralVariants(form);
  if (!options) return all;
  for (const name of Object.keys(options)) {
    if (!form.options.some((o) => o.name === name))
      throw new Error(`${form.name} has no option '${name}' (options: ${form.options.map((o) => o.name).join(', ') || 'none'})`);
  }
  const chosen: Record<string, unknown> = {};
  for (const o of form.options) {
    const v = options[o.name];
    chosen[o.name] = o.type === 'tensor' ? (v == null ? null : { shape: [1] }) : (v ?? o.default);
  }
  const key = variantKey(form.options, chosen);
  const found = all.filter((values) => variantKey(form.options, values) === key);
  if (found.length === 0) throw new Error(`${form.name}: no variant has the options ${key}`);
  return found;
}

// ------------------------------------------------------------------ the module

/** The data a standalone module carries for `def` (every form, variant, method, precision). */
export function standaloneData(
  def: LossDef,
  onProgress?: (done: number, total: number) => void,
  only: ModuleSelection = {},
  gradientVariants = true,
  kind: KernelKind = 'js',
): { data: StandaloneForm<CpuProgramData | StandaloneWasmProgram>; variants: number } {
  const precisions = only.precisions ?? PRECISIONS;
  const byForm = new Map<LossDef, Record<string, Partial<Record<Method, StandaloneMethodData<unknown> | StandaloneMethodError>>>>();
  const programData = kind === 'js' ? (plan: KernelPlan, p: Precision) => portable(cpuProgramData(plan, p)) : wasmProgramData;
  const variants = compileAll(
    def,
    (form, key, method, c) => {
      let table = byForm.get(form);
      if (!table) byForm.set(form, (table = {}));
      const variant = (table[key] ??= {});
      if (c instanceof Error) {
        variant[method] = { error: c.message };
        return;
      }
      variant[method] = {
        outputShape: c.instance.output.shape,
        params: [...c.instance.params],
        results: [...c.results],
        gradOf: [...c.gradOf],
        ...Object.fromEntries(precisions.map((p) => [p, programData(c.plan, p)])),
      };
    },
    onProgress,
    only,
    gradientVariants,
  );
  const formData = (form: LossDef): StandaloneForm<CpuProgramData | StandaloneWasmProgram> => ({
    name: form.name,
    doc: form.doc,
    inputs: form.inputs,
    options: form.options,
    ...(form.checks ? { checks: form.checks } : {}),
    variants: (byForm.get(form) ?? {}) as StandaloneForm<CpuProgramData | StandaloneWasmProgram>['variants'],
  });
  const [main, ...overloads] = formsOf(def);
  return { data: { ...formData(main!), ...(overloads.length ? { overloads: overloads.map(formData) } : {}) }, variants };
}

/** Program data without compile-time fields (a KernelLayout output's `node`), each kernel's source as a function. */
function portable(p: CpuProgramData): CpuProgramData {
  const layouts = p.layouts.map(({ source, ...k }) => ({ ...withoutNodes(k), fn: new Code(source) }));
  return { ...p, layouts } as unknown as CpuProgramData;
}

const withoutNodes = <K extends Pick<KernelLayout, 'outputs'>>(k: K): K => ({ ...k, outputs: k.outputs.map(({ node: _node, ...slot }) => slot) });

/** The WebAssembly backend's kernels of a plan as data: each one's call layout and its module's bytes (for an unshared memory), base64. */
function wasmProgramData(plan: KernelPlan, precision: Precision): StandaloneWasmProgram {
  const w = emitWasm(plan, precision);
  const kernels = w.kernels.map((k) => {
    const { source: _source, ...layout } = withoutNodes(k.layout);
    return {
      kind: k.kind,
      layout: layout as KernelLayout,
      registers: k.registers,
      ...(k.caches !== undefined ? { caches: k.caches } : {}),
      types: Object.fromEntries(k.types!),
      wasm: Buffer.from(assembleKernel(k, false)).toString('base64'),
    };
  });
  return { precision, kernels, results: [...w.results] };
}

/** JavaScript code that printLiteral writes as it is (a kernel: a function expression). */
export class Code {
  constructor(readonly text: string) {}
}

/** `DIR/<Name>.js` and `DIR/<Name>.d.ts` (and the WGSL files for target wgsl) for one loss. */
export async function emitModule(def: LossDef, opts: ModuleOptions = {}): Promise<EmittedModule> {
  checkLossNames(def); // the name becomes file names and identifiers below
  const targets = opts.targets ?? ['js'];
  const files: EmittedFile[] = [];
  let variants = 0;
  // progress is shown for the first target compiled
  const first = (['js', 'wasm', 'wgsl'] as const).find((t) => targets.includes(t));
  const kinds = (['js', 'wasm'] as const).filter((t) => targets.includes(t));
  const types = kinds.length ? await (opts.types ?? typesWriter()).write(typesSignature(def)) : '';
  for (const kind of kinds) {
    const built = standaloneData(def, first === kind ? opts.onProgress : undefined, opts.only, opts.gradientVariants ?? true, kind);
    variants = built.variants;
    const base = moduleBase(def.name, kind);
    for (const format of opts.formats ?? ['mjs', 'cjs']) {
      files.push({ name: `${base}.${format}`, text: moduleText(def, built.data, format, opts.sharedRuntime === true, kind) });
      // the same types; the header names the files they describe
      const header = (n: string): string => `module ${n}.mjs / ${n}.cjs`;
      files.push({ name: `${base}.d.${format === 'mjs' ? 'mts' : 'cts'}`, text: types.replace(header(def.name), header(base)) });
      if (opts.sharedRuntime) files.push({ name: `${RUNTIME_FILES[kind]}.${format}`, text: runtimeModuleText(format, kind) });
    }
  }
  if (targets.includes('wgsl')) {
    const w = await wgslFiles(def, first === 'wgsl' ? opts.onProgress : undefined, opts.only);
    variants = w.variants;
    files.push(...w.files);
  }
  return { loss: def.name, files, variants };
}

/** The standalone run time (runtime/standalone.ts bundled by esbuild at build time): an IIFE defining `LosscStandalone`. */
function standaloneRuntime(kind: KernelKind): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/cli -> dist/standalone (the package); cli -> dist/standalone (sources, after npm run build)
  const bundle = RUNTIME_BUNDLES[kind];
  const candidates = [`../standalone/${bundle}`, `../dist/standalone/${bundle}`].map((p) => fileURLToPath(new URL(p, `file://${here}/`)));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`lossc: the standalone run time was not found (looked for ${candidates.join(', ')}); run \`npm run build\``);
  return readFileSync(found, 'utf8').trim();
}

/** `<Name>.mjs` or `<Name>.cjs`: the run time, the loss as data, and create(). */
function moduleText(
  def: LossDef,
  data: StandaloneForm<CpuProgramData | StandaloneWasmProgram>,
  format: ModuleFormat,
  sharedRuntime: boolean,
  kind: KernelKind,
): string {
  const { decls, expr } = printLiteral(data);
  const doc = `/** ${def.name}: create(options?) -> { forward, vjp, valueAndGrad } over { data, shape, dtype } objects. */`;
  const runtime = `./${RUNTIME_FILES[kind]}.${format}`;
  return [
    `// ${def.name}: a standalone lossc kernel module (generated by \`lossc compile\`; do not edit). ${sharedRuntime ? `Needs ${runtime} next to it` : 'No imports'}, no compiler, no eval.`,
    ...(kind === 'wasm'
      ? [
          '// Its kernels are WebAssembly SIMD modules (Node 20+, current browsers), run single-threaded on the calling thread;',
          "// the results equal lossc's `to('wasm')` (any thread count) bit for bit.",
        ]
      : []),
    `// ${def.doc.replace(/\s+/g, ' ')}`,
    ...(format === 'cjs' ? ["'use strict';"] : []),
    !sharedRuntime
      ? standaloneRuntime(kind)
      : format === 'mjs'
        ? `import { LosscStandalone } from '${runtime}';`
        : `const { LosscStandalone } = require('${runtime}');`,
    ...decls,
    `const LOSS = ${expr};`,
    doc,
    ...(format === 'mjs'
      ? ['export function create(options) { return LosscStandalone.createLoss(LOSS, options); }', `export const name = ${JSON.stringify(def.name)};`]
      : [
          'function create(options) { return LosscStandalone.createLoss(LOSS, options); }',
          'exports.create = create;',
          `exports.name = ${JSON.stringify(def.name)};`,
        ]),
    '',
  ].join('\n');
}

/** `lossc-runtime.mjs` / `.cjs`: the run time alone, for modules written with `sharedRuntime`. */
function runtimeModuleText(format: ModuleFormat, kind: KernelKind): string {
  return [
    `// The run time of standalone lossc ${kind === 'wasm' ? 'WebAssembly ' : ''}kernel modules (generated by \`lossc compile --shared-runtime\`; do not edit).`,
    ...(format === 'cjs' ? ["'use strict';"] : []),
    standaloneRuntime(kind),
    format === 'mjs' ? 'export { LosscStandalone };' : 'exports.LosscStandalone = LosscStandalone;',
    '',
  ].join('\n');
}

// ------------------------------------------------------------------ a JS literal with shared parts

/**
 * `value` as a JS expression, with parts that occur more than once (interned shapes, kernel
 * sources shared between variants) hoisted into `const $n` declarations. Numbers keep -0, NaN
 * and the infinities; undefined fields are left out.
 */
export function printLiteral(value: unknown): { decls: string[]; expr: string } {
  const text = new Map<object, string>();
  const counts = new Map<string, number>();
  const plain = (v: unknown): string => {
    if (v === null) return 'null';
    if (typeof v === 'number')
      return Object.is(v, -0) ? '-0' : Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : String(v);
    if (typeof v === 'string') {
      const t = JSON.stringify(v);
      counts.set(t, (counts.get(t) ?? 0) + 1);
      return t;
    }
    if (typeof v === 'boolean') return String(v);
    if (v instanceof Code) {
      const t = `(${v.text})`;
      counts.set(t, (counts.get(t) ?? 0) + 1);
      return t;
    }
    if (typeof v !== 'object') throw new Error(`printLiteral: cannot print a ${typeof v}`);
    const known = text.get(v);
    if (known !== undefined) {
      counts.set(known, (counts.get(known) ?? 0) + 1);
      return known;
    }
    const t = Array.isArray(v)
      ? `[${v.map(plain).join(',')}]`
      : `{${Object.entries(v as Record<string, unknown>)
          .filter(([, x]) => x !== undefined)
          .map(([k, x]) => `${propertyName(k)}:${plain(x)}`)
          .join(',')}}`;
    text.set(v, t);
    counts.set(t, (counts.get(t) ?? 0) + 1);
    return t;
  };
  plain(value);
  const decls: string[] = [];
  const hoisted = new Map<string, string>();
  const shared = (t: string): boolean => t.length > 24 && (counts.get(t) ?? 0) > 1;
  const print = (v: unknown): string => {
    if (v === null || typeof v !== 'object' || v instanceof Code) {
      const t = plain(v);
      return shared(t) ? hoist(t, t) : t;
    }
    const t = text.get(v)!;
    if (hoisted.has(t)) return hoisted.get(t)!;
    const body = Array.isArray(v)
      ? `[${v.map(print).join(', ')}]`
      : `{ ${Object.entries(v as Record<string, unknown>)
          .filter(([, x]) => x !== undefined)
          .map(([k, x]) => `${propertyName(k)}: ${print(x)}`)
          .join(', ')} }`;
    return shared(t) ? hoist(t, body) : body;
  };
  const hoist = (key: string, body: string): string => {
    let name = hoisted.get(key);
    if (!name) {
      name = `$${hoisted.size}`;
      hoisted.set(key, name);
      decls.push(`const ${name} = ${body};`);
    }
    return name;
  };
  return { decls, expr: print(value) };
}
const propertyName = (k: string): string => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k));

// ------------------------------------------------------------------ <Name>.d.ts

/** What the .d.ts says about a loss, as plain (structured-cloneable) data. */
export interface TypesSignature {
  readonly name: string;
  readonly doc: string;
  readonly forms: readonly (readonly string[])[];
  readonly options: readonly { readonly name: string; readonly type: string; readonly doc: string }[];
}

export function typesSignature(def: LossDef): TypesSignature {
  const optionType = (o: LossDef['options'][number]): string =>
    o.type === 'number'
      ? 'number'
      : o.type === 'bool'
        ? 'boolean'
        : o.type === 'enum'
          ? o.values.map((v) => JSON.stringify(v)).join(' | ')
          : o.type === 'tensor'
            ? 'Tensor | null'
            : 'null';
  const optionDefault = (o: LossDef['options'][number]): string =>
    o.type === 'function' ? 'null (a function cannot be carried by a standalone module)' : JSON.stringify(o.default);
  return {
    name: def.name,
    doc: def.doc,
    // overloads that differ only in dtypes have one signature
    forms: [
      ...new Map(
        formsOf(def)
          .map((f) => f.inputs.map((i) => i.name))
          .map((names) => [names.join(','), names] as const),
      ).values(),
    ],
    options: def.options.map((o) => ({ name: o.name, type: optionType(o), doc: `${o.doc ? `${o.doc}. ` : ''}Default: ${optionDefault(o)}.` })),
  };
}

/** Writes .d.ts text. */
export interface TypesWriter {
  write(sig: TypesSignature): Promise<string>;
  close(): void;
}

/** A TypesWriter (plain text: no TypeScript compiler needed). `opts` is accepted for callers that pass it. */
export function typesWriter(_opts: { readonly worker?: boolean } = {}): TypesWriter {
  return { write: (sig) => Promise.resolve(declarationsText(sig)), close: () => {} };
}

export function declarationsText(sig: TypesSignature): string {
  const doc = (lines: readonly string[], indent = ''): string =>
    lines.length === 1
      ? `${indent}/** ${lines[0]!.replace(/\*\//g, '*\\/')} */\n`
      : `${indent}/**\n${lines.map((l) => `${indent} * ${l.replace(/\*\//g, '*\\/')}\n`).join('')}${indent} */\n`;
  const params = (form: readonly string[]): string => form.map((n) => `${safeName(n)}: Tensor`).join(', ');
  const tuple = (form: readonly string[]): string => `[${params(form)}]`;
  const lossType = sig.name.endsWith('Loss') ? sig.name : `${sig.name}Loss`;
  const method = (docs: string, text: string): string => `${doc([docs], '  ')}  ${text};\n`;
  return [
    `// ${sig.name}: types of the standalone lossc kernel module ${sig.name}.mjs / ${sig.name}.cjs (generated; do not edit).\n`,
    `export type DType = 'float32' | 'float64' | 'int32';\n`,
    doc(['A row-major, contiguous tensor: float32 or float64 in, the same out; class indices are int32.']),
    'export interface Tensor {\n  readonly data: Float32Array | Float64Array | Int32Array;\n  readonly shape: readonly number[];\n  readonly dtype: DType;\n}\n',
    doc([`Options of ${sig.name}, applied at run time; every one has a default.`]),
    `export interface ${sig.name}Options {\n${sig.options.map((o) => `${doc([o.doc], '  ')}  ${o.name}?: ${o.type};\n`).join('')}}\n`,
    doc([
      'A training step: only the gradients of `wrt` (every input, or the first differentiable one), written into `out` (returned as the same objects); `accumulate` adds them into out.grads.',
    ]),
    'export interface CallOptions {\n  readonly wrt?: readonly (string | number)[];\n  readonly out?: { readonly value?: Tensor | null; readonly grads?: readonly (Tensor | null | undefined)[] };\n  readonly accumulate?: boolean;\n}\n',
    doc([sig.doc]),
    `export interface ${lossType} {\n`,
    '  readonly name: string;\n  readonly options: Readonly<Record<string, unknown>>;\n',
    ...sig.forms.map((f) => method('The loss (a scalar unless reduction is none).', `forward(${params(f)}): Tensor`)),
    ...sig.forms.map((f) =>
      method('The loss, written into `out` when given.', `forward(inputs: ${tuple(f)}, opts?: { readonly out?: Tensor | null }): Tensor`),
    ),
    ...sig.forms.map((f) =>
      method(
        'd sum(output * gradOutput) / d input, per input (null for integer or non-differentiable inputs).',
        `vjp(inputs: ${tuple(f)}, gradOutput: Tensor, opts?: CallOptions): (Tensor | null)[]`,
      ),
    ),
    ...sig.forms.map((f) =>
      method(
        'The loss and its gradients in one fused pass (a scalar-reduced loss).',
        `valueAndGrad(${params(f)}): { value: Tensor; grads: (Tensor | null)[] }`,
      ),
    ),
    ...sig.forms.map((f) =>
      method(
        'The same, for a training step: see CallOptions.',
        `valueAndGrad(inputs: ${tuple(f)}, opts?: CallOptions): { value: Tensor; grads: (Tensor | null)[] }`,
      ),
    ),
    '}\n',
    doc([`${sig.name} with these options over its defaults. Throws for a function-valued option, or options this module was not compiled for.`]),
    `export declare function create(options?: ${sig.name}Options): ${lossType};\n`,
    `export declare const name: ${JSON.stringify(sig.name)};\n`,
  ].join('');
}
const RESERVED = new Set(['default', 'function', 'var', 'new', 'delete', 'in', 'class', 'this', 'void']);
const safeName = (n: string): string => (RESERVED.has(n) ? `${n}_` : n);

// ------------------------------------------------------------------ WGSL

async function wgslFiles(
  def: LossDef,
  onProgress?: (done: number, total: number) => void,
  only: ModuleSelection = {},
): Promise<{ files: EmittedFile[]; variants: number }> {
  let wgslModules: ((c: CompiledMethod) => { modules: readonly { kernel: string; file: string; code: string }[]; manifest: unknown }) | undefined;
  try {
    ({ wgslModules } = await import('../compiler/emit/wgslModules.js'));
  } catch {
    wgslModules = undefined;
  }
  if (typeof wgslModules !== 'function') throw new Error('the WGSL backend is not available (compiler/emit/wgslModules.ts has no wgslModules function)');
  const prefix = `// ${def.name}: lossc WGSL modules, concatenated; see ${def.name}.wgsl.json for which is which.\n`;
  const chunks: string[] = [prefix];
  let offset = prefix.length;
  const seen = new Map<string, { offset: number; length: number }>();
  const place = (code: string): { offset: number; length: number } => {
    let at = seen.get(code);
    if (!at) {
      const header = `// ---- lossc wgsl module ${seen.size}\n`;
      const start = offset + header.length;
      chunks.push(header, code, code.endsWith('\n') ? '' : '\n');
      offset += header.length + code.length + (code.endsWith('\n') ? 0 : 1);
      seen.set(code, (at = { offset: start, length: code.length }));
    }
    return at;
  };
  const forms: Record<string, Record<string, Partial<Record<Method, unknown>>>> = {};
  const variants = compileAll(
    def,
    (form, key, method, c) => {
      const table = (forms[form === def ? 'main' : `overload:${form.name}:${form.inputs.map((i) => i.kind).join(',')}`] ??= {});
      const variant = (table[key] ??= {});
      if (c instanceof Error) {
        variant[method] = { error: c.message };
        return;
      }
      try {
        const w = wgslModules!(c);
        variant[method] = { modules: w.modules.map((m) => ({ kernel: m.kernel, ...place(m.code) })), manifest: w.manifest };
      } catch (e) {
        variant[method] = { error: (e as Error).message };
      }
    },
    onProgress,
    only,
  );
  const index = {
    format: 'lossc-wgsl-modules/1',
    loss: def.name,
    doc:
      `Every WGSL module of ${def.name}, per form, structural variant (options as in the key) and method. ` +
      `Each module is the text at [offset, offset + length) of ${def.name}.wgsl (ASCII, so characters are bytes); its manifest says how to bind and dispatch it.`,
    inputs: def.inputs,
    options: def.options,
    forms,
  };
  return {
    files: [
      { name: `${def.name}.wgsl`, text: chunks.join('') },
      { name: `${def.name}.wgsl.json`, text: JSON.stringify(index, jsonSafe, 1) },
    ],
    variants,
  };
}
const jsonSafe = (_: string, v: unknown): unknown => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);
