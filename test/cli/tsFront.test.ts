// The TypeScript front end (dsl/tsFront.ts): a function or a class with ordinary operators is
// read statically into the same graph the builders make; options, int class indices, helpers
// and constants; every unsupported construct is a diagnostic at its line and column.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseTsLossSource } from '../../dsl/tsFront.js';
import { FUNCTIONS } from '../../dsl/functions.js';
import * as authoring from '../../runtime/authoring.js';
import { Loss } from '../../runtime/nn.js';
import { nn, tensor } from '../../runtime/index.js';
import type { LossDef } from '../../compiler/loss.js';
import { example } from './helpers.js';

const read = (text: string): LossDef[] => {
  const r = parseTsLossSource(text, 'loss.ts');
  expect(r.diagnostics.map((d) => `${d.span.line}:${d.span.column}: ${d.message}`)).toEqual([]);
  return r.losses;
};
const errors = (text: string): string[] => parseTsLossSource(text, 'loss.ts').diagnostics.map((d) => `${d.span.line}:${d.span.column}: ${d.message}`);
const header = "import { type Tensor, type IntTensor, mean, sum, exp, log, gather, logSoftmax, clampMin, where, sqrt, reduce } from 'lossc/loss';\n";

const x = tensor([0.5, -1, 2, 3, -0.25, 1.5], [2, 3], 'float64');
const y = tensor([1, 0.5, -2, 3, 0, 1], [2, 3], 'float64');

describe('the TypeScript front end', () => {
  it.each(['customMseFunction.ts', 'customMseClass.ts'])('%s gives exactly nn.MSELoss, in one fused kernel', (file) => {
    const [def] = parseTsLossSource(readFileSync(example(file), 'utf8'), file).losses;
    const mine = new Loss(def!);
    for (const dtype of ['float32', 'float64'] as const) {
      const [a, b] = [tensor(x.data, x.shape, dtype), tensor(y.data, y.shape, dtype)];
      const got = mine.valueAndGrad(a, b);
      const want = new nn.MSELoss().valueAndGrad(a, b);
      expect(got.value).toEqual(want.value);
      expect(got.grads).toEqual(want.grads);
    }
    expect(mine.explain('valueAndGrad').kernels).toHaveLength(1);
  });

  it('reads options: numbers are run-time parameters, enums and bools choose the graph, a Tensor | null option is optional', () => {
    const [def] = read(
      header +
        `export function weighted(a: Tensor, b: Tensor, { margin = 0.5, reduction = 'mean', squared = false, weight = null }: { margin?: number; reduction?: 'none' | 'mean' | 'sum'; squared?: boolean; weight?: Tensor | null } = {}): Tensor {
          const d = clampMin(a - b + margin, 0);
          const e = squared ? d * d : d;
          const w = weight !== null ? e * weight : e;
          if (reduction === 'none') return w;
          return reduction === 'sum' ? sum(w) : mean(w);
        }`,
    );
    expect(def!.options).toEqual([
      { name: 'margin', type: 'number', default: 0.5 },
      { name: 'reduction', type: 'enum', values: ['none', 'mean', 'sum'], default: 'mean' },
      { name: 'squared', type: 'bool', default: false },
      { name: 'weight', type: 'tensor', default: null },
    ]);
    const at = (o: Record<string, unknown>) => Array.from(new Loss(def!, o).forward(x, y).data);
    const d = Array.from(x.data, (v, i) => Math.max(v - y.data[i]! + 0.25, 0));
    const w = [1, 2, 0.5];
    expect(at({ margin: 0.25, reduction: 'none', squared: true, weight: tensor(w, [3], 'float64') })).toEqual(d.map((v, i) => v * v * w[i % 3]!));
    expect(at({ margin: 0.25, reduction: 'sum' })[0]).toBeCloseTo(
      d.reduce((p, q) => p + q),
      12,
    );
    // one kernel serves every margin: the number is a run-time parameter
    expect(new Loss(def!, { margin: 3 }).explain().text).toContain('param margin');
  });

  it('reads int class indices, helpers (inlined), top-level constants and Math constants', () => {
    const [def] = read(
      header +
        `const half = 0.5;
        function softNll(logits: Tensor, target: IntTensor): Tensor { return -gather(logSoftmax(logits, 1), target, 1); }
        export const nll = (input: Tensor, target: IntTensor): Tensor => mean(softNll(input, target)) * (half * 2) + 0 * Math.PI;`,
    );
    expect(def!.inputs).toEqual([
      { name: 'input', kind: 'float' },
      { name: 'target', kind: 'int' },
    ]);
    const t = tensor([2, 0], [2], 'int32');
    const got = new Loss(def!).valueAndGrad(x, t);
    const want = new nn.CrossEntropyLoss().valueAndGrad(x, t);
    expect(got.value.data[0]).toBeCloseTo(want.value.data[0]!, 14);
    got.grads[0]!.data.forEach((g, i) => expect(g).toBeCloseTo(want.grads[0]!.data[i]!, 14));
  });

  it('turns a condition on tensors into where, and one on options into a choice', () => {
    const [def] = read(header + `export function f(a: Tensor, b: Tensor): Tensor { return sum(a < b ? a * 2 : -b); }`);
    const [ref] = read(header + `export function f(a: Tensor, b: Tensor): Tensor { return sum(where(a < b, a * 2, -b)); }`);
    expect(new Loss(def!).explain('valueAndGrad').text).toBe(new Loss(ref!).explain('valueAndGrad').text);
  });

  it.each([
    ['let x = a;\n  return mean(x);', "3:3: 'let' declarations are not supported"],
    ['for (const k of [1]) {}\n  return mean(a);', '3:3: a for...of loop is not supported'],
    ['while (true) {}\n  return mean(a);', '3:3: a while loop is not supported'],
    ['const f = (t: Tensor) => t;\n  return mean(f(a));', '3:13: a closure (a function inside the loss) is not supported'],
    ['return mean(foo(a));', "3:15: call of an unknown function 'foo'"],
    ['return mean(Math.exp(a));', "3:15: Math.exp computes on one JavaScript number, not on tensors: use exp from 'lossc/loss'"],
    ['const o = { k: a };\n  return mean(a);', '3:13: an object literal is not supported'],
    ['return mean(a[0]);', '3:15: indexing (a[i]) is not supported'],
    ["return mean(a + 'x');", "3:19: '+' needs a tensor, but this is the string 'x'"],
    ['return mean(a % 2);', "3:15: the remainder operator '%' is not supported"],
    ['a = b;\n  return mean(a);', "3:3: assignment ('='; mutation) is not supported"],
    ['return mean(log(t));', '3:19: log needs a float tensor, but this is an int tensor (class indices): use float(t)'],
    ['return mean(a, b);', '3:18: mean (axis) must be an integer'],
    ['if (a < b) return mean(a);\n  return mean(b);', "3:7: 'if' chooses while the graph is built, on options"],
    ['return mean(`${a}`);', '3:15: a template string is not supported'],
  ])('reports %j', (body, message) => {
    const found = errors(`${header}export function f(a: Tensor, b: Tensor, t: IntTensor): Tensor {\n  ${body}\n}\n`);
    expect(
      found.find((e) => e.startsWith(message)),
      found.join('\n'),
    ).toBeDefined();
  });

  it('reports signatures it cannot read', () => {
    expect(errors(`${header}export function f(a: number): Tensor { return mean(a); }`)).toEqual([
      "2:22: parameter 'a' has type number: a loss's inputs are Tensor (float) or IntTensor (int32 class indices), imported from 'lossc/loss'",
    ]);
    expect(errors(`${header}export function f(a: Tensor, { r = 'mean' }: { r?: string } = {}): Tensor { return reduce(a, r); }`)[0]).toMatch(
      /^2:52: option 'r': declare its values as a union of string literals/,
    );
    expect(errors(`import { readFileSync } from 'node:fs';\n${header}export function f(a: Tensor): Tensor { return mean(a); }`)[0]).toMatch(
      /^1:30: imports from 'node:fs' are not supported/,
    );
    expect(errors(`${header}export class C { forward(a: Tensor): Tensor { return mean(a); } }`)[0]).toMatch(
      /^2:14: class C must extend Loss from 'lossc\/loss'/,
    );
    expect(errors(`${header}const k = 1;`)).toEqual([
      "1:1: no loss found: export a function (or a class extending Loss from 'lossc/loss') whose parameters are Tensors",
    ]);
  });

  it("'lossc/loss' exports only functions lossc can read, and they refuse to run", () => {
    const callable = new Set([...Object.keys(FUNCTIONS), 'and', 'or', 'not']);
    const exported = Object.entries(authoring)
      .filter(([, v]) => typeof v === 'function' && v !== authoring.Loss)
      .map(([k]) => k);
    expect(exported.filter((k) => !callable.has(k))).toEqual([]);
    expect(() => authoring.mean(1 as authoring.Tensor)).toThrow(/describes a loss for `lossc compile`; it is read, never run/);
  });
});
