/**
 * Counting accuracy: crossings of ground-truth tracks (the reference, counted under the same
 * once-per-track rule, re-link off because gt ids never switch) against crossings counted from a
 * tracker's output. Error per line = |Δin| + |Δout|; the headline is total absolute error / total gt
 * crossings.
 */
import { CountingOptions } from './config';
import { MotTrackFile, replayMot } from './mot';

export interface LineAccuracy {
  line: string;
  gtIn: number;
  gtOut: number;
  in: number;
  out: number;
  absError: number;
  gtTotal: number;
}

export function compareCounts(
  gt: MotTrackFile,
  tracked: MotTrackFile,
  geometry: unknown,
  width: number,
  height: number,
  fps: number,
  options: Partial<Record<keyof CountingOptions, unknown>> = {},
): LineAccuracy[] {
  const ref = replayMot(gt, geometry, width, height, fps, { ...options, relinkS: 0 }).counts;
  const est = replayMot(tracked, geometry, width, height, fps, options).counts;
  return Object.keys(ref).map((line) => {
    const g = ref[line];
    const e = est[line];
    return { line, gtIn: g.in, gtOut: g.out, in: e.in, out: e.out, absError: Math.abs(e.in - g.in) + Math.abs(e.out - g.out), gtTotal: g.in + g.out };
  });
}

/** Σ|error| / Σ gt crossings (0 when there were no gt crossings and no errors). */
export function relativeError(rows: readonly LineAccuracy[]): number {
  const err = rows.reduce((s, r) => s + r.absError, 0);
  const tot = rows.reduce((s, r) => s + r.gtTotal, 0);
  return tot > 0 ? err / tot : err > 0 ? Infinity : 0;
}
