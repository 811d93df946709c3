/**
 * Bounds on what one message may cost. A vision frame comes from anywhere (a function node, MQTT,
 * a buggy upstream stage), so every node that takes detections first passes them through
 * `boundDetections`: entries that are not a detection with a box are skipped and counted, and beyond
 * `maxDetections` the lowest-scored ones are dropped, counted, before any other work. Whatever a
 * node does per detection afterwards is then bounded by the cap, not by the message. Pure.
 */
import { Detection } from './types';

/** What every node's "max detections per frame" defaults to: far above a real scene, far below a hang. */
export const DEFAULT_MAX_DETECTIONS = 1000;
/** The editor's range for the cap. */
export const MAX_DETECTIONS_LIMIT = 100_000;
/** A label longer than this is cut (a class name is a few words; a megabyte label is a bug upstream). */
export const MAX_LABEL_CHARS = 200;

export interface BoundOptions {
  /** Detections kept at most; the lowest-scored beyond it are dropped. */
  maxDetections: number;
}

export interface BoundedDetections {
  /** The detections to work on, in their original order (the input array itself when nothing changed). */
  detections: Detection[];
  /** Dropped because the frame had more than maxDetections valid ones. */
  overCap: number;
  /** Skipped: not an object, or no box of four finite numbers with x2 > x1 and y2 > y1. */
  invalid: number;
  /** Why the first skipped entry was skipped (for a status or a warning), e.g. "detection 3: box has 3 values, not 4". */
  firstInvalid?: string;
}

/** Why a detection is unusable, or undefined when it is fine. Cheap: no allocation for a good one. */
export function detectionProblem(d: unknown): string | undefined {
  if (d === null || typeof d !== 'object' || Array.isArray(d)) return d === null ? 'null' : `${Array.isArray(d) ? 'an array' : `a ${typeof d}`}, not an object`;
  const b = (d as Detection).box as unknown;
  if (!Array.isArray(b)) return 'no box [x1, y1, x2, y2]';
  if (b.length !== 4) return `box has ${b.length} values, not 4`;
  for (let k = 0; k < 4; k++) {
    const v = b[k];
    if (typeof v !== 'number') return `box has a ${typeof v} in it`;
    if (!Number.isFinite(v)) return `box has ${String(v)}`;
  }
  if (!(b[2] > b[0] && b[3] > b[1])) return 'box is empty or inverted (x2 ≤ x1 or y2 ≤ y1)';
  return undefined;
}

/** A detection's score for ranking: a detector that gives none is taken as sure (as the tracker does). */
function rankScore(d: Detection): number {
  return typeof d.score === 'number' && Number.isFinite(d.score) ? d.score : 1;
}

/**
 * The valid detections of one frame, at most `maxDetections` of them (the highest-scored; ties keep
 * the earlier one), in their original order. Labels longer than MAX_LABEL_CHARS are cut on a copy.
 * O(n) for a frame under the cap, O(n log n) over it. Never mutates its arguments.
 */
export function boundDetections(input: readonly unknown[], options: BoundOptions): BoundedDetections {
  const max = options.maxDetections;
  let invalid = 0;
  let firstInvalid: string | undefined;
  let valid: Detection[] | null = null; // allocated only once something is skipped or changed
  for (let i = 0; i < input.length; i++) {
    const d = input[i];
    const why = detectionProblem(d);
    if (why !== undefined) {
      if (invalid++ === 0) firstInvalid = `detection ${i}: ${why}`;
      if (!valid) valid = input.slice(0, i) as Detection[];
      continue;
    }
    let det = d as Detection;
    if (typeof det.label === 'string' && det.label.length > MAX_LABEL_CHARS) {
      det = { ...det, label: det.label.slice(0, MAX_LABEL_CHARS) };
      if (!valid) valid = input.slice(0, i) as Detection[];
    }
    if (valid) valid.push(det);
  }
  const all = valid ?? (input as Detection[]);
  if (all.length <= max) return { detections: all, overCap: 0, invalid, ...(firstInvalid ? { firstInvalid } : {}) };

  // Over the cap: keep the `max` highest scores. The cut-off is the max-th highest score; everything
  // above it stays, and as many at it as fit, earliest first.
  const scores = new Float64Array(all.length);
  for (let i = 0; i < all.length; i++) scores[i] = rankScore(all[i]);
  const sorted = Float64Array.from(scores).sort();
  const cut = sorted[all.length - max];
  let above = 0;
  for (let i = 0; i < all.length; i++) if (scores[i] > cut) above++;
  let atCut = max - above;
  const kept: Detection[] = [];
  for (let i = 0; i < all.length; i++) {
    const s = scores[i];
    if (s > cut) kept.push(all[i]);
    else if (s === cut && atCut > 0) {
      kept.push(all[i]);
      atCut--;
    }
  }
  return { detections: kept, overCap: all.length - kept.length, invalid, ...(firstInvalid ? { firstInvalid } : {}) };
}

/** 12340 → "12 340": counts in a status line. */
export function groupDigits(n: number): string {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

type DropKind = 'overCap' | 'invalid' | 'evictedCameras';

const DROP_TEXT: Record<DropKind, string> = { overCap: 'over cap dropped', invalid: 'bad skipped', evictedCameras: 'cameras evicted' };

/**
 * Running totals of what a node skipped and dropped, for its status line:
 * "· 12 340 over cap dropped · 3 bad skipped · 2 cameras evicted", the kind that last grew first
 * (a status line is cut at 60 characters: what just happened must be in it).
 */
export class DropCounts {
  overCap = 0;
  invalid = 0;
  /** Cameras whose state was evicted (over the camera cap). */
  evictedCameras = 0;
  private order: DropKind[] = [];

  add(b: Pick<BoundedDetections, 'overCap' | 'invalid'>): void {
    if (b.invalid) this.grow('invalid', b.invalid);
    if (b.overCap) this.grow('overCap', b.overCap);
  }

  /** n more cameras evicted. */
  evicted(n: number): void {
    if (n > 0) this.grow('evictedCameras', n);
  }

  text(): string {
    return this.order.map((k) => ` · ${groupDigits(this[k])} ${DROP_TEXT[k]}`).join('');
  }

  private grow(k: DropKind, n: number): void {
    this[k] += n;
    this.order = [k, ...this.order.filter((o) => o !== k)];
  }
}
