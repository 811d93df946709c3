/**
 * The cross-camera gallery: identities whose track ended, kept for a time-to-live so a new track in
 * any camera can be matched to them. An identity may have several entries (views, one per track it
 * ended as, each with its own `key`); `size` counts entries. Bounded: at capacity the entry that ended longest ago goes.
 * Embeddings live in one flat Float32Array (capacity × dim) so a search is a tight dot-product loop
 * over contiguous memory; slots are reused.
 */
import { Box, Point } from '../types';

export interface GalleryEntry {
  globalId: string;
  camera: string;
  /** Frame time the track was last seen. */
  endMs: number;
  /** Floor position (homography units) where it was last seen, when its camera has a homography. */
  floor?: Point;
  /** Last box (pixels in its camera), for the same-camera position gate. */
  box?: Box;
  /** The per-camera track id it ended as (a tracker may resume a lost track under the same id). */
  trackId?: number;
  /**
   * Slot key when one identity keeps several views (one per track it ended as); defaults to the
   * global id, so an identity without keys has one entry.
   */
  key?: string;
}

export interface GalleryOptions {
  capacity: number;
  ttlMs: number;
}

export interface GalleryMatch {
  entry: GalleryEntry;
  similarity: number;
  /** Similarity of the second-best candidate (−1 when there was none). */
  second: number;
}

export class Gallery {
  readonly dim: number;
  readonly options: GalleryOptions;
  private readonly matrix: Float32Array;
  private readonly slots = new Map<string, number>();
  private readonly entries: (GalleryEntry | undefined)[];
  private readonly free: number[] = [];

  constructor(dim: number, options: GalleryOptions) {
    if (!Number.isInteger(dim) || dim < 1) throw new Error(`gallery dimension must be a whole number ≥ 1, got ${dim}`);
    if (!Number.isInteger(options.capacity) || options.capacity < 1) throw new Error(`gallery capacity must be a whole number ≥ 1, got ${options.capacity}`);
    if (!(options.ttlMs > 0)) throw new Error(`gallery time-to-live must be > 0 ms, got ${options.ttlMs}`);
    this.dim = dim;
    this.options = { ...options };
    this.matrix = new Float32Array(options.capacity * dim);
    this.entries = new Array(options.capacity).fill(undefined);
    for (let i = options.capacity - 1; i >= 0; i--) this.free.push(i);
  }

  get size(): number {
    return this.slots.size;
  }

  /** Bytes held: the embedding matrix plus a rough per-entry overhead for ids and maps. */
  bytes(): number {
    return this.matrix.byteLength + this.slots.size * 160;
  }

  /** Whether an identity has any view here (or an entry has this key). */
  has(globalId: string): boolean {
    if (this.slots.has(globalId)) return true;
    for (const slot of this.slots.values()) if (this.entries[slot]!.globalId === globalId) return true;
    return false;
  }

  /** Adds (or replaces) an identity; evicts the oldest entry when full. Copies the embedding. */
  add(entry: GalleryEntry, embedding: ArrayLike<number>): void {
    if (embedding.length !== this.dim) throw new Error(`embedding has ${embedding.length} values; the gallery holds ${this.dim}`);
    const key = entry.key ?? entry.globalId;
    this.remove(key);
    if (!this.free.length) this.evictOldest();
    const slot = this.free.pop()!;
    this.matrix.set(embedding, slot * this.dim);
    this.entries[slot] = { ...entry, floor: entry.floor ? [entry.floor[0], entry.floor[1]] : undefined, box: entry.box ? ([...entry.box] as Box) : undefined };
    this.slots.set(key, slot);
  }

  /** The entry that ended as this camera's track, if it is still here. */
  findTrack(camera: string, trackId: number): GalleryEntry | undefined {
    for (const slot of this.slots.values()) {
      const e = this.entries[slot]!;
      if (e.trackId === trackId && e.camera === camera) return { ...e };
    }
    return undefined;
  }

  /** A copy of an entry's embedding (by its key: the global id unless the entry was added with one). */
  embedding(key: string): Float32Array | undefined {
    const slot = this.slots.get(key);
    return slot === undefined ? undefined : this.matrix.slice(slot * this.dim, (slot + 1) * this.dim);
  }

  /** Removes one entry by its key (the global id unless it was added with a key). */
  remove(key: string): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    this.slots.delete(key);
    this.entries[slot] = undefined;
    this.free.push(slot);
    return true;
  }

  private evictOldest(): void {
    // Map order is insertion order; entries are added as tracks end, so this is nearly oldest-first,
    // but the end times decide (several cameras' clocks interleave).
    let oldest: GalleryEntry | undefined;
    for (const slot of this.slots.values()) {
      const e = this.entries[slot]!;
      if (!oldest || e.endMs < oldest.endMs) oldest = e;
    }
    if (oldest) this.remove(oldest.key ?? oldest.globalId);
  }

  /** Every entry (view) of one identity, oldest end first. */
  views(globalId: string): GalleryEntry[] {
    const out: GalleryEntry[] = [];
    for (const slot of this.slots.values()) if (this.entries[slot]!.globalId === globalId) out.push({ ...this.entries[slot]! });
    return out.sort((a, b) => a.endMs - b.endMs);
  }

  /**
   * Per identity, its best-scoring allowed view with a similarity ≥ `min`: what a track is compared
   * with when one identity has several views.
   */
  scoreIdentities(query: ArrayLike<number>, min: number, allow?: (e: GalleryEntry) => boolean): Map<string, { similarity: number; entry: GalleryEntry }> {
    if (query.length !== this.dim) throw new Error(`query has ${query.length} values; the gallery holds ${this.dim}`);
    const q = query instanceof Float32Array ? query : Float32Array.from(query);
    const out = new Map<string, { similarity: number; entry: GalleryEntry }>();
    for (const slot of this.slots.values()) {
      const e = this.entries[slot]!;
      const s = dotAt(this.matrix, slot * this.dim, q, this.dim);
      if (s < min) continue;
      const had = out.get(e.globalId);
      if (had && had.similarity >= s) continue;
      if (allow && !allow(e)) continue;
      out.set(e.globalId, { similarity: s, entry: { ...e } });
    }
    return out;
  }

  /** Drops entries that ended more than the TTL before `nowMs`; returns their ids. */
  expire(nowMs: number): string[] {
    const gone: string[] = [];
    for (const [key, slot] of this.slots) if (nowMs - this.entries[slot]!.endMs > this.options.ttlMs) gone.push(key);
    for (const id of gone) this.remove(id);
    return gone;
  }

  /**
   * The best and second-best entries by cosine similarity (embeddings are L2-normalised) among
   * those `allow` accepts. Undefined when none is allowed.
   */
  search(query: ArrayLike<number>, allow?: (e: GalleryEntry) => boolean): GalleryMatch | undefined {
    if (query.length !== this.dim) throw new Error(`query has ${query.length} values; the gallery holds ${this.dim}`);
    const d = this.dim;
    const m = this.matrix;
    // A typed copy of the query keeps the inner loop monomorphic (number[] or Float32Array callers).
    const q = query instanceof Float32Array ? query : Float32Array.from(query);
    let best = -Infinity;
    let second = -Infinity;
    let bestSlot = -1;
    for (const slot of this.slots.values()) {
      if (allow && !allow(this.entries[slot]!)) continue;
      const s = dotAt(m, slot * d, q, d);
      if (s > best) {
        second = best;
        best = s;
        bestSlot = slot;
      } else if (s > second) second = s;
    }
    if (bestSlot < 0) return undefined;
    const e = this.entries[bestSlot]!;
    return { entry: { ...e }, similarity: best, second: Number.isFinite(second) ? second : -1 };
  }

  list(): GalleryEntry[] {
    return [...this.slots.values()].map((s) => ({ ...this.entries[s]! }));
  }
}

/** Dot product of q with m[o .. o+d), unrolled by four. */
function dotAt(m: Float32Array, o: number, q: Float32Array, d: number): number {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  let i = 0;
  for (; i + 3 < d; i += 4) {
    s0 += m[o + i] * q[i];
    s1 += m[o + i + 1] * q[i + 1];
    s2 += m[o + i + 2] * q[i + 2];
    s3 += m[o + i + 3] * q[i + 3];
  }
  for (; i < d; i++) s0 += m[o + i] * q[i];
  return s0 + s1 + s2 + s3;
}
