// A compiled loss's graph as an SVG picture: dagre lays it out (kernels as compound clusters),
// this file only draws what dagre placed. Nodes are labelled with their op, attributes and shape;
// in the simplified graph each kernel of the plan is a coloured group, and a value recomputed by
// several kernels (elementwise work is never stored) says which others compute it too.
import dagre from '@dagrejs/dagre';
import type { GraphData, GraphNodeData, KernelData } from 'lossc';

export const KERNEL_COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f', '#bab0ac'];
export const kernelColor = (i: number): string => KERNEL_COLORS[i % KERNEL_COLORS.length]!;

const SVG = 'http://www.w3.org/2000/svg';
const CHAR = 6.6;
const LEAVES = new Set(['input', 'param', 'const']);

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, parent?: Element): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.appendChild(e);
  return e;
}

const clip = (s: string, n = 44): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function labelOf(n: GraphNodeData): [string, string] {
  const named = n.op === 'input' || n.op === 'param';
  // an input's or parameter's attributes start with its name (then its kind and shape, shown below)
  const head = named ? n.attrs.split(' ')[0]! : n.op === 'const' ? n.attrs : `${n.op}${n.attrs ? ` ${n.attrs}` : ''}`;
  const tail = [named ? n.op : '', n.shape, n.name ? `“${n.name}”` : '', n.buffer && n.op !== 'input' ? `→ ${n.buffer}` : ''].filter(Boolean).join('  ');
  return [clip(head), clip(tail)];
}

export interface GraphPictureOptions {
  /** draw constants as nodes (else they are left out, with their edges) */
  readonly constants: boolean;
}

/** The graph as an SVG element; `kernels` (the simplified graph's plan) draws the partition. */
export function graphPicture(graph: GraphData, kernels: readonly KernelData[] | null, opts: GraphPictureOptions): SVGSVGElement {
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: false });
  g.setGraph({ rankdir: 'TB', nodesep: 18, ranksep: 28, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  const shown = graph.nodes.filter((n) => opts.constants || n.op !== 'const');
  const ids = new Set(shown.map((n) => n.id));
  if (kernels) kernels.forEach((k, i) => g.setNode(`k${i}`, { label: k.name, clusterLabelPos: 'top', paddingTop: 18 }));
  for (const n of shown) {
    const [a, b] = labelOf(n);
    g.setNode(`n${n.id}`, { width: Math.max(a.length, b.length) * CHAR + 18, height: 36 });
    const home = kernels && !LEAVES.has(n.op) ? n.kernels[0] : undefined;
    if (home !== undefined) g.setParent(`n${n.id}`, `k${home}`);
  }
  for (const n of shown) for (const i of n.inputs) if (ids.has(i)) g.setEdge(`n${i}`, `n${n.id}`);
  graph.results.forEach((r, i) => {
    g.setNode(`r${i}`, { width: r.name.length * CHAR + 24, height: 26 });
    if (ids.has(r.id)) g.setEdge(`n${r.id}`, `r${i}`);
  });
  dagre.layout(g);

  const { width = 100, height = 100 } = g.graph();
  const svg = el('svg', {
    xmlns: SVG,
    width: Math.ceil(width),
    height: Math.ceil(height),
    viewBox: `0 0 ${Math.ceil(width)} ${Math.ceil(height)}`,
    class: 'graph',
  });
  const defs = el('defs', {}, svg);
  const marker = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, defs);
  el('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#666' }, marker);

  if (kernels) {
    kernels.forEach((k, i) => {
      const c = g.node(`k${i}`);
      if (!c || c.width === undefined) return;
      const grp = el('g', { class: 'kernel', 'data-kernel': i }, svg);
      el(
        'rect',
        {
          x: c.x - c.width / 2,
          y: c.y - c.height / 2,
          width: c.width,
          height: c.height,
          rx: 8,
          fill: kernelColor(i),
          'fill-opacity': 0.1,
          stroke: kernelColor(i),
          'stroke-width': 1.5,
        },
        grp,
      );
      const t = el('text', { x: c.x - c.width / 2 + 8, y: c.y - c.height / 2 + 13, class: 'kernel-label', fill: kernelColor(i) }, grp);
      t.textContent = `kernel ${i}: ${k.kind === 'rows' ? `row kernel along axis ${k.rowAxis}` : k.kind === 'scan' ? 'recurrence' : 'pass'} over ${clip(k.domain, 36)}`;
    });
  }
  const edges = el('g', { class: 'edges' }, svg);
  for (const e of g.edges()) {
    const pts: readonly { x: number; y: number }[] = g.edge(e).points ?? [];
    if (pts.length < 2) continue;
    el(
      'path',
      {
        d: pts.map((p, i) => `${i ? 'L' : 'M'} ${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(' '),
        fill: 'none',
        stroke: '#888',
        'stroke-width': 1,
        'marker-end': 'url(#arrow)',
      },
      edges,
    );
  }
  const nodes = el('g', { class: 'nodes' }, svg);
  for (const n of shown) {
    const p = g.node(`n${n.id}`);
    const leaf = LEAVES.has(n.op);
    const home = kernels && !leaf ? n.kernels[0] : undefined;
    const grp = el(
      'g',
      {
        class: `node op-${n.op}`,
        'data-id': n.id,
        'data-op': n.op,
        ...(home !== undefined ? { 'data-kernel': home } : {}),
        ...(n.origin ? { 'data-file': n.origin.file, 'data-line': n.origin.line, 'data-column': n.origin.column } : {}),
      },
      nodes,
    );
    const x = p.x - p.width / 2;
    const y = p.y - p.height / 2;
    el(
      'rect',
      {
        x,
        y,
        width: p.width,
        height: p.height,
        rx: leaf ? 14 : 3,
        fill: leaf ? '#f4f4f4' : '#fff',
        stroke: home !== undefined ? kernelColor(home) : '#999',
        'stroke-width': n.buffer && !leaf ? 2.5 : 1,
      },
      grp,
    );
    const [a, b] = labelOf(n);
    el('text', { x: p.x, y: y + 15, 'text-anchor': 'middle', class: 'op' }, grp).textContent = a;
    el('text', { x: p.x, y: y + 29, 'text-anchor': 'middle', class: 'shape' }, grp).textContent = b;
    const title = [`%${n.id} = ${n.op} ${n.attrs}`, `${n.kind} ${n.shape}`];
    if (n.origin) title.push(`${n.origin.file}:${n.origin.line}:${n.origin.column}: ${n.origin.text}`);
    if (kernels && n.kernels.length > 1 && !leaf) title.push(`computed in kernels ${n.kernels.join(', ')} (recomputed inline, never stored)`);
    el('title', {}, grp).textContent = title.join('\n');
    if (kernels && n.kernels.length > 1 && !leaf)
      n.kernels.slice(1).forEach((k, j) => el('circle', { cx: x + p.width - 6 - 9 * j, cy: y + 6, r: 3.5, fill: kernelColor(k) }, grp));
  }
  graph.results.forEach((r, i) => {
    const p = g.node(`r${i}`);
    const grp = el('g', { class: 'result', 'data-result': r.name }, nodes);
    el('ellipse', { cx: p.x, cy: p.y, rx: p.width / 2, ry: p.height / 2, fill: '#fffbe6', stroke: '#b58900' }, grp);
    el('text', { x: p.x, y: p.y + 4, 'text-anchor': 'middle', class: 'op' }, grp).textContent = r.name;
  });
  return svg;
}
