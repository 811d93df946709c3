/**
 * When a file replayed as fast as possible must wait for the stages reading its pixels.
 *
 * The slowest named reader (frame-store.ts, `get(ref, reader)`: detect, a motion reading) sets the
 * pace, so a replay processes every frame instead of outrunning the pipeline and dropping most of
 * them. Following the fastest reader instead would let a view wired beside detect hurry the source
 * past detect. A reader whose position has not moved for `giveUpMs` has stopped (disabled, failing,
 * sent nothing) and no longer holds the source back until it reads again; otherwise one silent
 * reader would slow the replay to a frame per give-up period. A reader that is merely slow (a large
 * model on a small CPU, seconds a frame) must not be taken for a stopped one, so the give-up time
 * stretches to `slowFactor` times its own recent time between reads, up to `maxGiveUpMs` (and is
 * `firstStepGiveUpMs` before a reader's second read, when its pace is not known yet).
 *
 * Pure: the store's positions and the wall-clock time are passed in.
 */
export interface ReplayPacerOptions {
  /** Frames the source may decode ahead of the slowest active reader before it waits. */
  maxAhead: number;
  /** A reader whose position has not moved for this long (ms) is not waited for, unless it is slow (below). */
  giveUpMs: number;
  /** A slow reader is waited for up to this many times its recent time between reads... */
  slowFactor: number;
  /** ...but never longer than this (ms). */
  maxGiveUpMs: number;
  /**
   * A reader that has read only one frame has no pace yet; it is waited for this long (ms), so a
   * detector slower than giveUpMs is not outrun between its first and second frame.
   */
  firstStepGiveUpMs: number;
}

export const REPLAY_PACER_DEFAULTS: Readonly<ReplayPacerOptions> = Object.freeze({
  maxAhead: 2,
  giveUpMs: 2000,
  slowFactor: 4,
  maxGiveUpMs: 60000,
  firstStepGiveUpMs: 10000,
});

/** Weight of a reader's newest time between reads in its running figure: a few reads settle it. */
const STEP_WEIGHT = 0.3;

interface ReaderPace {
  seq: number;
  movedMs: number;
  moved: boolean;
  stepMs: number;
}

export class ReplayPacer {
  private readonly options: ReplayPacerOptions;
  /**
   * Each reader's last known position, when (wall clock) it last moved, whether it has moved since
   * it was first seen, and its smoothed time between in-order reads (NaN while unknown).
   */
  private readonly readers = new Map<string, ReaderPace>();

  constructor(options: Partial<ReplayPacerOptions> = {}) {
    this.options = { ...REPLAY_PACER_DEFAULTS, ...options };
  }

  /** The position of the slowest reader that is still reading, or undefined when none is. */
  slowest(positions: ReadonlyMap<string, number>, nowMs: number): number | undefined {
    for (const [reader, seq] of positions) {
      const known = this.readers.get(reader);
      if (!known) this.readers.set(reader, { seq, movedMs: nowMs, moved: false, stepMs: NaN });
      else if (seq > known.seq) {
        const step = nowMs - known.movedMs;
        // Only a step to one of the next frames is the reader's pace: it was held to within maxAhead
        // of them and took this long. A jump further means it was not reading in order (frames
        // filtered out before it, or the replay ran on without it), and a silence past its give-up
        // time means it had stopped; neither may stretch how long the replay waits for it. (Its
        // first step counts even past giveUpMs: a reader slow from the start must learn its pace.)
        const inOrder = seq - known.seq <= this.options.maxAhead + 1;
        const wasStopped = !Number.isNaN(known.stepMs) && step > this.giveUpAfter(known);
        if (inOrder && !wasStopped) known.stepMs = Number.isNaN(known.stepMs) ? step : (1 - STEP_WEIGHT) * known.stepMs + STEP_WEIGHT * step;
        known.seq = seq;
        known.movedMs = nowMs;
        known.moved = true;
      }
    }
    for (const reader of this.readers.keys()) if (!positions.has(reader)) this.readers.delete(reader);
    let min: number | undefined;
    for (const r of this.readers.values()) {
      if (nowMs - r.movedMs <= this.giveUpAfter(r) && (min === undefined || r.seq < min)) min = r.seq;
    }
    return min;
  }

  /** How long this reader may be silent before it counts as stopped. */
  private giveUpAfter(r: ReaderPace): number {
    const o = this.options;
    if (!r.moved) return Math.max(o.giveUpMs, o.firstStepGiveUpMs);
    if (Number.isNaN(r.stepMs)) return o.giveUpMs;
    return Math.max(o.giveUpMs, Math.min(o.maxGiveUpMs, o.slowFactor * r.stepMs));
  }

  /** After storing frame `seq`: should the source pause? */
  shouldWait(seq: number, positions: ReadonlyMap<string, number>, nowMs: number): boolean {
    const s = this.slowest(positions, nowMs);
    return s !== undefined && seq - s > this.options.maxAhead;
  }

  /** While paused after frame `seq`: may it go on? Once the slowest has nearly caught up, or stopped. */
  mayResume(seq: number, positions: ReadonlyMap<string, number>, nowMs: number): boolean {
    const s = this.slowest(positions, nowMs);
    return s === undefined || seq - s <= 1;
  }
}
