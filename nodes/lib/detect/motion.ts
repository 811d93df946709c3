/**
 * Motion-gated detection (as Frigate does it): a cheap picture difference per camera decides whether
 * the detector needs to run on a frame. Each frame is reduced to a small grey thumbnail (cells of the
 * frame, each the mean of a few sampled pixels); it is compared with the thumbnail of the last frame
 * the detector ran on. When too few cells changed, nothing in the picture has moved since that
 * detection and the frame is skipped: vision-track carries its tracks through it on their Kalman
 * prediction. A frame older than `maxSkipS` since the last detection is always detected, so a worker
 * who stands still is re-detected regularly and a change the difference missed is caught.
 *
 * Comparing with the last *detected* frame, not the previous one, means slow movement adds up until
 * it is seen, instead of hiding under the threshold frame after frame. Per camera, pure: the caller
 * passes the pixels and the frame time.
 */
import { PixelFormat } from '../types';

export interface MotionGateOptions {
  /** Thumbnail width in cells (its height follows the frame's aspect). More cells see smaller things. */
  cells: number;
  /** A cell whose grey level (0..255) moved more than this since the last detection counts as changed. */
  threshold: number;
  /** Share of the cells (0..1) that must change for the frame to be detected. */
  minArea: number;
  /** Seconds (frame time) after which a frame is detected whatever the difference says. */
  maxSkipS: number;
  /**
   * Frames detected in a row after a detection whose count of objects differs from the one before
   * (someone appeared or left), so that a new track is confirmed as fast as without gating (the
   * tracker's minHits − 1; vision-track's default needs 2 hits in a row).
   */
  confirmFrames: number;
}

export const MOTION_DEFAULTS: Readonly<MotionGateOptions> = Object.freeze({ cells: 64, threshold: 12, minArea: 0.002, maxSkipS: 1, confirmFrames: 1 });

export function resolveMotionOptions(o: Partial<Record<keyof MotionGateOptions, unknown>> = {}): MotionGateOptions {
  const r = { ...MOTION_DEFAULTS, ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) } as Record<string, unknown>;
  const num = (k: keyof MotionGateOptions, min: number, max: number, int = false) => {
    const v = r[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (int && !Number.isInteger(v))) {
      throw new Error(`motion option ${k} must be ${int ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${String(v)}`);
    }
  };
  num('cells', 8, 512, true);
  num('threshold', 1, 255);
  num('minArea', 0, 1);
  num('maxSkipS', 0, 3600);
  num('confirmFrames', 0, 100, true);
  for (const k of Object.keys(r)) if (!(k in MOTION_DEFAULTS)) throw new Error(`unknown motion option ${k}`);
  return r as unknown as MotionGateOptions;
}

export interface MotionDecision {
  /** Run the detector on this frame. */
  detect: boolean;
  /**
   * Why: 'first' (no earlier detection of this size), 'motion', 'max-skip', 'confirm' (the count of
   * objects just changed: detected again so that new tracks confirm), or 'still' (skipped).
   */
  reason: 'first' | 'motion' | 'max-skip' | 'confirm' | 'still';
  /** Share of cells changed since the last detected frame (0..1; 1 for 'first'). */
  changed: number;
}

/** Sampled pixels per cell side: 3×3 points per cell keep the cost flat whatever the frame size. */
const SAMPLES = 3;

export class MotionGate {
  readonly options: MotionGateOptions;
  private ref: Uint8Array | null = null;
  private cur: Uint8Array | null = null;
  private refKey = '';
  private lastDetectMs = -Infinity;
  private skipped = 0;
  private detected = 0;
  private lastCount = -1;
  private confirmLeft = 0;

  constructor(options: Partial<Record<keyof MotionGateOptions, unknown>> = {}) {
    this.options = resolveMotionOptions(options);
  }

  /**
   * Decides for one frame. A detected frame becomes the new reference, so call this once per frame,
   * in frame order, and run the detector when `detect` is true.
   */
  decide(data: Uint8Array, width: number, height: number, tMs: number, format: PixelFormat = 'rgb24'): MotionDecision {
    const o = this.options;
    const cw = Math.min(o.cells, width);
    const ch = Math.max(1, Math.min(height, Math.round((cw * height) / width)));
    const key = `${width}x${height}:${format}`;
    if (!this.cur || this.cur.length !== cw * ch) this.cur = new Uint8Array(cw * ch);
    thumbnail(data, width, height, format, cw, ch, this.cur);
    let d: MotionDecision;
    if (!this.ref || this.refKey !== key || tMs < this.lastDetectMs) d = { detect: true, reason: 'first', changed: 1 };
    else {
      let n = 0;
      const a = this.cur;
      const b = this.ref;
      for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > o.threshold) n++;
      const changed = n / a.length;
      if (changed > o.minArea || (o.minArea === 0 && n > 0)) d = { detect: true, reason: 'motion', changed };
      else if (tMs - this.lastDetectMs >= o.maxSkipS * 1000) d = { detect: true, reason: 'max-skip', changed };
      else if (this.confirmLeft > 0) d = { detect: true, reason: 'confirm', changed };
      else d = { detect: false, reason: 'still', changed };
    }
    if (d.detect) {
      if (this.confirmLeft > 0) this.confirmLeft--;
      // The detected frame is the new reference: swap the buffers instead of copying.
      const t = this.ref;
      this.ref = this.cur;
      this.cur = t && t.length === this.ref.length ? t : null;
      this.refKey = key;
      this.lastDetectMs = tMs;
      this.detected++;
    } else this.skipped++;
    return d;
  }

  /**
   * The detector's answer for a frame this gate let through: how many objects it found. When that
   * differs from the last answer, the next `confirmFrames` frames are detected whatever the difference
   * says (a new track needs hits in a row to be confirmed). Answers may come a frame or two late.
   */
  found(count: number): void {
    if (count !== this.lastCount) this.confirmLeft = this.options.confirmFrames;
    this.lastCount = count;
  }

  /** Forget the reference (a reset, a restarted source): the next frame is detected. */
  reset(): void {
    this.lastCount = -1;
    this.confirmLeft = 0;
    this.ref = null;
    this.refKey = '';
    this.lastDetectMs = -Infinity;
  }

  stats(): { detected: number; skipped: number } {
    return { detected: this.detected, skipped: this.skipped };
  }
}

/** The grey thumbnail: each cell the mean luma of SAMPLES² pixels spread over it. */
export function thumbnail(data: Uint8Array, width: number, height: number, format: PixelFormat, cw: number, ch: number, out: Uint8Array): Uint8Array {
  const bpp = format === 'gray8' ? 1 : 3;
  if (data.length < width * height * bpp) throw new Error(`motion: ${data.length} bytes is not a ${width}×${height} ${format} frame`);
  // Luma weights (BT.601, /256) in the frame's channel order.
  const [wr, wg, wb] = format === 'bgr24' ? [29, 150, 77] : [77, 150, 29];
  for (let cy = 0; cy < ch; cy++) {
    const y0 = Math.floor((cy * height) / ch);
    const y1 = Math.floor(((cy + 1) * height) / ch);
    for (let cx = 0; cx < cw; cx++) {
      const x0 = Math.floor((cx * width) / cw);
      const x1 = Math.floor(((cx + 1) * width) / cw);
      let sum = 0;
      for (let sy = 0; sy < SAMPLES; sy++) {
        const y = y0 + Math.floor(((2 * sy + 1) * (y1 - y0)) / (2 * SAMPLES));
        const row = y * width;
        for (let sx = 0; sx < SAMPLES; sx++) {
          const x = x0 + Math.floor(((2 * sx + 1) * (x1 - x0)) / (2 * SAMPLES));
          const p = (row + x) * bpp;
          sum += bpp === 1 ? data[p] : (wr * data[p] + wg * data[p + 1] + wb * data[p + 2]) >> 8;
        }
      }
      out[cy * cw + cx] = Math.round(sum / (SAMPLES * SAMPLES));
    }
  }
  return out;
}

/**
 * Keeps a camera's frames in order when some skip the detector: a still frame may leave at once only
 * when no earlier frame of its camera is still waiting for or in the detector; otherwise it is held
 * (the newest one per camera) and leaves when the last of them is done. A frame that is detected
 * supersedes a held still frame (newest wins, as in the detector's own queue).
 */
export class SkipOutbox<J> {
  private readonly pending = new Map<string, number>();
  private readonly held = new Map<string, J>();

  /** A frame of `camera` went to the detector. */
  queued(camera: string): void {
    this.pending.set(camera, (this.pending.get(camera) ?? 0) + 1);
  }

  /** A frame of `camera` left the detector (sent or dropped): the held still frame, if it may go now. */
  finished(camera: string): J | undefined {
    const n = (this.pending.get(camera) ?? 0) - 1;
    if (n > 0) {
      this.pending.set(camera, n);
      return undefined;
    }
    this.pending.delete(camera);
    const j = this.held.get(camera);
    this.held.delete(camera);
    return j;
  }

  /** A still frame: `now` when nothing of its camera is ahead of it; else held, returning the frame it replaces. */
  still(camera: string, job: J): { now: boolean; replaced?: J } {
    if (!this.pending.get(camera)) return { now: true };
    const replaced = this.held.get(camera);
    this.held.set(camera, job);
    return { now: false, replaced };
  }

  /** A newer frame of `camera` goes to the detector: the held still frame, to be completed unsent. */
  supersede(camera: string): J | undefined {
    const j = this.held.get(camera);
    this.held.delete(camera);
    return j;
  }

  /** Everything held (the node closes). */
  drain(): J[] {
    const all = [...this.held.values()];
    this.held.clear();
    this.pending.clear();
    return all;
  }

  get size(): number {
    return this.held.size;
  }
}
