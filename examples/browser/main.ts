// The page: compile the focal loss from its .loss text and take nn.CrossEntropyLoss, run both on
// the JS backend and, when navigator.gpu gives an adapter, on `await loss.to('webgpu')`; write
// the numbers into a table and the whole result as JSON into <pre id="result">.
/// <reference types="vite/client" />
import focalSource from '../focal.loss?raw';
import { mathFingerprint, runJs, runWebGpu, type CaseResult, type JsResults, type ScenarioResult } from './scenario.js';

export interface AdapterJson {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly isFallbackAdapter: boolean;
  readonly subgroups: boolean;
  readonly f16: boolean;
}

export type PageResult =
  | {
      readonly ok: true;
      readonly userAgent: string;
      readonly js: JsResults;
      readonly math: Record<string, number[]>;
      /** results, or the error the WebGPU run raised on an adapter that exists, or why there is no adapter */
      readonly webgpu:
        | { readonly available: true; readonly adapter: AdapterJson; readonly results: ScenarioResult }
        | { readonly available: true; readonly adapter: AdapterJson; readonly error: string }
        | { readonly available: false; readonly reason: string };
      readonly timingsMs: { readonly js: number; readonly webgpu: number | null };
    }
  | { readonly ok: false; readonly error: string };

async function adapterJson(): Promise<AdapterJson | string> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return 'navigator.gpu is absent (no WebGPU in this browser, or not a secure context)';
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return 'navigator.gpu.requestAdapter() gave no adapter';
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: info.isFallbackAdapter === true,
    subgroups: adapter.features.has('subgroups'),
    f16: adapter.features.has('shader-f16'),
  };
}

const describe = (err: unknown): string => (err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err));

async function run(): Promise<PageResult> {
  const t0 = performance.now();
  const js = runJs(focalSource);
  const t1 = performance.now();
  const adapter = await adapterJson();
  if (typeof adapter === 'string') {
    return {
      ok: true,
      userAgent: navigator.userAgent,
      js,
      math: mathFingerprint(),
      webgpu: { available: false, reason: adapter },
      timingsMs: { js: t1 - t0, webgpu: null },
    };
  }
  const t2 = performance.now();
  try {
    const results = await runWebGpu(focalSource);
    const webgpuMs = performance.now() - t2;
    return {
      ok: true,
      userAgent: navigator.userAgent,
      js,
      math: mathFingerprint(),
      webgpu: { available: true, adapter, results },
      timingsMs: { js: t1 - t0, webgpu: webgpuMs },
    };
  } catch (err) {
    // the JS results still count; the test reports this as a failure
    return {
      ok: true,
      userAgent: navigator.userAgent,
      js,
      math: mathFingerprint(),
      webgpu: { available: true, adapter, error: describe(err) },
      timingsMs: { js: t1 - t0, webgpu: null },
    };
  }
}

function render(result: PageResult): void {
  const status = document.getElementById('status')!;
  const app = document.getElementById('app')!;
  if (!result.ok) {
    status.textContent = `error: ${result.error}`;
    return;
  }
  const w = result.webgpu;
  const gpu = w.available && 'results' in w ? w.results : undefined;
  status.textContent = !w.available
    ? `WebGPU: not available (${w.reason}); JS backend only`
    : `WebGPU: ${[w.adapter.vendor, w.adapter.architecture, w.adapter.description].filter(Boolean).join(' ')}${w.adapter.isFallbackAdapter ? ' (software fallback adapter)' : ''}` +
      ('error' in w ? `, failed: ${w.error}` : '');
  const rows: [string, CaseResult | undefined][] = [
    ['FocalLoss (.loss), JS float64', result.js.float64.focal],
    ['FocalLoss (.loss), JS float32', result.js.float32.focal],
    ['FocalLoss (.loss), WebGPU', gpu?.focal],
    ['nn.CrossEntropyLoss, JS float64', result.js.float64.crossEntropy],
    ['nn.CrossEntropyLoss, JS float32', result.js.float32.crossEntropy],
    ['nn.CrossEntropyLoss, WebGPU', gpu?.crossEntropy],
  ];
  const table = document.createElement('table');
  const head = table.insertRow();
  for (const h of ['loss, backend', 'forward', 'value', 'd loss / d input (first 4)']) head.appendChild(document.createElement('th')).textContent = h;
  for (const [label, r] of rows) {
    if (!r) continue;
    const tr = table.insertRow();
    tr.insertCell().textContent = label;
    tr.insertCell().textContent = String(r.forward.data[0]);
    tr.insertCell().textContent = String(r.value.data[0]);
    tr.insertCell().textContent = (r.grads[0]?.data.slice(0, 4) ?? []).map((v) => v.toPrecision(7)).join(', ');
  }
  app.replaceChildren(table);
}

async function main(): Promise<void> {
  let result: PageResult;
  try {
    result = await run();
  } catch (err) {
    result = { ok: false, error: describe(err) };
  }
  render(result);
  const pre = document.getElementById('result')!;
  pre.textContent = JSON.stringify(result);
  pre.dataset['done'] = result.ok ? 'ok' : 'error';
}

void main();
