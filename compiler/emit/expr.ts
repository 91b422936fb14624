// The expression printer shared by every backend: it walks what one domain element of a kernel
// computes and prints it as single-assignment statements, spelling each primitive with the
// backend's column of the table. It also records what the loop around it must supply: the
// tensors read (with the view path through which each is seen) and the scalars hoisted out.
import type { Node } from '../ir/node.js';
import { primitive, type PrimDef } from '../primitives/table.js';
import { scalarShape, type ShapeExpr } from '../ir/shape.js';
import type { Kernel, Precision } from '../plan/kernelPlan.js';
import { IOTA } from '../abi/strides.js';
import * as b from '../ir/builders.js';

export type { ViewStep, Site, ScalarSource } from '../abi/sites.js';

/** Beyond this depth of nested operands the printer walks elementwise chains with a stack of its own. */
const DEEP = 200;
import type { Site, ScalarSource, ViewStep } from '../abi/sites.js';
export { IOTA } from '../abi/strides.js';

export interface Spelling {
  readonly column: 'js' | 'wgsl';
  literal(value: number, kind: Node['kind']): string;
  /** wrap a float result that must be rounded to the kernel's precision */
  round(expr: string): string;
  declare(name: string, expr: string, node: Node): string;
  siteRead(site: number, index: string): string;
  /** cond ? a : b, for operands already computed */
  select(cond: string, a: string, b: string): string;
  /** a backend's own spelling of a primitive in this kernel (e.g. a faster exp), instead of the table's */
  override?(n: Node, operands: readonly string[]): string | undefined;
  scalarRead(slot: number, source: ScalarSource, node: Node): string;
  /** typed backends (WGSL): convert operand `position` of `op`, spelled as `expr`, to the type `op` computes in */
  coerce?(expr: string, operand: Node, op: Node, position: number): string;
}

export interface BodyEnv {
  readonly precision: Precision;
  /** reductions computed by earlier kernels, readable here, and their buffers */
  readonly materialized: ReadonlyMap<Node, string>;
}

export interface BodyOptions {
  /**
   * Values constant along a row (`test`) are computed once per row, before the row's loop:
   * printed into `lines`, with sites indexed by `index` (the row's first element).
   */
  readonly hoistRow?: { readonly test: (n: Node) => boolean; readonly index: (site: number) => string; readonly lines: string[] };
  /** hoist scalar expressions of scalars before the loop (default: when nothing is bound) */
  readonly scalarInvariants?: boolean;
  /** each root is computed in its own shape (a row kernel's per-row work), not in the domain */
  readonly rootFrames?: boolean;
  /** row kernels: nodes computed at the element itself (no view) are recorded here */
  readonly record?: Set<Node>;
  /** row kernels: after computing one of these nodes, also store it in that array at [j] */
  readonly cacheWrite?: ReadonlyMap<Node, string>;
  /** row kernels: read these nodes from that array at [j] instead of computing them */
  readonly cacheRead?: ReadonlyMap<Node, string>;
}

export class BodyPrinter {
  readonly sites: Site[] = [];
  readonly scalars: ScalarSource[] = [];
  private readonly siteIndex = new Map<string, number>();
  private readonly scalarIndex = new Map<string, number>();
  /** scalar hoists (printed once, before the loop) */
  readonly hoisted: string[] = [];
  private readonly hoistedNames = new Map<string, string>();

  constructor(
    readonly spell: Spelling,
    readonly env: BodyEnv,
  ) {}

  /**
   * Print the statements computing `roots` at one domain element. `index(site)` spells the
   * element offset of a site; `suffix` keeps the names of unrolled copies apart.
   */
  body(
    roots: readonly Node[],
    index: (site: number) => string,
    suffix = '',
    bound: ReadonlyMap<Node, string> = new Map(),
    opts: BodyOptions = {},
  ): { lines: string[]; values: string[] } {
    const lines: string[] = [];
    const memo = new Map<string, string>();
    let temp = 0;
    const hoistScalars = opts.scalarInvariants ?? bound.size === 0;
    let frame: ShapeExpr | undefined;
    const keyOf = (n: Node, path: readonly Node[], hoisted: boolean): string =>
      `${hoisted ? 'H' : ''}${frame?.key ?? ''}|${n.id}@${path.map((p) => p.id).join('.')}`;
    // an elementwise op printed from its operands' values under the same view: the recursion
    // below follows these, and a chain of thousands of them is walked with an explicit stack.
    // It restates compute's dispatch: a branch added there and missed here stays correct (compute
    // still decides how a node is printed), only deep chains through it recurse again.
    const plain = (n: Node, path: readonly Node[], hoisted: boolean): boolean =>
      bound.get(n) === undefined &&
      !(!hoisted && opts.hoistRow?.test(n)) &&
      !(!hoisted && path.length === 0 && opts.cacheRead?.get(n)) &&
      n.op !== 'input' &&
      n.op !== 'iota' &&
      !this.env.materialized.has(n) &&
      primitive(n.op).category === 'elementwise' &&
      !(n.shape === scalarShape && hoistScalars) &&
      n.op !== 'broadcastTo' &&
      n.op !== 'unsqueeze' &&
      n.op !== 'gather' &&
      n.op !== 'shift';
    let depth = 0;
    const value = (n: Node, path: readonly Node[], hoisted = false): string => {
      if (depth > DEEP && plain(n, path, hoisted) && !memo.has(keyOf(n, path, hoisted))) return deepValue(n, path, hoisted);
      depth++;
      try {
        return compute(n, path, hoisted);
      } finally {
        depth--;
      }
    };
    /**
     * `root`'s value, printed in exactly the order the recursion would print it (operands in
     * order, each before its user), but with a stack of its own: plain operands are entered,
     * any other is printed at its turn through `value`.
     */
    const deepValue = (root: Node, path: readonly Node[], hoisted: boolean): string => {
      const stack: { n: Node; i: number }[] = [{ n: root, i: 0 }];
      while (stack.length) {
        const top = stack[stack.length - 1]!;
        if (top.i < top.n.inputs.length) {
          const c = top.n.inputs[top.i++]!;
          if (memo.has(keyOf(c, path, hoisted))) continue;
          if (plain(c, path, hoisted)) stack.push({ n: c, i: 0 });
          else value(c, path, hoisted);
        } else {
          stack.pop();
          compute(top.n, path, hoisted); // its operands are printed: no recursion
        }
      }
      return memo.get(keyOf(root, path, hoisted))!;
    };
    const compute = (n: Node, path: readonly Node[], hoisted = false): string => {
      // values computed earlier (a row's reductions, an epilogue's totals) are the same under any view
      const known = bound.get(n);
      if (known !== undefined) return known;
      const row = opts.hoistRow;
      if (!hoisted && row?.test(n)) return value(n, path, true);
      const cached = !hoisted && path.length === 0 ? opts.cacheRead?.get(n) : undefined;
      if (cached) return `${cached}[j]`;
      const key = keyOf(n, path, hoisted);
      const hit = memo.get(key);
      if (hit !== undefined) return hit;
      const at = hoisted ? row!.index : index;
      const sink = hoisted ? row!.lines : lines;
      let out: string;
      const def = primitive(n.op);
      const buffer = n.op === 'input' ? n.attrs.name! : n.op === 'iota' ? IOTA : this.env.materialized.get(n);
      if (buffer !== undefined) {
        if (n.shape === scalarShape) out = this.scalar(n, buffer);
        else {
          const site = this.site(buffer, n, path, frame);
          const moves = path.filter((p) => p.op === 'gather' || p.op === 'shift');
          // each gather on the way adds its index times the site's stride along that axis; each shift subtracts its distance
          const extra = moves.map((m, j) => {
            const stride = this.scalarSlot({ kind: 'gatherStride', site, step: j }, n);
            return m.op === 'gather' ? ` + ${value(m.inputs[1]!, path.slice(0, path.indexOf(m)), hoisted)} * ${stride}` : ` - ${m.attrs.by! * 1} * ${stride}`;
          });
          out = this.spell.siteRead(site, at(site) + extra.join(''));
        }
      } else if (def.category === 'leaf') out = this.scalar(n);
      else if (n.shape === scalarShape && def.category === 'elementwise' && hoistScalars) out = this.invariant(n, (m) => value(m, path, hoisted));
      else if (n.op === 'broadcastTo') out = value(n.inputs[0]!, path, hoisted);
      else if (n.op === 'unsqueeze' || n.op === 'gather') out = value(n.inputs[0]!, [...path, n], hoisted);
      else if (n.op === 'shift') {
        // in range: x at i - by; outside: the fill
        const from = b.sub(b.iotaOf(n.graph, n.shape, n.attrs.axis!), n.attrs.by!);
        const size = n.graph.make('dim', [], { shape: n.shape, axis: n.attrs.axis! });
        // printed through the table, so typed backends (WGSL) compare the int position with the float size
        const within = value(b.and(b.ge(from, 0), b.lt(from, size)), path, hoisted);
        const inside = value(n.inputs[0]!, [...path, n], hoisted);
        const fill = value(n.inputs[1]!, path, hoisted);
        const name = `${hoisted ? 'w' : 'v'}${temp++}${suffix}`;
        sink.push(this.spell.declare(name, this.spell.select(within, inside, fill), n));
        out = name;
      } else if (def.category === 'elementwise') {
        const args = n.inputs.map((i) => value(i, path, hoisted));
        const name = `${hoisted ? 'w' : 'v'}${temp++}${suffix}`;
        sink.push(this.spell.declare(name, this.spellOp(def, args, n), n));
        if (!hoisted && path.length === 0) {
          opts.record?.add(n);
          const cache = opts.cacheWrite?.get(n);
          if (cache) sink.push(`${cache}[j] = ${name};`);
        }
        out = name;
      } else throw new Error(`internal: ${n.op} (%${n.id}) reached inside a kernel body before it is computed`);
      memo.set(key, out);
      return out;
    };
    const values = roots.map((r) => {
      frame = opts.rootFrames ? r.shape : undefined;
      return value(r, []);
    });
    return { lines, values };
  }

  /** A scalar expression of scalars only: computed once, before the loop. */
  private invariant(n: Node, operand: (m: Node) => string): string {
    const key = `inv:${n.id}`;
    const known = this.hoistedNames.get(key);
    if (known) return known;
    const args = n.inputs.map(operand);
    const name = `h${this.hoistedNames.size}`;
    this.hoisted.push(this.spell.declare(name, this.spellOp(primitive(n.op), args, n), n));
    this.hoistedNames.set(key, name);
    return name;
  }

  private spellOp(def: PrimDef, args: string[], n: Node): string {
    const f = this.spell.column === 'js' ? def.js : def.wgsl;
    if (!f) throw new Error(`internal: ${n.op} has no ${this.spell.column} spelling`);
    const operands = this.spell.coerce ? args.map((a, i) => this.spell.coerce!(a, n.inputs[i]!, n, i)) : args;
    const e = this.spell.override?.(n, operands) ?? f(...operands);
    return n.kind === 'float' && !def.exact && this.env.precision === 'f32' ? this.spell.round(e) : e;
  }

  private site(buffer: string, n: Node, path: readonly Node[], frame?: ShapeExpr): number {
    const steps: ViewStep[] = path.map((u): ViewStep =>
      u.op === 'gather'
        ? { kind: 'gather', from: u.inputs[0]!.shape, to: u.shape, axis: u.attrs.axis! }
        : u.op === 'shift'
          ? { kind: 'shift', from: u.inputs[0]!.shape, to: u.shape, axis: u.attrs.axis!, by: u.attrs.by! }
          : { kind: 'unsqueeze', from: u.inputs[0]!.shape, to: u.shape, axes: u.attrs.axes! },
    );
    const key = `${buffer}|${n.shape.key}|${path.map((u) => u.id).join('/')}|${frame?.key ?? ''}`;
    let i = this.siteIndex.get(key);
    if (i === undefined) {
      i = this.sites.length;
      this.sites.push(frame ? { buffer, shape: n.shape, path: steps, frame } : { buffer, shape: n.shape, path: steps });
      this.siteIndex.set(key, i);
    }
    return i;
  }

  /** Hoist a scalar: constants are inlined, the rest read once before the loop. */
  scalar(n: Node, buffer?: string): string {
    if (n.op === 'const') return this.spell.literal(n.attrs.value!, n.kind);
    const source: ScalarSource =
      buffer !== undefined
        ? { kind: 'buffer', buffer }
        : n.op === 'param'
          ? { kind: 'param', name: n.attrs.name! }
          : n.op === 'numel'
            ? { kind: 'numel', shape: n.attrs.shape! }
            : { kind: 'dim', shape: n.attrs.shape!, axis: n.attrs.axis! };
    return this.scalarSlot(source, n);
  }

  /** The hoisted name of a scalar the runtime supplies. */
  scalarSlot(source: ScalarSource, n: Node): string {
    const key = scalarKey(source);
    const known = this.hoistedNames.get(key);
    if (known) return known;
    let slot = this.scalarIndex.get(key);
    if (slot === undefined) {
      slot = this.scalars.length;
      this.scalars.push(source);
      this.scalarIndex.set(key, slot);
    }
    const name = `s${slot}`;
    this.hoisted.push(this.spell.declare(name, this.spell.scalarRead(slot, source, n), n));
    this.hoistedNames.set(key, name);
    return name;
  }
}

/** Everything a kernel's loop writes, in the order the runtime binds them. */
export function kernelWrites(k: Kernel): string[] {
  return [...new Set([...k.outputs, ...k.epilogue].map((o) => o.buffer))];
}

const scalarKey = (s: ScalarSource): string =>
  s.kind === 'param'
    ? `param:${s.name}`
    : s.kind === 'buffer'
      ? `buffer:${s.buffer}`
      : s.kind === 'numel'
        ? `numel:${s.shape.key}`
        : s.kind === 'dim'
          ? `dim:${s.shape.key}:${s.axis}`
          : `gather:${s.site}:${s.step}`;
