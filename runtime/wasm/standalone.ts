// The run time of a standalone WebAssembly module (`lossc compile --target wasm`): the JS
// target's run time (runtime/standalone.ts: options, checks, overloads, result shapes) with each
// method's kernels run by this backend's WasmProgram, from modules compiled ahead of time (their
// bytes carried as base64). esbuild bundles this file into dist/standalone/runtime-wasm.js, which
// each emitted module carries: no compiler, no assembler, no imports.
//
// Single-threaded: one unshared WebAssembly.Memory per created loss, kernels run on the calling
// thread (the library's `to('wasm', { threads })` gives the same numbers with threads).
import type { ElemType } from '../../compiler/emit/wasm/kernel.js';
import type { KernelLayout } from '../../compiler/emit/js.js';
import type { Precision } from '../../compiler/plan/kernelPlan.js';
import { createLossWith, type StandaloneForm, type StandaloneLoss } from '../standalone.js';
import { WasmMemory } from './memory.js';
import { WasmProgram, runPartsHere } from './program.js';

/** One kernel as data: how it is called (program.ts), and its module, compiled for an unshared memory. */
export interface StandaloneWasmKernel {
  readonly kind: 'plain' | 'rows' | 'scan';
  /** the executor's layout (no source, outputs without their compile-time node) */
  readonly layout: KernelLayout;
  readonly registers: number;
  readonly caches?: number;
  /** the element type of each site ('x0'...) and output ('o0'...) */
  readonly types: Readonly<Record<string, ElemType>>;
  /** the module's bytes, base64 */
  readonly wasm: string;
}

export interface StandaloneWasmProgram {
  readonly precision: Precision;
  readonly kernels: readonly StandaloneWasmKernel[];
  readonly results: readonly string[];
}

const decodeBase64 = (text: string): Uint8Array => {
  const bin = atob(text);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
};

/** A loss from its compiled WebAssembly data, with `options` applied at run time over the loss's defaults. */
export function createLoss(data: StandaloneForm<StandaloneWasmProgram>, options: Record<string, unknown> = {}): StandaloneLoss {
  if (typeof WebAssembly === 'undefined') throw new Error(`${data.name}: this module needs WebAssembly, which this environment lacks`);
  const mem = new WasmMemory(false);
  return createLossWith(data, options, (p) => {
    const kernels = p.kernels.map((k) => ({ ...k, types: new Map(Object.entries(k.types)) }));
    const bytes = (i: number, shared: boolean): Uint8Array => {
      if (shared) throw new Error('internal: a standalone wasm module carries kernels for an unshared memory only');
      return decodeBase64(p.kernels[i]!.wasm);
    };
    return new WasmProgram({ precision: p.precision, results: p.results, kernels, bytes }, mem, { runParts: runPartsHere });
  });
}
