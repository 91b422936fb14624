// What the WebAssembly backend's tests share: a loss on a given backend, and a result's bits.
import type { Tensor } from 'lossc';
import { Loss } from '../../runtime/nn.js';
import type { WasmBackend } from '../../runtime/wasm/backend.js';

/** `host`'s loss, with its options, on backend `b` (a backend of the test's own, not the shared one to('wasm') gives). */
export const on = (host: Loss, b: WasmBackend): Loss => new Loss(host.def, { ...host.options }, b);

/** A tensor's elements as the bits of its dtype's floats (float64: two words each; float32 otherwise), to compare exactly. */
export const bits = (t: Pick<Tensor, 'data'> & { readonly dtype?: string }): number[] =>
  t.dtype === 'float64' ? Array.from(new Uint32Array(Float64Array.from(t.data).buffer)) : Array.from(new Uint32Array(Float32Array.from(t.data).buffer));
