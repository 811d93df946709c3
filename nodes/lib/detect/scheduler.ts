/**
 * Keeps the inference session busy: while one batch is in the session (a worker thread), the next
 * batch of waiting frames is letterboxed on this thread, so preprocessing overlaps inference instead
 * of adding to it. Depth two: one batch running, at most one prepared. Frames that wait beyond that
 * stay with the caller (vision-detect keeps only the newest per camera), so a prepared batch is never
 * older than one inference.
 *
 * The scheduler owns no frames and no clock: `take` hands it the next batch, `deliver` and `fail`
 * get the results, `now` (optional) times the stages.
 */
import { Detection } from '../types';
import { DetectTiming, Detector, Prepared } from './detector';
import { SourceImage } from './letterbox';

export interface SchedulerHooks<J> {
  /** The next batch of waiting frames (at most `max`), or null when none wait. */
  take(max: number): { jobs: J[]; frames: SourceImage[] } | null;
  /** One batch done: detections per job, in job order. */
  deliver(jobs: J[], detections: Detection[][], timing: DetectTiming): void;
  /** One batch failed (preprocessing, inference or decoding); the scheduler goes on with the next. */
  fail(jobs: J[], error: Error): void;
  now?: () => number;
}

interface Staged<J> {
  jobs: J[];
  prepared: Prepared;
  preprocessMs: number;
}

export class DetectScheduler<J> {
  private running: Promise<void> | null = null;
  private staged: Staged<J> | null = null;
  private stopped = false;

  constructor(
    private readonly detector: Detector,
    private readonly hooks: SchedulerHooks<J>,
  ) {}

  /** Call whenever a frame arrives (or the detector becomes ready): fills the pipeline. */
  kick(): void {
    if (this.stopped) return;
    this.stage();
    this.start();
  }

  /** True while a batch is running or prepared. */
  get busy(): boolean {
    return this.running !== null || this.staged !== null;
  }

  /**
   * Stops taking frames and resolves once the batch in the session has finished (its results are
   * still delivered). A prepared batch that never ran goes to `onDropped`.
   */
  async stop(onDropped: (jobs: J[]) => void = () => undefined): Promise<void> {
    this.stopped = true;
    if (this.staged) {
      const s = this.staged;
      this.staged = null;
      this.detector.release(s.prepared);
      onDropped(s.jobs);
    }
    while (this.running) await this.running;
  }

  private time(): number {
    return this.hooks.now ? this.hooks.now() : 0;
  }

  /** Letterboxes the next waiting batch into a free input buffer, unless one is already prepared. */
  private stage(): void {
    while (!this.staged && !this.stopped) {
      const batch = this.hooks.take(this.detector.maxBatch);
      if (!batch || batch.jobs.length === 0) return;
      const t0 = this.time();
      try {
        const prepared = this.detector.prepare(batch.frames);
        this.staged = { jobs: batch.jobs, prepared, preprocessMs: this.time() - t0 };
      } catch (e) {
        // A frame that cannot be letterboxed (wrong size for its bytes): fail it, try the next.
        this.hooks.fail(batch.jobs, e as Error);
      }
    }
  }

  /** Starts the prepared batch if the session is free; when it ends, decodes it and keeps going. */
  private start(): void {
    if (this.running || !this.staged) return;
    const s = this.staged;
    this.staged = null;
    const t1 = this.time();
    this.running = this.detector.infer(s.prepared).then(
      (out) => {
        const t2 = this.time();
        // The session is free: hand it the next batch before decoding this one.
        this.running = null;
        this.kick();
        let detections: Detection[][];
        try {
          detections = this.detector.finish(out, s.prepared.params);
        } catch (e) {
          this.hooks.fail(s.jobs, e as Error);
          return;
        }
        this.hooks.deliver(s.jobs, detections, { preprocessMs: s.preprocessMs, inferenceMs: t2 - t1, postprocessMs: this.time() - t2 });
      },
      (e: Error) => {
        this.running = null;
        this.hooks.fail(s.jobs, e);
        this.kick();
      },
    );
    // While this batch runs, prepare the next one on this thread.
    this.stage();
  }
}
