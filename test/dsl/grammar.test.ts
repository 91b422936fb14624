// The .loss grammar, construct by construct. Each expression is compared with the builder calls
// it must mean, built in the same graph: node identity is expression identity (hash-consing).
import { describe, it, expect } from 'vitest';
import { instantiate, type LossDef, type OptionValue } from '../../compiler/loss.js';
import type { Graph, Node } from '../../compiler/ir/node.js';
import * as b from '../../compiler/ir/builders.js';
import { parseLossSource } from '../../dsl/index.js';
import { affineShape, reduceShape } from '../../compiler/ir/shape.js';

function read(text: string): LossDef[] {
  const { losses, diagnostics } = parseLossSource(text, 'test.loss');
  expect(diagnostics).toEqual([]);
  return losses;
}

type Inputs = Record<string, Node> & { graph: Graph };

/** `body` as a loss over a, b, c (or `inputs`), built with `options`, against `expected` in the same graph. */
function expectLoss(body: string, expected: (v: Inputs) => Node, options: Record<string, OptionValue> = {}, inputs = 'a: f32, b: f32, c: f32'): void {
  const [def] = read(`loss T(${inputs}) {\n${body}\n}`);
  const all = { ...Object.fromEntries(def!.options.map((o) => [o.name, o.default])), ...options };
  const inst = instantiate(def!, all);
  const v = Object.assign(Object.fromEntries(inst.inputs.map((n) => [n.attrs.name!, n])), { graph: inst.graph }) as Inputs;
  expect(inst.output).toBe(expected(v));
}
const expectExpr = (src: string, expected: (v: Inputs) => Node, inputs?: string): void => expectLoss(`return ${src}`, expected, {}, inputs);

describe('precedence and associativity', () => {
  it('* and / bind tighter than + and -', () => expectExpr('a + b * c', (v) => b.add(v.a!, b.mul(v.b!, v.c!))));
  it('parentheses group', () => expectExpr('(a + b) * c', (v) => b.mul(b.add(v.a!, v.b!), v.c!)));
  it('- and / are left-associative', () => {
    expectExpr('a - b - c', (v) => b.sub(b.sub(v.a!, v.b!), v.c!));
    expectExpr('a / b * c', (v) => b.mul(b.div(v.a!, v.b!), v.c!));
  });
  it('** is right-associative and binds tighter than unary minus, as in Python', () => {
    expectExpr('a ** b ** c', (v) => b.pow(v.a!, b.pow(v.b!, v.c!)));
    expectExpr('-a ** 2', (v) => b.neg(b.pow(v.a!, 2)));
    expectExpr('a ** -b', (v) => b.pow(v.a!, b.neg(v.b!)));
    expectExpr('a ^ b', (v) => b.pow(v.a!, v.b!));
  });
  it('unary minus binds tighter than *', () => {
    expectExpr('-a * b', (v) => b.mul(b.neg(v.a!), v.b!));
    expectExpr('a * -b', (v) => b.mul(v.a!, b.neg(v.b!)));
    expectExpr('- -a', (v) => b.neg(b.neg(v.a!)));
    expectExpr('+a', (v) => v.a!);
  });
  it('comparisons bind looser than arithmetic; not, and, or looser still, in that order', () => {
    expectExpr('where(a + b < c * 2, a, b)', (v) => b.where(b.lt(b.add(v.a!, v.b!), b.mul(v.c!, 2)), v.a!, v.b!));
    expectExpr('where(a > 0 or b > 0 and not c > 0, a, b)', (v) => b.where(b.or(b.gt(v.a!, 0), b.and(b.gt(v.b!, 0), b.not(b.gt(v.c!, 0)))), v.a!, v.b!));
  });
  it('every comparison operator', () => {
    for (const [op, f] of [
      ['<', b.lt],
      ['<=', b.le],
      ['>', b.gt],
      ['>=', b.ge],
      ['==', b.eq],
      ['!=', b.ne],
    ] as const) {
      expectExpr(`where(a ${op} b, a, c)`, (v) => b.where(f(v.a!, v.b!), v.a!, v.c!));
    }
  });
});

describe('numbers', () => {
  it('arithmetic on numbers folds in float64, with Python precedence', () => {
    expectExpr('a * 2 ** 3 ** 2', (v) => b.mul(v.a!, 512));
    expectExpr('a * 2 ** -1', (v) => b.mul(v.a!, 0.5));
    expectExpr('a + 0.5 * log(2 * pi)', (v) => b.add(v.a!, 0.5 * Math.log(2 * Math.PI)));
    expectExpr('a * (1 - 3)', (v) => b.mul(v.a!, -2));
  });
  it('literal forms, and the f suffix that rounds to float32', () => {
    expectExpr('a * .5 + 1e-8 + 2.', (v) => b.add(b.add(b.mul(v.a!, 0.5), 1e-8), 2));
    expectExpr('clampMin(a, 1e-12f)', (v) => b.clampMin(v.a!, Math.fround(1e-12)));
    expectExpr('clampMax(a, inf)', (v) => b.clampMax(v.a!, Infinity));
  });
});

describe('calls', () => {
  it('positional and keyword arguments, axes as an int or a tuple, keepdims', () => {
    expectExpr('sum(a, 1)', (v) => b.sum(v.a!, [1]));
    expectExpr('sum(a, axis=(0, -1), keepdims=true)', (v) => b.sum(v.a!, [0, -1], true));
    expectExpr('mean(a, keepdims=true)', (v) => b.mean(v.a!, undefined, true));
    expectExpr('logsumexp(a, axis=1,)', (v) => b.logsumexp(v.a!, [1]));
    expectExpr('amax(x=a)', (v) => b.amax(v.a!));
  });
  it('composites, indexing and gradient control', () => {
    expectExpr('softplus(a) + logSigmoid(b) + sigmoid(c) + relu(a) + square(b)', (v) =>
      b.add(b.add(b.add(b.add(b.softplus(v.a!), b.logSigmoid(v.b!)), b.sigmoid(v.c!)), b.relu(v.a!)), b.square(v.b!)),
    );
    expectExpr('gather(logSoftmax(x, 1), t, 1)', (v) => b.gather(b.logSoftmax(v.x!, 1), v.t!, 1), 'x: f32[N, C], t: i32[N]');
    expectExpr('withGrad(stopGradient(a) * b, (b, 2), (a, c))', (v) => b.withGrad(b.mul(b.stopGradient(v.a!), v.b!), [v.b!, 2], [v.a!, v.c!]));
    expectExpr('a * float(t) + xlogy(a, b)', (v) => b.add(b.mul(v.a!, b.cast(v.t!, 'float')), b.xlogy(v.a!, v.b!)), 'a: f32, b: f32, t: i32');
  });
  it('a fn is inlined with its arguments; declarations may follow their use', () => {
    const [def] = read('loss T(a: f32, b: f32) {\n  return twice(a) + twice(b)\n}\nfn twice(x) = 2 * x');
    const inst = instantiate(def!, {});
    const [a, bb] = inst.inputs;
    expect(inst.output).toBe(b.add(b.mul(2, a!), b.mul(2, bb!)));
  });
});

describe('statements', () => {
  it('let-bindings, comments, semicolons and lines continued after an operator', () => {
    expectLoss(
      `  # a comment
  let s = a + // another comment
    b; let t = s * (
      c)
  return t`,
      (v) => b.mul(b.add(v.a!, v.b!), v.c!),
    );
  });
  it('an unused let adds nothing to the graph (lets are evaluated on first use)', () => {
    const [def] = read('loss T(a: f32) {\n  option eps: float = 1e-6\n  let unused = a + eps\n  return a * 2\n}');
    expect(instantiate(def!, { eps: 1e-6 }).params).toEqual([]);
  });
  it('a description, options of every sort, checks and nograd inputs become the LossDef', () => {
    const [def] = read(`
type Reduction = 'none' | 'mean' | 'sum'
loss T(input: f64[*], nograd target: float, index: int[N]) {
  "what T computes"
  option reduction: Reduction = 'sum'
  option margin: float = -0.5
  option ignore: int = -100
  option full: bool = true
  option weight: f32[N]? = none
  check range(input, -1, 1), "input in [-1, 1]"
  check nonNegative(target), "target >= 0"
  check sameShape(target, input), "{target} vs {input}"
  check unsqueezeLastIfMissing(weight, input), "weight"
  return input * target * margin
}`);
    expect(def).toMatchObject({
      name: 'T',
      doc: 'what T computes',
      inputs: [
        { name: 'input', kind: 'float' },
        { name: 'target', kind: 'float', differentiable: false },
        { name: 'index', kind: 'int' },
      ],
      options: [
        { name: 'reduction', type: 'enum', values: ['none', 'mean', 'sum'], default: 'sum' },
        { name: 'margin', type: 'number', default: -0.5 },
        { name: 'ignore', type: 'number', default: -100 },
        { name: 'full', type: 'bool', default: true },
        { name: 'weight', type: 'tensor', default: null },
      ],
      checks: [
        { kind: 'dims', input: 'index', dims: ['N'] },
        { kind: 'dims', input: 'weight', dims: ['N'] },
        { kind: 'range', input: 'input', min: -1, max: 1, message: 'input in [-1, 1]' },
        { kind: 'nonNegative', input: 'target', message: 'target >= 0' },
        { kind: 'sameShape', input: 'target', like: 'input', message: '{target} vs {input}' },
        { kind: 'unsqueezeLastIfMissing', input: 'weight', like: 'input', message: 'weight' },
      ],
    });
  });
  it('several losses in one file, strings in either quotes, and `loss` as an ordinary name', () => {
    const losses = read(`loss A(x: f32) { return x }\nloss B(type: f32) {\n  option r: "u" | 'v' = "v"\n  let loss = type * 2\n  return loss\n}`);
    expect(losses.map((d) => d.name)).toEqual(['A', 'B']);
    expect(losses[1]!.options).toEqual([{ name: 'r', type: 'enum', values: ['u', 'v'], default: 'v' }]);
  });
});

describe('if: selection on structural options while the graph is built', () => {
  const body = `  option reduction: 'none' | 'mean' | 'sum' = 'mean'
  option full: bool = false
  option weight: f32[*]? = none
  let x = if full and not (reduction == 'none') { a * 2 } else { a }
  let w = if weight == none { x } else {
    let scaled = x * weight
    scaled + 1
  }
  return if reduction == 'none' { w } else if reduction == 'sum' { sum(w) } else { mean(w) }`;
  it('on an enum, a bool with not/and, and an optional tensor (narrowed to a tensor in its branch)', () => {
    expectLoss(body, (v) => b.mean(v.a!), {});
    expectLoss(body, (v) => b.sum(b.mul(v.a!, 2)), { reduction: 'sum', full: true });
    expectLoss(body, (v) => v.a!, { reduction: 'none', full: true });
    expectLoss(body, (v) => b.sum(b.add(b.mul(v.a!, v.weight!), 1)), { reduction: 'sum', weight: { shape: [3] } });
  });
  it('keepdims from a bool option', () => {
    expectLoss('  option keep: bool = false\n  return sum(a, 0, keep)', (v) => b.sum(v.a!, [0], true), { keep: true });
  });
});

describe('numeric options with cases: the formula chosen while the graph is built', () => {
  const body = `  option p: float = 2 cases (1, 2), "the exponent"
  return if p == 1 { abs(a) } else if p == 2 { a * a } else { abs(a) ** p }`;
  it('each case its graph, any other value one graph with p a run-time number', () => {
    expectLoss(body, (v) => b.abs(v.a!), { p: 1 });
    expectLoss(body, (v) => b.mul(v.a!, v.a!), { p: 2 });
    expectLoss(body, (v) => b.pow(b.abs(v.a!), v.graph.param('p')), { p: 2.5 });
  });
  it('become OptionSpec.cases, with the description', () => {
    const [def] = read(`loss T(a: f32) {\n${body}\n}`);
    expect(def!.options).toEqual([{ name: 'p', type: 'number', default: 2, cases: [1, 2], doc: 'the exponent' }]);
    expect(instantiate(def!, { p: 1 }).params).toEqual([]);
    expect(instantiate(def!, { p: 3 }).params).toEqual(['p']);
  });
  it('a fn asks the same of a plain number, decided when it is inlined', () => {
    const [def] = read('fn norm(v, p) = if p == 1 { abs(v) } else { v * v }\nloss T(a: f32) {\n  return norm(a, 1) + norm(a, 2)\n}');
    const inst = instantiate(def!, {});
    const [a] = inst.inputs;
    expect(inst.output).toBe(b.add(b.abs(a!), b.mul(a!, a!)));
  });
  it('error("...") refuses a value, with the loss name, as a TS loss would throw', () => {
    const [def] = read('loss T(a: f32) {\n  option p: int = 1 cases (1)\n  return if p == 1 { a } else { error("only p == 1 supported") }\n}');
    expect(() => instantiate(def!, { p: 2 })).toThrow(new RangeError('T: only p == 1 supported'));
  });
});

describe('tensor options with a fixed rank, and inputs shaped like another', () => {
  it('f32[C]? has rank 1 and no dims check when C is declared nowhere else; like ... without sets shapeLike', () => {
    const [def] = read(`loss T(input: f32[*], target: i32 like input without 1, other: f32 like input, w2: f32[N, K]) {
  option weight: f32[C]? = none
  option scale: f32[K]? = none
  return input * 2
}`);
    expect(def!.inputs).toEqual([
      { name: 'input', kind: 'float' },
      { name: 'target', kind: 'int', shapeLike: { input: 'input', dropAxis: 1 } },
      { name: 'other', kind: 'float', shapeLike: { input: 'input' } },
      { name: 'w2', kind: 'float' },
    ]);
    expect(def!.options).toEqual([
      { name: 'weight', type: 'tensor', default: null, rank: 1 },
      { name: 'scale', type: 'tensor', default: null, rank: 1 },
    ]);
    // scale's K is w2's K: that check stays
    expect(def!.checks).toEqual([
      { kind: 'dims', input: 'w2', dims: ['N', 'K'] },
      { kind: 'dims', input: 'scale', dims: ['K'] },
    ]);
  });
});

describe('overloads: loss declarations of one name whose inputs differ in element type', () => {
  const [def] = read(`loss T(x: f32, y: f32) {
  "with float targets"
  option m: float = 1
  return x * y * m
}
loss T(x: f32, y: i32) {
  "with int targets"
  option m: float = 1
  return x * float(y) * m
}`);
  it('are one LossDef: the first declared, its overloads the others', () => {
    expect(def!.doc).toBe('with float targets');
    expect(def!.overloads!.map((o) => [o.doc, o.inputs.map((i) => i.kind)])).toEqual([['with int targets', ['float', 'int']]]);
  });
});

describe('function options', () => {
  const body = `  option distance: fn(f32, f32) -> f32 = none, "a distance"
  return if distance != none { distance(a, b) * 2 } else { abs(a - b) }`;
  it('call the given function on the nodes; a fallback when none', () => {
    const given = (x: Node, y: Node): Node => b.sum(b.mul(x, y));
    expectLoss(body, (v) => b.mul(given(v.a!, v.b!), 2), { distance: given });
    expectLoss(body, (v) => b.abs(b.sub(v.a!, v.b!)), { distance: null });
  });
  it("become OptionSpec type 'function'", () => {
    const [def] = read(`loss T(a: f32, b: f32) {\n${body}\n}`);
    expect(def!.options).toEqual([{ name: 'distance', type: 'function', default: null, doc: 'a distance' }]);
  });
});

describe('fns with a block body, and arguments built when first used', () => {
  it('lets in a fn, and an argument the body does not use adds nothing (not even a parameter)', () => {
    const [def] = read(`fn f(x, unused) {
  let y = x * 2
  y + 1
}
loss T(a: f32) {
  option k: float = 1
  return f(a, a * k)
}`);
    const inst = instantiate(def!, { k: 1 });
    expect(inst.output).toBe(b.add(b.mul(inst.inputs[0]!, 2), 1));
    expect(inst.params).toEqual([]);
  });
});

describe('index arithmetic, shapes and the CTC builders', () => {
  it('int tensors add, multiply, mod and floorDiv with int constants, as the builders lift them', () => {
    expectExpr(
      'float(mod(t + t + 1, 2) + floorDiv(t, 2) * 3) * a',
      (v) => b.mul(b.cast(b.add(b.mod(b.add(b.add(v.t!, v.t!), 1), 2), b.mul(b.floorDiv(v.t!, 2), 3)), 'float'), v.a!),
      'a: f32, t: i32',
    );
  });
  it('affineShape, iota over it, broadcastTo, shift, logSumExpOf, gather of ints, int(), nan and -inf', () => {
    expectExpr(
      'logSumExpOf(broadcastTo(where(iota(affineShape(t, -1, 2, 1), -1) == 0, 0, -inf), affineShape(t, -1, 2, 1)), shift(a, -1, 2, nan)) + float(gather(unsqueeze(t, -2), int(a), -1))',
      (v) => {
        const states = affineShapeOf(v.t!);
        const start = b.broadcastTo(b.where(b.eq(b.iotaOf(v.graph, states, -1), 0), 0, -Infinity), states);
        return b.add(b.logSumExpOf(start, b.shift(v.a!, -1, 2, NaN)), b.cast(b.gather(b.unsqueeze(v.t!, [-2]), b.cast(v.a!, 'int'), -1), 'float'));
      },
      'a: f32, t: i32',
    );
  });
  it('checks with per-input batch axes, class indices and CTC, messages only where torch has none of its own', () => {
    const [def] = read(`loss T(lp: f32, t: i32, il: i32, tl: i32) {
  option ignore: int = -1
  check batchIfUnbatched(lp, 2, (lp, 1), t, il)
  check classIndex(t, lp, 1, ignore=ignore, min=-1, sameShape=true)
  check ctc(lp, t, il, tl)
  return sum(lp)
}`);
    expect(def!.checks).toEqual([
      { kind: 'batchIfUnbatched', of: 'lp', rank: 2, inputs: [{ name: 'lp', axis: 1 }, 't', 'il'] },
      { kind: 'classIndex', input: 't', of: 'lp', axis: 1, ignore: 'ignore', min: -1, sameShape: true },
      { kind: 'ctc', logProbs: 'lp', targets: 't', inputLengths: 'il', targetLengths: 'tl' },
    ]);
  });
});

describe('scan: a recurrence over the first axis of its sequences', () => {
  it('lowers to scan() with the step shapes stated relative to the state, a body of its own', () => {
    const [def] = read(`loss T(xs: f32, init: f32, lengths: i32) {
  let states = scan h = init
    over x in xs like h
    with n = lengths like h without -1
    step t {
    let next = h * 0.5 + x
    where(t < unsqueeze(n, -1), next, h)
  }
  return sum(states)
}`);
    const inst = instantiate(def!, {});
    const [xs, init, lengths] = inst.inputs as [Node, Node, Node];
    const out = inst.output.inputs[0]!;
    expect(out.op).toBe('scan');
    expect(out.inputs).toEqual([init, xs, lengths]);
    const body = out.attrs.body!;
    expect(body.xs[0]!.shape).toBe(body.carry.shape); // like h
    expect(body.consts[0]!.shape).toBe(reduceShape(body.carry.shape, [-1], false)); // like h without -1
    const [h, x, n, t] = [body.carry, body.xs[0]!, body.consts[0]!, body.step];
    expect(body.next).toBe(b.where(b.lt(t, b.unsqueeze(n, [-1])), b.add(b.mul(h, 0.5), x), h));
  });
});

const affineShapeOf = (t: Node) => affineShape(t.shape, -1, 2, 1);
