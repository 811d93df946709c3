/**
 * Which crops are good enough to describe a person: big enough, not heavily covered by another box
 * (the crop would describe two people), and not cut by the frame edge (half a person). A bad sample
 * averaged into a track's embedding drags it towards someone else, so it is skipped instead.
 */
import { Box } from '../types';

export interface QualityOptions {
  /** Smallest box height in pixels. */
  minHeight: number;
  /** Smallest box width in pixels. */
  minWidth: number;
  /** Largest fraction of the box's area covered by any one other box. */
  maxOverlap: number;
  /** A box closer than this many pixels to the frame edge counts as cut. */
  edgeMargin: number;
}

export const DEFAULT_QUALITY: Readonly<QualityOptions> = Object.freeze({ minHeight: 64, minWidth: 20, maxOverlap: 0.3, edgeMargin: 2 });

export function resolveQualityOptions(o: Partial<QualityOptions> = {}): QualityOptions {
  const r = { ...DEFAULT_QUALITY, ...o };
  for (const k of ['minHeight', 'minWidth', 'edgeMargin'] as const) {
    if (typeof r[k] !== 'number' || !Number.isFinite(r[k]) || r[k] < 0)
      throw new Error(`quality option ${k} must be a number ≥ 0, got ${JSON.stringify(r[k])}`);
  }
  if (typeof r.maxOverlap !== 'number' || !(r.maxOverlap >= 0 && r.maxOverlap <= 1))
    throw new Error(`quality option maxOverlap must be in [0, 1], got ${JSON.stringify(r.maxOverlap)}`);
  return r;
}

export type QualityVerdict = 'ok' | 'small' | 'overlapped' | 'edge';

/** Fraction of `a`'s area that `b` covers. */
export function coveredFraction(a: Box, b: Box): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const area = (a[2] - a[0]) * (a[3] - a[1]);
  return area > 0 ? (w * h) / area : 0;
}

/** The verdict for each box of one frame (the other boxes are the possible occluders). */
export function judgeQuality(boxes: readonly Box[], width: number, height: number, o: QualityOptions = DEFAULT_QUALITY): QualityVerdict[] {
  return boxes.map((b, i) => {
    if (b[3] - b[1] < o.minHeight || b[2] - b[0] < o.minWidth) return 'small';
    if (b[0] < o.edgeMargin || b[1] < o.edgeMargin || b[2] > width - o.edgeMargin || b[3] > height - o.edgeMargin) return 'edge';
    for (let j = 0; j < boxes.length; j++) {
      if (j !== i && coveredFraction(b, boxes[j]) > o.maxOverlap) return 'overlapped';
    }
    return 'ok';
  });
}
