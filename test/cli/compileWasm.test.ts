// `lossc compile --target wasm`: the built command (dist/cli/main.js) writes standalone modules
// whose kernels are WebAssembly; imported as they are (no lossc, no node_modules), they must give
// what the library gives on `to('wasm')` bit for bit, and the PyTorch golden cases at SCHEMA's
// tolerances, for every case of a pointwise loss, a row loss and a scan loss.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nn } from 'lossc';
import type { Tensor } from '../../runtime/tensor.js';
import { caseProblems, loadCases, toOptions, toTensor, type RefCase } from '../golden/reference.js';
import { readmeSnippets } from '../package/readme.js';
import { repo, runNode, tempFolder } from './helpers.js';

const LOSSES = ['MSELoss', 'CrossEntropyLoss', 'CTCLoss'] as const;
const bin = join(repo, 'dist/cli/main.js');
const tmp = tempFolder('lossc-wasm-');

interface StandaloneLoss {
  forward(...inputs: Tensor[]): Tensor;
  vjp(inputs: Tensor[], gradOutput: Tensor): (Tensor | null)[];
  valueAndGrad(...inputs: Tensor[]): { value: Tensor; grads: (Tensor | null)[] };
}
type Module = { create(options?: Record<string, unknown>): StandaloneLoss; name: string };
const modules = new Map<string, Module>();
let written = '';

const lossc = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: tmp.dir });

beforeAll(async () => {
  expect(existsSync(bin), 'run `npm run build` first').toBe(true);
  const run = lossc('compile', ...LOSSES, '--target', 'wasm', '-o', 'out');
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  written = run.stdout;
  for (const loss of LOSSES) modules.set(loss, (await import(pathToFileURL(join(tmp.dir, 'out', `${loss}.wasm.mjs`)).href)) as Module);
}, 120_000);
afterAll(() => tmp.done());

/** The same numbers: dtype, shape and every element's value (-0 and NaN included). */
function same(actual: Tensor | null, expected: Tensor | null, what: string): void {
  if (!expected) return void expect(actual, what).toBeNull();
  expect(actual, what).not.toBeNull();
  expect([actual!.dtype, [...actual!.shape]], what).toEqual([expected.dtype, [...expected.shape]]);
  expect(Array.from(actual!.data), what).toEqual(Array.from(expected.data));
}

const attempt = <T>(f: () => T): T | { error: string } => {
  try {
    return f();
  } catch (e) {
    return { error: (e as Error).message };
  }
};

async function checkCase(c: RefCase): Promise<void> {
  const options = toOptions(c.options);
  const lib = await new nn[c.loss as keyof typeof nn](options).to('wasm');
  const mod = modules.get(c.loss)!.create(options);
  const inputs = c.inputs.map(toTensor);
  const gradOutput = toTensor(c.grad_output);
  const forward = mod.forward(...inputs);
  const grads = mod.vjp(inputs, gradOutput);
  same(forward, lib.forward(...inputs), 'forward');
  const libGrads = lib.vjp(inputs, gradOutput);
  expect(grads.length).toBe(libGrads.length);
  grads.forEach((g, i) => same(g, libGrads[i]!, `vjp grads[${i}]`));
  const vg = attempt(() => mod.valueAndGrad(...inputs));
  const libVg = attempt(() => lib.valueAndGrad(...inputs));
  if ('error' in libVg) expect(vg).toEqual(libVg);
  else {
    expect('error' in vg, JSON.stringify(vg)).toBe(false);
    const r = vg as { value: Tensor; grads: (Tensor | null)[] };
    same(r.value, libVg.value, 'valueAndGrad value');
    r.grads.forEach((g, i) => same(g, libVg.grads[i]!, `valueAndGrad grads[${i}]`));
  }
  expect(caseProblems(c, forward, grads)).toEqual([]);
}

describe('lossc compile --target wasm', () => {
  it('writes <Name>.wasm.mjs / .cjs and their types, carrying WebAssembly and no imports', () => {
    for (const loss of LOSSES) {
      for (const f of [`${loss}.wasm.mjs`, `${loss}.wasm.cjs`, `${loss}.wasm.d.mts`, `${loss}.wasm.d.cts`]) expect(written).toContain(join('out', f));
      const text = readFileSync(join(tmp.dir, 'out', `${loss}.wasm.mjs`), 'utf8');
      expect(text).not.toMatch(/^\s*import\s/m);
      expect(text).toContain('single-threaded');
      expect(text).toContain('"AGFzbQ'); // a kernel module's bytes, base64: \0asm
      expect(readFileSync(join(tmp.dir, 'out', `${loss}.wasm.d.mts`), 'utf8')).toMatch(
        new RegExp(`^// ${loss}: types of the standalone lossc kernel module ${loss}\\.wasm\\.mjs / ${loss}\\.wasm\\.cjs`),
      );
    }
  });

  for (const loss of LOSSES) {
    describe(`${loss}: every golden case equals to('wasm') bit for bit`, () => {
      for (const c of loadCases(loss)) it(`${c.id} (${c.dtype})`, () => checkCase(c));
    });
  }

  it('the CommonJS module, required in a folder of its own, gives the same numbers', async () => {
    const c = loadCases('CrossEntropyLoss').find((k) => k.dtype === 'float32' && k.inputs[1]!.dtype === 'int64' && k.options_given.length === 0)!;
    const inputs = c.inputs.map(toTensor);
    const script = `
import { createRequire } from 'node:module';
const { create } = createRequire(import.meta.url)('./out/CrossEntropyLoss.wasm.cjs');
const inputs = ${JSON.stringify(inputs.map((t) => ({ data: Array.from(t.data), shape: t.shape, dtype: t.dtype })))}
  .map((t) => ({ ...t, data: t.dtype === 'int32' ? Int32Array.from(t.data) : Float32Array.from(t.data) }));
const r = create(${JSON.stringify(toOptions(c.options))}).valueAndGrad(...inputs);
console.log(JSON.stringify([Array.from(r.value.data), Array.from(r.grads[0].data)]));
`;
    const run = await runNode(tmp.dir, script);
    expect(run.stderr.slice(-400)).toBe('');
    const lib = (await new nn.CrossEntropyLoss(toOptions(c.options)).to('wasm')).valueAndGrad(...inputs);
    expect(JSON.parse(run.stdout)).toEqual([Array.from(lib.value.data), Array.from(lib.grads[0]!.data)]);
  });

  it("the README's snippet runs next to the module and prints what to('wasm') gives", async () => {
    const [snippet, ...more] = readmeSnippets(readFileSync(join(repo, 'README.md'), 'utf8'), 'standalone');
    expect(more).toEqual([]);
    const run = await runNode(tmp.dir, snippet!.code);
    expect(run.stderr.slice(-400)).toBe('');
    const lib = await new nn.CrossEntropyLoss({ labelSmoothing: 0.1 }).to('wasm');
    const input = { data: new Float32Array([1, 2, 3, 0.5, 0, -1]), shape: [2, 3], dtype: 'float32' } as const;
    const target = { data: new Int32Array([2, 0]), shape: [2], dtype: 'int32' } as const;
    const value = lib.valueAndGrad(input, target).value.data[0]!;
    expect(run.stdout).toBe(`${value}\n`);
    expect(snippet!.code).toContain(`// ${value}, as`);
  });

  it('js,wasm with --shared-runtime writes both kinds of module, each importing its own run time', () => {
    const run = lossc('compile', 'MSELoss', '--target', 'js,wasm', '--shared-runtime', '--format', 'mjs', '-o', 'both');
    expect(run.status).toBe(0);
    for (const f of ['MSELoss.mjs', 'MSELoss.wasm.mjs', 'lossc-runtime.mjs', 'lossc-runtime-wasm.mjs'])
      expect(existsSync(join(tmp.dir, 'both', f)), f).toBe(true);
    expect(readFileSync(join(tmp.dir, 'both', 'MSELoss.wasm.mjs'), 'utf8')).toContain("from './lossc-runtime-wasm.mjs'");
  });

  it('an unknown target is a usage error naming the targets', () => {
    const run = lossc('compile', 'MSELoss', '--target', 'js,wasm64', '-o', 'x');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("--target: unknown target 'wasm64' (expected js, wasm, wgsl, or several comma-separated such as js,wasm)");
  });
});
