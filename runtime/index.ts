// lossc: the public API.
export { nn, builtinLosses, builtinLoss, builtinLossSource, type LossOptions, type LossClass } from './losses.js';
export { Loss, type ExplainResult, type ValueAndGrad } from './nn.js';
export { tensor, zeros, type Tensor, type DType } from './tensor.js';
export type { CallOptions, ForwardOptions } from './callOptions.js';
export { compile, defineLoss, type CustomLossSpec } from './compile.js';
export type { LossDef, OptionSpec, InputSpec, BuildContext } from '../compiler/loss.js';
export type { Node } from '../compiler/ir/node.js';
export * from '../compiler/ir/builders.js';
export { compileLossSource, parseLossSource, CompileError, formatDiagnostic, type Diagnostic } from '../dsl/index.js';
export { wgslModules, type WgslModules } from '../compiler/emit/wgslModules.js';
export { inspectLoss, type LossInspection, type GraphData, type GraphNodeData, type KernelData, type KernelSource, type InspectOptions } from './inspect.js';
export { highlightLossSource, type HighlightToken, type HighlightClass } from '../dsl/highlight.js';
export type { Method } from '../compiler/pipeline.js';
export { GpuTensor } from './webgpu/gpuTensor.js';
export { fromGpuBuffer, type FromGpuBufferOptions, type WebGpuOptions } from './webgpu/interop.js';
export type { WebGpuLoss, GpuCallOptions, GpuValueAndGrad, TensorArg } from './webgpu/loss.js';
export { WasmTensor, type WasmLoss, type WasmTensors } from './wasm/tensor.js';
