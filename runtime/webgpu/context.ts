/// <reference types="@webgpu/types" />
// Per device: the buffer pool and the pipeline cache (keyed by kernel source and entry point).
import type { LosscDevice } from './device.js';
import { BufferPool } from './bufferPool.js';
import type { WgslBinding, WgslEntry } from '../../compiler/emit/wgsl.js';

export interface Pipeline {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  readonly module: GPUShaderModule;
}

export class GpuContext {
  readonly device: GPUDevice;
  readonly limits: GPUSupportedLimits;
  readonly subgroups: boolean;
  readonly pool: BufferPool;
  /** the largest storage binding (maxStorageBufferBindingSize); flat kernels over more are dispatched in chunks */
  maxBindingBytes: number;
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, Pipeline>();

  constructor(readonly gpu: LosscDevice) {
    this.device = gpu.device;
    this.limits = gpu.device.limits;
    // LOSSC_WEBGPU_SUBGROUPS=0 emits the plain workgroup reductions even when subgroups exist
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    this.subgroups = gpu.features.subgroups && env?.LOSSC_WEBGPU_SUBGROUPS !== '0';
    this.pool = new BufferPool(gpu.device);
    this.maxBindingBytes = this.limits.maxStorageBufferBindingSize;
  }

  module(code: string): GPUShaderModule {
    let m = this.modules.get(code);
    if (!m) this.modules.set(code, (m = this.device.createShaderModule({ code })));
    return m;
  }

  /** The pipeline of one entry point, with an explicit layout of exactly the bindings it uses. */
  pipeline(code: string, entry: WgslEntry, bindings: readonly WgslBinding[]): Pipeline {
    const key = `${entry.name}\u0000${code}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const module = this.module(code);
      const layout = this.device.createBindGroupLayout({
        entries: entry.bindings.map((n) => {
          const b = bindings[n]!;
          const type: GPUBufferBindingType = b.access === 'uniform' ? 'uniform' : b.access === 'read' ? 'read-only-storage' : 'storage';
          return { binding: n, visibility: GPUShaderStage.COMPUTE, buffer: { type } };
        }),
      });
      const pipeline = this.device.createComputePipeline({
        label: entry.name,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: entry.name },
      });
      this.pipelines.set(key, (p = { pipeline, layout, module }));
    }
    return p;
  }

  /** Compiler messages of every module created so far that has errors (for error reports). */
  async compileErrors(): Promise<string[]> {
    const out: string[] = [];
    for (const [code, m] of this.modules) {
      const info = await m.getCompilationInfo();
      const errors = info.messages.filter((x) => x.type === 'error');
      if (errors.length) out.push(`${errors.map((x) => `${x.lineNum}:${x.linePos} ${x.message}`).join('\n')}\n--- in module ---\n${code}`);
    }
    return out;
  }
}

const contexts = new WeakMap<GPUDevice, GpuContext>();

export function gpuContext(gpu: LosscDevice): GpuContext {
  let c = contexts.get(gpu.device);
  if (!c) contexts.set(gpu.device, (c = new GpuContext(gpu)));
  return c;
}
