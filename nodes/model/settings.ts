/** The vision-model editor config → loader settings, with validation that names the field. */
import { Node } from '../shared/red';
import { blank } from '../shared/config-fields';
import { LoadedEmbeddingModel, LoadedModel, ModelSettings } from '../lib/model/loader';
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
}

export interface VisionModelNode extends Node {
  /** Shares the session with `user`; rejects with the reason when the model cannot be used. */
  acquire(user: Node): Promise<LoadedModel>;
  /** `user` is done with it; the last user to leave releases the session. */
  release(user: Node): Promise<void>;
  /** As acquire, for an embedding (re-id) model: the session and its embedding spec. */
  acquireEmbedding(user: Node): Promise<LoadedEmbeddingModel>;
  /** What the model is, for labels and logs. */
  describe(): string;
}

function optNumber(v: unknown, what: string, check: (n: number) => boolean, rule: string): number | undefined {
  if (blank(v)) return undefined;
  let n: number;
  const s = String(v).trim();
  // "1/255" is how people write a scale; accept a plain fraction.
  const frac = /^(-?[\d.]+)\s*\/\s*([\d.]+)$/.exec(s);
  n = frac ? Number(frac[1]) / Number(frac[2]) : Number(s);
  if (!Number.isFinite(n) || !check(n)) throw new Error(`${what} must be ${rule}, got "${s}"`);
  return n;
}

function triple(v: unknown, what: string): [number, number, number] | undefined {
  if (blank(v)) return undefined;
  const parts = String(v).split(/[\s,]+/).filter((p) => p.length).map(Number);
  if (parts.length !== 3 || !parts.every(Number.isFinite)) throw new Error(`${what} must be three numbers like "0.485, 0.456, 0.406", got "${String(v)}"`);
  return parts as [number, number, number];
}

/** Editor config → loader settings; throws with the field and the rule when something is wrong. */
export function settingsFromConfig(c: ModelNodeConfig, userDir?: string): ModelSettings {
  const format = blank(c.format) ? 'auto' : String(c.format);
  // 'embedding' marks a re-identification model (vision-reid): [N,3,H,W] crops in, [N,D] vectors out.
  if (format !== 'auto' && format !== 'embedding' && !OUTPUT_FORMATS.includes(format as OutputFormat)) throw new Error(`output format must be auto, ${OUTPUT_FORMATS.join(', ')} or embedding, got "${format}"`);
  const channelOrder = blank(c.channelOrder) || c.channelOrder === 'auto' ? undefined : String(c.channelOrder);
  if (channelOrder && channelOrder !== 'rgb' && channelOrder !== 'bgr') throw new Error(`channel order must be rgb or bgr, got "${channelOrder}"`);
  const align = blank(c.align) || c.align === 'auto' ? undefined : String(c.align);
  if (align && align !== 'center' && align !== 'top-left') throw new Error(`padding position must be center or top-left, got "${align}"`);
  const interpolation = blank(c.interpolation) || c.interpolation === 'auto' ? undefined : String(c.interpolation);
  if (interpolation && interpolation !== 'bilinear' && interpolation !== 'nearest') throw new Error(`resampling must be bilinear or nearest, got "${interpolation}"`);
  const whole = (n: number) => Number.isInteger(n) && n >= 0;
  const inputWidth = optNumber(c.inputWidth, 'input width', whole, 'a whole number (0 = from the model)');
  const inputHeight = optNumber(c.inputHeight, 'input height', whole, 'a whole number (0 = from the model)');
  const preprocess: Partial<PreprocessOptions> = {
    channelOrder: channelOrder as PreprocessOptions['channelOrder'] | undefined,
    padValue: optNumber(c.padValue, 'pad value', (n) => n >= 0 && n <= 255, '0–255'),
    scale: optNumber(c.scale, 'scale', (n) => n > 0, 'a number > 0 (1 for 0–255 input, 1/255 for 0–1)'),
    mean: triple(c.mean, 'mean'),
    std: triple(c.std, 'std'),
    align: align as PreprocessOptions['align'] | undefined,
    interpolation: interpolation as PreprocessOptions['interpolation'] | undefined,
  };
  // Blank means what this machine has, like a new node's default.
  const providers: ProviderRequest = blank(c.providers) ? 'auto' : parseProviders(String(c.providers));
  return {
    model: String(c.model ?? '').trim(),
    labels: String(c.labels ?? '').trim(),
    inputWidth: inputWidth || undefined,
    inputHeight: inputHeight || undefined,
    format: format as OutputFormat | 'auto' | 'embedding',
    preprocess,
    providers,
    intraOpNumThreads: optNumber(c.threads, 'threads', whole, 'a whole number (0 = one per core)') ?? 0,
    spinWait: c.spinWait === true || c.spinWait === 'true',
    maxBatch: optNumber(c.maxBatch, 'maximum batch', (n) => Number.isInteger(n) && n >= 1, 'a whole number ≥ 1'),
    userDir,
  };
}

