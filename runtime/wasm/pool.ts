// Worker threads for the WebAssembly backend: placeholder until the pool lands.
import type { KernelEntry, PartRunner } from './program.js';

export async function threadsAvailable(): Promise<boolean> {
  return false;
}

export class WorkerPool implements PartRunner {
  static async start(_workers: number, _memory: WebAssembly.Memory): Promise<WorkerPool> {
    return new WorkerPool();
  }
  runParts(_entry: KernelEntry, _frame: number, _sc: number, _count: number, _nparts: number): void {
    throw new Error('internal: no worker pool');
  }
  async close(): Promise<void> {}
}
