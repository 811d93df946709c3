/**
 * Loading a detection model as the vision-model config node and the CLI both need it: resolve the
 * file (manifest name or path), read it, create a session through the shared registry (one session
 * per file + providers + threads, whoever asks), and resolve the detector spec with manifest
 * defaults under the user's settings. No Node-RED import, so the CLI and the benchmark use it too.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AssetLookup, manifestEntry, readLabels, resolveAsset, resolveUserPath } from '../assets';
import {
  CreatedSession,
  GpuOptions,
  OrtModuleLike,
  ProviderRequest,
  SessionOptions,
  createSession,
  describeAttempts,
  providerText,
  tensorrtEnv,
  validateGpuOptions,
  validateSessionOptions,
} from '../onnx/session';
import { BatchRewriteReport, makeBatchDynamic } from '../onnx/batch-model';
import { RunnerPool, threadsPerSession } from '../onnx/runner-pool';
import { findOrtRuntime, loadOrt, probeProviders } from '../onnx/runtime';
import { SharedRegistry } from '../onnx/registry';
import { createWorkerSession } from '../onnx/worker-session';
import { ModelConfig, DetectorSpec, resolveSpec } from '../detect/spec';
import { PreprocessOptions } from '../detect/letterbox';
import { OutputFormat } from '../detect/decode';
import { EmbeddingSpec, resolveEmbeddingSpec } from '../reid/spec';

export interface ModelSettings {
  /** A manifest name ("yolox_nano") or a path to an .onnx file. */
  model: string;
  /** A manifest labels name, a labels file (one name a line), or '' for manifest → ONNX metadata. */
  labels?: string;
  inputWidth?: number;
  inputHeight?: number;
  /** 'embedding' for a re-identification model (used by vision-reid, refused by the detector). */
  format?: OutputFormat | 'auto' | 'embedding';
  /** Unset fields come from the manifest entry (if the model is one), else the usual YOLO defaults. */
  preprocess?: Partial<PreprocessOptions>;
  /** Providers in order, or 'auto' (what this machine has). Default ['cpu']. */
  providers?: ProviderRequest;
  intraOpNumThreads?: number;
  /** Let ONNX Runtime's idle threads spin (see SessionOptions.spinWait). */
  spinWait?: boolean;
  maxBatch?: number;
  /**
   * Make a model whose batch is fixed at 1 take several frames a run (batch-model.ts rewrites its
   * input's batch dimension in memory when it loads). Default false.
   */
  dynamicBatch?: boolean;
  /** Sessions of the model (runs in flight at once), each in its own worker. Default 1. */
  sessions?: number;
  /** CUDA / TensorRT settings (device, TensorRT FP16 and engine cache). */
  gpu?: GpuOptions;
  /**
   * Run the session in a worker thread (default). onnxruntime-node runs inference synchronously on
   * the calling thread; in Node-RED's thread that would stall every flow for each inference.
   */
  inWorker?: boolean;
  /**
   * Node-RED's user dir: manifest models and labels are found in its edgevision/ folder, and so is a
   * relative path (a picked or uploaded file name), else relative to the user dir itself.
   */
  userDir?: string;
}

export interface LoadedModel {
  file: string;
  /** The registry key of the session (several config nodes may share it). */
  key: string;
  session: CreatedSession;
  spec: DetectorSpec;
  /** "cpu (fell back: cuda: …)" */
  providerText: string;
  /** What making the batch dynamic changed (dynamicBatch), for the log. */
  batch?: BatchRewriteReport;
}

/** The process-wide session registry, shared by vision-model and (later) vision-reid. */
const KEY = Symbol.for('edgevision.sessionRegistry');
type WithRegistry = typeof globalThis & { [KEY]?: SharedRegistry<CreatedSession> };
export function sharedSessions(): SharedRegistry<CreatedSession> {
  const g = globalThis as WithRegistry;
  if (!g[KEY]) g[KEY] = new SharedRegistry<CreatedSession>();
  return g[KEY]!;
}

export { loadOrt };

/** The model file's absolute path; throws "model file not found: …" (or AssetNotFoundError) with what to do. */
export function resolveModelFile(model: string, userDir?: string): string {
  const name = (model || '').trim();
  if (!name) throw new Error('no model: set a manifest name (yolox_nano) or the path of an .onnx file');
  if (manifestEntry(name)) return resolveAsset(name, lookup(userDir));
  const r = resolveUserPath(name, userDir);
  if (!r.exists) {
    throw new Error(
      path.isAbsolute(name)
        ? `model file not found: ${name}`
        : `model file not found: ${name} (looked in ${r.lookedIn.join(', ')}); pick or upload a model in the vision-model dialog`,
    );
  }
  if (!fs.statSync(r.file).isFile()) throw new Error(`model path is not a file: ${r.file}`);
  return r.file;
}

function lookup(userDir?: string): AssetLookup {
  return userDir ? { userDir } : {};
}

function labelsFor(s: ModelSettings, file: string): string[] | undefined {
  const l = (s.labels || '').trim();
  if (l) {
    if (manifestEntry(l)) return readLabels(l, lookup(s.userDir));
    const r = resolveUserPath(l, s.userDir);
    if (!r.exists) throw new Error(`labels file not found: ${r.file}${r.lookedIn.length > 1 ? ` (looked in ${r.lookedIn.join(', ')})` : ''}`);
    return readLabels(r.file);
  }
  const entry = manifestEntry(s.model) ?? manifestEntry(path.basename(file));
  const ref = entry?.labels;
  return typeof ref === 'string' ? readLabels(ref, lookup(s.userDir)) : undefined;
}

/** Manifest defaults for a model, under the user's explicit settings. */
export function modelConfig(s: ModelSettings, file: string): ModelConfig {
  const entry = manifestEntry(s.model) ?? manifestEntry(path.basename(file));
  const mp = (entry?.preprocess ?? {}) as Partial<PreprocessOptions>;
  const size = Array.isArray(entry?.inputSize) ? (entry!.inputSize as number[]) : [];
  const fmt = (s.format && s.format !== 'auto' ? s.format : entry?.format) as OutputFormat | undefined;
  return {
    inputWidth: s.inputWidth || size[0] || undefined,
    inputHeight: s.inputHeight || size[1] || undefined,
    format: fmt ?? 'auto',
    labels: labelsFor(s, file),
    preprocess: { ...pick(mp), ...pick(s.preprocess ?? {}) },
    maxBatch: s.maxBatch,
  };
}

function pick(p: Partial<PreprocessOptions>): Partial<PreprocessOptions> {
  const out: Partial<PreprocessOptions> = {};
  for (const k of ['channelOrder', 'padValue', 'scale', 'mean', 'std', 'align', 'interpolation'] as const) {
    if (p[k] !== undefined && p[k] !== null) (out as Record<string, unknown>)[k] = p[k];
  }
  return out;
}

export function sessionKey(file: string, o: Required<SessionOptions>, inWorker = true, extra: { dynamicBatch?: boolean; sessions?: number } = {}): string {
  const g = validateGpuOptions(o.gpu);
  const gpu = `gpu${g.deviceId}${g.trtFp16 ? 'fp16' : ''}${g.trtCacheDir ? `cache=${g.trtCacheDir}` : ''}`;
  return `${file}|${providerText(o.providers)}|${o.intraOpNumThreads}|${o.spinWait ? 'spin' : 'nospin'}|${inWorker ? 'worker' : 'main'}|${gpu}|${extra.dynamicBatch ? 'batchN' : 'batch1'}|s${extra.sessions ?? 1}`;
}

/** Sessions of a model: a whole number from 1 to 16. */
export function validateSessions(n: number | undefined): number {
  const v = n ?? 1;
  if (!Number.isInteger(v) || v < 1 || v > 16) throw new Error(`sessions must be a whole number from 1 to 16, got ${v}`);
  return v;
}

/** Runs `fn` after every earlier call of it in this process has settled (process-wide, like the registry). */
const TRT_KEY = Symbol.for('edgevision.tensorrtCreation');
function oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
  const g = globalThis as typeof globalThis & { [TRT_KEY]?: Promise<unknown> };
  const before = g[TRT_KEY] ?? Promise.resolve();
  const run = before.catch(() => undefined).then(fn);
  g[TRT_KEY] = run.catch(() => undefined);
  return run;
}

/** Sets (or, for '', removes) environment variables in this process (ONNX Runtime's providers read them). */
function applyEnv(env: Record<string, string>): void {
  for (const [k, v] of Object.entries(env)) {
    if (v) process.env[k] = v;
    else delete process.env[k];
  }
}

/**
 * One or `sessions` sessions of the model; several share the cores out (threadsPerSession) unless
 * the threads are set, and sit behind one RunnerPool.
 */
async function createSessions(
  bytes: Uint8Array,
  so: Required<SessionOptions>,
  sessions: number,
  inWorker: boolean,
  ort: OrtModuleLike,
): Promise<CreatedSession> {
  const threads = so.intraOpNumThreads || threadsPerSession(os.cpus().length, sessions);
  const one = { ...so, intraOpNumThreads: threads };
  const make = () => (inWorker ? createWorkerSession(bytes, one) : createSession(ort, bytes, one));
  if (sessions === 1) return make();
  const settled = await Promise.allSettled(Array.from({ length: sessions }, make));
  const ok = settled.filter((r): r is PromiseFulfilledResult<CreatedSession> => r.status === 'fulfilled').map((r) => r.value);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(ok.map((c) => c.runner.release().catch(() => undefined)));
    throw failed.reason;
  }
  return { runner: new RunnerPool(ok.map((c) => c.runner)), attempts: ok[0].attempts };
}

/**
 * The shared session for a model file and its session options, acquired for `user`: loaded once
 * (in a worker thread unless `inWorker` is false) and shared by every user with the same key. A
 * load that fails leaves the user holding nothing.
 */
async function acquireSession(
  s: ModelSettings,
  user: string,
  ort: OrtModuleLike,
): Promise<{ file: string; key: string; session: CreatedSession; batch?: BatchRewriteReport }> {
  const file = resolveModelFile(s.model, s.userDir);
  // Providers whose libraries this machine lacks are reported, never handed to ONNX Runtime.
  const available = probeProviders(findOrtRuntime().binDir);
  const so = validateSessionOptions({ providers: s.providers, intraOpNumThreads: s.intraOpNumThreads, spinWait: s.spinWait, available, gpu: s.gpu });
  const inWorker = s.inWorker !== false;
  const sessions = validateSessions(s.sessions);
  const dynamicBatch = !!s.dynamicBatch;
  const key = sessionKey(file, so, inWorker, { dynamicBatch, sessions });
  const registry = sharedSessions();
  let batch: BatchRewriteReport | undefined;
  try {
    const session = await registry.acquire(
      key,
      user,
      async () => {
        let bytes: Uint8Array = await fs.promises.readFile(file);
        if (dynamicBatch) {
          batch = makeBatchDynamic(bytes);
          bytes = batch.bytes;
        }
        const wantsTrt = so.providers !== 'auto' && so.providers.includes('tensorrt') && !so.available.tensorrt;
        if (!wantsTrt) return createSessions(bytes, so, sessions, inWorker, ort);
        // TensorRT reads its settings from the process environment when a session is created, so
        // sessions with TensorRT are created one at a time, each with its own settings in place.
        const input = batch?.inputsMadeDynamic[0];
        const size = modelConfig(s, file);
        const chw = size.inputWidth && size.inputHeight ? [3, size.inputHeight, size.inputWidth] : undefined;
        const env = tensorrtEnv(validateGpuOptions(so.gpu), input && chw ? { input, maxBatch: s.maxBatch ?? 4, chw } : undefined);
        const model = bytes;
        return oneAtATime(() => {
          applyEnv(env);
          return createSessions(model, so, sessions, inWorker, ort);
        });
      },
      (v) => v.runner.release(),
    );
    return { file, key, session, batch };
  } catch (e) {
    await registry.release(key, user);
    throw new Error(`cannot load ${path.basename(file)}: ${(e as Error).message}`);
  }
}

/**
 * Acquires the shared session for `user` and resolves the spec. On failure the session is released
 * again, so a user that failed holds nothing. Errors say which step failed and why.
 */
export async function acquireModel(s: ModelSettings, user: string, ort: OrtModuleLike = loadOrt()): Promise<LoadedModel> {
  const { file, key, session, batch } = await acquireSession(s, user, ort);
  const registry = sharedSessions();
  try {
    if (isEmbeddingModel(s, file)) throw new Error('this is an embedding (re-identification) model: use it in vision-reid, not for detection');
    const spec = resolveSpec(session.runner, modelConfig(s, file));
    if (batch) {
      for (const w of batch.suspects) spec.warnings.push(`batch: ${w}; check its detections against a batch of 1 (edgevision model-batch --check)`);
      if (!spec.dynamicBatch) spec.warnings.push('batch: the model still takes one frame a run (its input has no batch dimension to make dynamic)');
    }
    return { file, key, session, spec, providerText: describeAttempts(session.attempts), batch };
  } catch (e) {
    await registry.release(key, user);
    throw new Error(`${path.basename(file)}: ${(e as Error).message}`);
  }
}

export interface LoadedEmbeddingModel {
  file: string;
  key: string;
  session: CreatedSession;
  spec: EmbeddingSpec;
  providerText: string;
}

/** True when the settings (or the manifest entry) say the model is an embedding model. */
export function isEmbeddingModel(s: ModelSettings, file: string): boolean {
  return (modelConfig(s, file).format as string) === 'embedding';
}

/**
 * As acquireModel, for an embedding model (vision-reid): the same shared session registry, with an
 * embedding spec (input size, normalisation, vector length) instead of a detector spec. Defaults are
 * torchreid's (256×128, RGB, /255, ImageNet mean/std) under the manifest and the user's settings.
 */
export async function acquireEmbeddingModel(s: ModelSettings, user: string, ort: OrtModuleLike = loadOrt()): Promise<LoadedEmbeddingModel> {
  const { file, key, session } = await acquireSession(s, user, ort);
  const registry = sharedSessions();
  try {
    const cfg = modelConfig(s, file);
    if (!isEmbeddingModel(s, file)) throw new Error('not an embedding model: set the vision-model output format to "embedding (re-id)"');
    const p = cfg.preprocess ?? {};
    const spec = resolveEmbeddingSpec(session.runner, {
      inputWidth: cfg.inputWidth,
      inputHeight: cfg.inputHeight,
      maxBatch: cfg.maxBatch,
      normalisation: {
        ...(p.channelOrder ? { channelOrder: p.channelOrder } : {}),
        ...(p.scale !== undefined ? { scale: p.scale } : {}),
        ...(p.mean ? { mean: p.mean } : {}),
        ...(p.std ? { std: p.std } : {}),
      },
    });
    return { file, key, session, spec, providerText: describeAttempts(session.attempts) };
  } catch (e) {
    await registry.release(key, user);
    throw new Error(`${path.basename(file)}: ${(e as Error).message}`);
  }
}

export function releaseModel(key: string, user: string): Promise<void> {
  return sharedSessions().release(key, user);
}
