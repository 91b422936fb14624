// Worker threads for the WebAssembly backend: Node's worker_threads, or Web Workers in a
// cross-origin-isolated page. Each worker instantiates the kernels' modules over the same shared
// memory and claims parts of a kernel call with the calling thread. A call is synchronous: the
// caller runs parts too, then waits until every part is done (blocking in Atomics.wait, or, on a
// browser's main thread where that is not allowed, spinning). Which thread runs a part never
// matters: each part writes its own outputs and partial slot, and `fin` combines the partials in
// part order. A worker that does not have a call's module yet (a Web Worker receives modules
// between jobs) leaves its parts to the others.
import { HOST_MATH } from '../../compiler/emit/wasm/spelling.js';
import { partRange, type KernelEntry, type PartRunner } from './program.js';

/** Words of the control block (an Int32Array over a SharedArrayBuffer). */
const CLAIM = 0; // (job << 16) | next part to claim
const DONE = 1; // parts finished in the current job
const NPARTS = 2;
const ID = 3;
const FRAME = 4;
const SC = 5;
const COUNT = 6;
const STOP = 7;
const WORKER_PARTS = 8; // parts the workers ran, over the pool's life
const FAILED = 9; // a part threw on a worker

/** The host functions the kernels import, as source (the same functions as HOST_MATH). */
const MATH_SOURCE = `{ ${Object.keys(HOST_MATH)
  .map((k) => `${k}: ${k === 'fmod' ? '(a, b) => a % b' : `Math.${k}`}`)
  .join(', ')} }`;

/**
 * What both kinds of worker run per job: claim parts until none is left, each with the module of
 * the job's id when this worker has it (else leave the job to the others). A part that throws (a
 * trap) still counts as done, with the error flag set for the caller to raise. Returns the last
 * value of the claim word seen, to wait on for the next job.
 */
const CLAIM_LOOP = `
function claimParts(ctrl, runs, seen) {
  const job = Atomics.load(ctrl, ${CLAIM}) >>> 16;
  const run = runs.get(Atomics.load(ctrl, ${ID}));
  for (;;) {
    const v = Atomics.load(ctrl, ${CLAIM});
    seen = v;
    if (v >>> 16 !== job || !run) break;
    const nparts = Atomics.load(ctrl, ${NPARTS});
    const p = v & 0xffff;
    if (p >= nparts) break;
    if (Atomics.compareExchange(ctrl, ${CLAIM}, v, v + 1) !== v) continue;
    try {
      const count = Atomics.load(ctrl, ${COUNT});
      run(Atomics.load(ctrl, ${FRAME}), Atomics.load(ctrl, ${SC}), Math.floor((p * count) / nparts), Math.floor(((p + 1) * count) / nparts), p);
      Atomics.add(ctrl, ${WORKER_PARTS}, 1);
    } catch (e) {
      Atomics.store(ctrl, ${FAILED}, 1);
    }
    if (Atomics.add(ctrl, ${DONE}, 1) + 1 === nparts) Atomics.notify(ctrl, ${DONE});
  }
  return seen;
}
`;

/** Node: a CommonJS script as text (bundlers must not rewrite its require); modules arrive on a port, read between parts. */
const NODE_WORKER = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { ctrl, memory, port } = workerData;
const host = { memory };
for (const [k, f] of Object.entries(${MATH_SOURCE})) host[k] = host['host_' + k] = f;
const runs = new Map();
${CLAIM_LOOP}
let seen = Atomics.load(ctrl, ${CLAIM});
for (;;) {
  Atomics.wait(ctrl, ${CLAIM}, seen);
  if (Atomics.load(ctrl, ${STOP})) break;
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port))
    runs.set(m.message.id, new WebAssembly.Instance(m.message.module, { env: host }).exports.run);
  seen = claimParts(ctrl, runs, seen);
}
`;

/**
 * A browser: a Web Worker from a blob. Its messages (the memory, then modules) arrive on its event
 * loop, so it waits for a job in steps (at most 50 ms each) and returns to the event loop between them.
 */
const WEB_WORKER = `
let ctrl, host, seen = 0;
const runs = new Map();
${CLAIM_LOOP}
const tick = new MessageChannel();
tick.port1.onmessage = () => {
  Atomics.wait(ctrl, ${CLAIM}, seen, 50);
  if (Atomics.load(ctrl, ${STOP})) return close();
  seen = claimParts(ctrl, runs, seen);
  tick.port2.postMessage(0);
};
onmessage = (e) => {
  const m = e.data;
  if (m.ctrl) {
    ctrl = m.ctrl;
    host = { memory: m.memory };
    for (const [k, f] of Object.entries(${MATH_SOURCE})) host[k] = host['host_' + k] = f;
    seen = Atomics.load(ctrl, ${CLAIM});
    tick.port2.postMessage(0);
  } else runs.set(m.id, new WebAssembly.Instance(m.module, { env: host }).exports.run);
};
`;

/** One worker as the pool sees it: how to send it a module, and how to end it. */
interface WorkerHandle {
  send(id: number, module: WebAssembly.Module): void;
  terminate(): Promise<unknown>;
}

const isNode = (): boolean => !!(globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
/** a browser's main thread may not block in Atomics.wait */
const mayBlock = (): boolean => isNode() || typeof (globalThis as { document?: unknown }).document === 'undefined';

/** Threads exist: Node's worker_threads, or Web Workers in a cross-origin-isolated page (SharedArrayBuffer). */
export async function threadsAvailable(): Promise<boolean> {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown; Blob?: unknown; URL?: { createObjectURL?: unknown } };
  return (
    isNode() ||
    (g.crossOriginIsolated === true && typeof g.Worker === 'function' && typeof g.Blob === 'function' && typeof g.URL?.createObjectURL === 'function')
  );
}

export class WorkerPool implements PartRunner {
  private job = 0;
  /** per worker, the module ids it was sent */
  private readonly sent: Set<number>[];
  private readonly block = mayBlock();

  private constructor(
    private readonly workers: WorkerHandle[],
    private readonly ctrl: Int32Array,
  ) {
    this.sent = workers.map(() => new Set());
  }

  static async start(count: number, memory: WebAssembly.Memory): Promise<WorkerPool> {
    const ctrl = new Int32Array(new SharedArrayBuffer(64));
    return new WorkerPool(isNode() ? await nodeWorkers(count, ctrl, memory) : webWorkers(count, ctrl, memory), ctrl);
  }

  runParts(entry: KernelEntry, frame: number, sc: number, count: number, nparts: number): void {
    const ctrl = this.ctrl;
    this.job = (this.job + 1) & 0x7fff;
    this.share(entry);
    Atomics.store(ctrl, DONE, 0);
    Atomics.store(ctrl, NPARTS, nparts);
    Atomics.store(ctrl, ID, entry.id);
    Atomics.store(ctrl, FRAME, frame);
    Atomics.store(ctrl, SC, sc);
    Atomics.store(ctrl, COUNT, count);
    Atomics.store(ctrl, CLAIM, this.job << 16);
    Atomics.notify(ctrl, CLAIM);
    // this thread claims parts too
    const run = entry.instance.exports.run as (f: number, s: number, lo: number, hi: number, p: number) => void;
    for (;;) {
      const v = Atomics.load(ctrl, CLAIM);
      const p = v & 0xffff;
      if (p >= nparts) break;
      if (Atomics.compareExchange(ctrl, CLAIM, v, v + 1) !== v) continue;
      const [lo, hi] = partRange(p, count, nparts);
      run(frame, sc, lo, hi, p);
      Atomics.add(ctrl, DONE, 1);
    }
    for (let d = Atomics.load(ctrl, DONE); d < nparts; d = Atomics.load(ctrl, DONE)) if (this.block) Atomics.wait(ctrl, DONE, d);
    if (Atomics.exchange(ctrl, FAILED, 0)) throw new Error('lossc wasm: a kernel part failed on a worker thread');
  }

  share(entry: KernelEntry): void {
    this.workers.forEach((w, i) => {
      if (this.sent[i]!.has(entry.id)) return;
      w.send(entry.id, entry.module);
      this.sent[i]!.add(entry.id);
    });
  }

  /** parts the workers (not the calling thread) ran so far */
  get workerParts(): number {
    return Atomics.load(this.ctrl, WORKER_PARTS);
  }

  async close(): Promise<void> {
    Atomics.store(this.ctrl, STOP, 1);
    Atomics.add(this.ctrl, CLAIM, 1 << 16);
    Atomics.notify(this.ctrl, CLAIM);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

async function nodeWorkers(count: number, ctrl: Int32Array, memory: WebAssembly.Memory): Promise<WorkerHandle[]> {
  // a computed specifier: the browser bundle must not resolve a Node built-in
  const specifier = 'node:worker_threads';
  const { Worker, MessageChannel } = (await import(/* @vite-ignore */ specifier)) as typeof import('node:worker_threads');
  return Array.from({ length: count }, () => {
    const { port1, port2 } = new MessageChannel();
    const w = new Worker(NODE_WORKER, { eval: true, workerData: { ctrl, memory, port: port2 }, transferList: [port2] });
    w.unref();
    port1.unref();
    return {
      send: (id, module) => port1.postMessage({ id, module }),
      terminate: async () => {
        await w.terminate();
        port1.close();
      },
    };
  });
}

function webWorkers(count: number, ctrl: Int32Array, memory: WebAssembly.Memory): WorkerHandle[] {
  const url = URL.createObjectURL(new Blob([WEB_WORKER], { type: 'text/javascript' }));
  try {
    return Array.from({ length: count }, () => {
      const w = new Worker(url);
      w.postMessage({ ctrl, memory });
      return {
        send: (id, module) => w.postMessage({ id, module }),
        terminate: () => Promise.resolve(w.terminate()),
      };
    });
  } finally {
    URL.revokeObjectURL(url);
  }
}
