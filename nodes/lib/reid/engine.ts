/**
 * Cross-camera re-identification on top of per-camera tracks. Per (camera, trackId) the engine keeps
 * an exponential moving average of quality-gated embeddings, sampled every N frames to bound cost.
 * A new track gets a global identity once it has enough samples: the best gallery match (cosine
 * similarity ≥ threshold, and ahead of the second best by a margin, among identities allowed by the
 * camera-transition windows and the floor-position gate), else a fresh id. A track that ends (unseen
 * for trackTimeoutMs, or told by a track-end event) puts its identity in the gallery for its TTL.
 *
 * Time is passed in (frame times); cameras are assumed to share a clock (live sources stamp epoch ms).
 * Every per-track entry is deleted when the track ends, and the track map is bounded by maxTracks.
 */
import { Box, Detection, Point } from '../types';
import { anchorPoint, boxCenter, boxHeight } from '../geometry';
import { Gallery, GalleryEntry } from './gallery';
import { QualityOptions, QualityVerdict, judgeQuality, resolveQualityOptions } from './quality';
import { Matrix3, applyHomography, homographyFromPairs } from './homography';
import { emaUpdate } from '../vector';

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
  /** Samples a new track needs before it is matched against the gallery. */
  minSamples: number;
  /** A track without enough samples is decided anyway once it is this old (ms). */
  decideAfterMs: number;
  /** Weight of the old average in the per-track EMA (0..1). */
  momentum: number;
  /** Cosine similarity a gallery match must reach. */
  threshold: number;
  /** How far the best match must lead the second best. */
  margin: number;
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
}

export const DEFAULT_REID: Readonly<ReidOptions> = Object.freeze({
  sampleEvery: 5,
  minSamples: 2,
  decideAfterMs: 2000,
  momentum: 0.8,
  threshold: 0.6,
  margin: 0.05,
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
}) as Readonly<ReidOptions>;

/**
 * Matching defaults per embedder kind. Measured on the TUD crops (edgevision bench reid): OSNet puts
 * the same person at cosine ≈ 0.81 and different people at ≈ 0.47; the colour descriptor at ≈ 0.94
 * and ≈ 0.70, so it needs a higher threshold and gets a smaller margin.
 */
export const EMBEDDER_DEFAULTS: Readonly<Record<'onnx' | 'colour', { threshold: number; margin: number }>> = Object.freeze({
  onnx: Object.freeze({ threshold: 0.6, margin: 0.05 }),
  colour: Object.freeze({ threshold: 0.8, margin: 0.02 }),
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
  num('decideAfterMs', o.decideAfterMs, 0, 86400000);
  num('momentum', o.momentum, 0, 1);
  num('threshold', o.threshold, -1, 1);
  num('margin', o.margin, 0, 2);
  num('trackTimeoutMs', o.trackTimeoutMs, 0, 86400000);
  num('galleryTtlMs', o.galleryTtlMs, 1, 7 * 86400000);
  num('galleryCapacity', o.galleryCapacity, 1, 10000000, true);
  num('maxTracks', o.maxTracks, 1, 10000000, true);
  num('maxSpeed', o.maxSpeed, 0, 1e6);
  num('floorTolerance', o.floorTolerance, 0, 1e6);
  num('sameCameraSpeed', o.sameCameraSpeed, 0, 1e6);
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
  camera: string;
  trackId: number;
  firstMs: number;
  lastMs: number;
  embedding?: Float32Array;
  samples: number;
  framesSinceSample: number;
  globalId?: string;
  floor?: Point;
  firstBox: Box;
  lastBox: Box;
}

export interface JoinEvent {
  event: 'identity-join';
  globalId: string;
  camera: string;
  trackId: number;
  tMs: number;
  fromCamera: string;
  /** ms between the identity's last sighting and this track's first. */
  gapMs: number;
  similarity: number;
  second: number;
}

export interface ReidUpdate {
  /** Per detection of the frame: its global id, when its track has one. */
  globalIds: (string | undefined)[];
  /** Indices of detections whose given embedding was averaged into their track. */
  sampled: number[];
  joins: JoinEvent[];
  /** Tracks that ended during this update (their identities went to the gallery). */
  ended: number;
}

export interface ReidStats {
  tracks: number;
  gallery: number;
  galleryBytes: number;
  identities: number;
  joins: number;
}

export class ReidEngine {
  readonly options: ReidOptions;
  private readonly gallery: Gallery;
  private readonly tracks = new Map<string, ReidTrack>();
  private readonly homographies = new Map<string, Matrix3>();
  private nextId = 1;
  private joins = 0;

  constructor(
    readonly dim: number,
    options: ReidOptionsInput = {},
  ) {
    this.options = resolveReidOptions(options);
    this.gallery = new Gallery(dim, { capacity: this.options.galleryCapacity, ttlMs: this.options.galleryTtlMs });
    for (const [cam, c] of Object.entries(this.options.calibrations)) {
      try {
        this.homographies.set(cam, homographyFromPairs(c.image, c.floor));
      } catch (e) {
        throw new Error(`camera ${cam}: ${(e as Error).message}`);
      }
    }
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
    this.gallery.expire(tMs);
    const verdicts = this.quality(detections, width, height);
    const globalIds: (string | undefined)[] = new Array(detections.length).fill(undefined);
    const sampled: number[] = [];
    const joins: JoinEvent[] = [];
    const h = this.homographies.get(camera);
    detections.forEach((d, i) => {
      if (typeof d.trackId !== 'number') return;
      const k = this.key(camera, d.trackId);
      let t = this.tracks.get(k);
      if (!t) {
        t = { camera, trackId: d.trackId, firstMs: tMs, lastMs: tMs, samples: 0, framesSinceSample: 0, firstBox: d.box, lastBox: d.box };
        // The tracker resumed a track we had ended (its lost buffer outlasts trackTimeoutMs): it is
        // the same person by the tracker's own judgement, so it keeps its identity and average.
        const resumed = this.gallery.findTrack(camera, d.trackId);
        if (resumed) {
          t.globalId = resumed.globalId;
          t.embedding = this.gallery.embedding(resumed.globalId);
          t.samples = o.minSamples;
          this.gallery.remove(resumed.globalId);
        }
        this.tracks.set(k, t);
      } else {
        // Re-insert so map order is last-seen order (the bound below evicts from the front).
        this.tracks.delete(k);
        this.tracks.set(k, t);
      }
      t.lastMs = tMs;
      t.lastBox = d.box;
      t.framesSinceSample++;
      if (h) t.floor = applyHomography(h, anchorPoint(d.box));
      let e = embeddings.get(i);
      if (!e && Array.isArray(d.embedding) && d.embedding.length === this.dim && verdicts[i] === 'ok') e = d.embedding;
      if (e) {
        if (e.length !== this.dim) throw new Error(`embedding for detection ${i} has ${e.length} values; expected ${this.dim}`);
        t.embedding = emaUpdate(t.embedding, e, t.samples === 0 ? 0 : o.momentum);
        t.samples++;
        t.framesSinceSample = 0;
        sampled.push(i);
      }
      if (t.globalId === undefined) {
        const age = tMs - t.firstMs;
        if (t.embedding && (t.samples >= o.minSamples || age >= o.decideAfterMs)) {
          const j = this.decide(t, tMs);
          if (j) joins.push(j);
        } else if (!t.embedding && age >= o.decideAfterMs) {
          t.globalId = this.mint();
        }
      }
      globalIds[i] = t.globalId;
    });
    // Bound: the longest-unseen live tracks end first.
    while (this.tracks.size > o.maxTracks) {
      const [k, t] = this.tracks.entries().next().value as [string, ReidTrack];
      this.finish(k, t);
      ended++;
    }
    return { globalIds, sampled, joins, ended };
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

  /** The gallery search a new track would run, for the benchmark. */
  searchGallery(embedding: ArrayLike<number>) {
    return this.gallery.search(embedding);
  }

  /** Seeds the gallery directly (benchmarks, restoring state). */
  addToGallery(entry: GalleryEntry, embedding: ArrayLike<number>): void {
    this.gallery.add(entry, embedding);
  }

  stats(): ReidStats {
    const ids = new Set<string>();
    for (const t of this.tracks.values()) if (t.globalId) ids.add(t.globalId);
    return {
      tracks: this.tracks.size,
      gallery: this.gallery.size,
      galleryBytes: this.gallery.bytes(),
      identities: ids.size + this.gallery.size,
      joins: this.joins,
    };
  }

  private mint(): string {
    return `${this.options.idPrefix}${this.nextId++}`;
  }

  private finish(k: string, t: ReidTrack): void {
    this.tracks.delete(k);
    if (t.globalId && t.embedding)
      this.gallery.add({ globalId: t.globalId, camera: t.camera, endMs: t.lastMs, floor: t.floor, box: t.lastBox, trackId: t.trackId }, t.embedding);
  }

  private transitionAllowed(from: string, to: string, gapMs: number): boolean {
    const gapS = gapMs / 1000;
    const windows = this.options.transitions.filter((w) => w.from === from && w.to === to);
    if (windows.length) return windows.some((w) => gapS >= w.minS && gapS <= w.maxS);
    if (from === to) return gapMs >= 0;
    return this.options.unlistedTransitions === 'allow' && gapMs >= 0;
  }

  private floorAllowed(e: GalleryEntry, t: ReidTrack, gapMs: number): boolean {
    if (!e.floor || !t.floor) return true;
    const dist = Math.hypot(e.floor[0] - t.floor[0], e.floor[1] - t.floor[1]);
    return dist <= this.options.maxSpeed * (gapMs / 1000) + this.options.floorTolerance;
  }

  private nearEnough(e: GalleryEntry, t: ReidTrack, gapMs: number): boolean {
    const k = this.options.sameCameraSpeed;
    if (!k || e.camera !== t.camera || !e.box) return true;
    const h = Math.max(boxHeight(e.box), boxHeight(t.firstBox), 1);
    const [ex, ey] = boxCenter(e.box);
    const [tx, ty] = boxCenter(t.firstBox);
    return Math.hypot(ex - tx, ey - ty) <= (k * (gapMs / 1000) + 1) * h;
  }

  private decide(t: ReidTrack, tMs: number): JoinEvent | undefined {
    const o = this.options;
    const m = this.gallery.search(t.embedding!, (e) => {
      const gap = t.firstMs - e.endMs;
      return this.transitionAllowed(e.camera, t.camera, gap) && this.floorAllowed(e, t, gap) && this.nearEnough(e, t, gap);
    });
    if (m && m.similarity >= o.threshold && m.similarity - m.second >= o.margin) {
      this.gallery.remove(m.entry.globalId);
      t.globalId = m.entry.globalId;
      this.joins++;
      return {
        event: 'identity-join',
        globalId: t.globalId,
        camera: t.camera,
        trackId: t.trackId,
        tMs,
        fromCamera: m.entry.camera,
        gapMs: t.firstMs - m.entry.endMs,
        similarity: Math.round(m.similarity * 1000) / 1000,
        second: Math.round(m.second * 1000) / 1000,
      };
    }
    t.globalId = this.mint();
    return undefined;
  }
}
