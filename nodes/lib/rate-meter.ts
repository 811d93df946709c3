/**
 * Frames per second as people mean it: frames delivered over a window of wall time (the last 5 s by
 * default), not an average of instantaneous rates (which a burst of frames arriving together, or a
 * paced replay, pushes far off). One meter per camera; the caller passes the time in.
 */
export interface RateMeterOptions {
  /** The window, in ms (default 5000). Longer is steadier; shorter follows a change sooner. */
  windowMs?: number;
}

export class RateMeter {
  readonly windowMs: number;
  /** Times of the ticks still inside the window, oldest first (from `head`). */
  private times: number[] = [];
  private head = 0;
  /** The first tick since the meter started or was reset. */
  private firstMs = NaN;

  constructor(options: RateMeterOptions = {}) {
    const w = options.windowMs ?? 5000;
    if (!Number.isFinite(w) || w <= 0) throw new Error(`rate meter windowMs must be a number > 0, got ${w}`);
    this.windowMs = w;
  }

  /** One frame delivered at `nowMs`. */
  tick(nowMs: number): void {
    if (Number.isNaN(this.firstMs)) this.firstMs = nowMs;
    this.times.push(nowMs);
    this.evict(nowMs);
  }

  /**
   * Frames per second at `nowMs`: the frames of the last window over the window; before a whole
   * window has passed since the first tick, the frames after the first over the time since it (so
   * the first figures are not inflated by counting the first frame against no time). 0 with fewer
   * than two frames, or once no frame has arrived for a whole window.
   */
  rate(nowMs: number): number {
    this.evict(nowMs);
    const n = this.times.length - this.head;
    const elapsed = nowMs - this.firstMs;
    if (!(elapsed > 0)) return 0;
    if (elapsed < this.windowMs) return n >= 2 ? ((n - 1) * 1000) / elapsed : 0;
    return (n * 1000) / this.windowMs;
  }

  /** Start again (the source restarted): the old frames say nothing about the new rate. */
  reset(): void {
    this.times = [];
    this.head = 0;
    this.firstMs = NaN;
  }

  private evict(nowMs: number): void {
    const from = nowMs - this.windowMs;
    while (this.head < this.times.length && this.times[this.head] <= from) this.head++;
    // Compact now and then rather than shift() per frame.
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }
}
