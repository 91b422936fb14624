// Standalone WGSL (what `lossc compile --target wgsl` writes): every module of a method compiles
// on the device, every entry point makes a pipeline with the bindings its manifest lists, and the
// manifest is plain JSON.
import { describe, it, expect, afterAll } from 'vitest';
import { nn } from 'lossc';
import { compiled } from '../../runtime/nn.js';
import { wgslModules } from '../../compiler/emit/wgslModules.js';
import { releaseDevice } from '../../runtime/webgpu/device.js';
import { GpuContext } from '../../runtime/webgpu/context.js';
import { gpu, skipNote, skipReason } from './gpu.js';
import type { Method } from '../../compiler/pipeline.js';

afterAll(releaseDevice);

const CASES: [keyof typeof nn, Record<string, unknown>, Method][] = [
  ['MSELoss', {}, 'valueAndGrad'],
  ['BCEWithLogitsLoss', { reduction: 'none' }, 'vjp'],
  ['CrossEntropyLoss', { labelSmoothing: 0.1 }, 'valueAndGrad'],
  ['TripletMarginLoss', {}, 'vjp'],
  ['CTCLoss', {}, 'forward'],
];

describe('standalone WGSL modules and manifests', () => {
  for (const [name, options, method] of CASES) {
    it(`${name} ${method}: JSON manifest naming every binding, workgroup size and uniform word`, () => {
      if (!(name in nn)) return;
      const loss = new nn[name](options);
      const { modules, manifest } = wgslModules(compiled(loss.def, loss.options, method));
      expect(JSON.parse(JSON.stringify(manifest))).toEqual(manifest);
      expect(modules.map((m) => m.kernel)).toEqual(manifest.kernels.map((k) => k.name));
      for (const [i, k] of manifest.kernels.entries()) {
        expect(modules[i]!.code).not.toContain('enable subgroups');
        for (const e of k.entries) {
          expect(modules[i]!.code).toContain(`fn ${e.name}(`);
          expect([64, 256]).toContain(e.workgroupSize);
          for (const b of e.bindings) expect(k.bindings.some((d) => d.binding === b)).toBe(true);
          expect(e.layout.words * 4).toBeLessThanOrEqual(k.uniformBytes);
        }
      }
    });
  }
});

describe.skipIf(skipReason !== null)(`standalone WGSL compiles on the device${skipNote}`, () => {
  for (const [name, options, method] of CASES) {
    for (const subgroups of [false, true]) {
      it(`${name} ${method}${subgroups ? ' with subgroups' : ''}: every entry point makes a pipeline`, async () => {
        if (!(name in nn) || (subgroups && !gpu!.features.subgroups)) return;
        const loss = new nn[name](options);
        const program = wgslModules(compiled(loss.def, loss.options, method), { subgroups });
        const ctx = new GpuContext(gpu!);
        ctx.device.pushErrorScope('validation');
        for (const [i, m] of program.modules.entries()) {
          const info = await ctx.module(m.code).getCompilationInfo();
          expect(info.messages.filter((x) => x.type === 'error').map((x) => `${x.lineNum}: ${x.message}`)).toEqual([]);
          const k = program.manifest.kernels[i]!;
          for (const e of k.entries) ctx.pipeline(m.code, { ...e, sites: [], scalars: [] } as never, k.bindings);
        }
        expect(await ctx.device.popErrorScope()).toBeNull();
      });
    }
  }
});
