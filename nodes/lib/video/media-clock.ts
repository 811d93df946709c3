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
  /** The file's frame interval, when one was seen (ms). */
  stepMs?: number;
}

const usable = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

export class MediaClock {
  private base = 0;
  private last = -Infinity;
  /** The interval between a file's frames, once two have been seen. */
  private step: number | undefined;
  /** The previous file frame's media time in this run. */
  private prevMedia: number | undefined;

  /** `saved`: a snapshot() from before (node context); anything else starts at 0. */
  constructor(saved?: unknown) {
    const s = saved as Partial<MediaClockState> | null | undefined;
    if (s && usable(s.lastTMs)) this.last = s.lastTMs;
    if (s && usable(s.stepMs) && s.stepMs > 0) this.step = s.stepMs;
  }

  /**
   * Never give out a time before `tMs` (the newest time another record holds: the frame store keeps
   * each camera's over a redeploy). Ignored when undefined or not later than what the clock has.
   */
  continueAfter(tMs: number | undefined): void {
    if (usable(tMs) && tMs > this.last) this.last = tMs;
  }

  /**
   * A new ffmpeg run starts: its media time 0 comes one frame after the last time given out (the
   * file's own frame interval once seen, else `frameMs`), or at 0 when none was.
   */
  startRun(frameMs: number): void {
    this.base = this.last > -Infinity ? this.last + (this.step ?? frameMs) : 0;
    this.prevMedia = undefined;
  }

  /** A file frame: media time `mediaMs` since this run started → its time on the camera's timeline. */
  fileTime(mediaMs: number): number {
    if (this.prevMedia !== undefined && mediaMs > this.prevMedia) this.step = mediaMs - this.prevMedia;
    this.prevMedia = mediaMs;
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
    if (this.last === -Infinity) return undefined;
    return this.step === undefined ? { lastTMs: this.last } : { lastTMs: this.last, stepMs: this.step };
  }
}
