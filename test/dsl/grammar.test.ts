// The .loss grammar, construct by construct. Each expression is compared with the builder calls
// it must mean, built in the same graph: node identity is expression identity (hash-consing).
import { describe, it, expect } from 'vitest';
import { instantiate, type LossDef, type OptionValue } from '../../compiler/loss.js';
import type { Graph, Node } from '../../compiler/ir/node.js';
import * as b from '../../compiler/ir/builders.js';
import { parseLossSource } from '../../dsl/index.js';

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
    for (const [op, f] of [['<', b.lt], ['<=', b.le], ['>', b.gt], ['>=', b.ge], ['==', b.eq], ['!=', b.ne]] as const) {
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
      b.add(b.add(b.add(b.add(b.softplus(v.a!), b.logSigmoid(v.b!)), b.sigmoid(v.c!)), b.relu(v.a!)), b.square(v.b!)));
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
      inputs: [{ name: 'input', kind: 'float' }, { name: 'target', kind: 'float', differentiable: false }, { name: 'index', kind: 'int' }],
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
