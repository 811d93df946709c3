/**
 * A ByteTrack-style multi-object tracker (Zhang et al., "ByteTrack: Multi-Object Tracking by
 * Associating Every Detection Box", ECCV 2022), on frame timestamps.
 *
 * Per frame: every track is predicted to the frame time by a constant-velocity Kalman filter; then
 *  1. confirmed and lost tracks are matched to high-score detections (IoU, optionally fused with the
 *     score and with appearance);
 *  2. confirmed tracks still unmatched are matched to low-score detections, which keeps a track alive
 *     through a partial occlusion without ever starting a track from a weak detection;
 *  3. tentative tracks are matched to the high-score detections left over;
 *  4. high-score detections still left start tentative tracks (if their score is high enough);
 *  5. tentative tracks that missed a frame are dropped, confirmed ones become lost, and lost ones
 *     older than the lost buffer (seconds, from frame times) are removed.
 * A tentative track is confirmed after `minHits` consecutive matches.
 *
 * Each association scores only the pairs its gate can admit (boxes that overlap, found by a sweep over
 * x, unless the gate also admits disjoint boxes) and solves each connected group of tracks and
 * detections on its own: exactly (Hungarian) while the work stays within a budget, greedily (cheapest
 * pair first) beyond it. A scene of people gives small groups and the exact answer; a flood of
 * identical boxes costs a bounded amount instead of O(n³).
 *
 * Ids are counted per tracker instance. All per-track state lives in one map and is deleted when the
 * track is removed, so memory is bounded by the number of live tracks.
 */
import { Box, Detection, Point, TrackState } from '../types';
import { boxCenter, iou } from '../geometry';
import { Vec, emaUpdate, l2normalise } from '../vector';
import { solveAssignment } from './assignment';
import { KalmanBoxFilter, KalmanParams, KalmanState, boxToMeasurement, meanToBox } from './kalman';

export interface AppearanceOptions {
  /** Use cosine distance between `Detection.embedding` and the track's smoothed embedding. */
  enabled: boolean;
  /** Appearance distance (cosine distance / 2, 0..1) above which appearance is ignored for a pair. */
  threshold: number;
  /** IoU distance (1 − IoU) above which appearance is ignored: far-apart look-alikes never match. */
  proximity: number;
  /** Weight of the old embedding in the track's exponential moving average (0..1). */
  momentum: number;
}

export interface TrackerOptions {
  /** Detections at or above this score are "high": they are matched first and can start tracks. */
  highThreshold: number;
  /** Detections below this score are ignored; between low and high they only keep tracks alive. */
  lowThreshold: number;
  /** A high detection left unmatched starts a tentative track only at or above this score. */
  newTrackThreshold: number;
  /** Largest cost (1 − IoU, or fused) accepted when matching tracks to high detections. */
  matchThreshold: number;
  /** Largest cost (1 − IoU) accepted when matching confirmed tracks to low detections. */
  lowMatchThreshold: number;
  /** Largest cost accepted when matching tentative tracks to the high detections left over. */
  tentativeMatchThreshold: number;
  /** Consecutive matches before a tentative track is confirmed (1 = at once). */
  minHits: number;
  /** Seconds a confirmed track survives without a match (lost) before it is removed. */
  lostBufferS: number;
  /** Only match a track to detections of its own class. */
  classAware: boolean;
  /** Multiply IoU by the detection score in the first association (ByteTrack's MOT17 setting). */
  fuseScore: boolean;
  appearance: AppearanceOptions;
  kalman: Partial<KalmanParams>;
  /** First track id; a replacement tracker continues its predecessor's count with this. */
  firstId: number;
  /**
   * Lost tracks kept at most; beyond it the longest-unseen ones end early (reason "lost"). A real
   * scene has a few dozen; this bounds the work of a frame after a flood of one-frame detections.
   */
  maxLostTracks: number;
}

/**
 * One set of defaults for every scene (see docs/nodes/track.md, "Defaults"). In short:
 * - score split: ByteTrack's 0.6 / 0.1 / 0.7 assume a detector that reports down to 0.1. The MOT det
 *   files we are judged on hold only scores ≥ 0.5, and there a detection under 0.9 is more often
 *   false than true (precision against gt < 50 % in every 0.05 band below 0.9), so only ≥ 0.9 starts
 *   a track, 0.8–0.9 can also be matched first, and everything from 0.1 may keep a track alive;
 * - minHits 2: ByteTrack's activation (a new track must be seen again in the next frame);
 * - lost buffer 2 s: ByteTrack's 30 frames are 1 s at 30 fps; in seconds it holds at any frame rate,
 *   and 1–3 s score within 0.1 MOTA of each other; 2 s bridges a person walking behind another;
 * - matching gates: ByteTrack's (IoU ≥ 0.2 first, ≥ 0.5 for weak boxes, ≥ 0.3 for tentative tracks).
 */
export const DEFAULT_TRACKER_OPTIONS: Readonly<TrackerOptions> = Object.freeze({
  highThreshold: 0.8,
  lowThreshold: 0.1,
  newTrackThreshold: 0.9,
  matchThreshold: 0.8,
  lowMatchThreshold: 0.5,
  tentativeMatchThreshold: 0.7,
  minHits: 2,
  lostBufferS: 2,
  classAware: true,
  fuseScore: false,
  appearance: Object.freeze({ enabled: false, threshold: 0.25, proximity: 0.5, momentum: 0.9 }),
  kalman: Object.freeze({}),
  firstId: 1,
  maxLostTracks: 1000,
}) as Readonly<TrackerOptions>;

export type TrackerOptionsInput = Partial<Omit<TrackerOptions, 'appearance'>> & { appearance?: Partial<AppearanceOptions> };

/**
 * What the vision-track node runs with when its editor fields are left empty, on top of
 * DEFAULT_TRACKER_OPTIONS. Score thresholds follow the detector's calibration, so these are those of
 * the pipeline's default detector, YOLOX-Nano, measured on TUD-Campus/Stadtmitte: its person
 * detections are ≥ 98 % right from 0.7 up but fewer than 1 in 10 reaches 0.9, so the engine's 0.8 /
 * 0.9 (for two-stage detectors such as the MOT det files) would leave most people untracked (MOTA
 * 31.7 vs 74.8 with these). One definition for the node, `edgevision run` and the benchmarks.
 */
export const VISION_TRACK_DEFAULTS: Readonly<TrackerOptionsInput> = Object.freeze({ highThreshold: 0.6, newTrackThreshold: 0.7 });

function num(name: string, v: unknown, lo: number, hi: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw new Error(`tracker option ${name} must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Fills defaults and checks every option; the error names the option and the allowed range. */
export function resolveTrackerOptions(input: TrackerOptionsInput = {}): TrackerOptions {
  const known = new Set(Object.keys(DEFAULT_TRACKER_OPTIONS));
  for (const k of Object.keys(input)) if (!known.has(k)) throw new Error(`unknown tracker option "${k}"; known: ${[...known].join(', ')}`);
  const d = DEFAULT_TRACKER_OPTIONS;
  const o: TrackerOptions = {
    ...d,
    ...input,
    appearance: { ...d.appearance, ...(input.appearance ?? {}) },
    kalman: { ...(input.kalman ?? {}) },
  } as TrackerOptions;
  num('highThreshold', o.highThreshold, 0, 1);
  num('lowThreshold', o.lowThreshold, 0, 1);
  num('newTrackThreshold', o.newTrackThreshold, 0, 1);
  if (o.lowThreshold > o.highThreshold) throw new Error(`tracker option lowThreshold (${o.lowThreshold}) must not exceed highThreshold (${o.highThreshold})`);
  num('matchThreshold', o.matchThreshold, 0, 1);
  num('lowMatchThreshold', o.lowMatchThreshold, 0, 1);
  num('tentativeMatchThreshold', o.tentativeMatchThreshold, 0, 1);
  num('minHits', o.minHits, 1, 1000, true);
  num('lostBufferS', o.lostBufferS, 0, 86400);
  if (typeof o.classAware !== 'boolean') throw new Error('tracker option classAware must be true or false');
  if (typeof o.fuseScore !== 'boolean') throw new Error('tracker option fuseScore must be true or false');
  if (typeof o.appearance.enabled !== 'boolean') throw new Error('tracker option appearance.enabled must be true or false');
  num('appearance.threshold', o.appearance.threshold, 0, 1);
  num('appearance.proximity', o.appearance.proximity, 0, 1);
  num('appearance.momentum', o.appearance.momentum, 0, 1);
  num('firstId', o.firstId, 1, Number.MAX_SAFE_INTEGER, true);
  num('maxLostTracks', o.maxLostTracks, 0, 1_000_000, true);
  return o;
}

/** One live track as the tracker reports it after an update. */
export interface TrackOutput {
  trackId: number;
  state: TrackState;
  /** Smoothed box (Kalman posterior) when matched this frame, else the predicted box. */
  box: Box;
  /** Index into this frame's detections array, or -1 when not matched this frame. */
  detectionIndex: number;
  score: number;
  classId: number;
  label: string;
  /** Box-centre velocity, pixels per second. */
  velocity: Point;
  firstSeenMs: number;
  lastSeenMs: number;
  ageMs: number;
  hits: number;
}

export interface TrackEvent {
  kind: 'start' | 'end';
  trackId: number;
  tMs: number;
  classId: number;
  label: string;
  firstSeenMs: number;
  lastSeenMs: number;
  /** Sum of the distances between successive matched box centres, pixels. */
  pathLengthPx: number;
  hits: number;
  /** Box when confirmed (start) or last matched (end). */
  box: Box;
  /** Why a track ended: its lost buffer ran out, or the tracker was reset. */
  reason?: 'lost' | 'reset';
}

export interface TrackerUpdate {
  tracks: TrackOutput[];
  started: TrackEvent[];
  ended: TrackEvent[];
}

interface Track {
  id: number;
  state: TrackState;
  kf: KalmanState;
  firstSeenMs: number;
  lastSeenMs: number;
  hits: number;
  score: number;
  classId: number;
  label: string;
  /** Votes per class id, so a class-agnostic track takes its most frequent class. Small, per track. */
  classVotes: Map<number, number>;
  pathLengthPx: number;
  lastBox: Box;
  /** L2-normalised, smoothed by EMA (appearance only). */
  embedding: Float32Array | null;
  detectionIndex: number;
  everConfirmed: boolean;
}

export class Tracker {
  readonly options: TrackerOptions;
  private readonly kf: KalmanBoxFilter;
  private readonly tracks = new Map<number, Track>();
  private nextId = 1;
  private lastTMs = -Infinity;

  constructor(options: TrackerOptionsInput = {}) {
    this.options = resolveTrackerOptions(options);
    this.kf = new KalmanBoxFilter(this.options.kalman);
    this.nextId = this.options.firstId;
  }

  /** Number of live tracks by state (for status lines and tests). */
  stats(): { tentative: number; confirmed: number; lost: number; total: number; nextId: number } {
    let tentative = 0;
    let confirmed = 0;
    let lost = 0;
    for (const t of this.tracks.values()) {
      if (t.state === 'tentative') tentative++;
      else if (t.state === 'confirmed') confirmed++;
      else lost++;
    }
    return { tentative, confirmed, lost, total: this.tracks.size, nextId: this.nextId };
  }

  /** Sizes of every internal collection: what a memory test watches. */
  internalSizes(): { tracks: number; classVotes: number } {
    let votes = 0;
    for (const t of this.tracks.values()) votes += t.classVotes.size;
    return { tracks: this.tracks.size, classVotes: votes };
  }

  /**
   * Ends every track (end events at tMs with `reason`, 'reset' unless the caller ends them as lost)
   * and forgets them; the next frame may have any time. Ids keep counting, so an id never names two
   * objects for downstream stages that remember ids.
   */
  reset(tMs: number, reason: 'reset' | 'lost' = 'reset'): TrackEvent[] {
    const ended: TrackEvent[] = [];
    for (const t of this.tracks.values()) if (t.everConfirmed) ended.push(this.event('end', t, tMs, reason));
    this.tracks.clear();
    this.lastTMs = -Infinity;
    return ended;
  }

  /**
   * A frame the detector skipped because nothing moved (motion-gated detection, detect/motion.ts):
   * every track is carried to tMs on its Kalman prediction, and nothing else changes — no match, no
   * miss, no confirmation, no removal (the lost buffer is judged at the next detected frame, from
   * the time each track was last seen). Returns the tracks with their predicted boxes.
   */
  coast(tMs: number): TrackOutput[] {
    if (typeof tMs !== 'number' || !Number.isFinite(tMs)) throw new Error(`tracker.coast: tMs must be a finite number, got ${String(tMs)}`);
    if (tMs < this.lastTMs) throw new RangeError(`tracker.coast: frame time went backwards (${tMs} < ${this.lastTMs}); reset the tracker first`);
    const dtS = Number.isFinite(this.lastTMs) ? (tMs - this.lastTMs) / 1000 : 0;
    this.lastTMs = tMs;
    const out: TrackOutput[] = [];
    for (const t of this.tracks.values()) {
      let mean = t.kf.mean;
      if (t.state === 'lost') mean = [...mean.slice(0, 6), 0, 0];
      t.kf = this.kf.predict(mean, t.kf.cov, dtS);
      t.detectionIndex = -1;
      out.push(this.output(t, tMs));
    }
    return out;
  }

  /** Feeds one frame's detections at frame time tMs (ms; must not go backwards). Never mutates `detections`. */
  update(detections: readonly Detection[], tMs: number): TrackerUpdate {
    if (typeof tMs !== 'number' || !Number.isFinite(tMs)) throw new Error(`tracker.update: tMs must be a finite number, got ${String(tMs)}`);
    if (tMs < this.lastTMs) throw new RangeError(`tracker.update: frame time went backwards (${tMs} < ${this.lastTMs}); reset the tracker first`);
    const o = this.options;
    const started: TrackEvent[] = [];
    const ended: TrackEvent[] = [];

    // Check every detection before any state changes, so a bad frame leaves the tracker as it was.
    const high: number[] = [];
    const low: number[] = [];
    detections.forEach((d, i) => {
      if (!d || !Array.isArray(d.box) || d.box.length !== 4 || !d.box.every(Number.isFinite)) {
        throw new Error(`tracker.update: detection ${i} needs a box [x1, y1, x2, y2] of finite numbers`);
      }
      const s = score(d);
      if (s >= o.highThreshold) high.push(i);
      else if (s >= o.lowThreshold) low.push(i);
    });

    // Predict every track to this frame's time (all Kalman states are kept at the last update's time).
    const dtS = Number.isFinite(this.lastTMs) ? (tMs - this.lastTMs) / 1000 : 0;
    this.lastTMs = tMs;
    for (const t of this.tracks.values()) {
      let mean = t.kf.mean;
      // A lost track's size should not keep growing or shrinking while nobody sees it (ByteTrack).
      if (t.state === 'lost') mean = [...mean.slice(0, 6), 0, 0];
      t.kf = this.kf.predict(mean, t.kf.cov, dtS);
      t.detectionIndex = -1;
    }

    const all = [...this.tracks.values()];
    const pool = all.filter((t) => t.state !== 'tentative');
    const tentative = all.filter((t) => t.state === 'tentative');

    // 1. Confirmed + lost tracks × high detections.
    const m1 = this.associate(pool, high, detections, o.matchThreshold, o.fuseScore, o.appearance.enabled);
    for (const [ti, di] of m1.pairs) this.matched(pool[ti], detections, high[di], tMs, started);
    const restTracks = m1.unmatchedTracks.map((i) => pool[i]).filter((t) => t.state === 'confirmed');
    const restHigh = m1.unmatchedDets.map((i) => high[i]);

    // 2. Remaining confirmed tracks × low detections: IoU only (appearance of a weak, occluded box is unreliable).
    const m2 = this.associate(restTracks, low, detections, o.lowMatchThreshold, false, false);
    for (const [ti, di] of m2.pairs) this.matched(restTracks[ti], detections, low[di], tMs, started);
    for (const i of m2.unmatchedTracks) restTracks[i].state = 'lost';

    // 3. Tentative tracks × high detections left over.
    const m3 = this.associate(tentative, restHigh, detections, o.tentativeMatchThreshold, o.fuseScore, o.appearance.enabled);
    for (const [ti, di] of m3.pairs) this.matched(tentative[ti], detections, restHigh[di], tMs, started);
    for (const i of m3.unmatchedTracks) this.tracks.delete(tentative[i].id); // never confirmed: no events

    // 4. New tentative tracks.
    for (const i of m3.unmatchedDets) {
      const di = restHigh[i];
      if (score(detections[di]) >= o.newTrackThreshold) this.start(detections, di, tMs, started);
    }

    // 5. Lost tracks past the buffer are removed, and all their state with them.
    const bufferMs = o.lostBufferS * 1000;
    const stillLost: Track[] = [];
    for (const t of all) {
      if (t.state !== 'lost') continue;
      if (tMs - t.lastSeenMs > bufferMs) {
        this.tracks.delete(t.id);
        if (t.everConfirmed) ended.push(this.event('end', t, tMs, 'lost'));
      } else stillLost.push(t);
    }
    // … and beyond maxLostTracks, the longest-unseen end early.
    if (stillLost.length > o.maxLostTracks) {
      stillLost.sort((a, b) => a.lastSeenMs - b.lastSeenMs || a.id - b.id);
      for (const t of stillLost.slice(0, stillLost.length - o.maxLostTracks)) {
        this.tracks.delete(t.id);
        if (t.everConfirmed) ended.push(this.event('end', t, tMs, 'lost'));
      }
    }

    const tracks: TrackOutput[] = [];
    for (const t of this.tracks.values()) tracks.push(this.output(t, tMs));
    return { tracks, started, ended };
  }

  private associate(
    tracks: Track[],
    detIdx: number[],
    detections: readonly Detection[],
    gate: number,
    fuseScore: boolean,
    useAppearance: boolean,
  ): { pairs: Array<[number, number]>; unmatchedTracks: number[]; unmatchedDets: number[] } {
    if (tracks.length === 0 || detIdx.length === 0) {
      return { pairs: [], unmatchedTracks: tracks.map((_, i) => i), unmatchedDets: detIdx.map((_, i) => i) };
    }
    const o = this.options;
    const boxes = tracks.map((t) => meanToBox(t.kf.mean));
    const dets = detIdx.map((i) => detections[i]);
    const costOf = (r: number, c: number): number => {
      const t = tracks[r];
      const d = dets[c];
      if (o.classAware && (d.classId ?? 0) !== t.classId) return Infinity;
      const ov = iou(boxes[r], d.box);
      let cst = fuseScore ? 1 - ov * score(d) : 1 - ov;
      // BoT-SORT's fusion: appearance can only lower the cost, and only for nearby, similar boxes.
      if (useAppearance && 1 - ov <= o.appearance.proximity && t.embedding && Array.isArray(d.embedding) && d.embedding.length === t.embedding.length) {
        const emb = cosineDistance(t.embedding, d.embedding) / 2;
        if (emb <= o.appearance.threshold) cst = Math.min(cst, emb);
      }
      return cst <= gate ? cst : Infinity;
    };
    // A pair of disjoint boxes costs 1 (IoU 0), so below a gate of 1 only overlapping boxes can match,
    // unless appearance may lower the cost of boxes that far apart.
    const overlapOnly = gate < 1 && !(useAppearance && o.appearance.proximity >= 1);
    const edges = overlapOnly
      ? overlappingPairs(
          boxes,
          dets.map((d) => d.box),
        )
      : allPairs(tracks.length, dets.length, MAX_CANDIDATES_PER_BOX);
    const er: number[] = [];
    const ec: number[] = [];
    const ew: number[] = [];
    for (let k = 0; k < edges.rows.length; k++) {
      const w = costOf(edges.rows[k], edges.cols[k]);
      if (w === Infinity || Number.isNaN(w)) continue;
      er.push(edges.rows[k]);
      ec.push(edges.cols[k]);
      ew.push(w);
    }
    const rowToCol = solveSparse(tracks.length, dets.length, er, ec, ew, gate);
    const pairs: Array<[number, number]> = [];
    const unmatchedTracks: number[] = [];
    const taken = new Uint8Array(dets.length);
    rowToCol.forEach((c, r) => {
      if (c < 0) unmatchedTracks.push(r);
      else {
        pairs.push([r, c]);
        taken[c] = 1;
      }
    });
    const unmatchedDets: number[] = [];
    for (let c = 0; c < dets.length; c++) if (!taken[c]) unmatchedDets.push(c);
    return { pairs, unmatchedTracks, unmatchedDets };
  }

  private start(detections: readonly Detection[], di: number, tMs: number, started: TrackEvent[]): void {
    const d = detections[di];
    const box = [...d.box] as Box;
    const t: Track = {
      id: this.nextId++,
      state: 'tentative',
      kf: this.kf.initiate(boxToMeasurement(box)),
      firstSeenMs: tMs,
      lastSeenMs: tMs,
      hits: 1,
      score: score(d),
      classId: d.classId ?? 0,
      label: d.label ?? '',
      classVotes: new Map([[d.classId ?? 0, 1]]),
      pathLengthPx: 0,
      lastBox: box,
      embedding: this.options.appearance.enabled && Array.isArray(d.embedding) ? l2normalise(d.embedding) : null,
      detectionIndex: di,
      everConfirmed: false,
    };
    this.tracks.set(t.id, t);
    if (this.options.minHits <= 1) this.confirm(t, tMs, started);
  }

  private matched(t: Track, detections: readonly Detection[], di: number, tMs: number, started: TrackEvent[]): void {
    const d = detections[di];
    t.kf = this.kf.update(t.kf.mean, t.kf.cov, boxToMeasurement(d.box));
    const c = boxCenter(d.box);
    const last = boxCenter(t.lastBox);
    t.pathLengthPx += Math.hypot(c[0] - last[0], c[1] - last[1]);
    t.lastBox = [...d.box] as Box;
    t.lastSeenMs = tMs;
    t.hits++;
    t.score = score(d);
    t.detectionIndex = di;
    const cls = d.classId ?? 0;
    t.classVotes.set(cls, (t.classVotes.get(cls) ?? 0) + 1);
    if (cls !== t.classId && (t.classVotes.get(cls) ?? 0) > (t.classVotes.get(t.classId) ?? 0)) {
      t.classId = cls;
      t.label = d.label ?? '';
    }
    if (this.options.appearance.enabled && Array.isArray(d.embedding)) {
      t.embedding = emaUpdate(t.embedding ?? undefined, l2normalise(d.embedding), this.options.appearance.momentum);
    }
    if (t.state === 'lost') t.state = 'confirmed';
    else if (t.state === 'tentative' && t.hits >= this.options.minHits) this.confirm(t, tMs, started);
  }

  private confirm(t: Track, tMs: number, started: TrackEvent[]): void {
    t.state = 'confirmed';
    if (!t.everConfirmed) {
      t.everConfirmed = true;
      started.push(this.event('start', t, tMs));
    }
  }

  private event(kind: 'start' | 'end', t: Track, tMs: number, reason?: 'lost' | 'reset'): TrackEvent {
    const e: TrackEvent = {
      kind,
      trackId: t.id,
      tMs,
      classId: t.classId,
      label: t.label,
      firstSeenMs: t.firstSeenMs,
      lastSeenMs: t.lastSeenMs,
      pathLengthPx: t.pathLengthPx,
      hits: t.hits,
      box: [...t.lastBox] as Box,
    };
    if (reason) e.reason = reason;
    return e;
  }

  private output(t: Track, tMs: number): TrackOutput {
    return {
      trackId: t.id,
      state: t.state,
      box: meanToBox(t.kf.mean),
      detectionIndex: t.detectionIndex,
      score: t.score,
      classId: t.classId,
      label: t.label,
      velocity: [t.kf.mean[4], t.kf.mean[5]],
      firstSeenMs: t.firstSeenMs,
      lastSeenMs: t.lastSeenMs,
      ageMs: tMs - t.firstSeenMs,
      hits: t.hits,
    };
  }
}

/** A detection's score; a detector that gives none is taken as sure. */
function score(d: Detection): number {
  return typeof d.score === 'number' && Number.isFinite(d.score) ? d.score : 1;
}

/** 1 − cos(a, b), in [0, 2]. */
export function cosineDistance(a: Vec, b: Vec): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  if (na === 0 || nb === 0) return 1;
  return 1 - dot / Math.sqrt(na * nb);
}

/**
 * Work (≈ rows² × columns of the Hungarian's inner loop) one association may spend on exact
 * solutions; groups beyond it are matched greedily. 2·10⁷ is a few tens of ms; a scene of people
 * uses a tiny fraction of it.
 */
const EXACT_BUDGET = 2e7;

/**
 * Candidate pairs one track or one detection takes part in, at most. People overlap a handful of
 * others; only a flood of near-identical boxes reaches this, and then the first found are kept, so a
 * frame at the detection cap scores at most this many pairs per box instead of every pair.
 */
export const MAX_CANDIDATES_PER_BOX = 64;

/** Every (track, detection) pair, each box in at most `maxPerBox`: when the gate admits disjoint boxes. */
function allPairs(n: number, m: number, maxPerBox: number): { rows: number[]; cols: number[] } {
  const rows: number[] = [];
  const cols: number[] = [];
  const perCol = new Uint32Array(m);
  for (let r = 0; r < n; r++) {
    let k = 0;
    for (let c = 0; c < m && k < maxPerBox; c++) {
      if (perCol[c] >= maxPerBox) continue;
      perCol[c]++;
      k++;
      rows.push(r);
      cols.push(c);
    }
  }
  return { rows, cols };
}

/**
 * The (a, b) pairs whose boxes overlap with positive area, each box in at most `maxPerBox` pairs: a
 * sweep over x1 keeps the boxes whose x range is still open, so a scene of separate objects costs
 * O((n + m) log(n + m) + pairs) rather than n × m.
 */
export function overlappingPairs(a: readonly Box[], b: readonly Box[], maxPerBox = MAX_CANDIDATES_PER_BOX): { rows: number[]; cols: number[] } {
  const n = a.length;
  const items: number[] = [];
  for (let i = 0; i < n + b.length; i++) items.push(i);
  const boxOf = (i: number): Box => (i < n ? a[i] : b[i - n]);
  items.sort((p, q) => boxOf(p)[0] - boxOf(q)[0] || p - q);
  const rows: number[] = [];
  const cols: number[] = [];
  const count = new Uint32Array(n + b.length);
  let openA: number[] = [];
  let openB: number[] = [];
  for (const i of items) {
    const bx = boxOf(i);
    const x1 = bx[0];
    // Forget the boxes that end at or before this one starts (no positive overlap with it or later
    // ones), and those with all their pairs.
    if (openA.length > 32) openA = openA.filter((j) => a[j][2] > x1 && count[j] < maxPerBox);
    if (openB.length > 32) openB = openB.filter((j) => b[j][2] > x1 && count[n + j] < maxPerBox);
    const mine = i < n;
    const open = mine ? openB : openA;
    const other = mine ? b : a;
    const base = mine ? n : 0;
    for (let q = 0; q < open.length && count[i] < maxPerBox; q++) {
      const j = open[q];
      const o = other[j];
      if (count[base + j] >= maxPerBox || !(o[2] > x1 && o[0] < bx[2] && o[1] < bx[3] && bx[1] < o[3])) continue;
      count[i]++;
      count[base + j]++;
      rows.push(mine ? i : j);
      cols.push(mine ? j : i - n);
    }
    if (bx[2] > x1 && count[i] < maxPerBox) (mine ? openA : openB).push(mine ? i : i - n);
  }
  return { rows, cols };
}

/**
 * Minimum-cost matching of n rows to m columns over the allowed edges (row er[k], column ec[k], cost
 * ew[k]), leaving a row unmatched at cost `unmatchedCost`. Solved per connected group: exactly while
 * within EXACT_BUDGET, else greedily. Returns each row's column or −1.
 */
export function solveSparse(n: number, m: number, er: number[], ec: number[], ew: number[], unmatchedCost: number): number[] {
  const rowToCol = new Array<number>(n).fill(-1);
  if (er.length === 0) return rowToCol;
  // Union-find over rows 0..n-1 and columns n..n+m-1.
  const parent = new Int32Array(n + m);
  for (let i = 0; i < parent.length; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  for (let k = 0; k < er.length; k++) {
    const p = find(er[k]);
    const q = find(n + ec[k]);
    if (p !== q) parent[p] = q;
  }
  // Group the edges by component, in edge order (rows ascending within a group as edges were made).
  const groups = new Map<number, number[]>();
  for (let k = 0; k < er.length; k++) {
    const g = find(er[k]);
    let list = groups.get(g);
    if (!list) groups.set(g, (list = []));
    list.push(k);
  }
  let spent = 0;
  for (const ks of groups.values()) {
    const rows = [...new Set(ks.map((k) => er[k]))].sort((x, y) => x - y);
    const cols = [...new Set(ks.map((k) => ec[k]))].sort((x, y) => x - y);
    const work = rows.length * rows.length * (cols.length + rows.length);
    if (spent + work <= EXACT_BUDGET) {
      spent += work;
      const ri = new Map(rows.map((r, i) => [r, i]));
      const ci = new Map(cols.map((c, i) => [c, i]));
      const sub = rows.map(() => new Array<number>(cols.length).fill(Infinity));
      for (const k of ks) sub[ri.get(er[k])!][ci.get(ec[k])!] = ew[k];
      const res = solveAssignment(sub, { unmatchedCost });
      for (const [r, c] of res.pairs) rowToCol[rows[r]] = cols[c];
    } else {
      // Greedy: cheapest pair first (ties: lower row, then lower column). Every edge is within the gate.
      const order = [...ks].sort((x, y) => ew[x] - ew[y] || er[x] - er[y] || ec[x] - ec[y]);
      const colTaken = new Set<number>();
      for (const k of order) {
        if (rowToCol[er[k]] >= 0 || colTaken.has(ec[k])) continue;
        rowToCol[er[k]] = ec[k];
        colTaken.add(ec[k]);
      }
    }
  }
  return rowToCol;
}
