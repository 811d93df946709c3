/**
 * Cross-camera re-identification on top of per-camera tracks. Per (camera, trackId) the engine keeps
 * an exponential moving average of quality-gated embeddings, sampled every N frames to bound cost.
 *
 * Identities are provisional and revisable:
 * - a new track gets its own global id at once (provisional: `provisional` is true until it has
 *   `minSamples` good crops; a track that never shows a usable crop keeps it and is matched as soon
 *   as it does, with no deadline);
 * - every live track with enough crops takes part in one assignment (Hungarian, one-to-one) against
 *   the gallery of ended identities and, for overlapping cameras, the live tracks of other cameras;
 *   it is solved again whenever a track's average changes, so decisions are revisited while evidence
 *   grows. A track whose match is contradicted (its average falls below the threshold, or another
 *   track fits that identity better) gives it back: an `identity-split` event, and it returns to its
 *   own id. A joined identity stays in the gallery, so its true owner can still claim it;
 * - an ambiguous track (two identities within `margin`) waits with its own id rather than guessing.
 * A track that ends (unseen for trackTimeoutMs, or told by a track-end event) adds its view of the
 * identity to the gallery (at most `viewsPerIdentity` per identity) for the gallery TTL.
 *
 * The join threshold calibrates itself (ThresholdCalibration) unless `calibrate` is off: two tracks
 * of one camera in the same frame are different people, one track early and later is one person.
 *
 * Time is passed in (frame times); cameras are assumed to share a clock (live sources stamp epoch ms).
 * Every per-track entry is deleted when the track ends, and the track map is bounded by maxTracks.
 */
import { Box, Detection, Point } from '../types';
import { anchorPoint, boxCenter, boxHeight } from '../geometry';
import { Gallery, GalleryEntry } from './gallery';
import { QualityOptions, QualityVerdict, judgeQuality, resolveQualityOptions } from './quality';
import { Matrix3, applyHomography, homographyFromPairs } from './homography';
import { dot, emaUpdate } from '../vector';
import { solveAssignment } from '../tracking/assignment';
import { CalibrationOptions, ThresholdCalibration, resolveCalibrationOptions } from './calibration';

export interface TransitionWindow {
  from: string;
  to: string;
  /** Seconds from leaving `from` to appearing in `to`. */
  minS: number;
  maxS: number;
}

export interface CameraCalibration {
  /** Four or more image points (pixels) and the floor points (metres, say) they lie on. */
  image: Point[];
  floor: Point[];
}

export interface ReidOptions {
  /** Frames between two embedding samples of one track (1 = every frame). */
  sampleEvery: number;
  /** Good (quality-gated) samples a track needs before it is matched; until then its id is provisional. */
  minSamples: number;
  /** Weight of the old average in the per-track EMA (0..1). */
  momentum: number;
  /** Cosine similarity a match must reach: the fixed threshold (in use until calibrated, or always with calibrate off). */
  threshold: number;
  /** Learn the threshold from this deployment's own same/different pairs ('auto'), or keep the fixed one ('off'). */
  calibrate: 'auto' | 'off';
  /** Share of different-person pairs the learnt threshold lets through (0.01 = 1 %). */
  targetFalseJoinRate: number;
  /** Pairs of each kind the calibration needs before its threshold is used. */
  calibrationMinNegatives: number;
  calibrationMinPositives: number;
  /** Positive pairs compare a track's first crops with its crops at least this much later (ms). */
  positiveGapMs: number;
  /** When two identities both pass and are within this of each other, the track waits for more evidence. */
  margin: number;
  /** A track keeps its current match unless the alternative is better by this much (and splits only this far below the threshold). */
  hysteresis: number;
  /** Views (one per ended track) kept per identity in the gallery. */
  viewsPerIdentity: number;
  /** Match live tracks of overlapping cameras (same place, same time): 'auto' where the layout allows it, or 'off'. */
  overlap: 'auto' | 'off';
  /** Similarity added when two live tracks of calibrated cameras stand on one floor point (within floorTolerance). */
  floorBonus: number;
  /** A track unseen this long (ms) has ended and enters the gallery. */
  trackTimeoutMs: number;
  galleryTtlMs: number;
  galleryCapacity: number;
  /** Live tracks kept at most (all cameras); beyond it the longest-unseen one is ended. */
  maxTracks: number;
  quality: QualityOptions;
  /** When any window names a pair, a transition between them must fall in one of its windows. */
  transitions: TransitionWindow[];
  /** Pairs of different cameras without a window: allowed, or never matched. */
  unlistedTransitions: 'allow' | 'deny';
  /** Per-camera image → floor calibration; both cameras need one for the floor gate to apply. */
  calibrations: Record<string, CameraCalibration>;
  /** Walking speed bound for the floor gate (floor units per second). */
  maxSpeed: number;
  /** Slack added to the floor gate distance (floor units; calibration error, stepping). */
  floorTolerance: number;
  /**
   * Same camera: a returning person reappears near where they were lost. A match needs the new box
   * centre within (sameCameraSpeed × gap s + 1) box heights of the last one; 0 turns the gate off.
   */
  sameCameraSpeed: number;
  /** Prefix of minted global ids. */
  idPrefix: string;
  /**
   * A live track of another gateway (observeRemote) counts as live for this long after its last
   * update (ms); past it, with no end record, it enters the gallery as ended. Cover the publisher's
   * update interval plus the broker's delay.
   */
  remoteHoldMs: number;
}

export const DEFAULT_REID: Readonly<ReidOptions> = Object.freeze({
  sampleEvery: 5,
  minSamples: 2,
  momentum: 0.8,
  threshold: 0.8,
  calibrate: 'auto',
  targetFalseJoinRate: 0.01,
  calibrationMinNegatives: 30,
  calibrationMinPositives: 20,
  positiveGapMs: 2000,
  margin: 0.05,
  hysteresis: 0.05,
  viewsPerIdentity: 3,
  overlap: 'auto',
  floorBonus: 0.1,
  trackTimeoutMs: 1000,
  galleryTtlMs: 10 * 60 * 1000,
  galleryCapacity: 1000,
  maxTracks: 1000,
  quality: Object.freeze({ ...resolveQualityOptions() }) as QualityOptions,
  transitions: [],
  unlistedTransitions: 'allow',
  calibrations: {},
  maxSpeed: 3,
  floorTolerance: 1,
  sameCameraSpeed: 1.5,
  idPrefix: 'p',
  remoteHoldMs: 3000,
}) as Readonly<ReidOptions>;

/**
 * Fixed thresholds per embedder kind: what is used until the calibration has enough pairs (and the
 * least it may learn until its negatives can show the target rate), or always with calibrate off.
 * Chosen on the TUD clips split into two cameras (edgevision bench reid, section 3): OSNet 0.8, the
 * best kept − wrong (0.6 let 5 wrong merges through); colour 0.95, the lowest with no wrong merge with
 * or without overlap (0.9 kept 5 more hand-overs but merged 2–3 wrong pairs; 0.8: 8). The colour
 * descriptor puts everyone closer together (same person ≈ 0.94, different ≈ 0.70), so it gets a
 * smaller margin.
 */
export const EMBEDDER_DEFAULTS: Readonly<Record<'onnx' | 'colour', { threshold: number; margin: number }>> = Object.freeze({
  onnx: Object.freeze({ threshold: 0.8, margin: 0.05 }),
  colour: Object.freeze({ threshold: 0.95, margin: 0.02 }),
});

export type ReidOptionsInput = Partial<Omit<ReidOptions, 'quality'>> & { quality?: Partial<QualityOptions> };

function num(name: string, v: unknown, lo: number, hi: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw new Error(`reid option ${name} must be ${integer ? 'a whole number' : 'a number'} in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  }
  return v;
}

export function resolveReidOptions(input: ReidOptionsInput = {}): ReidOptions {
  const known = new Set(Object.keys(DEFAULT_REID));
  for (const k of Object.keys(input)) if (!known.has(k)) throw new Error(`unknown reid option "${k}"; known: ${[...known].join(', ')}`);
  const o: ReidOptions = { ...DEFAULT_REID, ...input, quality: resolveQualityOptions(input.quality) } as ReidOptions;
  num('sampleEvery', o.sampleEvery, 1, 10000, true);
  num('minSamples', o.minSamples, 1, 1000, true);
  num('momentum', o.momentum, 0, 1);
  num('threshold', o.threshold, -1, 1);
  num('margin', o.margin, 0, 2);
  num('targetFalseJoinRate', o.targetFalseJoinRate, 0.0001, 0.5);
  num('calibrationMinNegatives', o.calibrationMinNegatives, 1, 1e9, true);
  num('calibrationMinPositives', o.calibrationMinPositives, 1, 1e9, true);
  num('positiveGapMs', o.positiveGapMs, 0, 86400000);
  num('hysteresis', o.hysteresis, 0, 1);
  num('viewsPerIdentity', o.viewsPerIdentity, 1, 100, true);
  num('floorBonus', o.floorBonus, 0, 1);
  if (o.calibrate !== 'auto' && o.calibrate !== 'off') throw new Error(`reid option calibrate must be "auto" or "off", got ${JSON.stringify(o.calibrate)}`);
  if (o.overlap !== 'auto' && o.overlap !== 'off') throw new Error(`reid option overlap must be "auto" or "off", got ${JSON.stringify(o.overlap)}`);
  num('trackTimeoutMs', o.trackTimeoutMs, 0, 86400000);
  num('galleryTtlMs', o.galleryTtlMs, 1, 7 * 86400000);
  num('galleryCapacity', o.galleryCapacity, 1, 10000000, true);
  num('maxTracks', o.maxTracks, 1, 10000000, true);
  num('maxSpeed', o.maxSpeed, 0, 1e6);
  num('floorTolerance', o.floorTolerance, 0, 1e6);
  num('sameCameraSpeed', o.sameCameraSpeed, 0, 1e6);
  num('remoteHoldMs', o.remoteHoldMs, 0, 86400000);
  if (o.unlistedTransitions !== 'allow' && o.unlistedTransitions !== 'deny')
    throw new Error(`reid option unlistedTransitions must be "allow" or "deny", got ${JSON.stringify(o.unlistedTransitions)}`);
  if (!Array.isArray(o.transitions)) throw new Error('reid option transitions must be a list of {from, to, minS, maxS}');
  o.transitions = o.transitions.map((t, i) => {
    if (!t || typeof t.from !== 'string' || typeof t.to !== 'string' || !t.from || !t.to) throw new Error(`transition ${i + 1} needs from and to camera ids`);
    num(`transitions[${i}].minS`, t.minS, 0, 86400 * 7);
    num(`transitions[${i}].maxS`, t.maxS, 0, 86400 * 7);
    if (t.maxS < t.minS) throw new Error(`transition ${t.from} → ${t.to}: maxS (${t.maxS}) is below minS (${t.minS})`);
    return { ...t };
  });
  if (!o.calibrations || typeof o.calibrations !== 'object') throw new Error('reid option calibrations must be an object of camera → {image, floor}');
  if (typeof o.idPrefix !== 'string') throw new Error('reid option idPrefix must be a string');
  return o;
}

/** What re-id keeps of one camera's track (not the tracker's `TrackState`, a detection's track status). */
interface ReidTrack {
  key: string;
  camera: string;
  trackId: number;
  firstMs: number;
  lastMs: number;
  embedding?: Float32Array;
  samples: number;
  framesSinceSample: number;
  /** The id minted for this track (provisional until matched; what it falls back to on a split). */
  ownId: string;
  /** The id it has now: ownId, or the identity it joined. */
  globalId: string;
  /** How it got globalId when that is not ownId. */
  match?: { column: string; similarity: number; second: number; fromCamera: string; gapMs: number; live: boolean };
  /** The identity's appearance when the track joined it (compared with when its views have expired). */
  heldView?: Float32Array;
  floor?: Point;
  firstBox: Box;
  lastBox: Box;
  /** Gallery identities that pass the gates and come near the threshold, scored at its last sample. */
  candidates: Map<string, { similarity: number; entry: GalleryEntry }>;
  /** The average once it first had minSamples samples, and the average of the samples since (calibration positives). */
  anchor?: Float32Array;
  anchorMs: number;
  tail?: Float32Array;
  tailSamples: number;
  /** The tracker resumed a track reid had ended (its samples are not new evidence). */
  resumed: boolean;
  /** Open calibration pairs (other tracks seen in the same frame) it belongs to. */
  pairs: Set<string>;
}

export interface JoinEvent {
  event: 'identity-join';
  globalId: string;
  camera: string;
  trackId: number;
  tMs: number;
  fromCamera: string;
  /** ms between the identity's last sighting and this track's first (≤ 0 for a live match of overlapping cameras). */
  gapMs: number;
  similarity: number;
  second: number;
  /** The provisional id the track had until now. */
  previousGlobalId: string;
  /** Matched to a live track of an overlapping camera (rather than to the gallery). */
  live: boolean;
}

export interface SplitEvent {
  event: 'identity-split';
  /** The identity the track gives back. */
  globalId: string;
  camera: string;
  trackId: number;
  tMs: number;
  /** The id the track has from now on (its own, or another identity it joins in the same update). */
  newGlobalId: string;
  /** Its similarity to the identity it gave back now (−1 when no longer comparable). */
  similarity: number;
  reason: 'below-threshold' | 'better-owner' | 'same-camera';
}

export interface ReidUpdate {
  /** Per detection of the frame: its global id, when its track has one. */
  globalIds: (string | undefined)[];
  /** Per detection: true while its track's id is provisional (not enough good crops to match yet). */
  provisional: boolean[];
  /** Indices of detections whose given embedding was averaged into their track. */
  sampled: number[];
  joins: JoinEvent[];
  splits: SplitEvent[];
  /** Tracks that ended during this update (their identities went to the gallery). */
  ended: number;
}

export interface ReidStats {
  tracks: number;
  gallery: number;
  galleryBytes: number;
  identities: number;
  joins: number;
  splits: number;
  /** Live tracks whose id is still provisional. */
  provisional: number;
  /** The join threshold in use now. */
  threshold: number;
  /** True when the learnt threshold is the one in use (calibrate 'auto', enough pairs, certified or stricter than the fixed one). */
  calibrated: boolean;
  /** Live tracks of other gateways held now (observeRemote). */
  remoteLive: number;
}

/**
 * A live track of another gateway (a live record): matched like a live track of an overlapping
 * camera of this gateway, as a column only (its own gateway decides its identity).
 */
export interface RemoteLiveTrack {
  /** Unique per remote track: "<gateway>/<camera>" and its track id. */
  key: string;
  globalId: string;
  /** The remote camera, qualified by its gateway ("gw-a/cam-1"): what transitions and the overlap rule name. */
  camera: string;
  firstMs: number;
  /** When the publisher last saw it (frame time; gateways share a clock). */
  lastMs: number;
  embedding: ArrayLike<number>;
  floor?: Point;
  /**
   * Tracks that start in the same ms: which one follows the other must be decided the same way on
   * both gateways (true: the remote one counts as older; e.g. its gateway id sorts first).
   */
  olderOnTie: boolean;
}

interface RemoteTrack extends Omit<RemoteLiveTrack, 'embedding' | 'floor'> {
  embedding: Float32Array;
  floor?: Point;
}

/** A live identity for a floor map or another gateway: where it is now. */
export interface LiveIdentity {
  globalId: string;
  camera: string;
  trackId: number;
  provisional: boolean;
  /** Floor position (homography units) when the camera has a calibration. */
  floor?: Point;
  lastMs: number;
}

export class ReidEngine {
  readonly options: ReidOptions;
  readonly calibration: ThresholdCalibration;
  private readonly gallery: Gallery;
  private readonly tracks = new Map<string, ReidTrack>();
  /** Live tracks of other gateways, by key; bounded by maxTracks, dropped after remoteHoldMs without news. */
  private readonly remote = new Map<string, RemoteTrack>();
  private readonly homographies = new Map<string, Matrix3>();
  /** Calibration pairs not yet committed: pair key → sum and count of their similarities so far. */
  private readonly pairs = new Map<string, { sum: number; n: number }>();
  private nextId = 1;
  private joins = 0;
  private splits = 0;

  constructor(
    readonly dim: number,
    options: ReidOptionsInput = {},
  ) {
    this.options = resolveReidOptions(options);
    this.gallery = new Gallery(dim, { capacity: this.options.galleryCapacity, ttlMs: this.options.galleryTtlMs });
    const cal: Partial<CalibrationOptions> = {
      targetFalseJoinRate: this.options.targetFalseJoinRate,
      minNegatives: this.options.calibrationMinNegatives,
      minPositives: this.options.calibrationMinPositives,
    };
    this.calibration = new ThresholdCalibration(this.options.threshold, resolveCalibrationOptions(cal));
    for (const [cam, c] of Object.entries(this.options.calibrations)) {
      try {
        this.homographies.set(cam, homographyFromPairs(c.image, c.floor));
      } catch (e) {
        throw new Error(`camera ${cam}: ${(e as Error).message}`);
      }
    }
  }

  /** The join threshold in use: the learnt one once calibrated (calibrate 'auto'), else the fixed one. */
  threshold(): number {
    return this.options.calibrate === 'off' ? this.options.threshold : this.calibration.threshold();
  }

  private key(camera: string, trackId: number): string {
    return `${camera}\u0000${trackId}`;
  }

  /**
   * Which detections of this frame need an embedding now: tracked, passing the quality gate, and
   * due for a sample (a new track is sampled every frame until it has minSamples). Detections that
   * already carry an embedding are not listed: update() uses theirs.
   */
  select(camera: string, detections: readonly Detection[], width: number, height: number): number[] {
    const verdicts = this.quality(detections, width, height);
    const out: number[] = [];
    detections.forEach((d, i) => {
      if (typeof d.trackId !== 'number' || verdicts[i] !== 'ok' || Array.isArray(d.embedding)) return;
      const t = this.tracks.get(this.key(camera, d.trackId));
      if (!t || t.samples < this.options.minSamples || t.framesSinceSample + 1 >= this.options.sampleEvery) out.push(i);
    });
    return out;
  }

  quality(detections: readonly Detection[], width: number, height: number): QualityVerdict[] {
    return judgeQuality(
      detections.map((d) => d.box),
      width,
      height,
      this.options.quality,
    );
  }

  /**
   * One frame of one camera. `embeddings` maps detection index → L2-normalised vector (what select()
   * asked for); a detection's own `embedding` is used when it has one and passes the quality gate.
   */
  update(
    camera: string,
    tMs: number,
    detections: readonly Detection[],
    embeddings: ReadonlyMap<number, ArrayLike<number>>,
    width: number,
    height: number,
  ): ReidUpdate {
    const o = this.options;
    let ended = this.sweep(tMs);
    this.sweepRemote(tMs);
    this.gallery.expire(tMs);
    const verdicts = this.quality(detections, width, height);
    const sampled: number[] = [];
    const h = this.homographies.get(camera);
    const seen: (ReidTrack | undefined)[] = new Array(detections.length).fill(undefined);
    const changed: ReidTrack[] = [];
    detections.forEach((d, i) => {
      if (typeof d.trackId !== 'number') return;
      const k = this.key(camera, d.trackId);
      let t = this.tracks.get(k);
      if (!t) {
        t = this.newTrack(k, camera, d.trackId, tMs, d.box);
        this.tracks.set(k, t);
      } else {
        // Re-insert so map order is last-seen order (the bound below evicts from the front).
        this.tracks.delete(k);
        this.tracks.set(k, t);
      }
      seen[i] = t;
      t.lastMs = tMs;
      t.lastBox = d.box;
      t.framesSinceSample++;
      if (h) t.floor = applyHomography(h, anchorPoint(d.box));
      let e = embeddings.get(i);
      if (!e && Array.isArray(d.embedding) && d.embedding.length === this.dim && verdicts[i] === 'ok') e = d.embedding;
      if (e) {
        if (e.length !== this.dim) throw new Error(`embedding for detection ${i} has ${e.length} values; expected ${this.dim}`);
        this.addSample(t, e, tMs);
        sampled.push(i);
        changed.push(t);
      }
    });
    this.learnNegatives(seen, changed);
    for (const t of changed) if (t.samples >= o.minSamples) t.candidates = this.galleryCandidates(t);
    const joins: JoinEvent[] = [];
    const splits: SplitEvent[] = [];
    if (changed.some((t) => t.samples >= o.minSamples)) this.assign(tMs, joins, splits);
    // Bound: the longest-unseen live tracks end first.
    while (this.tracks.size > o.maxTracks) {
      const [k, t] = this.tracks.entries().next().value as [string, ReidTrack];
      this.finish(k, t);
      ended++;
    }
    return {
      globalIds: seen.map((t) => t?.globalId),
      provisional: seen.map((t) => !!t && t.samples < o.minSamples),
      sampled,
      joins,
      splits,
      ended,
    };
  }

  /** Ends one track now (a track-end event from vision-track); true when it was known. */
  endTrack(camera: string, trackId: number): boolean {
    const k = this.key(camera, trackId);
    const t = this.tracks.get(k);
    if (!t) return false;
    this.finish(k, t);
    return true;
  }

  /** Ends every track unseen for trackTimeoutMs at `tMs`; returns how many. */
  sweep(tMs: number): number {
    const gone: [string, ReidTrack][] = [];
    for (const [k, t] of this.tracks) if (tMs - t.lastMs > this.options.trackTimeoutMs) gone.push([k, t]);
    for (const [k, t] of gone) this.finish(k, t);
    return gone.length;
  }

  /** Ends every track of one camera (the camera was reset or stopped). */
  endCamera(camera: string): number {
    const gone = [...this.tracks].filter(([, t]) => t.camera === camera);
    for (const [k, t] of gone) this.finish(k, t);
    return gone.length;
  }

  /** Ends every live track (a reset, a shutdown): identities go to the gallery, calibration pairs are counted. */
  endAll(): number {
    const gone = [...this.tracks];
    for (const [k, t] of gone) this.finish(k, t);
    return gone.length;
  }

  /**
   * A live track of another gateway, new or updated (a live record). An update older than what is
   * held is ignored (records may arrive out of order). Beyond maxTracks the longest-unheard goes.
   */
  observeRemote(r: RemoteLiveTrack): void {
    if (r.embedding.length !== this.dim) throw new Error(`remote embedding has ${r.embedding.length} values; expected ${this.dim}`);
    const had = this.remote.get(r.key);
    if (had && had.lastMs > r.lastMs) return;
    this.remote.delete(r.key);
    this.remote.set(r.key, {
      key: r.key,
      globalId: r.globalId,
      camera: r.camera,
      firstMs: had ? Math.min(had.firstMs, r.firstMs) : r.firstMs,
      lastMs: r.lastMs,
      embedding: Float32Array.from(r.embedding),
      floor: r.floor ? [r.floor[0], r.floor[1]] : undefined,
      olderOnTie: r.olderOnTie,
    });
    while (this.remote.size > this.options.maxTracks) this.remote.delete(this.remote.keys().next().value as string);
  }

  /**
   * A remote live track ended (its end record came): it stops being a live column. Its view enters
   * the gallery through addToGallery when the record is accepted. True when it was held.
   */
  endRemote(key: string): boolean {
    return this.remote.delete(key);
  }

  /** Remote live tracks held now. */
  remoteLive(): { key: string; globalId: string; camera: string; lastMs: number }[] {
    return [...this.remote.values()].map((r) => ({ key: r.key, globalId: r.globalId, camera: r.camera, lastMs: r.lastMs }));
  }

  /** Remote tracks without news for remoteHoldMs: their gateway stopped talking; they enter the gallery as ended. */
  private sweepRemote(tMs: number): void {
    for (const [k, r] of [...this.remote]) {
      if (tMs - r.lastMs <= this.options.remoteHoldMs) continue;
      this.remote.delete(k);
      this.gallery.add({ globalId: r.globalId, camera: r.camera, endMs: r.lastMs, floor: r.floor }, r.embedding);
    }
  }

  /** The global id a live track has now (undefined when the track is not live). */
  trackIdentity(camera: string, trackId: number): string | undefined {
    return this.tracks.get(this.key(camera, trackId))?.globalId;
  }

  /**
   * Live tracks with their global ids and, for cameras with a floor calibration, floor positions
   * (a floor map, or another gateway). One entry per live track; an identity seen by two overlapping
   * cameras appears twice, once per camera.
   */
  liveIdentities(): LiveIdentity[] {
    const out: LiveIdentity[] = [];
    for (const t of this.tracks.values()) {
      const e: LiveIdentity = {
        globalId: t.globalId,
        camera: t.camera,
        trackId: t.trackId,
        provisional: t.samples < this.options.minSamples,
        lastMs: t.lastMs,
      };
      if (t.floor) e.floor = [t.floor[0], t.floor[1]];
      out.push(e);
    }
    return out;
  }

  /** The gallery search a new track would run, for the benchmark. */
  searchGallery(embedding: ArrayLike<number>) {
    return this.gallery.search(embedding);
  }

  /** Seeds the gallery directly (benchmarks, restoring state, identities from another gateway). */
  addToGallery(entry: GalleryEntry, embedding: ArrayLike<number>): void {
    this.gallery.add(entry, embedding);
  }

  stats(): ReidStats {
    const ids = new Set<string>();
    let provisional = 0;
    for (const t of this.tracks.values()) {
      ids.add(t.globalId);
      if (t.samples < this.options.minSamples) provisional++;
    }
    for (const e of this.gallery.list()) ids.add(e.globalId);
    return {
      tracks: this.tracks.size,
      gallery: this.gallery.size,
      galleryBytes: this.gallery.bytes(),
      identities: ids.size,
      joins: this.joins,
      splits: this.splits,
      provisional,
      threshold: this.threshold(),
      calibrated: this.options.calibrate !== 'off' && this.calibration.thresholdSource === 'learnt',
      remoteLive: this.remote.size,
    };
  }

  private mint(): string {
    return `${this.options.idPrefix}${this.nextId++}`;
  }

  private newTrack(key: string, camera: string, trackId: number, tMs: number, box: Box): ReidTrack {
    const t: ReidTrack = {
      key,
      camera,
      trackId,
      firstMs: tMs,
      lastMs: tMs,
      samples: 0,
      framesSinceSample: 0,
      ownId: '',
      globalId: '',
      firstBox: box,
      lastBox: box,
      candidates: new Map(),
      anchorMs: 0,
      tailSamples: 0,
      resumed: false,
      pairs: new Set(),
    };
    // The tracker resumed a track we had ended (its lost buffer outlasts trackTimeoutMs): it is the
    // same person by the tracker's own judgement, so it keeps its identity and average.
    const resumed = this.gallery.findTrack(camera, trackId);
    if (resumed) {
      const k = resumed.key ?? resumed.globalId;
      t.ownId = t.globalId = resumed.globalId;
      t.embedding = this.gallery.embedding(k);
      t.samples = this.options.minSamples;
      t.resumed = true;
      this.gallery.remove(k);
    } else {
      t.ownId = t.globalId = this.mint();
    }
    return t;
  }

  private addSample(t: ReidTrack, e: ArrayLike<number>, tMs: number): void {
    const o = this.options;
    t.embedding = emaUpdate(t.embedding, e, t.samples === 0 ? 0 : o.momentum);
    t.samples++;
    t.framesSinceSample = 0;
    if (t.resumed) return;
    // Calibration positives: the track's first minSamples crops against its crops a while later.
    if (!t.anchor) {
      if (t.samples >= o.minSamples) {
        t.anchor = t.embedding;
        t.anchorMs = tMs;
      }
      return;
    }
    if (tMs - t.anchorMs < o.positiveGapMs) return;
    t.tail = emaUpdate(t.tail, e, t.tailSamples === 0 ? 0 : o.momentum);
    t.tailSamples++;
    if (t.tailSamples >= o.minSamples) this.calibration.addPositive(dot(t.anchor, t.tail));
  }

  /**
   * Calibration negatives: tracks of one camera in the same frame are different people. Each pair
   * counts once, with its mean similarity while both were seen (committed when one of them ends): a
   * pair seen for a minute is one pair, not hundreds of correlated ones.
   */
  private learnNegatives(seen: readonly (ReidTrack | undefined)[], changed: readonly ReidTrack[]): void {
    const o = this.options;
    if (!changed.length) return;
    const now = [...new Set(seen)].filter((t): t is ReidTrack => !!t && !!t.embedding && t.samples >= o.minSamples && !t.resumed);
    const fresh = new Set(changed);
    for (let a = 0; a < now.length; a++)
      for (let b = a + 1; b < now.length; b++) {
        if (!fresh.has(now[a]) && !fresh.has(now[b])) continue;
        const s = dot(now[a].embedding!, now[b].embedding!);
        const key = now[a].key < now[b].key ? `${now[a].key}\u0001${now[b].key}` : `${now[b].key}\u0001${now[a].key}`;
        const had = this.pairs.get(key);
        if (had !== undefined) {
          had.sum += s;
          had.n++;
          continue;
        }
        this.pairs.set(key, { sum: s, n: 1 });
        now[a].pairs.add(key);
        now[b].pairs.add(key);
      }
  }

  /** A track ended: its same-frame pairs are complete negatives. */
  private commitPairs(t: ReidTrack): void {
    for (const key of t.pairs) {
      const p = this.pairs.get(key);
      if (p === undefined) continue;
      this.pairs.delete(key);
      this.calibration.addNegative(p.sum / p.n);
      const [a, b] = key.split('\u0001');
      this.tracks.get(a === t.key ? b : a)?.pairs.delete(key);
    }
    t.pairs.clear();
  }

  private finish(k: string, t: ReidTrack): void {
    this.tracks.delete(k);
    this.commitPairs(t);
    if (!t.embedding || t.samples < this.options.minSamples) return;
    const key = `${t.globalId}\u0000${t.camera}\u0000${t.trackId}`;
    this.gallery.add({ globalId: t.globalId, camera: t.camera, endMs: t.lastMs, floor: t.floor, box: t.lastBox, trackId: t.trackId, key }, t.embedding);
    const views = this.gallery.views(t.globalId);
    for (let i = 0; i < views.length - this.options.viewsPerIdentity; i++) this.gallery.remove(views[i].key ?? views[i].globalId);
  }

  private transitionAllowed(from: string, to: string, gapMs: number): boolean {
    const gapS = gapMs / 1000;
    const windows = this.options.transitions.filter((w) => w.from === from && w.to === to);
    if (windows.length) return windows.some((w) => gapS >= w.minS && gapS <= w.maxS);
    if (from === to) return gapMs >= 0;
    return this.options.unlistedTransitions === 'allow' && gapMs >= 0;
  }

  /** Whether two cameras may see one person at the same time: no window says otherwise. */
  private overlapAllowed(a: string, b: string): boolean {
    if (this.options.overlap === 'off' || a === b) return false;
    const windows = this.options.transitions.filter((w) => (w.from === a && w.to === b) || (w.from === b && w.to === a));
    if (windows.length) return windows.some((w) => w.minS === 0);
    return this.options.unlistedTransitions === 'allow';
  }

  private floorAllowed(e: { floor?: Point }, t: ReidTrack, gapMs: number): boolean {
    if (!e.floor || !t.floor) return true;
    const dist = Math.hypot(e.floor[0] - t.floor[0], e.floor[1] - t.floor[1]);
    return dist <= this.options.maxSpeed * (Math.abs(gapMs) / 1000) + this.options.floorTolerance;
  }

  private nearEnough(e: GalleryEntry, t: ReidTrack, gapMs: number): boolean {
    const k = this.options.sameCameraSpeed;
    if (!k || e.camera !== t.camera || !e.box) return true;
    const h = Math.max(boxHeight(e.box), boxHeight(t.firstBox), 1);
    const [ex, ey] = boxCenter(e.box);
    const [tx, ty] = boxCenter(t.firstBox);
    return Math.hypot(ex - tx, ey - ty) <= (k * (gapMs / 1000) + 1) * h;
  }

  /** Gallery identities this track could be (gates passed), with scores near or above the threshold. */
  private galleryCandidates(t: ReidTrack): Map<string, { similarity: number; entry: GalleryEntry }> {
    const floor = Math.min(this.threshold(), this.options.threshold) - this.options.hysteresis - this.options.margin;
    return this.gallery.scoreIdentities(t.embedding!, floor, (e) => {
      const gap = t.firstMs - e.endMs;
      return this.transitionAllowed(e.camera, t.camera, gap) && this.floorAllowed(e, t, gap) && this.nearEnough(e, t, gap);
    });
  }

  /**
   * One assignment over every live track with enough crops (rows) and the identities they could be
   * (columns: gallery identities, and live tracks of overlapping cameras that started earlier). A
   * row keeps its current match unless another column beats it by `hysteresis`; a row whose two best
   * columns are within `margin` waits (keeps what it has). Then ids, join and split events follow.
   */
  private assign(tMs: number, joins: JoinEvent[], splits: SplitEvent[]): void {
    const o = this.options;
    const thr = this.threshold();
    const rows = [...this.tracks.values()]
      .filter((t) => t.embedding && t.samples >= o.minSamples)
      .sort((a, b) => a.firstMs - b.firstMs || (a.key < b.key ? -1 : 1));
    if (!rows.length) return;
    const colIndex = new Map<string, number>();
    const colInfo: { live?: ReidTrack | RemoteTrack; identity?: string; entry?: GalleryEntry }[] = [];
    const cells: Map<number, { sim: number; fromCamera: string; gapMs: number }>[] = rows.map(() => new Map());
    const col = (name: string, info: { live?: ReidTrack | RemoteTrack; identity?: string; entry?: GalleryEntry }) => {
      let c = colIndex.get(name);
      if (c === undefined) {
        c = colInfo.length;
        colIndex.set(name, c);
        colInfo.push(info);
      }
      return c;
    };
    const identityOf = (c: number) => (colInfo[c].live ? colInfo[c].live!.globalId : colInfo[c].identity!);
    rows.forEach((r, i) => {
      for (const [id, m] of r.candidates) {
        if (id === r.ownId) continue;
        const c = col(`g:${id}`, { identity: id, entry: m.entry });
        cells[i].set(c, { sim: m.similarity, fromCamera: m.entry.camera, gapMs: r.firstMs - m.entry.endMs });
      }
      // Live tracks of overlapping cameras that started before this one (so a chain has no loop).
      for (let j = 0; j < i; j++) {
        const l = rows[j];
        if (l.camera === r.camera || !this.overlapAllowed(l.camera, r.camera)) continue;
        const dt = r.lastMs - l.lastMs;
        if (Math.abs(dt) > o.trackTimeoutMs) continue;
        if (!this.floorAllowed(l, r, dt)) continue;
        let sim = dot(r.embedding!, l.embedding!);
        if (l.floor && r.floor && Math.hypot(l.floor[0] - r.floor[0], l.floor[1] - r.floor[1]) <= o.floorTolerance) sim += o.floorBonus;
        if (sim < thr - o.hysteresis) continue;
        const c = col(`l:${l.key}`, { live: l });
        cells[i].set(c, { sim, fromCamera: l.camera, gapMs: Math.min(0, r.firstMs - l.lastMs) });
      }
      // Live tracks of other gateways' overlapping cameras, by the same rules; only those that started
      // earlier (both gateways order the two tracks alike, so two gateways never follow each other).
      for (const l of this.remote.values()) {
        if (l.firstMs > r.firstMs || (l.firstMs === r.firstMs && !l.olderOnTie)) continue;
        if (!this.overlapAllowed(l.camera, r.camera)) continue;
        // The publisher's updates come every few hundred ms: it is live while within that hold.
        const dt = r.lastMs - l.lastMs;
        if (dt > o.remoteHoldMs || -dt > o.trackTimeoutMs) continue;
        if (!this.floorAllowed(l, r, dt)) continue;
        let sim = dot(r.embedding!, l.embedding);
        if (l.floor && r.floor && Math.hypot(l.floor[0] - r.floor[0], l.floor[1] - r.floor[1]) <= o.floorTolerance + o.maxSpeed * (Math.abs(dt) / 1000))
          sim += o.floorBonus;
        if (sim < thr - o.hysteresis) continue;
        const c = col(`r:${l.key}`, { live: l });
        cells[i].set(c, { sim, fromCamera: l.camera, gapMs: Math.min(0, r.firstMs - l.lastMs) });
      }
    });
    // A row that holds an identity keeps a column for it even when the track it followed has ended
    // (its view is in the gallery now, ended after this track began) or its scores are stale.
    rows.forEach((r, i) => {
      if (r.globalId === r.ownId) return;
      for (const c of cells[i].keys()) if (identityOf(c) === r.globalId) return;
      // The live track it follows (here or on another gateway) is still in view but no longer passes:
      // that is the evidence now (appearance or floor contradicts), not what it looked like at the join.
      const followed = r.match?.live
        ? r.match.column.startsWith('r:')
          ? this.remote.get(r.match.column.slice(2))
          : this.tracks.get(r.match.column.slice(2))
        : undefined;
      if (followed && followed.globalId === r.globalId && followed.embedding) {
        const dt = r.lastMs - followed.lastMs;
        const sim = this.floorAllowed(followed, r, dt) ? dot(r.embedding!, followed.embedding) : -1;
        cells[i].set(col(r.match!.column, { live: followed }), { sim, fromCamera: followed.camera, gapMs: r.match!.gapMs });
        return;
      }
      let best = -Infinity;
      let from: GalleryEntry | undefined;
      for (const v of this.gallery.views(r.globalId)) {
        const sim = dot(r.embedding!, this.gallery.embedding(v.key ?? v.globalId)!);
        if (sim > best) [best, from] = [sim, v];
      }
      if (from)
        cells[i].set(col(`g:${r.globalId}`, { identity: r.globalId, entry: from }), { sim: best, fromCamera: from.camera, gapMs: r.firstMs - from.endMs });
      else if (r.heldView && r.match)
        // Every view expired (a long visit) or the followed track left without one: what it joined.
        cells[i].set(col(`g:${r.globalId}`, { identity: r.globalId }), {
          sim: dot(r.embedding!, r.heldView),
          fromCamera: r.match.fromCamera,
          gapMs: r.match.gapMs,
        });
    });
    // The incumbent: the column that gives the row the identity it has now (the best one if several do).
    const current = rows.map((r, i) => {
      if (r.globalId === r.ownId) return undefined;
      let pick: number | undefined;
      for (const [c, v] of cells[i]) if (identityOf(c) === r.globalId && (pick === undefined || v.sim > cells[i].get(pick)!.sim)) pick = c;
      return pick;
    });
    const cost = rows.map((r, i) => {
      const line = new Array<number>(colInfo.length).fill(Infinity);
      const sims = [...cells[i].entries()].filter(([c, v]) => v.sim >= thr || c === current[i]).sort((a, b) => b[1].sim - a[1].sim);
      // Ambiguous between two identities: wait, keeping the current match (or none).
      if (sims.length >= 2 && sims[0][1].sim - sims[1][1].sim < o.margin && sims[0][0] !== current[i] && sims[1][1].sim >= thr) {
        const keep = current[i];
        if (keep !== undefined && cells[i].has(keep) && cells[i].get(keep)!.sim >= thr - o.hysteresis) line[keep] = 1 - cells[i].get(keep)!.sim - o.hysteresis;
        return line;
      }
      for (const [c, v] of cells[i]) {
        if (c === current[i]) {
          if (v.sim >= thr - o.hysteresis) line[c] = 1 - v.sim - o.hysteresis;
        } else if (v.sim >= thr) line[c] = 1 - v.sim;
      }
      return line;
    });
    const solved = colInfo.length ? solveAssignment(cost, { unmatchedCost: 1 - thr }) : { rowToCol: rows.map(() => -1) };
    // Rows in age order: a live column's identity is final before anyone follows it.
    const byCamera = new Map<string, Set<string>>();
    rows.forEach((r, i) => {
      let c = solved.rowToCol[i];
      let id = r.ownId;
      if (c >= 0) id = colInfo[c].live ? colInfo[c].live!.globalId : colInfo[c].identity!;
      // One person is one track per camera at a time.
      const taken = byCamera.get(r.camera) ?? new Set<string>();
      for (const t of this.tracks.values()) if (t.camera === r.camera && t.samples < o.minSamples) taken.add(t.globalId);
      let sameCamera = false;
      if (c >= 0 && taken.has(id)) {
        c = -1;
        id = r.ownId;
        sameCamera = true;
      }
      taken.add(id);
      byCamera.set(r.camera, taken);
      if (id === r.globalId) {
        if (c >= 0 && r.match) r.match.similarity = cells[i].get(c)!.sim;
        return;
      }
      const before = r.globalId;
      if (before !== r.ownId) {
        const cur = current[i];
        const simNow = cur !== undefined && cells[i].has(cur) ? cells[i].get(cur)!.sim : -1;
        this.splits++;
        splits.push({
          event: 'identity-split',
          globalId: before,
          camera: r.camera,
          trackId: r.trackId,
          tMs,
          newGlobalId: id,
          similarity: Math.round(simNow * 1000) / 1000,
          reason: sameCamera ? 'same-camera' : simNow >= thr - o.hysteresis ? 'better-owner' : 'below-threshold',
        });
      }
      r.globalId = id;
      r.match = undefined;
      r.heldView = undefined;
      if (c < 0) return;
      const v = cells[i].get(c)!;
      const others = [...cells[i].entries()].filter(([k]) => k !== c).map(([, x]) => x.sim);
      const second = others.length ? Math.max(...others) : -1;
      const name = colInfo[c].live
        ? `${this.remote.get(colInfo[c].live!.key) === colInfo[c].live ? 'r' : 'l'}:${colInfo[c].live!.key}`
        : `g:${colInfo[c].identity}`;
      r.match = { column: name, similarity: v.sim, second, fromCamera: v.fromCamera, gapMs: v.gapMs, live: !!colInfo[c].live };
      const info = colInfo[c];
      r.heldView = info.live ? Float32Array.from(info.live.embedding!) : info.entry ? this.gallery.embedding(info.entry.key ?? info.entry.globalId) : undefined;
      this.joins++;
      joins.push({
        event: 'identity-join',
        globalId: id,
        camera: r.camera,
        trackId: r.trackId,
        tMs,
        fromCamera: v.fromCamera,
        gapMs: Math.round(v.gapMs),
        similarity: Math.round(v.sim * 1000) / 1000,
        second: Math.round(second * 1000) / 1000,
        previousGlobalId: before,
        live: !!colInfo[c].live,
      });
    });
  }
}
