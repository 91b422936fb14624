// Hostile calls of the library: every bad tensor, option and name is an Error naming it (torch's
// message where torch has one), never a silent NaN, a truncated read or code run from a name.
import { describe, it, expect } from 'vitest';
import { nn, tensor, compile, defineLoss, builtinLosses, mean, mul, sub, sum, type Node, type Tensor } from 'lossc';
import { identifier } from '../../compiler/emit/names.js';
import { MAX_ELEMENTS } from '../../runtime/validate.js';

const f32 = (data: number[], shape: number[]): Tensor => tensor(data, shape, 'float32');
const f64 = (data: number[], shape: number[]): Tensor => tensor(data, shape, 'float64');
const i32 = (data: number[], shape: number[]): Tensor => tensor(data, shape, 'int32');
/** a tensor-shaped object that did not come from tensor() */
const raw = (data: unknown, shape: unknown, dtype: unknown = 'float32'): Tensor => ({ data, shape, dtype }) as unknown as Tensor;

const x3 = f32([1, 2, 3], [3]);
const y3 = f32([1, 1, 1], [3]);

describe('tensors at the API boundary', () => {
  it('tensor(): data length against the shape, sizes that are not non-negative integers', () => {
    expect(() => tensor([1, 2], [3])).toThrow('tensor(): shape [3] has 3 elements but 2 values were given');
    expect(() => tensor([1, 2, 3, 4], [3])).toThrow('has 3 elements but 4 values were given');
    expect(() => tensor([1], [1.5])).toThrow('tensor(): invalid shape [1.5]: sizes must be non-negative integers (dimension 0 is 1.5)');
    expect(() => tensor([1, 2, 3], ['3' as unknown as number])).toThrow("tensor(): shape ['3'] has a size that is not a number (dimension 0 is '3')");
    expect(() => tensor([], [-1])).toThrow('sizes must be non-negative integers');
    expect(() => tensor(null as unknown as number[], [3])).toThrow('tensor(): data must be an array or a typed array of numbers, got null');
    expect(() => tensor([1, 2, 3], null as unknown as number[])).toThrow('tensor(): shape must be an array of sizes, got null');
    expect(() => tensor(['a', 2] as unknown as number[], [2])).toThrow('tensor(): data[0] is not a number (string)');
    expect(() => tensor([1], [1], 'toString' as 'float32')).toThrow("tensor(): unknown dtype 'toString'");
  });

  it('sizes beyond what a typed array can hold fail before any allocation', () => {
    expect(() => tensor([], [2 ** 30, 2])).toThrow(
      `tensor(): shape [1073741824, 2] has 2147483648 elements, more than lossc supports in one tensor (${MAX_ELEMENTS})`,
    );
    expect(() => tensor([], [2 ** 31])).toThrow(`tensor(): shape [2147483648]: dimension 0 is larger than lossc supports (${MAX_ELEMENTS})`);
    expect(() => tensor([], [65536, 65536])).toThrow('more than lossc supports');
    expect(() => tensor([], [2 ** 40, 0])).toThrow('dimension 0 is larger than lossc supports');
  });

  it('a loss call checks every argument the same way (not only ones made by tensor())', () => {
    const mse = new nn.MSELoss();
    expect(() => mse.forward(raw(new Float32Array(2), [3]), y3)).toThrow(
      "MSELoss.forward(input, target): argument 'input': shape [3] has 3 elements but its data has 2",
    );
    expect(() => mse.forward(raw(new Float32Array(4), [3]), y3)).toThrow('has 3 elements but its data has 4');
    expect(() => mse.forward(raw(new Float32Array(3), ['3']), y3)).toThrow("argument 'input': shape ['3'] has a size that is not a number");
    expect(() => mse.forward(raw(new Float32Array(0), [1.5]), y3)).toThrow("argument 'input': invalid shape [1.5]");
    expect(() => mse.forward(raw(new Float64Array(3), [3]), y3)).toThrow(
      "argument 'input': data is a Float64Array but dtype is float32 (expected a Float32Array)",
    );
    expect(() => mse.forward(raw([1, 2, 3], [3]), y3)).toThrow("argument 'input': data must be a Float32Array for dtype float32, got [1, 2, 3]");
    expect(() => mse.forward(raw(new Float32Array(3), [3], 'half'), y3)).toThrow("argument 'input' has an unknown dtype 'half'");
    expect(() => mse.forward(x3, null as unknown as Tensor)).toThrow("argument 'target' must be a tensor ({ data, shape, dtype }), got null");
  });

  it('vjp checks gradOutput: null, missing or malformed', () => {
    const mse = new nn.MSELoss({ reduction: 'none' });
    expect(() => mse.vjp([x3, y3], null as unknown as Tensor)).toThrow('MSELoss.vjp: gradOutput must be a tensor ({ data, shape, dtype }), got null');
    expect(() => (mse.vjp as (i: Tensor[]) => unknown)([x3, y3])).toThrow('MSELoss.vjp: gradOutput must be a tensor ({ data, shape, dtype }), got undefined');
    expect(() => mse.vjp([x3, y3], raw(new Float32Array(2), [3]))).toThrow('MSELoss.vjp: gradOutput: shape [3] has 3 elements but its data has 2');
    expect(() => mse.vjp(null as unknown as Tensor[], x3)).toThrow('MSELoss.vjp(inputs, gradOutput): inputs must be an array of tensors');
  });

  it('tensor options go through the same check', () => {
    expect(() => new nn.BCELoss({ weight: raw(new Float32Array(1), [3]) })).toThrow("BCELoss: option 'weight': shape [3] has 3 elements but its data has 1");
  });

  it('a broadcast result too large for a typed array is refused before allocation', () => {
    const a = raw(new Float32Array(65536), [65536, 1]);
    const b = raw(new Float32Array(65536), [1, 65536]);
    expect(() => new nn.MSELoss({ reduction: 'none' }).forward(a, b)).toThrow('MSELoss: the result would have shape [65536, 65536]: 4294967296 elements');
  });
});

describe('options validated as torch validates them', () => {
  const logits = f32([1, 2, 3, 4, 5, 6], [2, 3]);
  const classes = i32([0, 2], [2]);

  it('a per-class weight of the wrong length', () => {
    expect(() => new nn.CrossEntropyLoss({ weight: f32([1, 1], [2]) }).forward(logits, classes)).toThrow(
      'CrossEntropyLoss: weight tensor should be defined either for all 3 classes or no classes but got weight tensor of shape: [2]',
    );
    expect(() => new nn.CrossEntropyLoss({ weight: f32([1, 1, 1, 1], [4]) }).forward(logits, classes)).toThrow(
      'for all 3 classes or no classes but got weight tensor of shape: [4]',
    );
    expect(() => new nn.CrossEntropyLoss({ weight: f32([1, 1, 1, 1], [4]) }).forward(logits, f32([1, 0, 0, 0, 0, 1], [2, 3]))).toThrow(
      'cross_entropy: weight tensor should be defined either for all 3 classes',
    );
    expect(() => new nn.NLLLoss({ weight: f32([1, 1], [2]) }).forward(logits, classes)).toThrow(
      'NLLLoss: weight tensor should be defined either for all 3 classes or no classes but got weight tensor of shape: [2]',
    );
    expect(() => new nn.MultiMarginLoss({ weight: f32([1, 1], [2]) }).forward(logits, classes)).toThrow(
      'MultiMarginLoss: inconsistent weight size, expected 3 but got [2]',
    );
    // the right length still computes: -(log_softmax(x)[0][0] * 1 + log_softmax(x)[1][2] * 3) / 4
    const v = new nn.CrossEntropyLoss({ weight: f64([1, 2, 3], [3]) }).forward(f64([1, 2, 3, 4, 5, 6], [2, 3]), classes).data[0]!;
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    expect(v).toBeCloseTo(((lse - 1) * 1 + (lse - 3) * 3) / 4, 12);
  });

  it("numeric options out of torch's range", () => {
    expect(() => new nn.HuberLoss({ delta: 0 })).toThrow("HuberLoss: huber_loss does not support non-positive values for delta. (option 'delta' = 0)");
    expect(() => new nn.HuberLoss({ delta: -1 })).toThrow('huber_loss does not support non-positive values for delta.');
    expect(() => new nn.SmoothL1Loss({ beta: -1 })).toThrow("SmoothL1Loss: smooth_l1_loss does not support negative values for beta. (option 'beta' = -1)");
    expect(new nn.SmoothL1Loss({ beta: 0 }).forward(x3, y3).data[0]).toBe(1); // beta = 0 is torch's L1
    expect(() => new nn.CrossEntropyLoss({ labelSmoothing: 1.5 })).toThrow('CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0. Got: 1.5');
    expect(() => new nn.CrossEntropyLoss({ labelSmoothing: -0.1 })).toThrow('label_smoothing must be between 0.0 and 1.0. Got: -0.1');
    expect(() => new nn.MultiMarginLoss({ p: 3 })).toThrow('MultiMarginLoss: only p == 1 and p == 2 supported');
  });

  it('integer options hold integers; no numeric option is NaN', () => {
    expect(() => new nn.NLLLoss({ ignoreIndex: 1.5 })).toThrow("NLLLoss: option 'ignoreIndex' must be an integer, got 1.5");
    expect(() => new nn.CTCLoss({ blank: 0.5 })).toThrow("CTCLoss: option 'blank' must be an integer, got 0.5");
    expect(() => new nn.HingeEmbeddingLoss({ margin: NaN })).toThrow("HingeEmbeddingLoss: option 'margin' must be a number, got NaN");
    expect(() => new nn.MarginRankingLoss({ margin: NaN })).toThrow("option 'margin' must be a number, got NaN");
    expect(() => new nn.TripletMarginLoss({ eps: NaN })).toThrow("option 'eps' must be a number, got NaN");
    expect(() => new nn.HingeEmbeddingLoss({ margin: '1' as unknown as number })).toThrow("option 'margin' must be a number, got string");
  });

  it('CTCLoss: blank outside the classes', () => {
    const T = 4,
      C = 3;
    const lp = f32(
      Array.from({ length: T * C }, () => Math.log(1 / C)),
      [T, 1, C],
    );
    const args = [lp, i32([1], [1, 1]), i32([T], [1]), i32([1], [1])];
    expect(() => new nn.CTCLoss({ blank: 3 }).forward(...args)).toThrow('CTCLoss: blank must be in label range (blank = 3, 3 classes)');
    expect(() => new nn.CTCLoss({ blank: -1 }).forward(...args)).toThrow('blank must be in label range');
    expect(Number.isFinite(new nn.CTCLoss({ blank: 2 }).forward(...args).data[0]!)).toBe(true);
  });

  it('BCELoss: a weight that would broadcast the input up is refused, as torch does', () => {
    const p = f32([0.5, 0.5, 0.5], [3]);
    const t = f32([0, 1, 0], [3]);
    expect(() => new nn.BCELoss({ weight: f32([1, 1, 1, 1, 1, 1], [2, 3]) }).forward(p, t)).toThrow(
      "BCELoss: output with shape [3] doesn't match the broadcast shape [2, 3]",
    );
    expect(() => new nn.BCELoss({ weight: f32([1, 1], [2]) }).forward(p, t)).toThrow(
      'The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0',
    );
    // a weight that broadcasts down to the input is fine: [1] and [1, 3] over [3]... [1, 3] grows [3], so only [1] and [3]
    expect(new nn.BCELoss({ weight: f32([2], [1]), reduction: 'sum' }).forward(p, t).data[0]).toBeCloseTo(6 * Math.LN2, 5);
  });

  it('KLDivLoss batchmean on a 0-dim input is the sum (torch divides only when there is a dimension)', () => {
    const v = new nn.KLDivLoss({ reduction: 'batchmean' }).forward(f64([-1], []), f64([0.5], []));
    expect(v.shape).toEqual([]);
    expect(v.data[0]).toBe(0.5 * (Math.log(0.5) + 1));
    const none = new nn.KLDivLoss({ reduction: 'none' }).forward(f64([-1], []), f64([0.5], []));
    expect(none.shape).toEqual([]);
    const [g] = new nn.KLDivLoss({ reduction: 'batchmean' }).valueAndGrad(f64([-1], []), f64([0.5], [])).grads;
    expect(g!.shape).toEqual([]);
    expect(g!.data[0]).toBe(-0.5);
  });

  it('TripletMarginLoss p = Infinity and p = 0 are computed as torch computes them', () => {
    const a = f64([1, 2, 3, 4, 5, 6], [2, 3]);
    const pos = f64([0, 0, 0, 1, 1, 1], [2, 3]);
    const neg = f64([2, 2, 2, 2, 2, 2], [2, 3]);
    // p = inf: max |a - b + eps| per row; row 0: 3 and 1 (+eps) -> 3, row 1: 5 and 4 -> 2; mean 2.5
    const inf = new nn.TripletMarginLoss({ p: Infinity }).valueAndGrad(a, pos, neg);
    expect(inf.value.data[0]).toBeCloseTo(2.5, 12);
    // torch's norm backward at p = inf: sign(v) at the (unique) maximum, / 2 for the mean
    const values = (t: Tensor | null) => Array.from(t!.data, (v) => v + 0); // -0 as 0
    expect(values(inf.grads[1]!)).toEqual([0, 0, -0.5, 0, 0, -0.5]);
    expect(values(inf.grads[2]!)).toEqual([0, 0, 0.5, 0, 0, 0.5]);
    expect(values(inf.grads[0]!)).toEqual([0, 0, 0, 0, 0, 0]);
    // p = 0: the number of nonzero entries (every entry here, eps included), no gradient
    const zero = new nn.TripletMarginLoss({ p: 0 }).valueAndGrad(a, pos, neg);
    expect(zero.value.data[0]).toBe(1);
    for (const g of zero.grads) expect(Array.from(g!.data).every((v) => v === 0)).toBe(true);
    // without eps, zeros are not counted: d(a, a) = 0; d(a, neg) = 2 (row [-1, 0, 1]) and 3; margin 5 -> (3 + 2) / 2
    expect(new nn.TripletMarginLoss({ p: 0, eps: 0, margin: 5 }).forward(a, a, neg).data[0]).toBe(2.5);
  });
});

describe('names that reach generated code', () => {
  it('a loss name that is not an identifier is refused, and no code runs', () => {
    const g = globalThis as { PWNED?: number };
    g.PWNED = 0;
    const build = (p: Parameters<typeof sub>[0], t: Parameters<typeof sub>[1]) => mean(mul(sub(p, t), sub(p, t)));
    for (const name of ['x(){}; globalThis.PWNED=1; function y', 'a\n*/globalThis.PWNED=2;/*', '../../etc/passwd', '', '1abc']) {
      expect(() => compile({ name, inputs: ['p', 't'], build }).forward(x3, y3)).toThrow("a loss's name must be an identifier");
    }
    expect(() => compile({ name: 42 as unknown as string, inputs: ['p', 't'], build })).toThrow("a loss's name must be an identifier");
    expect(g.PWNED).toBe(0);
  });

  it('input names are identifiers, each used once', () => {
    expect(() => compile({ name: 'D', inputs: ['a', 'a'], build: (a: Node) => a })).toThrow("D: the name 'a' is used twice (input names must be distinct)");
    expect(() => compile({ name: 'D', inputs: ['a', 'b c'], build: (a: Node) => a })).toThrow('D: input names must be identifiers');
    expect(() => compile(defineLoss({ name: 'D', inputs: ['a}', 'b'], build: (a: Node) => a }))).toThrow('input names must be identifiers');
  });

  it('the emitters spell any name as an identifier', () => {
    expect(identifier('x(){}; globalThis.PWNED=1')).toBe('x______globalThis_PWNED_1');
    expect(identifier('9lives')).toBe('_9lives');
    expect(identifier('')).toBe('_');
  });
});

describe('function options (TripletMarginWithDistanceLoss distanceFunction)', () => {
  const a = f64([1, 2, 3, 4], [2, 2]);
  it("an error inside the user's function is the user's, not blamed on the stdlib's source", () => {
    const failing = new nn.TripletMarginWithDistanceLoss({
      distanceFunction: () => {
        throw new TypeError('my bug');
      },
    });
    let caught: unknown;
    try {
      failing.forward(a, a, a);
    } catch (e) {
      caught = e;
    }
    expect((caught as Error).message).toBe('the distanceFunction option threw: my bug');
    expect((caught as Error).message).not.toMatch(/embedding\.loss/);
    expect(((caught as Error).cause as Error).message).toBe('my bug');
    expect(() => new nn.TripletMarginWithDistanceLoss({ distanceFunction: () => 3 as unknown as Node }).forward(a, a, a)).toThrow(
      'the distanceFunction option must return a lossc tensor computed from its arguments (a builder node), got number',
    );
  });

  it('the kernels compiled for a closure are freed with it (no cache entry per closure)', async () => {
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { compiled } = await import('../../runtime/nn.js');
    const def = builtinLosses.find((d) => d.name === 'TripletMarginWithDistanceLoss')!;
    const use = (): WeakRef<object> => {
      const loss = new nn.TripletMarginWithDistanceLoss({ distanceFunction: (x: Node, y: Node) => sum(mul(x, y), [-1]) });
      loss.forward(a, a, a);
      return new WeakRef(compiled(def, loss.options, 'forward'));
    };
    const refs = [use(), use(), use()];
    for (let i = 0; i < 10 && refs.some((r) => r.deref()); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      gc();
    }
    expect(refs.filter((r) => r.deref() !== undefined)).toHaveLength(0);
  });
});

describe('standalone modules run the same boundary checks', () => {
  it('a compiled module: bad tensors and options get the library messages', async () => {
    const { emitModule } = await import('../../cli/module.js');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { pathToFileURL } = await import('node:url');
    const def = builtinLosses.find((d) => d.name === 'HuberLoss')!;
    const dir = mkdtempSync(join(tmpdir(), 'lossc-hostile-'));
    const { files } = await emitModule(def, { formats: ['mjs'] });
    for (const f of files) writeFileSync(join(dir, f.name), f.text);
    const { create } = (await import(pathToFileURL(join(dir, 'HuberLoss.mjs')).href)) as {
      create: (o?: Record<string, unknown>) => { forward(...t: Tensor[]): Tensor; vjp(i: Tensor[], g: Tensor): (Tensor | null)[] };
    };
    rmSync(dir, { recursive: true });
    expect(() => create({ delta: 0 })).toThrow('HuberLoss: huber_loss does not support non-positive values for delta.');
    const huber = create({});
    expect(() => huber.forward(raw(new Float32Array(2), [3]), y3)).toThrow(
      "HuberLoss.forward(input, target): argument 'input': shape [3] has 3 elements but its data has 2",
    );
    expect(() => huber.vjp([x3, y3], null as unknown as Tensor)).toThrow('HuberLoss.vjp: gradOutput must be a tensor');
    expect(huber.forward(x3, y3).data[0]).toBeCloseTo((0 + 0.5 + 1.5) / 3, 6);
  });
});
