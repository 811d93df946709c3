/**
 * The node pipeline without Node-RED: detections → Tracker → (the frame as vision-track sends it)
 * → Counter (+ track-end events) → station KPIs, one frame at a time, each stage with its node's
 * default settings. `edgevision run`, `edgevision bench count-accuracy` (both modes) and
 * `trackAndCount` all go through `CountingPipeline`, and `runRecording` adds decoding and detection
 * in front of it, so every figure they print is what the nodes would count.
 */
import { CountingOptions } from '../counting/config';
import { Counter, CounterUpdate, DirectionCounts } from '../counting/counter';
import { ProductivityOptions } from '../productivity/options';
import { StationKpiRun, StationTotals } from '../productivity/replay';
import { annotateDetections, coastedDetections } from '../tracking/annotate';
import { MotionGateOptions } from '../detect/motion';
import { Tracker, TrackerOptionsInput, VISION_TRACK_DEFAULTS } from '../tracking/tracker';
import { Detection, VisionEvent } from '../types';

export interface PipelineSettings {
  /** Lines (and zones) as the line-count node stores them: `{"lines":[{"name","start","end"}]}`, normalised. */
  geometry: unknown;
  /** Counting options over the line-count node's defaults. */
  counting?: Partial<Record<keyof CountingOptions, unknown>>;
  /** Tracker options; default: the vision-track node's (VISION_TRACK_DEFAULTS). `{}` = the engine's own defaults. */
  tracker?: TrackerOptionsInput;
  /** Station zones as the productivity-state node stores them; with them, station KPIs are computed too. */
  stations?: unknown;
  /** Productivity options over the productivity-state node's defaults. */
  productivity?: Partial<Record<keyof ProductivityOptions, unknown>>;
}

export interface PipelineResult {
  counts: Record<string, DirectionCounts>;
  /** Only with `stations`: per station over the run, from its first to its last frame. */
  stations?: Record<string, StationTotals>;
  frames: number;
  firstMs: number;
  lastMs: number;
  /** Events of the end of the stream (crossings completed as the last tracks end, zone exits). */
  endEvents: VisionEvent[];
}

export class CountingPipeline {
  private readonly tracker: Tracker;
  private readonly counter: Counter;
  private readonly kpis: StationKpiRun | undefined;
  private frames = 0;
  private firstMs = NaN;
  private lastMs = NaN;
  private finished = false;

  constructor(settings: PipelineSettings) {
    this.tracker = new Tracker(settings.tracker ?? VISION_TRACK_DEFAULTS);
    this.counter = new Counter(settings.geometry, settings.counting ?? {});
    this.kpis = settings.stations !== undefined ? new StationKpiRun(settings.stations, settings.productivity ?? {}) : undefined;
  }

  /**
   * One frame: its detections (as vision-detect sends them), frame time, size and, for the motion
   * signal of station KPIs, its rgb24 pixels. Returns the tracked detections and the counter update.
   */
  step(detections: readonly Detection[], tMs: number, width: number, height: number, pixels?: Uint8Array): { detections: Detection[]; counter: CounterUpdate } {
    if (this.finished) throw new Error('pipeline: step after finish');
    const u = this.tracker.update(detections, tMs);
    const tracked = annotateDetections(detections, u.tracks);
    const counter = this.counter.update(tracked, tMs, width, height);
    // vision-track's track-end events reach line-count after the frame (its second output).
    for (const e of u.ended) counter.events.push(...this.counter.endTrack(e.trackId, tMs));
    this.kpis?.push({ tMs, width, height, detections: tracked, pixels });
    if (this.frames === 0) this.firstMs = tMs;
    this.lastMs = tMs;
    this.frames++;
    return { detections: tracked, counter };
  }

  /**
   * A frame the detector skipped (motion-gated detection): tracks ride their Kalman prediction, as
   * vision-track does with a frame whose `motion.skipped` is set. Same result shape as step().
   */
  coast(tMs: number, width: number, height: number, pixels?: Uint8Array): { detections: Detection[]; counter: CounterUpdate } {
    if (this.finished) throw new Error('pipeline: coast after finish');
    const tracked = coastedDetections(this.tracker.coast(tMs));
    const counter = this.counter.update(tracked, tMs, width, height);
    this.kpis?.push({ tMs, width, height, detections: tracked, pixels });
    if (this.frames === 0) this.firstMs = tMs;
    this.lastMs = tMs;
    this.frames++;
    return { detections: tracked, counter };
  }

  /** Each station's state now (with `stations`): what vision-view colours a station by. */
  stationStates(): Record<string, { state: string }> | undefined {
    return this.kpis?.report()?.stations;
  }

  /** The stream is over: tracks end at the last frame (crossings in its last frames complete) and totals are read. */
  finish(): PipelineResult {
    const endEvents = !this.finished && this.frames > 0 ? this.counter.endAll(this.lastMs) : [];
    this.finished = true;
    const r: PipelineResult = { counts: this.counter.counts(), frames: this.frames, firstMs: this.firstMs, lastMs: this.lastMs, endEvents };
    if (this.kpis) r.stations = this.kpis.result().stations;
    return r;
  }
}

export interface RecordingOptions extends PipelineSettings {
  /** A video file (or any source ffmpeg reads), decoded as camera-source does with realtime off. */
  source: string;
  /** Detection model: a manifest name (yolox_nano) or an .onnx path. */
  model: string;
  /** Sample at most this many frames per second (default: every frame). */
  fps?: number;
  /** Execution providers: "auto" (the default: what this machine has) or a list in order, e.g. "cuda,cpu". */
  providers?: string;
  /** ONNX Runtime intra-op threads (default 0 = one per core). */
  threads?: number;
  /** Motion-gated detection (vision-detect's option): frames with no motion are not detected. */
  motion?: Partial<MotionGateOptions>;
  /**
   * Called after each frame (progress, per-frame output); `raw` is the detector's output before
   * tracking, `frame` the decoded rgb24 picture, `pipeline` the pipeline (station states). The next
   * frame waits for a returned promise (an encoder's back-pressure).
   */
  onFrame?: (
    index: number,
    tMs: number,
    step: { detections: Detection[]; counter: CounterUpdate },
    raw: Detection[],
    frame: { data: Uint8Array; width: number; height: number },
    pipeline: CountingPipeline,
    /** With `motion`: the detector skipped this frame (nothing moved) and tracks rode their prediction. */
    skipped: boolean,
  ) => void | Promise<void>;
  /** With `motion`: how many frames were detected and skipped, at the end. */
  onMotion?: (stats: { detected: number; skipped: number }) => void;
}

/**
 * A whole recording through decode → detect (vision-detect's defaults) → `CountingPipeline`.
 * The model session is released on every path.
 */
export async function runRecording(o: RecordingOptions): Promise<PipelineResult> {
  // Loaded here, not at the top: the counting and benchmark paths without video need neither
  // onnxruntime nor ffmpeg.

  const { acquireModel, releaseModel } = require('../model/loader') as typeof import('../model/loader');
  const { Detector } = require('../detect/detector') as typeof import('../detect/detector');
  const { readFrames } = require('../video/ffmpeg-source') as typeof import('../video/ffmpeg-source');
  const { parseProviders } = require('../onnx/session') as typeof import('../onnx/session');
  const { MotionGate } = require('../detect/motion') as typeof import('../detect/motion');

  const pipeline = new CountingPipeline(o); // settings are validated before the model loads
  const user = `edgevision-run-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const loaded = await acquireModel(
    { model: o.model, format: 'auto', providers: parseProviders(o.providers ?? 'auto'), intraOpNumThreads: o.threads ?? 0 },
    user,
  );
  try {
    const detector = new Detector(loaded.session.runner, loaded.spec, {});
    const gate = o.motion ? new MotionGate(o.motion) : null;
    // Each frame's buffer is reused once the loop moves on, unless station KPIs keep the previous
    // frame to difference the next one against.
    const reuseBuffers = o.stations === undefined;
    for await (const f of readFrames({ url: o.source, fps: o.fps, realtime: false, loop: false, reuseBuffers })) {
      if (gate && !gate.decide(f.data, f.width, f.height, f.tMs).detect) {
        const s = pipeline.coast(f.tMs, f.width, f.height, f.data);
        await o.onFrame?.(f.index, f.tMs, s, [], f, pipeline, true);
        continue;
      }
      const r = await detector.detect([{ data: f.data, width: f.width, height: f.height, format: 'rgb24' }]);
      gate?.found(r.detections[0].length);
      const s = pipeline.step(r.detections[0], f.tMs, f.width, f.height, f.data);
      await o.onFrame?.(f.index, f.tMs, s, r.detections[0], f, pipeline, false);
    }
    if (gate) o.onMotion?.(gate.stats());
  } finally {
    await releaseModel(loaded.key, user);
  }
  return pipeline.finish();
}
