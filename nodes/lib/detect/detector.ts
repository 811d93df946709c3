/**
 * The detect path: letterbox → session → decode → class-aware NMS → back to source pixels → filters.
 * Exposed as three stages (prepare / infer / finish) so callers can time each one, and as `detect()`
 * that runs them in order. The engine does not read the clock: pass `now` to get timings.
 */
import { Detection } from '../types';
import { ModelRunner } from '../onnx/session';
import { Candidates, DecodeContext, Grid, OutputTensor, decode, makeGrid } from './decode';
import { FilterOptions, ResolvedFilters, applyGeometryFilters, classThresholds, resolveFilters } from './filters';
import { LetterboxParams, SourceImage, unletterboxBox } from './letterbox';
import { letterboxAuto } from './letterbox-wasm';
import { NmsOptions, nms, validateNms } from './nms';
import { DetectorSpec } from './spec';

export interface DetectorOptions {
  filters?: FilterOptions;
  nms?: NmsOptions;
}

export interface Prepared {
  tensor: Float32Array;
  dims: number[];
  params: LetterboxParams[];
}

export interface DetectTiming {
  preprocessMs: number;
  inferenceMs: number;
  postprocessMs: number;
}

export interface DetectResult {
  /** One list per input frame, in input order. */
  detections: Detection[][];
  timing?: DetectTiming;
}

export class Detector {
  private filters: ResolvedFilters;
  private thresholds: Float32Array;
  private readonly nmsOptions: Required<NmsOptions>;
  private readonly grid?: Grid;
  /**
   * Reused input buffers by batch size. A buffer is reserved from prepare() until its run ends (or
   * release()), so a caller may prepare the next frame while the previous one is still in the session.
   */
  private readonly buffers = new Map<number, Float32Array[]>();
  private readonly inUse = new Set<Float32Array>();
  /** Labels named in filters that this model does not have (for a warning). */
  unknownLabels: string[] = [];

  constructor(
    private readonly runner: Pick<ModelRunner, 'run'> & Partial<Pick<ModelRunner, 'allocInput' | 'parallel'>>,
    readonly spec: DetectorSpec,
    options: DetectorOptions = {},
  ) {
    this.nmsOptions = validateNms(options.nms);
    this.filters = resolveFilters(options.filters);
    this.thresholds = this.buildThresholds();
    if (spec.format === 'yolox') this.grid = makeGrid(spec.inputWidth, spec.inputHeight, spec.strides);
  }

  private buildThresholds(): Float32Array {
    const { thresholds, unknown } = classThresholds(this.filters, this.spec.labels);
    this.unknownLabels = unknown;
    return thresholds;
  }

  get currentFilters(): ResolvedFilters {
    return resolveFilters({}, this.filters);
  }

  /** Replaces the thresholds and filters (merged over the current ones unless `base` is given). */
  setFilters(f: FilterOptions, base: ResolvedFilters = this.filters): ResolvedFilters {
    this.filters = resolveFilters(f, base);
    this.thresholds = this.buildThresholds();
    return this.currentFilters;
  }

  get maxBatch(): number {
    return this.spec.maxBatch;
  }

  /** Runs the runner takes at once (sessions in its pool); 1 for a single session. */
  get parallel(): number {
    return this.runner.parallel ?? 1;
  }

  prepare(frames: readonly SourceImage[]): Prepared {
    const s = this.spec;
    if (frames.length < 1) throw new Error('no frames to detect on');
    if (frames.length > s.maxBatch) throw new Error(`${frames.length} frames in one run; the model takes at most ${s.maxBatch}`);
    // A fixed batch dimension must be filled; spare slots stay as padding and their output is ignored.
    const batch = s.dynamicBatch ? frames.length : s.maxBatch;
    const per = 3 * s.inputWidth * s.inputHeight;
    let pool = this.buffers.get(batch);
    if (!pool) {
      pool = [];
      this.buffers.set(batch, pool);
    }
    let tensor = pool.find((b) => !this.inUse.has(b));
    if (!tensor) {
      tensor = this.runner.allocInput ? this.runner.allocInput(batch * per) : new Float32Array(batch * per);
      // Keep one per run in flight and one prepared (and a spare); more means callers overlap more than they should.
      if (pool.length < this.parallel + 2) pool.push(tensor);
    }
    const params = frames.map((f, i) => letterboxAuto(f, s.inputWidth, s.inputHeight, s.preprocess, tensor!, i * per));
    // Reserved until infer() has run it or release() gives it back.
    this.inUse.add(tensor);
    return { tensor, dims: [batch, 3, s.inputHeight, s.inputWidth], params };
  }

  /** Gives back the buffer of a prepared input that will not be run (its frame was superseded). */
  release(p: Prepared): void {
    this.inUse.delete(p.tensor);
  }

  /** Runs a prepared input; its buffer is free again afterwards. */
  async infer(p: Prepared): Promise<OutputTensor> {
    this.inUse.add(p.tensor);
    try {
      const out = await this.runner.run(p.tensor, p.dims);
      const t = out[this.spec.outputName] ?? Object.values(out)[0];
      if (!t) throw new Error('the model returned no output');
      if (t.dims[0] !== p.dims[0]) throw new Error(`the model returned a batch of ${t.dims[0]} for ${p.dims[0]} inputs`);
      return t;
    } finally {
      this.inUse.delete(p.tensor);
    }
  }

  /** Candidates for one batch item, in model-input pixels. */
  private decodeOne(out: OutputTensor, batch: number): Candidates {
    const ctx: DecodeContext = { thresholds: this.thresholds, grid: this.grid };
    return decode(this.spec.format, out, batch, ctx);
  }

  finish(out: OutputTensor, params: readonly LetterboxParams[]): Detection[][] {
    const labels = this.spec.labels;
    return params.map((p, b) => {
      const c = this.decodeOne(out, b);
      const keep = this.spec.format === 'end2end' ? orderByScore(c).slice(0, this.nmsOptions.maxDetections) : nms(c, this.nmsOptions);
      const dets: Detection[] = keep.map((i) => ({
        box: unletterboxBox(c.boxes.slice(4 * i, 4 * i + 4), p),
        score: c.scores[i],
        classId: c.classIds[i],
        label: labels[c.classIds[i]] ?? `class${c.classIds[i]}`,
      }));
      return applyGeometryFilters(dets, this.filters, p.srcWidth, p.srcHeight);
    });
  }

  async detect(frames: readonly SourceImage[], now?: () => number): Promise<DetectResult> {
    const t0 = now?.() ?? 0;
    const p = this.prepare(frames);
    const t1 = now?.() ?? 0;
    const out = await this.infer(p);
    const t2 = now?.() ?? 0;
    const detections = this.finish(out, p.params);
    const t3 = now?.() ?? 0;
    return now ? { detections, timing: { preprocessMs: t1 - t0, inferenceMs: t2 - t1, postprocessMs: t3 - t2 } } : { detections };
  }
}

/** End-to-end models did their own NMS; keep their boxes, best first, capped like NMS would. */
function orderByScore(c: Candidates): number[] {
  return c.scores.map((_, i) => i).sort((a, b) => c.scores[b] - c.scores[a] || a - b);
}

/** Splits a list into runs of at most `size` (batching frames of several cameras). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new Error(`batch size must be a whole number ≥ 1, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
