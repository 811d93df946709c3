/**
 * Per-camera state with a bound: a node keeps one entry per camera id (msg.topic), and a flow that
 * puts something else in msg.topic (a timestamp, a file name) would otherwise grow it forever.
 * Entries not used for `idleMs` are released by `sweep`, and beyond `maxCameras` the least recently
 * used one is evicted at once. Pure: the caller passes its clock in (wall ms); nothing here reads one.
 * Eviction order is use order (a Map re-inserted on every use), so every operation is O(1) but
 * `sweep`, which stops at the first entry still in use.
 */

export interface CameraTableOptions {
  /** Entries held at most; one more evicts the least recently used. */
  maxCameras: number;
  /** An entry not used for this long (caller's ms) is released by sweep(); Infinity = never. */
  idleMs: number;
}

/** Cameras per node unless told otherwise: more is a wiring mistake (a per-frame topic), not a plant. */
export const DEFAULT_MAX_CAMERAS = 64;
/** A camera not heard from for this long is forgotten (10 minutes). */
export const DEFAULT_CAMERA_IDLE_MS = 10 * 60 * 1000;

export interface Evicted<T> {
  camera: string;
  value: T;
  reason: 'idle' | 'cap';
}

interface Slot<T> {
  value: T;
  usedMs: number;
}

export class CameraTable<T> {
  readonly options: CameraTableOptions;
  private readonly map = new Map<string, Slot<T>>();
  /** Entries released because they were idle. */
  evictedIdle = 0;
  /** Entries evicted because the table was full. */
  evictedCap = 0;

  constructor(options: Partial<CameraTableOptions> = {}) {
    const o = { maxCameras: DEFAULT_MAX_CAMERAS, idleMs: DEFAULT_CAMERA_IDLE_MS, ...options };
    if (!Number.isInteger(o.maxCameras) || o.maxCameras < 1) throw new Error(`max cameras must be a whole number ≥ 1, got ${o.maxCameras}`);
    if (!(o.idleMs > 0)) throw new Error(`camera idle time must be > 0 ms, got ${o.idleMs}`);
    this.options = o;
  }

  get size(): number {
    return this.map.size;
  }

  has(camera: string): boolean {
    return this.map.has(camera);
  }

  /** The entry without marking it used. */
  peek(camera: string): T | undefined {
    return this.map.get(camera)?.value;
  }

  /** The entry, marked used at nowMs. */
  get(camera: string, nowMs: number): T | undefined {
    const s = this.map.get(camera);
    if (!s) return undefined;
    this.map.delete(camera);
    s.usedMs = nowMs;
    this.map.set(camera, s);
    return s.value;
  }

  /**
   * Adds or replaces an entry, marked used at nowMs; returns the entries evicted to make room
   * (least recently used first). The caller releases what they hold.
   */
  set(camera: string, value: T, nowMs: number): Evicted<T>[] {
    this.map.delete(camera);
    this.map.set(camera, { value, usedMs: nowMs });
    const out: Evicted<T>[] = [];
    while (this.map.size > this.options.maxCameras) {
      const [k, s] = this.map.entries().next().value as [string, Slot<T>];
      this.map.delete(k);
      this.evictedCap++;
      out.push({ camera: k, value: s.value, reason: 'cap' });
    }
    return out;
  }

  /** Entries unused for idleMs at nowMs, removed and returned (least recently used first). */
  sweep(nowMs: number): Evicted<T>[] {
    const out: Evicted<T>[] = [];
    for (const [k, s] of this.map) {
      if (nowMs - s.usedMs < this.options.idleMs) break; // use order: the rest are newer
      this.map.delete(k);
      this.evictedIdle++;
      out.push({ camera: k, value: s.value, reason: 'idle' });
    }
    return out;
  }

  /** Last use (caller's ms) of an entry. */
  usedMs(camera: string): number | undefined {
    return this.map.get(camera)?.usedMs;
  }

  delete(camera: string): boolean {
    return this.map.delete(camera);
  }

  clear(): void {
    this.map.clear();
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  *values(): IterableIterator<T> {
    for (const s of this.map.values()) yield s.value;
  }

  *entries(): IterableIterator<[string, T]> {
    for (const [k, s] of this.map) yield [k, s.value];
  }
}
