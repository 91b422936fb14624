// Operators. Arithmetic and tensor comparisons are spellings of table entries, so they get the
// same kind checks and constant folding as calls. Comparisons and logic on options
// (`reduction == 'sum'`, `weight != none`, `full and not logInput`) are static instead: they
// are decided while the graph is built, and are what an `if` selects on.
import { OPERATORS } from './functions.js';
import { applyFunction } from './calls.js';
import { errorValue, joinLoc, type Loc, type Lowered, type Reporter } from './lower.js';
import { describeType } from './types.js';

const STATIC_SORTS: ReadonlySet<string> = new Set(['text', 'flag', 'none', 'optional', 'function']);
const isStatic = (l: Lowered): boolean => STATIC_SORTS.has(l.type.sort);
const hasError = (...ls: Lowered[]): boolean => ls.some((l) => l.type.sort === 'error');
const union = (a: readonly string[] = [], b: readonly string[] = []): string[] => [...new Set([...a, ...b])];

/** `lhs op rhs` for an arithmetic or comparison operator. */
export function binary(symbol: string, lhs: Lowered, rhs: Lowered, r: Reporter): Lowered {
  const at = joinLoc(lhs.at, rhs.at);
  if (hasError(lhs, rhs)) return errorValue(at);
  const comparison = ['<', '<=', '>', '>=', '==', '!='].includes(symbol);
  if (comparison && (isStatic(lhs) || isStatic(rhs))) return staticComparison(symbol, lhs, rhs, at, r);
  if (comparison) {
    const [a, b] = [constantOf(lhs), constantOf(rhs)];
    if (a !== undefined && b !== undefined) {
      const value = COMPARE[symbol]!(a, b); // two numbers: known now (a fn called with p = 2 asks p == 1)
      return { type: { sort: 'flag', constant: value }, at, eval: () => value };
    }
    const byCase = caseComparison(symbol, lhs, rhs, at, r);
    if (byCase) return byCase;
  }
  const value = applyFunction(OPERATORS[symbol]!, { display: `'${symbol}'`, isOperator: true }, [{ value: lhs }, { value: rhs }], at, r);
  const option = [lhs, rhs].find((l) => l.binding?.what === 'option' && l.type.sort === 'tensor' && !l.type.cases);
  if (comparison && option && [lhs, rhs].some((l) => constantOf(l) !== undefined) && value.type.sort !== 'error') {
    const hint = `; to choose a formula by the value of ${option.binding!.name}, declare its cases: 'option ${option.binding!.name}: float = ... cases (${constantOf(lhs === option ? rhs : lhs)})'`;
    return { ...value, hint };
  }
  return value;
}

const constantOf = (l: Lowered): number | undefined => (l.type.sort === 'tensor' ? l.type.constant : undefined);

const COMPARE: Readonly<Record<string, (a: number, b: number) => boolean>> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};

/**
 * `p == 1` for a numeric option with cases: decided while the graph is built (which case
 * applies); any other comparison of it is a run-time one.
 */
function caseComparison(symbol: string, lhs: Lowered, rhs: Lowered, at: Loc, r: Reporter): Lowered | null {
  const [option, other] = lhs.type.sort === 'tensor' && lhs.type.cases ? [lhs, rhs] : [rhs, lhs];
  const cases = option.type.sort === 'tensor' ? option.type.cases : undefined;
  const value = constantOf(other);
  if (!cases || value === undefined || (symbol !== '==' && symbol !== '!=')) return null;
  if (!cases.values.includes(value)) {
    r.error(`${value} is not a case of ${cases.option} (cases: ${cases.values.join(', ')}): only the cases are known when the graph is built`, other.at);
    return errorValue(at);
  }
  const differ = symbol === '!=';
  return { type: { sort: 'flag' }, at, eval: (env) => (env.ctx.numCase(cases.option) === value) !== differ };
}

export function negative(x: Lowered, at: Loc, r: Reporter): Lowered {
  return applyFunction(OPERATORS['unary -']!, { display: "'-'", isOperator: true }, [{ value: x }], at, r);
}

function staticComparison(symbol: string, a: Lowered, b: Lowered, at: Loc, r: Reporter): Lowered {
  if (symbol !== '==' && symbol !== '!=') {
    r.error(`'${symbol}' compares numbers and tensors; options are compared with == and !=`, at);
    return errorValue(at);
  }
  const differ = symbol === '!=';
  const [x, y] = a.type.sort === 'none' ? [b, a] : [a, b];
  if (y.type.sort === 'none') {
    if (x.type.sort !== 'optional' && x.type.sort !== 'tensor' && x.type.sort !== 'none' && x.type.sort !== 'function') {
      r.error(`only optional tensors and function options can be none, but ${r.source.quote(x.at)} is ${describeType(x.type)}`, x.at);
      return errorValue(at);
    }
    const name = x.binding ? [x.binding.name] : [];
    return {
      type: { sort: 'flag' },
      at,
      eval: (env) => (x.type.sort !== 'none' && x.eval(env) !== null) === differ,
      narrows: differ ? { whenTrue: name, whenFalse: [] } : { whenTrue: [], whenFalse: name },
    };
  }
  if (a.type.sort === 'text' && b.type.sort === 'text') {
    for (const [known, option] of [
      [a, b],
      [b, a],
    ] as const) {
      const value = known.type.sort === 'text' ? known.type.constant : undefined;
      if (value !== undefined && option.type.sort === 'text' && option.type.constant === undefined && !option.type.values.includes(value)) {
        r.error(`'${value}' is not a value of ${r.source.quote(option.at)} (${option.type.values.map((v) => `'${v}'`).join(' | ')})`, known.at);
        return errorValue(at);
      }
    }
  } else if (!(a.type.sort === 'flag' && b.type.sort === 'flag')) {
    r.error(`cannot compare ${describeType(a.type)} (${r.source.quote(a.at)}) with ${describeType(b.type)} (${r.source.quote(b.at)})`, at);
    return errorValue(at);
  }
  return { type: { sort: 'flag' }, at, eval: (env) => (a.eval(env) === b.eval(env)) !== differ };
}

/** `a and b` / `a or b`: static on build-time bools, elementwise on comparisons. */
export function logical(op: 'and' | 'or', a: Lowered, b: Lowered, r: Reporter): Lowered {
  const at = joinLoc(a.at, b.at);
  if (hasError(a, b)) return errorValue(at);
  if (a.type.sort === 'flag' && b.type.sort === 'flag') {
    const narrows =
      op === 'and'
        ? { whenTrue: union(a.narrows?.whenTrue, b.narrows?.whenTrue), whenFalse: [] }
        : { whenTrue: [], whenFalse: union(a.narrows?.whenFalse, b.narrows?.whenFalse) };
    return {
      type: { sort: 'flag' },
      at,
      narrows,
      eval: (env) => (op === 'and' ? Boolean(a.eval(env)) && Boolean(b.eval(env)) : Boolean(a.eval(env)) || Boolean(b.eval(env))),
    };
  }
  if (a.type.sort === 'flag' || b.type.sort === 'flag') {
    const [flag, other] = a.type.sort === 'flag' ? [a, b] : [b, a];
    r.error(
      `'${op}' cannot combine ${r.source.quote(flag.at)}, a bool known when the graph is built, with ${r.source.quote(other.at)}, ${describeType(other.type)}: choose with 'if', or select tensors with where`,
      at,
    );
    return errorValue(at);
  }
  return applyFunction(OPERATORS[op]!, { display: `'${op}'`, isOperator: true }, [{ value: a }, { value: b }], at, r);
}

export function logicalNot(x: Lowered, at: Loc, r: Reporter): Lowered {
  if (hasError(x)) return errorValue(at);
  if (x.type.sort === 'flag') {
    return { type: { sort: 'flag' }, at, eval: (env) => !x.eval(env), narrows: { whenTrue: x.narrows?.whenFalse ?? [], whenFalse: x.narrows?.whenTrue ?? [] } };
  }
  return applyFunction(OPERATORS['not']!, { display: "'not'", isOperator: true }, [{ value: x }], at, r);
}
