// The public data the playground draws: inspectLoss (graphs, kernel partition, plan, sources),
// highlightLossSource (the lexer's tokens as highlighting classes) and builtinLossSource.
import { describe, expect, it } from 'vitest';
import { builtinLossSource, compileLossSource, highlightLossSource, inspectLoss, nn, compile } from 'lossc';

describe('inspectLoss', () => {
  it('MSELoss.valueAndGrad: one pass computing every node of the simplified graph, results as explain() names them', () => {
    const loss = new nn.MSELoss();
    const r = inspectLoss(loss, 'valueAndGrad');
    expect(r.loss).toBe('MSELoss');
    expect(r.kernels).toHaveLength(1);
    const [k] = r.kernels;
    expect(k).toMatchObject({ name: 'MSELoss_valueAndGrad_k0', kind: 'pass', reads: ['input', 'target'], writes: ['grad_input', 'grad_target', 'value'] });
    expect(k!.outputs.map((o) => [o.buffer, o.mode, o.epilogue])).toEqual([
      ['t0', 'sum', false],
      ['grad_input', 'sum', false],
      ['grad_target', 'sum', false],
      ['value', 'store', true],
    ]);
    expect(r.simplified.results.map((x) => x.name)).toEqual(['value', 'grad_input', 'grad_target']);
    // every node of the simplified graph is computed (or read) by the single kernel
    expect(r.simplified.nodes.every((n) => n.kernels.length === 1 && n.kernels[0] === 0)).toBe(true);
    expect(new Set(k!.nodes)).toEqual(new Set(r.simplified.nodes.map((n) => n.id)));
    // operands come before their users, and point at nodes of the same graph
    const seen = new Set<number>();
    for (const n of r.simplified.nodes) {
      for (const i of n.inputs) expect(seen.has(i), `%${n.id} uses %${i} before it`).toBe(true);
      seen.add(n.id);
    }
    expect(r.planText).toBe(loss.explain('valueAndGrad').text.split('== fuse\n')[1]);
    expect(r.js.f32.map((s) => s.kernel)).toEqual(['MSELoss_valueAndGrad_k0']);
    expect(r.js.f64[0]!.source).toMatch(/^function MSELoss_valueAndGrad_k0\(X, O, S, L\)/);
    expect('modules' in r.wgsl && r.wgsl.modules.map((m) => m.file)).toEqual(['MSELoss_valueAndGrad_k0.wgsl']);
  });

  it('CrossEntropyLoss.valueAndGrad: a reduction kernel, then a row kernel; elementwise work shared by both is in both parts', () => {
    const r = inspectLoss(new nn.CrossEntropyLoss(), 'valueAndGrad');
    expect(r.kernels.map((k) => [k.kind, k.rowAxis, k.reads, k.writes])).toEqual([
      ['pass', undefined, ['target'], ['t3']],
      ['rows', 1, ['input', 'target', 't3'], ['grad_input', 'value']],
    ]);
    const byId = new Map(r.simplified.nodes.map((n) => [n.id, n]));
    // the weight sum t3 is stored by kernel 0 and read (not recomputed) by kernel 1
    const t3 = r.simplified.nodes.find((n) => n.buffer === 't3')!;
    expect(t3.op).toBe('sum');
    expect(t3.kernels).toEqual([0, 1]);
    expect(r.kernels[1]!.nodes).toContain(t3.id);
    expect(r.kernels[1]!.nodes.filter((id) => byId.get(id)!.inputs.includes(t3.id)).length).toBeGreaterThan(0);
    // the 'ignoreIndex' mask is elementwise: recomputed in each kernel that needs it
    const mask = r.simplified.nodes.find((n) => n.op === 'ne')!;
    expect(mask.kernels).toEqual([0, 1]);
    expect(mask.origin).toMatchObject({ file: 'dsl/stdlib/classification.loss', text: 'float(target) != ignoreIndex' });
  });

  it("the graph before simplification keeps the source's names; a method the loss cannot have is the pipeline's error", () => {
    const [def] = compileLossSource('loss Sq(input: f32[N], nograd target: f32[N]) {\n  let d = input - target\n  return mean(d * d)\n}\n', 'sq.loss');
    const r = inspectLoss(compile(def!), 'vjp');
    const d = r.graph.nodes.find((n) => n.name === 'd')!;
    expect(d).toMatchObject({ op: 'sub', origin: { file: 'sq.loss', line: 2, column: 11 } });
    expect(r.graph.results.map((x) => x.name)).toEqual(['grad_input']);
    expect(r.graph.nodes.some((n) => n.op === 'input' && n.attrs.startsWith('grad_output'))).toBe(true);
    expect(() => inspectLoss(new nn.L1Loss({ reduction: 'none' }), 'valueAndGrad')).toThrow(
      "L1Loss.valueAndGrad needs a scalar loss; with reduction='none' the loss is a tensor",
    );
  });
});

describe('highlightLossSource', () => {
  it("gives the lexer's tokens their classes, comments included", () => {
    const src = 'loss L(x: f32[N]) {\n  # c\n  return mean(x ** 2) // d\n}';
    expect(highlightLossSource(src).map((t) => [src.slice(t.from, t.to), t.class])).toEqual([
      ['loss', 'keyword'],
      ['L', 'call'],
      ['(', 'punctuation'],
      ['x', 'name'],
      [':', 'punctuation'],
      ['f32', 'name'],
      ['[', 'punctuation'],
      ['N', 'name'],
      [']', 'punctuation'],
      [')', 'punctuation'],
      ['{', 'punctuation'],
      ['# c', 'comment'],
      ['return', 'keyword'],
      ['mean', 'call'],
      ['(', 'punctuation'],
      ['x', 'name'],
      ['**', 'operator'],
      ['2', 'number'],
      [')', 'punctuation'],
      ['// d', 'comment'],
      ['}', 'punctuation'],
    ]);
  });

  it("marks what the lexer cannot read; a '#' inside an unterminated string starts no comment", () => {
    const src = "let s = 'abc # x\n@";
    expect(highlightLossSource(src).map((t) => [src.slice(t.from, t.to), t.class])).toEqual([
      ['let', 'keyword'],
      ['s', 'name'],
      ['=', 'operator'],
      ["'abc # x", 'invalid'],
      ['@', 'invalid'],
    ]);
  });
});

describe('builtinLossSource', () => {
  it('is the .loss file a built-in loss is written in, which declares it', () => {
    const src = builtinLossSource('CrossEntropyLoss')!;
    expect(src.file).toBe('classification.loss');
    expect(src.text).toMatch(/^loss CrossEntropyLoss\(/m);
    expect(compileLossSource(src.text, src.file).map((d) => d.name)).toContain('CrossEntropyLoss');
    expect(builtinLossSource('NoSuchLoss')).toBeUndefined();
  });
});
