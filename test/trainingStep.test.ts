// The training-step options on every built-in loss, over every golden case's inputs: `wrt`
// subsets give the full call's gradients (bit for bit) and null elsewhere; `out` is written in
// place and returned as the same object whatever it held before; `accumulate` adds into it
// exactly (twice from zero = twice the gradient; onto a prior p: p + g rounded as torch rounds).
import { describe, it, expect } from 'vitest';
import { nn, tensor, type Tensor } from 'lossc';
import { loadCases, toOptions, toTensor, type RefCase } from './golden/reference.js';

const LOSSES = Object.keys(nn) as (keyof typeof nn)[];

const like = (t: Tensor, fill: number): Tensor => tensor(new (t.dtype === 'float64' ? Float64Array : Float32Array)(t.data.length).fill(fill), t.shape, t.dtype);

/** Bitwise equality of two tensors' data (NaN equal to NaN, -0 apart from 0), as a list of differences. */
function bitDiff(a: Tensor | null, b: Tensor | null, what: string): string[] {
  if (a === null || b === null) return a === b ? [] : [`${what}: ${a === null ? 'null' : 'a tensor'} vs ${b === null ? 'null' : 'a tensor'}`];
  if (a.shape.join(',') !== b.shape.join(',') || a.dtype !== b.dtype) return [`${what}: ${a.dtype}[${a.shape}] vs ${b.dtype}[${b.shape}]`];
  for (let i = 0; i < a.data.length; i++) if (!Object.is(a.data[i], b.data[i])) return [`${what}[${i}]: ${a.data[i]} vs ${b.data[i]}`];
  return [];
}

/** Every non-empty subset of `xs`. */
const subsets = <T>(xs: readonly T[]): T[][] => Array.from({ length: (1 << xs.length) - 1 }, (_, m) => xs.filter((_, i) => ((m + 1) >> i) & 1));

function checkCase(c: RefCase): string[] {
  const Loss = nn[c.loss as keyof typeof nn];
  const fn = new Loss(toOptions(c.options));
  const inputs = c.inputs.map(toTensor);
  const names = c.inputs.map((t) => t.name!);
  const g = toTensor(c.grad_output);
  const full = fn.vjp(inputs, g);
  const diff = full.flatMap((t, i) => (t ? [i] : []));
  const problems: string[] = [];

  // wrt: each subset, by name and by position
  for (const s of subsets(diff)) {
    const wrt = s.map((i, k) => (k % 2 ? i : names[i]!));
    const got = fn.vjp(inputs, g, { wrt });
    got.forEach((t, i) => problems.push(...bitDiff(t, s.includes(i) ? full[i]! : null, `wrt [${wrt}]: grad ${names[i]}`)));
  }

  // out: overwritten whatever it held, returned as the same object
  const outs = full.map((t) => (t ? like(t, NaN) : null));
  const got = fn.vjp(inputs, g, { out: { grads: outs } });
  got.forEach((t, i) => {
    if (t !== outs[i]) problems.push(`out: grad ${names[i]} is not the out tensor`);
    problems.push(...bitDiff(t, full[i]!, `out: grad ${names[i]}`));
  });

  // accumulate: twice from zero is twice the gradient, exactly ((0 + g) + g: -0 becomes +0)
  const acc = full.map((t) => (t ? like(t, 0) : null));
  fn.vjp(inputs, g, { out: { grads: acc }, accumulate: true });
  const twice = fn.vjp(inputs, g, { out: { grads: acc }, accumulate: true });
  twice.forEach((t, i) => {
    const f = full[i];
    if (!f) return problems.push(...bitDiff(t, null, `accumulate: grad ${names[i]}`));
    if (t !== acc[i]) problems.push(`accumulate: grad ${names[i]} is not the out tensor`);
    problems.push(...bitDiff(t, { ...f, data: f.data.map((v) => 0 + v + v) as typeof f.data }, `accumulate twice: grad ${names[i]}`));
  });

  // accumulate onto a prior, with wrt: prior + gradient, rounded to the dtype
  const first = diff[0];
  if (first !== undefined) {
    const f = full[first]!;
    const prior = tensor(f.data.map((_, k) => Math.sin(k + 1) / 3) as typeof f.data, f.shape, f.dtype);
    const expected = f.data.map((v, k) => prior.data[k]! + v) as typeof f.data;
    const grads: (Tensor | null)[] = names.map(() => null);
    grads[first] = prior;
    const r = fn.vjp(inputs, g, { wrt: [first], out: { grads }, accumulate: true });
    problems.push(...bitDiff(r[first]!, { ...f, data: expected }, `accumulate onto a prior: grad ${names[first]}`));
    r.forEach((t, i) => i !== first && t !== null && problems.push(`accumulate onto a prior: grad ${names[i]} should be null`));
  }

  // forward into out
  const value = fn.forward(...inputs);
  const outValue = like(value, NaN);
  const fwd = fn.forward(inputs, { out: outValue });
  if (fwd !== outValue) problems.push('forward: not the out tensor');
  problems.push(...bitDiff(fwd, value, 'forward out'));

  // valueAndGrad (scalar losses): wrt and out together
  if (c.options['reduction'] !== 'none' && first !== undefined) {
    const vg = fn.valueAndGrad(...inputs);
    const v = like(value, NaN);
    const gs: (Tensor | null)[] = names.map(() => null);
    gs[first] = like(full[first]!, NaN);
    const r = fn.valueAndGrad(inputs, { wrt: [names[first]!], out: { value: v, grads: gs } });
    if (r.value !== v || r.grads[first] !== gs[first]) problems.push('valueAndGrad: results are not the out tensors');
    problems.push(...bitDiff(r.value, vg.value, 'valueAndGrad value'), ...bitDiff(r.grads[first]!, vg.grads[first]!, 'valueAndGrad grad'));
    r.grads.forEach((t, i) => i !== first && t !== null && problems.push(`valueAndGrad wrt: grad ${names[i]} should be null`));
  }
  return problems;
}

describe('training-step options on every built-in loss', () => {
  for (const loss of LOSSES) {
    it(loss, () => {
      const problems = loadCases(loss).flatMap((c) => checkCase(c).map((p) => `${c.id}: ${p}`));
      expect(problems.slice(0, 10)).toEqual([]);
    });
  }
});

describe('training-step options: errors name the argument', () => {
  const x = tensor(new Float32Array([0.5, -1, 2, 0]), [2, 2]);
  const y = tensor(new Float32Array([1, 0, 0, 1]), [2, 2]);
  const mse = new nn.MSELoss();
  it('an out tensor of the wrong shape or dtype', () => {
    expect(() => mse.valueAndGrad([x, y], { out: { grads: [tensor(new Float32Array(4), [4])] } })).toThrow(
      /MSELoss\.valueAndGrad: out\.grads\[0\] \('input'\) has shape \[4\] but the result has shape \[2, 2\]/,
    );
    expect(() => mse.valueAndGrad([x, y], { out: { grads: [tensor(new Float64Array(4), [2, 2])] } })).toThrow(
      /out\.grads\[0\] \('input'\) has dtype float64 but the result is float32/,
    );
    expect(() => mse.valueAndGrad([x, y], { out: { value: tensor(new Float32Array(1), [1]) } })).toThrow(
      /out\.value has shape \[1\] but the result has shape \[\]/,
    );
    expect(() => mse.forward([x, y], { out: tensor(new Float32Array(4), [2, 2]) })).toThrow(
      /MSELoss\.forward: out has shape \[2, 2\] but the result has shape \[\]/,
    );
    expect(() => mse.valueAndGrad([x, y], { out: { grads: [{ data: new Float32Array(3), shape: [2, 2], dtype: 'float32' }] } })).toThrow(
      /out\.grads\[0\] \('input'\) has shape \[2, 2\] \(4 elements\) but its data holds 3/,
    );
  });
  it('wrt naming no input, or one without a gradient', () => {
    expect(() => mse.valueAndGrad([x, y], { wrt: ['inputs'] })).toThrow(/MSELoss\.valueAndGrad: wrt names no input 'inputs' \(inputs: input, target\)/);
    expect(() => mse.valueAndGrad([x, y], { wrt: [2] })).toThrow(/wrt names no input 2/);
    const ce = new nn.CrossEntropyLoss();
    expect(() => ce.valueAndGrad([x, tensor(new Int32Array([0, 1]), [2])], { wrt: ['target'] })).toThrow(
      /CrossEntropyLoss\.valueAndGrad: cannot differentiate with respect to 'target' \(an integer input\)/,
    );
  });
  it('an out gradient outside wrt, accumulate without out, out sharing memory', () => {
    expect(() => mse.valueAndGrad([x, y], { wrt: ['input'], out: { grads: [null, like(y, 0)] } })).toThrow(
      /out\.grads\[1\] is given for 'target', whose gradient this call does not compute \(not in wrt\)/,
    );
    expect(() => mse.valueAndGrad([x, y], { wrt: ['input'], accumulate: true })).toThrow(
      /accumulate adds into out\.grads, but out\.grads\[0\] \('input'\) is not given/,
    );
    expect(() => mse.valueAndGrad([x, y], { out: { grads: [x] } })).toThrow(/out\.grads\[0\] shares memory with argument 'input'/);
    expect(() => mse.valueAndGrad([x, y], { wrtt: ['input'] } as never)).toThrow(/unknown option 'wrtt' \(options: wrt, out, accumulate\)/);
  });
});

describe('tensor() takes the dtype from a typed array', () => {
  it('Int32Array, Float64Array, Float32Array; plain arrays are float32', () => {
    expect(tensor(new Int32Array([1, 2]), [2]).dtype).toBe('int32');
    expect(tensor(new Float64Array([1, 2]), [2]).dtype).toBe('float64');
    expect(tensor(new Float32Array([1, 2]), [2]).dtype).toBe('float32');
    expect(tensor([1, 2], [2]).dtype).toBe('float32');
    expect(tensor(new Int32Array([1, 2]), [2], 'float64').data).toEqual(new Float64Array([1, 2]));
  });
  it('so int32 class indices reach CrossEntropyLoss as indices', () => {
    const input = tensor(new Float32Array([2, 0, 0, 0, 3, 0]), [2, 3]);
    const byIndex = new nn.CrossEntropyLoss().forward(input, tensor(new Int32Array([0, 1]), [2]));
    const explicit = new nn.CrossEntropyLoss().forward(input, tensor([0, 1], [2], 'int32'));
    expect(byIndex.data[0]).toBe(explicit.data[0]);
  });
});
