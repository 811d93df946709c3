/**
 * When a file replayed as fast as possible must wait for the stages reading its pixels.
 *
 * The slowest named reader (frame-store.ts, `get(ref, reader)`: detect, a motion reading) sets the
 * pace, so a replay processes every frame instead of outrunning the pipeline and dropping most of
 * them. Following the fastest reader instead would let a view wired beside detect hurry the source
 * past detect. A reader whose position has not moved for `giveUpMs` has stopped (disabled, failing,
 * sent nothing) and no longer holds the source back until it reads again; otherwise one silent
 * reader would slow the replay to a frame per give-up period.
 *
 * Pure: the store's positions and the wall-clock time are passed in.
 */
export interface ReplayPacerOptions {
  /** Frames the source may decode ahead of the slowest active reader before it waits. */
  maxAhead: number;
  /** A reader whose position has not moved for this long (ms) is not waited for. */
  giveUpMs: number;
}

export const REPLAY_PACER_DEFAULTS: Readonly<ReplayPacerOptions> = Object.freeze({ maxAhead: 2, giveUpMs: 2000 });

export class ReplayPacer {
  private readonly options: ReplayPacerOptions;
  /** Each reader's last known position and when (wall clock) it last moved. */
  private readonly readers = new Map<string, { seq: number; movedMs: number }>();

  constructor(options: Partial<ReplayPacerOptions> = {}) {
    this.options = { ...REPLAY_PACER_DEFAULTS, ...options };
  }

  /** The position of the slowest reader that is still reading, or undefined when none is. */
  slowest(positions: ReadonlyMap<string, number>, nowMs: number): number | undefined {
    for (const [reader, seq] of positions) {
      const known = this.readers.get(reader);
      if (!known || seq > known.seq) this.readers.set(reader, { seq, movedMs: nowMs });
    }
    for (const reader of this.readers.keys()) if (!positions.has(reader)) this.readers.delete(reader);
    let min: number | undefined;
    for (const r of this.readers.values()) {
      if (nowMs - r.movedMs <= this.options.giveUpMs && (min === undefined || r.seq < min)) min = r.seq;
    }
    return min;
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
