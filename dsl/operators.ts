// Operators. Arithmetic and tensor comparisons are spellings of table entries, so they get the
// same kind checks and constant folding as calls. Comparisons and logic on options
// (`reduction == 'sum'`, `weight != none`, `full and not logInput`) are static instead: they
// are decided while the graph is built, and are what an `if` selects on.
import { OPERATORS } from './functions.js';
import { applyFunction } from './calls.js';
import { errorValue, joinLoc, type Loc, type Lowered, type Reporter } from './lower.js';
import { describeType } from './types.js';

const STATIC_SORTS: ReadonlySet<string> = new Set(['text', 'flag', 'none', 'optional']);
const isStatic = (l: Lowered): boolean => STATIC_SORTS.has(l.type.sort);
const hasError = (...ls: Lowered[]): boolean => ls.some((l) => l.type.sort === 'error');
const union = (a: readonly string[] = [], b: readonly string[] = []): string[] => [...new Set([...a, ...b])];

/** `lhs op rhs` for an arithmetic or comparison operator. */
export function binary(symbol: string, lhs: Lowered, rhs: Lowered, r: Reporter): Lowered {
  const at = joinLoc(lhs.at, rhs.at);
  if (hasError(lhs, rhs)) return errorValue(at);
  const comparison = ['<', '<=', '>', '>=', '==', '!='].includes(symbol);
  if (comparison && (isStatic(lhs) || isStatic(rhs))) return staticComparison(symbol, lhs, rhs, at, r);
  return applyFunction(OPERATORS[symbol]!, { display: `'${symbol}'`, isOperator: true }, [{ value: lhs }, { value: rhs }], at, r);
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
    if (x.type.sort !== 'optional' && x.type.sort !== 'tensor' && x.type.sort !== 'none') {
      r.error(`only optional tensors can be none, but ${r.source.quote(x.at)} is ${describeType(x.type)}`, x.at);
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
    for (const [known, option] of [[a, b], [b, a]] as const) {
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
    return { type: { sort: 'flag' }, at, narrows, eval: (env) => (op === 'and' ? Boolean(a.eval(env)) && Boolean(b.eval(env)) : Boolean(a.eval(env)) || Boolean(b.eval(env))) };
  }
  if (a.type.sort === 'flag' || b.type.sort === 'flag') {
    const [flag, other] = a.type.sort === 'flag' ? [a, b] : [b, a];
    r.error(`'${op}' cannot combine ${r.source.quote(flag.at)}, a bool known when the graph is built, with ${r.source.quote(other.at)}, ${describeType(other.type)}: choose with 'if', or select tensors with where`, at);
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
