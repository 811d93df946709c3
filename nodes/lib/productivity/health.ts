/**
 * Model health: the rolling mean detection confidence per camera. When it stays below a threshold
 * for a sustained period the model has probably drifted (lighting changed, camera moved, a new kind of
 * scene): one 'drift-warning' is raised, and one 'drift-cleared' when the mean recovers.
 * Frames with no detections say nothing about confidence and are not counted.
 */

export interface HealthOptions {
  /** Rolling window for the mean confidence. */
  windowMs: number;
  /** Mean confidence below this counts as low. */
  threshold: number;
  /** How long the mean must stay low before a warning. */
  sustainMs: number;
}

export const DEFAULT_HEALTH: HealthOptions = { windowMs: 60000, threshold: 0.5, sustainMs: 600000 };

export function validateHealth(o: Partial<HealthOptions>): HealthOptions {
  const h = { ...DEFAULT_HEALTH, ...o };
  if (!(h.windowMs > 0)) throw new Error(`health windowMs must be > 0, got ${h.windowMs}`);
  if (!(h.threshold >= 0 && h.threshold <= 1)) throw new Error(`drift threshold must be within 0..1, got ${h.threshold}`);
  if (!(h.sustainMs >= 0)) throw new Error(`drift sustainMs must be ≥ 0, got ${h.sustainMs}`);
  return h;
}

export interface HealthEvent {
  event: 'drift-warning' | 'drift-cleared';
  tMs: number;
  meanConfidence: number;
  /** Since when the mean has been low (warning) or how long it was low (cleared). */
  lowSinceMs: number;
}

interface Bucket {
  sec: number;
  sum: number;
  n: number;
}

export interface MonitorSnapshot {
  buckets: Bucket[];
  lowSince: number | null;
  warned: boolean;
}

/** One per camera. Confidence is kept in one-second buckets, so memory is bounded by the window. */
export class ConfidenceMonitor {
  private opts: HealthOptions;
  private readonly buckets: Bucket[] = [];
  private sum = 0;
  private n = 0;
  private lowSince: number | null = null;
  private warned = false;

  constructor(opts: Partial<HealthOptions> = {}) {
    this.opts = validateHealth(opts);
  }

  configure(opts: Partial<HealthOptions>): void {
    this.opts = validateHealth({ ...this.opts, ...opts });
  }

  snapshot(): MonitorSnapshot {
    return { buckets: this.buckets.map((b) => ({ ...b })), lowSince: this.lowSince, warned: this.warned };
  }

  /** Takes over a snapshot's window; a malformed one is ignored (the window fills again). */
  restore(snap: MonitorSnapshot): void {
    if (!snap || !Array.isArray(snap.buckets) || !snap.buckets.every((b) => b && [b.sec, b.sum, b.n].every(Number.isFinite))) return;
    this.buckets.length = 0;
    this.sum = 0;
    this.n = 0;
    for (const b of snap.buckets) {
      this.buckets.push({ sec: b.sec, sum: b.sum, n: b.n });
      this.sum += b.sum;
      this.n += b.n;
    }
    this.lowSince = typeof snap.lowSince === 'number' && Number.isFinite(snap.lowSince) ? snap.lowSince : null;
    this.warned = snap.warned === true;
  }

  get mean(): number | null {
    return this.n ? this.sum / this.n : null;
  }

  get drifting(): boolean {
    return this.warned;
  }

  /** Adds one frame's detection scores at time t; returns a warning/cleared event when one is due. */
  observe(tMs: number, scores: readonly number[]): HealthEvent | null {
    const sec = Math.floor(tMs / 1000);
    for (const s of scores) {
      if (!Number.isFinite(s)) continue;
      let b = this.buckets[this.buckets.length - 1];
      if (!b || b.sec < sec) {
        b = { sec, sum: 0, n: 0 };
        this.buckets.push(b);
      }
      // A late frame's scores go into the newest bucket: the mean is approximate by design.
      b.sum += s;
      b.n++;
      this.sum += s;
      this.n++;
    }
    const oldest = Math.floor((tMs - this.opts.windowMs) / 1000);
    while (this.buckets.length && this.buckets[0].sec <= oldest) {
      const b = this.buckets.shift()!;
      this.sum -= b.sum;
      this.n -= b.n;
    }
    if (this.n === 0) this.sum = 0; // no floating-point residue once the window is empty
    if (!scores.length) return null;
    const m = this.mean;
    if (m === null) return null;
    if (m < this.opts.threshold) {
      if (this.lowSince === null) this.lowSince = tMs;
      if (!this.warned && tMs - this.lowSince >= this.opts.sustainMs) {
        this.warned = true;
        return { event: 'drift-warning', tMs, meanConfidence: m, lowSinceMs: this.lowSince };
      }
    } else {
      const since = this.lowSince;
      this.lowSince = null;
      if (this.warned && since !== null) {
        this.warned = false;
        return { event: 'drift-cleared', tMs, meanConfidence: m, lowSinceMs: since };
      }
    }
    return null;
  }
}
