// The stabilisation stage: the forward graph's textbook formulas in their stable forms
// (compiler/rewrite/stabilizeRules.ts), BEFORE differentiation, so that the gradient is derived
// from the stable form too. Every rewrite is reported (a note at the source position of the
// rewritten expression); patterns no rewrite can make stable get a warning.
//
// What is never rewritten: what a withGrad states, its value and its derivatives (the builders'
// composites, and a loss that states its own derivative), and anything a rule produced. The
// built-in losses, which follow torch's own formulas to the bit, are not stabilised at all
// (LossDef.stabilize: false).
import { toposort, type Node } from '../ir/node.js';
import { nameOf, originOf, recordOrigin, type Origin } from '../ir/origin.js';
import { rewrite, type Rule } from '../rewrite/engine.js';
import { STABLE_RULES, axesText, normArg, negated, oneMinus, spelledSoftmax, softmaxComposite, type MatchContext } from '../rewrite/stabilizeRules.js';

export interface Finding {
  readonly severity: 'note' | 'warning';
  /** the rule's pattern (notes) or the warning's kind */
  readonly rule: string;
  readonly message: string;
  readonly origin?: Origin;
}

export interface Stabilized {
  readonly output: Node;
  readonly findings: readonly Finding[];
}

/**
 * `output` with its unstable patterns rewritten, and what was done. `differentiable`: the inputs
 * gradients are taken for (a factor no gradient flows into may take xlogy's convention).
 */
export function stabilize(output: Node, differentiable: readonly Node[]): Stabilized {
  const wrt = new Set(differentiable);
  // what a withGrad states is never rewritten nor warned about; what a rule made is not rewritten again
  const stated = statedValues(output);
  const frozen = new Set(stated);
  const replacements = new Set<Node>();
  const findings: Finding[] = [];
  const dataMemo = new Map<Node, boolean>();
  const ctx: MatchContext = { isData: (n) => isData(n, wrt, dataMemo) };

  const rules: Rule[] = STABLE_RULES.map((r) => ({
    name: r.name,
    apply: (n) => {
      // a scan's step is a graph of its own (the engine visits it too): left as written
      if (frozen.has(n) || n.graph !== output.graph) return null;
      const m = r.match(n, ctx);
      if (!m || m.node === n) return null;
      freezeProduct(m.node, m.parts, frozen);
      replacements.add(m.node);
      const origin = originOf(n);
      if (origin) recordOrigin(m.node, origin);
      const names = m.parts.map((p) => describe(p));
      findings.push({ severity: 'note', rule: r.name, message: r.note(names, axesText(m.axes)), ...(origin ? { origin } : {}) });
      return m.node;
    },
  }));
  const [stable] = rewrite([output], rules, undefined, (from, to) => {
    const origin = originOf(from);
    if (origin) recordOrigin(to, origin);
    if (frozen.has(from)) frozen.add(to);
    if (stated.has(from)) stated.add(to);
    if (replacements.has(from)) replacements.add(to);
  });
  // warnings look at what the user wrote and at what replaced it, not inside the stable forms
  const quiet = new Set([...frozen].filter((n) => !replacements.has(n)));
  findings.push(...warnings(stable!, quiet, ctx));
  return { output: stable!, findings };
}

/** What a withGrad states: its value and its derivatives, down to the variables they are for. */
function statedValues(output: Node): Set<Node> {
  const frozen = new Set<Node>();
  for (const n of toposort([output])) {
    if (n.op !== 'withGrad') continue;
    const vars = n.inputs.filter((_, i) => i % 2 === 1);
    for (const [i, stated] of n.inputs.entries()) if (i % 2 === 0) freezeProduct(stated, vars, frozen);
  }
  return frozen;
}

/** Freeze `root` and what it is made of, down to (not including) `parts`. */
function freezeProduct(root: Node, parts: readonly Node[], frozen: Set<Node>): void {
  const stop = new Set(parts);
  const stack = [root];
  while (stack.length) {
    const n = stack.pop()!;
    if (stop.has(n) || frozen.has(n)) continue;
    frozen.add(n);
    stack.push(...n.inputs);
  }
}

function isData(n: Node, wrt: ReadonlySet<Node>, memo: Map<Node, boolean>): boolean {
  const order = toposort([n]);
  for (const m of order) {
    if (memo.has(m)) continue;
    memo.set(m, m.op === 'input' ? !wrt.has(m) : m.inputs.every((i) => memo.get(i)));
  }
  return memo.get(n)!;
}

// ------------------------------------------------------------------ warnings

/** What no rewrite can make stable: a log or a division of something that can reach 0 or overflow. */
function warnings(output: Node, quiet: ReadonlySet<Node>, _ctx: MatchContext): Finding[] {
  const out: Finding[] = [];
  const warn = (n: Node, rule: string, message: string): void => {
    const origin = originOf(n);
    if (origin?.quiet) return;
    out.push({ severity: 'warning', rule, message, ...(origin ? { origin } : {}) });
  };
  for (const n of toposort([output])) {
    if (quiet.has(n)) continue;
    // log(v), or xlogy(w, v): -inf where v is 0 (xlogy too, where w is not)
    if (n.op === 'log' || n.op === 'xlogy') {
      const v = n.inputs[n.op === 'log' ? 0 : 1]!;
      const p = oneMinus(v);
      const what =
        n.op === 'log'
          ? `log(${describe(v)}) is -inf where ${describe(v)} is 0`
          : `${describe(n.inputs[0]!)} * log(${describe(v)}) is -inf where ${describe(v)} is 0 (and ${describe(n.inputs[0]!)} is not)`;
      if (v.op === 'input') warn(n, 'unguarded log', `${what}, and its gradient inf: clamp it (clampMin(${describe(v)}, eps))`);
      else if (p?.op === 'input')
        warn(
          n,
          'unguarded log',
          `log(1 - ${describe(p)}) is -inf where ${describe(p)} is 1, and its gradient inf: clamp it (clampMin(1 - ${describe(p)}, eps))`,
        );
    }
    if (n.op === 'div') {
      const [num, den] = n.inputs as [Node, Node];
      const norm = [den, ...(den.op === 'mul' ? den.inputs : [])].map(normOf).find((x) => x);
      if (den.op === 'input')
        warn(
          n,
          'unguarded division',
          `division by ${describe(den)}, which is inf or NaN where ${describe(den)} is 0: clamp it (clampMin(${describe(den)}, eps)) or add an eps`,
        );
      else if (norm)
        warn(
          n,
          'unguarded division',
          `division by the norm of ${describe(norm)}, which is 0 for a zero vector (0 / 0 = NaN): clampMin(norm, eps), as torch's cosine_similarity does`,
        );
      const e = [num, den, ...(den.op === 'add' ? den.inputs : [])].find((x) => x.op === 'exp' && !bounded(x.inputs[0]!));
      if (e && !spelledSoftmax(n) && !softmaxComposite(n))
        warn(
          n,
          'exp overflow',
          `exp(${describe(e.inputs[0]!)}) overflows to inf for large ${describe(e.inputs[0]!)} (above 88 in float32), and the division then gives NaN: use softmax or sigmoid, or subtract the maximum first`,
        );
    }
  }
  return out;
}

function normOf(n: Node): Node | null {
  const m = n.op === 'withGrad' ? normArg(n.inputs[0]!) : normArg(n);
  return m?.x ?? null;
}

/** exp(x) of an x that cannot overflow: x <= 0 by construction (-|y|, a max-shifted difference, min(y, 0)) */
function bounded(x: Node): boolean {
  const y = negated(x);
  if (y && (y.op === 'abs' || (y.op === 'mul' && y.inputs[0] === y.inputs[1]))) return true;
  if (x.op === 'minimum' || x.op === 'const' || x.op === 'log' || x.op === 'log1p') return true;
  if (x.op === 'sub') {
    const m = x.inputs[1]!;
    const core = m.op === 'unsqueeze' || m.op === 'broadcastTo' || m.op === 'stopGradient' ? m.inputs[0]! : m;
    return core.op === 'max' || core.op === 'maximum';
  }
  return false;
}

// ------------------------------------------------------------------ describing a node

const SYMBOL: Partial<Record<string, string>> = { add: '+', sub: '-', mul: '*', div: '/', pow: '**' };

/** How a note names a node: the source text that made it, else an input's name, else a short formula. */
export function describe(n: Node, depth = 0): string {
  const name = nameOf(n);
  if (name) return name;
  const o = originOf(n);
  if (o?.text) return o.text;
  if (n.op === 'input' || n.op === 'param') return String(n.attrs.name);
  if (n.op === 'const') return String(n.attrs.value);
  if (depth > 2) return '...';
  const sym = SYMBOL[n.op];
  if (sym) return `(${describe(n.inputs[0]!, depth + 1)} ${sym} ${describe(n.inputs[1]!, depth + 1)})`;
  if (n.op === 'neg') return `-${describe(n.inputs[0]!, depth + 1)}`;
  if (n.op === 'broadcastTo' || n.op === 'unsqueeze' || n.op === 'cast' || n.op === 'stopGradient') return describe(n.inputs[0]!, depth);
  return `${n.op}(${n.inputs.map((i) => describe(i, depth + 1)).join(', ')})`;
}

/** The stabilize section of explain(): each rewrite and warning, one line each. */
export function printFindings(findings: readonly Finding[], enabled: boolean): string {
  if (!enabled) return "(off: the built-in losses follow torch's own formulas)";
  if (!findings.length) return '(nothing to rewrite)';
  return findings
    .map(
      (f) =>
        `${f.severity === 'note' ? `${f.rule.padEnd(22)} ` : 'warning: '}${f.message}${f.origin ? `  [${f.origin.file}:${f.origin.line}:${f.origin.column}]` : ''}`,
    )
    .join('\n');
}
