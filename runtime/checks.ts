// Data-dependent argument checks, run before any kernel (torch raises these from Python).
import type { InputCheck, OptionSpec } from '../compiler/loss.js';
import { shapeStr } from './tensor.js';
import { sameDims } from '../compiler/abi/strides.js';

export interface Arg {
  data: ArrayLike<number>;
  shape: readonly number[];
}

export interface CheckOutcome {
  /** the call was unbatched and its inputs were given a batch axis: drop it from a 'none' result */
  readonly unbatched: boolean;
}

/**
 * Apply the checks in order; may replace an argument's shape (a view: the data is shared).
 * `options` are the loss's option values (class-index checks read ignore_index there).
 */
export function applyChecks(
  loss: string,
  checks: readonly InputCheck[],
  args: Map<string, Arg>,
  options: Readonly<Record<string, unknown>> = {},
): CheckOutcome {
  const fail = (msg: string): never => {
    throw new Error(`${loss}: ${msg}`);
  };
  let unbatched = false;
  const namedSizes: NamedSizes = new Map(); // 'dims' checks: the first input that fixed each named size
  for (const c of checks) {
    if (c.kind === 'batchIfUnbatched') {
      if (args.get(c.of)?.shape.length === c.rank) {
        unbatched = true;
        for (const entry of c.inputs) {
          const { name, axis } = typeof entry === 'string' ? { name: entry, axis: 0 } : entry;
          const t = args.get(name);
          if (t) args.set(name, { data: t.data, shape: [...t.shape.slice(0, axis), 1, ...t.shape.slice(axis)] });
        }
      }
      continue;
    }
    if (c.kind === 'ctc') {
      checkCtc(c, args, options, fail);
      continue;
    }
    if (c.kind === 'classIndex') {
      checkClassIndex(c, args, options, fail);
      continue;
    }
    if (c.kind === 'optionRange') continue; // checked once, when the loss is constructed (checkOptionRanges)
    if (c.kind === 'classWeight') {
      const w = args.get(c.input);
      const x = args.get(c.of);
      if (!w || !x) continue;
      const axis = c.axis < 0 ? c.axis + x.shape.length : c.axis;
      const classes = x.shape[axis];
      if (w.shape.length !== 1 || w.shape[0] !== classes) fail(c.message.replace('{classes}', String(classes ?? 0)).replace('{shape}', shapeStr(w.shape)));
      continue;
    }
    if (c.kind === 'broadcastsTo') {
      const w = args.get(c.input);
      const like = args.get(c.like);
      if (!w || !like) continue;
      const b = broadcastShapes(w.shape, like.shape);
      if (typeof b === 'string') fail(`${b} (${c.input} has shape ${shapeStr(w.shape)}, ${c.like} has shape ${shapeStr(like.shape)})`);
      else if (!sameDims(b, like.shape))
        fail(c.message.replace('{input}', shapeStr(w.shape)).replace('{like}', shapeStr(like.shape)).replace('{broadcast}', shapeStr(b)));
      continue;
    }
    const a = args.get(c.input);
    if (!a) continue;
    switch (c.kind) {
      case 'nonNegative':
        for (let i = 0; i < a.data.length; i++) if (a.data[i]! < 0) fail(`${c.message} (${c.input}[${i}] = ${a.data[i]})`);
        break;
      case 'range':
        for (let i = 0; i < a.data.length; i++) {
          const v = a.data[i]!;
          if (!(v >= c.min && v <= c.max)) fail(`${c.message} (${c.input}[${i}] = ${v})`);
        }
        break;
      case 'sameShape': {
        const like = args.get(c.like)!;
        if (!sameDims(a.shape, like.shape)) fail(c.message.replace(`{${c.input}}`, shapeStr(a.shape)).replace(`{${c.like}}`, shapeStr(like.shape)));
        break;
      }
      case 'dims':
        checkDims(c.input, a.shape, c.dims, namedSizes, fail);
        break;
      case 'unsqueezeLastIfMissing': {
        const like = args.get(c.like)!;
        if (sameDims(a.shape, like.shape)) break;
        if (sameDims(a.shape, like.shape.slice(0, -1))) args.set(c.input, { data: a.data, shape: [...a.shape, 1] });
        else if (a.shape.length === like.shape.length && sameDims(a.shape.slice(0, -1), like.shape.slice(0, -1)) && a.shape[a.shape.length - 1] === 1) break;
        else fail(`${c.message}: ${c.input} has shape ${shapeStr(a.shape)}, ${c.like} has shape ${shapeStr(like.shape)}`);
        break;
      }
    }
  }
  return { unbatched };
}

/** The broadcast of two shapes, or torch's message saying why they do not broadcast. */
function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | string {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return `The size of tensor a (${x}) must match the size of tensor b (${y}) at non-singleton dimension ${i}`;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/**
 * The option checks that need no tensor: every number is a number (NaN is not), an integer
 * option holds an integer, and each `optionRange` check holds. Run when a loss is constructed.
 */
export function checkOptionValues(loss: string, specs: readonly OptionSpec[], checks: readonly InputCheck[], values: Readonly<Record<string, unknown>>): void {
  for (const o of specs) {
    if (o.type !== 'number') continue;
    const v = values[o.name] as number;
    if (Number.isNaN(v)) throw new RangeError(`${loss}: option '${o.name}' must be a number, got NaN`);
    if (o.integer && !Number.isInteger(v)) throw new TypeError(`${loss}: option '${o.name}' must be an integer, got ${v}`);
  }
  for (const c of checks) {
    if (c.kind !== 'optionRange') continue;
    const v = values[c.option] as number;
    const low = c.min === undefined || (c.minExclusive ? v > c.min : v >= c.min);
    const high = c.max === undefined || v <= c.max;
    if (!low || !high) throw new RangeError(`${loss}: ${c.message.replace('{value}', String(v))} (option '${c.option}' = ${v})`);
  }
}

/** torch's nll_loss checks: the target's shape, then each index (unless ignored) within the class axis. */
function checkClassIndex(
  c: Extract<InputCheck, { kind: 'classIndex' }>,
  args: Map<string, Arg>,
  options: Readonly<Record<string, unknown>>,
  fail: (msg: string) => never,
): void {
  const t = args.get(c.input);
  const x = args.get(c.of);
  if (!t || !x) return;
  const axis = c.axis < 0 ? c.axis + x.shape.length : c.axis;
  const expected = c.sameShape ? [...x.shape] : x.shape.filter((_, i) => i !== axis);
  if (axis < 0 || axis >= x.shape.length) fail(`expected ${c.of} to have a class dimension ${c.axis}, got shape ${shapeStr(x.shape)}`);
  if (!sameDims(t.shape, expected))
    fail(`Expected ${c.input} of shape ${shapeStr(expected)} for ${c.of} of shape ${shapeStr(x.shape)}, got ${shapeStr(t.shape)}`);
  const classes = x.shape[axis]!;
  const ignore = c.ignore === undefined ? undefined : options[c.ignore];
  const min = c.min ?? 0;
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i]!;
    if (v === ignore) continue;
    if (v < min || v >= classes) fail(`Target ${v} is out of bounds (${c.input}[${i}]; ${classes} classes).`);
  }
}

type NamedSizes = Map<string, { readonly size: number; readonly input: string; readonly shape: readonly number[] }>;

/**
 * A declared shape such as [N, C] (the DSL's f32[N, C]): the rank, fixed sizes, and named sizes
 * consistent across inputs; '*' matches any number of axes, and '_' any one size.
 */
function checkDims(input: string, shape: readonly number[], dims: readonly (string | number | '*')[], named: NamedSizes, fail: (msg: string) => never): void {
  const star = dims.indexOf('*');
  const fixed = star < 0 ? dims.length : dims.length - 1;
  const declared = `[${dims.join(', ')}]`;
  if (star < 0 ? shape.length !== fixed : shape.length < fixed) {
    fail(`Expected ${input} to have ${star < 0 ? '' : 'at least '}${fixed} dimension${fixed === 1 ? '' : 's'} ${declared}, got shape ${shapeStr(shape)}`);
  }
  dims.forEach((want, k) => {
    if (want === '*' || want === '_') return;
    const axis = star >= 0 && k > star ? shape.length - (dims.length - k) : k;
    const size = shape[axis]!;
    if (typeof want === 'number') {
      if (size !== want) fail(`Expected dimension ${axis} of ${input} to be ${want} ${declared}, got shape ${shapeStr(shape)}`);
      return;
    }
    const first = named.get(want);
    if (!first) named.set(want, { size, input, shape });
    else if (first.size !== size) {
      fail(
        `Expected ${input} size ${want} (${size}) to match ${first.input} size ${want} (${first.size}) (${input} has shape ${shapeStr(shape)}, ${first.input} has shape ${shapeStr(first.shape)})`,
      );
    }
  });
}

/** torch's ctc_loss argument checks, and concatenated targets made padded. */
function checkCtc(
  c: Extract<InputCheck, { kind: 'ctc' }>,
  args: Map<string, Arg>,
  options: Readonly<Record<string, unknown>>,
  fail: (msg: string) => never,
): void {
  const lp = args.get(c.logProbs)!;
  const il = args.get(c.inputLengths)!;
  const tl = args.get(c.targetLengths)!;
  const tg = args.get(c.targets)!;
  if (lp.shape.length !== 3) fail(`${c.logProbs} must be (T, N, C) or (T, C), got shape ${shapeStr(lp.shape)}`);
  const [T, N, C] = lp.shape as [number, number, number];
  for (const [name, a] of [
    [c.inputLengths, il],
    [c.targetLengths, tl],
  ] as const)
    if (a.shape.length !== 1 || a.shape[0] !== N) fail(`${name} must have shape [${N}] (one length per batch entry), got ${shapeStr(a.shape)}`);
  for (let n = 0; n < N; n++) {
    if (il.data[n]! > T || il.data[n]! < 0)
      fail(`Expected input_lengths to have value at most ${T}, but got value ${il.data[n]} (while checking arguments for ctc_loss)`);
    if (tl.data[n]! < 0) fail(`target_lengths must be non-negative, got ${tl.data[n]}`);
  }
  let padded: Arg = tg;
  if (tg.shape.length === 1) {
    // concatenated: sample n's labels follow sample n - 1's
    let total = 0;
    let longest = 0;
    for (let n = 0; n < N; n++) {
      total += tl.data[n]!;
      longest = Math.max(longest, tl.data[n]!);
    }
    if (total > tg.shape[0]!) fail(`target_lengths add up to ${total} but ${c.targets} has ${tg.shape[0]} labels`);
    const data = new Int32Array(N * longest);
    for (let n = 0, at = 0; n < N; at += tl.data[n]!, n++) for (let j = 0; j < tl.data[n]!; j++) data[n * longest + j] = tg.data[at + j]!;
    padded = { data, shape: [N, longest] };
    args.set(c.targets, padded);
  } else if (tg.shape.length !== 2 || tg.shape[0] !== N) fail(`${c.targets} must be (N, S) padded or 1-D concatenated, got shape ${shapeStr(tg.shape)}`);
  const S = padded.shape[1]!;
  const blank = options['blank'];
  if (typeof blank === 'number' && !(blank >= 0 && blank < C)) fail(`blank must be in label range (blank = ${blank}, ${C} classes)`);
  for (let n = 0; n < N; n++) {
    if (tl.data[n]! > S)
      fail(
        `Expected tensor to have size at least ${tl.data[n]} at dimension 1, but got size ${S} for argument #2 'targets' (while checking arguments for ctc_loss)`,
      );
    for (let j = 0; j < tl.data[n]!; j++) {
      const v = padded.data[n * S + j]!;
      if (v < 0 || v >= C) fail(`target ${v} (targets[${n}, ${j}]) is out of range for ${C} classes`);
      if (v === blank) fail(`target ${v} (targets[${n}, ${j}]) is the blank label`);
    }
  }
}
