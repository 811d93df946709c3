/**
 * What the re-id embedder needs to know about an embedding model (OSNet-style: [N,3,H,W] in,
 * [N,D] out), resolved once from the session's shapes and the user's settings. Defaults are
 * torchreid's: 256×128, RGB, /255, ImageNet mean and std.
 */
import { Dim } from '../onnx/session';
import { ModelDescription } from '../detect/spec';
import { CropNormalisation } from './crop';

export interface EmbeddingModelConfig {
  inputWidth?: number;
  inputHeight?: number;
  normalisation?: Partial<CropNormalisation>;
  /** Largest batch of crops per run when the model's batch dimension is dynamic. */
  maxBatch?: number;
}

export interface EmbeddingSpec {
  inputName: string;
  outputName: string;
  inputWidth: number;
  inputHeight: number;
  /** Embedding length (the output's last dimension). */
  dim: number;
  maxBatch: number;
  dynamicBatch: boolean;
  normalisation: CropNormalisation;
}

export const IMAGENET: Readonly<CropNormalisation> = Object.freeze({
  channelOrder: 'rgb',
  scale: 1 / 255,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
}) as Readonly<CropNormalisation>;

const isNum = (d: Dim | undefined): d is number => typeof d === 'number' && d > 0;

export function resolveEmbeddingSpec(model: ModelDescription, cfg: EmbeddingModelConfig = {}): EmbeddingSpec {
  const input = model.inputs[0];
  const output = model.outputs[0];
  if (!input || !output) throw new Error('the model has no input or no output');
  const ishape = input.shape;
  if (ishape.length !== 4) throw new Error(`model input "${input.name}" has shape [${ishape.join(',')}]; an embedding model takes [N,3,H,W]`);
  if (isNum(ishape[1]) && ishape[1] !== 3) throw new Error(`model input "${input.name}" has ${ishape[1]} channels; 3 are supported`);
  const inputHeight = cfg.inputHeight || (isNum(ishape[2]) ? ishape[2] : 256);
  const inputWidth = cfg.inputWidth || (isNum(ishape[3]) ? ishape[3] : 128);
  if (isNum(ishape[2]) && isNum(ishape[3]) && (ishape[2] !== inputHeight || ishape[3] !== inputWidth)) {
    throw new Error(`input size ${inputWidth}×${inputHeight} does not match the model's fixed ${ishape[3]}×${ishape[2]}`);
  }
  const oshape = output.shape;
  if (oshape.length !== 2) throw new Error(`model output "${output.name}" has shape [${oshape.join(',')}]; an embedding model returns [N,D]`);
  const dim = isNum(oshape[1]) ? oshape[1] : 0;
  if (!dim) throw new Error(`model output "${output.name}" has no fixed embedding length: [${oshape.join(',')}]`);
  const dynamicBatch = !isNum(ishape[0]);
  const maxBatch = dynamicBatch ? (cfg.maxBatch ?? 16) : (ishape[0] as number);
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error(`maxBatch must be a whole number ≥ 1, got ${maxBatch}`);
  const n = { ...IMAGENET, ...(cfg.normalisation ?? {}) };
  if (n.channelOrder !== 'rgb' && n.channelOrder !== 'bgr') throw new Error(`channel order must be rgb or bgr, got ${String(n.channelOrder)}`);
  if (!(n.scale > 0)) throw new Error(`scale must be > 0, got ${n.scale}`);
  if (n.std.some((s) => !s)) throw new Error('std must not contain 0');
  return {
    inputName: input.name,
    outputName: output.name,
    inputWidth,
    inputHeight,
    dim,
    maxBatch,
    dynamicBatch,
    normalisation: {
      channelOrder: n.channelOrder,
      scale: n.scale,
      mean: [...n.mean] as CropNormalisation['mean'],
      std: [...n.std] as CropNormalisation['std'],
    },
  };
}
