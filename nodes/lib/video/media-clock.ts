/**
 * A camera's frame times. Live sources use the wall clock. A file's frames use media time (frame index
 * ÷ frame rate), which starts at 0 with every ffmpeg process; the clock keeps it increasing over
 * restarts (a loop, a reconnect, a `restart` command, a new URL) by starting each run one frame after
 * the last time it gave out. Its state is one number, so the camera node keeps it in node context and
 * a replay's time keeps increasing over a redeploy or a Node-RED restart as well: downstream state
 * that persists (line-count totals, productivity KPIs) never sees time run backwards. Pure.
 */
export interface MediaClockState {
  /** The last frame time given out (ms). */
  lastTMs: number;
}

export class MediaClock {
  private base = 0;
  private last = -Infinity;

  /** `saved`: a snapshot() from before (node context); anything else starts at 0. */
  constructor(saved?: unknown) {
    const t = (saved as MediaClockState | undefined)?.lastTMs;
    if (typeof t === 'number' && Number.isFinite(t) && t >= 0) this.last = t;
  }

  /**
   * A new ffmpeg run starts: its media time 0 comes one frame (`frameMs`) after the last time given
   * out, or at 0 when none was.
   */
  startRun(frameMs: number): void {
    this.base = this.last > -Infinity ? this.last + frameMs : 0;
  }

  /** A file frame: media time `mediaMs` since this run started → its time on the camera's timeline. */
  fileTime(mediaMs: number): number {
    const t = this.base + mediaMs;
    this.last = Math.max(this.last, t);
    return t;
  }

  /** A live frame: the wall clock, as it is (remembered, so a file after it continues from there). */
  liveTime(wallMs: number): number {
    this.last = Math.max(this.last, wallMs);
    return wallMs;
  }

  /** What to keep in context; undefined before the first frame. */
  snapshot(): MediaClockState | undefined {
    return this.last > -Infinity ? { lastTMs: this.last } : undefined;
  }
}
