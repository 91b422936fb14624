// What the browser page computes, shared with test/browser/page.test.ts so that Node computes the
// same numbers from the same code: a custom loss compiled from .loss text (the focal loss) and a
// built-in (nn.CrossEntropyLoss), forward and valueAndGrad, on the JS backend in float64 and
// float32 and, where WebGPU exists, on `await loss.to('webgpu')` (float32).
import { compile, compileLossSource, nn, tensor, type Loss, type Tensor } from 'lossc';

/** A tensor as JSON: float64 numbers survive JSON.stringify/parse exactly. */
export interface TensorJson {
  readonly shape: number[];
  readonly dtype: string;
  readonly data: number[];
}

export interface CaseResult {
  readonly forward: TensorJson;
  readonly value: TensorJson;
  readonly grads: (TensorJson | null)[];
}

export interface ScenarioResult {
  readonly focal: CaseResult;
  readonly crossEntropy: CaseResult;
}

export interface JsResults {
  readonly float64: ScenarioResult;
  readonly float32: ScenarioResult;
}

export const FOCAL_OPTIONS = { alpha: 0.25, gamma: 2, reduction: 'mean' } as const;
export const CROSS_ENTROPY_OPTIONS = { labelSmoothing: 0.1 } as const;

const json = (t: Tensor): TensorJson => ({ shape: [...t.shape], dtype: t.dtype, data: Array.from(t.data) });

// Inputs are small dyadic fractions: exact in float32 and float64, no transcendental functions.
type FloatDType = 'float32' | 'float64';
function inputs(dtype: FloatDType): { focal: [Tensor, Tensor]; crossEntropy: [Tensor, Tensor] } {
  const [R, K] = [4, 6];
  const x = tensor(
    Array.from({ length: R * K }, (_, i) => (((i * 7 + 3) % 17) - 8) / 4),
    [R, K],
    dtype,
  );
  const t = tensor(
    Array.from({ length: R * K }, (_, i) => ((i * 5) % 3 === 0 ? 1 : 0)),
    [R, K],
    dtype,
  );
  const [N, C] = [5, 4];
  const logits = tensor(
    Array.from({ length: N * C }, (_, i) => (((i * 11 + 5) % 13) - 6) / 4),
    [N, C],
    dtype,
  );
  const classes = tensor(
    Array.from({ length: N }, (_, i) => (i * 3 + 1) % C),
    [N],
    'int32',
  );
  return { focal: [x, t], crossEntropy: [logits, classes] };
}

/** The custom loss, compiled from .loss source text (examples/focal.loss). */
export function focalLoss(focalSource: string): Loss {
  const defs = compileLossSource(focalSource, 'examples/focal.loss');
  const def = defs.find((d) => d.name === 'FocalLoss');
  if (!def) throw new Error(`examples/focal.loss defines no FocalLoss (found: ${defs.map((d) => d.name).join(', ')})`);
  return compile(def, { options: { ...FOCAL_OPTIONS } });
}

export function crossEntropyLoss(): Loss {
  return new nn.CrossEntropyLoss({ ...CROSS_ENTROPY_OPTIONS });
}

function runJsCase(loss: Loss, args: Tensor[]): CaseResult {
  const forward = loss.forward(...args);
  const { value, grads } = loss.valueAndGrad(...args);
  return { forward: json(forward), value: json(value), grads: grads.map((g) => (g ? json(g) : null)) };
}

/** Both losses on the JS backend, in float64 and float32. */
export function runJs(focalSource: string): JsResults {
  const focal = focalLoss(focalSource);
  const ce = crossEntropyLoss();
  const run = (dtype: FloatDType): ScenarioResult => {
    const x = inputs(dtype);
    return { focal: runJsCase(focal, x.focal), crossEntropy: runJsCase(ce, x.crossEntropy) };
  };
  return { float64: run('float64'), float32: run('float32') };
}

/**
 * The JS engine's Math functions that lossc's JS kernels call, on fixed inputs. JS engines need not
 * agree on the last bit of these (ECMAScript leaves their accuracy to the implementation: V8 in
 * Chromium 156 and in Node 20 differ on 66 of these 1792 values), so float64 results of the JS
 * backend are bit-identical across engines only where these values are.
 */
export function mathFingerprint(): Record<string, number[]> {
  const xs = Array.from({ length: 256 }, (_, i) => (i - 128) / 16 + 1 / 1024);
  const pos = xs.map((x) => Math.abs(x) + 1 / 64);
  return {
    exp: xs.map(Math.exp),
    expm1: xs.map(Math.expm1),
    log: pos.map(Math.log),
    log1p: pos.map(Math.log1p),
    tanh: xs.map(Math.tanh),
    sqrt: pos.map(Math.sqrt),
    pow: pos.map((x) => Math.pow(x, 1.75)),
  };
}

/** Both losses on `await loss.to('webgpu')`, float32 (rejects when there is no adapter). */
export async function runWebGpu(focalSource: string): Promise<ScenarioResult> {
  const x = inputs('float32');
  const runCase = async (loss: Loss, args: Tensor[]): Promise<CaseResult> => {
    const gpu = await loss.to('webgpu');
    const forward = await gpu.forward(...args);
    const { value, grads } = await gpu.valueAndGrad(...args);
    return { forward: json(forward), value: json(value), grads: grads.map((g) => (g ? json(g) : null)) };
  };
  return { focal: await runCase(focalLoss(focalSource), x.focal), crossEntropy: await runCase(crossEntropyLoss(), x.crossEntropy) };
}
