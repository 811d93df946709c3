/**
 * Identities across gateways: what one gateway tells the others about a person it has seen, and the
 * small state machines around it. Pure: no MQTT client, no clock (times are passed in); the node glue
 * (nodes/reid/share.ts) moves records between these classes and a broker.
 *
 * It is an adapter around the engine, not a part of it: it watches what enters ReidEngine.update()
 * (the sampled embeddings) and what leaves (global ids), keeps the same per-track average, and when a
 * track ends hands out the record that the engine's own gallery gets. Records from other gateways go
 * into the engine through its one gallery entry point (addToGallery), so they are matched by the same
 * rules as a local camera's ended track: threshold, margin, transition windows, the floor gate.
 *
 * Topic layout: `<root>/<modelId>/<gateway>/<camera>`; a gateway subscribes to `<root>/<modelId>/+/+`,
 * so embeddings of different models (colour vs OSNet, 168-d vs 512-d) never meet. Presence:
 * `<root>/_gateways/<gateway>`, retained, with a last will.
 *
 * Live tracks (record version 2, `state: "live"`) go to `<root>/<modelId>/<gateway>/<camera>/live`:
 * confirmed tracks still in view, sent again when their average moved or every `liveEveryMs`, so a
 * gateway whose camera sees the same place at the same time can join them while both are live (the
 * engine's observeRemote). A gateway of version 1 subscribes to `+/+` only and never hears them; the
 * end of a track is still the version-1 record it always was.
 */
import { Box, Detection, Point } from '../types';
import { anchorPoint } from '../geometry';
import { applyHomography, homographyFromPairs, Matrix3 } from './homography';
import { emaUpdate, toMessageArray } from '../vector';

export const RECORD_VERSION = 1;
/** Version of live records (`state: "live"`); ended records stay version 1 so older gateways read them. */
export const LIVE_RECORD_VERSION = 2;

/** One ended track of one camera of one gateway: enough for another gateway to match it. */
export interface IdentityRecord {
  v: number;
  /** Publishing gateway (unique in the plant). */
  gateway: string;
  camera: string;
  trackId: number;
  globalId: string;
  /** Which embedder made the vector ("onnx:osnet_x0_25_msmt17:512", "colour:v1:168"). */
  modelId: string;
  /** Frame times (epoch ms on live cameras; gateways are assumed to share a clock, e.g. NTP). */
  firstMs: number;
  endMs: number;
  /** Embeddings averaged into `embedding`. */
  samples: number;
  /** Last floor position, in the plant's floor frame, when the camera is calibrated. */
  floor?: Point;
  /** L2-normalised, 4 decimals. */
  embedding: number[];
  /** Version 2 only: "live" (still in view; `endMs` is when it was last seen) or "ended". */
  state?: 'live' | 'ended';
}

export interface ExchangeLimits {
  /** A payload larger than this is refused before parsing. */
  maxBytes: number;
  /** Longest gateway, camera, global id or model id. */
  maxString: number;
}

export const DEFAULT_EXCHANGE_LIMITS: Readonly<ExchangeLimits> = Object.freeze({ maxBytes: 64 * 1024, maxString: 128 });

/** The model id that goes on records and into the topic: kind, model name, dimension. */
export function modelIdOf(kind: 'onnx' | 'colour', dim: number, modelName = ''): string {
  const name = kind === 'colour' ? 'v1' : modelName.replace(/\.onnx$/i, '') || 'model';
  return topicLevel(`${kind}:${name}:${dim}`);
}

/** One MQTT topic level: no wildcards, separators or control characters, at most 128 characters. */
export function topicLevel(s: string): string {
  // eslint-disable-next-line no-control-regex
  return (s.replace(/[+#/\u0000-\u001f\u007f]/g, '_') || '_').slice(0, 128);
}

export function identityTopic(root: string, modelId: string, gateway: string, camera: string): string {
  return `${root}/${topicLevel(modelId)}/${topicLevel(gateway)}/${topicLevel(camera)}`;
}

export function subscriptionTopic(root: string, modelId: string): string {
  return `${root}/${topicLevel(modelId)}/+/+`;
}

/** Where live records of one camera go: a fifth level, so version-1 subscribers (`+/+`) never get them. */
export function liveTopic(root: string, modelId: string, gateway: string, camera: string): string {
  return `${identityTopic(root, modelId, gateway, camera)}/live`;
}

export function liveSubscriptionTopic(root: string, modelId: string): string {
  return `${root}/${topicLevel(modelId)}/+/+/live`;
}

export function presenceTopic(root: string, gateway: string): string {
  return `${root}/_gateways/${topicLevel(gateway)}`;
}

/** A topic root: levels without wildcards, no leading or trailing slash. Throws with the reason. */
export function checkTopicRoot(root: string): string {
  const r = root.trim();
  if (!r) throw new Error('topic root must not be empty');
  // eslint-disable-next-line no-control-regex
  if (/[+#\u0000]/.test(r)) throw new Error(`topic root must not contain + or # (got "${r}")`);
  if (r.startsWith('/') || r.endsWith('/') || r.includes('//')) throw new Error(`topic root "${r}" must not start or end with / or have empty levels`);
  if (Buffer.byteLength(r) > 512) throw new Error('topic root is longer than 512 bytes');
  return r;
}

export function encodeRecord(r: IdentityRecord): string {
  return JSON.stringify(r);
}

function str(o: Record<string, unknown>, k: string, max: number): string {
  const v = o[k];
  if (typeof v !== 'string' || !v) throw new Error(`${k} must be a non-empty string`);
  if (v.length > max) throw new Error(`${k} is longer than ${max} characters`);
  return v;
}

function fin(o: Record<string, unknown>, k: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${k} must be a finite number`);
  return v;
}

/**
 * Parses and checks one payload against what this gateway can use: same model id and dimension,
 * within the size bounds. Throws with the reason (the glue counts and names refused records).
 */
export function decodeRecord(
  raw: string | Uint8Array,
  expect: { modelId: string; dim: number },
  limits: ExchangeLimits = DEFAULT_EXCHANGE_LIMITS,
): IdentityRecord {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.byteLength;
  if (size > limits.maxBytes) throw new Error(`record of ${size} bytes is over the ${limits.maxBytes}-byte bound`);
  let o: unknown;
  try {
    o = JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
  } catch (e) {
    throw new Error(`not JSON: ${(e as Error).message}`);
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new Error('not a JSON object');
  const r = o as Record<string, unknown>;
  if (r.v !== RECORD_VERSION && r.v !== LIVE_RECORD_VERSION)
    throw new Error(`record version ${JSON.stringify(r.v)} is not ${RECORD_VERSION} or ${LIVE_RECORD_VERSION}`);
  if (r.v === LIVE_RECORD_VERSION && r.state !== 'live' && r.state !== 'ended') throw new Error('a version 2 record needs state "live" or "ended"');
  const modelId = str(r, 'modelId', limits.maxString);
  if (modelId !== expect.modelId) throw new Error(`model ${modelId} is not this gateway's ${expect.modelId}`);
  const emb = r.embedding;
  if (!Array.isArray(emb) || emb.length !== expect.dim) throw new Error(`embedding must be ${expect.dim} numbers`);
  for (const x of emb) if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error('embedding holds a value that is not a finite number');
  const trackId = fin(r, 'trackId');
  const out: IdentityRecord = {
    v: r.v as number,
    gateway: str(r, 'gateway', limits.maxString),
    camera: str(r, 'camera', limits.maxString),
    trackId,
    globalId: str(r, 'globalId', limits.maxString),
    modelId,
    firstMs: fin(r, 'firstMs'),
    endMs: fin(r, 'endMs'),
    samples: fin(r, 'samples'),
    embedding: emb as number[],
  };
  if (r.v === LIVE_RECORD_VERSION) out.state = r.state as 'live' | 'ended';
  if (r.floor !== undefined) {
    const f = r.floor;
    if (!Array.isArray(f) || f.length !== 2 || !f.every((x) => typeof x === 'number' && Number.isFinite(x))) throw new Error('floor must be [X, Y]');
    out.floor = [f[0], f[1]];
  }
  return out;
}

/** Image → floor per calibrated camera (the bottom centre of a box is where the person stands). */
export class FloorProjector {
  private readonly h = new Map<string, Matrix3>();
  constructor(calibrations: Record<string, { image: Point[]; floor: Point[] }> = {}) {
    for (const [cam, c] of Object.entries(calibrations)) this.h.set(cam, homographyFromPairs(c.image, c.floor));
  }
  has(camera: string): boolean {
    return this.h.has(camera);
  }
  project(camera: string, box: Box): Point | undefined {
    const h = this.h.get(camera);
    if (!h) return undefined;
    const p = applyHomography(h, anchorPoint(box));
    return Number.isFinite(p[0]) && Number.isFinite(p[1]) ? [Math.round(p[0] * 1000) / 1000, Math.round(p[1] * 1000) / 1000] : undefined;
  }
}

/** A track as the tap sees it: the same average the engine keeps. */
interface TappedTrack {
  camera: string;
  trackId: number;
  firstMs: number;
  lastMs: number;
  samples: number;
  embedding?: Float32Array;
  globalId?: string;
  floor?: Point;
  /** What the last live record said, and when. */
  sentMs?: number;
  sentGlobalId?: string;
  sentEmbedding?: Float32Array;
}

export interface TapOptions {
  /** The engine's momentum and trackTimeoutMs, so the tap ends tracks when the engine does. */
  momentum: number;
  trackTimeoutMs: number;
  /** Live tracks kept at most; beyond it the longest-unseen one ends (as in the engine). */
  maxTracks: number;
  /** Samples a track needs to be published (the engine's minSamples: a confirmed, not provisional, identity). */
  minSamples: number;
  /** A confirmed live track is sent again at least this often (ms); 0: live tracks are not sent. */
  liveEveryMs?: number;
  /** …and sooner (at most every liveEveryMs / 4) when its average moved by this much (1 − cosine). */
  liveMinChange?: number;
}

/** A confirmed track still in view: what a live record carries. */
export interface LiveTrack extends EndedTrack {
  live: true;
}

/** An ended track that had an identity and at least minSamples good crops: what is published. */
export interface EndedTrack {
  camera: string;
  trackId: number;
  globalId: string;
  firstMs: number;
  endMs: number;
  samples: number;
  embedding: Float32Array;
  floor?: Point;
}

/**
 * Watches one engine from outside: per frame, the detections, the embeddings the engine averaged
 * (ReidUpdate.sampled) and the global ids it gave. Ends tracks on the engine's rules (unseen for
 * trackTimeoutMs at the next frame, a track-end event, a camera reset, the live-track bound).
 */
export class TrackTap {
  private readonly tracks = new Map<string, TappedTrack>();
  constructor(
    readonly options: TapOptions,
    private readonly floor = new FloorProjector(),
  ) {}

  get size(): number {
    return this.tracks.size;
  }

  private key(camera: string, trackId: number): string {
    return `${camera}\u0000${trackId}`;
  }

  observe(
    camera: string,
    tMs: number,
    detections: readonly Detection[],
    sampled: ReadonlyMap<number, ArrayLike<number>>,
    globalIds: readonly (string | undefined)[],
  ): EndedTrack[] {
    const ended = this.sweep(tMs);
    detections.forEach((d, i) => {
      if (typeof d.trackId !== 'number') return;
      const k = this.key(camera, d.trackId);
      let t = this.tracks.get(k);
      if (t) this.tracks.delete(k);
      else t = { camera, trackId: d.trackId, firstMs: tMs, lastMs: tMs, samples: 0 };
      this.tracks.set(k, t);
      t.lastMs = tMs;
      const e = sampled.get(i);
      if (e) {
        t.embedding = emaUpdate(t.embedding, e, t.samples === 0 ? 0 : this.options.momentum);
        t.samples++;
      }
      if (globalIds[i] !== undefined) t.globalId = globalIds[i];
      const f = this.floor.project(camera, d.box);
      if (f) t.floor = f;
    });
    while (this.tracks.size > this.options.maxTracks) {
      const [k, t] = this.tracks.entries().next().value as [string, TappedTrack];
      this.tracks.delete(k);
      const e = this.ended(t);
      if (e) ended.push(e);
    }
    return ended;
  }

  /**
   * Confirmed live tracks due for a live record at `tMs`: never sent, their global id changed, their
   * average moved by liveMinChange (at most every liveEveryMs / 4), or liveEveryMs since the last.
   * Marks them sent. Empty when liveEveryMs is 0.
   */
  dueLive(tMs: number): LiveTrack[] {
    const every = this.options.liveEveryMs ?? 0;
    if (!(every > 0)) return [];
    const move = this.options.liveMinChange ?? 0.02;
    const out: LiveTrack[] = [];
    for (const t of this.tracks.values()) {
      if (!t.globalId || !t.embedding || t.samples < this.options.minSamples || t.lastMs !== tMs) continue;
      const since = t.sentMs === undefined ? Infinity : tMs - t.sentMs;
      const moved = () => !t.sentEmbedding || 1 - dotOf(t.sentEmbedding, t.embedding!) >= move;
      if (!(t.sentGlobalId !== t.globalId || since >= every || (since >= every / 4 && moved()))) continue;
      t.sentMs = tMs;
      t.sentGlobalId = t.globalId;
      t.sentEmbedding = t.embedding;
      out.push({ ...this.ended(t)!, live: true });
    }
    return out;
  }

  sweep(tMs: number): EndedTrack[] {
    const out: EndedTrack[] = [];
    for (const [k, t] of [...this.tracks]) {
      if (tMs - t.lastMs <= this.options.trackTimeoutMs) continue;
      this.tracks.delete(k);
      const e = this.ended(t);
      if (e) out.push(e);
    }
    return out;
  }

  end(camera: string, trackId: number): EndedTrack | undefined {
    const k = this.key(camera, trackId);
    const t = this.tracks.get(k);
    if (!t) return undefined;
    this.tracks.delete(k);
    return this.ended(t);
  }

  endCamera(camera: string): EndedTrack[] {
    const out: EndedTrack[] = [];
    for (const [k, t] of [...this.tracks]) {
      if (t.camera !== camera) continue;
      this.tracks.delete(k);
      const e = this.ended(t);
      if (e) out.push(e);
    }
    return out;
  }

  clear(): void {
    this.tracks.clear();
  }

  private ended(t: TappedTrack): EndedTrack | undefined {
    if (!t.globalId || !t.embedding || t.samples < this.options.minSamples) return undefined;
    return {
      camera: t.camera,
      trackId: t.trackId,
      globalId: t.globalId,
      firstMs: t.firstMs,
      endMs: t.lastMs,
      samples: t.samples,
      embedding: t.embedding,
      floor: t.floor,
    };
  }
}

function dotOf(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** An ended track → a version-1 record; a live one (LiveTrack) → a version-2 record with state "live". */
export function toRecord(e: EndedTrack | LiveTrack, gateway: string, modelId: string): IdentityRecord {
  const r: IdentityRecord = {
    v: 'live' in e ? LIVE_RECORD_VERSION : RECORD_VERSION,
    gateway,
    camera: e.camera,
    trackId: e.trackId,
    globalId: e.globalId,
    modelId,
    firstMs: e.firstMs,
    endMs: e.endMs,
    samples: e.samples,
    embedding: toMessageArray(e.embedding),
  };
  if (e.floor) r.floor = [e.floor[0], e.floor[1]];
  if ('live' in e) r.state = 'live';
  return r;
}

/** The key one remote track has in the engine (observeRemote / endRemote). */
export function remoteTrackKey(r: Pick<IdentityRecord, 'gateway' | 'camera' | 'trackId'>): string {
  return `${remoteCamera(r)}\u0000${r.trackId}`;
}

/** How a remote record is named in the local gallery: its camera, qualified by its gateway. */
export function remoteCamera(r: Pick<IdentityRecord, 'gateway' | 'camera'>): string {
  return `${r.gateway}/${r.camera}`;
}

export type IntakeVerdict = 'accept' | 'own' | 'duplicate' | 'stale';

/**
 * Which remote records go into the gallery: not our own (a wildcard subscription hears them too), not
 * a redelivery (QoS 1 is at-least-once), not older than what we already have for that identity.
 * Remembers at most `capacity` identities (oldest forgotten first).
 */
export class RemoteIntake {
  private readonly newest = new Map<string, number>();
  /** Live records: newest last-seen time per remote track. */
  private readonly newestLive = new Map<string, number>();
  constructor(
    readonly gateway: string,
    readonly capacity = 10000,
  ) {}

  judge(r: IdentityRecord): IntakeVerdict {
    if (r.gateway === this.gateway) return 'own';
    const seen = this.newest.get(r.globalId);
    if (seen !== undefined && r.endMs === seen) return 'duplicate';
    if (seen !== undefined && r.endMs < seen) return 'stale';
    this.newest.delete(r.globalId);
    this.newest.set(r.globalId, r.endMs);
    while (this.newest.size > this.capacity) this.newest.delete(this.newest.keys().next().value as string);
    return 'accept';
  }

  /** A live record: not our own, newer than the last one of that track (QoS 0 may reorder nothing, but a reconnect may). */
  judgeLive(r: IdentityRecord): IntakeVerdict {
    if (r.gateway === this.gateway) return 'own';
    const k = remoteTrackKey(r);
    const seen = this.newestLive.get(k);
    if (seen !== undefined && r.endMs === seen) return 'duplicate';
    if (seen !== undefined && r.endMs < seen) return 'stale';
    this.newestLive.delete(k);
    this.newestLive.set(k, r.endMs);
    while (this.newestLive.size > this.capacity) this.newestLive.delete(this.newestLive.keys().next().value as string);
    return 'accept';
  }

  /** The remote track ended (its end record came): its live entry is forgotten. */
  forgetLive(r: IdentityRecord): void {
    this.newestLive.delete(remoteTrackKey(r));
  }

  /** A local track ended with this identity: a remote record older than it is stale. */
  noteLocal(globalId: string, endMs: number): void {
    const seen = this.newest.get(globalId);
    if (seen !== undefined && seen >= endMs) return;
    this.newest.delete(globalId);
    this.newest.set(globalId, endMs);
    while (this.newest.size > this.capacity) this.newest.delete(this.newest.keys().next().value as string);
  }

  clear(): void {
    this.newest.clear();
    this.newestLive.clear();
  }
}

/**
 * Records waiting while the broker is away: first in, first out, at most `capacity`; when full the
 * oldest is dropped and counted (an identity that old is the least likely to be matched).
 */
export class OutboundQueue<T> {
  private items: T[] = [];
  dropped = 0;
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`queue capacity must be a whole number ≥ 1, got ${capacity}`);
  }
  get length(): number {
    return this.items.length;
  }
  push(x: T): void {
    this.items.push(x);
    if (this.items.length > this.capacity) {
      this.items.splice(0, this.items.length - this.capacity);
      this.dropped++;
    }
  }
  /** Takes up to n from the front. */
  take(n: number): T[] {
    return this.items.splice(0, Math.max(0, n));
  }
  /** Puts items back at the front (a publish that failed), keeping the bound. */
  unshift(xs: T[]): void {
    this.items = [...xs, ...this.items];
    if (this.items.length > this.capacity) {
      const over = this.items.length - this.capacity;
      this.items.splice(0, over);
      this.dropped += over;
    }
  }
}
