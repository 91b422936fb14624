// Declarations: element types, declared shapes (`f32[N, C]`), what they imply (run-time 'dims'
// checks, shapeLike), and how an option's declared type and default become its OptionSpec.
import type { IToken } from './chevrotain.js';
import type { InputCheck, InputSpec, OptionSpec } from '../compiler/loss.js';
import { tokenLoc } from './cst.js';
import { didYouMean, type Binding, type Loc, type Lowered, type Reporter } from './lower.js';
import { describeType, scalarFloat, type Dims, type StaticType } from './types.js';

/** One declared axis: a name, a size, or '*' (any number of axes). */
export type DeclaredDim = string | number | '*';

export const ELEMENT_KINDS: Readonly<Record<string, 'float' | 'int' | 'bool'>> = {
  f32: 'float',
  f64: 'float',
  float: 'float',
  i32: 'int',
  int: 'int',
  bool: 'bool',
};

export interface TensorTypeDecl {
  readonly element: IToken;
  /** null without brackets (any shape) */
  readonly dims: readonly DeclaredDim[] | null;
  /** `like input without 1`: another tensor's shape, maybe without one axis */
  readonly like?: LikeShape;
}

export interface LikeShape {
  readonly name: IToken;
  readonly without?: number;
}
/** What a shape declaration tells the checker: '*' (any rank) makes it unknown, '_' any one size. */
export const staticDims = (dims: readonly DeclaredDim[] | null): Dims => (dims === null || dims.includes('*') ? null : dims.map((d) => (d === '_' ? '?' : d)));
export const needsDimsCheck = (dims: readonly DeclaredDim[] | null): dims is readonly DeclaredDim[] => dims !== null && !(dims.length === 1 && dims[0] === '*');

/**
 * An input whose declared shape is an earlier input's ([N, C] and [N, C]), or that shape without
 * one axis ([N] next to [N, C]: class indices), takes its shape from it: the compiler then knows
 * the two agree, so per-row work such as gather shares one kernel.
 */
export function withShapeLike(
  spec: InputSpec,
  dims: readonly DeclaredDim[] | null,
  earlier: readonly { spec: InputSpec; dims: readonly DeclaredDim[] | null }[],
): InputSpec {
  const exact = (d: readonly DeclaredDim[] | null): d is readonly DeclaredDim[] => d !== null && d.length > 0 && d.every((x) => x !== '*' && x !== '_');
  if (!exact(dims)) return spec;
  const same = (a: readonly DeclaredDim[], b: readonly DeclaredDim[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
  for (const e of earlier) {
    if (!exact(e.dims)) continue;
    if (same(e.dims, dims)) return { ...spec, shapeLike: { input: e.spec.name } };
    const dropAxis = e.dims.findIndex((_, k) => same([...e.dims!.slice(0, k), ...e.dims!.slice(k + 1)], dims));
    if (dropAxis >= 0) return { ...spec, shapeLike: { input: e.spec.name, dropAxis } };
  }
  return spec;
}

export type OptionType =
  | { readonly enumValues: readonly string[] }
  | { readonly tensor: TensorTypeDecl; readonly optional: boolean }
  /** fn(f32, f32) -> f32 */
  | { readonly fn: { readonly params: readonly TensorTypeDecl[]; readonly result: TensorTypeDecl } };

/** What follows an option's default: `cases (1, 2)` and `, "description"`. */
export interface OptionExtras {
  readonly cases?: { readonly values: readonly Lowered[]; readonly at: Loc };
  readonly doc?: string;
}

/** An option read: its spec, how the loss's scope sees it, and a run-time check of its shape. */
export interface ReadOption {
  readonly spec: OptionSpec;
  readonly type: StaticType;
  readonly eval: Binding['eval'];
  readonly check?: InputCheck;
}

/**
 * `option name: type = default`: numbers are run-time parameters (structural for their `cases`);
 * enums, bools, optional tensors and functions are structural. `aliases` are the file's `type`
 * declarations.
 */
export function readOption(
  name: string,
  type: OptionType,
  dflt: Lowered,
  extras: OptionExtras,
  aliases: ReadonlyMap<string, { readonly values: readonly string[] }>,
  report: Reporter,
): ReadOption | null {
  const t = dflt.type;
  const badDefault = (expected: string): null => {
    report.error(`the default of option '${name}' must be ${expected}, but this is ${describeType(t)}`, dflt.at);
    return null;
  };
  const doc = extras.doc !== undefined ? { doc: extras.doc } : {};
  const numeric =
    'tensor' in type &&
    !type.optional &&
    type.tensor.dims === null &&
    (ELEMENT_KINDS[type.tensor.element.image] === 'float' || ELEMENT_KINDS[type.tensor.element.image] === 'int');
  if (extras.cases && !numeric) {
    report.error(`only float and int options have cases (values that choose another graph), not option '${name}'`, extras.cases.at);
    return null;
  }
  if ('fn' in type) {
    const { params, result } = type.fn;
    for (const p of [...params, result]) {
      if (ELEMENT_KINDS[p.element.image] !== 'float' || p.dims !== null || p.like) {
        report.error(`a function option takes and returns float tensors: write fn(f32, f32) -> f32`, tokenLoc(p.element));
        return null;
      }
    }
    if (t.sort !== 'none') return badDefault('none');
    return {
      spec: { name, type: 'function', default: null, ...doc },
      type: { sort: 'function', arity: params.length, optional: true },
      eval: (env) => env.ctx.fn(name),
    };
  }
  const enumValues = 'enumValues' in type ? type.enumValues : aliases.get(type.tensor.element.image)?.values;
  if (enumValues && ('enumValues' in type || (type.tensor.dims === null && !type.optional))) {
    if (t.sort !== 'text' || t.constant === undefined || !enumValues.includes(t.constant))
      return badDefault(`one of ${enumValues.map((v) => `'${v}'`).join(' | ')}`);
    return {
      spec: { name, type: 'enum', values: enumValues, default: t.constant, ...doc },
      type: { sort: 'text', values: enumValues },
      eval: (env) => env.ctx.str(name),
    };
  }
  if ('enumValues' in type) return null;
  const { tensor, optional } = type;
  const kind = ELEMENT_KINDS[tensor.element.image];
  if (!kind) {
    const known = [...Object.keys(ELEMENT_KINDS), ...aliases.keys()];
    report.error(
      `unknown option type '${tensor.element.image}' (expected float, int, bool, a type declared with 'type', or a tensor such as f32[C]?)`,
      tokenLoc(tensor.element),
      didYouMean(tensor.element.image, known),
    );
    return null;
  }
  if (tensor.dims !== null || optional || tensor.like) {
    if (!optional || tensor.dims === null || kind !== 'float') {
      report.error(
        `a tensor option is an optional float tensor with a shape: write '${name}: f32[${tensor.dims?.join(', ') || '*'}]? = none'`,
        tokenLoc(tensor.element),
      );
      return null;
    }
    if (t.sort !== 'none') return badDefault('none');
    // a fixed rank is the input's rank (checked when bound); the dims check says more only for sizes
    const rank = tensor.dims.includes('*') ? undefined : tensor.dims.length;
    const check: InputCheck | undefined = needsDimsCheck(tensor.dims) ? { kind: 'dims', input: name, dims: tensor.dims } : undefined;
    return {
      spec: { name, type: 'tensor', default: null, ...(rank !== undefined ? { rank } : {}), ...doc },
      type: { sort: 'optional', dims: staticDims(tensor.dims) },
      eval: (env) => env.ctx.tensor(name),
      ...(check ? { check } : {}),
    };
  }
  if (kind === 'bool') {
    if (t.sort !== 'flag' || t.constant === undefined) return badDefault('true or false');
    return { spec: { name, type: 'bool', default: t.constant, ...doc }, type: { sort: 'flag' }, eval: (env) => env.ctx.flag(name) };
  }
  const isNumber = (v: Lowered): v is Lowered & { type: { sort: 'tensor'; constant: number } } =>
    v.type.sort === 'tensor' && v.type.constant !== undefined && (kind !== 'int' || Number.isInteger(v.type.constant));
  if (!isNumber(dflt)) return badDefault(kind === 'int' ? 'a whole number' : 'a number');
  const cases: number[] = [];
  for (const c of extras.cases?.values ?? []) {
    if (c.type.sort === 'error') return null;
    if (!isNumber(c)) {
      report.error(`a case of option '${name}' must be ${kind === 'int' ? 'a whole number' : 'a number'}, but this is ${describeType(c.type)}`, c.at);
      return null;
    }
    if (cases.includes(c.type.constant)) {
      report.error(`${c.type.constant} is listed twice in the cases of option '${name}'`, c.at);
      return null;
    }
    cases.push(c.type.constant);
  }
  return {
    spec: { name, type: 'number', default: dflt.type.constant, ...(extras.cases ? { cases } : {}), ...(kind === 'int' ? { integer: true } : {}), ...doc },
    type: { ...scalarFloat(), ...(extras.cases ? { cases: { option: name, values: cases } } : {}) },
    eval: (env) => env.ctx.num(name),
  };
}

/**
 * A tensor option's dims check adds nothing to its rank when each size is '_' or a name no other
 * declaration of the loss uses (`weight: f32[C]?` beside `input: f32[*]`): such checks are dropped.
 */
export function redundantOptionCheck(
  check: InputCheck,
  rankOf: ReadonlyMap<string, number>,
  sizeNamesElsewhere: (input: string) => ReadonlySet<string>,
): boolean {
  if (check.kind !== 'dims' || !rankOf.has(check.input)) return false;
  const elsewhere = sizeNamesElsewhere(check.input);
  return check.dims.every((d) => d === '_' || (typeof d === 'string' && d !== '*' && !elsewhere.has(d)));
}
