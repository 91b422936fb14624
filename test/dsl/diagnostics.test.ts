// Errors are data: every malformed program gives diagnostics with file, line, column and length,
// in plain words, and the front end never throws while reading a source.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { compileLossSource, parseLossSource, CompileError } from '../../dsl/index.js';
import { MALFORMED } from './malformed.cases.js';

describe('malformed programs', () => {
  it('there are at least 25 of them', () => expect(MALFORMED.length).toBeGreaterThanOrEqual(25));
  for (const c of MALFORMED) {
    it(c.what, () => {
      const { losses, diagnostics } = parseLossSource(c.source, 'bad.loss');
      expect(losses.map((l) => l.name)).toEqual(c.read ?? []);
      const d = diagnostics[0]!;
      expect(`${d.span.line}:${d.span.column}: ${d.message}`).toBe(c.expected);
      expect(d.severity).toBe('error');
      expect(d.span.file).toBe('bad.loss');
      if (c.note) expect(d.notes?.[0]?.message).toBe(c.note);
    });
  }
});

describe('diagnostics', () => {
  it('span the offending text', () => {
    const [d] = parseLossSource('loss A(input: f32, target: f32) {\n  return abs(input - targt)\n}', 'a.loss').diagnostics;
    expect(d!.span).toEqual({ file: 'a.loss', line: 2, column: 22, length: 5 });
    const [call] = parseLossSource('loss A(x: f32) {\n  return exp(x, 2)\n}', 'a.loss').diagnostics;
    expect(call!.span).toEqual({ file: 'a.loss', line: 2, column: 10, length: 9 });
  });
  it('point notes at the first definition', () => {
    const [d] = parseLossSource('loss A(x: f32) {\n  let y = x\n  let y = x\n  return y\n}', 'a.loss').diagnostics;
    expect(d!.notes).toEqual([{ message: "'y' was first defined here", span: { file: 'a.loss', line: 2, column: 7, length: 1 } }]);
  });
  it('parse errors recover: one pass reports each broken loss', () => {
    const { diagnostics } = parseLossSource('loss A(x: f32) {\n  return sum(x\n}\nloss B(x: f32) {\n  let = x\n  return x\n}', 'a.loss');
    expect(diagnostics.map((d) => `${d.span.line}:${d.span.column}: ${d.message}`)).toEqual([
      "3:1: expected ')' after the arguments of sum, found '}'",
      "5:7: expected a name after 'let', found '='",
    ]);
  });
  it('semantic errors are all reported, and the losses without errors are still read', () => {
    const { losses, diagnostics } = parseLossSource('loss A(x: f32) { return y }\nloss B(x: f32) { return x }\nloss C(x: f32) { return exp(x, x) }', 'a.loss');
    expect(losses.map((l) => l.name)).toEqual(['B']);
    expect(diagnostics.map((d) => d.message)).toEqual(["unknown name 'y'", 'exp takes 1 argument (x), got 2']);
  });
  it('a fn body is checked once, and its errors count against the losses that call it', () => {
    const { losses, diagnostics } = parseLossSource('fn f(a) = a * zz\nloss A(x: f32) { return f(x) }\nloss B(x: f32) { return x }', 'a.loss');
    expect(losses.map((l) => l.name)).toEqual(['B']);
    expect(diagnostics.map((d) => `${d.span.line}:${d.span.column}: ${d.message}`)).toEqual(["1:15: unknown name 'zz'"]);
  });
  it('compileLossSource throws a CompileError printed like a compiler', () => {
    let error: unknown;
    try {
      compileLossSource('loss A(x: f32) {\n  return sigmoyd(x)\n}', 'dir/a.loss');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CompileError);
    expect((error as CompileError).message).toBe(
      "dir/a.loss:2:10: error: unknown function 'sigmoyd'\n    return sigmoyd(x)\n           ^^^^^^^\n  note: did you mean 'sigmoid'?",
    );
  });
  it('reading never throws, whatever the text', () => {
    const pieces = [
      'loss',
      'A',
      '(',
      ')',
      '{',
      '}',
      'x',
      ':',
      'f32',
      '[',
      ']',
      '*',
      ',',
      'let',
      '=',
      'return',
      'if',
      'else',
      'option',
      "'a'",
      '|',
      '1',
      '-',
      '**',
      'sum',
      'where',
      '<',
      'none',
      '!=',
      '\n',
      ' ',
      'fn',
      'check',
      '?',
      'and',
      'not',
      'scan',
      'over',
      'in',
      'with',
      'step',
      'like',
      'without',
      'cases',
      '->',
      'error',
      "'m'",
      'i32',
      'a',
      '=',
      '(1, 2)',
      ';',
    ];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(fc.constantFrom(...pieces), { maxLength: 40 }).map((p) => p.join(' ')),
        ),
        (text) => {
          const r = parseLossSource(text, 'fuzz.loss');
          for (const d of r.diagnostics) expect(d.span.line).toBeGreaterThanOrEqual(1);
        },
      ),
      { numRuns: 1500 },
    );
  });
});
