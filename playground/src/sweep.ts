// A 1-D sweep: one element of one input moves from `from` to `to` while the others stay as they
// are; the loss and its derivative along it, for the user's loss and a chosen built-in on the same
// inputs, drawn with uPlot. Kinks, saturation and where a formula turns NaN show at a glance.
import uPlot from 'uplot';
import { tensor, type Loss, type Tensor } from 'lossc';

export interface SweepSeries {
  readonly label: string;
  readonly value: (number | null)[];
  readonly slope: (number | null)[];
  /** the x values where the loss or its derivative is NaN or infinite */
  readonly nonFinite: number[];
  readonly error?: string;
}

export interface Sweep {
  readonly xs: number[];
  readonly series: SweepSeries[];
}

const asF64 = (t: Tensor): Tensor => (t.dtype === 'float32' ? tensor(Float64Array.from(t.data), [...t.shape], 'float64') : t);

/** loss(x) and d loss / d x at each x, in float64 (an unreduced loss is summed: its vjp with ones). */
export function sweepLoss(label: string, loss: Loss, inputs: readonly Tensor[], input: number, index: number, xs: readonly number[]): SweepSeries {
  const value: (number | null)[] = [];
  const slope: (number | null)[] = [];
  const nonFinite: number[] = [];
  const args = inputs.map(asF64);
  const x = args[input];
  if (!x) return { label, value, slope, nonFinite, error: `${label} has no input ${input}` };
  if (index >= x.data.length) return { label, value, slope, nonFinite, error: `input ${input} has ${x.data.length} elements: no element ${index}` };
  const data = Float64Array.from(x.data);
  const moved = [...args];
  moved[input] = { data, shape: [...x.shape], dtype: 'float64' };
  try {
    for (const v of xs) {
      data[index] = v;
      const out = loss.forward(...moved);
      let y: number;
      let grads: (Tensor | null)[];
      if (out.shape.length === 0) {
        const r = loss.valueAndGrad(...moved);
        y = r.value.data[0]!;
        grads = r.grads;
      } else {
        y = 0;
        for (const v of out.data) y += v;
        grads = loss.vjp(moved, tensor(new Float64Array(out.data.length).fill(1), [...out.shape], 'float64'));
      }
      const d = grads[input]?.data[index] ?? NaN;
      value.push(Number.isFinite(y) ? y : null);
      slope.push(Number.isFinite(d) ? d : null);
      if (!Number.isFinite(y) || !Number.isFinite(d)) nonFinite.push(v);
    }
  } catch (e) {
    return { label, value: [], slope: [], nonFinite: [], error: `${label}: ${(e as Error).message}` };
  }
  return { label, value, slope, nonFinite };
}

export const linspace = (from: number, to: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + ((to - from) * i) / (n - 1));

const COLORS = ['#d62728', '#1f77b4'];

/** Two charts (the loss, its derivative) into `parent`, replacing what was there. */
export function drawSweep(parent: HTMLElement, sweep: Sweep, what: string): void {
  parent.replaceChildren();
  const drawn = sweep.series.filter((s) => !s.error);
  for (const [title, key] of [
    [`loss vs ${what}`, 'value'],
    [`d loss / d ${what}`, 'slope'],
  ] as const) {
    const box = document.createElement('div');
    box.className = 'chart';
    box.dataset['chart'] = key;
    parent.append(box);
    const opts: uPlot.Options = {
      title,
      width: Math.max(320, Math.floor((parent.clientWidth || 900) / 2) - 16),
      height: 260,
      scales: { x: { time: false } },
      axes: [{ label: what }, {}],
      series: [
        { label: 'x' },
        ...drawn.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: false, ...(i > 0 ? { dash: [7, 5] } : {}) })),
      ],
    };
    new uPlot(opts, [sweep.xs, ...drawn.map((s) => s[key])] as uPlot.AlignedData, box);
  }
  for (const s of sweep.series) {
    const p = document.createElement('p');
    p.className = s.error ? 'error' : 'hint';
    if (s.error) p.textContent = s.error;
    else if (s.nonFinite.length)
      p.textContent = `${s.label}: NaN or infinite at ${s.nonFinite.length} of ${sweep.xs.length} points, from x = ${s.nonFinite[0]!.toPrecision(4)} to ${s.nonFinite[s.nonFinite.length - 1]!.toPrecision(4)} (gaps in the curves)`;
    else p.textContent = `${s.label}: finite everywhere on [${sweep.xs[0]}, ${sweep.xs[sweep.xs.length - 1]}]`;
    parent.append(p);
  }
}
