/**
 * Greedy non-maximum suppression, class-aware by default: a box only suppresses boxes of its own class
 * (a person in front of a forklift keeps both). Works on the flat candidate arrays from the decoders
 * and returns the kept indices, best score first; ties keep the earlier candidate.
 */
import { Candidates } from './decode';

export interface NmsOptions {
  /** A box is dropped when its IoU with a kept, higher-scoring box of the same class exceeds this. */
  iouThreshold?: number;
  /** Suppress across classes too. */
  classAgnostic?: boolean;
  /** Keep at most this many boxes. */
  maxDetections?: number;
}

/** NMS IoU threshold unless set: the usual YOLO value (see docs/nodes/detect.md, default thresholds). */
export const DEFAULT_IOU = 0.45;

export function validateNms(o: NmsOptions = {}): Required<NmsOptions> {
  const iouThreshold = o.iouThreshold ?? DEFAULT_IOU;
  const maxDetections = o.maxDetections ?? 300;
  if (!(iouThreshold >= 0 && iouThreshold <= 1)) throw new Error(`iouThreshold must be 0–1, got ${iouThreshold}`);
  if (!Number.isInteger(maxDetections) || maxDetections < 1) throw new Error(`maxDetections must be a whole number ≥ 1, got ${maxDetections}`);
  return { iouThreshold, classAgnostic: !!o.classAgnostic, maxDetections };
}

export function nms(c: Candidates, options: NmsOptions = {}): number[] {
  const o = validateNms(options);
  const n = c.scores.length;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => c.scores[b] - c.scores[a] || a - b);
  const bx = c.boxes;
  const area = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    area[i] = Math.max(0, bx[4 * i + 2] - bx[4 * i]) * Math.max(0, bx[4 * i + 3] - bx[4 * i + 1]);
  }
  const suppressed = new Uint8Array(n);
  const keep: number[] = [];
  for (let oi = 0; oi < n && keep.length < o.maxDetections; oi++) {
    const i = order[oi];
    if (suppressed[i]) continue;
    keep.push(i);
    const ax1 = bx[4 * i],
      ay1 = bx[4 * i + 1],
      ax2 = bx[4 * i + 2],
      ay2 = bx[4 * i + 3];
    for (let oj = oi + 1; oj < n; oj++) {
      const j = order[oj];
      if (suppressed[j] || (!o.classAgnostic && c.classIds[j] !== c.classIds[i])) continue;
      const iw = Math.min(ax2, bx[4 * j + 2]) - Math.max(ax1, bx[4 * j]);
      if (iw <= 0) continue;
      const ih = Math.min(ay2, bx[4 * j + 3]) - Math.max(ay1, bx[4 * j + 1]);
      if (ih <= 0) continue;
      const inter = iw * ih;
      const union = area[i] + area[j] - inter;
      if (union > 0 && inter / union > o.iouThreshold) suppressed[j] = 1;
    }
  }
  return keep;
}
