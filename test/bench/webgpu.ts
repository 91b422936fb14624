// `npm run bench`, WebGPU section: lossc's kernels on the WebGPU device (on a GPU-less machine,
// Mesa lavapipe: a sanity check, not a GPU number). Per case: kernels in the plan, dispatches per
// call, the median time of a call with upload and readback, of a GPU-resident call (inputs
// already on the GPU, results left there, timed to queue completion), and of the resident
// training step (wrt: ['input'], results written into GpuTensors the caller keeps), with the
// GB/s each achieves.
import { nn, tensor, type Tensor } from 'lossc';
import { requestDevice, releaseDevice } from '../../runtime/webgpu/device.js';
import type { TensorArg, WebGpuLoss } from '../../runtime/webgpu/loss.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

async function time(fn: () => Promise<unknown>, runs = 7, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

function random(n: number, seed: number, scale = 2): Float32Array {
  const data = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 2 ** 32 - 0.5) * scale;
  }
  return data;
}

interface Case {
  name: string;
  loss: WebGpuLoss;
  inputs: Tensor[];
  elements: number;
  /** bytes a fused pass must move: inputs read once, gradients written once */
  bytes: number;
}

export async function benchWebGpu(): Promise<void> {
  const gpu = await requestDevice();
  if (!gpu) {
    console.log('\nWebGPU: skipped (no adapter: run .ci/install-webgpu.sh for Mesa lavapipe)');
    return;
  }
  console.log(`\nWebGPU on ${gpu.adapterInfo} (${gpu.backend}, subgroups: ${gpu.features.subgroups}); median of 7 runs`);
  const n = 1 << 24;
  const cases: Case[] = [];
  cases.push({
    name: 'MSELoss valueAndGrad f32',
    loss: await new nn.MSELoss().to('webgpu'),
    inputs: [tensor(random(n, 1, 6), [n]), tensor(random(n, 2, 6), [n])],
    elements: n,
    bytes: 4 * 4 * n,
  });
  const [rows, classes] = [4096, 1024];
  const m = rows * classes;
  cases.push({
    name: `CrossEntropyLoss valueAndGrad [${rows}, ${classes}]`,
    loss: await new nn.CrossEntropyLoss().to('webgpu'),
    inputs: [
      tensor(random(m, 3, 8), [rows, classes]),
      tensor(
        Int32Array.from({ length: rows }, (_, i) => (i * 7919) % classes),
        [rows],
        'int32',
      ),
    ],
    elements: m,
    bytes: 4 * 2 * m + 4 * rows,
  });

  console.log('case                                        elements  kernels  dispatches  call ms   GB/s  resident ms   GB/s  step ms   GB/s');
  for (const c of cases) {
    const call = await time(() => c.loss.valueAndGrad(...c.inputs));
    const kernels = c.loss.lastStats!.kernels;
    const dispatches = c.loss.lastStats!.dispatches;
    const resident: TensorArg[] = c.inputs.map((t) => c.loss.upload(t));
    const device = gpu.device;
    const onGpu = await time(async () => {
      const r = await c.loss.valueAndGradGpu(...resident);
      await device.queue.onSubmittedWorkDone();
      r.value.release();
      r.grads.forEach((g) => g?.release());
    });
    const value = c.loss.upload(tensor(new Float32Array(1), []));
    const grad = c.loss.upload(tensor(new Float32Array(c.inputs[0]!.data.length), c.inputs[0]!.shape));
    const step = await time(async () => {
      await c.loss.valueAndGradGpu(resident, { wrt: ['input'], out: { value, grads: [grad] } });
      await device.queue.onSubmittedWorkDone();
    });
    for (const t of [...resident, value, grad]) (t as { release(): void }).release();
    const gbs = (ms: number): string => (c.bytes / ms / 1e6).toFixed(2).padStart(6);
    console.log(
      `${c.name.padEnd(42)} ${String(c.elements).padStart(9)} ${String(kernels).padStart(8)} ${String(dispatches).padStart(11)} ${call.toFixed(1).padStart(8)} ${gbs(call)} ${onGpu.toFixed(1).padStart(12)} ${gbs(onGpu)} ${step.toFixed(1).padStart(8)} ${gbs(step)}`,
    );
  }
  await releaseDevice();
}
