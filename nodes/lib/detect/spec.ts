/**
 * What the detector needs to know about a model, resolved once from the session's input/output shapes,
 * its metadata and the user's overrides: input size, batch, output format, labels, preprocessing.
 */
import { Dim, TensorInfo } from '../onnx/session';
import { classNamesFromMetadata } from '../onnx/metadata';
import { DEFAULT_STRIDES, OUTPUT_FORMATS, OutputFormat, classCount, detectFormat } from './decode';
import { PreprocessOptions, validatePreprocess } from './letterbox';

export interface ModelConfig {
  /** Overrides the model's input size (needed when the model's H/W are dynamic). */
  inputWidth?: number;
  inputHeight?: number;
  /** 'auto' (or absent) detects the format from the output shape. */
  format?: OutputFormat | 'auto';
  /** Class names; absent → the model's metadata → class0, class1, … */
  labels?: string[];
  preprocess?: Partial<PreprocessOptions>;
  strides?: number[];
  /** Largest batch to send when the model's batch dimension is dynamic. */
  maxBatch?: number;
}

export interface ModelDescription {
  inputs: readonly TensorInfo[];
  outputs: readonly TensorInfo[];
  metadata: Readonly<Record<string, string>>;
}

export interface DetectorSpec {
  inputName: string;
  outputName: string;
  inputWidth: number;
  inputHeight: number;
  /** Frames per run the model takes: its fixed batch dimension, or maxBatch when dynamic. */
  maxBatch: number;
  /** True when the model's batch dimension is dynamic (any count up to maxBatch may be sent). */
  dynamicBatch: boolean;
  format: OutputFormat;
  formatReason: string;
  labels: string[];
  preprocess: PreprocessOptions;
  strides: number[];
  /** Things worth a warning that do not stop the model (labels padded, say). */
  warnings: string[];
}

const isNum = (d: Dim | undefined): d is number => typeof d === 'number' && d > 0;

export function resolveSpec(model: ModelDescription, cfg: ModelConfig = {}): DetectorSpec {
  const warnings: string[] = [];
  const input = model.inputs[0];
  const output = model.outputs[0];
  if (!input || !output) throw new Error('the model has no input or no output');
  const ishape = input.shape;
  if (ishape.length !== 4) throw new Error(`model input "${input.name}" has shape [${ishape.join(',')}]; a detector takes [N,3,H,W]`);
  if (isNum(ishape[1]) && ishape[1] !== 3) throw new Error(`model input "${input.name}" has ${ishape[1]} channels; 3 are supported`);
  const inputHeight = cfg.inputHeight || (isNum(ishape[2]) ? ishape[2] : 0);
  const inputWidth = cfg.inputWidth || (isNum(ishape[3]) ? ishape[3] : 0);
  if (!inputWidth || !inputHeight) throw new Error(`model input [${ishape.join(',')}] has a dynamic size: set the input width and height`);
  for (const [n, v] of [
    ['input width', inputWidth],
    ['input height', inputHeight],
  ] as const) {
    if (!Number.isInteger(v) || v < 32) throw new Error(`${n} must be a whole number ≥ 32, got ${v}`);
  }
  if (isNum(ishape[2]) && isNum(ishape[3]) && (ishape[2] !== inputHeight || ishape[3] !== inputWidth)) {
    throw new Error(`input size ${inputWidth}×${inputHeight} does not match the model's fixed ${ishape[3]}×${ishape[2]}`);
  }
  const dynamicBatch = !isNum(ishape[0]);
  const maxBatch = dynamicBatch ? (cfg.maxBatch ?? 4) : (ishape[0] as number);
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error(`maxBatch must be a whole number ≥ 1, got ${maxBatch}`);

  const strides = cfg.strides ?? [...DEFAULT_STRIDES];
  let format: OutputFormat;
  let formatReason: string;
  if (cfg.format && cfg.format !== 'auto') {
    if (!OUTPUT_FORMATS.includes(cfg.format)) throw new Error(`unknown output format "${cfg.format}"; use auto, ${OUTPUT_FORMATS.join(', ')}`);
    format = cfg.format;
    formatReason = 'set by hand';
  } else {
    const g = detectFormat(output.shape, inputWidth, inputHeight, strides);
    if (!g.format) throw new Error(g.reason);
    format = g.format;
    formatReason = g.reason;
  }

  const fromModel = classCount(format, output.shape);
  let labels = cfg.labels && cfg.labels.length ? [...cfg.labels] : classNamesFromMetadata(model.metadata);
  const n = fromModel ?? labels?.length ?? 80;
  if (!labels) {
    labels = Array.from({ length: n }, (_, i) => `class${i}`);
    warnings.push(`no class names (labels file or model metadata): using class0…class${n - 1}`);
  } else if (labels.length !== n) {
    warnings.push(`${labels.length} class names for a model with ${n} classes`);
    labels = Array.from({ length: n }, (_, i) => labels![i] ?? `class${i}`);
  }
  return {
    inputName: input.name,
    outputName: output.name,
    inputWidth,
    inputHeight,
    maxBatch,
    dynamicBatch,
    format,
    formatReason,
    labels,
    preprocess: validatePreprocess({ align: format === 'yolox' ? 'top-left' : 'center', ...cfg.preprocess }),
    strides,
    warnings,
  };
}
