// The WebGPU device the tests run on, or why they are skipped. With LOSSC_REQUIRE_WEBGPU=1
// (CI) a missing adapter is an error here, so every WebGPU test file fails instead of skipping.
import { requestDevice } from '../../runtime/webgpu/device.js';

export const gpu = await requestDevice();

/** null when the tests run; else the reason they are skipped (shown in the test names). */
export const skipReason: string | null =
  gpu === null ? 'no WebGPU adapter: run .ci/install-webgpu.sh (Mesa lavapipe); LOSSC_REQUIRE_WEBGPU=1 makes this a failure' : null;

/** A suffix for describe() names: the visible reason when skipped. */
export const skipNote = skipReason ? ` [skipped: ${skipReason}]` : '';
if (skipReason) console.warn(`WebGPU tests skipped: ${skipReason}`);
