// CTCLoss as it was written with the TS builders before it moved to dsl/stdlib/sequence.loss: the
// reference the .loss version must build (sameGraph.test.ts compares the scan bodies structurally).
// torch 1.13's aten/src/ATen/native/LossCTC.cpp, with the alpha recursion as a scan:
// its gradient is the reverse scan the compiler derives from it (the beta recursion), i.e. the
// mathematically true derivative. torch's backward returns that plus exp(log_probs) * g over the
// frames t < input_length, a term the log_softmax in front of CTC maps to zero: both agree on the
// gradient with respect to the logits, and lossc returns the true one.
import type { LossDef, InputSpec } from '../../compiler/loss.js';
import type { Node } from '../../compiler/ir/node.js';
import { affineShape, reduceShape } from '../../compiler/ir/shape.js';
import {
  add,
  and,
  broadcastTo,
  cast,
  clampMin,
  dim,
  div,
  eq,
  floorDiv,
  gather,
  ge,
  iotaOf,
  logSumExpOf,
  lt,
  mean,
  mod,
  ne,
  neg,
  not,
  reduce,
  shift,
  sub,
  sum,
  unsqueeze,
  where,
  withGrad,
} from '../../compiler/ir/builders.js';
import { scan } from '../../compiler/primitives/scan.js';

const int = (name: string): InputSpec => ({ name, kind: 'int' });
const NEG_INF = -Infinity;

export const CTCLoss: LossDef = {
  name: 'CTCLoss',
  doc: 'connectionist temporal classification: -log of the summed probability of every alignment of the targets to the frames',
  inputs: [{ name: 'log_probs', kind: 'float' }, int('targets'), int('input_lengths'), int('target_lengths')],
  options: [
    { name: 'blank', type: 'number', default: 0, integer: true },
    { name: 'reduction', type: 'enum', values: ['none', 'mean', 'sum'], default: 'mean' },
    { name: 'zeroInfinity', type: 'bool', default: false },
  ],
  checks: [
    { kind: 'batchIfUnbatched', of: 'log_probs', rank: 2, inputs: [{ name: 'log_probs', axis: 1 }, 'targets', 'input_lengths', 'target_lengths'] },
    { kind: 'ctc', logProbs: 'log_probs', targets: 'targets', inputLengths: 'input_lengths', targetLengths: 'target_lengths' },
  ],
  build: (c) => {
    const [lp, targets, inputLengths, targetLengths] = ['log_probs', 'targets', 'input_lengths', 'target_lengths'].map((n) => c.input(n)) as [
      Node,
      Node,
      Node,
      Node,
    ];
    const g = lp.graph;
    const blank = c.num('blank');
    // the extended labels l' = blank, t1, blank, t2, ..., blank: 2S + 1 states per sample
    const states = affineShape(targets.shape, -1, 2, 1);
    const s = iotaOf(g, states, -1);
    const isBlank = eq(mod(s, 2), 0);
    const label = cast(gather(unsqueeze(targets, [-2]), floorDiv(s, 2), -1), 'float');
    const used = lt(s, unsqueeze(add(mul2(targetLengths), 1), [-1])); // s < 2 * target_length + 1
    const ext = where(and(used, not(isBlank)), label, blank);
    // a label state may be entered from two states back unless that is the same label
    const skip = and(not(isBlank), ne(ext, shift(ext, -1, 2, -1)));
    const emit = where(used, gather(unsqueeze(lp, [-2]), cast(ext, 'int'), -1), NEG_INF); // [T, N, 2S+1]
    const start = broadcastTo(where(eq(s, 0), 0, NEG_INF), states); // alpha before the first frame
    const alpha = scan(
      start,
      [emit],
      [skip, inputLengths],
      (a, [e], [canSkip, length], t) => {
        const fromPrev = shift(a, -1, 1, NEG_INF);
        const fromTwoBack = where(canSkip!, shift(a, -1, 2, NEG_INF), NEG_INF);
        const next = add(e!, logSumExpOf(a, fromPrev, fromTwoBack));
        return where(lt(t, unsqueeze(length!, [-1])), next, a); // frames past input_length change nothing
      },
      false,
      { xs: [(state) => state], consts: [(state) => state, (state) => reduceShape(state, [-1], false)] },
    );
    const last = gather(alpha, cast(sub(dim(lp, 0), 1), 'int'), 0);
    const end = mul2(targetLengths); // the final blank
    const lastLabel = where(ge(end, 1), gather(last, sub(end, oneInt(g)), -1), NEG_INF);
    let loss = neg(logSumExpOf(gather(last, end, -1), lastLabel));
    if (c.flag('zeroInfinity')) loss = where(eq(loss, Infinity), 0, loss);
    else {
      // an impossible alignment (infinite loss): torch's gradient is NaN over the sample's frames
      const frames = lt(iotaOf(g, lp.shape, 0), unsqueeze(inputLengths, [-1]));
      const nanGrad = where(and(frames, unsqueeze(eq(loss, Infinity), [-1])), NaN, 0);
      loss = add(loss, sum(withGrad(broadcastTo(g.constant(0), lp.shape), [lp, nanGrad]), [0, -1]));
    }
    const r = c.str('reduction');
    return r === 'mean' ? mean(div(loss, clampMin(cast(targetLengths, 'float'), 1))) : reduce(loss, r);
  },
};

const oneInt = (g: Node['graph']): Node => g.constant(1, 'int');
const mul2 = (x: Node): Node => add(x, x);

export const sequenceLosses: readonly LossDef[] = [CTCLoss];
