/// <reference types="@webgpu/types" />
// Running a kernel plan on the GPU: resolve every shape for the call (as the CPU executor does),
// lay out each entry point's uniform segment (sizes, strides through each site's view path,
// scalars), then record every dispatch of every kernel in ONE command encoder, in plan order,
// followed by the copies for readback. One uniform buffer per call holds every segment.
import type { KernelPlan } from '../../compiler/plan/kernelPlan.js';
import {
  emitWgsl,
  MAX_RANK,
  SHORT_REDUCTION,
  UNIFORM_CONSTS,
  WORKGROUP_SIZE,
  type WgslEntry,
  type WgslKernel,
  type WgslProgram,
  type WgslSlot,
} from '../../compiler/emit/wgsl.js';
import { normalizeAxis, type ShapeExpr } from '../../compiler/ir/shape.js';
import { numel } from '../../compiler/abi/strides.js';
import { callDims, loopLayout, outputWrite, rowCall, scanCall, scatterCall, siteView } from '../../compiler/abi/call.js';
import type { GpuContext } from './context.js';

/** A tensor living in a GPU buffer (f32 or i32 elements, row-major). */
export interface GpuValue {
  readonly buffer: GPUBuffer;
  readonly shape: readonly number[];
  /** where the elements start in `buffer`, in bytes (a caller's buffer: fromGpuBuffer's offset); 0 when absent */
  readonly offset?: number;
}

/** A buffer the caller gave for a result, from byte `offset`. */
export interface GivenBuffer {
  readonly buffer: GPUBuffer;
  readonly offset?: number;
}

export interface CallStats {
  readonly kernels: number;
  readonly dispatches: number;
}

/** A submitted call: its results on the GPU, and (with readback) their contents to come. */
export interface Submitted {
  readonly results: { readonly name: string; readonly value: GpuValue }[];
  readonly stats: CallStats;
  /** resolves once the GPU accepted the work (rejects on validation errors) */
  readonly validated: Promise<void>;
  /** resolves with the results' contents (only when submitted with readback) */
  readonly data: Promise<Float32Array[]> | null;
}

interface Dispatch {
  readonly kernel: WgslKernel;
  readonly entry: WgslEntry;
  readonly workgroups: number;
  readonly words: Uint32Array;
  readonly buffers: ReadonlyMap<string, GPUBuffer>;
  /** a chunk of a large flat domain: the byte range bound of each domain-sized buffer */
  readonly ranges?: ReadonlyMap<string, { readonly offset: number; readonly size: number }>;
}

/** What laying out one kernel of one call needs. */
interface KernelCall {
  readonly k: WgslKernel;
  readonly dims: (s: ShapeExpr) => number[];
  readonly domain: number[];
  readonly n: number;
  readonly params: ReadonlyMap<string, number>;
  readonly values: Map<string, GpuValue>;
  readonly alloc: (bytes: number, label: string) => GPUBuffer;
  readonly dispatches: Dispatch[];
  /** the loop outputs; bit j of mask: output j accumulates into its source's shape (a plain store) */
  readonly loop: readonly WgslSlot[];
  readonly mask: number;
  readonly registers: number;
}

/**
 * At most this many workgroups per dispatch: grid-stride loops cover the rest. Plenty to fill a
 * GPU, and each workgroup costs a fixed overhead (on lavapipe, ~80 us: more than a 1024-wide row).
 */
const GRID = 1024;

const STORAGE = (): GPUBufferUsageFlags => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export class WebGpuProgram {
  readonly wgsl: WgslProgram;
  private readonly maxWorkgroups: number;

  constructor(
    readonly ctx: GpuContext,
    readonly plan: KernelPlan,
  ) {
    this.wgsl = emitWgsl(plan, { subgroups: ctx.subgroups });
    this.maxWorkgroups = Math.min(ctx.limits.maxComputeWorkgroupsPerDimension, GRID);
  }

  /**
   * Record and submit one call. `inputs` are the plan's input buffers, by name (the caller owns
   * them); results stay on the GPU, owned by the caller (release them to ctx.pool), unless
   * `readback`, which copies them out and returns their buffers to the pool.
   */
  submit(
    inputs: ReadonlyMap<string, GpuValue>,
    params: ReadonlyMap<string, number>,
    readback: boolean,
    outputs: ReadonlyMap<string, GivenBuffer> = new Map(),
  ): Submitted {
    const { pool } = this.ctx;
    const inputShapes = new Map([...inputs].map(([k, v]) => [k, v.shape] as const));
    const dims = callDims(inputShapes);
    const values = new Map<string, GpuValue>(inputs);
    const owned: GPUBuffer[] = [];
    const alloc = (bytes: number, label: string): GPUBuffer => {
      // a result the caller gave a buffer for (`outputs`, by result name; the label is the buffer's name)
      const given = outputs.get(label);
      if (given) {
        if (given.buffer.size - (given.offset ?? 0) < bytes)
          throw new Error(`internal: the buffer given for ${label} holds ${given.buffer.size - (given.offset ?? 0)} bytes from its offset, ${bytes} needed`);
        return given.buffer;
      }
      const b = pool.acquire(Math.max(bytes, 4), STORAGE(), label);
      owned.push(b);
      return b;
    };
    const dispatches: Dispatch[] = [];
    // an input that is also a result's buffer (accumulate: the prior value is the result's own
    // buffer) is read from a copy made first: one buffer may not be bound for reading and writing
    const copies: { from: GPUBuffer; offset: number; to: GPUBuffer; bytes: number }[] = [];
    const given = new Set([...outputs.values()].map((g) => g.buffer));
    for (const [name, v] of values) {
      if (!given.has(v.buffer)) continue;
      const bytes = numel(v.shape) * 4;
      const to = alloc(bytes, `${name} (copy)`);
      copies.push({ from: v.buffer, offset: v.offset ?? 0, to, bytes });
      values.set(name, { buffer: to, shape: v.shape });
    }
    try {
      for (const k of this.wgsl.kernels) {
        if (k.scan) this.layoutScan(k, params, values, alloc, dispatches);
        else this.layoutKernel(k, dims, params, values, alloc, dispatches);
      }
      // results written into a caller's buffer at an offset are bound there
      for (const [name, g] of outputs) {
        const v = values.get(name);
        if (v && v.buffer === g.buffer && g.offset) values.set(name, { ...v, offset: g.offset });
      }
      this.checkBindingSizes(dispatches, values);
    } catch (e) {
      for (const b of owned) pool.release(b);
      throw e;
    }
    return this.record(dispatches, values, owned, readback, copies);
  }

  /** A plain or row kernel: its main (or rows) dispatch, its scatters, then its finish. */
  private layoutKernel(
    k: WgslKernel,
    dims: (s: ShapeExpr) => number[],
    params: ReadonlyMap<string, number>,
    values: Map<string, GpuValue>,
    alloc: (bytes: number, label: string) => GPUBuffer,
    dispatches: Dispatch[],
  ): void {
    const domain = dims(k.domain);
    for (const o of k.outputs) {
      const shape = dims(o.shape);
      values.set(o.buffer, { buffer: alloc(numel(shape) * 4, o.buffer), shape });
    }
    const loop = k.outputs.filter((o) => o.phase === 'loop');
    // an accumulation whose target has the shape it is computed over visits each element once: a store
    const writes = loop.map((o) => outputWrite(o, dims(o.shape), o.from ? dims(o.from) : domain));
    let mask = 0;
    writes.forEach((w, j) => {
      if (w === 'once') mask |= 2 ** j;
    });
    const call: KernelCall = {
      k,
      dims,
      domain,
      n: numel(domain),
      params,
      values,
      alloc,
      dispatches,
      loop,
      mask,
      registers: loop.filter((o) => o.register).length,
    };
    const { partials, count } = k.rowAxis !== undefined ? this.layoutRows(call) : this.layoutMain(call);
    loop.forEach((o, j) => {
      if (writes[j] === 'scatter') this.layoutScatter(call, o, j);
    });
    const fin = k.entries.find((e) => e.kind === 'finish');
    if (fin) {
      const words = this.segment(k, fin, dims, params, []);
      words.set([count], 4);
      dispatches.push({ kernel: k, entry: fin, workgroups: 1, words, buffers: this.bound(values, partials) });
    }
  }

  /** main_flat or main_strided, over the whole domain (in chunks when flat and too large to bind at once). */
  private layoutMain(c: KernelCall): { partials?: GPUBuffer; count: number } {
    const { k, dims, domain, n, loop, mask } = c;
    if (!loop.some((o, j) => o.mode === 'store' || o.register || mask & (2 ** j))) return { count: 0 };
    const flat = k.entries.find((e) => e.kind === 'main_flat')!;
    const views = flat.sites.map((s) => siteView(s, domain, dims));
    const l = loopLayout(
      domain,
      views.map((v) => v.strides),
    );
    const isFlat = l.flat;
    const entry = isFlat ? flat : k.entries.find((e) => e.kind === 'main_strided')!;
    const strided = isFlat ? null : l;
    if (strided && strided.dims.length > MAX_RANK)
      throw new Error(`WebGPU: ${k.name} reads tensors through ${strided.dims.length} distinct strided axes; at most ${MAX_RANK} are supported`);
    // chunks of whole 256-byte blocks (binding offsets must be aligned), each bound at its offset
    const chunk = isFlat && n * 4 > this.ctx.maxBindingBytes ? Math.floor(this.ctx.maxBindingBytes / 256) * 64 : Math.max(n, 1);
    const lengths = Array.from({ length: Math.max(1, Math.ceil(n / chunk)) }, (_, i) => Math.min(chunk, n - i * chunk));
    const groups = lengths.map((len) => Math.max(1, Math.min(Math.ceil(len / WORKGROUP_SIZE), this.maxWorkgroups)));
    const count = groups.reduce((a, b) => a + b, 0);
    const partials = c.registers ? c.alloc(c.registers * count * 4, `${k.name} partials`) : undefined;
    const domainSized = new Set([...flat.sites.map((s) => s.buffer), ...loop.filter((o, j) => o.mode === 'store' || mask & (2 ** j)).map((o) => o.buffer)]);
    let base = 0;
    lengths.forEach((len, i) => {
      const words = this.segment(
        k,
        entry,
        dims,
        c.params,
        views.map((v) => v.gatherStrides),
      );
      words.set([len, strided?.dims.length ?? 0, groups[i]!, mask, count, base], 4);
      if (strided) {
        words.set(strided.dims, entry.layout.dims!);
        strided.strides.forEach((st, site) => words.set(st, entry.layout.strides! + site * MAX_RANK));
      }
      const ranges = lengths.length > 1 ? new Map([...domainSized].map((b) => [b, { offset: i * chunk * 4, size: Math.max(4, len * 4) }] as const)) : undefined;
      c.dispatches.push({ kernel: k, entry, workgroups: groups[i]!, words, buffers: this.bound(c.values, partials), ...(ranges ? { ranges } : {}) });
      base += groups[i]!;
    });
    return { partials, count };
  }

  /** rows: one workgroup per row; each slot's strides split into the outer ones and the one along the row. */
  private layoutRows(c: KernelCall): { partials?: GPUBuffer; count: number } {
    const { k, dims, domain, loop } = c;
    const entry = k.entries.find((e) => e.kind === 'rows')!;
    const { views, rows, C, outer, along } = rowCall(
      domain,
      k.rowAxis!,
      entry.sites,
      entry.addressed!.map((j) => loop[j]!),
      dims,
    );
    if (outer.dims.length > MAX_RANK) throw new Error(`WebGPU: ${k.name} walks rows through more than ${MAX_RANK} strided axes`);
    const count = Math.max(1, Math.min(rows, this.maxWorkgroups));
    const partials = c.registers ? c.alloc(c.registers * count * 4, `${k.name} partials`) : undefined;
    const words = this.segment(
      k,
      entry,
      dims,
      c.params,
      views.map((v) => v.gatherStrides),
    );
    words.set([rows, C, outer.dims.length, count, c.mask], 4);
    words.set(outer.dims, entry.layout.dims!);
    outer.strides.forEach((st, slot) => words.set(st, entry.layout.strides! + slot * MAX_RANK));
    const ints = new Int32Array(words.buffer);
    along.forEach((a, slot) => (ints[entry.layout.along! + slot] = a));
    c.dispatches.push({ kernel: k, entry, workgroups: count, words, buffers: this.bound(c.values, partials) });
    return { partials, count };
  }

  /** Accumulation j into a smaller tensor: the kept axes pick the output element, the reduced ones are summed. */
  private layoutScatter(c: KernelCall, o: WgslSlot, j: number): void {
    const { k, dims } = c;
    const wgEntry = k.entries.find((e) => e.kind === 'scatter_wg' && e.output === j)!;
    const over = wgEntry.domain ? dims(wgEntry.domain) : c.domain;
    if (numel(dims(o.shape)) === 0) return;
    const { m, R, views, kept, red } = scatterCall(k.name, over, o, wgEntry.sites, dims);
    if (kept.dims.length > MAX_RANK || red.dims.length > MAX_RANK)
      throw new Error(`WebGPU: ${k.name} accumulates ${o.buffer} over more than ${MAX_RANK} strided axes`);
    const short = R <= SHORT_REDUCTION;
    const entry = short ? k.entries.find((e) => e.kind === 'scatter_inv' && e.output === j)! : wgEntry;
    const G = short ? Math.min(Math.ceil(m / WORKGROUP_SIZE), this.maxWorkgroups) : Math.min(m, this.maxWorkgroups);
    const words = this.segment(
      k,
      entry,
      dims,
      c.params,
      views.map((v) => v.gatherStrides),
    );
    words.set([m, R, kept.dims.length, red.dims.length, G], 4);
    words.set(kept.dims, entry.layout.keptDims!);
    words.set(red.dims, entry.layout.redDims!);
    views.forEach((_, site) => {
      words.set(kept.strides[site]!, entry.layout.keptStrides! + site * MAX_RANK);
      words.set(red.strides[site]!, entry.layout.redStrides! + site * MAX_RANK);
    });
    c.dispatches.push({ kernel: k, entry, workgroups: G, words, buffers: this.bound(c.values) });
  }

  /** A recurrence: the body's placeholders take the shapes of the buffers bound to them. */
  private layoutScan(
    k: WgslKernel,
    params: ReadonlyMap<string, number>,
    values: Map<string, GpuValue>,
    alloc: (bytes: number, label: string) => GPUBuffer,
    dispatches: Dispatch[],
  ): void {
    const call = scanCall(k.name, k.scan!, k.entries[0]!.sites, (buffer) => values.get(buffer)?.shape);
    const { dims, T, n, views, loop: c } = call;
    const out = k.outputs[0]!;
    values.set(out.buffer, { buffer: alloc(T * n * 4, out.buffer), shape: [T, ...call.carry] });
    const entry = k.entries[0]!;
    if (c.dims.length > MAX_RANK) throw new Error(`WebGPU: ${k.name} walks its state through more than ${MAX_RANK} strided axes`);
    const words = this.segment(
      k,
      entry,
      dims,
      params,
      views.map((v) => v.gatherStrides),
    );
    words.set([T, n, c.dims.length], 4);
    words.set(c.dims, entry.layout.dims!);
    c.strides.forEach((st, site) => words.set(st, entry.layout.strides! + site * MAX_RANK));
    call.step.forEach((len, site) => (words[entry.layout.along! + site] = len));
    if (n > 0 && T > 0) dispatches.push({ kernel: k, entry, workgroups: 1, words, buffers: this.bound(values) });
  }

  /** Every buffer known so far, by name (and the kernel's partials). */
  private bound(values: ReadonlyMap<string, GpuValue>, partials?: GPUBuffer): Map<string, GPUBuffer> {
    const m = new Map<string, GPUBuffer>();
    for (const [name, v] of values) m.set(name, v.buffer);
    if (partials) m.set('$partials', partials);
    return m;
  }

  /** Device limits a dispatch must fit: bytes per storage binding, storage bindings per entry point. */
  private checkBindingSizes(dispatches: readonly Dispatch[], values: ReadonlyMap<string, GpuValue>): void {
    const max = this.ctx.maxBindingBytes;
    const perStage = this.ctx.limits.maxStorageBuffersPerShaderStage;
    for (const d of dispatches) {
      const storage = d.entry.bindings.filter((n) => d.kernel.bindings[n]!.access !== 'uniform').length;
      if (storage > perStage)
        throw new Error(
          `WebGPU: ${d.kernel.name}.${d.entry.name} binds ${storage} storage buffers; this device allows ${perStage} per shader stage (maxStorageBuffersPerShaderStage)`,
        );
      for (const n of d.entry.bindings) {
        const b = d.kernel.bindings[n]!;
        const v = d.ranges?.has(b.buffer) ? undefined : values.get(b.buffer);
        if (v && numel(v.shape) * 4 > max)
          throw new Error(
            `WebGPU: '${b.buffer}' needs ${numel(v.shape) * 4} bytes, more than this device binds in one buffer (maxStorageBufferBindingSize = ${max}) in ${d.kernel.name}.${d.entry.name}`,
          );
      }
    }
  }

  /** One uniform buffer, one command encoder with every dispatch, the readback copies, one submit. */
  private record(
    dispatches: readonly Dispatch[],
    values: ReadonlyMap<string, GpuValue>,
    owned: readonly GPUBuffer[],
    readback: boolean,
    copies: readonly { from: GPUBuffer; offset: number; to: GPUBuffer; bytes: number }[] = [],
  ): Submitted {
    const { device, pool } = this.ctx;

    // one uniform buffer for the call, a 256-byte-aligned segment per dispatch
    const align = Math.max(256, this.ctx.limits.minUniformBufferOffsetAlignment);
    const segBytes = dispatches.map((d) => Math.ceil((Math.ceil(d.kernel.uniformWords / 4) * 16) / align) * align);
    const offsets: number[] = [];
    let total = 0;
    for (const s of segBytes) {
      offsets.push(total);
      total += s;
    }
    const uniformData = new Uint32Array(Math.max(total, 16) / 4);
    dispatches.forEach((d, i) => uniformData.set(d.words, offsets[i]! / 4));
    const uniform = pool.acquire(uniformData.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, 'lossc uniforms');
    device.queue.writeBuffer(uniform, 0, uniformData);

    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder({ label: this.plan.name });
    for (const c of copies) if (c.bytes > 0) encoder.copyBufferToBuffer(c.from, c.offset, c.to, 0, c.bytes);
    const pass = encoder.beginComputePass({ label: this.plan.name });
    dispatches.forEach((d, i) => {
      const p = this.ctx.pipeline(d.kernel.code, d.entry, d.kernel.bindings);
      const entries: GPUBindGroupEntry[] = d.entry.bindings.map((n) => {
        const b = d.kernel.bindings[n]!;
        if (b.buffer === '$uniform') return { binding: n, resource: { buffer: uniform, offset: offsets[i]!, size: segBytes[i]! } };
        const buf = d.buffers.get(b.buffer)!;
        const range = d.ranges?.get(b.buffer);
        const v = values.get(b.buffer);
        const at = v?.buffer === buf ? (v.offset ?? 0) : 0; // a caller's buffer, from its offset
        if (range) return { binding: n, resource: { buffer: buf, offset: at + range.offset, size: range.size } };
        return { binding: n, resource: { buffer: buf, offset: at, size: Math.min(Math.max(4, v ? numel(v.shape) * 4 : buf.size), buf.size - at) } };
      });
      pass.setPipeline(p.pipeline);
      pass.setBindGroup(0, device.createBindGroup({ layout: p.layout, entries }));
      pass.dispatchWorkgroups(d.workgroups);
    });
    pass.end();

    const results = this.plan.results.map((name) => ({ name, value: values.get(name)! }));
    const layout: { offset: number; length: number }[] = [];
    let staging: GPUBuffer | null = null;
    if (readback) {
      let bytes = 0;
      for (const r of results) {
        const length = numel(r.value.shape);
        layout.push({ offset: bytes, length });
        bytes += length * 4;
      }
      staging = pool.acquire(Math.max(bytes, 4), GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'lossc readback');
      results.forEach((r, i) => {
        const { offset, length } = layout[i]!;
        if (length > 0) encoder.copyBufferToBuffer(r.value.buffer, r.value.offset ?? 0, staging!, offset, length * 4);
      });
    }
    device.queue.submit([encoder.finish()]);
    const [validation, oom] = [device.popErrorScope(), device.popErrorScope()];
    const validated = Promise.all([validation, oom]).then(async ([v, o]) => {
      const err = v ?? o;
      if (err) {
        const compile = await this.ctx.compileErrors();
        throw new Error(`WebGPU rejected ${this.plan.name}: ${err.message}${compile.length ? `\n${compile.join('\n')}` : ''}`);
      }
    });

    // the queue orders every later use after this submission: the buffers can be reused at once
    const resultBuffers = new Set(results.map((r) => r.value.buffer));
    for (const b of owned) if (readback || !resultBuffers.has(b)) pool.release(b);
    pool.release(uniform);

    let data: Promise<Float32Array[]> | null = null;
    if (staging) {
      const s = staging;
      data = validated.then(async () => {
        await s.mapAsync(GPUMapMode.READ);
        const all = new Float32Array(s.getMappedRange().slice(0));
        s.unmap();
        pool.release(s);
        return layout.map(({ offset, length }) => all.slice(offset / 4, offset / 4 + length));
      });
    }
    return { results, stats: { kernels: this.plan.kernels.length, dispatches: dispatches.length }, validated, data };
  }

  /** A segment with the constants and the entry's host-computed scalars filled in (scalar j is word 12 + j). */
  private segment(
    k: WgslKernel,
    entry: WgslEntry,
    dims: (s: ShapeExpr) => number[],
    params: ReadonlyMap<string, number>,
    gatherStrides: readonly (readonly number[])[],
  ): Uint32Array {
    const words = new Uint32Array(entry.layout.words);
    const floats = new Float32Array(words.buffer);
    const ints = new Int32Array(words.buffer);
    words.set(UNIFORM_CONSTS, 0);
    entry.scalars.forEach((src, i) => {
      const w = 12 + i;
      switch (src.kind) {
        case 'param': {
          const v = params.get(src.name);
          if (v === undefined) throw new Error(`internal: ${k.name} needs option '${src.name}'`);
          floats[w] = v;
          break;
        }
        case 'numel':
          floats[w] = numel(dims(src.shape));
          break;
        case 'dim': {
          const d = dims(src.shape);
          floats[w] = d[normalizeAxis(src.axis, d.length, 'size')]!;
          break;
        }
        case 'gatherStride':
          ints[w] = gatherStrides[src.site]![src.step]!;
          break;
        case 'buffer':
          break; // read by the shader itself
      }
    });
    return words;
  }
}
