/**
 * The frame store: a bounded ring of recent frames per camera (../../DESIGN.md, "Frames never ride
 * on messages"). Messages carry a FrameRef; a stage that needs pixels asks the store. A frame that has
 * been evicted is a dropped frame for whoever asks late — counted, never an error.
 */
import { Frame, FrameRef, PixelFormat } from './types';

export interface FrameStoreOptions {
  /** Frames kept per camera. Enough to cover a slow detector's lag at the source rate. */
  capacity?: number;
  /**
   * Cameras held at most: one more evicts the camera put to least recently (its pixels and its
   * reader positions). Default 64. A flow that puts something else in msg.topic (an image per
   * request under a new topic) would otherwise keep every ring it ever made.
   */
  maxCameras?: number;
  /** A camera not put to for this long (the caller's ms, as passed to put) is forgotten. Default 10 min. */
  idleMs?: number;
}

export interface FrameStoreTotals {
  cameras: number;
  /** Cameras forgotten because the store held maxCameras and another came. */
  evictedCameras: number;
  /** Cameras forgotten because nothing was put for idleMs. */
  idleCameras: number;
}

export interface CameraStoreStats {
  camera: string;
  /** Frames put since the camera was first seen. */
  frames: number;
  /** Frames pushed out of the ring to make room. */
  evicted: number;
  /** get() calls that found their frame already evicted. */
  misses: number;
  /** Bytes held now. */
  bytes: number;
}

/**
 * A stored frame and who still reads it. `release` (the source's frame pool) gets the pixels back
 * once the frame has left the ring (`gone`) and no lease is open.
 */
interface Slot {
  frame: Frame;
  release?: (data: Uint8Array) => void;
  leases: number;
  gone: boolean;
}

/** Pixels held past a synchronous read: call `done()` once they are no longer read. */
export interface FrameLease {
  frame: Frame;
  done(): void;
}

const NO_READERS: ReadonlyMap<string, number> = new Map();

const BYTES_PER_PIXEL: Record<PixelFormat, number> = { rgb24: 3, bgr24: 3, gray8: 1 };

export function frameBytes(width: number, height: number, format: PixelFormat): number {
  return width * height * BYTES_PER_PIXEL[format];
}

class CameraRing {
  readonly slots: (Slot | undefined)[];
  nextSeq = 0;
  /** The caller's time of the last put (NaN: never told). */
  putMs = NaN;
  /** Newest seq each named reader has fetched (readers that must see every frame they are sent). */
  readonly readers = new Map<string, number>();
  evicted = 0;
  misses = 0;
  bytes = 0;
  /** The newest frame time put (kept over release(), like nextSeq). */
  lastTMs = -Infinity;
  constructor(capacity: number) {
    this.slots = new Array(capacity);
  }
}

export class FrameStore {
  private readonly capacity: number;
  readonly maxCameras: number;
  readonly idleMs: number;
  /** Cameras in put order: the first is the one put to least recently. */
  private readonly cameras = new Map<string, CameraRing>();
  /**
   * Above every seq a forgotten camera handed out: a camera that comes back starts here, so a seq
   * never names two frames of one camera for the life of the store (a stage may still hold an old ref).
   */
  private seqFloor = 0;
  /** Cameras whose source waits for their named readers (setPaced). */
  private readonly paced = new Set<string>();
  /** camera → reader → the longest frame side it needs (0: full resolution). See want(). */
  private readonly wants = new Map<string, Map<string, number>>();
  private lastSweepMs = -Infinity;
  private evictedCameras = 0;
  private idleCameras = 0;

  constructor(options: FrameStoreOptions = {}) {
    const capacity = options.capacity ?? 8;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new Error(`frame store capacity must be a whole number ≥ 1, got ${capacity}`);
    }
    const maxCameras = options.maxCameras ?? 64;
    if (!Number.isInteger(maxCameras) || maxCameras < 1) throw new Error(`frame store max cameras must be a whole number ≥ 1, got ${maxCameras}`);
    const idleMs = options.idleMs ?? 10 * 60 * 1000;
    if (!(idleMs > 0)) throw new Error(`frame store idle time must be > 0 ms, got ${idleMs}`);
    this.capacity = capacity;
    this.maxCameras = maxCameras;
    this.idleMs = idleMs;
  }

  /**
   * Stores pixels and returns the reference to put on the message. The store keeps `data` as given
   * (no copy): the caller hands over ownership and must not write to it afterwards.
   *
   * `nowMs` is the caller's clock (wall ms; not the frame time, which may be a file's media time):
   * with it, cameras not put to for idleMs are forgotten (checked here, at most every idleMs / 10).
   *
   * `release`: pooled pixels (a camera source's FramePool). The store calls it with `data` once the
   * frame has left the ring (evicted, released, or its camera forgotten) and every lease on it is
   * done, and the buffer may then be reused for another frame. This is why a stage that reads pixels
   * after an await or a callback must `lease()` them; a synchronous read after `get()` is safe,
   * since a frame leaves the ring only in a later put.
   */
  put(
    camera: string,
    data: Uint8Array,
    width: number,
    height: number,
    tMs: number,
    format: PixelFormat = 'rgb24',
    nowMs?: number,
    release?: (data: Uint8Array) => void,
  ): FrameRef {
    const expected = frameBytes(width, height, format);
    if (data.length !== expected) {
      throw new Error(`frame for camera "${camera}" has ${data.length} bytes; ${width}×${height} ${format} needs ${expected}`);
    }
    if (nowMs !== undefined && nowMs - this.lastSweepMs >= this.idleMs / 10) this.sweep(nowMs);
    let ring = this.cameras.get(camera);
    if (ring) {
      // Re-inserted: the map stays in put order, so the least recently put camera is the first.
      this.cameras.delete(camera);
      this.cameras.set(camera, ring);
    } else {
      ring = new CameraRing(this.capacity);
      ring.nextSeq = this.seqFloor;
      this.cameras.set(camera, ring);
      while (this.cameras.size > this.maxCameras) {
        this.forget(this.cameras.keys().next().value as string);
        this.evictedCameras++;
      }
    }
    if (nowMs !== undefined) ring.putMs = nowMs;
    const seq = ring.nextSeq++;
    const slot = seq % this.capacity;
    const old = ring.slots[slot];
    if (old) {
      ring.evicted++;
      ring.bytes -= old.frame.data.length;
      leave(old);
    }
    const ref: FrameRef = { camera, seq, tMs, width, height, format };
    if (tMs > ring.lastTMs) ring.lastTMs = tMs;
    ring.slots[slot] = { frame: { ref, data }, release, leases: 0, gone: false };
    ring.bytes += data.length;
    return ref;
  }

  /**
   * The frame's pixels, or undefined once evicted (or never stored). A miss is counted.
   *
   * `reader`: a stage that must see the pixels of every frame it is sent (detect, a motion reading)
   * names itself (its node id), and a file replayed at full speed paces itself to the slowest such
   * reader (`readPositions`). A sampler that only wants the newest pixels now and then (a view, a
   * busy re-id) leaves it out: it must not hold the replay back, nor hurry it past the others.
   */
  get(ref: FrameRef, reader?: string): Frame | undefined {
    return this.slotOf(ref, reader)?.frame;
  }

  /**
   * Like get(), for a stage that reads the pixels after an await or a callback (an encoder, a crop in
   * another thread): the pixels stay as they are until `done()`, even if the frame leaves the ring
   * meanwhile (its pooled buffer is not reused before). Call done() exactly once, on every path.
   */
  lease(ref: FrameRef, reader?: string): FrameLease | undefined {
    const s = this.slotOf(ref, reader);
    if (!s) return undefined;
    s.leases++;
    let open = true;
    return {
      frame: s.frame,
      done: () => {
        if (!open) return;
        open = false;
        s.leases--;
        if (s.gone && s.leases === 0) s.release?.(s.frame.data);
      },
    };
  }

  private slotOf(ref: FrameRef, reader?: string): Slot | undefined {
    const ring = this.cameras.get(ref.camera);
    const s = ring?.slots[ref.seq % this.capacity];
    if (s && s.frame.ref.seq === ref.seq) {
      if (reader !== undefined && ref.seq > (ring!.readers.get(reader) ?? -1)) ring!.readers.set(reader, ref.seq);
      return s;
    }
    if (ring) ring.misses++;
    return undefined;
  }

  /** The newest frame of a camera (for snapshots and views; lease() its ref to keep it past this turn). */
  latest(camera: string): Frame | undefined {
    const ring = this.cameras.get(camera);
    if (!ring || ring.nextSeq === 0) return undefined;
    return ring.slots[(ring.nextSeq - 1) % this.capacity]?.frame;
  }

  /** True when a newer frame than `ref` has been stored for its camera (latest-frame-wins checks). */
  hasNewer(ref: FrameRef): boolean {
    const ring = this.cameras.get(ref.camera);
    return !!ring && ring.nextSeq - 1 > ref.seq;
  }

  /**
   * The newest seq each named reader has fetched from this camera (empty when none has): a live,
   * read-only view, not a copy, since a file replay asks after every frame. A source that can go
   * faster than real time uses it to wait for its readers instead of outrunning them
   * (video/replay-pacer.ts).
   */
  readPositions(camera: string): ReadonlyMap<string, number> {
    return this.cameras.get(camera)?.readers ?? NO_READERS;
  }

  /**
   * A source says whether it waits for this camera's named readers (a file replayed as fast as they
   * take it, video/replay-pacer.ts). A paced camera's frames come no faster than the slowest reader
   * reads them, so a reader may queue every one instead of keeping only the newest: the replay then
   * processes every frame, and the same file gives the same figures in every run.
   */
  setPaced(camera: string, paced: boolean): void {
    if (paced) this.paced.add(camera);
    else this.paced.delete(camera);
  }

  isPaced(camera: string): boolean {
    return this.paced.has(camera);
  }

  /**
   * A named reader has been sent this frame but cannot read it yet (its model is still loading): a
   * paced source waits for it from here on, as if it had read the frame before. No effect once it
   * has read from this camera. Without it, a replay that starts before the model is ready runs on
   * until the first read, and its first seconds never reach the detector.
   */
  expect(ref: FrameRef, reader: string): void {
    const ring = this.cameras.get(ref.camera);
    if (ring && !ring.readers.has(reader)) ring.readers.set(reader, ref.seq - 1);
  }

  /** A reader is gone (its node closed): it no longer counts as one to wait for, on any camera. */
  forgetReader(reader: string): void {
    for (const ring of this.cameras.values()) ring.readers.delete(reader);
    for (const [camera, w] of this.wants) if (w.delete(reader) && w.size === 0) this.wants.delete(camera);
  }

  /**
   * A reader says how large this camera's frames need to be for it: `longSide` pixels on the longer
   * side (detect: its model's input size; a view: its picture's size), or 0 for the full resolution
   * (re-id crops). A camera-source whose frame size follows its readers has ffmpeg scale to the
   * largest need (wantedSide), so that no stage gets more pixels than it uses. Kept until the
   * reader is forgotten (forgetReader) or the camera is.
   */
  want(camera: string, reader: string, longSide: number): void {
    if (!Number.isFinite(longSide) || longSide < 0) throw new Error(`frame size wanted for camera "${camera}" must be ≥ 0 pixels, got ${longSide}`);
    let w = this.wants.get(camera);
    if (!w) {
      if (this.wants.size >= this.maxCameras) this.wants.delete(this.wants.keys().next().value as string);
      w = new Map();
      this.wants.set(camera, w);
    }
    w.set(reader, Math.ceil(longSide));
  }

  /** The longest side a camera's readers need: undefined when none has said, 0 when one needs full resolution. */
  wantedSide(camera: string): number | undefined {
    const w = this.wants.get(camera);
    if (!w || w.size === 0) return undefined;
    let max = 0;
    for (const v of w.values()) {
      if (v === 0) return 0;
      if (v > max) max = v;
    }
    return max;
  }

  /**
   * The newest frame time ever put for a camera, also after release(): a source that starts again in
   * this process (a redeploy) continues its timeline after it. Undefined for a camera never seen.
   */
  lastTime(camera: string): number | undefined {
    const r = this.cameras.get(camera);
    return r && r.lastTMs > -Infinity ? r.lastTMs : undefined;
  }

  /**
   * Forgets the cameras not put to for idleMs at nowMs (those put without a time are left alone);
   * returns their ids. put() calls it when given the time.
   */
  sweep(nowMs: number): string[] {
    this.lastSweepMs = nowMs;
    const gone: string[] = [];
    for (const [camera, ring] of this.cameras) if (nowMs - ring.putMs >= this.idleMs) gone.push(camera);
    for (const camera of gone) this.forget(camera);
    this.idleCameras += gone.length;
    return gone;
  }

  /** Cameras held, and how many were forgotten and why. */
  totals(): FrameStoreTotals {
    return { cameras: this.cameras.size, evictedCameras: this.evictedCameras, idleCameras: this.idleCameras };
  }

  private forget(camera: string): void {
    const ring = this.cameras.get(camera);
    if (!ring) return;
    this.seqFloor = Math.max(this.seqFloor, ring.nextSeq);
    this.cameras.delete(camera);
    this.paced.delete(camera);
    for (const s of ring.slots) if (s) leave(s);
  }

  stats(camera: string): CameraStoreStats | undefined {
    const r = this.cameras.get(camera);
    if (!r) return undefined;
    return { camera, frames: r.nextSeq, evicted: r.evicted, misses: r.misses, bytes: r.bytes };
  }

  cameraIds(): string[] {
    return [...this.cameras.keys()];
  }

  /**
   * Releases a camera's pixels (its source stopped). The sequence counter is kept, so a restarted
   * source never reuses a seq that a downstream stage may still hold.
   */
  release(camera: string): void {
    const ring = this.cameras.get(camera);
    if (!ring) return;
    for (const s of ring.slots) if (s) leave(s);
    ring.slots.fill(undefined);
    ring.bytes = 0;
  }
}

/** A frame has left its ring: its pooled pixels go back once nobody holds a lease on them. */
function leave(s: Slot): void {
  if (s.gone) return;
  s.gone = true;
  if (s.leases === 0) s.release?.(s.frame.data);
}

/**
 * The process-wide store shared by every node. Keyed on a global symbol so that two copies of this
 * module (a test harness and a flow, say) still share one store; this is the only global the engine has.
 */
const KEY = Symbol.for('edgevision.frameStore');
type WithStore = typeof globalThis & { [KEY]?: FrameStore };

export function sharedFrameStore(): FrameStore {
  const g = globalThis as WithStore;
  if (!g[KEY]) {
    const cap = Number(process.env.EDGEVISION_FRAME_STORE_CAPACITY || 8);
    const maxCameras = Number(process.env.EDGEVISION_FRAME_STORE_MAX_CAMERAS || 64);
    g[KEY] = new FrameStore({ capacity: cap, maxCameras });
  }
  return g[KEY]!;
}
