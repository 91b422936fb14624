// The `lossc` subcommands, each a function of parsed arguments and an output sink, so tests can
// call them without a process. main.ts wires them to commander.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LossDef, OptionSpec, OptionValue } from '../compiler/loss.js';
import type { Method } from '../compiler/pipeline.js';
import type { Tensor } from '../runtime/tensor.js';
import { loadSources, parseOptions, type LoadedSource } from './sources.js';
import { printStabilization } from './notes.js';
import { Progress, type ProgressStream } from './progress.js';
import { UsageError, UserError } from './errors.js';
import type { Target } from './module.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** where progress goes (shown only on a terminal) */
  readonly progress: ProgressStream;
}

/** Errors a loss raises for a user's request (wrong shapes, options): a message, not a stack trace. */
async function asUserError<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof UsageError || e instanceof UserError) throw e;
    if (e instanceof TypeError || e instanceof RangeError || (e instanceof Error && e.constructor === Error)) throw new UserError(e.message);
    throw e;
  }
}

// ------------------------------------------------------------------ list

const optionText = (o: OptionSpec): string => `${o.name}=${o.type === 'enum' ? `'${String(o.default)}'` : String(o.default)}`;

export function describeLoss(def: LossDef): string {
  const inputs = def.inputs.map((i) => `${i.name}: ${i.kind}`).join(', ');
  const forms = (def.overloads ?? []).map((o) => ` | (${o.inputs.map((i) => `${i.name}: ${i.kind}`).join(', ')})`).join('');
  const options = def.options.map(optionText).join(' ');
  return `${def.name}(${inputs})${forms}${options ? `  ${options}` : ''}`;
}

export async function listCommand(io: Io): Promise<number> {
  const { builtinLosses } = await import('../runtime/losses.js');
  for (const def of builtinLosses) io.out(`${describeLoss(def)}\n`);
  return 0;
}

// ------------------------------------------------------------------ compile

export interface CompileArgs {
  readonly sources: readonly string[];
  readonly out: string;
  readonly targets: readonly Target[];
  readonly loss?: string;
  /** --options (JSON text), --methods, --precision: what the modules carry */
  readonly options?: string;
  readonly methods?: readonly Method[];
  readonly precisions?: readonly ('f32' | 'f64')[];
  readonly formats?: readonly ('mjs' | 'cjs')[];
  /** --shared-runtime: the run time in a file of its own */
  readonly sharedRuntime?: boolean;
  /** false (--no-training-variants): without the training-step gradient kernels (wrt the first input, accumulate) */
  readonly trainingVariants?: boolean;
}

/** --methods, --precision and --format of `lossc compile`, checked. */
export function parseSelection(o: {
  options?: string;
  methods?: string;
  precision?: string;
  format?: string;
}): Pick<CompileArgs, 'options' | 'methods' | 'precisions' | 'formats'> {
  const list = <T extends string>(flag: string, text: string | undefined, allowed: Readonly<Record<string, T>>): T[] | undefined => {
    if (text === undefined) return undefined;
    const items = text
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    if (!items.length) throw new UsageError(`${flag} needs one of ${Object.keys(allowed).join(', ')}`);
    for (const t of items) if (!(t in allowed)) throw new UsageError(`${flag}: unknown value '${t}' (expected ${Object.keys(allowed).join(', ')})`);
    return [...new Set(items.map((t) => allowed[t]!))];
  };
  const methods = list('--methods', o.methods, { forward: 'forward', vjp: 'vjp', valueAndGrad: 'valueAndGrad' } as const);
  const precisions = list('--precision', o.precision, { float32: 'f32', float64: 'f64' } as const);
  const formats = list('--format', o.format, { mjs: 'mjs', cjs: 'cjs' } as const);
  return {
    ...(o.options !== undefined ? { options: o.options } : {}),
    ...(methods ? { methods } : {}),
    ...(precisions ? { precisions } : {}),
    ...(formats ? { formats } : {}),
  };
}

const TARGETS: readonly Target[] = ['js', 'wasm', 'wgsl'];

export function parseTargets(text: string): Target[] {
  const targets = text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const expected = 'js, wasm, wgsl, or several comma-separated such as js,wasm';
  for (const t of targets) if (!TARGETS.includes(t as Target)) throw new UsageError(`--target: unknown target '${t}' (expected ${expected})`);
  if (!targets.length) throw new UsageError(`--target needs ${expected}`);
  return [...new Set(targets as Target[])];
}

export async function compileCommand(args: CompileArgs, io: Io): Promise<number> {
  if (typeof args.out !== 'string' || args.out.trim() === '') throw new UsageError('-o/--out needs a directory to write to, such as -o out');
  const { emitModule, typesWriter } = await import('./module.js');
  const types = args.targets.includes('js') || args.targets.includes('wasm') ? typesWriter() : undefined;
  try {
    const sources = await loadSources(args.sources, args.loss);
    makeOutputDirectory(args.out);
    await compileSources(sources, args, io, emitModule, types);
  } finally {
    types?.close();
  }
  return 0;
}

/** -o DIR: created if missing; a file there, or a place that cannot be written, is an error naming it. */
function makeOutputDirectory(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UserError(`-o ${dir}: a file of that name exists; give a directory`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UserError(`cannot create the output directory ${dir}: ${fsReason(e)}`);
  }
}

/** A file-system error as words (its code explained), without Node's syscall detail. */
function fsReason(e: unknown): string {
  const code = (e as { code?: string }).code;
  const words: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EEXIST: 'a file of that name exists',
    ENOTDIR: 'a part of the path is a file, not a directory',
    ENOENT: 'no such file or directory',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
    EISDIR: 'it is a directory',
    ENAMETOOLONG: 'the name is too long',
  };
  return (code && words[code]) ?? (e instanceof Error ? e.message : String(e));
}

async function compileSources(
  sources: readonly LoadedSource[],
  args: CompileArgs,
  io: Io,
  emitModule: typeof import('./module.js').emitModule,
  types: import('./module.js').TypesWriter | undefined,
): Promise<void> {
  const written = new Set<string>();
  for (const source of sources) {
    for (const def of source.losses) {
      await printStabilization(source, def, {}, io);
      const progress = new Progress(io.progress, `compiling ${def.name}: variant`);
      const t0 = performance.now();
      let m;
      try {
        const only = {
          ...(args.options !== undefined ? { options: parseOptions(args.options, def, 'float32') } : {}),
          ...(args.methods ? { methods: args.methods } : {}),
          ...(args.precisions ? { precisions: args.precisions } : {}),
        };
        m = await emitModule(def, {
          targets: args.targets,
          onProgress: (d, n) => progress.update(d, n),
          only,
          sharedRuntime: args.sharedRuntime === true,
          gradientVariants: args.trainingVariants !== false,
          ...(args.formats ? { formats: args.formats } : {}),
          ...(types ? { types } : {}),
        });
      } catch (e) {
        if (e instanceof Error && /WGSL backend is not available|no variant has the options/.test(e.message)) throw new UserError(e.message);
        throw e;
      } finally {
        progress.done();
      }
      const ms = performance.now() - t0;
      for (const f of m.files) {
        const path = join(args.out, f.name);
        if (written.has(path)) continue; // the shared run time, once
        written.add(path);
        try {
          writeFileSync(path, f.text);
        } catch (e) {
          throw new UserError(`cannot write ${path}: ${fsReason(e)}`);
        }
        io.out(`wrote ${path} (${kb(f.text.length)})\n`);
      }
      const methods = args.methods?.length ?? 3;
      io.out(`  ${def.name}: ${m.variants} variant${m.variants === 1 ? '' : 's'} x ${methods} method${methods === 1 ? '' : 's'}, ${ms.toFixed(0)} ms\n`);
    }
  }
}
const kb = (n: number): string => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} kB`);

// ------------------------------------------------------------------ explain

export interface ExplainArgs {
  readonly source: string;
  readonly method: Method;
  readonly options?: string;
  readonly loss?: string;
}

export async function explainCommand(args: ExplainArgs, io: Io): Promise<number> {
  if (!['forward', 'vjp', 'valueAndGrad'].includes(args.method)) throw new UsageError(`--method must be forward, vjp or valueAndGrad, not '${args.method}'`);
  const [source] = await loadSources([args.source], args.loss);
  const { Loss } = await import('../runtime/nn.js');
  const losses = source!.losses;
  for (const def of losses) {
    const options = await asUserError(() => parseOptions(args.options, def, 'float32'));
    await asUserError(() => printStabilization(source, def, options, io));
    const text = await asUserError(() => new Loss(def, options).explain(args.method).text);
    if (losses.length > 1) io.out(`==== ${def.name}\n`);
    io.out(`${text}\n`);
  }
  return 0;
}

// ------------------------------------------------------------------ check

export interface CheckArgs {
  readonly sources: readonly string[];
  readonly options?: string;
  readonly loss?: string;
  readonly seed: number;
  readonly tolerance: number;
  readonly shape?: readonly number[];
}

export async function checkCommand(args: CheckArgs, io: Io): Promise<number> {
  const sources = await loadSources(args.sources, args.loss);
  const { checkGradients } = await import('./check.js');
  const defs = sources.flatMap((s) => s.losses.map((def) => ({ def, source: s })));
  const progress = new Progress(io.progress, 'checking');
  let failed = 0;
  try {
    for (const [i, { def, source }] of defs.entries()) {
      progress.update(i, defs.length, def.name);
      const options = parseOptions(args.options, def, 'float64');
      await printStabilization(source, def, options, io).catch(() => undefined); // a loss that cannot build fails below
      let text: string;
      try {
        const r = checkGradients(def, { options, seed: args.seed, tolerance: args.tolerance, shape: args.shape });
        text = r.text;
        if (!r.ok) failed++;
      } catch (e) {
        // one loss that cannot run on these inputs is a failed check, not the end of the run
        if (args.shape && e instanceof Error && !(e instanceof UsageError)) e.message = `${e.message} (with --shape ${args.shape.join(',')})`;
        if (defs.length === 1) await asUserError(() => Promise.reject(e));
        text = `FAIL ${def.name}: ${e instanceof Error ? e.message : String(e)}`;
        failed++;
      }
      progress.done();
      io.out(`${text}\n`);
    }
  } finally {
    progress.done();
  }
  if (defs.length > 1) io.out(`${defs.length - failed} passed, ${failed} failed\n`);
  return failed ? 1 : 0;
}

// ------------------------------------------------------------------ bench

export interface BenchArgs {
  readonly source: string;
  readonly shape?: readonly number[];
  readonly dtype: 'float32' | 'float64';
  readonly options?: string;
  readonly loss?: string;
  /** time budget per loss, in ms */
  readonly time: number;
}

export async function benchCommand(args: BenchArgs, io: Io): Promise<number> {
  const [source] = await loadSources([args.source], args.loss);
  const { Loss } = await import('../runtime/nn.js');
  const { randomInputs, seededRandom } = await import('./inputs.js');
  for (const def of source!.losses) {
    const line = await asUserError(() => {
      const loss = new Loss(def, parseOptions(args.options, def, args.dtype));
      const inputs = randomInputs(def, loss.options as Record<string, OptionValue>, seededRandom(1), args.dtype, args.shape ?? [1024, 256]);
      const out = loss.forward(...inputs);
      const scalar = out.shape.length === 0;
      const Arr = args.dtype === 'float32' ? Float32Array : Float64Array;
      const g: Tensor = { data: new Arr(out.data.length).fill(1), shape: out.shape, dtype: args.dtype };
      const run = scalar ? () => loss.valueAndGrad(...inputs) : () => loss.vjp(inputs, g);
      run();
      const times: number[] = [];
      const start = performance.now();
      while (times.length < 5 || (performance.now() - start < args.time && times.length < 1000)) {
        const t0 = performance.now();
        run();
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      const median = times[Math.floor(times.length / 2)]!;
      const elements = inputs.reduce((n, t) => n + t.data.length, 0);
      const shapes = inputs.map((t, i) => `${def.inputs[i]!.name} [${t.shape.join(', ')}]`).join(', ');
      return `${def.name} ${scalar ? 'valueAndGrad' : 'vjp'} ${args.dtype} (${shapes}): median ${fmtMs(median)}, min ${fmtMs(times[0]!)} over ${times.length} runs, ${((elements / median) * 1e-6).toFixed(1)} G elements/s`;
    });
    io.out(`${line}\n`);
  }
  return 0;
}
const fmtMs = (ms: number): string => (ms < 1 ? `${(ms * 1000).toFixed(1)} us` : `${ms.toFixed(3)} ms`);

/** What one input of `lossc bench` may hold: 2^27 elements (512 MB in float32), so a typo cannot run for minutes. */
export const BENCH_MAX_ELEMENTS = 2 ** 27;
/** `lossc check` runs two forward calls per input element (central differences): 2^14 elements at most. */
export const CHECK_MAX_ELEMENTS = 2 ** 14;

/** `--shape 4096,1024`: positive integer sizes whose product is at most `maxElements` (the command's limit). */
export function parseShape(text: string, maxElements = BENCH_MAX_ELEMENTS, command = 'bench'): number[] {
  const dims = text
    .split(/[,x\s]+/)
    .filter(Boolean)
    .map(Number);
  if (!dims.length || dims.some((d) => !Number.isInteger(d) || d <= 0))
    throw new UsageError(`--shape must be positive integers such as 1024,256, not '${text}'`);
  const n = dims.reduce((a, b) => a * b, 1);
  if (n > maxElements) throw new UsageError(`--shape ${dims.join(',')} has ${n} elements; lossc ${command} takes at most ${maxElements} per input`);
  return dims;
}
