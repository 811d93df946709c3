/**
 * The line-crossing kernel: one track × one line, as a small state object and pure rules over it
 * (like supervision's `LineZone`, with the rules ours adds). Knows nothing of tracks, zones, re-link
 * or totals: the counter feeds it the anchor's steps and acts on what it answers.
 *
 * The rules, each for a failure users of other counters report (docs/nodes/line-count.md):
 * - dead band: an anchor within `minDistance` box heights of the line is on neither side (jitter);
 * - hysteresis: the anchor must be seen past the band `minFrames` frames before the side changes
 *   (a person standing on the line does not count);
 * - finite segment: the side change counts only if the anchor crossed inside the drawn segment;
 * - once per track: in mode "once" a track counts at most once per line and direction;
 * - cooldown: after a count, the same track and line do not count again for `cooldownS`.
 */
import { Direction, LineSpec, classAllowed } from './config';
import { Point } from '../types';

/** A line in pixels. */
export interface PixelLine {
  a: Point;
  b: Point;
  len: number;
}

/** Where one track stands with one line. */
export interface LineCrossingState {
  /** Settled side (−1 out side, +1 in side, 0 unknown): only changes once hysteresis is satisfied. */
  side: number;
  /** Sign of the last anchor position, for locating the actual crossing point. */
  rawSide: number;
  /** Where along the segment (0..1) the anchor last crossed the infinite line; NaN when unknown. */
  crossT: number;
  streak: number;
  /** Frame time of the first frame of the current streak: when the anchor got past the dead band. */
  streakMs: number;
  /** Bit 1 = in counted, bit 2 = out counted (mode "once"). */
  counted: number;
  lastCountMs: number;
  /** `crossT` was found on a re-link's bridge (the step from the predecessor's last point). */
  bridged: boolean;
}

/** One step of a track's anchor, from its last whole-box point to this frame's. */
export interface AnchorStep {
  prev: Point | undefined;
  cur: Point;
  /** This frame's box height: the dead band scales with it. */
  boxH: number;
  tMs: number;
  /** The step is a re-link's bridge (from the predecessor's last anchor to this track's first). */
  onBridge: boolean;
}

/** The options the kernel reads (a CountingOptions will do). */
export interface CrossingRules {
  minDistance: number;
  minFrames: number;
  mode: 'once' | 'every';
  cooldownS: number;
}

/** A settled side change that happened inside the segment. */
export interface Settled {
  dir: Direction;
  /** The crossing point was found on a re-link's bridge. */
  bridged: boolean;
}

export function newLineCrossingState(): LineCrossingState {
  return { side: 0, rawSide: 0, crossT: NaN, streak: 0, streakMs: 0, counted: 0, lastCountMs: -Infinity, bridged: false };
}

/** A line drawn in normalised coordinates, in pixels of a width × height frame. */
export function pixelLine(spec: LineSpec, width: number, height: number): PixelLine {
  const a: Point = [spec.start[0] * width, spec.start[1] * height];
  const b: Point = [spec.end[0] * width, spec.end[1] * height];
  return { a, b, len: Math.hypot(b[0] - a[0], b[1] - a[1]) };
}

/** Signed distance of p from the line (positive on the "in" side). */
function signedDistance(line: PixelLine, p: Point): number {
  const { a, b, len } = line;
  return ((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])) / len;
}

/**
 * Steps the anchor: notes where it crossed the infinite line, then applies the dead band and the
 * hysteresis. True when the anchor has been past the band on the other side for `minFrames` frames:
 * the caller settles the side now (`settle`).
 */
export function stepLine(st: LineCrossingState, line: PixelLine, step: AnchorStep, rules: CrossingRules): boolean {
  const { a, b, len } = line;
  const d = signedDistance(line, step.cur);
  const raw = Math.sign(d);
  if (raw !== 0) {
    const prev = step.prev;
    if (prev && st.rawSide !== 0 && raw !== st.rawSide) {
      const dp = signedDistance(line, prev);
      const f = dp / (dp - d);
      const cx = prev[0] + (step.cur[0] - prev[0]) * f;
      const cy = prev[1] + (step.cur[1] - prev[1]) * f;
      st.crossT = ((cx - a[0]) * (b[0] - a[0]) + (cy - a[1]) * (b[1] - a[1])) / (len * len);
      st.bridged = step.onBridge;
    }
    st.rawSide = raw;
  }
  const band = rules.minDistance * step.boxH;
  if (Math.abs(d) <= band || raw === 0) return false; // in the dead band: neither side yet
  if (st.side === 0 || raw === st.side) {
    st.side = raw;
    st.streak = 0;
    return false;
  }
  if (st.streak === 0) st.streakMs = step.tMs;
  st.streak++;
  return st.streak >= rules.minFrames;
}

/**
 * Hysteresis satisfied (or the track ended past the band): the side changes. Returns the crossing
 * when it happened inside the finite segment, null when the anchor passed beside it.
 */
export function settle(st: LineCrossingState): Settled | null {
  const raw = -st.side;
  st.side = raw;
  st.streak = 0;
  const inSegment = st.crossT >= 0 && st.crossT <= 1;
  const bridged = st.bridged;
  st.crossT = NaN;
  st.bridged = false;
  if (!inSegment) return null; // passed beside the segment: the side changed, nothing was crossed
  return { dir: raw > 0 ? 'in' : 'out', bridged };
}

/** The line counts this direction and this class. */
export function lineAccepts(spec: LineSpec, dir: Direction, label: string, classId: number): boolean {
  if (spec.directions !== 'both' && spec.directions !== dir) return false;
  return classAllowed(spec.classes, label, classId);
}

/** Once per track and cooldown: true (and noted) when this crossing counts, false when either rule stops it. */
export function tryCount(st: LineCrossingState, dir: Direction, tMs: number, rules: CrossingRules): boolean {
  const bit = dir === 'in' ? 1 : 2;
  if (rules.mode === 'once' && st.counted & bit) return false;
  if (tMs - st.lastCountMs < rules.cooldownS * 1000) return false;
  st.counted |= bit;
  st.lastCountMs = tMs;
  return true;
}
