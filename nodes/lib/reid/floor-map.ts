/**
 * Live floor positions by global id, for the floor-map widget: per identity its newest floor point
 * (whichever calibrated camera saw it last). Bounded, and nothing stays when a camera stops: an entry
 * is dropped once its camera has sent no frame for `staleMs` of wall time (the clock is passed in),
 * and a person not in their camera's newest frame for `holdMs` of frame time is dropped too.
 */
import { Point } from '../types';

export interface FloorPerson {
  globalId: string;
  camera: string;
  trackId?: number;
  floor: Point;
  /** Frame time of the sighting. */
  tMs: number;
}

export interface FloorMapOptions {
  /** Frame time a person stays on the map after their last sighting (ms). */
  holdMs: number;
  /** Wall time after which a camera that sent nothing is taken off the map (ms). */
  staleMs: number;
  /** Identities kept at most; beyond it the longest-unseen one goes. */
  capacity: number;
}

export const DEFAULT_FLOOR_MAP: Readonly<FloorMapOptions> = Object.freeze({ holdMs: 1000, staleMs: 10000, capacity: 1000 });

export class FloorMap {
  readonly options: FloorMapOptions;
  private readonly people = new Map<string, FloorPerson>();
  /** camera → newest frame time and the wall time it arrived. */
  private readonly cameras = new Map<string, { tMs: number; wallMs: number }>();

  constructor(options: Partial<FloorMapOptions> = {}) {
    this.options = { ...DEFAULT_FLOOR_MAP, ...options };
  }

  /** One frame of one camera: the people in it that have a global id and a floor point. */
  update(camera: string, tMs: number, wallMs: number, seen: readonly { globalId: string; floor: Point; trackId?: number }[]): void {
    this.cameras.delete(camera);
    this.cameras.set(camera, { tMs, wallMs });
    while (this.cameras.size > this.options.capacity) this.cameras.delete(this.cameras.keys().next().value as string);
    for (const s of seen) {
      this.people.delete(s.globalId);
      this.people.set(s.globalId, { globalId: s.globalId, camera, trackId: s.trackId, floor: [s.floor[0], s.floor[1]], tMs });
    }
    while (this.people.size > this.options.capacity) this.people.delete(this.people.keys().next().value as string);
  }

  /** Who is on the floor now (and forgets who is not). */
  snapshot(wallMs: number): FloorPerson[] {
    for (const [cam, c] of [...this.cameras]) if (wallMs - c.wallMs > this.options.staleMs) this.cameras.delete(cam);
    const out: FloorPerson[] = [];
    for (const [id, p] of [...this.people]) {
      const c = this.cameras.get(p.camera);
      if (!c || c.tMs - p.tMs > this.options.holdMs) {
        this.people.delete(id);
        continue;
      }
      out.push({ ...p, floor: [p.floor[0], p.floor[1]] });
    }
    return out;
  }

  clear(): void {
    this.people.clear();
    this.cameras.clear();
  }
}
