/**
 * Counting accuracy: crossings of ground-truth tracks (the reference, counted under the same
 * once-per-track rule, re-link off because gt ids never switch) against crossings counted from a
 * tracker's output. Error per line = |Δin| + |Δout|; the headline is total absolute error / total gt
 * crossings.
 */
import { iou } from '../geometry';
import { mulberry32 } from '../random';
import { CountingPipeline } from './pipeline';
import { TrackerOptionsInput } from '../tracking/tracker';
import { Detection } from '../types';
import { Direction } from '../counting/config';
import { DirectionCounts } from '../counting/counter';
import { CountingScene, countMotTracks, MotTrackFile, TrackCountResult } from './count-mot';

export interface LineAccuracy {
  line: string;
  gtIn: number;
  gtOut: number;
  in: number;
  out: number;
  absError: number;
  gtTotal: number;
}

/** The reference: the gt tracks' crossings under the scene's rules, with re-link off (gt ids never switch). */
export function gtCounts(gt: MotTrackFile, scene: CountingScene): TrackCountResult {
  return countMotTracks(gt, { ...scene, counting: { ...scene.counting, relinkS: 0 } });
}

/** Per line rows of reference counts (`gtCounts`) against counts to judge. */
export function compareWith(reference: Record<string, DirectionCounts>, counts: Record<string, DirectionCounts>): LineAccuracy[] {
  return Object.keys(reference).map((line) => {
    const g = reference[line];
    const e = counts[line] ?? { in: 0, out: 0 };
    return { line, gtIn: g.in, gtOut: g.out, in: e.in, out: e.out, absError: Math.abs(e.in - g.in) + Math.abs(e.out - g.out), gtTotal: g.in + g.out };
  });
}

/** Σ|error| / Σ gt crossings (0 when there were no gt crossings and no errors). */
export function relativeError(rows: readonly LineAccuracy[]): number {
  const err = rows.reduce((s, r) => s + r.absError, 0);
  const tot = rows.reduce((s, r) => s + r.gtTotal, 0);
  return tot > 0 ? err / tot : err > 0 ? Infinity : 0;
}

/**
 * Whose boxes a bound counts on: the gt's (where the detector found that person), or the detector's
 * own box for that person, carrying the gt identity.
 */
export type BoundBoxes = 'gt' | 'detector';

/**
 * The ground truth a perfect tracker could see: gt boxes matched one-to-one (greedy, highest IoU
 * first, IoU ≥ minIou) to a detection of the same frame. Three people walking as one blob give one
 * detection, so only one of them stays. Counting on it separates what the detector never saw from
 * what tracking and counting lost. With `boxes` 'detector', each kept row has the matched detection's
 * box instead of the gt box (same gt identity, same frames).
 */
export function detectedOnly(gt: MotTrackFile, detections: MotTrackFile, minIou = 0.5, boxes: BoundBoxes = 'gt'): MotTrackFile {
  const frames = gt.frames.map((list, f) => {
    const dets = detections.frames[f] ?? [];
    const pairs: [number, number, number][] = [];
    list.forEach((g, gi) =>
      dets.forEach((d, di) => {
        const v = iou(g.box, d.box);
        if (v >= minIou) pairs.push([v, gi, di]);
      }),
    );
    pairs.sort((a, b) => b[0] - a[0]);
    const gUsed = new Set<number>();
    const dUsed = new Set<number>();
    const kept: Detection[] = [];
    for (const [, gi, di] of pairs) {
      if (gUsed.has(gi) || dUsed.has(di)) continue;
      gUsed.add(gi);
      dUsed.add(di);
      kept.push(boxes === 'gt' ? list[gi] : { ...list[gi], box: dets[di].box });
    }
    return kept;
  });
  return { frames, lastFrame: gt.lastFrame, rows: frames.reduce((s, l) => s + l.length, 0) };
}

/**
 * The gt crossings a tracker could have seen: those whose person was detected near the line — the
 * gt box matched one-to-one (greedy, highest IoU first, IoU ≥ minIou) to a detection of the same frame
 * in at least one frame of the `windowS` before the crossing was counted and one from then on.
 * People inside a group detected as one box, or hidden while they crossed, drop out. Counted per
 * line and direction from `reference`, the gt's own crossings (`gtCounts(gt, scene)`, which the
 * caller already has).
 */
export function detectedCrossings(
  reference: TrackCountResult,
  gt: MotTrackFile,
  detections: MotTrackFile,
  fps: number,
  { windowS = 0.5, minIou = 0.5 }: { windowS?: number; minIou?: number } = {},
): Record<string, DirectionCounts> {
  const seen = detectedOnly(gt, detections, minIou);
  const matched = (f: number, id: number) => f >= 1 && f <= seen.lastFrame && seen.frames[f].some((d) => d.trackId === id);
  const k = Math.max(1, Math.round(windowS * fps));
  const out: Record<string, DirectionCounts> = {};
  for (const line of Object.keys(reference.counts)) out[line] = { in: 0, out: 0 };
  for (const c of reference.crossings) {
    let before = false;
    let after = false;
    for (let f = c.frame - k; f < c.frame && !before; f++) before = matched(f, c.trackId);
    for (let f = c.frame; f <= c.frame + k && !after; f++) after = matched(f, c.trackId);
    if (before && after) out[c.line][c.direction as Direction]++;
  }
  return out;
}

/**
 * What a perfect tracker could count from these detections: the gt boxes and identities, kept only
 * in the frames where the detector found that person (`detectedOnly`), counted under the same rules
 * with re-link off and no timeout (a perfect tracker never loses an identity, however long the gap).
 * It separates what the detections decide from what tracking decides. It is an estimate, not a hard
 * floor: perfect identities re-find a person after any gap (a group box, an occlusion), which no
 * real tracker does reliably, while a person whose box overlaps the gt box by less than `minIou`
 * is missing from it though a tracker can still follow that box. With `boxes` 'detector' it counts
 * the detector's own boxes under the perfect identities: the detector's box geometry (feet a few
 * pixels off, a box cut short) then costs what it costs any tracker, and what is left between it and
 * a tracker's figure is identity alone.
 */
export function detectionBound(
  gt: MotTrackFile,
  detections: MotTrackFile,
  scene: CountingScene,
  minIou = 0.5,
  boxes: BoundBoxes = 'gt',
): Record<string, DirectionCounts> {
  return countMotTracks(detectedOnly(gt, detections, minIou, boxes), { ...scene, counting: { ...scene.counting, relinkS: 0, trackTimeoutS: 86400 } }).counts;
}

/**
 * The pipeline as the nodes run it, without Node-RED: detections → Tracker → Counter, frame by
 * frame (`CountingPipeline`: tentative tracks included, the counter waits for confirmation;
 * track-end events evicting; tracks ended at the last frame). Every frame 1 … lastFrame is fed at
 * (n − 1) / fps, empty ones too. `trackerOptions` default to the engine's (for the MOT det files).
 */
export function trackAndCount(detections: MotTrackFile, scene: CountingScene, trackerOptions: TrackerOptionsInput = {}): Record<string, DirectionCounts> {
  const { geometry, width, height, fps } = scene;
  const pipeline = new CountingPipeline({ geometry, counting: scene.counting ?? {}, tracker: trackerOptions });
  for (let f = 1; f <= detections.lastFrame; f++) {
    const dets: Detection[] = detections.frames[f].map((d) => ({ box: d.box, score: d.score, classId: 0, label: 'person' }));
    pipeline.step(dets, ((f - 1) * 1000) / fps, width, height);
  }
  return pipeline.finish().counts;
}

/**
 * `count` lines for judging counting on lines nobody chose: each a chord of the whole frame, through
 * a point drawn uniformly from the middle 80 % of it, at a uniformly drawn angle (normalised 0..1
 * coordinates, named r1, r2, …). Seeded (`mulberry32`), so a run can be repeated exactly; the fixture
 * and held-out line sets are few and were placed by hand, this is many and placed by nobody.
 */
export function randomLines(count: number, seed: number): { lines: { name: string; start: [number, number]; end: [number, number] }[] } {
  if (!Number.isInteger(count) || count < 0) throw new Error(`randomLines: count must be a whole number ≥ 0, got ${count}`);
  const rand = mulberry32(seed);
  const lines = [];
  for (let i = 1; i <= count; i++) {
    const px = 0.1 + 0.8 * rand();
    const py = 0.1 + 0.8 * rand();
    const a = Math.PI * rand();
    const dx = Math.cos(a);
    const dy = Math.sin(a);
    // Where the line through p leaves the unit square, both ways: the nearer border on each axis.
    const reach = (sign: number) => {
      let t = Infinity;
      if (dx !== 0) t = Math.min(t, ((sign * dx > 0 ? 1 : 0) - px) / (sign * dx));
      if (dy !== 0) t = Math.min(t, ((sign * dy > 0 ? 1 : 0) - py) / (sign * dy));
      return t;
    };
    const clamp = (v: number) => Math.min(1, Math.max(0, Math.round(v * 1e6) / 1e6));
    const tf = reach(1);
    const tb = reach(-1);
    lines.push({
      name: `r${i}`,
      start: [clamp(px - tb * dx), clamp(py - tb * dy)] as [number, number],
      end: [clamp(px + tf * dx), clamp(py + tf * dy)] as [number, number],
    });
  }
  return { lines };
}
