// Worker threads for the WebAssembly backend (Node's worker_threads): each worker instantiates the
// kernels' modules over the same shared memory and claims parts of a kernel call with the calling
// thread. A call is synchronous: the caller runs parts too, then blocks until every part is done.
// Which thread runs a part never matters: each part writes its own outputs and partial slot, and
// `fin` combines the partials in part order.
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

/**
 * The worker's code, a CommonJS script as text (bundlers must not rewrite its require). A part
 * that throws (a trap) still counts as done, with the error flag set for the caller to raise.
 */
const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { ctrl, memory, port, math } = workerData;
const host = { memory };
for (const [k, src] of Object.entries(math)) host[k] = host['host_' + k] = (0, eval)(src);
const runs = new Map();
let seen = Atomics.load(ctrl, ${CLAIM});
for (;;) {
  Atomics.wait(ctrl, ${CLAIM}, seen);
  if (Atomics.load(ctrl, ${STOP})) break;
  const job = Atomics.load(ctrl, ${CLAIM}) >>> 16;
  for (;;) {
    const v = Atomics.load(ctrl, ${CLAIM});
    seen = v;
    if (v >>> 16 !== job) break;
    const nparts = Atomics.load(ctrl, ${NPARTS});
    const p = v & 0xffff;
    if (p >= nparts) break;
    if (Atomics.compareExchange(ctrl, ${CLAIM}, v, v + 1) !== v) continue;
    try {
      const id = Atomics.load(ctrl, ${ID});
      let run = runs.get(id);
      for (let m = receiveMessageOnPort(port); !run && m; m = receiveMessageOnPort(port)) {
        runs.set(m.message.id, new WebAssembly.Instance(m.message.module, { env: host }).exports.run);
        run = runs.get(id);
      }
      const count = Atomics.load(ctrl, ${COUNT});
      run(Atomics.load(ctrl, ${FRAME}), Atomics.load(ctrl, ${SC}), Math.floor((p * count) / nparts), Math.floor(((p + 1) * count) / nparts), p);
      Atomics.add(ctrl, ${WORKER_PARTS}, 1);
    } catch (e) {
      Atomics.store(ctrl, ${FAILED}, 1);
    }
    if (Atomics.add(ctrl, ${DONE}, 1) + 1 === nparts) Atomics.notify(ctrl, ${DONE});
  }
}
`;

/** Threads exist: Node's worker_threads with SharedArrayBuffer (browsers: not yet, single-threaded). */
export async function threadsAvailable(): Promise<boolean> {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof SharedArrayBuffer !== 'undefined' && !!proc?.versions?.node;
}

export class WorkerPool implements PartRunner {
  private job = 0;
  /** per worker, the module ids it was sent */
  private readonly sent: Set<number>[];

  private constructor(
    private readonly workers: import('node:worker_threads').Worker[],
    private readonly ports: import('node:worker_threads').MessagePort[],
    private readonly ctrl: Int32Array,
  ) {
    this.sent = workers.map(() => new Set());
  }

  static async start(count: number, memory: WebAssembly.Memory): Promise<WorkerPool> {
    // a computed specifier: the browser bundle must not resolve a Node built-in
    const specifier = 'node:worker_threads';
    const { Worker, MessageChannel } = (await import(/* @vite-ignore */ specifier)) as typeof import('node:worker_threads');
    const ctrl = new Int32Array(new SharedArrayBuffer(64));
    const math = Object.fromEntries(Object.entries(HOST_MATH).map(([k]) => [k, k === 'fmod' ? '(a, b) => a % b' : `Math.${k}`]));
    const workers: import('node:worker_threads').Worker[] = [];
    const ports: import('node:worker_threads').MessagePort[] = [];
    for (let i = 0; i < count; i++) {
      const { port1, port2 } = new MessageChannel();
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { ctrl, memory, port: port2, math }, transferList: [port2] });
      w.unref();
      port1.unref();
      workers.push(w);
      ports.push(port1);
    }
    return new WorkerPool(workers, ports, ctrl);
  }

  runParts(entry: KernelEntry, frame: number, sc: number, count: number, nparts: number): void {
    const ctrl = this.ctrl;
    this.job = (this.job + 1) & 0x7fff;
    this.workers.forEach((_, i) => {
      if (this.sent[i]!.has(entry.id)) return;
      this.ports[i]!.postMessage({ id: entry.id, module: entry.module });
      this.sent[i]!.add(entry.id);
    });
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
    for (let d = Atomics.load(ctrl, DONE); d < nparts; d = Atomics.load(ctrl, DONE)) Atomics.wait(ctrl, DONE, d);
    if (Atomics.exchange(ctrl, FAILED, 0)) throw new Error('lossc wasm: a kernel part failed on a worker thread');
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
    for (const p of this.ports) p.close();
  }
}
