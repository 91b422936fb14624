// Standalone kernel modules (`lossc compile`): a loss compiled ahead of time for every structural
// variant of its options, so that nothing is compiled at run time.
//
//   DIR/<Name>.js     an ES module with no imports: `create(options?)` -> { forward, vjp, valueAndGrad }
//   DIR/<Name>.d.ts   its types (written with ts-morph)
//   DIR/<Name>.wgsl   --target wgsl: every WGSL module of every variant and method, concatenated
//   DIR/<Name>.wgsl.json   which module is which (offsets into the .wgsl) and each one's manifest
//
// Variants: each enum value x each bool x each tensor option given or not x each numeric option's
// `cases` or 'other' (function-valued options cannot be carried: create() with one throws). Per
// variant, method and precision the module carries runtime/cpu.ts's CpuProgramData, printed as a
// JS literal (shape expressions hold -Infinity for "all axes", so not JSON) with repeated parts
// hoisted into constants. The run-time code is runtime/standalone.ts, the library's own code,
// bundled by esbuild: executor, checks, strides, resolveShape, and binding.ts (which nn.ts runs).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { checkLossNames, instantiate, type LossDef, type OptionValue } from '../compiler/loss.js';
import { compileMethod, methodVariantKey, type CompiledMethod, type Method, type MethodVariant } from '../compiler/pipeline.js';
import { cpuProgramData } from '../runtime/cpu.js';
import { variantKey } from '../runtime/binding.js';
import type { StandaloneForm, StandaloneMethodData, StandaloneMethodError } from '../runtime/standalone.js';
import type { CpuProgramData } from '../runtime/executor.js';

export type Target = 'js' | 'wgsl';
export const METHODS: readonly Method[] = ['forward', 'vjp', 'valueAndGrad'];

export interface EmittedFile {
  /** a file name (no directory): <Name>.js, <Name>.d.ts, <Name>.wgsl, <Name>.wgsl.json */
  readonly name: string;
  readonly text: string;
}

export interface ModuleOptions {
  readonly targets?: readonly Target[];
  /** called after each compiled variant (for progress displays) */
  readonly onProgress?: (done: number, total: number) => void;
  /** writes the .d.ts files; pass one to share it (and its worker) across losses */
  readonly types?: TypesWriter;
  /**
   * carry the training-step gradient variants (carriedGradientVariants: accumulate, wrt the first
   * input); default true. They make a module about 2-3x larger; without them a module's
   * valueAndGrad / vjp take `out` but not `wrt` or `accumulate`.
   */
  readonly gradientVariants?: boolean;
}

export interface EmittedModule {
  readonly loss: string;
  readonly files: readonly EmittedFile[];
  /** structural variants over every form (overloads included) */
  readonly variants: number;
}

// ------------------------------------------------------------------ variants

/** Every structural variant of a form's options: the values to instantiate it with. */
export function structuralVariants(def: LossDef): Record<string, OptionValue>[] {
  let combos: Record<string, OptionValue>[] = [{}];
  for (const o of def.options) {
    const choices: OptionValue[] =
      o.type === 'enum' ? [...o.values]
      : o.type === 'bool' ? [false, true]
      : o.type === 'tensor' ? [null, { shape: [1] }]
      : o.type === 'number' ? (o.cases?.length ? [...o.cases, otherThan(o.cases)] : [o.default])
      : [null];
    combos = combos.flatMap((c) => choices.map((v) => ({ ...c, [o.name]: v })));
  }
  return combos;
}
const otherThan = (cases: readonly number[]): number => Math.max(0, ...cases.filter(Number.isFinite)) + 1.25;

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
function compileAll(def: LossDef, each: (form: LossDef, key: string, method: Method, c: CompiledMethod | Error) => void, onProgress?: (done: number, total: number) => void, gradientVariants = false): number {
  const work = formsOf(def).flatMap((form) => structuralVariants(form).map((values) => ({ form, values })));
  work.forEach(({ form, values }, i) => {
    const key = variantKey(form, values);
    let inst: ReturnType<typeof instantiate> | Error;
    try {
      inst = instantiate(form, values);
    } catch (e) {
      inst = e as Error;
    }
    for (const method of METHODS) {
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

// ------------------------------------------------------------------ the module

/** The data a standalone module carries for `def` (every form, variant, method, precision). */
export function standaloneData(def: LossDef, onProgress?: (done: number, total: number) => void, gradientVariants = true): { data: StandaloneForm; variants: number } {
  const byForm = new Map<LossDef, Record<string, Partial<Record<Method, StandaloneMethodData | StandaloneMethodError>>>>();
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
        f32: portable(cpuProgramData(c.plan, 'f32')),
        f64: portable(cpuProgramData(c.plan, 'f64')),
      };
    },
    onProgress,
    gradientVariants,
  );
  const formData = (form: LossDef): StandaloneForm => ({
    name: form.name,
    doc: form.doc,
    inputs: form.inputs,
    options: form.options,
    ...(form.checks ? { checks: form.checks } : {}),
    variants: byForm.get(form) ?? {},
  });
  const [main, ...overloads] = formsOf(def);
  return { data: { ...formData(main!), ...(overloads.length ? { overloads: overloads.map(formData) } : {}) }, variants };
}

/** Program data without compile-time fields (a KernelLayout output's `node`). */
function portable(p: CpuProgramData): CpuProgramData {
  const layouts = p.layouts.map((k) => ({ ...k, outputs: k.outputs.map(({ node: _node, ...slot }) => slot) }));
  return { ...p, layouts } as unknown as CpuProgramData;
}

/** `DIR/<Name>.js` and `DIR/<Name>.d.ts` (and the WGSL files for target wgsl) for one loss. */
export async function emitModule(def: LossDef, opts: ModuleOptions = {}): Promise<EmittedModule> {
  checkLossNames(def); // the name becomes file names and identifiers below
  const targets = opts.targets ?? ['js'];
  const files: EmittedFile[] = [];
  let variants = 0;
  if (targets.includes('js')) {
    const built = standaloneData(def, opts.onProgress, opts.gradientVariants ?? true);
    variants = built.variants;
    const writer = opts.types ?? typesWriter();
    try {
      const types = writer.write(typesSignature(def)); // ts-morph loads meanwhile, in a worker where it can
      files.push({ name: `${def.name}.js`, text: await bundle(def, built.data) });
      files.push({ name: `${def.name}.d.ts`, text: await types });
    } finally {
      if (!opts.types) writer.close();
    }
  }
  if (targets.includes('wgsl')) {
    const w = await wgslFiles(def, targets.includes('js') ? undefined : opts.onProgress);
    variants = w.variants;
    files.push(...w.files);
  }
  return { loss: def.name, files, variants };
}

/** runtime/standalone: the .ts source under vitest, the compiled .js in dist. */
function standaloneEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = ['../runtime/standalone.js', '../runtime/standalone.ts'].map((p) => fileURLToPath(new URL(p, `file://${here}/`)));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`lossc: runtime/standalone was not found next to the compiler (looked for ${candidates.join(', ')})`);
  return found;
}

async function bundle(def: LossDef, data: StandaloneForm): Promise<string> {
  const { build } = await import('esbuild');
  const { decls, expr } = printLiteral(data);
  const entry = [
    `import { createLoss } from ${JSON.stringify(standaloneEntry())};`,
    ...decls,
    `const LOSS = ${expr};`,
    `/** ${def.name}: create(options?) -> { forward, vjp, valueAndGrad } over { data, shape, dtype } objects. */`,
    `export function create(options) { return createLoss(LOSS, options); }`,
    `export const name = ${JSON.stringify(def.name)};`,
    '',
  ].join('\n');
  const result = await build({
    stdin: { contents: entry, resolveDir: dirname(standaloneEntry()), sourcefile: `${def.name}.js`, loader: 'js' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    legalComments: 'none',
    logLevel: 'silent',
    banner: { js: `// ${def.name}: a standalone lossc kernel module (generated by \`lossc compile\`; do not edit). No imports, no compiler.\n// ${def.doc.replace(/\s+/g, ' ')}` },
  });
  return result.outputFiles[0]!.text;
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
    if (typeof v === 'number') return Object.is(v, -0) ? '-0' : Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : String(v);
    if (typeof v === 'string') {
      const t = JSON.stringify(v);
      counts.set(t, (counts.get(t) ?? 0) + 1);
      return t;
    }
    if (typeof v === 'boolean') return String(v);
    if (typeof v !== 'object') throw new Error(`printLiteral: cannot print a ${typeof v}`);
    const known = text.get(v);
    if (known !== undefined) {
      counts.set(known, (counts.get(known) ?? 0) + 1);
      return known;
    }
    const t = Array.isArray(v)
      ? `[${v.map(plain).join(',')}]`
      : `{${Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).map(([k, x]) => `${propertyName(k)}:${plain(x)}`).join(',')}}`;
    text.set(v, t);
    counts.set(t, (counts.get(t) ?? 0) + 1);
    return t;
  };
  plain(value);
  const decls: string[] = [];
  const hoisted = new Map<string, string>();
  const shared = (t: string): boolean => t.length > 24 && (counts.get(t) ?? 0) > 1;
  const print = (v: unknown): string => {
    if (v === null || typeof v !== 'object') {
      const t = plain(v);
      return shared(t) ? hoist(t, t) : t;
    }
    const t = text.get(v)!;
    if (hoisted.has(t)) return hoisted.get(t)!;
    const body = Array.isArray(v)
      ? `[${v.map(print).join(', ')}]`
      : `{ ${Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).map(([k, x]) => `${propertyName(k)}: ${print(x)}`).join(', ')} }`;
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
    o.type === 'number' ? 'number'
    : o.type === 'bool' ? 'boolean'
    : o.type === 'enum' ? o.values.map((v) => JSON.stringify(v)).join(' | ')
    : o.type === 'tensor' ? 'Tensor | null'
    : 'null';
  const optionDefault = (o: LossDef['options'][number]): string => (o.type === 'function' ? 'null (a function cannot be carried by a standalone module)' : JSON.stringify(o.default));
  return {
    name: def.name,
    doc: def.doc,
    // overloads that differ only in dtypes have one signature
    forms: [...new Map(formsOf(def).map((f) => f.inputs.map((i) => i.name)).map((names) => [names.join(','), names] as const)).values()],
    options: def.options.map((o) => ({ name: o.name, type: optionType(o), doc: `${o.doc ? `${o.doc}. ` : ''}Default: ${optionDefault(o)}.` })),
  };
}

/** Writes .d.ts text. ts-morph takes a few hundred milliseconds to load: a worker loads it while the caller compiles. */
export interface TypesWriter {
  write(sig: TypesSignature): Promise<string>;
  close(): void;
}

const TYPES_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const ready = import(workerData.module).then(async (m) => { await import('ts-morph'); return m; });
ready.catch(() => {});
parentPort.on('message', async ({ id, sig }) => {
  try { parentPort.postMessage({ id, text: await (await ready).declarationsText(sig) }); }
  catch (e) { parentPort.postMessage({ id, error: String((e && e.message) || e) }); }
});`;

/**
 * A TypesWriter: in a worker thread when running compiled JS (from dist) and `worker` is not
 * false (a caller that has loaded ts-morph already says so), else in this thread.
 */
export function typesWriter(opts: { readonly worker?: boolean } = {}): TypesWriter {
  const inThread: TypesWriter = { write: declarationsText, close: () => {} };
  if (opts.worker === false || !import.meta.url.endsWith('.js')) return inThread; // TypeScript sources (vitest): a worker could not load them
  let worker: import('node:worker_threads').Worker | undefined;
  const pending = new Map<number, { resolve: (t: string) => void; sig: TypesSignature }>();
  let next = 0;
  let closed = false;
  const start = import('node:worker_threads').then(({ Worker }) => {
    if (closed) return undefined; // closed before it started (a command that failed early): never start it
    const w = new Worker(TYPES_WORKER, { eval: true, workerData: { module: import.meta.url } });
    w.unref();
    w.on('message', (m: { id: number; text?: string; error?: string }) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.text !== undefined) p.resolve(m.text);
      else void declarationsText(p.sig).then(p.resolve); // the worker failed: write them here
    });
    w.on('error', () => {
      for (const [id, p] of pending) {
        pending.delete(id);
        void declarationsText(p.sig).then(p.resolve);
      }
    });
    worker = w;
    return w;
  });
  return {
    write: (sig) =>
      new Promise((resolve) => {
        const id = next++;
        pending.set(id, { resolve, sig });
        void start.then((w) => (w ? w.postMessage({ id, sig }) : void declarationsText(sig).then(resolve)), () => {
          pending.delete(id);
          void declarationsText(sig).then(resolve);
        });
      }),
    close: () => {
      closed = true;
      void worker?.terminate();
    },
  };
}

export async function declarationsText(sig: TypesSignature): Promise<string> {
  const { Project, VariableDeclarationKind } = await import('ts-morph');
  const project = new Project({ useInMemoryFileSystem: true });
  const file = project.createSourceFile(`${sig.name}.d.ts`, '');
  file.insertText(0, `// ${sig.name}: types of the standalone lossc kernel module ${sig.name}.js (generated; do not edit).\n`);
  file.addTypeAlias({ name: 'DType', isExported: true, type: `'float32' | 'float64' | 'int32'` });
  file.addInterface({
    name: 'Tensor',
    isExported: true,
    docs: ['A row-major, contiguous tensor: float32 or float64 in, the same out; class indices are int32.'],
    properties: [
      { name: 'data', isReadonly: true, type: 'Float32Array | Float64Array | Int32Array' },
      { name: 'shape', isReadonly: true, type: 'readonly number[]' },
      { name: 'dtype', isReadonly: true, type: 'DType' },
    ],
  });
  file.addInterface({
    name: `${sig.name}Options`,
    isExported: true,
    docs: [`Options of ${sig.name}, applied at run time; every one has a default.`],
    properties: sig.options.map((o) => ({ name: o.name, hasQuestionToken: true, type: o.type, docs: [o.doc] })),
  });
  const params = (form: readonly string[]) => form.map((n) => ({ name: safeName(n), type: 'Tensor' }));
  const tuple = (form: readonly string[]) => `[${form.map((n) => `${safeName(n)}: Tensor`).join(', ')}]`;
  const lossType = sig.name.endsWith('Loss') ? sig.name : `${sig.name}Loss`;
  file.addInterface({
    name: 'CallOptions',
    isExported: true,
    docs: ['A training step: only the gradients of `wrt` (every input, or the first differentiable one), written into `out` (returned as the same objects); `accumulate` adds them into out.grads.'],
    properties: [
      { name: 'wrt', hasQuestionToken: true, isReadonly: true, type: 'readonly (string | number)[]' },
      { name: 'out', hasQuestionToken: true, isReadonly: true, type: '{ readonly value?: Tensor | null; readonly grads?: readonly (Tensor | null | undefined)[] }' },
      { name: 'accumulate', hasQuestionToken: true, isReadonly: true, type: 'boolean' },
    ],
  });
  const arrayForm = (f: readonly string[], opts: string) => [{ name: 'inputs', type: tuple(f) }, { name: 'opts', hasQuestionToken: true, type: opts }];
  file.addInterface({
    name: lossType,
    isExported: true,
    docs: [sig.doc],
    properties: [
      { name: 'name', isReadonly: true, type: 'string' },
      { name: 'options', isReadonly: true, type: 'Readonly<Record<string, unknown>>' },
    ],
    methods: [
      ...sig.forms.map((f) => ({ name: 'forward', returnType: 'Tensor', parameters: params(f), docs: ['The loss (a scalar unless reduction is none).'] })),
      ...sig.forms.map((f) => ({ name: 'forward', returnType: 'Tensor', parameters: arrayForm(f, '{ readonly out?: Tensor | null }'), docs: ['The loss, written into `out` when given.'] })),
      ...sig.forms.map((f) => ({
        name: 'vjp',
        returnType: '(Tensor | null)[]',
        parameters: [{ name: 'inputs', type: tuple(f) }, { name: 'gradOutput', type: 'Tensor' }, { name: 'opts', hasQuestionToken: true, type: 'CallOptions' }],
        docs: ['d sum(output * gradOutput) / d input, per input (null for integer or non-differentiable inputs).'],
      })),
      ...sig.forms.map((f) => ({
        name: 'valueAndGrad',
        returnType: '{ value: Tensor; grads: (Tensor | null)[] }',
        parameters: params(f),
        docs: ['The loss and its gradients in one fused pass (a scalar-reduced loss).'],
      })),
      ...sig.forms.map((f) => ({
        name: 'valueAndGrad',
        returnType: '{ value: Tensor; grads: (Tensor | null)[] }',
        parameters: arrayForm(f, 'CallOptions'),
        docs: ['The same, for a training step: see CallOptions.'],
      })),
    ],
  });
  file.addFunction({
    name: 'create',
    isExported: true,
    hasDeclareKeyword: true,
    parameters: [{ name: 'options', hasQuestionToken: true, type: `${sig.name}Options` }],
    returnType: lossType,
    docs: [`${sig.name} with these options over its defaults. Throws for a function-valued option.`],
  });
  file.addVariableStatement({ isExported: true, hasDeclareKeyword: true, declarationKind: VariableDeclarationKind.Const, declarations: [{ name: 'name', type: JSON.stringify(sig.name) }] });
  file.formatText({ indentSize: 2 });
  return file.getFullText();
}
const RESERVED = new Set(['default', 'function', 'var', 'new', 'delete', 'in', 'class', 'this', 'void']);
const safeName = (n: string): string => (RESERVED.has(n) ? `${n}_` : n);

// ------------------------------------------------------------------ WGSL

async function wgslFiles(def: LossDef, onProgress?: (done: number, total: number) => void): Promise<{ files: EmittedFile[]; variants: number }> {
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
  );
  const index = {
    format: 'lossc-wgsl-modules/1',
    loss: def.name,
    doc: `Every WGSL module of ${def.name}, per form, structural variant (options as in the key) and method. ` +
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
