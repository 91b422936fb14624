// Where the `lossc` command's losses come from: a .loss file (the DSL), a .ts file (plain
// TypeScript, read statically), or the name of a built-in loss. Each front end is loaded only
// when needed (chevrotain, ts-morph and the stdlib each cost a few hundred milliseconds to load).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import type { LossDef } from '../compiler/loss.js';
import type { Diagnostic } from '../dsl/diagnostics.js';
import type { Tensor } from '../runtime/tensor.js';
import { SourceErrors, UsageError, UserError } from './errors.js';

/** The TypeScript front end, which needs ts-morph: an optional peer dependency of lossc (~14 MB), asked for by name. */
async function tsFront(spec: string): Promise<typeof import('../dsl/tsFront.js')> {
  try {
    return await import('../dsl/tsFront.js');
  } catch (e) {
    if (/ts-morph/.test(String((e as Error).message)) && (e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND')
      throw new UserError(`${spec}: reading a loss written in TypeScript needs ts-morph, an optional dependency of lossc: npm install -D ts-morph`);
    throw e;
  }
}

export interface LoadedSource {
  /** what the user named: a path, or a built-in loss name */
  readonly spec: string;
  readonly losses: readonly LossDef[];
  /** warnings (errors are thrown as SourceErrors) */
  readonly warnings: readonly Diagnostic[];
  readonly text?: string;
}

const SOURCE_EXTENSIONS = new Set(['.loss', '.ts', '.mts', '.cts']);

export async function loadSource(spec: string, only?: string): Promise<LoadedSource> {
  const ext = extname(spec);
  const looksLikeFile = SOURCE_EXTENSIONS.has(ext) || spec.includes('/') || spec.includes('\\');
  let loaded: LoadedSource;
  if (looksLikeFile || existsSync(spec)) {
    if (!existsSync(spec)) throw new UsageError(`no such file: ${spec}`);
    if (statSync(spec).isDirectory()) throw new UsageError(`${spec} is a directory: give a .loss or .ts file (or a built-in loss name)`);
    if (!statSync(spec).isFile()) throw new UsageError(`${spec} is not a regular file: give a .loss or .ts file (or a built-in loss name)`);
    if (!SOURCE_EXTENSIONS.has(ext)) throw new UsageError(`${spec}: expected a .loss or .ts file (or a built-in loss name)`);
    const text = readFileSync(spec, 'utf8');
    const read = ext === '.loss' ? (await import('../dsl/index.js')).parseLossSource(text, spec) : (await tsFront(spec)).parseTsLossSource(text, spec);
    const errors = read.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) throw new SourceErrors(read.diagnostics, text);
    if (read.losses.length === 0) {
      throw new UserError(
        ext === '.loss'
          ? `${spec} declares no loss (a .loss file needs at least one 'loss Name(...) { ... }')`
          : `${spec} exports no loss (an exported function or a class extending Loss)`,
      );
    }
    loaded = { spec, losses: read.losses, warnings: read.diagnostics, text };
  } else {
    const { builtinLoss, builtinLosses } = await import('../runtime/losses.js');
    const def = builtinLoss(spec);
    if (!def) {
      const names = builtinLosses.map((d) => d.name);
      const close = names.find((n) => n.toLowerCase() === spec.toLowerCase() || n.toLowerCase() === `${spec.toLowerCase()}loss`);
      throw new UsageError(
        `'${spec}' is neither a file nor a built-in loss${close ? ` (did you mean ${close}?)` : ''}; \`lossc list\` shows the built-in losses`,
      );
    }
    loaded = { spec, losses: [def], warnings: [] };
  }
  if (only !== undefined) {
    const picked = loaded.losses.filter((d) => d.name === only);
    if (!picked.length) throw new UsageError(`${spec} has no loss named '${only}' (it has: ${loaded.losses.map((d) => d.name).join(', ') || 'none'})`);
    loaded = { ...loaded, losses: picked };
  }
  return loaded;
}

/** Every loss of every source, in order. */
export async function loadSources(specs: readonly string[], only?: string): Promise<LoadedSource[]> {
  const out: LoadedSource[] = [];
  for (const s of specs) out.push(await loadSource(s, only));
  return out;
}

/**
 * `--options '{"reduction": "sum", "weight": [1, 2, 3]}'`: option values; an array (or
 * { data, shape }) for a tensor option becomes a tensor of `dtype`.
 */
export function parseOptions(json: string | undefined, def: LossDef, dtype: 'float32' | 'float64'): Record<string, unknown> {
  if (json === undefined) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new UsageError(`--options is not valid JSON: ${(e as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UsageError(`--options must be a JSON object such as '{"reduction": "sum"}'`);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const spec = def.options.find((o) => o.name === k);
    if (!spec) throw new UsageError(`${def.name} has no option '${k}' (options: ${def.options.map((o) => o.name).join(', ') || 'none'})`);
    if (spec.type === 'tensor' && v !== null) out[k] = toTensor(k, v, dtype);
    else out[k] = v;
  }
  return out;
}

function toTensor(name: string, v: unknown, dtype: 'float32' | 'float64'): Tensor {
  const Arr = dtype === 'float32' ? Float32Array : Float64Array;
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return { data: Arr.from(v as number[]), shape: [v.length], dtype };
  if (v && typeof v === 'object' && Array.isArray((v as { data?: unknown }).data) && Array.isArray((v as { shape?: unknown }).shape)) {
    const { data, shape } = v as { data: number[]; shape: number[] };
    if (data.length !== shape.reduce((a, b) => a * b, 1))
      throw new UsageError(`--options: '${name}' has ${data.length} values for shape [${shape.join(', ')}]`);
    return { data: Arr.from(data), shape, dtype };
  }
  throw new UsageError(`--options: '${name}' is a tensor option: give an array of numbers, or { "data": [...], "shape": [...] }`);
}
