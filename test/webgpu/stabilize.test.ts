// The naive corpus (test/stabilize/corpus.ts) on WebGPU, float32: each loss, stabilised, equals
// its reference (a built-in or a stable formula, on the JS backend in float32) at SCHEMA's
// float32 tolerance, on ordinary and on extreme inputs; finite wherever the reference is.
import { describe, it, expect, afterAll } from 'vitest';
import { compile } from '../../runtime/index.js';
import { releaseDevice } from '../../runtime/webgpu/device.js';
import { CORPUS, allFinite, differences, reference } from '../stabilize/harness.js';
import { inputsOf, lossSource } from '../stabilize/corpus.js';
import { skipNote, skipReason } from './gpu.js';

afterAll(releaseDevice);

describe.skipIf(skipReason !== null)(`the naive corpus, stabilised, on WebGPU (float32)${skipNote}`, () => {
  for (const e of CORPUS) {
    it(e.name, async () => {
      const gpu = await compile(lossSource(e.name, e.inputs, e.dsl), { file: `corpus/${e.name}.loss`, target: 'wgsl' });
      expect(gpu.notes.length, 'the notes, as on the JS backend').toBe(e.fires.length);
      const ref = reference(e);
      for (const kind of ['ordinary', 'extreme'] as const) {
        const inputs = inputsOf(e.inputs, kind, 'float32');
        const got = await gpu.valueAndGrad(...inputs);
        const want = ref.valueAndGrad(...inputs);
        expect(differences(got, want, 'float32'), kind).toEqual([]);
        if (allFinite(want)) expect(allFinite(got), kind).toBe(true);
      }
    });
  }
});
