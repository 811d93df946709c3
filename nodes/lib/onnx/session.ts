/**
 * ONNX Runtime sessions: creation with an execution-provider order and a fall back to the CPU, and a
 * small `ModelRunner` seam so the detector and reid code never touch onnxruntime types (and unit tests
 * can hand them a fake). Generic over models: a model spec + a session, nothing detection-specific.
 */
import { readOnnxMetadata } from './metadata';

/** Providers we know how to ask for. `cuda` and `tensorrt` need the opt-in GPU libraries. */
export type ProviderName = 'cuda' | 'tensorrt' | 'cpu';
export const KNOWN_PROVIDERS: readonly ProviderName[] = ['cuda', 'tensorrt', 'cpu'];

/** Per provider: null when this machine has its libraries, else why not (runtime.ts probeProviders). */
export type ProviderAvailability = Record<ProviderName, string | null>;

/**
 * What a user asks for: providers in the order to try, or 'auto': what this machine has (cuda when
 * its provider libraries are installed, then cpu). TensorRT is never automatic: its first load
 * builds an engine for minutes.
 */
export type ProviderRequest = readonly ProviderName[] | 'auto';

/** A dimension as ONNX Runtime reports it: a number, or a symbolic name / -1 when dynamic. */
export type Dim = number | string;

export interface TensorInfo {
  name: string;
  type: string;
  /** Empty when the runtime could not say. */
  shape: Dim[];
}

/** The slice of onnxruntime-node's InferenceSession we use. */
export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly unknown[];
  readonly outputMetadata?: readonly unknown[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
  release(): Promise<void>;
}

/** The slice of the onnxruntime-node module we use (injectable for tests). */
export interface OrtModuleLike {
  InferenceSession: { create(pathOrBytes: string | Uint8Array, options?: Record<string, unknown>): Promise<OrtSessionLike> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
}

export interface SessionOptions {
  /** Tried in this order; the first that creates a session wins. Default ['cpu']. */
  providers?: ProviderRequest;
  /**
   * Which providers this machine can load (runtime.ts probeProviders): one that is not installed is
   * reported, never handed to ONNX Runtime. Absent: every provider is assumed installed.
   */
  available?: Partial<ProviderAvailability>;
  /** Intra-op threads; 0 lets ONNX Runtime choose (one per core). */
  intraOpNumThreads?: number;
  /**
   * Let idle intra-op threads spin between operators (ONNX Runtime's default). Spinning saves a
   * little latency per operator but keeps every core busy for the whole run, so on a small gateway
   * our preprocessing of the next frame cannot use the gaps. Default false.
   */
  spinWait?: boolean;
  /** CUDA / TensorRT settings; ignored by the CPU provider. */
  gpu?: GpuOptions;
}

/**
 * Settings of the GPU providers. onnxruntime-node passes only the device to them; TensorRT reads the
 * rest from ORT_TENSORRT_* environment variables when its session is created (tensorrtEnv).
 */
export interface GpuOptions {
  /** The GPU to run on (CUDA and TensorRT). Default 0. */
  deviceId?: number;
  /** TensorRT: build the engine in FP16 (about twice as fast on most GPUs; tiny accuracy change). */
  trtFp16?: boolean;
  /**
   * TensorRT: keep built engines (and timing caches) in this folder, so a restart loads the engine
   * in seconds instead of building it for minutes. '' = no cache.
   */
  trtCacheDir?: string;
}

export function validateGpuOptions(g: GpuOptions = {}): Required<GpuOptions> {
  const deviceId = g.deviceId ?? 0;
  if (!Number.isInteger(deviceId) || deviceId < 0 || deviceId > 63) throw new Error(`GPU device must be a whole number from 0 to 63, got ${deviceId}`);
  const trtFp16 = g.trtFp16 ?? false;
  if (typeof trtFp16 !== 'boolean') throw new Error(`TensorRT FP16 must be true or false, got ${JSON.stringify(trtFp16)}`);
  const trtCacheDir = (g.trtCacheDir ?? '').trim();
  if (/[\n\r\0]/.test(trtCacheDir)) throw new Error('the TensorRT engine cache folder must not contain line breaks');
  return { deviceId, trtFp16, trtCacheDir };
}

/**
 * The environment TensorRT's provider reads its settings from when a session is created (through
 * onnxruntime-node it takes no other options). `profile` gives the batch range of a dynamic-batch
 * input as TensorRT optimisation profiles (min 1, opt and max the largest batch), so the engine is
 * built once for every batch size instead of again for each new one. Keys set to '' are to be removed.
 */
export function tensorrtEnv(g: Required<GpuOptions>, profile?: { input: string; maxBatch: number; chw: readonly number[] }): Record<string, string> {
  const env: Record<string, string> = {
    ORT_TENSORRT_FP16_ENABLE: g.trtFp16 ? '1' : '0',
    ORT_TENSORRT_ENGINE_CACHE_ENABLE: g.trtCacheDir ? '1' : '0',
    ORT_TENSORRT_TIMING_CACHE_ENABLE: g.trtCacheDir ? '1' : '0',
    ORT_TENSORRT_CACHE_PATH: g.trtCacheDir,
    ORT_TENSORRT_PROFILE_MIN_SHAPES: '',
    ORT_TENSORRT_PROFILE_OPT_SHAPES: '',
    ORT_TENSORRT_PROFILE_MAX_SHAPES: '',
  };
  if (profile && profile.maxBatch > 1) {
    const shape = (n: number) => `${profile.input}:${[n, ...profile.chw].join('x')}`;
    env.ORT_TENSORRT_PROFILE_MIN_SHAPES = shape(1);
    env.ORT_TENSORRT_PROFILE_OPT_SHAPES = shape(profile.maxBatch);
    env.ORT_TENSORRT_PROFILE_MAX_SHAPES = shape(profile.maxBatch);
  }
  return env;
}

/** The executionProviders entry for one provider. */
export function providerEntry(provider: ProviderName, g: Required<GpuOptions>): string | { name: string; deviceId: number } {
  return provider === 'cpu' ? 'cpu' : { name: provider, deviceId: g.deviceId };
}

export interface ProviderAttempt {
  provider: ProviderName;
  /** Why it failed; absent for the one that worked. */
  error?: string;
  /** Not tried: its libraries are not on this machine (no ONNX Runtime error was provoked). */
  skipped?: boolean;
}

/** A float32 tensor in, float32 tensors out: all a model user needs. */
export interface ModelRunner {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** Custom metadata (ModelProto.metadata_props), e.g. Ultralytics' `names`. */
  readonly metadata: Readonly<Record<string, string>>;
  /** The execution provider that is running the model. */
  readonly provider: ProviderName;
  run(input: Float32Array, dims: readonly number[]): Promise<Record<string, { data: Float32Array; dims: number[] }>>;
  release(): Promise<void>;
  /**
   * Input buffers this runner can take without a copy (shared memory for a worker session). Callers
   * that reuse input buffers should get them here; any Float32Array still works.
   */
  allocInput?(length: number): Float32Array;
  /** Runs this runner takes at once (the sessions of a pool); absent = 1. */
  readonly parallel?: number;
}

export interface CreatedSession {
  runner: ModelRunner;
  /** Every provider tried, in order, with the reason each failed one failed. */
  attempts: ProviderAttempt[];
}

export function validateSessionOptions(o: SessionOptions = {}): Required<SessionOptions> {
  const providers = o.providers ?? ['cpu'];
  if (providers !== 'auto') {
    if (!Array.isArray(providers) || providers.length === 0) throw new Error('providers must be "auto" or a non-empty list, e.g. ["cuda", "cpu"]');
    for (const p of providers) {
      if (!KNOWN_PROVIDERS.includes(p)) throw new Error(`unknown execution provider "${p}"; use auto or ${KNOWN_PROVIDERS.join(', ')}`);
    }
  }
  const threads = o.intraOpNumThreads ?? 0;
  if (!Number.isInteger(threads) || threads < 0) throw new Error(`intraOpNumThreads must be a whole number ≥ 0, got ${threads}`);
  const spinWait = o.spinWait ?? false;
  if (typeof spinWait !== 'boolean') throw new Error(`spinWait must be true or false, got ${JSON.stringify(spinWait)}`);
  return {
    providers: providers === 'auto' ? 'auto' : [...providers],
    intraOpNumThreads: threads,
    spinWait,
    available: { ...(o.available ?? {}) },
    gpu: validateGpuOptions(o.gpu),
  };
}

/** "cuda, tensorrt ,cpu" → ['cuda','tensorrt','cpu'], "auto" → 'auto', with validation. */
export function parseProviders(text: string): ProviderRequest {
  const list = text
    .split(/[\s,>]+/)
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length > 0);
  if (list.length === 1 && list[0] === 'auto') return 'auto';
  return validateSessionOptions({ providers: list as ProviderName[] }).providers;
}

/** "auto" or "cuda>cpu": the request as one short text (logs, session keys). */
export function providerText(p: ProviderRequest): string {
  return p === 'auto' ? 'auto' : p.join('>');
}

/**
 * The providers to hand ONNX Runtime, in order, and the requested ones skipped because this machine
 * lacks their libraries. 'auto' takes cuda where it is installed, then cpu, and reports no skips
 * (nothing was asked for that is missing).
 */
export function planProviders(request: ProviderRequest, available: Partial<ProviderAvailability> = {}): { order: ProviderName[]; skipped: ProviderAttempt[] } {
  const missing = (p: ProviderName) => (p === 'cpu' ? null : (available[p] ?? null));
  if (request === 'auto') return { order: (['cuda', 'cpu'] as ProviderName[]).filter((p) => !missing(p)), skipped: [] };
  const order: ProviderName[] = [];
  const skipped: ProviderAttempt[] = [];
  for (const p of request) {
    const why = missing(p);
    if (why) skipped.push({ provider: p, error: why, skipped: true });
    else order.push(p);
  }
  return { order, skipped };
}

function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0].trim();
}

/** Turns ONNX Runtime's provider-load errors into something an integrator can act on. */
export function explainProviderError(provider: ProviderName, e: unknown): string {
  const m = firstLine(e);
  if (provider !== 'cpu' && /Failed to load shared library|cannot open shared object|providers_shared/i.test(m)) {
    return `${provider} provider libraries are not installed (libonnxruntime_providers_${provider}.so); see the README's GPU install step`;
  }
  return m;
}

function tensorInfos(names: readonly string[], meta: readonly unknown[] | undefined): TensorInfo[] {
  return names.map((name, i) => {
    const m = (meta?.[i] ?? {}) as { type?: string; shape?: Dim[] };
    return { name, type: m.type ?? 'float32', shape: Array.isArray(m.shape) ? [...m.shape] : [] };
  });
}

class OrtRunner implements ModelRunner {
  readonly inputs: TensorInfo[];
  readonly outputs: TensorInfo[];
  constructor(
    private readonly ort: OrtModuleLike,
    private readonly session: OrtSessionLike,
    readonly provider: ProviderName,
    readonly metadata: Record<string, string>,
  ) {
    this.inputs = tensorInfos(session.inputNames, session.inputMetadata);
    this.outputs = tensorInfos(session.outputNames, session.outputMetadata);
  }

  async run(input: Float32Array, dims: readonly number[]): Promise<Record<string, { data: Float32Array; dims: number[] }>> {
    const tensor = new this.ort.Tensor('float32', input, dims);
    const out = await this.session.run({ [this.inputs[0].name]: tensor });
    const res: Record<string, { data: Float32Array; dims: number[] }> = {};
    for (const [k, v] of Object.entries(out)) {
      if (!(v.data instanceof Float32Array)) throw new Error(`model output "${k}" is not float32`);
      res[k] = { data: v.data, dims: [...v.dims] };
    }
    return res;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/**
 * Creates a session for `bytes` (the model file's contents), trying each provider alone in order:
 * ONNX Runtime refuses the whole list when one provider's library is missing, so a list cannot
 * express "cuda else cpu". A model that fails to load on the CPU fails outright (corrupt file).
 */
export async function createSession(ort: OrtModuleLike, bytes: Uint8Array, options: SessionOptions = {}): Promise<CreatedSession> {
  const o = validateSessionOptions(options);
  const plan = planProviders(o.providers, o.available);
  const attempts: ProviderAttempt[] = [...plan.skipped];
  const metadata = readOnnxMetadata(bytes);
  for (const provider of plan.order) {
    try {
      const session = await ort.InferenceSession.create(bytes, {
        executionProviders: [providerEntry(provider, validateGpuOptions(o.gpu))],
        ...(o.intraOpNumThreads > 0 ? { intraOpNumThreads: o.intraOpNumThreads } : {}),
        // Flattened by the binding to ONNX Runtime's config keys ("session.intra_op.allow_spinning").
        extra: { session: { intra_op: { allow_spinning: o.spinWait ? '1' : '0' }, inter_op: { allow_spinning: o.spinWait ? '1' : '0' } } },
        // Our own message says why a provider failed; ONNX Runtime's red log lines would only add noise.
        logSeverityLevel: 4,
      });
      attempts.push({ provider });
      return { runner: new OrtRunner(ort, session, provider, metadata), attempts };
    } catch (e) {
      attempts.push({ provider, error: explainProviderError(provider, e) });
    }
  }
  const why = attempts.map((a) => `${a.provider}: ${a.error}`).join('; ');
  throw new Error(`no execution provider could load the model (${why})`);
}

/** One line for logs: "cpu (fell back: cuda: … not installed)". */
export function describeAttempts(attempts: readonly ProviderAttempt[]): string {
  const ok = attempts.find((a) => !a.error);
  const failed = attempts.filter((a) => a.error).map((a) => `${a.provider}: ${a.error}`);
  return (ok ? ok.provider : 'none') + (failed.length ? ` (fell back: ${failed.join('; ')})` : '');
}
