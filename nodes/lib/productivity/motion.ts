/**
 * The activity signal: frame differencing inside a worker's box. Grey values are compared at every
 * `step`-th pixel in x and y between the previous frame of the camera and this one, and the fraction
 * of sampled pixels that changed by more than `pixelThreshold` grey levels is the reading (so it is
 * normalised by box area). Reads the store's pixels in place: no copies, no allocation per box.
 */
import { Box, Frame } from '../types';

export interface MotionOptions {
  /** Sample every step-th pixel in x and y (4 → 1/16 of the pixels). */
  step: number;
  /** Grey-level change (0..255) that makes a pixel count as changed; above sensor noise. */
  pixelThreshold: number;
}

export const DEFAULT_MOTION: MotionOptions = { step: 4, pixelThreshold: 25 };

function greyAt(d: Uint8Array, i: number, format: Frame['ref']['format']): number {
  if (format === 'gray8') return d[i];
  const p = i * 3;
  // Integer BT.601 luma weights (77, 150, 29) / 256; R and B swap for bgr24.
  return format === 'rgb24' ? (77 * d[p] + 150 * d[p + 1] + 29 * d[p + 2]) >> 8 : (29 * d[p] + 150 * d[p + 1] + 77 * d[p + 2]) >> 8;
}

/**
 * Fraction (0..1) of sampled pixels inside `box` that changed between `prev` and `cur`, or null when
 * the frames cannot be compared (different size or format, or the box misses the frame).
 */
export function motionFraction(prev: Frame, cur: Frame, box: Box, opts: MotionOptions = DEFAULT_MOTION): number | null {
  const { width: w, height: h, format } = cur.ref;
  if (prev.ref.width !== w || prev.ref.height !== h || prev.ref.format !== format) return null;
  const step = Math.max(1, Math.floor(opts.step));
  const x1 = Math.max(0, Math.floor(box[0]));
  const y1 = Math.max(0, Math.floor(box[1]));
  const x2 = Math.min(w, Math.ceil(box[2]));
  const y2 = Math.min(h, Math.ceil(box[3]));
  if (x2 <= x1 || y2 <= y1) return null;
  const a = prev.data;
  const b = cur.data;
  let n = 0;
  let changed = 0;
  for (let y = y1; y < y2; y += step) {
    const row = y * w;
    for (let x = x1; x < x2; x += step) {
      const i = row + x;
      n++;
      if (Math.abs(greyAt(a, i, format) - greyAt(b, i, format)) > opts.pixelThreshold) changed++;
    }
  }
  return n ? changed / n : null;
}

/**
 * Exponential moving average in time (not in samples), so the smoothing does not change with the
 * frame rate: weight of the new reading = 1 − exp(−Δt / tau).
 */
export function emaOverTime(prev: number | undefined, prevMs: number | undefined, value: number, tMs: number, tauMs: number): number {
  if (prev === undefined || prevMs === undefined || tauMs <= 0) return value;
  const dt = Math.max(0, tMs - prevMs);
  const a = 1 - Math.exp(-dt / tauMs);
  return prev + a * (value - prev);
}
