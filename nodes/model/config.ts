/** The vision-model editor config → loader settings, with the shared readers (nodes/shared/config). */
import * as path from 'path';
import { blank, bool, choice, configError, number, optNumber, text } from '../shared/config';
import { ModelSettings } from '../lib/model/loader';
import { parseProviders, ProviderRequest } from '../lib/onnx/session';
import { OutputFormat, OUTPUT_FORMATS } from '../lib/detect/decode';
import { PreprocessOptions } from '../lib/detect/letterbox';

export interface ModelNodeConfig {
  name?: string;
  model?: string;
  labels?: string;
  inputWidth?: string | number;
  inputHeight?: string | number;
  format?: string;
  channelOrder?: string;
  padValue?: string | number;
  scale?: string | number;
  mean?: string;
  std?: string;
  align?: string;
  interpolation?: string;
  providers?: string;
  threads?: string | number;
  spinWait?: boolean | string;
  maxBatch?: string | number;
  dynamicBatch?: boolean | string;
  sessions?: string | number;
  gpuDevice?: string | number;
  trtFp16?: boolean | string;
  trtCacheDir?: string;
}

function triple(v: unknown, what: string): [number, number, number] | undefined {
  if (blank(v)) return undefined;
  const parts = String(v)
    .split(/[\s,]+/)
    .filter((p) => p.length)
    .map(Number);
  if (parts.length !== 3 || !parts.every(Number.isFinite)) throw configError(what, 'three numbers like "0.485, 0.456, 0.406"', v);
  return parts as [number, number, number];
}

/** A choice whose "auto" (or blank) means: as the model's manifest says. */
function unlessAuto<T extends string>(v: unknown, label: string, choices: readonly T[]): T | undefined {
  const c = choice(v, label, ['auto', ...choices] as const, 'auto');
  return c === 'auto' ? undefined : (c as T);
}

/** The TensorRT engine cache folder: absolute as given, relative to the user dir otherwise, '' for none. */
function trtCacheDir(v: unknown, userDir?: string): string {
  const t = text(typeof v === 'string' ? v : '');
  if (!t) return '';
  return path.isAbsolute(t) || !userDir ? t : path.join(userDir, t);
}

/** Editor config → loader settings; throws with the field and the rule when something is wrong. */
export function settingsFromConfig(c: ModelNodeConfig, userDir?: string): ModelSettings {
  // 'embedding' marks a re-identification model (vision-reid): [N,3,H,W] crops in, [N,D] vectors out.
  const format = choice(c.format, 'output format', ['auto', ...OUTPUT_FORMATS, 'embedding'] as const, 'auto');
  const channelOrder = unlessAuto(c.channelOrder, 'channel order', ['rgb', 'bgr'] as const);
  const align = unlessAuto(c.align, 'padding position', ['center', 'top-left'] as const);
  const interpolation = unlessAuto(c.interpolation, 'resampling', ['bilinear', 'nearest'] as const);
  const inputWidth = optNumber(c.inputWidth, 'input width', { integer: true, min: 0, note: '0 = from the model' });
  const inputHeight = optNumber(c.inputHeight, 'input height', { integer: true, min: 0, note: '0 = from the model' });
  const preprocess: Partial<PreprocessOptions> = {
    channelOrder,
    padValue: optNumber(c.padValue, 'pad value', { min: 0, max: 255 }),
    // "1/255" is how people write a scale; accept a plain fraction.
    scale: optNumber(c.scale, 'scale', { above: 0, fraction: true, note: '1 for 0–255 input, 1/255 for 0–1' }),
    mean: triple(c.mean, 'mean'),
    std: triple(c.std, 'std'),
    align,
    interpolation,
  };
  // Blank means what this machine has, like a new node's default.
  const providers: ProviderRequest = blank(c.providers) ? 'auto' : parseProviders(String(c.providers));
  return {
    model: text(c.model),
    labels: text(c.labels),
    inputWidth: inputWidth || undefined,
    inputHeight: inputHeight || undefined,
    format: format as OutputFormat | 'auto' | 'embedding',
    preprocess,
    providers,
    intraOpNumThreads: number(c.threads, 'threads', 0, { integer: true, min: 0, note: '0 = one per core' }),
    spinWait: bool(c.spinWait, 'spin-wait', false),
    maxBatch: optNumber(c.maxBatch, 'maximum batch', { integer: true, min: 1 }),
    dynamicBatch: bool(c.dynamicBatch, 'batch cameras together', false),
    sessions: number(c.sessions, 'sessions', 1, { integer: true, min: 1, max: 16 }),
    gpu: {
      deviceId: number(c.gpuDevice, 'GPU device', 0, { integer: true, min: 0, max: 63 }),
      trtFp16: bool(c.trtFp16, 'TensorRT FP16', false),
      trtCacheDir: trtCacheDir(c.trtCacheDir, userDir),
    },
    userDir,
  };
}
