// What the WebGPU backend refuses, and how it says so.
import { describe, it, expect, afterAll } from 'vitest';
import { nn, tensor } from 'lossc';
import { releaseDevice } from '../../runtime/webgpu/device.js';
import { skipNote, skipReason } from './gpu.js';

afterAll(releaseDevice);

describe.skipIf(skipReason !== null)(`WebGPU errors${skipNote}`, () => {
  const x64 = tensor([0.1, 0.2, 0.3], [3], 'float64');
  const y64 = tensor([0.3, 0.2, 0.1], [3], 'float64');

  it('a float64 input is an Error naming the tensor: WebGPU computes in float32', async () => {
    const fn = await new nn.MSELoss().to('webgpu');
    await expect(fn.forward(x64, y64)).rejects.toThrow("MSELoss.forward: WebGPU computes in float32; got float64 for 'input'");
    await expect(fn.valueAndGrad(x64, y64)).rejects.toThrow("got float64 for 'input'");
    const bce = await new nn.BCEWithLogitsLoss({ weight: tensor([1, 2, 3], [3], 'float64') }).to('webgpu');
    await expect(bce.forward(x64, y64)).rejects.toThrow(/WebGPU computes in float32; got float64 for '(input|target|weight)'/);
    expect(() => fn.upload(x64)).toThrow('WebGPU computes in float32');
  });

  it("argument errors are the JS backend's, word for word", async () => {
    const host = new nn.MSELoss();
    const fn = await host.to('webgpu');
    const [a, b] = [tensor([1, 2, 3], [3]), tensor([1, 2], [2])];
    const js = (() => {
      try {
        host.forward(a, b);
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(js).not.toBe('');
    await expect(fn.forward(a, b)).rejects.toThrow(js);
    await expect(fn.forward(a, tensor([1, 2, 3], [3], 'float64'))).rejects.toThrow(/dtype/);
    const bce = await new nn.BCELoss().to('webgpu');
    await expect(bce.forward(tensor([2], [1]), tensor([1], [1]))).rejects.toThrow('all elements of input should be between 0 and 1');
  });

  it('a released GpuTensor cannot be used', async () => {
    const fn = await new nn.MSELoss().to('webgpu');
    const g = fn.upload(tensor([1, 2], [2]));
    g.release();
    await expect(fn.forwardGpu(g, tensor([1, 2], [2]))).rejects.toThrow('released GpuTensor');
    await expect(g.read()).rejects.toThrow('released GpuTensor');
  });
});
