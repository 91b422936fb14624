// A loss written in the DSL builds the very graph its builder version builds: both are built in
// one hash-consed Graph, so equal expressions are the same Node and `toBe` is graph identity.
// A scan's body is a graph of its own, made anew by each build: scans are compared structurally.
import { describe, it, expect } from 'vitest';
import { instantiate, type BuildContext, type LossDef, type LossInstance, type OptionValue } from '../../compiler/loss.js';
import type { Node } from '../../compiler/ir/node.js';
import type { ScanBody } from '../../compiler/primitives/scan.js';
import { printNodes } from '../../compiler/ir/print.js';
import { loadLossFiles } from '../../dsl/stdlib/index.js';
import { compileLossSource } from '../../dsl/index.js';
import { add, amax, div, gather, logSoftmax, logsumexp, mean, mul, neg, sub, sum, where, lt, cast, exp, pow } from '../../compiler/ir/builders.js';
import { builderLosses } from './builderLosses.js';

/** a distance function a user might give TripletMarginWithDistanceLoss */
const dotDistance = (a: Node, b: Node): Node => sum(mul(a, b), [-1]);

/**
 * Every combination of a loss's structural options: enums, flags, tensor options given or not,
 * each case of a numeric option and a value that is none of them, a function option given or not.
 */
export function structuralCombinations(def: LossDef): Record<string, OptionValue>[] {
  let combos: Record<string, OptionValue>[] = [Object.fromEntries(def.options.map((o) => [o.name, o.default]))];
  for (const o of def.options) {
    const values: OptionValue[] =
      o.type === 'enum'
        ? [...o.values]
        : o.type === 'bool'
          ? [false, true]
          : o.type === 'tensor'
            ? [null, { shape: [1] }]
            : o.type === 'function'
              ? [null, dotDistance]
              : o.type === 'number' && o.cases
                ? [...o.cases, 3.5]
                : [];
    if (values.length) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [o.name]: v })));
  }
  return combos;
}

/** Build `def` against the graph, inputs and options of an instantiated builder version. */
function buildAlongside(def: LossDef, inst: LossInstance, options: Record<string, OptionValue>): Node {
  const g = inst.graph;
  const byName = new Map(inst.inputs.map((n) => [n.attrs.name!, n]));
  const ctx: BuildContext = {
    graph: g,
    input: (name) => byName.get(name)!,
    num: (name) => g.param(name),
    str: (name) => String(options[name]),
    flag: (name) => Boolean(options[name]),
    tensor: (name) => byName.get(name) ?? null,
    numCase: (name) => {
      const o = def.options.find((x) => x.name === name);
      const v = options[name] as number;
      return o?.type === 'number' && o.cases?.includes(v) ? v : 'other';
    },
    fn: (name) => {
      const f = options[name];
      return typeof f === 'function' ? f : null;
    },
  };
  return def.build(ctx);
}

/**
 * The same expression: the same node, or (for scans, whose bodies each build makes anew) the
 * same operation on the same attributes and operands, bodies compared alike.
 */
function sameStructure(a: Node, b: Node, seen = new Map<Node, Node>()): boolean {
  if (a === b || seen.get(a) === b) return true;
  if (a.op !== b.op || a.kind !== b.kind || a.shape !== b.shape || a.inputs.length !== b.inputs.length) return false;
  const keys = new Set([...Object.keys(a.attrs), ...Object.keys(b.attrs)]);
  for (const k of keys) {
    const [x, y] = [(a.attrs as Record<string, unknown>)[k], (b.attrs as Record<string, unknown>)[k]];
    if (k === 'body') {
      const [p, q] = [x as ScanBody, y as ScanBody];
      const placeholders = (s: ScanBody) => [s.carry, ...s.xs, ...s.consts, s.step];
      if (placeholders(p).length !== placeholders(q).length || !placeholders(p).every((n, i) => sameStructure(n, placeholders(q)[i]!, seen))) return false;
      if (!sameStructure(p.next, q.next, seen)) return false;
    } else if (JSON.stringify(x) !== JSON.stringify(y) && x !== y) return false;
  }
  seen.set(a, b);
  return a.inputs.every((n, i) => sameStructure(n, b.inputs[i]!, seen));
}

function expectSameGraph(dsl: LossDef, builder: LossDef): void {
  for (const options of structuralCombinations(builder)) {
    const label = JSON.stringify(options, (_, v: unknown) => (typeof v === 'function' ? 'fn' : v));
    let inst: LossInstance;
    try {
      inst = instantiate(builder, options);
    } catch (e) {
      // the builder version refuses these options (MultiMarginLoss with p = 3): so must the DSL one
      expect(() => instantiate(dsl, options), label).toThrow((e as Error).message);
      continue;
    }
    const out = buildAlongside(dsl, inst, options);
    if (!sameStructure(out, inst.output)) expect(printNodes([['loss', out]]), label).toBe(printNodes([['loss', inst.output]]));
    expect(sameStructure(out, inst.output), label).toBe(true);
  }
}

const stdlib = loadLossFiles();

const spec = (d: LossDef) => ({
  inputs: d.inputs.map((i) => ({ name: i.name, kind: i.kind, differentiable: i.kind === 'float' && i.differentiable !== false, shapeLike: i.shapeLike })),
  options: d.options,
  checks: d.checks ?? [],
});

describe('every built-in .loss builds the graph of its builder version', () => {
  for (const builder of builderLosses) {
    it(builder.name, () => {
      const dsl = stdlib.find((d) => d.name === builder.name)!;
      expect(dsl).toBeDefined();
      const dslForms = [dsl, ...(dsl.overloads ?? [])];
      const builderForms = [builder, ...(builder.overloads ?? [])];
      expect(dslForms.length).toBe(builderForms.length);
      builderForms.forEach((form, i) => {
        expect(spec(dslForms[i]!)).toEqual(spec(form));
        expectSameGraph(dslForms[i]!, form);
      });
    });
  }
  it('and the stdlib has exactly those losses', () => {
    expect(stdlib.map((d) => d.name).sort()).toEqual(builderLosses.map((d) => d.name).sort());
  });
});

describe('constructs beyond the stdlib build the same graph as the builders', () => {
  const [dsl] = compileLossSource(
    `
loss RowLoss(input: f32[N, C], target: i32[N], scale: f32[N, C]) {
  option reduction: 'none' | 'mean' | 'sum' = 'mean'
  option temperature: float = 2.0
  let logp = logSoftmax(input / temperature, 1)
  let picked = gather(logp, target, 1)
  let lse = logsumexp(input, axis=1, keepdims=true)
  let peak = amax(scale, axis=(0, 1))
  let rows = sum(scale * exp(input - lse), 1) + mean(scale, axis=-1)
  let shaped = -picked + rows ** 2 / peak + where(picked < -1, 1, 0) * float(target)
  return if reduction == 'none' { shaped } else if reduction == 'sum' { sum(shaped) } else { mean(shaped) }
}`,
    'row.loss',
  );
  const builder: LossDef = {
    ...dsl!,
    build: (c) => {
      const [x, t, s] = [c.input('input'), c.input('target'), c.input('scale')];
      const logp = logSoftmax(div(x, c.num('temperature')), 1);
      const picked = gather(logp, t, 1);
      const lse = logsumexp(x, [1], true);
      const peak = amax(s, [0, 1]);
      const rows = add(sum(mul(s, exp(sub(x, lse))), [1]), mean(s, [-1]));
      const shaped = add(add(neg(picked), div(pow(rows, 2), peak)), mul(where(lt(picked, -1), 1, 0), cast(t, 'float')));
      const r = c.str('reduction');
      return r === 'none' ? shaped : r === 'sum' ? sum(shaped) : mean(shaped);
    },
  };
  it('reductions with axes and keepdims, gather, logSoftmax, where, float(), ** and if/else if', () => {
    expectSameGraph(dsl!, builder);
  });
  it('declared shapes become run-time checks, and a target declared [N] next to input [N, C] takes its shape from input', () => {
    expect(dsl!.checks).toEqual([
      { kind: 'dims', input: 'input', dims: ['N', 'C'] },
      { kind: 'dims', input: 'target', dims: ['N'] },
      { kind: 'dims', input: 'scale', dims: ['N', 'C'] },
    ]);
  });
  it('inputs declared with the shape of an earlier one (or that shape without an axis) take their shape from it', () => {
    expect(dsl!.inputs).toEqual([
      { name: 'input', kind: 'float' },
      { name: 'target', kind: 'int', shapeLike: { input: 'input', dropAxis: 1 } },
      { name: 'scale', kind: 'float', shapeLike: { input: 'input' } },
    ]);
  });
});
