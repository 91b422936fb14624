// The lossc playground: write a loss (or load a built-in or an example), see its diagnostics as
// you type, its options as a form, what the compiler made of it (graphs, kernel partition, plan,
// JS and WGSL), run it on every backend the browser has, check its gradients, sweep it against a
// built-in, and share it all as a link. Everything comes from lossc's public API ('lossc',
// 'lossc/check'); this page only lays it out.
/// <reference types="vite/client" />
import 'uplot/dist/uPlot.min.css';
import './style.css';
import {
  builtinLossSource,
  compile,
  inspectLoss,
  nn,
  parseLossSource,
  type Diagnostic,
  type LossDef,
  type LossInspection,
  type Loss,
  type Method,
  type Tensor,
} from 'lossc';
import { createEditor } from './editor.js';
import { graphPicture, kernelColor } from './graph.js';
import { changedOptions, lossOptions, optionValues, renderOptionsForm, type OptionJson } from './options.js';
import { formatValues, gradientCheck, parseTensor, randomLossInputs, runBackends, type BackendOutcome, type FloatDType } from './run.js';
import { drawSweep, linspace, sweepLoss, type SweepSeries } from './sweep.js';
import { decodeState, encodeState } from './share.js';

const FILE = 'playground.loss';
const VIEWS = ['graph', 'simplified', 'plan', 'js', 'wgsl'] as const;
type View = (typeof VIEWS)[number];
const METHODS: readonly Method[] = ['forward', 'vjp', 'valueAndGrad'];

const examples: Record<string, string> = Object.fromEntries(
  Object.entries(import.meta.glob('../../examples/*.loss', { query: '?raw', import: 'default', eager: true }) as Record<string, string>).map(([path, text]) => [
    path.replace(/^.*\//, ''),
    text,
  ]),
);

/** What a share link carries. */
interface PageState {
  source: string;
  /** the loss of the source shown (a source may declare several) */
  loss: string | null;
  /** options that differ from their defaults */
  options: Record<string, OptionJson>;
  stabilize: boolean;
  method: Method;
  view: View;
  dims: string;
  dtype: FloatDType;
  seed: number;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e as T;
};

const initial: PageState = {
  source: examples['naiveFocal.loss'] ?? 'loss MyLoss(input: f32[N], nograd target: f32[N]) {\n  return mean((input - target) ** 2)\n}\n',
  loss: null,
  options: {},
  stabilize: true,
  method: 'valueAndGrad',
  view: 'simplified',
  dims: '4, 5',
  dtype: 'float32',
  seed: 1,
};

const state: PageState = { ...initial, ...((decodeState(location.hash) as Partial<PageState> | null) ?? {}) };

/** The compiled loss now shown, and what it was compiled from. */
let current: { def: LossDef; loss: Loss; optionValues: Record<string, OptionJson>; key: string; lossFor: (dtype: FloatDType) => Loss } | null = null;
let parseDiagnostics: Diagnostic[] = [];
const inspections = new Map<string, LossInspection | Error>();

// ------------------------------------------------------------------ editor and diagnostics

const editor = createEditor($('editor'), state.source, (text) => {
  state.source = text;
  scheduleCompile();
});

let timer: ReturnType<typeof setTimeout> | undefined;
function scheduleCompile(): void {
  clearTimeout(timer);
  document.body.dataset['compiled'] = 'pending';
  timer = setTimeout(compileSource, 250);
}

const where = (d: Diagnostic): string => `${d.span.file}:${d.span.line}:${d.span.column}`;

function renderDiagnostics(ds: readonly Diagnostic[], extra: string | null): void {
  const items = ds.map((d) => {
    const li = document.createElement('li');
    li.className = d.severity;
    li.dataset['severity'] = d.severity;
    li.dataset['line'] = String(d.span.line);
    li.dataset['column'] = String(d.span.column);
    const head = document.createElement('div');
    head.textContent = `${where(d)}: ${d.severity}: ${d.message}`;
    li.append(head);
    for (const n of d.notes ?? []) {
      const note = document.createElement('div');
      note.className = 'note';
      note.textContent = `${n.span ? `${n.span.file}:${n.span.line}:${n.span.column}: ` : ''}note: ${n.message}`;
      li.append(note);
    }
    if (d.span.file === FILE && d.span.line >= 1) li.addEventListener('click', () => editor.goto(d.span.line, d.span.column));
    return li;
  });
  if (extra !== null) {
    const li = document.createElement('li');
    li.className = 'error';
    li.dataset['severity'] = 'error';
    li.textContent = extra;
    items.push(li);
  }
  if (items.length === 0) {
    const li = document.createElement('li');
    li.className = 'none';
    li.textContent = 'no errors, no warnings';
    items.push(li);
  }
  $('diagnostics').replaceChildren(...items);
}

function compileSource(): void {
  clearTimeout(timer);
  const { losses, diagnostics } = parseLossSource(state.source, FILE);
  parseDiagnostics = diagnostics;
  const select = $<HTMLSelectElement>('loss-name');
  select.replaceChildren(...losses.map((d) => new Option(d.name, d.name)));
  const def = losses.find((d) => d.name === state.loss) ?? losses[0];
  select.value = def?.name ?? '';
  select.disabled = losses.length < 2;
  if (diagnostics.some((d) => d.severity === 'error') || !def) {
    current = null;
    editor.show(diagnostics, FILE);
    renderDiagnostics(diagnostics, def ? null : diagnostics.length ? null : 'the source declares no loss: `loss Name(input: f32[N], ...) { ... }`');
    setStatus('error', `${diagnostics.filter((d) => d.severity === 'error').length || 1} error(s): the last good compile stays on the right`);
    return;
  }
  if (state.loss !== def.name && state.loss !== null && !losses.some((d) => d.name === state.loss)) state.options = {};
  state.loss = def.name;
  buildLoss(def);
}

function setStatus(kind: 'ok' | 'error', text: string): void {
  const s = $('compile-status');
  s.className = kind;
  s.textContent = text;
  document.body.dataset['compiled'] = kind;
  document.body.dataset['version'] = String(Number(document.body.dataset['version'] ?? 0) + 1);
}

/** Compile `def` with the form's options; redraw whatever depends on it. */
function buildLoss(def: LossDef): void {
  const values = optionValues(def, state.options);
  const formKey = `${def.name}|${JSON.stringify(def.options)}`;
  const form = $<HTMLFormElement>('options');
  if (form.dataset['key'] !== formKey || current?.def.name !== def.name) {
    form.dataset['key'] = formKey;
    renderOptionsForm(form, def, values, (v) => {
      state.options = changedOptions(def, v);
      buildLoss(def);
    });
  }
  let loss: Loss;
  try {
    loss = compile(def, { options: lossOptions(def, values), stabilize: state.stabilize });
  } catch (e) {
    current = null;
    editor.show(parseDiagnostics, FILE);
    const m = (e as Error).message;
    renderDiagnostics(parseDiagnostics, m.startsWith(def.name) ? m : `${def.name}: ${m}`);
    setStatus('error', 'the options are refused');
    return;
  }
  let notes: Diagnostic[] = [];
  try {
    notes = loss.notes;
  } catch {
    // an error in compiling shows in the views, where the method that fails is named
  }
  const all = [...parseDiagnostics, ...notes].sort((a, b) => a.span.line - b.span.line || a.span.column - b.span.column);
  editor.show(all, FILE);
  renderDiagnostics(all, null);
  const inputsKey = def.inputs.map((i) => `${i.name}:${i.kind}`).join(',');
  const inputsChanged = current?.key !== inputsKey;
  // tensor options must have the inputs' dtype: a float64 run gets the same loss with float64 ones
  const byDtype = new Map<FloatDType, Loss>([['float32', loss]]);
  const lossFor = (dtype: FloatDType): Loss => {
    let l = byDtype.get(dtype);
    if (!l) byDtype.set(dtype, (l = compile(def, { options: lossOptions(def, values, dtype), stabilize: state.stabilize })));
    return l;
  };
  current = { def, loss, optionValues: values, key: inputsKey, lossFor };
  inspections.clear();
  // results of another loss (or other options) would mislead: run again to see these
  $('results').replaceChildren();
  $('gradcheck').textContent = '';
  $('sweep-plots').replaceChildren();
  setStatus('ok', `${def.name}: ${def.inputs.length} input(s), ${def.options.length} option(s)`);
  renderView();
  renderSweepInputs();
  if (inputsChanged || $('inputs').childElementCount === 0) randomize();
}

// ------------------------------------------------------------------ views

function inspection(method: Method): LossInspection | Error {
  const key = method;
  let r = inspections.get(key);
  if (!r) {
    try {
      r = inspectLoss(current!.loss, method);
    } catch (e) {
      r = e instanceof Error ? e : new Error(String(e));
    }
    inspections.set(key, r);
  }
  return r;
}

function pre(text: string, cls = ''): HTMLPreElement {
  const p = document.createElement('pre');
  if (cls) p.className = cls;
  p.textContent = text;
  return p;
}

function heading(text: string): HTMLHeadingElement {
  const h = document.createElement('h3');
  h.textContent = text;
  return h;
}

function kernelTable(r: LossInspection): HTMLTableElement {
  const table = document.createElement('table');
  table.className = 'kernels';
  const head = table.insertRow();
  for (const h of ['', 'kernel', 'kind', 'domain', 'reads', 'writes', 'outputs', 'nodes'])
    head.append(Object.assign(document.createElement('th'), { textContent: h }));
  r.kernels.forEach((k, i) => {
    const tr = table.insertRow();
    tr.dataset['kernel'] = String(i);
    const sw = tr.insertCell();
    sw.innerHTML = `<span class="swatch" style="background:${kernelColor(i)}"></span>`;
    tr.insertCell().textContent = k.name;
    tr.insertCell().textContent = k.kind === 'rows' ? `rows (axis ${k.rowAxis})` : k.kind;
    tr.insertCell().textContent = k.domain;
    tr.insertCell().textContent = k.reads.join(', ') || '-';
    tr.insertCell().textContent = k.writes.join(', ') || '-';
    tr.insertCell().textContent = k.outputs.map((o) => `${o.buffer} (${o.epilogue ? 'epilogue' : o.mode})`).join(', ');
    tr.insertCell().textContent = String(k.nodes.length);
  });
  return table;
}

function renderView(): void {
  for (const b of Array.from(document.querySelectorAll<HTMLButtonElement>('#methods button')))
    b.classList.toggle('active', b.dataset['method'] === state.method);
  for (const b of Array.from(document.querySelectorAll<HTMLButtonElement>('#views button'))) b.classList.toggle('active', b.dataset['view'] === state.view);
  const view = $('view');
  view.dataset['view'] = state.view;
  view.dataset['method'] = state.method;
  if (!current) return;
  const r = inspection(state.method);
  if (r instanceof Error) {
    view.replaceChildren(pre(`${current.def.name}.${state.method}: ${r.message}`, 'error'));
    return;
  }
  const constants = $<HTMLInputElement>('show-constants').checked;
  const parts: Node[] = [];
  switch (state.view) {
    case 'graph':
      parts.push(heading(`${r.loss}.${r.method}: the graph as differentiated (${r.graph.nodes.length} nodes)`), graphPicture(r.graph, null, { constants }));
      break;
    case 'simplified':
      {
        const table = document.createElement('details');
        table.open = r.kernels.length <= 4;
        table.append(
          Object.assign(document.createElement('summary'), { textContent: `the ${r.kernels.length} kernel${r.kernels.length === 1 ? '' : 's'}` }),
          kernelTable(r),
        );
        parts.push(
          heading(
            `${r.loss}.${r.method}: simplified, ${r.simplified.nodes.length} nodes in ${r.kernels.length} kernel${r.kernels.length === 1 ? '' : 's'} (coloured groups)`,
          ),
          table,
          graphPicture(r.simplified, r.kernels, { constants }),
        );
      }
      break;
    case 'plan':
      parts.push(
        heading(`${r.loss}.${r.method}: the kernel plan`),
        kernelTable(r),
        pre(r.planText, 'plan'),
        heading('every stage (explain)'),
        pre(r.text, 'explain'),
      );
      break;
    case 'js':
      parts.push(heading(`${r.loss}.${r.method}: JS kernels (float32 inputs; float64 kernels differ in rounding only)`));
      for (const k of r.js.f32) parts.push(heading(k.kernel), pre(k.source, 'code js'));
      break;
    case 'wgsl':
      if ('error' in r.wgsl) parts.push(pre(`no WGSL: ${r.wgsl.error}`, 'error'));
      else {
        parts.push(heading(`${r.loss}.${r.method}: WGSL, one module per kernel`));
        for (const m of r.wgsl.modules) parts.push(heading(m.file), pre(m.code, 'code wgsl'));
        const details = document.createElement('details');
        details.append(
          Object.assign(document.createElement('summary'), { textContent: 'manifest (bindings, dispatch, uniform layout)' }),
          pre(JSON.stringify(r.wgsl.manifest, null, 2), 'code'),
        );
        parts.push(details);
      }
      break;
  }
  view.replaceChildren(...parts);
}

// ------------------------------------------------------------------ run

const dims = (): number[] =>
  state.dims
    .split(/[\s,x×]+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
const inputDtype = (spec: LossDef['inputs'][number]): Tensor['dtype'] => (spec.kind === 'int' ? 'int32' : state.dtype);

/** Inputs too large to show as text, kept as they were drawn (by input name) until values are pasted. */
const SHOWN_VALUES = 4096;
const unshown = new Map<string, Tensor>();

function renderInputs(tensors: readonly Tensor[]): void {
  const box = $('inputs');
  unshown.clear();
  box.replaceChildren(
    ...current!.def.inputs.map((spec, i) => {
      const t = tensors[i]!;
      const row = document.createElement('div');
      row.className = 'input';
      row.dataset['input'] = spec.name;
      const label = document.createElement('label');
      label.textContent = `${spec.name} (${inputDtype(spec)}${spec.kind === 'float' && spec.differentiable === false ? ', no gradient' : ''}) shape`;
      const shape = document.createElement('input');
      shape.className = 'shape';
      shape.value = t.shape.join(', ');
      shape.size = 10;
      label.append(shape);
      const values = document.createElement('textarea');
      values.className = 'values';
      values.rows = 2;
      values.spellcheck = false;
      if (t.data.length <= SHOWN_VALUES) values.value = formatValues(t);
      else {
        unshown.set(spec.name, t);
        values.placeholder = `${t.data.length} random values (too many to show): paste values here to replace them`;
      }
      row.append(label, values);
      return row;
    }),
  );
}

function randomize(): void {
  if (!current) return;
  try {
    renderInputs(randomLossInputs(current.def, current.loss, dims(), state.dtype, state.seed));
    $('run-status').textContent = '';
  } catch (e) {
    $('run-status').textContent = `no random inputs: ${(e as Error).message}`;
  }
}

function readInputs(): Tensor[] {
  return current!.def.inputs.map((spec) => {
    const row = document.querySelector<HTMLElement>(`#inputs .input[data-input="${spec.name}"]`);
    if (!row) throw new Error(`input '${spec.name}' has no values: press "random inputs"`);
    const drawn = unshown.get(spec.name);
    const [shape, text] = [row.querySelector<HTMLInputElement>('input.shape')!.value, row.querySelector<HTMLTextAreaElement>('textarea')!.value];
    if (drawn && text.trim() === '' && shape === drawn.shape.join(', ')) return drawn;
    return parseTensor(
      spec.name,
      row.querySelector<HTMLInputElement>('input.shape')!.value,
      row.querySelector<HTMLTextAreaElement>('textarea')!.value,
      inputDtype(spec),
    );
  });
}

const short = (t: Tensor | null | undefined, n = 6): string =>
  t
    ? `[${t.shape.join(', ')}] ${Array.from(t.data.slice(0, n), (v) => (Number.isInteger(v) ? String(v) : v.toPrecision(7))).join(', ')}${t.data.length > n ? ', …' : ''}`
    : '—';

const ms = (t: number): string => (t < 0.1 ? `${(t * 1000).toFixed(1)} µs` : `${t.toFixed(2)} ms`);

function renderResults(outcomes: readonly BackendOutcome[]): void {
  const table = $<HTMLTableElement>('results');
  table.replaceChildren();
  const head = table.insertRow();
  const gradNames = current!.def.inputs.map((i) => `d/d ${i.name}`);
  for (const h of ['backend', 'device', 'value', ...gradNames, 'time per grad call', 'per forward', 'vs JS'])
    head.append(Object.assign(document.createElement('th'), { textContent: h }));
  for (const o of outcomes) {
    const tr = table.insertRow();
    tr.dataset['backend'] = o.backend;
    tr.dataset['ok'] = String(o.ok);
    tr.insertCell().textContent = o.backend;
    const device = tr.insertCell();
    device.className = 'device';
    device.textContent = o.label;
    if (!o.ok) {
      const c = tr.insertCell();
      c.colSpan = gradNames.length + 4;
      c.className = o.unavailable ? 'hint' : 'error';
      c.textContent = o.unavailable ? `not available: ${o.error}` : `failed: ${o.error}`;
      continue;
    }
    const value = tr.insertCell();
    value.className = 'value';
    value.dataset['values'] = JSON.stringify(Array.from(o.forward!.data));
    value.textContent = short(o.forward);
    o.grads!.forEach((g, i) => {
      const c = tr.insertCell();
      c.className = 'grad';
      c.dataset['input'] = current!.def.inputs[i]!.name;
      c.dataset['values'] = JSON.stringify(g ? Array.from(g.data) : null);
      c.textContent = short(g, 4);
    });
    tr.insertCell().textContent = `${ms(o.ms!.grad)} (${o.ms!.runs} calls)`;
    tr.insertCell().textContent = ms(o.ms!.forward);
    const diff = tr.insertCell();
    diff.className = 'diff';
    if (o.maxRelDiff !== undefined) {
      diff.dataset['maxRelDiff'] = String(o.maxRelDiff);
      diff.textContent = `max rel. diff ${o.maxRelDiff.toExponential(2)}`;
    } else diff.textContent = o.backend === 'js' ? 'reference' : '';
  }
}

async function run(): Promise<void> {
  if (!current) return;
  const status = $('run-status');
  status.dataset['state'] = 'busy';
  status.textContent = 'running…';
  const { def, lossFor, optionValues: values } = current;
  try {
    const inputs = readInputs();
    renderResults(await runBackends(lossFor, inputs));
    status.textContent = '';
    const check = $('gradcheck');
    const numel = inputs.reduce((n, t) => n + t.data.length, 0);
    if (numel > 4096) check.textContent = `gradient check skipped: ${numel} elements (at most 4096 here; run \`lossc check\`)`;
    else {
      const r = gradientCheck(state.stabilize ? def : { ...def, stabilize: false }, lossOptions(def, values, 'float64'), dims(), state.seed);
      check.textContent = `lossc check (its own random inputs of these sizes):\n${r.text}`;
      check.dataset['ok'] = String(r.ok);
    }
  } catch (e) {
    status.textContent = (e as Error).message;
    status.className = 'error';
  }
  status.dataset['state'] = 'done';
}

// ------------------------------------------------------------------ sweep

function renderSweepInputs(): void {
  const select = $<HTMLSelectElement>('sweep-input');
  const keep = select.value;
  const options = current!.def.inputs.map((spec, i) => ({ spec, i })).filter(({ spec }) => spec.kind === 'float' && spec.differentiable !== false);
  select.replaceChildren(...options.map(({ spec, i }) => new Option(spec.name, String(i))));
  if (options.some(({ i }) => String(i) === keep)) select.value = keep;
}

function sweep(): void {
  if (!current) return;
  const status = $('sweep-status');
  status.dataset['state'] = 'busy';
  try {
    const inputs = readInputs();
    const input = Number($<HTMLSelectElement>('sweep-input').value);
    const index = Number($<HTMLInputElement>('sweep-index').value);
    const xs = linspace(Number($<HTMLInputElement>('sweep-from').value), Number($<HTMLInputElement>('sweep-to').value), 201);
    const series: SweepSeries[] = [sweepLoss(current.def.name, current.lossFor('float64'), inputs, input, index, xs)];
    const builtin = $<HTMLSelectElement>('sweep-builtin').value;
    if (builtin) {
      const B = (nn as Record<string, new () => Loss>)[builtin]!;
      series.push(sweepLoss(`nn.${builtin}`, new B(), inputs, input, index, xs));
    }
    drawSweep($('sweep-plots'), { xs, series }, `${current.def.inputs[input]?.name ?? 'x'}[${index}]`);
    status.textContent = '';
  } catch (e) {
    status.textContent = (e as Error).message;
  }
  status.dataset['state'] = 'done';
}

// ------------------------------------------------------------------ pickers, share link, wiring

function load(source: string, loss: string | null, stabilize: boolean): void {
  state.loss = loss;
  state.options = {};
  state.stabilize = stabilize;
  $<HTMLInputElement>('stabilize').checked = stabilize;
  $<HTMLFormElement>('options').dataset['key'] = '';
  editor.setText(source);
  const at = loss === null ? -1 : source.search(new RegExp(`\\bloss\\s+${loss}\\s*\\(`));
  if (at >= 0) editor.reveal(source.lastIndexOf('\n', at) + 1);
  compileSource();
}

function setup(): void {
  const builtin = $<HTMLSelectElement>('builtin');
  const sweepBuiltin = $<HTMLSelectElement>('sweep-builtin');
  for (const name of Object.keys(nn)) {
    builtin.add(new Option(name, name));
    sweepBuiltin.add(new Option(name, name));
  }
  sweepBuiltin.value = 'BCEWithLogitsLoss';
  builtin.addEventListener('change', () => {
    const src = builtinLossSource(builtin.value);
    // built-ins are torch's formulas, compiled as written (no stabilisation)
    if (src) load(src.text, builtin.value, false);
    builtin.value = '';
  });
  const example = $<HTMLSelectElement>('example');
  for (const name of Object.keys(examples).sort()) example.add(new Option(name, name));
  example.addEventListener('change', () => {
    const text = examples[example.value];
    if (text !== undefined) load(text, null, true);
    example.value = '';
  });
  $<HTMLSelectElement>('loss-name').addEventListener('change', (e) => {
    state.loss = (e.target as HTMLSelectElement).value;
    state.options = {};
    compileSource();
  });
  const stabilize = $<HTMLInputElement>('stabilize');
  stabilize.checked = state.stabilize;
  stabilize.addEventListener('change', () => {
    state.stabilize = stabilize.checked;
    compileSource();
  });
  for (const b of Array.from(document.querySelectorAll<HTMLButtonElement>('#methods button'))) {
    b.addEventListener('click', () => {
      state.method = b.dataset['method'] as Method;
      renderView();
    });
  }
  for (const b of Array.from(document.querySelectorAll<HTMLButtonElement>('#views button'))) {
    b.addEventListener('click', () => {
      state.view = b.dataset['view'] as View;
      renderView();
    });
  }
  $('show-constants').addEventListener('change', renderView);
  // a node made by the source: click it to see where
  $('view').addEventListener('click', (e) => {
    const node = (e.target as Element).closest('g.node[data-line]');
    if (node?.getAttribute('data-file') === FILE) editor.goto(Number(node.getAttribute('data-line')), Number(node.getAttribute('data-column')));
  });
  const dimsInput = $<HTMLInputElement>('dims');
  const dtype = $<HTMLSelectElement>('dtype');
  const seed = $<HTMLInputElement>('seed');
  dimsInput.value = state.dims;
  dtype.value = state.dtype;
  seed.value = String(state.seed);
  dimsInput.addEventListener('change', () => ((state.dims = dimsInput.value), randomize()));
  dtype.addEventListener('change', () => ((state.dtype = dtype.value as FloatDType), randomize()));
  seed.addEventListener('change', () => ((state.seed = Number(seed.value) || 1), randomize()));
  $('randomize').addEventListener('click', randomize);
  $('run-button').addEventListener('click', () => void run());
  $('sweep-button').addEventListener('click', sweep);
  $('share').addEventListener('click', () => {
    const link = `${location.origin}${location.pathname}${encodeState({ ...state, source: editor.text() })}`;
    history.replaceState(null, '', link);
    const out = $<HTMLInputElement>('share-url');
    out.value = link;
    out.select();
  });
  window.addEventListener('hashchange', () => {
    const s = decodeState(location.hash) as Partial<PageState> | null;
    if (!s) return;
    Object.assign(state, s);
    if (!METHODS.includes(state.method)) state.method = 'valueAndGrad';
    $<HTMLInputElement>('stabilize').checked = state.stabilize;
    $<HTMLFormElement>('options').dataset['key'] = '';
    if (editor.text() !== state.source) editor.setText(state.source);
    compileSource();
  });
  if (!METHODS.includes(state.method)) state.method = 'valueAndGrad';
  if (!VIEWS.includes(state.view)) state.view = 'simplified';
  compileSource();
  document.body.dataset['ready'] = 'true';
}

setup();
