// `lossc compile` writes standalone modules that give the library's numbers: a .loss file, .ts
// files (function and class form, options, int class indices) and a built-in with overloads and
// a tensor option are compiled by the CLI into a temporary folder, then run from a separate Node
// process in that folder (no node_modules: the modules import nothing), in float32 and float64,
// with options applied at run time. Their results must equal nn's exactly (the same kernels on
// the same executor), errors included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Loss } from '../../runtime/nn.js';
import { builtinLoss } from '../../runtime/losses.js';
import { parseLossSource } from '../../dsl/index.js';
import { parseTsLossSource } from '../../dsl/tsFront.js';
import type { LossDef } from '../../compiler/loss.js';
import type { DType, Tensor } from '../../runtime/tensor.js';
import { decodeNumbers, encodeNumbers, example, lossc, repo, runNode, tempFolder } from './helpers.js';
import { userDiagnostics } from '../support/typecheck.js';

type TensorJson = { data: (number | string)[]; shape: number[]; dtype: DType };
interface Case {
  readonly module: string;
  readonly label: string;
  readonly options: Record<string, unknown>;
  readonly inputs: TensorJson[];
  readonly gradOutput: TensorJson | null;
}
type Outcome =
  | { error: string }
  | {
      forward: TensorJson;
      vjp: (TensorJson | null)[] | { error: string };
      valueAndGrad: { value: TensorJson; grads: (TensorJson | null)[] } | { error: string };
    };

const toJson = (t: Tensor): TensorJson => ({ data: encodeNumbers(t.data), shape: [...t.shape], dtype: t.dtype });
const fromJson = (t: TensorJson): Tensor => {
  const C = t.dtype === 'int32' ? Int32Array : t.dtype === 'float32' ? Float32Array : Float64Array;
  return { data: C.from(decodeNumbers(t.data)), shape: t.shape, dtype: t.dtype };
};
const floats = (shape: number[], dtype: DType, f: (i: number) => number): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = f(i);
  return { data, shape, dtype };
};
const ints = (values: number[], shape: number[]): Tensor => ({ data: Int32Array.from(values), shape, dtype: 'int32' });

/** Options as the library takes them: tensor options as tensors. */
const liveOptions = (o: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v && typeof v === 'object' && 'dtype' in v ? fromJson(v as TensorJson) : v]));

/** What the library computes for a case: the reference. */
function reference(def: LossDef, c: Case): Outcome {
  const attempt = <T>(f: () => T): T | { error: string } => {
    try {
      return f();
    } catch (e) {
      return { error: (e as Error).message };
    }
  };
  let loss: Loss;
  try {
    loss = new Loss(def, liveOptions(c.options));
  } catch (e) {
    return { error: (e as Error).message };
  }
  const inputs = c.inputs.map(fromJson);
  const forward = toJson(loss.forward(...inputs));
  const vjp = attempt(() => loss.vjp(inputs, fromJson(c.gradOutput!)).map((g) => (g ? toJson(g) : null)));
  const valueAndGrad = attempt(() => {
    const r = loss.valueAndGrad(...inputs);
    return { value: toJson(r.value), grads: r.grads.map((g) => (g ? toJson(g) : null)) };
  });
  return { forward, vjp, valueAndGrad };
}

/** Runs in the child process, next to the modules: the same calls through create(). */
const RUNNER = `
import { readFileSync } from 'node:fs';
const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const num = (v) => (typeof v === 'string' ? Number(v) : v);
const enc = (xs) => Array.from(xs, (v) => (Object.is(v, -0) ? '-0' : Number.isFinite(v) ? v : String(v)));
const C = { int32: Int32Array, float32: Float32Array, float64: Float64Array };
const live = (t) => ({ data: C[t.dtype].from(t.data.map(num)), shape: t.shape, dtype: t.dtype });
const out = (t) => (t ? { data: enc(t.data), shape: [...t.shape], dtype: t.dtype } : null);
const attempt = (f) => { try { return f(); } catch (e) { return { error: e.message }; } };
const results = [];
for (const c of cases) {
  const mod = await import('./' + c.module + '.mjs');
  const options = Object.fromEntries(Object.entries(c.options).map(([k, v]) => [k, v && typeof v === 'object' && 'dtype' in v ? live(v) : v]));
  let loss;
  try { loss = mod.create(options); } catch (e) { results.push({ error: e.message }); continue; }
  const inputs = c.inputs.map(live);
  const forward = out(loss.forward(...inputs));
  const vjp = attempt(() => loss.vjp(inputs, live(c.gradOutput)).map(out));
  const valueAndGrad = attempt(() => { const r = loss.valueAndGrad(...inputs); return { value: out(r.value), grads: r.grads.map(out) }; });
  results.push({ forward, vjp, valueAndGrad });
}
process.stdout.write(JSON.stringify(results));
`;

describe("lossc compile: standalone modules give the library's numbers", () => {
  const tmp = tempFolder();
  const defs = new Map<string, LossDef>();
  let compileOutput = '';

  beforeAll(async () => {
    const run = await lossc('compile', example('focal.loss'), example('multiclassFocal.ts'), example('customMseClass.ts'), 'CrossEntropyLoss', '-o', tmp.dir);
    compileOutput = run.out + run.err;
    expect(run.code, compileOutput).toBe(0);
    const read = (file: string, parse: typeof parseLossSource) => parse(readFileSync(example(file), 'utf8'), file).losses;
    for (const d of [
      ...read('focal.loss', parseLossSource),
      ...read('multiclassFocal.ts', parseTsLossSource),
      ...read('customMseClass.ts', parseTsLossSource),
      builtinLoss('CrossEntropyLoss')!,
    ])
      defs.set(d.name, d);
  });
  afterAll(() => tmp.done());

  it('writes <Name>.mjs, <Name>.cjs and their .d.mts / .d.cts for every loss, and says so', () => {
    for (const name of ['FocalLoss', 'multiclassFocal', 'CustomMSE', 'CrossEntropyLoss']) {
      for (const [js, dts] of [
        ['mjs', 'd.mts'],
        ['cjs', 'd.cts'],
      ] as const) {
        expect(compileOutput).toContain(join(tmp.dir, `${name}.${js}`));
        expect(compileOutput).toContain(join(tmp.dir, `${name}.${dts}`));
        const text = readFileSync(join(tmp.dir, `${name}.${js}`), 'utf8');
        expect(text).not.toMatch(/^\s*import\s|\brequire\(/m); // no imports: runs anywhere
        // the library's run time, bundled at build time (dist/standalone/runtime.js), then the loss as data
        expect(text).toContain(readFileSync(join(repo, 'dist/standalone/runtime.js'), 'utf8').trim());
        // every kernel is a function in the file (no kernel source for `new Function`: a strict CSP allows it)
        expect(text).toMatch(/\bfn: \(?\$?\w*/);
        expect(text).not.toMatch(/\bsource: "/);
        expect(text).toMatch(js === 'mjs' ? /^export function create\(options\)/m : /^exports\.create = create;$/m);
        expect(readFileSync(join(tmp.dir, `${name}.${dts}`), 'utf8')).toContain(
          `export declare function create(options?: ${name}Options): ${name.endsWith('Loss') ? name : `${name}Loss`};`,
        );
      }
    }
  });

  it('--options, --precision and --methods carry only what is asked for; create() names what is missing; --shared-runtime', async () => {
    const t = tempFolder();
    try {
      const run = await lossc(
        'compile',
        'MSELoss',
        '--options',
        '{"reduction": "sum"}',
        '--precision',
        'float32',
        '--methods',
        'valueAndGrad,forward',
        '--format',
        'cjs',
        '--no-training-variants',
        '-o',
        t.dir,
      );
      expect(run.code, run.err).toBe(0);
      expect(run.out).toContain('MSELoss: 1 variant x 2 methods');
      expect(existsSync(join(t.dir, 'MSELoss.mjs'))).toBe(false);
      const size = readFileSync(join(t.dir, 'MSELoss.cjs'), 'utf8').length - readFileSync(join(repo, 'dist/standalone/runtime.js'), 'utf8').length;
      expect(size).toBeLessThan(8000); // the loss itself: one variant, two methods, float32
      const child = await runNode(
        t.dir,
        `
        import { createRequire } from 'node:module';
        const { create } = createRequire(import.meta.url)('./MSELoss.cjs');
        const f32 = (xs) => ({ data: Float32Array.from(xs), shape: [xs.length], dtype: 'float32' });
        const f64 = (xs) => ({ data: Float64Array.from(xs), shape: [xs.length], dtype: 'float64' });
        const loss = create({ reduction: 'sum' });
        const out = [loss.valueAndGrad(f32([1, 2]), f32([0, 0])).value.data[0]];
        for (const f of [() => loss.vjp([f32([1]), f32([1])], f32([1])), () => loss.forward(f64([1]), f64([1])), () => create().forward(f32([1]), f32([1]))]) {
          try { f(); out.push('no error'); } catch (e) { out.push(e.message); }
        }
        process.stdout.write(JSON.stringify(out));
      `,
      );
      expect(child.code, child.stderr).toBe(0);
      expect(JSON.parse(child.stdout)).toEqual([
        5,
        'MSELoss: this module was compiled without the vjp method (lossc compile --methods)',
        'MSELoss: this module was compiled without float64 kernels (lossc compile --precision)',
        'MSELoss: this module carries no compiled variant for options reduction=mean (it was compiled for reduction=sum: lossc compile --options)',
      ]);
      // --shared-runtime: the run time once, in lossc-runtime.mjs / .cjs, which each module imports
      const shared = join(t.dir, 'shared');
      const sr = await lossc(
        'compile',
        'MSELoss',
        'L1Loss',
        '--options',
        '{"reduction": "sum"}',
        '--precision',
        'float32',
        '--methods',
        'valueAndGrad',
        '--no-training-variants',
        '--shared-runtime',
        '-o',
        shared,
      );
      expect(sr.code, sr.err).toBe(0);
      expect(sr.out.match(/lossc-runtime\.mjs/g)).toHaveLength(1);
      expect(readFileSync(join(shared, 'lossc-runtime.mjs'), 'utf8')).toContain(readFileSync(join(repo, 'dist/standalone/runtime.js'), 'utf8').trim());
      expect(readFileSync(join(shared, 'MSELoss.mjs'), 'utf8').length).toBeLessThan(8000);
      const both = await runNode(
        shared,
        `
        import { createRequire } from 'node:module';
        import * as l1 from './L1Loss.mjs';
        const mse = createRequire(import.meta.url)('./MSELoss.cjs');
        const f32 = (xs) => ({ data: Float32Array.from(xs), shape: [xs.length], dtype: 'float32' });
        const args = [f32([1, -2]), f32([0, 0])];
        process.stdout.write(JSON.stringify([mse.create({ reduction: 'sum' }).valueAndGrad(...args).value.data[0], l1.create({ reduction: 'sum' }).valueAndGrad(...args).value.data[0]]));
      `,
      );
      expect(both.code, both.stderr).toBe(0);
      expect(JSON.parse(both.stdout)).toEqual([5, 3]);
      expect((await lossc('compile', 'MSELoss', '--methods', 'backward', '-o', t.dir)).code).toBe(2);
      expect((await lossc('compile', 'MSELoss', '--options', '{"gamma": 1}', '-o', t.dir)).code).toBe(2);
    } finally {
      t.done();
    }
  });

  it("the .d.ts files type a user's calls (and reject wrong options)", async () => {
    const ts = (await import('typescript')).default;
    const { writeFileSync } = await import('node:fs');
    const use = join(tmp.dir, 'use.mts');
    writeFileSync(
      use,
      [
        "import { create, type Tensor } from './CrossEntropyLoss.mjs';",
        "import * as focal from './FocalLoss.mjs';",
        "const x: Tensor = { data: new Float32Array(6), shape: [2, 3], dtype: 'float32' };",
        "const t: Tensor = { data: new Int32Array(2), shape: [2], dtype: 'int32' };",
        "export const v: Tensor = create({ reduction: 'sum', labelSmoothing: 0.1, weight: null }).valueAndGrad(x, t).value;",
        'export const g = focal.create({ gamma: 1 }).vjp([x, x], x);',
        "export const bad = focal.create({ reduction: 'average' });",
        "export const step = create().valueAndGrad([x, t], { wrt: ['input'], out: { value: x, grads: [x, null] }, accumulate: true }).grads;",
        "export const into: Tensor = create({ reduction: 'none' }).forward([x, t], { out: t });",
      ].join('\n'),
    );
    // the line counted from 0, as the expectation below reads it
    const messages = userDiagnostics([use]).map(
      (d) => `${d.file?.getLineAndCharacterOfPosition(d.start!).line}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`,
    );
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^6: Type '"average"' is not assignable to type /);
  });

  it('runs in a separate process with no node_modules, matching nn in float32 and float64, options applied at run time', async () => {
    const cases: Case[] = [];
    const add = (module: string, label: string, options: Record<string, unknown>, inputs: Tensor[]) => {
      const def = defs.get(module)!;
      const out = new Loss(def, liveOptions(options)).forward(...inputs);
      const gradOutput = floats([...out.shape], out.dtype, (i) => Math.cos(i + 0.5));
      cases.push({ module, label, options, inputs: inputs.map(toJson), gradOutput: toJson(gradOutput) });
    };
    for (const dtype of ['float32', 'float64'] as const) {
      const x = floats([3, 4], dtype, (i) => Math.sin(1.3 * i) * 2);
      const y = floats([3, 4], dtype, (i) => (i % 3 === 0 ? 1 : 0));
      add('FocalLoss', `focal ${dtype}`, {}, [x, y]);
      add('FocalLoss', `focal gamma/alpha/sum ${dtype}`, { gamma: 1.5, alpha: 0.6, reduction: 'sum' }, [x, y]);
      add('FocalLoss', `focal none ${dtype}`, { reduction: 'none' }, [x, y]);
      const logits = floats([4, 5], dtype, (i) => Math.cos(0.7 * i) * 3);
      add('multiclassFocal', `multiclass focal ${dtype}`, {}, [logits, ints([0, 4, 2, 1], [4])]);
      add('multiclassFocal', `multiclass focal gamma 0.5 none ${dtype}`, { gamma: 0.5, reduction: 'none' }, [logits, ints([3, 3, 0, 2], [4])]);
      add('CustomMSE', `custom MSE ${dtype}`, {}, [x, floats([3, 4], dtype, (i) => i / 7)]);
      const weight = { data: encodeNumbers([0.5, 1, 2, 1, 0.25]), shape: [5], dtype };
      add('CrossEntropyLoss', `CE indices ${dtype}`, { weight, labelSmoothing: 0.1, ignoreIndex: 2 }, [logits, ints([0, 2, 4, 1], [4])]);
      add('CrossEntropyLoss', `CE probabilities ${dtype}`, { reduction: 'sum' }, [logits, floats([4, 5], dtype, () => 0.2)]);
      add('CrossEntropyLoss', `CE unbatched ${dtype}`, { reduction: 'none' }, [floats([5], dtype, (i) => i * 0.3), ints([3], [])]);
    }
    const casesFile = join(tmp.dir, 'cases.json');
    (await import('node:fs')).writeFileSync(casesFile, JSON.stringify(cases));
    const child = await runNode(tmp.dir, RUNNER, [casesFile]);
    expect(child.code, child.stderr).toBe(0);
    const got = JSON.parse(child.stdout) as Outcome[];
    cases.forEach((c, i) => {
      const want = reference(defs.get(c.module)!, c);
      expect(got[i], c.label).toEqual(want);
      expect('forward' in want && want.forward.dtype, c.label).toBe(c.inputs[0]!.dtype);
    });
    // the 'none'-reduced variants refuse valueAndGrad with the library's message
    const none = got[cases.findIndex((c) => c.label === 'focal none float32')]!;
    expect('valueAndGrad' in none && 'error' in none.valueAndGrad && none.valueAndGrad.error).toMatch(/needs a scalar loss/);
  });

  it('checks arguments and options as the library does, with its messages', async () => {
    const child = await runNode(
      tmp.dir,
      `
      import { create } from './CrossEntropyLoss.mjs';
      const messages = [];
      const attempt = (f) => { try { f(); messages.push('no error'); } catch (e) { messages.push(e.message); } };
      const x = { data: new Float32Array(6), shape: [2, 3], dtype: 'float32' };
      attempt(() => create({ reduction: 'average' }));
      attempt(() => create({ nope: 1 }));
      attempt(() => create().forward(x, { data: Int32Array.from([0, 7]), shape: [2], dtype: 'int32' }));
      attempt(() => create().forward(x));
      attempt(() => create().forward(x, { data: Int32Array.from([0, 1, 2]), shape: [3], dtype: 'int32' }));
      process.stdout.write(JSON.stringify(messages));
      `,
    );
    expect(child.code, child.stderr).toBe(0);
    const messages = JSON.parse(child.stdout) as string[];
    const def = defs.get('CrossEntropyLoss')!;
    const x: Tensor = { data: new Float32Array(6), shape: [2, 3], dtype: 'float32' };
    const expected = [
      () => new Loss(def, { reduction: 'average' }),
      () => new Loss(def, { nope: 1 }),
      () => new Loss(def).forward(x, ints([0, 7], [2])),
      () => new Loss(def).forward(x),
      () => new Loss(def).forward(x, ints([0, 1, 2], [3])),
    ].map((f) => {
      try {
        f();
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(messages).toEqual(expected);
    expect(messages.every((m) => m !== 'no error')).toBe(true);
  });

  it('--target wgsl writes every WGSL module, and a manifest saying which is which', async () => {
    const t = tempFolder();
    try {
      const run = await lossc('compile', 'MSELoss', '--target', 'wgsl', '-o', t.dir);
      expect(run.code, run.err).toBe(0);
      expect(run.out).toContain(join(t.dir, 'MSELoss.wgsl.json'));
      expect(existsSync(join(t.dir, 'MSELoss.mjs'))).toBe(false);
      const wgsl = readFileSync(join(t.dir, 'MSELoss.wgsl'), 'utf8');
      const index = JSON.parse(readFileSync(join(t.dir, 'MSELoss.wgsl.json'), 'utf8'));
      const { wgslModules } = await import('../../compiler/emit/wgslModules.js');
      const { compileMethod } = await import('../../compiler/pipeline.js');
      const { instantiate } = await import('../../compiler/loss.js');
      const c = compileMethod(instantiate(builtinLoss('MSELoss')!, { reduction: 'mean' }), 'valueAndGrad');
      const entry = index.forms.main['reduction=mean'].valueAndGrad;
      const expected = wgslModules(c);
      expect(entry.modules.map((m: { offset: number; length: number }) => wgsl.slice(m.offset, m.offset + m.length))).toEqual(
        expected.modules.map((m) => m.code),
      );
      expect(entry.manifest.results).toEqual(['value', 'grad_input', 'grad_target']);
      expect(index.forms.main['reduction=none'].valueAndGrad.error).toMatch(/needs a scalar loss/);
    } finally {
      t.done();
    }
  });

  it('training-step options in a module: wrt (every input or the first), out written in place, accumulate', async () => {
    const child = await runNode(
      tmp.dir,
      `
      import { create } from './CrossEntropyLoss.mjs';
      const x = { data: Float64Array.from({ length: 12 }, (_, i) => Math.sin(i)), shape: [4, 3], dtype: 'float64' };
      const p = { data: Float64Array.from({ length: 12 }, (_, i) => (i % 3 === 1 ? 1 : 0)), shape: [4, 3], dtype: 'float64' };
      const t = { data: Int32Array.from([0, 2, 1, 1]), shape: [4], dtype: 'int32' };
      const ce = create({ labelSmoothing: 0.1 });
      const full = ce.valueAndGrad(x, t);
      const g = { data: new Float64Array(12), shape: [4, 3], dtype: 'float64' };
      const value = { data: new Float64Array(1), shape: [], dtype: 'float64' };
      const r = ce.valueAndGrad([x, t], { wrt: ['input'], out: { value, grads: [g] } });
      ce.valueAndGrad([x, t], { out: { grads: [g] }, accumulate: true });
      const probs = ce.valueAndGrad(x, p); // the probability-target form: two differentiable inputs
      const onlyInput = ce.valueAndGrad([x, p], { wrt: [0] });
      let other;
      try { ce.valueAndGrad([x, p], { wrt: ['target'] }); other = 'no error'; } catch (e) { other = e.message; }
      process.stdout.write(JSON.stringify({
        same: r.grads[0] === g && r.value === value,
        value: value.data[0] === full.value.data[0],
        twice: Array.from(g.data).every((v, i) => v === full.grads[0].data[i] * 2),
        onlyInput: onlyInput.grads[1] === null && Array.from(onlyInput.grads[0].data).every((v, i) => v === probs.grads[0].data[i]),
        other,
      }));
      `,
    );
    expect(child.code, child.stderr).toBe(0);
    const got = JSON.parse(child.stdout) as Record<string, unknown>;
    expect(got).toEqual({
      same: true,
      value: true,
      twice: true,
      onlyInput: true,
      other: expect.stringMatching(
        /CrossEntropyLoss\.valueAndGrad: this module carries gradients for every input; every input with accumulate; wrt \[input\]; wrt \[input\] with accumulate; wrt \[target\] needs lossc's library/,
      ),
    });
  });

  it('a function-valued option cannot be carried: create() with one throws a clear Error', async () => {
    const t = tempFolder();
    try {
      expect((await lossc('compile', 'TripletMarginWithDistanceLoss', '-o', t.dir)).code).toBe(0);
      const child = await runNode(
        t.dir,
        `
        import { create } from './TripletMarginWithDistanceLoss.mjs';
        try { create({ distanceFunction: (a, b) => a }); console.log('no error'); } catch (e) { console.log(e.message); }
        const a = { data: Float64Array.from([1, 2, 3, 4]), shape: [2, 2], dtype: 'float64' };
        console.log(create({ margin: 0.5 }).forward(a, a, a).data[0]);
      `,
      );
      expect(child.stdout).toMatch(/distanceFunction' is a function .* standalone module cannot carry/);
      expect(child.stdout.trim().split('\n')[1]).toBe('0.5');
    } finally {
      t.done();
    }
  });
});
