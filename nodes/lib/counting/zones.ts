/**
 * Zones of one counter: per track × zone occupancy with inertia (frames inside before an enter,
 * outside before an exit), dwell on exit, occupancy reports and over-capacity alarms (held a few
 * frames after a restore), and the zone metrics. Knows nothing of lines or re-link.
 */
import { pointInPolygon } from '../geometry';
import { InfluxPoint, Point, VisionEvent } from '../types';
import { CountingOptions, ZoneSpec, classAllowed } from './config';
import { ClassKeys } from './totals';

export interface ZoneObject {
  trackId: number;
  label: string;
  /** Running dwell: frame time minus the time the object entered. */
  dwellMs: number;
}

export interface ZoneReport {
  occupancy: number;
  byClass: Record<string, number>;
  capacity?: number;
  alarm: boolean;
  objects: ZoneObject[];
}

/** Where one track stands with one zone. */
export interface ZoneState {
  inside: boolean;
  streak: number;
  streakStartMs: number;
  enteredMs: number;
}

/** What the zones read of a track. */
export interface ZoneMember {
  id: number;
  label: string;
  classId: number;
  zones: ZoneState[];
}

interface DwellStat {
  n: number;
  sum: number;
  max: number;
}

export function newZoneState(): ZoneState {
  return { inside: false, streak: 0, streakStartMs: 0, enteredMs: 0 };
}

/** A re-linked track takes over its predecessor's memberships: no exit and enter for one object. */
export function handOverZones(from: ZoneState[], to: ZoneState[]): void {
  for (let i = 0; i < to.length; i++) {
    if (from[i]?.inside) {
      to[i] = { ...from[i], streak: 0 };
      from[i] = newZoneState();
    }
  }
}

export class Zones {
  private specs: readonly ZoneSpec[] = [];
  private alarms: boolean[] = [];
  /**
   * Frames left before zone alarms are judged again after a restore: occupancy starts at 0 with
   * the new tracks and needs the zone's enter inertia to be right again.
   */
  private alarmHoldFrames = 0;
  /** Exits per zone and class since the last metrics. */
  private dwell = new Map<string, DwellStat>();

  constructor(
    private readonly options: CountingOptions,
    private readonly classes: ClassKeys,
  ) {}

  /** The zones are now these: alarms lowered, dwell statistics dropped. */
  setZones(specs: readonly ZoneSpec[]): void {
    this.specs = specs;
    this.dwell = new Map();
    this.alarms = specs.map(() => false);
  }

  /** A track's states, one per zone, outside all. */
  newStates(): ZoneState[] {
    return this.specs.map(newZoneState);
  }

  /** One frame of a confirmed track at `anchor` (pixels), against the zones' pixel polygons. */
  step(rec: ZoneMember, anchor: Point, tMs: number, polygons: readonly Point[][], events: VisionEvent[]): void {
    const o = this.options;
    for (let i = 0; i < polygons.length; i++) {
      const zone = this.specs[i];
      if (!classAllowed(zone.classes, rec.label, rec.classId)) continue;
      const zs = rec.zones[i];
      const inside = pointInPolygon(anchor, polygons[i]);
      if (inside === zs.inside) {
        zs.streak = 0;
        continue;
      }
      if (zs.streak === 0) zs.streakStartMs = tMs;
      zs.streak++;
      if (zs.streak < (inside ? o.zoneEnterFrames : o.zoneExitFrames)) continue;
      zs.inside = inside;
      zs.streak = 0;
      if (inside) {
        zs.enteredMs = zs.streakStartMs;
        events.push({ event: 'zone-enter', camera: o.camera, tMs: zs.streakStartMs, zone: zone.name, class: rec.label, classId: rec.classId, trackId: rec.id });
      } else {
        this.exit(rec, i, zs.streakStartMs, 'left', events);
      }
    }
  }

  /** The track is over: it leaves every zone it is in, at its last sighting. */
  exitAll(rec: ZoneMember, atMs: number, reason: string, events: VisionEvent[]): void {
    for (let i = 0; i < rec.zones.length; i++) if (rec.zones[i].inside) this.exit(rec, i, atMs, reason, events);
  }

  private exit(rec: ZoneMember, i: number, atMs: number, reason: string, events: VisionEvent[]): void {
    const zs = rec.zones[i];
    const zone = this.specs[i].name;
    const dwellMs = Math.max(0, atMs - zs.enteredMs);
    zs.inside = false;
    zs.streak = 0;
    const key = `${zone}\u0000${this.classes.key(rec.label)}`;
    const s = this.dwell.get(key) ?? { n: 0, sum: 0, max: 0 };
    this.dwell.set(key, { n: s.n + 1, sum: s.sum + dwellMs, max: Math.max(s.max, dwellMs) });
    events.push({ event: 'zone-exit', camera: this.options.camera, tMs: atMs, zone, class: rec.label, classId: rec.classId, trackId: rec.id, dwellMs, reason });
  }

  /**
   * Occupancy of every zone from the live tracks. With `events` (once per frame) the alarms are
   * judged and their changes pushed; without, it only reads.
   */
  reports(tracks: ReadonlyMap<number, ZoneMember>, tMs: number, events: VisionEvent[] | null): Record<string, ZoneReport> {
    const out: Record<string, ZoneReport> = {};
    if (events && this.alarmHoldFrames > 0) this.alarmHoldFrames--;
    this.specs.forEach((z, i) => {
      const r: ZoneReport = { occupancy: 0, byClass: {}, alarm: this.alarms[i], objects: [] };
      if (z.capacity !== undefined) r.capacity = z.capacity;
      for (const rec of tracks.values()) {
        const zs = rec.zones[i];
        if (!zs || !zs.inside) continue;
        r.occupancy++;
        r.byClass[rec.label] = (r.byClass[rec.label] ?? 0) + 1;
        r.objects.push({ trackId: rec.id, label: rec.label, dwellMs: Math.max(0, tMs - zs.enteredMs) });
      }
      if (events && z.capacity !== undefined && this.alarmHoldFrames === 0) {
        const over = r.occupancy > z.capacity;
        if (over !== this.alarms[i]) {
          this.alarms[i] = over;
          r.alarm = over;
          events.push({
            event: 'zone-alarm',
            camera: this.options.camera,
            tMs,
            zone: z.name,
            state: over ? 'raised' : 'cleared',
            occupancy: r.occupancy,
            capacity: z.capacity,
          });
        }
      }
      out[z.name] = r;
    });
    return out;
  }

  /** Raised alarms by zone name, for a snapshot. */
  alarmsByName(): Record<string, boolean> {
    const alarms: Record<string, boolean> = {};
    this.specs.forEach((z, i) => (alarms[z.name] = this.alarms[i]));
    return alarms;
  }

  /**
   * A raised alarm stays raised over a restart: no second "raised" for the same crowd, and the
   * "cleared" still comes when it empties.
   */
  restoreAlarms(alarms: Record<string, boolean>): void {
    this.specs.forEach((z, i) => (this.alarms[i] = alarms[z.name] === true));
    this.alarmHoldFrames = this.options.zoneEnterFrames;
  }

  /**
   * `zone_occupancy` per zone and class (class "all" = every class) as of `tMs`, and `zone_dwell`
   * (exits, mean_s, max_s) per zone and class that had exits since the last call.
   */
  takeMetrics(tracks: ReadonlyMap<number, ZoneMember>, tMs: number, timestampMs: number): InfluxPoint[] {
    const camera = this.options.camera;
    const points: InfluxPoint[] = [];
    for (const [zone, z] of Object.entries(this.reports(tracks, tMs, null))) {
      points.push({ measurement: 'zone_occupancy', tags: { camera, zone, class: 'all' }, fields: { occupancy: z.occupancy }, timestamp: timestampMs });
      for (const [cls, n] of Object.entries(z.byClass)) {
        points.push({ measurement: 'zone_occupancy', tags: { camera, zone, class: cls }, fields: { occupancy: n }, timestamp: timestampMs });
      }
    }
    for (const [key, s] of this.dwell) {
      const [zone, cls] = key.split('\u0000');
      points.push({
        measurement: 'zone_dwell',
        tags: { camera, zone, class: cls },
        fields: { exits: s.n, mean_s: s.sum / s.n / 1000, max_s: s.max / 1000 },
        timestamp: timestampMs,
      });
    }
    this.dwell = new Map();
    return points;
  }
}
