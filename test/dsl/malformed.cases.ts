// Malformed .loss programs and the first diagnostic each must give: `line:column: message`.
// One line per case reads like a specification of the front end's error messages.
export interface Malformed {
  readonly what: string;
  readonly source: string;
  readonly expected: string;
  /** a note the diagnostic must carry ("did you mean ...", "first defined here") */
  readonly note?: string;
  /** losses still read despite the error (all others are dropped) */
  readonly read?: readonly string[];
}

const loss = (body: string, inputs = 'x: f32'): string => `loss A(${inputs}) {\n${body}\n}`;

export const MALFORMED: readonly Malformed[] = [
  // lexing
  { what: 'a character outside the language', source: loss('  return x $ 2'), expected: "2:12: unexpected character '$'" },
  { what: 'an unterminated string', source: loss("  return sum(x, 'abc)"), expected: '2:17: unterminated string: add the closing quote on the same line' },
  // parsing
  { what: "a call's missing ')'", source: loss('  let y = sum(x, 1\n  return y'), expected: "3:3: expected ')' after the arguments of sum, found 'return'" },
  { what: "a missing ')' at the end of the line", source: loss('  return sum(exp(x)'), expected: "3:1: expected ')' after the arguments of sum, found '}'" },
  { what: 'a parenthesis left open', source: loss('  return (x + 1'), expected: "3:1: expected ')' to close the '(' at 2:10, found '}'" },
  { what: 'a let without a value', source: loss('  let y =\n  return y'), expected: "3:3: expected an expression after '=', found 'return'" },
  { what: 'an operator without its right operand', source: loss('  return x *'), expected: "3:1: expected an expression after '*', found '}'" },
  { what: 'a loss without its body', source: 'loss A(x: f32)\n  return x\n', expected: "1:15: expected '{' to start the body of A, found the end of the line" },
  { what: 'a statement at the top level', source: 'let x = 1', expected: "1:1: expected 'loss', 'fn' or 'type' at the top level, found 'let'" },
  {
    what: 'an if without else',
    source: loss('  return if true { x }'),
    expected: "2:23: expected 'else' and a second branch: an 'if' chooses between two values, found the end of the line",
  },
  { what: "an input without ':'", source: 'loss A(x f32) { return x }', expected: "1:10: expected ':' and a type after the input 'x', found 'f32'" },
  {
    what: 'a bare expression as a statement',
    source: loss('  x + 1'),
    expected: "2:3: expected a statement (let, option, check or return) or '}' to end the body of A, found 'x'",
  },
  {
    what: 'an option without a default',
    source: loss('  option beta: float\n  return x'),
    expected: "2:21: expected '=' and the option's default value (every option has one), found the end of the line",
  },
  {
    what: 'a check without its message',
    source: loss('  check nonNegative(x)\n  return x'),
    expected: `2:22: check nonNegative needs the error message torch gives: add ', "message"' after its arguments`,
  },
  // names
  {
    what: 'an unknown name',
    source: loss('  return abs(input - targt)', 'input: f32, target: f32'),
    expected: "2:22: unknown name 'targt'",
    note: "did you mean 'target'?",
  },
  { what: 'an unknown function', source: loss('  return sigmoyd(x)'), expected: "2:10: unknown function 'sigmoyd'", note: "did you mean 'sigmoid'?" },
  {
    what: 'an unknown option in a condition',
    source: loss("  option reduction: 'none' | 'sum' = 'sum'\n  return if reductoin == 'sum' { sum(x) } else { x }"),
    expected: "3:13: unknown name 'reductoin'",
    note: "did you mean 'reduction'?",
  },
  {
    what: 'an unknown element type',
    source: loss('  return x', 'x: flaot'),
    expected: "1:11: unknown element type 'flaot' (expected f32, f64, float, i32 or int)",
    note: "did you mean 'float'?",
  },
  { what: 'a function used as a value', source: loss('  return exp'), expected: "2:10: 'exp' is a function: call it, as in exp(...)" },
  {
    what: 'an unknown check',
    source: loss('  check positive(x), "x > 0"\n  return x'),
    expected:
      "2:9: unknown check 'positive' (checks: nonNegative, range, sameShape, unsqueezeLastIfMissing, batchIfUnbatched, classIndex, optionRange, classWeight, broadcastsTo, ctc)",
  },
  // duplicates
  {
    what: 'two inputs with one name',
    source: 'loss A(x: f32, x: f32) { return x }',
    expected: "1:16: 'x' is already defined",
    note: "'x' was first defined here",
  },
  {
    what: 'a let redefining a name',
    source: loss('  let y = x\n  let y = x * 2\n  return y'),
    expected: "3:7: 'y' is already defined",
    note: "'y' was first defined here",
  },
  {
    what: 'two losses with one name and the same input kinds',
    source: 'loss A(x: f32) { return x }\nloss A(y: f32) { return y }',
    expected: "2:6: loss 'A' is already defined with the same input kinds (f32): an overload must take an input of another element type",
    note: 'first defined here',
    read: ['A'],
  },
  // kinds
  {
    what: 'int32 in arithmetic',
    source: loss('  return x * t', 'x: f32, t: i32'),
    expected: "2:14: '*' needs float operands, but t is an int32 tensor: cast it with float(t)",
  },
  {
    what: 'int32 in a function needing floats',
    source: loss('  return log(t) + x', 'x: f32, t: i32'),
    expected: '2:14: log needs float arguments, but t is an int32 tensor: cast it with float(t)',
  },
  {
    what: "where's condition not a comparison",
    source: loss('  return where(x, x, 0)'),
    expected: '2:16: the condition of where must be a comparison (a bool), but x is a float tensor',
  },
  { what: 'a float index', source: loss('  return gather(x, x, 0)'), expected: "2:20: 'index' of gather must be an int32 tensor, but x is a float tensor" },
  {
    what: 'an if on tensor values',
    source: loss('  return if x > 0 { x } else { -x }'),
    expected:
      "2:13: the condition of 'if' must be known when the graph is built (a bool option, an option compared with ==, or 'weight != none'), but x > 0 is a comparison (bool); to choose per element by tensor values use where(condition, a, b)",
  },
  {
    what: 'a bool option in arithmetic',
    source: loss('  option full: bool = false\n  return x * full'),
    expected: "3:14: '*' needs a tensor, but full is a bool known when the graph is built: choose with 'if full { ... } else { ... }'",
  },
  {
    what: 'an optional tensor used as if given',
    source: loss('  option weight: f32[*]? = none\n  return x * weight'),
    expected: "3:14: weight may be none here: use it inside 'if weight != none { ... }'",
  },
  {
    what: 'a loss that is a comparison',
    source: loss('  return x < 0'),
    expected: '2:10: A must return a float tensor computed from its inputs, but this is a comparison (bool)',
  },
  { what: 'chained comparisons', source: loss('  return where(0 < x < 1, x, 0)'), expected: '2:16: comparisons do not chain: write 0 < x and x < 1' },
  // arity and parameters
  { what: 'too many arguments', source: loss('  return exp(x, 2)'), expected: '2:10: exp takes 1 argument (x), got 2' },
  { what: 'too few arguments', source: loss('  return logSoftmax(x)'), expected: '2:10: logSoftmax takes 2 arguments (x, axis), got 1' },
  {
    what: 'an unknown keyword',
    source: loss('  return sum(x, axes=1)'),
    expected: "2:17: sum has no parameter 'axes' (its parameters: x, axis, keepdims)",
    note: "did you mean 'axis'?",
  },
  {
    what: 'an axis that is not a literal',
    source: loss('  option k: float = 1\n  return sum(x, axis=k)'),
    expected: "3:22: 'axis' of sum must be an integer or a tuple of integers such as (0, 1), but k is a float tensor",
  },
  {
    what: 'a partial that is not a pair',
    source: loss('  return withGrad(x, x)'),
    expected: '2:22: each partial of withGrad is a pair (x, dx) of tensors, but x is a float tensor',
  },
  { what: "a fn's arity", source: 'fn twice(a) = 2 * a\n' + loss('  return twice(x, x)'), expected: '3:10: twice takes 1 argument (a) by position, got 2' },
  { what: 'a recursive fn', source: 'fn f(a) = f(a)\n' + loss('  return f(x)'), expected: '1:11: f calls itself: fn bodies cannot be recursive' },
  // shapes
  {
    what: 'declared sizes that cannot broadcast',
    source: loss('  return sum(input - target)', 'input: f32[N, C], target: f32[N]'),
    expected: "2:14: '-': shapes [N, C] and [N] do not broadcast: sizes C and N differ (align the axes, e.g. with unsqueeze)",
  },
  {
    what: 'an axis out of range',
    source: loss('  return sum(x, axis=2)', 'x: f32[N, C]'),
    expected: '2:10: sum: axis 2 is out of range for x, a tensor of rank 2 [N, C] (expected an axis in [-2, 1])',
  },
  { what: "two '*' in a shape", source: loss('  return x', 'x: f32[N, *, *]'), expected: "1:11: a shape has at most one '*' (any number of axes)" },
  // options and structure
  {
    what: 'a default of the wrong type',
    source: loss("  option beta: float = 'one'\n  return x"),
    expected: "2:24: the default of option 'beta' must be a number, but this is the string 'one'",
  },
  {
    what: 'a default outside the choices',
    source: loss("  option reduction: 'none' | 'mean' = 'avg'\n  return x"),
    expected: "2:39: the default of option 'reduction' must be one of 'none' | 'mean', but this is the string 'avg'",
  },
  {
    what: 'a comparison with a value the option cannot take',
    source: loss("  option reduction: 'none' | 'mean' = 'mean'\n  return if reduction == 'avg' { x } else { sum(x) }"),
    expected: "3:26: 'avg' is not a value of reduction ('none' | 'mean')",
  },
  {
    what: 'a tensor option that is not optional',
    source: loss('  option weight: f32[C] = none\n  return x'),
    expected: "2:18: a tensor option is an optional float tensor with a shape: write 'weight: f32[C]? = none'",
  },
  { what: 'a loss without return', source: loss('  let y = x'), expected: "1:6: A has no return statement: end its body with 'return <the loss>'" },
  { what: 'a statement after return', source: loss('  return x\n  let y = 2'), expected: '3:3: nothing may follow the return statement of A' },
  {
    what: "'and' mixing a build-time bool with a comparison",
    source: loss('  option full: bool = false\n  return where(full and x > 0, x, 0)'),
    expected:
      "3:16: 'and' cannot combine full, a bool known when the graph is built, with x > 0, a comparison (bool): choose with 'if', or select tensors with where",
  },
  {
    what: 'a tuple in arithmetic',
    source: loss('  return (x, x) * 2'),
    expected: "2:10: '*' needs a tensor, but (x, x) is a tuple: tuples are only withGrad's (x, dx) pairs and axis lists",
  },
  {
    what: 'an unknown option type',
    source: loss('  option beta: flaot = 1\n  return x'),
    expected: "2:16: unknown option type 'flaot' (expected float, int, bool, a type declared with 'type', or a tensor such as f32[C]?)",
    note: "did you mean 'float'?",
  },
  {
    what: 'a fn hiding a built-in',
    source: 'fn exp(a) = a\n' + loss('  return x'),
    expected: "1:4: fn 'exp' would hide the built-in function exp",
    read: ['A'],
  },
  {
    what: 'a keepdims that is not a bool',
    source: loss('  return sum(x, 0, 1)'),
    expected: "2:20: 'keepdims' of sum must be true or false (or a bool option), but 1 is the number 1",
  },
  {
    what: 'branches of different kinds',
    source: loss('  option full: bool = false\n  return if full { x } else { x > 0 }'),
    expected: "3:10: the branches of 'if' give different kinds of value: a float tensor and a comparison (bool)",
  },
  {
    what: 'an if on an optional tensor itself',
    source: loss('  option w: f32[*]? = none\n  return if w { x * w } else { x }'),
    expected:
      "3:13: the condition of 'if' must be known when the graph is built (a bool option, an option compared with ==, or 'weight != none'), but w is an optional tensor (maybe none); write 'if w != none'",
  },
  {
    what: 'an ordering comparison of options',
    source: loss("  option r: 'a' | 'b' = 'a'\n  return if r < 'b' { x } else { -x }"),
    expected: "3:13: '<' compares numbers and tensors; options are compared with == and !=",
  },
  {
    what: 'a check of something that is not an input',
    source: loss('  check nonNegative(2 * x), "x >= 0"\n  return x'),
    expected: "2:21: 'input' of check nonNegative must be the name of an input or tensor option, but 2 * x is not",
  },
  {
    what: 'an int option with a fractional default',
    source: loss('  option k: int = 1.5\n  return x'),
    expected: "2:19: the default of option 'k' must be a whole number, but this is the number 1.5",
  },
  { what: 'calling a value', source: 'fn f(a) = a(1)\n' + loss('  return f(x)'), expected: "1:11: 'a' is a parameter, not a function" },
  // numeric options with cases
  {
    what: 'a comparison with a value that is not a case',
    source: loss('  option p: float = 2 cases (1, 2)\n  return if p == 3 { x } else { x * 2 }'),
    expected: '3:18: 3 is not a case of p (cases: 1, 2): only the cases are known when the graph is built',
  },
  {
    what: 'an if on a numeric option without cases',
    source: loss('  option p: float = 2\n  return if p == 1 { x } else { x * 2 }'),
    expected:
      "3:13: the condition of 'if' must be known when the graph is built (a bool option, an option compared with ==, or 'weight != none'), but p == 1 is a comparison (bool); to choose a formula by the value of p, declare its cases: 'option p: float = ... cases (1)'",
  },
  {
    what: 'cases on an option that is not a number',
    source: loss("  option r: 'a' | 'b' = 'a' cases (1)\n  return x"),
    expected: "2:29: only float and int options have cases (values that choose another graph), not option 'r'",
  },
  {
    what: 'a case that is not a number',
    source: loss("  option p: float = 1 cases (1, 'two')\n  return x"),
    expected: "2:33: a case of option 'p' must be a number, but this is the string 'two'",
  },
  {
    what: 'a case listed twice',
    source: loss('  option p: float = 1 cases (1, 1)\n  return x'),
    expected: "2:33: 1 is listed twice in the cases of option 'p'",
  },
  {
    what: "cases without '('",
    source: loss('  option p: float = 1 cases 1\n  return x'),
    expected: "2:29: expected '(' after 'cases': the cases are a list such as cases (1, 2), found '1'",
  },
  {
    what: "an option's description that is not a string",
    source: loss('  option m: float = 1, 2\n  return x'),
    expected: "2:24: expected the option's description (a string) after ',', found '2'",
  },
  {
    what: 'error() without a message',
    source: loss('  return if true { x } else { error(1) }'),
    expected: '2:31: error takes one argument, the message, a string',
  },
  // overloads
  {
    what: 'overloads with different options',
    source: 'loss A(x: f32) {\n  option m: float = 1\n  return x * m\n}\nloss A(x: i32) {\n  option m: float = 2\n  return float(x) * m\n}',
    expected: "5:6: every form of loss 'A' declares the same options, but this one differs from the first in 'm'",
    note: 'first defined here',
  },
  // function options
  {
    what: 'a function option called where it may be none',
    source: loss('  option d: fn(f32, f32) -> f32 = none\n  return d(x, x)'),
    expected: "3:10: d may be none here: call it inside 'if d != none { ... }'",
  },
  {
    what: "a function option's arity",
    source: loss('  option d: fn(f32, f32) -> f32 = none\n  return if d != none { d(x) } else { x }'),
    expected: '3:25: d takes 2 tensors by position, got 1',
  },
  {
    what: 'a function option with an int argument',
    source: loss('  option d: fn(f32, f32) -> f32 = none\n  return if d != none { d(x, t) } else { x }', 'x: f32, t: i32'),
    expected: '3:30: d takes float tensors, but t is an int32 tensor',
  },
  {
    what: 'a function option with a default',
    source: loss('  option d: fn(f32) -> f32 = 1\n  return x'),
    expected: "2:30: the default of option 'd' must be none, but this is the number 1",
  },
  {
    what: 'a function type without its arrow',
    source: loss('  option d: fn(f32, f32) f32 = none\n  return x'),
    expected: "2:26: expected '->' and the result type after the parameter types, as in fn(f32, f32) -> f32, found 'f32'",
  },
  // shapes like another input's
  {
    what: "'like' naming no earlier input",
    source: 'loss A(input: f32[N, C], target: i32 like inptu without 1) { return input }',
    expected: "1:43: 'like' names an earlier input of A, but 'inptu' is not one",
    note: "did you mean 'input'?",
  },
  {
    what: "'without' an axis out of range",
    source: 'loss A(input: f32[N, C], target: i32 like input without 2) { return input }',
    expected: "1:43: 'without': axis 2 is out of range for input, a tensor of rank 2 [N, C] (expected an axis in [-2, 1])",
  },
  // scan
  {
    what: 'a scan body using a name from outside',
    source: loss('  option m: float = 1\n  let s = scan a = x over e in x { a + e * m }\n  return sum(s)'),
    expected: "3:44: 'm' is defined outside the scan, whose body sees only its state, its operands and its step: pass it in with 'with m = m'",
  },
  {
    what: "a scan's step shape relative to something else than the state",
    source: loss('  let s = scan a = x over e in x like x { a + e }\n  return sum(s)'),
    expected: "2:39: 'like' in a scan states a step's shape relative to the state 'a', but names 'x'",
  },
  {
    what: 'a scan from a plain number',
    source: loss('  let s = scan a = 0 over e in x { a + e }\n  return sum(s)'),
    expected: '2:20: the initial state of scan must be a float tensor (shaped like every state), but 0 is the number 0',
  },
  {
    what: 'a scan body that is not a state',
    source: loss('  let s = scan a = x over e in x { a < e }\n  return sum(s)'),
    expected: '2:36: the body of scan gives the next state, a float tensor, but this is a comparison (bool)',
  },
  {
    what: "a scan without 'over'",
    source: loss('  let s = scan a = x { a }\n  return sum(s)'),
    expected: "2:22: expected 'over' and the sequences to scan after the initial state, as in scan a = start over e in xs { ... }, found '{'",
  },
  {
    what: "a scan operand without 'in' or '='",
    source: loss('  let s = scan a = x over e x { a }\n  return sum(s)'),
    expected: "2:29: expected 'in' and a sequence, or '=' and a constant, after 'e', found 'x'",
  },
  {
    what: 'a scan without its body',
    source: loss('  let s = scan a = x over e in x\n  return sum(s)'),
    expected: "3:3: expected '{' and the body of scan (the next state) after its header, found 'return'",
  },
  // checks
  {
    what: 'a message for a check that has its own',
    source: loss('  check ctc(x, t, t, t), "bad"\n  return x', 'x: f32, t: i32'),
    expected: '2:26: check ctc has its own error messages: remove this one',
  },
  {
    what: "a check's unknown keyword",
    source: loss('  option m: int = 1\n  check classIndex(t, x, 1, ignor=m)\n  return x', 'x: f32, t: i32'),
    expected: "3:29: check classIndex has no parameter 'ignor' (input, of, axis, ignore=, min=, sameShape=)",
    note: "did you mean 'ignore'?",
  },
  {
    what: 'an unbatched input that is not (name, axis)',
    source: loss('  check batchIfUnbatched(x, 1, (x, y))\n  return x', 'x: f32, y: f32'),
    expected: '2:32: each input of check batchIfUnbatched is the name of an input or a pair (name, axis), but (x, y) is a tuple of 2',
  },
  // int arithmetic and fns
  {
    what: 'int and float mixed in arithmetic',
    source: loss('  return t + x', 'x: f32, t: i32'),
    expected: "2:10: '+' needs float operands, but t is an int32 tensor: cast it with float(t)",
  },
  {
    what: 'int division',
    source: loss('  return float(t / 2) * x', 'x: f32, t: i32'),
    expected: "2:16: '/' needs float operands, but t is an int32 tensor: cast it with float(t)",
  },
  {
    what: "a fn without '=' or a block",
    source: 'fn f(a) a\n' + loss('  return x'),
    expected: "1:9: expected '=' and an expression, or a block { ... }, after the parameters of f, found 'a'",
  },
  {
    what: 'a shape that is not one',
    source: loss('  return broadcastTo(x, 2)'),
    expected: "2:25: 'shape' of broadcastTo must be a tensor (its shape is meant) or a shape such as affineShape(x, -1, 2, 1), but 2 is the number 2",
  },
  // errors only a builder raises while the graph is built (every structural combination is tried)
  {
    what: 'a reduction name reduce() rejects',
    source: loss("  option reduction: 'none' | 'mean' | 'sum' | 'batchmean' = 'mean'\n  return reduce(x, reduction)"),
    expected: '3:10: reduce: batchmean is not a valid value for reduction',
  },
];
