// The CPU backend's compile step: a kernel plan becomes JS kernels the executor runs.
import type { KernelPlan, Precision } from '../compiler/plan/kernelPlan.js';
import { emitJs } from '../compiler/emit/js.js';
import { CpuProgram, type CpuProgramData } from './executor.js';

export { CpuProgram, type CpuProgramData } from './executor.js';

export function cpuProgramData(plan: KernelPlan, precision: Precision): CpuProgramData {
  return { precision, layouts: emitJs(plan, precision).kernels, results: plan.results };
}

export function compileCpuProgram(plan: KernelPlan, precision: Precision): CpuProgram {
  return new CpuProgram(cpuProgramData(plan, precision));
}
