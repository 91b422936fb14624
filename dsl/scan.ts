// The scan construct: a recurrence, lowered to compiler/passes/scan.ts's scan(). Its body is a
// graph of its own over placeholders, so it sees only its own names (the state, one step of each
// sequence, the constants, the step number): an outer tensor inside it would belong to another
// graph. `like a` / `like a without -1` state an operand's step shape relative to the state (the
// `shapes` argument), which lets the derived gradient skip reductions.
//
//   scan a = start over e in emit like a with skip = canSkip like a step t { ... next state ... }
import type { IToken } from './chevrotain.js';
import type { Graph, Node } from '../compiler/ir/node.js';
import { reduceShape } from '../compiler/ir/shape.js';
import type { BuildContext } from '../compiler/loss.js';
import { scan, type StepShape } from '../compiler/primitives/scan.js';
import { tokenLoc } from './cst.js';
import type { LikeShape } from './declarations.js';
import { BuildFailure, errorValue, RaisedError, Scope, type Binding, type Env, type Loc, type Lowered, type Reporter } from './lower.js';
import { describeType, dimsText, tensorOf, type Dims } from './types.js';

export interface ScanOperand {
  readonly name: IToken;
  readonly value: Lowered;
  /** `e in emit` (a sequence, one slice per step) or `n = lengths` (the same every step) */
  readonly sequence: boolean;
  readonly like?: LikeShape;
}

export interface ScanParts {
  readonly state: IToken;
  readonly init: Lowered;
  readonly operands: readonly ScanOperand[];
  readonly step?: IToken;
  readonly at: Loc;
  /** the scope around the scan, which its body does not see */
  readonly outside: Scope;
}

/** A scan body's context: its graph (where numbers become constants), and nothing of the loss. */
function bodyContext(graph: Graph): BuildContext {
  const outside = (): never => {
    throw new Error('internal error: a scan body sees only its own names');
  };
  return { graph, input: outside, num: outside, str: outside, flag: outside, tensor: outside, numCase: outside, fn: outside };
}

/**
 * Check the parts, then lower the body (`lowerBody`, in a scope of the scan's own names) into a
 * value whose build calls scan().
 */
export function lowerScan(parts: ScanParts, lowerBody: (scope: Scope) => Lowered, r: Reporter): Lowered {
  const { state, init, operands, step, at, outside } = parts;
  if ([init, ...operands.map((o) => o.value)].some((l) => l.type.sort === 'error')) return errorValue(at);
  const q = (l: Lowered): string => r.source.quote(l.at);
  if (init.type.sort !== 'tensor' || init.type.kind !== 'float' || init.type.constant !== undefined) {
    r.error(`the initial state of scan must be a float tensor (shaped like every state), but ${q(init)} is ${describeType(init.type)}`, init.at);
    return errorValue(at);
  }
  const stateDims = init.type.dims;
  const shapes: { xs: (StepShape | undefined)[]; consts: (StepShape | undefined)[] } = { xs: [], consts: [] };
  const why = (name: string): string =>
    `'${name}' is defined outside the scan, whose body sees only its state, its operands and its step: pass it in with 'with ${name} = ${name}'`;
  const scope = new Scope(null, { scope: outside, why });
  const bindings: Binding[] = [];
  const define = (name: IToken, type: Binding['type']): void => {
    const b: Binding = { name: name.image, type, at: tokenLoc(name), what: 'parameter', eval: (env) => env.values.get(b)! };
    scope.define(b, r);
    bindings.push(b);
  };
  define(state, tensorOf('float', stateDims));
  for (const o of operands) {
    const t = o.value.type;
    if (t.sort !== 'tensor' || t.constant !== undefined) {
      r.error(`${o.sequence ? 'a sequence' : 'a constant'} of scan must be a tensor, but ${q(o.value)} is ${describeType(t)}`, o.value.at);
      return errorValue(at);
    }
    if (o.sequence && t.dims !== null && t.dims.length === 0) {
      r.error(`scan steps over the first axis of ${q(o.value)}, but it has none (${dimsText(t.dims)})`, o.value.at);
      return errorValue(at);
    }
    let stepShape: StepShape | undefined;
    if (o.like) {
      if (o.like.name.image !== state.image) {
        r.error(`'like' in a scan states a step's shape relative to the state '${state.image}', but names '${o.like.name.image}'`, tokenLoc(o.like.name));
        return errorValue(at);
      }
      const without = o.like.without;
      stepShape = without === undefined ? (s) => s : (s) => reduceShape(s, [without], false);
    }
    (o.sequence ? shapes.xs : shapes.consts).push(stepShape);
    const dims: Dims = o.sequence ? (t.dims === null ? null : t.dims.slice(1)) : t.dims;
    define(o.name, tensorOf(t.kind, dims));
  }
  if (step) define(step, tensorOf('int', []));
  const body = lowerBody(scope);
  if (body.type.sort === 'error') return errorValue(at);
  if (body.type.sort !== 'tensor' || body.type.kind !== 'float' || body.type.constant !== undefined) {
    r.error(`the body of scan gives the next state, a float tensor, but this is ${describeType(body.type)}`, body.at);
    return errorValue(at);
  }
  const sequences = operands.filter((o) => o.sequence);
  const constants = operands.filter((o) => !o.sequence);
  const steps = sequences[0]!.value.type.sort === 'tensor' ? (sequences[0]!.value.type.dims?.[0] ?? '?') : '?';
  return {
    type: tensorOf('float', stateDims === null ? null : [steps, ...stateDims]),
    at,
    eval: (env) => {
      const node = (l: Lowered): Node => l.eval(env) as Node;
      try {
        return scan(
          node(init),
          sequences.map((o) => node(o.value)),
          constants.map((o) => node(o.value)),
          (carry, xs, consts, t) => {
            const inner: Env = { ctx: bodyContext(carry.graph), values: new Map() };
            [carry, ...xs, ...consts, ...(step ? [t] : [])].forEach((n, i) => inner.values.set(bindings[i]!, n));
            return body.eval(inner) as Node;
          },
          false,
          shapes,
        );
      } catch (e) {
        if (e instanceof BuildFailure || e instanceof RaisedError) throw e;
        throw new BuildFailure({ severity: 'error', message: `scan: ${(e as Error).message}`, span: r.source.span(at) });
      }
    },
  };
}
