// The expression printer shared by every backend: it walks what one domain element of a kernel
// computes and prints it as single-assignment statements, spelling each primitive with the
// backend's column of the table. It also records what the loop around it must supply: the
// tensors read (with the view path through which each is seen) and the scalars hoisted out.
import type { Node } from '../ir/node.js';
import { primitive, type PrimDef } from '../primitives/table.js';
import { scalarShape, type ShapeExpr } from '../ir/shape.js';
import type { Kernel, Precision } from '../plan/kernelPlan.js';

/**
 * One step of a view path, on a value's way up to the domain: an unsqueeze, or a gather (the
 * value is read at position `index` along `axis`, an index computed in the loop body).
 */
export type ViewStep =
  | { readonly kind: 'unsqueeze'; readonly from: ShapeExpr; readonly to: ShapeExpr; readonly axes: readonly number[] }
  | { readonly kind: 'gather'; readonly from: ShapeExpr; readonly to: ShapeExpr; readonly axis: number };

/** A tensor read inside the loop: the buffer, seen through `path` (outermost first) from the domain. */
export interface Site {
  readonly buffer: string;
  readonly shape: ShapeExpr;
  readonly path: readonly ViewStep[];
}

/** A scalar hoisted out of the loop. */
export type ScalarSource =
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'numel'; readonly shape: ShapeExpr }
  | { readonly kind: 'dim'; readonly shape: ShapeExpr; readonly axis: number }
  | { readonly kind: 'buffer'; readonly buffer: string }
  /** a site's stride along the axis of its `step`-th gather: offset += index * stride */
  | { readonly kind: 'gatherStride'; readonly site: number; readonly step: number };

/** The buffer name of sites that read an iota (the runtime makes the arange itself). */
export const IOTA = '@iota';

export interface Spelling {
  readonly column: 'js' | 'wgsl';
  literal(value: number, kind: Node['kind']): string;
  /** wrap a float result that must be rounded to the kernel's precision */
  round(expr: string): string;
  declare(name: string, expr: string, node: Node): string;
  siteRead(site: number, index: string): string;
  scalarRead(slot: number, source: ScalarSource, node: Node): string;
}

export interface BodyEnv {
  readonly precision: Precision;
  /** reductions computed by earlier kernels, readable here, and their buffers */
  readonly materialized: ReadonlyMap<Node, string>;
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
  body(roots: readonly Node[], index: (site: number) => string, suffix = '', bound: ReadonlyMap<Node, string> = new Map()): { lines: string[]; values: string[] } {
    const lines: string[] = [];
    const memo = new Map<string, string>([...bound].map(([n, v]) => [`${n.id}@`, v] as const));
    let temp = 0;
    const value = (n: Node, path: readonly Node[]): string => {
      const key = `${n.id}@${path.map((p) => p.id).join('.')}`;
      const hit = memo.get(key);
      if (hit !== undefined) return hit;
      let out: string;
      const def = primitive(n.op);
      const buffer = n.op === 'input' ? n.attrs.name! : n.op === 'iota' ? IOTA : this.env.materialized.get(n);
      if (buffer !== undefined) {
        if (n.shape === scalarShape) out = this.scalar(n, buffer);
        else {
          const site = this.site(buffer, n, path);
          const gathers = path.filter((p) => p.op === 'gather');
          // each gather on the way adds its index times the site's stride along that axis
          const extra = gathers.map((gn, j) => ` + ${value(gn.inputs[1]!, path.slice(0, path.indexOf(gn)))} * ${this.scalarSlot({ kind: 'gatherStride', site, step: j }, n)}`);
          out = this.spell.siteRead(site, index(site) + extra.join(''));
        }
      } else if (def.category === 'leaf') out = this.scalar(n);
      else if (n.shape === scalarShape && def.category === 'elementwise' && bound.size === 0) out = this.invariant(n, (m) => value(m, path));
      else if (n.op === 'broadcastTo') out = value(n.inputs[0]!, path);
      else if (n.op === 'unsqueeze' || n.op === 'gather') out = value(n.inputs[0]!, [...path, n]);
      else if (def.category === 'elementwise') {
        const args = n.inputs.map((i) => value(i, path));
        const name = `v${temp++}${suffix}`;
        lines.push(this.spell.declare(name, this.spellOp(def, args, n), n));
        out = name;
      } else throw new Error(`internal: ${n.op} (%${n.id}) reached inside a kernel body before it is computed`);
      memo.set(key, out);
      return out;
    };
    const values = roots.map((r) => value(r, []));
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
    const e = f(...args);
    return n.kind === 'float' && !def.exact && this.env.precision === 'f32' ? this.spell.round(e) : e;
  }

  private site(buffer: string, n: Node, path: readonly Node[]): number {
    const steps: ViewStep[] = path.map((u) =>
      u.op === 'gather' ? { kind: 'gather', from: u.inputs[0]!.shape, to: u.shape, axis: u.attrs.axis! } : { kind: 'unsqueeze', from: u.inputs[0]!.shape, to: u.shape, axes: u.attrs.axes! },
    );
    const key = `${buffer}|${n.shape.key}|${path.map((u) => u.id).join('/')}`;
    let i = this.siteIndex.get(key);
    if (i === undefined) {
      i = this.sites.length;
      this.sites.push({ buffer, shape: n.shape, path: steps });
      this.siteIndex.set(key, i);
    }
    return i;
  }

  /** Hoist a scalar: constants are inlined, the rest read once before the loop. */
  scalar(n: Node, buffer?: string): string {
    if (n.op === 'const') return this.spell.literal(n.attrs.value!, n.kind);
    const source: ScalarSource =
      buffer !== undefined ? { kind: 'buffer', buffer }
      : n.op === 'param' ? { kind: 'param', name: n.attrs.name! }
      : n.op === 'numel' ? { kind: 'numel', shape: n.attrs.shape! }
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
  s.kind === 'param' ? `param:${s.name}`
  : s.kind === 'buffer' ? `buffer:${s.buffer}`
  : s.kind === 'numel' ? `numel:${s.shape.key}`
  : s.kind === 'dim' ? `dim:${s.shape.key}:${s.axis}`
  : `gather:${s.site}:${s.step}`;
