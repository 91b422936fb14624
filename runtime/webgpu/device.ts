/// <reference types="@webgpu/types" />
/**
 * One WebGPU device per process, for running lossc's WGSL kernels.
 *
 * - Browser (or any host with `navigator.gpu`): uses `navigator.gpu`.
 * - Node: uses the `webgpu` npm package (Dawn's Node binding). On a machine
 *   without a GPU this runs on Mesa's lavapipe (Vulkan on the CPU, Mesa >= 25,
 *   see `.ci/install-webgpu.sh`); if Dawn finds no Vulkan adapter it falls back
 *   to Dawn's OpenGL ES backend on Mesa's llvmpipe in WebGPU compatibility mode
 *   (`EGL_PLATFORM=surfaceless`), which works with Debian 12's stock Mesa 22 but
 *   has neither subgroups nor shader-f16.
 *
 * `requestDevice()` returns null when no adapter exists, unless the environment
 * has LOSSC_REQUIRE_WEBGPU=1, in which case it throws and says what was tried.
 */

/** 'external': a GPUDevice the caller gave (`to('webgpu', { device })`). */
export type LosscBackend = 'navigator.gpu' | 'dawn-vulkan' | 'dawn-opengles' | 'external';

export interface LosscDevice {
  device: GPUDevice;
  /** e.g. "mesa software llvmpipe-llvm-15-0-6-256-bits- (llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1)" */
  adapterInfo: string;
  features: { subgroups: boolean; f16: boolean };
  limits: GPUSupportedLimits;
  backend: LosscBackend;
}

export interface RequestDeviceOptions {
  /** Accept only an adapter that has the 'subgroups' feature (else null / throw). */
  requireSubgroups?: boolean;
}

/** What the `webgpu` package exports (declared here so this file needs no types from it). */
interface DawnModule {
  create(options: string[]): GPU;
  globals: object;
}

/** Limits raised from the WebGPU defaults to the adapter's maximum. */
const MAX_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxStorageBuffersPerShaderStage',
] as const satisfies readonly (keyof GPUSupportedLimits)[];

interface Attempt {
  backend: LosscBackend;
  gpu: GPU;
  adapterOptions: GPURequestAdapterOptions;
  /** Held while the device lives: the Dawn instance must outlive its device. */
  keepAlive?: GPU;
}

let cached: Promise<LosscDevice | null> | undefined;
let cachedDevice: LosscDevice | undefined;
/** Keeps each Dawn instance alive exactly as long as its device. */
const instanceOf = new WeakMap<GPUDevice, GPU>();

/** process.env in Node, undefined elsewhere (no Node types needed in a browser build). */
function nodeEnv(): Record<string, string | undefined> | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
}

function requireWebGPU(): boolean {
  return nodeEnv()?.LOSSC_REQUIRE_WEBGPU === '1';
}

function describeAdapter(adapter: GPUAdapter): string {
  const info = adapter.info;
  const head = [info.vendor, info.architecture, info.device].filter((s) => s !== '').join(' ');
  if (info.description === '') return head || 'unknown adapter';
  return head ? `${head} (${info.description})` : info.description;
}

async function openDevice(adapter: GPUAdapter, backend: LosscBackend): Promise<LosscDevice> {
  const requiredFeatures: GPUFeatureName[] = [];
  const subgroups = adapter.features.has('subgroups');
  const f16 = adapter.features.has('shader-f16');
  if (subgroups) requiredFeatures.push('subgroups');
  if (f16) requiredFeatures.push('shader-f16');

  const requiredLimits: Record<string, number> = {};
  for (const name of MAX_LIMITS) {
    const value = adapter.limits[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }

  const device = await adapter.requestDevice({
    label: 'lossc',
    requiredFeatures,
    requiredLimits,
  });
  return {
    device,
    adapterInfo: describeAdapter(adapter),
    features: { subgroups, f16 },
    limits: device.limits,
    backend,
  };
}

async function loadDawn(tried: string[]): Promise<DawnModule | null> {
  // A non-literal specifier keeps browser bundlers from trying to bundle the
  // native Node addon.
  const specifier = 'webgpu';
  try {
    const mod = (await import(/* @vite-ignore */ specifier)) as Partial<DawnModule>;
    if (typeof mod.create !== 'function' || typeof mod.globals !== 'object' || mod.globals === null) {
      tried.push("the 'webgpu' package loaded but exports no create()/globals");
      return null;
    }
    // GPUBufferUsage, GPUMapMode, GPUShaderStage, ...: define the ones missing.
    const g = globalThis as Record<string, unknown>;
    for (const [name, value] of Object.entries(mod.globals)) {
      if (!(name in g)) g[name] = value;
    }
    return mod as DawnModule;
  } catch (err) {
    const missing = (err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (package|module) 'webgpu'/.test(String(err));
    // Dawn is an optional peer dependency of lossc (132 MB, prebuilt per platform): say how to get it
    tried.push(
      missing
        ? "the 'webgpu' package (Dawn, WebGPU for Node) is not installed: npm install webgpu"
        : `import('webgpu') failed: ${err instanceof Error ? err.message : String(err)}`,
    );
    return null;
  }
}

/** What the last search for an adapter tried, and why each failed (for the error a caller reports). */
let lastAttempts: readonly string[] = [];
export const lastDeviceAttempts = (): readonly string[] => lastAttempts;

async function create(opts: RequestDeviceOptions): Promise<LosscDevice | null> {
  const tried: string[] = [];
  const wantSubgroups = opts.requireSubgroups === true;

  const tryAttempt = async (a: Attempt): Promise<LosscDevice | null> => {
    let adapter: GPUAdapter | null;
    try {
      adapter = await a.gpu.requestAdapter(a.adapterOptions);
    } catch (err) {
      tried.push(`${a.backend}: requestAdapter threw: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    }
    if (adapter === null) {
      tried.push(`${a.backend}: no adapter`);
      return null;
    }
    if (wantSubgroups && !adapter.features.has('subgroups')) {
      tried.push(`${a.backend}: adapter '${describeAdapter(adapter)}' lacks 'subgroups' (requireSubgroups)`);
      return null;
    }
    try {
      const dev = await openDevice(adapter, a.backend);
      if (a.keepAlive) instanceOf.set(dev.device, a.keepAlive);
      return dev;
    } catch (err) {
      tried.push(`${a.backend}: requestDevice failed: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    }
  };

  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  let result: LosscDevice | null = null;
  if (nav?.gpu) {
    result = await tryAttempt({
      backend: 'navigator.gpu',
      gpu: nav.gpu,
      adapterOptions: { powerPreference: 'high-performance' },
    });
  } else {
    const dawn = await loadDawn(tried);
    if (dawn) {
      // 1. Vulkan: a GPU driver, or lavapipe (Mesa >= 25) on a CPU-only machine.
      const vk = dawn.create(['backend=vulkan']);
      result = await tryAttempt({
        backend: 'dawn-vulkan',
        gpu: vk,
        adapterOptions: { powerPreference: 'high-performance' },
        keepAlive: vk,
      });
      // 2. OpenGL ES on llvmpipe, headless EGL, compatibility mode (no subgroups).
      if (result === null && !wantSubgroups) {
        const env = nodeEnv();
        if (env && env.EGL_PLATFORM === undefined) env.EGL_PLATFORM = 'surfaceless';
        const gles = dawn.create(['backend=opengles']);
        result = await tryAttempt({
          backend: 'dawn-opengles',
          gpu: gles,
          adapterOptions: { featureLevel: 'compatibility' },
          keepAlive: gles,
        });
      } else if (result === null) {
        tried.push('dawn-opengles: skipped (requireSubgroups; the GLES backend has no subgroups)');
      }
    }
  }

  if (result !== null) {
    const entry = result;
    // A device lost for any reason but destroy() is dropped from the cache so
    // the next requestDevice() makes a new one.
    void entry.device.lost.then((info) => {
      if (info.reason !== 'destroyed' && cachedDevice === entry) {
        cached = undefined;
        cachedDevice = undefined;
      }
    });
    return result;
  }

  lastAttempts = nav?.gpu ? tried : ['navigator.gpu: absent', ...tried];
  if (requireWebGPU()) {
    throw new Error(
      'lossc: LOSSC_REQUIRE_WEBGPU=1 but no WebGPU adapter was found. Tried:\n  - ' +
        (nav?.gpu ? tried : ['navigator.gpu: absent', ...tried]).join('\n  - ') +
        '\nOn Debian/Ubuntu run `.ci/install-webgpu.sh` (as root) to install Mesa lavapipe (Vulkan on the CPU).',
    );
  }
  return null;
}

/**
 * The process's WebGPU device, created on first call and cached.
 * Null when no adapter exists (or, with requireSubgroups, none with subgroups),
 * unless LOSSC_REQUIRE_WEBGPU=1, in which case this throws.
 */
export async function requestDevice(opts: RequestDeviceOptions = {}): Promise<LosscDevice | null> {
  if (cached === undefined) {
    // The first call decides the device; later calls share it. Features are
    // always requested when the adapter has them, so only the acceptance test
    // below depends on opts.
    const p = create(opts).then((d) => {
      if (d === null) {
        if (cached === p) cached = undefined; // retry next time (e.g. without requireSubgroups)
      } else {
        cachedDevice = d;
      }
      return d;
    });
    p.catch(() => {
      if (cached === p) cached = undefined;
    });
    cached = p;
  }
  const dev = await cached;
  if (dev !== null && opts.requireSubgroups === true && !dev.features.subgroups) {
    if (requireWebGPU()) {
      throw new Error(
        `lossc: LOSSC_REQUIRE_WEBGPU=1 and subgroups were required, but the cached device ` +
          `(${dev.backend}: ${dev.adapterInfo}) has no 'subgroups'. Install Mesa >= 25 lavapipe with .ci/install-webgpu.sh.`,
      );
    }
    return null;
  }
  return dev;
}

/**
 * Destroys the cached device (if any) and drops the Dawn instance, so a later
 * requestDevice() starts afresh. Not needed for Node to exit (measured with
 * webgpu@0.6.2: a process holding the device exits on its own), but it frees
 * the device's memory and unmaps its buffers at once, e.g. between test files.
 */
export async function releaseDevice(): Promise<void> {
  const p = cached;
  cached = undefined;
  cachedDevice = undefined;
  let dev: LosscDevice | null;
  try {
    dev = p ? await p : null;
  } catch {
    dev = null;
  }
  if (dev !== null) {
    dev.device.destroy();
    await dev.device.lost;
    instanceOf.delete(dev.device);
  }
}
