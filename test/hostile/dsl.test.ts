// The .loss reader under hostile text: it only ever returns diagnostics (never throws), in about
// linear time, with correct line numbers for LF, CRLF and CR files; and a mutation fuzzer over the
// stdlib and the examples holds it to that. LOSSC_FUZZ_RUNS=n runs n mutants instead of the default.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLossSource, formatDiagnostic, compileLossSource, CompileError } from '../../dsl/index.js';
import { Loss } from '../../runtime/nn.js';
import { MAX_DIAGNOSTICS, MAX_NESTING } from '../../dsl/limits.js';
import { repo } from '../cli/helpers.js';

const wrap = (expression: string): string => `loss A(x: f32[*]) {\n  return mean(${expression})\n}\n`;
const read = (text: string) => parseLossSource(text, 'f.loss');
const messages = (text: string): string[] => read(text).diagnostics.map((d) => `${d.span.line}:${d.span.column}: ${d.message}`);

describe('nesting is bounded: a diagnostic at the place, never a stack overflow', () => {
  it.each([
    ['1,000 nested parentheses', wrap(`${'('.repeat(1000)}x${')'.repeat(1000)}`)],
    ['5,000 unary minuses', wrap(`${'-'.repeat(5000)}x`)],
    ['1,000 nested calls', wrap(`${'abs('.repeat(1000)}x${')'.repeat(1000)}`)],
    ["a 5,000-long '**' chain", wrap(Array(5000).fill('x').join(' ** '))],
    ['5,000 nots', wrap(`where(${'not '.repeat(5000)}x > 0, x, x)`)],
  ])('%s', (_, text) => {
    const r = read(text);
    expect(r.losses).toEqual([]);
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]!.span.line).toBe(2);
    expect(r.diagnostics[0]!.message).toMatch(new RegExp(`more than (${MAX_NESTING}|${MAX_NESTING / 2}) `));
  });

  it('nesting up to the limit still compiles', () => {
    const r = read(wrap(`${'('.repeat(45)}${'-'.repeat(40)}x${')'.repeat(45)}`));
    expect(r.diagnostics).toEqual([]);
    expect(r.losses).toHaveLength(1);
  });

  it('a 10,000-term sum is read, compiled and run without deep recursion', () => {
    const text = `loss A(x: f32[*]) {\n  return sum(${Array(10_000).fill('x').join(' + ')})\n}\n`;
    const r = read(text);
    expect(r.diagnostics).toEqual([]);
    expect(r.losses).toHaveLength(1);
    const big = new Loss(r.losses[0]!).valueAndGrad({ data: Float64Array.from([1, 2]), shape: [2], dtype: 'float64' });
    expect(big.value.data[0]).toBe(30_000);
    expect(Array.from(big.grads[0]!.data)).toEqual([10_000, 10_000]);
    // 1,000 terms compile and compute
    const thousand = read(`loss B(x: f32[*]) {\n  return sum(${Array(1000).fill('x').join(' + ')})\n}\n`).losses[0]!;
    const v = new Loss(thousand).valueAndGrad({ data: Float64Array.from([1, 2]), shape: [2], dtype: 'float64' });
    expect(v.value.data[0]).toBe(3000);
    expect(Array.from(v.grads[0]!.data)).toEqual([1000, 1000]);
  });

  it('a chain of 5,000 lets, each reading the one before, builds at a constant stack depth', () => {
    const n = 5000;
    const lets = Array.from({ length: n }, (_, i) => `  let v${i + 1} = v${i} ${i % 2 ? '* 1.0001' : '+ 0.5'}`);
    const r = read(`loss C(x: f64[*]) {\n  let v0 = x\n${lets.join('\n')}\n  return sum(v${n})\n}\n`);
    expect(r.diagnostics).toEqual([]);
    const out = new Loss(r.losses[0]!).valueAndGrad({ data: Float64Array.from([1, 2]), shape: [2], dtype: 'float64' });
    // the same chain in float64, step by step
    let a = 1,
      b = 2,
      g = 1;
    for (let i = 0; i < n; i++) [a, b, g] = i % 2 ? [a * 1.0001, b * 1.0001, g * 1.0001] : [a + 0.5, b + 0.5, g];
    expect(out.value.data[0]).toBe(a + b);
    expect(Array.from(out.grads[0]!.data)).toEqual([g, g]);
  });
});

describe('diagnostics are capped', () => {
  it('10,000 unknown names: 100 diagnostics, then how many more', () => {
    const text = `loss A(x: f32[*]) {\n${Array.from({ length: 10_000 }, (_, i) => `  let a${i} = y${i}`).join('\n')}\n  return mean(x)\n}\n`;
    const r = read(text);
    expect(r.diagnostics).toHaveLength(MAX_DIAGNOSTICS + 1);
    expect(r.diagnostics[0]!.message).toBe("unknown name 'y0'");
    expect(r.diagnostics[MAX_DIAGNOSTICS]!.message).toBe('9900 more errors not shown');
    expect(() => compileLossSource(text, 'f.loss')).toThrow(CompileError); // a message of 101 diagnostics, not "Invalid string length"
  });

  it('10,000 syntax errors: reading stops after 99 and says so', () => {
    const r = read(`loss A(x: f32[*]) {\n${'let = = =\n'.repeat(10_000)}  return mean(x)\n}\n`);
    expect(r.diagnostics.length).toBeLessThanOrEqual(MAX_DIAGNOSTICS);
    expect(r.diagnostics.at(-1)!.message).toBe('more syntax errors follow; reading stopped after 99');
  });
});

describe('line ends: LF, CRLF and CR', () => {
  const lines = ['loss A(x: f32[*]) {', '  # a comment', '  return mean(y)', '}', ''];
  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('%s: the right line number, and that line echoed', (_, eol) => {
    const text = lines.join(eol);
    const r = read(text);
    expect(r.diagnostics.map((d) => `${d.span.line}:${d.span.column}: ${d.message}`)).toEqual(["3:15: unknown name 'y'"]);
    expect(formatDiagnostic(r.diagnostics[0]!, text).split('\n').slice(0, 3)).toEqual([
      "f.loss:3:15: error: unknown name 'y'",
      '    return mean(y)',
      '                ^',
    ]);
  });
  it('40,000 blank or comment lines are read like 4', () => {
    for (const filler of ['\n', '# c\n', '\r\n', '\r']) {
      const r = read(`${filler.repeat(40_000)}${wrap('x')}`);
      expect(r.diagnostics).toEqual([]);
      expect(r.losses).toHaveLength(1);
    }
  });
});

describe('recovery messages name what is known', () => {
  it('a missing ) after a parenthesised expression, not after the arguments of undefined', () => {
    for (const m of [...messages(wrap('(x + 1')), ...messages('loss A(x: f32[*]) {\n  return mean((x)\n}\n'), ...messages('loss ( {')])
      expect(m).not.toMatch(/undefined|of ,| of $/);
    expect(messages('loss A(x: f32[*]) {\n  return mean(x,\n}\n')).toEqual(["3:1: expected ')' after the arguments of mean, found '}'"]);
  });
});

// ------------------------------------------------------------------ the mutation fuzzer

/** mulberry32: the same mutants for the same seed */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  ';',
  ':',
  '=',
  '==',
  '+',
  '-',
  '*',
  '/',
  '**',
  '^',
  '<',
  '?',
  '|',
  '->',
  '"',
  "'",
  '#',
  '\n',
  '\r\n',
  '\r',
  ' ',
  '\t',
  'loss',
  'fn',
  'let',
  'return',
  'if',
  'else',
  'option',
  'check',
  'type',
  'scan',
  'over',
  'in',
  'like',
  'without',
  'none',
  'nograd',
  'not',
  'and',
  'x',
  'input',
  'target',
  'f32',
  'i32[N]',
  'f32[*]',
  '0',
  '1e309',
  '-inf',
  'nan',
  '1.5f',
  'sum(',
  'mean(',
  'where(',
  'gather(',
  'withGrad(',
  'error("e")',
  '\u00e9',
  '\u{1F600}',
  '\0',
];

function mutate(text: string, random: () => number): string {
  let s = text;
  const edits = 1 + Math.floor(random() * 4);
  for (let k = 0; k < edits; k++) {
    const at = Math.floor(random() * (s.length + 1));
    const len = Math.floor(random() * 40);
    switch (Math.floor(random() * 6)) {
      case 0: // delete a range
        s = s.slice(0, at) + s.slice(at + len);
        break;
      case 1: // insert a piece
        s = s.slice(0, at) + PIECES[Math.floor(random() * PIECES.length)]! + s.slice(at);
        break;
      case 2: // duplicate a range
        s = s.slice(0, at + len) + s.slice(at, at + len) + s.slice(at + len);
        break;
      case 3: {
        // move a range elsewhere
        const cut = s.slice(at, at + len);
        const rest = s.slice(0, at) + s.slice(at + len);
        const to = Math.floor(random() * (rest.length + 1));
        s = rest.slice(0, to) + cut + rest.slice(to);
        break;
      }
      case 4: // a piece repeated many times
        s = s.slice(0, at) + PIECES[Math.floor(random() * PIECES.length)]!.repeat(50 + Math.floor(random() * 500)) + s.slice(at);
        break;
      default: // replace one character
        s = s.slice(0, at) + PIECES[Math.floor(random() * PIECES.length)]! + s.slice(at + 1);
    }
  }
  return s;
}

const corpus = [
  ...readdirSync(join(repo, 'dsl/stdlib'))
    .filter((f) => f.endsWith('.loss'))
    .map((f) => join(repo, 'dsl/stdlib', f)),
  ...readdirSync(join(repo, 'examples'))
    .filter((f) => f.endsWith('.loss'))
    .map((f) => join(repo, 'examples', f)),
].map((path) => ({ path, text: readFileSync(path, 'utf8') }));

describe('80 KB of random pieces of the language', () => {
  it.each([1, 2, 3])('seed %i: diagnostics, capped, no exception', (seed) => {
    const random = seeded(seed);
    let text = '';
    while (text.length < 80_000) text += PIECES[Math.floor(random() * PIECES.length)]! + (random() < 0.5 ? ' ' : '');
    const r = read(text);
    expect(r.diagnostics.length).toBeGreaterThan(0);
    expect(r.diagnostics.length).toBeLessThanOrEqual(MAX_DIAGNOSTICS + 1);
    for (const d of r.diagnostics) expect(d.message).not.toMatch(/internal error|call stack/);
  });
});

describe('DSL mutation fuzzer (stdlib and examples)', () => {
  const runs = Number(process.env['LOSSC_FUZZ_RUNS'] ?? 300);
  it(`${runs} mutants: each a set of diagnostics or losses that compile; no exception escapes`, () => {
    const random = seeded(20261203);
    const tally = { mutants: 0, rejected: 0, accepted: 0, compiled: 0, refusedAtCompile: 0, slowestMs: 0 };
    const refusals = new Map<string, number>();
    for (let i = 0; i < runs; i++) {
      const { path, text: original } = corpus[i % corpus.length]!;
      const text = mutate(original, random);
      tally.mutants++;
      const t0 = performance.now();
      let r: ReturnType<typeof read>;
      try {
        r = parseLossSource(text, path);
      } catch (e) {
        throw new Error(`mutant ${i} of ${path} threw out of the reader: ${(e as Error).message}\n---\n${text.slice(0, 2000)}`, { cause: e });
      }
      for (const d of r.diagnostics) {
        expect(d.span.line, d.message).toBeGreaterThanOrEqual(1);
        expect(d.span.column, d.message).toBeGreaterThanOrEqual(1);
        expect(d.message).not.toMatch(/internal error|undefined|Cannot read|is not a function|call stack/);
        formatDiagnostic(d, text); // printable
      }
      expect(r.diagnostics.length).toBeLessThanOrEqual(MAX_DIAGNOSTICS + 1);
      if (r.diagnostics.some((d) => d.severity === 'error')) tally.rejected++;
      else tally.accepted++;
      // a loss the reader accepts compiles (or refuses with a named Error, e.g. its own error("..."))
      for (const def of r.losses.slice(0, 1)) {
        try {
          new Loss(def).explain('forward');
          tally.compiled++;
        } catch (e) {
          expect(e).toBeInstanceOf(Error);
          const m = (e as Error).message;
          expect(m, `mutant ${i} of ${path}`).not.toMatch(/Cannot read|is not a function|is not iterable|internal:/);
          tally.refusedAtCompile++;
          refusals.set(m.slice(0, 60), (refusals.get(m.slice(0, 60)) ?? 0) + 1);
        }
      }
      tally.slowestMs = Math.max(tally.slowestMs, performance.now() - t0);
    }
    console.log(`DSL fuzzer: ${JSON.stringify({ ...tally, slowestMs: Math.round(tally.slowestMs) })}`, refusals.size ? [...refusals] : '');
    expect(tally.mutants).toBe(runs);
    // a bound against hangs, not a speed test: the slowest mutant (a stdlib file, compiled) takes well under this
    expect(tally.slowestMs).toBeLessThan(10_000);
  });
});
