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
 */
import { Box, Detection, Point } from '../types';
import { anchorPoint } from '../geometry';
import { applyHomography, homographyFromPairs, Matrix3 } from './homography';
import { emaUpdate, toMessageArray } from '../vector';

export const RECORD_VERSION = 1;

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
  if (r.v !== RECORD_VERSION) throw new Error(`record version ${JSON.stringify(r.v)} is not ${RECORD_VERSION}`);
  const modelId = str(r, 'modelId', limits.maxString);
  if (modelId !== expect.modelId) throw new Error(`model ${modelId} is not this gateway's ${expect.modelId}`);
  const emb = r.embedding;
  if (!Array.isArray(emb) || emb.length !== expect.dim) throw new Error(`embedding must be ${expect.dim} numbers`);
  for (const x of emb) if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error('embedding holds a value that is not a finite number');
  const trackId = fin(r, 'trackId');
  const out: IdentityRecord = {
    v: RECORD_VERSION,
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
}

export interface TapOptions {
  /** The engine's momentum and trackTimeoutMs, so the tap ends tracks when the engine does. */
  momentum: number;
  trackTimeoutMs: number;
  /** Live tracks kept at most; beyond it the longest-unseen one ends (as in the engine). */
  maxTracks: number;
  /** Samples a track needs to be published (the engine's minSamples: a confirmed, not provisional, identity). */
  minSamples: number;
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

export function toRecord(e: EndedTrack, gateway: string, modelId: string): IdentityRecord {
  const r: IdentityRecord = {
    v: RECORD_VERSION,
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
  return r;
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
