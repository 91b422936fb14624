// A loss written in the DSL builds the very graph its builder version builds: both are built in
// one hash-consed Graph, so equal expressions are the same Node and `toBe` is graph identity.
import { describe, it, expect } from 'vitest';
import { instantiate, type BuildContext, type LossDef, type LossInstance, type OptionValue } from '../../compiler/loss.js';
import type { Node } from '../../compiler/ir/node.js';
import { printNodes } from '../../compiler/ir/print.js';
import { loadLossFiles } from '../../dsl/stdlib/index.js';
import { compileLossSource } from '../../dsl/index.js';
import { add, amax, div, gather, logSoftmax, logsumexp, mean, mul, neg, sub, sum, where, lt, cast, exp, pow } from '../../compiler/ir/builders.js';
import { builderLosses } from './builderLosses.js';

/** Every combination of a loss's structural options (enums, flags, tensor options given or not). */
export function structuralCombinations(def: LossDef): Record<string, OptionValue>[] {
  let combos: Record<string, OptionValue>[] = [Object.fromEntries(def.options.map((o) => [o.name, o.default]))];
  for (const o of def.options) {
    const values: OptionValue[] = o.type === 'enum' ? [...o.values] : o.type === 'bool' ? [false, true] : o.type === 'tensor' ? [null, { shape: [1] }] : [];
    if (values.length) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [o.name]: v })));
  }
  return combos;
}

/** Build `def` against the graph, inputs and options of an instantiated builder version. */
function buildAlongside(def: LossDef, inst: LossInstance, options: Record<string, OptionValue>): Node {
  const g = inst.graph;
  const byName = new Map(inst.inputs.map((n) => [n.attrs.name!, n]));
  // what the DSL asks of a context (BuildContext has more, for losses written in TS)
  const ctx = {
    graph: g,
    input: (name: string) => byName.get(name)!,
    num: (name: string) => g.param(name),
    str: (name: string) => String(options[name]),
    flag: (name: string) => Boolean(options[name]),
    tensor: (name: string) => byName.get(name) ?? null,
  } satisfies Partial<BuildContext>;
  return def.build(ctx as BuildContext);
}

function expectSameGraph(dsl: LossDef, builder: LossDef): void {
  for (const options of structuralCombinations(builder)) {
    const inst = instantiate(builder, options);
    const out = buildAlongside(dsl, inst, options);
    if (out !== inst.output) expect(printNodes([['loss', out]])).toBe(printNodes([['loss', inst.output]]));
    expect(out, JSON.stringify(options)).toBe(inst.output);
  }
}

const stdlib = loadLossFiles();

describe('every built-in .loss builds the graph of its builder version', () => {
  for (const builder of builderLosses) {
    it(builder.name, () => {
      const dsl = stdlib.find((d) => d.name === builder.name)!;
      expect(dsl).toBeDefined();
      const spec = (d: LossDef) => ({
        inputs: d.inputs.map((i) => ({ name: i.name, kind: i.kind, differentiable: i.differentiable !== false })),
        options: d.options,
        checks: d.checks ?? [],
      });
      expect(spec(dsl)).toEqual(spec(builder));
      expectSameGraph(dsl, builder);
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
