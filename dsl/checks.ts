// `check kind(arguments), "message"`: the run-time argument checks (InputCheck in
// compiler/loss.ts) a loss states, torch's data-dependent errors. One line per kind: its
// parameters (by position, or by name for the optional ones) and the InputCheck it makes.
import type { InputCheck } from '../compiler/loss.js';
import type { Arg } from './calls.js';
import { didYouMean, type Loc, type Lowered, type Reporter } from './lower.js';
import { describeType } from './types.js';

/** An argument of a check: the name of an input (or tensor option), a number, an option's name, a bool. */
export type CheckParamSort = 'tensor' | 'number' | 'option' | 'flag';

export interface CheckParam {
  readonly name: string;
  readonly sort: CheckParamSort;
  readonly optional?: boolean;
}

/** What a check's arguments became: by parameter name; `inputs` for batchIfUnbatched's rest. */
export interface CheckArgs {
  readonly values: Readonly<Record<string, string | number | boolean>>;
  /** the rest of the arguments: input names, or (name, axis) pairs */
  readonly rest: readonly (string | { readonly name: string; readonly axis: number })[];
}

export interface CheckKind {
  readonly params: readonly CheckParam[];
  /** the rest of the arguments are inputs, each a name or (name, axis) */
  readonly restInputs?: boolean;
  /** whether `, "message"` follows: the text of the error torch raises */
  readonly message: boolean;
  make(args: CheckArgs, message: string): InputCheck;
}

const t = (name: string): CheckParam => ({ name, sort: 'tensor' });
const n = (name: string, optional = false): CheckParam => ({ name, sort: 'number', optional });
const str = (v: unknown): string => String(v);

export const CHECKS: Readonly<Record<string, CheckKind>> = {
  nonNegative: { params: [t('input')], message: true, make: ({ values: v }, message) => ({ kind: 'nonNegative', input: str(v.input), message }) },
  range: {
    params: [t('input'), n('min'), n('max')],
    message: true,
    make: ({ values: v }, message) => ({ kind: 'range', input: str(v.input), min: Number(v.min), max: Number(v.max), message }),
  },
  sameShape: {
    params: [t('input'), t('like')],
    message: true,
    make: ({ values: v }, message) => ({ kind: 'sameShape', input: str(v.input), like: str(v.like), message }),
  },
  unsqueezeLastIfMissing: {
    params: [t('input'), t('like')],
    message: true,
    make: ({ values: v }, message) => ({ kind: 'unsqueezeLastIfMissing', input: str(v.input), like: str(v.like), message }),
  },
  /** batchIfUnbatched(log_probs, 2, (log_probs, 1), targets): when `of` has rank 2, each input gets a batch axis (at 0, or the given one) */
  batchIfUnbatched: {
    params: [t('of'), n('rank')],
    restInputs: true,
    message: false,
    make: ({ values: v, rest }) => ({ kind: 'batchIfUnbatched', of: str(v.of), rank: Number(v.rank), inputs: rest }),
  },
  /** classIndex(target, input, 1, ignore=ignoreIndex, min=-1, sameShape=true): class indices along an axis of `of` */
  classIndex: {
    params: [
      t('input'),
      t('of'),
      n('axis'),
      { name: 'ignore', sort: 'option', optional: true },
      n('min', true),
      { name: 'sameShape', sort: 'flag', optional: true },
    ],
    message: false,
    make: ({ values: v }) => ({
      kind: 'classIndex',
      input: str(v.input),
      of: str(v.of),
      axis: Number(v.axis),
      ...(v.ignore !== undefined ? { ignore: str(v.ignore) } : {}),
      ...(v.min !== undefined ? { min: Number(v.min) } : {}),
      ...(v.sameShape !== undefined ? { sameShape: Boolean(v.sameShape) } : {}),
    }),
  },
  /** optionRange(delta, min=0, minExclusive=true): a numeric option's range, checked when the loss is constructed */
  optionRange: {
    params: [{ name: 'option', sort: 'option' }, n('min', true), n('max', true), { name: 'minExclusive', sort: 'flag', optional: true }],
    message: true,
    make: ({ values: v }, message) => ({
      kind: 'optionRange',
      option: str(v.option),
      message,
      ...(v.min !== undefined ? { min: Number(v.min) } : {}),
      ...(v.max !== undefined ? { max: Number(v.max) } : {}),
      ...(v.minExclusive !== undefined ? { minExclusive: Boolean(v.minExclusive) } : {}),
    }),
  },
  /** classWeight(weight, input, 1): a per-class tensor option has one entry per class of `of` along `axis` */
  classWeight: {
    params: [t('input'), t('of'), n('axis')],
    message: true,
    make: ({ values: v }, message) => ({ kind: 'classWeight', input: str(v.input), of: str(v.of), axis: Number(v.axis), message }),
  },
  /** broadcastsTo(weight, input): `input` broadcasts against `like` without growing it */
  broadcastsTo: {
    params: [t('input'), t('like')],
    message: true,
    make: ({ values: v }, message) => ({ kind: 'broadcastsTo', input: str(v.input), like: str(v.like), message }),
  },
  /** ctc(log_probs, targets, input_lengths, target_lengths): torch's ctc_loss checks; concatenated targets become padded */
  ctc: {
    params: [t('logProbs'), t('targets'), t('inputLengths'), t('targetLengths')],
    message: false,
    make: ({ values: v }) => ({
      kind: 'ctc',
      logProbs: str(v.logProbs),
      targets: str(v.targets),
      inputLengths: str(v.inputLengths),
      targetLengths: str(v.targetLengths),
    }),
  },
};

// ------------------------------------------------------------------ binding a check's arguments

/**
 * A check's arguments: required ones by position, optional ones by position or name, then (for
 * batchIfUnbatched) the inputs. Names of inputs, tensor options and options are read off the
 * arguments' bindings; numbers and bools must be constants. Null after a diagnostic.
 */
export function bindCheck(name: string, kind: CheckKind, args: readonly Arg[], at: Loc, r: Reporter): CheckArgs | null {
  const signature = [...kind.params.map((p) => (p.optional ? `${p.name}=` : p.name)), ...(kind.restInputs ? ['inputs...'] : [])].join(', ');
  const required = kind.params.filter((p) => !p.optional).length;
  const firstKeyword = args.findIndex((a) => a.keyword);
  const positional = firstKeyword < 0 ? args : args.slice(0, firstKeyword);
  const tooMany = !kind.restInputs && positional.length > kind.params.length;
  if (positional.length < required || tooMany || args.slice(positional.length).some((a) => !a.keyword)) {
    r.error(`check ${name} takes ${required} argument${required === 1 ? '' : 's'} by position (${signature}), got ${positional.length}`, at);
    return null;
  }
  const values: Record<string, string | number | boolean> = {};
  const rest: CheckArgs['rest'][number][] = [];
  let ok = true;
  const fail = (message: string, v: Lowered, notes: ReturnType<typeof didYouMean> = []): void => {
    r.error(message, v.at, notes);
    ok = false;
  };
  const take = (p: CheckParam, v: Lowered): void => {
    if (v.type.sort === 'error') return void (ok = false);
    const b = v.binding;
    if (p.sort === 'tensor' && b && (b.what === 'input' || b.type.sort === 'optional')) values[p.name] = b.name;
    else if (p.sort === 'option' && b?.what === 'option') values[p.name] = b.name;
    else if (p.sort === 'number' && v.type.sort === 'tensor' && v.type.constant !== undefined) values[p.name] = v.type.constant;
    else if (p.sort === 'flag' && v.type.sort === 'flag' && v.type.constant !== undefined) values[p.name] = v.type.constant;
    else fail(`'${p.name}' of check ${name} must be ${EXPECTED[p.sort]}, but ${r.source.quote(v.at)} is not`, v);
  };
  positional.forEach((a, i) => {
    const p = kind.params[i];
    if (p) return take(p, a.value);
    // batchIfUnbatched's inputs: a name, or (name, axis) for an input whose batch axis is not the first
    const v = a.value;
    const [first, second] = v.items ?? [v];
    const input = first?.binding?.what === 'input' ? first.binding.name : undefined;
    const axis = second?.type.sort === 'tensor' ? second.type.constant : undefined;
    if (v.type.sort === 'error') ok = false;
    else if (input && !v.items) rest.push(input);
    else if (input && v.items?.length === 2 && axis !== undefined && Number.isInteger(axis)) rest.push({ name: input, axis });
    else fail(`each input of check ${name} is the name of an input or a pair (name, axis), but ${r.source.quote(v.at)} is ${describeType(v.type)}`, v);
  });
  for (const a of args.slice(positional.length)) {
    const keyword = a.keyword!;
    const p = kind.params.find((q) => q.name === keyword.name);
    if (!p)
      fail(
        `check ${name} has no parameter '${keyword.name}' (${signature})`,
        { ...a.value, at: keyword.at },
        didYouMean(
          keyword.name,
          kind.params.map((q) => q.name),
        ),
      );
    else if (values[p.name] !== undefined) fail(`check ${name} got two values for '${p.name}'`, { ...a.value, at: keyword.at });
    else take(p, a.value);
  }
  return ok ? { values, rest } : null;
}

const EXPECTED: Readonly<Record<CheckParamSort, string>> = {
  tensor: 'the name of an input or tensor option',
  number: 'a number',
  option: 'the name of an option',
  flag: 'true or false',
};
