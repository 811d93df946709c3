/**
 * Embedders: turn person boxes in a frame into L2-normalised appearance vectors. Two kinds behind one
 * interface, chosen per node: an ONNX re-id model (crops batched per frame, at most maxBatch a run)
 * and the built-in colour descriptor.
 */
import { Box } from '../types';
import { SourceImage } from '../detect/letterbox';
import { ModelRunner } from '../onnx/session';
import { cropResizeInto } from './crop';
import { ColourOptions, colourDescriptor, colourDimension, resolveColourOptions } from './colour';
import { EmbeddingSpec } from './spec';
import { l2normalise } from '../vector';

export type EmbedderKind = 'onnx' | 'colour';

export interface Embedder {
  readonly kind: EmbedderKind;
  /** Vector length. */
  readonly dim: number;
  /** One line for the status: "osnet (onnx, 512-d)" or "built-in colour (168-d)". */
  readonly description: string;
  /** One vector per box, in order. */
  embed(img: SourceImage, boxes: readonly Box[]): Promise<Float32Array[]>;
}

export class ColourEmbedder implements Embedder {
  readonly kind = 'colour' as const;
  readonly dim: number;
  readonly description: string;
  private readonly options: ColourOptions;
  constructor(options: Partial<ColourOptions> = {}) {
    this.options = resolveColourOptions(options);
    this.dim = colourDimension(this.options);
    this.description = `built-in colour (${this.dim}-d)`;
  }
  async embed(img: SourceImage, boxes: readonly Box[]): Promise<Float32Array[]> {
    return boxes.map((b) => colourDescriptor(img, b, this.options));
  }
}

export class OnnxEmbedder implements Embedder {
  readonly kind = 'onnx' as const;
  readonly dim: number;
  readonly description: string;
  /** One reusable input buffer per batch size actually used. */
  private readonly buffers = new Map<number, Float32Array>();
  constructor(
    private readonly runner: Pick<ModelRunner, 'run'>,
    readonly spec: EmbeddingSpec,
    name = 'model',
  ) {
    this.dim = spec.dim;
    this.description = `${name} (onnx, ${spec.dim}-d)`;
  }

  private buffer(batch: number): Float32Array {
    let b = this.buffers.get(batch);
    if (!b) {
      b = new Float32Array(batch * 3 * this.spec.inputWidth * this.spec.inputHeight);
      // Batch sizes are bounded by maxBatch, so this map is too.
      this.buffers.set(batch, b);
    }
    return b;
  }

  async embed(img: SourceImage, boxes: readonly Box[]): Promise<Float32Array[]> {
    const s = this.spec;
    const per = 3 * s.inputWidth * s.inputHeight;
    const out: Float32Array[] = [];
    for (let start = 0; start < boxes.length; start += s.maxBatch) {
      const part = boxes.slice(start, start + s.maxBatch);
      // A fixed batch dimension must be filled; the spare slots' outputs are ignored.
      const batch = s.dynamicBatch ? part.length : s.maxBatch;
      const tensor = this.buffer(batch);
      part.forEach((b, i) => cropResizeInto(img, b, s.inputWidth, s.inputHeight, s.normalisation, tensor, i * per));
      const res = await this.runner.run(tensor, [batch, 3, s.inputHeight, s.inputWidth]);
      const t = res[s.outputName] ?? Object.values(res)[0];
      if (!t) throw new Error('the model returned no output');
      if (t.dims.length !== 2 || t.dims[0] !== batch || t.dims[1] !== s.dim)
        throw new Error(`the model returned [${t.dims.join(',')}] for ${batch} crops; expected [${batch},${s.dim}]`);
      for (let i = 0; i < part.length; i++) out.push(l2normalise(t.data.subarray(i * s.dim, (i + 1) * s.dim)));
    }
    return out;
  }
}
