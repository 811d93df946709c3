/**
 * Collects line-protocol lines from many messages into batches, by size; the caller flushes on its
 * own timer for the time bound. Each message's token (its done callback, say) rides with its lines,
 * so the caller learns which messages a batch carried once the batch is durable.
 */

export interface TakenBatch<T> {
  body: string;
  points: number;
  items: T[];
}

export interface BatcherOptions {
  /** Flush once this many points are waiting. Default 1000. */
  maxPoints?: number;
}

export class Batcher<T> {
  readonly maxPoints: number;
  private lines: string[] = [];
  private items: T[] = [];

  constructor(opts: BatcherOptions = {}) {
    const maxPoints = opts.maxPoints ?? 1000;
    if (!Number.isInteger(maxPoints) || maxPoints < 1) throw new Error(`batcher: maxPoints must be an integer >= 1, got ${maxPoints}`);
    this.maxPoints = maxPoints;
  }

  /** Adds one message's lines; true when the batch is full and should be flushed now. */
  add(lines: readonly string[], item: T): boolean {
    for (const l of lines) this.lines.push(l);
    this.items.push(item);
    return this.lines.length >= this.maxPoints;
  }

  get points(): number {
    return this.lines.length;
  }

  get isEmpty(): boolean {
    return this.items.length === 0;
  }

  /** Everything waiting, as one batch; the batcher is empty afterwards. */
  take(): TakenBatch<T> | null {
    if (this.items.length === 0) return null;
    const b = { body: this.lines.join('\n'), points: this.lines.length, items: this.items };
    this.lines = [];
    this.items = [];
    return b;
  }
}
