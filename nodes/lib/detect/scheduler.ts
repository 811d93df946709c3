/**
 * Keeps the inference sessions busy: while batches are in the sessions (worker threads), the next
 * batch of waiting frames is letterboxed on this thread, so preprocessing overlaps inference instead
 * of adding to it. Up to `inFlight` batches run at once (one per session of a pool; the detector's
 * `parallel`), at most one more is prepared. Frames that wait beyond that stay with the caller
 * (vision-detect keeps only the newest per camera), so a prepared batch is never older than one
 * inference.
 *
 * Batching against a deadline (`batchWaitMs` > 0, for a model that takes several frames a run): when
 * fewer frames wait than a batch holds, the scheduler waits up to that long, from the moment the
 * first of them could have been prepared, for more cameras' frames to fill the batch, then runs what
 * it has. 0 (the default) prepares whatever waits at once.
 *
 * The scheduler owns no frames and no clock: `take` hands it the next batch, `deliver` and `fail`
 * get the results, `now` (optional) times the stages, `timers` (optional) schedules the deadline.
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
  /** How many frames wait (for the batch deadline); without it the deadline is never waited for. */
  waiting?: () => number;
  /** Timers for the batch deadline (default: the global setTimeout/clearTimeout). */
  timers?: { set(fn: () => void, ms: number): unknown; clear(handle: unknown): void };
}

export interface SchedulerOptions {
  /** Batches in the sessions at once; default the detector's `parallel` (sessions in its pool). */
  inFlight?: number;
  /** Longest wait for a batch to fill (ms); 0 runs what waits at once. Default 0. */
  batchWaitMs?: number;
}

interface Staged<J> {
  jobs: J[];
  prepared: Prepared;
  preprocessMs: number;
}

export function validateSchedulerOptions(o: SchedulerOptions, parallel: number): Required<SchedulerOptions> {
  const inFlight = o.inFlight ?? parallel;
  if (!Number.isInteger(inFlight) || inFlight < 1 || inFlight > 64) throw new Error(`runs in flight must be a whole number from 1 to 64, got ${inFlight}`);
  const batchWaitMs = o.batchWaitMs ?? 0;
  if (!Number.isFinite(batchWaitMs) || batchWaitMs < 0 || batchWaitMs > 1000) throw new Error(`batch wait must be 0–1000 ms, got ${batchWaitMs}`);
  return { inFlight, batchWaitMs };
}

export class DetectScheduler<J> {
  private readonly running = new Set<Promise<void>>();
  private staged: Staged<J> | null = null;
  private stopped = false;
  private readonly options: Required<SchedulerOptions>;
  /** The batch deadline's timer while one is pending, and whether it has passed. */
  private deadline: unknown = null;
  private deadlinePassed = false;

  constructor(
    private readonly detector: Detector,
    private readonly hooks: SchedulerHooks<J>,
    options: SchedulerOptions = {},
  ) {
    this.options = validateSchedulerOptions(options, detector.parallel);
  }

  /** Call whenever a frame arrives (or the detector becomes ready): fills the pipeline. */
  kick(): void {
    if (this.stopped) return;
    this.stage();
    this.start();
  }

  /** True while a batch is running or prepared. */
  get busy(): boolean {
    return this.running.size > 0 || this.staged !== null;
  }

  /** Batches in the sessions now. */
  get inFlight(): number {
    return this.running.size;
  }

  /**
   * Stops taking frames and resolves once the batches in the sessions have finished (their results
   * are still delivered). A prepared batch that never ran goes to `onDropped`.
   */
  async stop(onDropped: (jobs: J[]) => void = () => undefined): Promise<void> {
    this.stopped = true;
    this.clearDeadline();
    if (this.staged) {
      const s = this.staged;
      this.staged = null;
      this.detector.release(s.prepared);
      onDropped(s.jobs);
    }
    while (this.running.size) await Promise.all([...this.running]);
  }

  private time(): number {
    return this.hooks.now ? this.hooks.now() : 0;
  }

  private clearDeadline(): void {
    if (this.deadline !== null) (this.hooks.timers?.clear ?? clearTimeout)(this.deadline as ReturnType<typeof setTimeout>);
    this.deadline = null;
    this.deadlinePassed = false;
  }

  /**
   * With a batch deadline: true while a batch should wait for more frames (fewer wait than it holds
   * and the deadline has not passed); starts the deadline on the first such call.
   */
  private holdForBatch(): boolean {
    const wait = this.options.batchWaitMs;
    const max = this.detector.maxBatch;
    if (wait <= 0 || max <= 1 || !this.hooks.waiting || this.deadlinePassed) return false;
    const n = this.hooks.waiting();
    if (n === 0 || n >= max) return false;
    if (this.deadline === null) {
      const set = this.hooks.timers?.set ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
      this.deadline = set(() => {
        this.deadline = null;
        this.deadlinePassed = true;
        this.kick();
      }, wait);
    }
    return true;
  }

  /** Letterboxes the next waiting batch into a free input buffer, unless one is already prepared. */
  private stage(): void {
    while (!this.staged && !this.stopped) {
      if (this.holdForBatch()) return;
      const batch = this.hooks.take(this.detector.maxBatch);
      this.clearDeadline();
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

  /** Starts prepared batches while a session is free; when one ends, decodes it and keeps going. */
  private start(): void {
    while (this.running.size < this.options.inFlight && this.staged) {
      const s = this.staged;
      this.staged = null;
      const t1 = this.time();
      const run: Promise<void> = this.detector.infer(s.prepared).then(
        (out) => {
          const t2 = this.time();
          // A session is free: hand it the next batch before decoding this one.
          this.running.delete(run);
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
          this.running.delete(run);
          this.hooks.fail(s.jobs, e);
          this.kick();
        },
      );
      this.running.add(run);
      // While this batch runs, prepare the next one on this thread.
      this.stage();
    }
  }
}
