// The options form, generated from the loss's declared options (LossDef.options: name, type,
// default, enum values, numeric cases, doc). Values are kept as JSON (tensor options as arrays of
// numbers) so that they go into a share link as they are.
import { tensor, type LossDef, type OptionSpec } from 'lossc';

export type OptionJson = number | string | boolean | number[] | null;

/** The declared default of an option, as JSON. */
const defaultOf = (o: OptionSpec): OptionJson => (o.type === 'tensor' || o.type === 'function' ? null : o.default);

/** `values` restricted to `def`'s options, with the defaults for the rest. */
export function optionValues(def: LossDef, values: Readonly<Record<string, OptionJson>>): Record<string, OptionJson> {
  return Object.fromEntries(def.options.map((o) => [o.name, values[o.name] !== undefined && o.type !== 'function' ? values[o.name]! : defaultOf(o)]));
}

/** Only the options that differ from their defaults (for share links and constructors). */
export function changedOptions(def: LossDef, values: Readonly<Record<string, OptionJson>>): Record<string, OptionJson> {
  return Object.fromEntries(
    def.options.filter((o) => JSON.stringify(values[o.name] ?? null) !== JSON.stringify(defaultOf(o))).map((o) => [o.name, values[o.name]!]),
  );
}

/** The options as the loss's constructor takes them: tensor options as tensors of `dtype` (the inputs' float dtype). */
export function lossOptions(def: LossDef, values: Readonly<Record<string, OptionJson>>, dtype: 'float32' | 'float64' = 'float32'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of def.options) {
    const v = values[o.name];
    if (v === undefined || o.type === 'function') continue;
    out[o.name] = o.type === 'tensor' ? (Array.isArray(v) ? tensor(v, [v.length], dtype) : null) : v;
  }
  return out;
}

const parseNumbers = (text: string): number[] =>
  text
    .split(/[\s,;[\]]+/)
    .filter(Boolean)
    .map(Number);

/** Fill `form` with one field per option; `onChange` gets every value after each edit. */
export function renderOptionsForm(
  form: HTMLFormElement,
  def: LossDef,
  values: Readonly<Record<string, OptionJson>>,
  onChange: (values: Record<string, OptionJson>) => void,
): void {
  const current = optionValues(def, values);
  const rows: HTMLElement[] = [];
  const changed = (name: string, v: OptionJson): void => {
    current[name] = v;
    onChange({ ...current });
  };
  for (const o of def.options) {
    const row = document.createElement('div');
    row.className = 'option';
    row.dataset['option'] = o.name;
    const label = document.createElement('label');
    label.textContent = o.name;
    label.title = o.doc ?? '';
    row.append(label);
    const v = current[o.name];
    if (o.type === 'enum') {
      const select = document.createElement('select');
      select.name = o.name;
      for (const value of o.values) select.add(new Option(value, value, false, value === v));
      select.addEventListener('change', () => changed(o.name, select.value));
      row.append(select);
    } else if (o.type === 'bool') {
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.name = o.name;
      box.checked = v === true;
      box.addEventListener('change', () => changed(o.name, box.checked));
      row.append(box);
    } else if (o.type === 'number') {
      const input = document.createElement('input');
      input.type = 'number';
      input.name = o.name;
      input.step = o.integer ? '1' : 'any';
      input.value = String(v);
      input.addEventListener('change', () => {
        const n = Number(input.value);
        if (input.value.trim() !== '' && Number.isFinite(n)) changed(o.name, n);
      });
      row.append(input);
    } else if (o.type === 'tensor') {
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.title = 'given';
      box.checked = Array.isArray(v);
      const input = document.createElement('input');
      input.name = o.name;
      input.placeholder = o.rank === 1 ? 'one value per class, e.g. 1, 2, 0.5' : 'values (a 1-D tensor)';
      input.value = Array.isArray(v) ? v.join(', ') : '';
      input.disabled = !box.checked;
      const update = (): void => {
        input.disabled = !box.checked;
        const xs = parseNumbers(input.value);
        changed(o.name, box.checked && xs.length && xs.every(Number.isFinite) ? xs : null);
      };
      box.addEventListener('change', update);
      input.addEventListener('change', update);
      const field = document.createElement('span');
      field.className = 'tensor-field';
      field.append(box, input);
      row.append(field);
    } else {
      const span = document.createElement('span');
      span.className = 'hint';
      span.textContent = 'a builder function: set it from TypeScript (here: the default)';
      row.append(span);
    }
    const hint = document.createElement('span');
    hint.className = 'hint';
    const facts = [`${o.type}`, o.type === 'tensor' || o.type === 'function' ? 'default none' : `default ${JSON.stringify(o.default)}`];
    if (o.type === 'number' && o.cases?.length) facts.push(`cases ${o.cases.join(', ')} compile their own graph; other values share one`);
    hint.textContent = facts.join(' · ') + (o.doc ? ` — ${o.doc}` : '');
    if (o.doc) hint.title = o.doc;
    row.append(hint);
    rows.push(row);
  }
  if (rows.length === 0) {
    const p = document.createElement('p');
    p.className = 'hint';
    p.textContent = 'this loss declares no options (`option name: type = default` in its body)';
    rows.push(p);
  }
  form.replaceChildren(...rows);
}
