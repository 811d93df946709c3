/**
 * The counting engine for one camera: line crossings, zone occupancy and dwell from tracked
 * detections. Pure: the caller passes frame time in, nothing reads the clock, arguments are never
 * mutated, and every per-track record is evicted when its track ends (signal or timeout).
 *
 * Each rule exists because of a failure users of other counters report; docs/nodes/line-count.md
 * names them. In short: the anchor (feet) follows the floor; a dead band plus a frame count
 * (hysteresis) stops jitter and a person standing on the line from counting; the crossing must
 * happen inside the finite segment; once per track, line and direction stops re-counting one
 * person; a cooldown stops a wobble from counting in and out; tentative tracks wait for
 * confirmation; re-link carries a track's state over an identity switch at the line.
 */
import { anchorPoint, pointInPolygon } from '../geometry';
import { Detection, InfluxPoint, Point, VisionEvent } from '../types';
import { classAllowed, CountingOptions, Direction, Geometry, parseGeometry, resolveOptions } from './config';

export interface DirectionCounts {
  in: number;
  out: number;
}

export interface LineTotals extends DirectionCounts {
  /** Per class label. */
  byClass: Record<string, DirectionCounts>;
}

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

export interface CounterUpdate {
  /** Totals since the last reset: `{door: {in, out}}`. */
  counts: Record<string, DirectionCounts>;
  countsByClass: Record<string, Record<string, DirectionCounts>>;
  zones: Record<string, ZoneReport>;
  /** Crossings, zone enters/exits and alarms that happened in this update, oldest first. */
  events: VisionEvent[];
}

/** What persists across restarts: totals only; per-track state is meaningless after a restart. */
export interface CounterSnapshot {
  version: 1;
  counts: Record<string, LineTotals>;
  /** Zones whose over-capacity alarm was raised (absent in snapshots of older versions). */
  alarms?: Record<string, boolean>;
}

interface LineState {
  /** Settled side (−1 out side, +1 in side, 0 unknown): only changes once hysteresis is satisfied. */
  side: number;
  /** Sign of the last anchor position, for locating the actual crossing point. */
  rawSide: number;
  /** Where along the segment (0..1) the anchor last crossed the infinite line; NaN when unknown. */
  crossT: number;
  streak: number;
  /** Frame time of the first frame of the current streak: when the anchor got past the dead band. */
  streakMs: number;
  /** Bit 1 = in counted, bit 2 = out counted (mode "once"). */
  counted: number;
  lastCountMs: number;
  /** `crossT` was found on a re-link's bridge (the step from the predecessor's last point). */
  bridged: boolean;
}

interface ZoneState {
  inside: boolean;
  streak: number;
  streakStartMs: number;
  enteredMs: number;
}

interface Pending {
  line: number;
  dir: Direction;
  tMs: number;
}

/**
 * A re-link's bridge: the predecessor's last anchor → this track's first. Crossings made on it are held
 * until this track has been seen `relinkCheckFrames` more frames: moving back against the bridge, it is
 * someone else who appeared nearby (they are dropped), otherwise the same object (they count).
 */
interface Bridge {
  from: Point;
  to?: Point;
  /** This track has had its first own (whole-box) frame: the step to it from the predecessor's last anchor was the bridge. */
  stepped: boolean;
  /** Whole-box frames since the bridge, along a chain of re-linked tracks (the check's clock). */
  frames: number;
  held: Pending[];
  verdict?: 'along' | 'against';
}

interface TrackRec {
  id: number;
  label: string;
  classId: number;
  firstSeenMs: number;
  lastSeenMs: number;
  confirmed: boolean;
  anchor: Point | undefined;
  /** Frame time of `anchor` (a partial box leaves both as they were). */
  anchorMs: number;
  boxH: number;
  /** Smoothed height of the track's whole boxes, against which a partial box is told (partialBoxRatio). */
  fullH: number;
  /** Anchor velocity in px/ms (smoothed), to predict where a lost track would be. */
  vel: Point;
  lines: LineState[];
  zones: ZoneState[];
  pending: Pending[];
  inheritedFrom?: number;
  /** Frames this track was seen, plus those of the re-linked tracks it inherited from. */
  hits: number;
  /** Already handed its state to a successor: a source is inherited at most once. */
  relinked: boolean;
  bridge?: Bridge;
}

interface PixelGeometry {
  key: string;
  lines: { a: Point; b: Point; len: number }[];
  zones: Point[][];
}

interface DwellStat {
  n: number;
  sum: number;
  max: number;
}

/** Re-link only between boxes whose heights differ by less than this factor. */
const RELINK_MAX_SIZE_RATIO = 1.5;

/**
 * A lost track's smoothed velocity is predicted forward for at most this long: it was measured over
 * the few frames before the loss, often while an occluder cut the box, and does not hold for longer.
 */
const RELINK_MAX_PREDICT_S = 1;

/**
 * A track the tracker re-finds after being unseen at least this long, on a box whose height differs
 * from its own by at least STAND_IN_SIZE_RATIO, may be someone else: typically a nearer person who
 * walked in front of the hidden one, whose box covers the hidden one's predicted box.
 */
const STAND_IN_MIN_GAP_S = 0.5;
const STAND_IN_SIZE_RATIO = 1.3;

/** Pending crossings of one tentative track are bounded: a tentative track lives a few frames. */
const MAX_PENDING = 16;

/**
 * Per-track records held at most, live and ended (kept for re-link) each: far above what a tracker at
 * the detection cap produces, a bound when ids arrive from somewhere else (a new id every frame).
 * Beyond it the longest-unseen live track ends early (reason "evicted"), the oldest ended one is forgotten.
 */
export const MAX_TRACK_RECORDS = 4000;

/** Class labels counted separately at most; crossings and dwell of labels beyond it count as "other". */
export const MAX_CLASSES = 64;

/** Re-link candidates of one frame, sorted by anchor x, so a new track looks only at those near it. */
interface RelinkIndex {
  xs: number[];
  recs: TrackRec[];
  /** Position in the old search order (live tracks, then ended ones): ties go to the earlier. */
  order: number[];
}

function newLineState(): LineState {
  return { side: 0, rawSide: 0, crossT: NaN, streak: 0, streakMs: 0, counted: 0, lastCountMs: -Infinity, bridged: false };
}

function newZoneState(): ZoneState {
  return { inside: false, streak: 0, streakStartMs: 0, enteredMs: 0 };
}

function emptyTotals(): LineTotals {
  return { in: 0, out: 0, byClass: {} };
}

export class Counter {
  readonly options: CountingOptions;
  private geometry: Geometry;
  private px: PixelGeometry | undefined;
  private readonly tracks = new Map<number, TrackRec>();
  /** Ended tracks (and stand-ins, negative ids) kept for re-link until relinkS after their last sighting. */
  private readonly ended = new Map<number, TrackRec>();
  private standIns = 0;
  private totals = new Map<string, LineTotals>();
  private alarms: boolean[] = [];
  /**
   * Frames left before zone alarms are judged again after a restore: occupancy starts at 0 with
   * the new tracks and needs the zone's enter inertia to be right again.
   */
  private alarmHoldFrames = 0;
  private lastTMs = -Infinity;
  private readonly reported = new Map<string, number>();
  private dwell = new Map<string, DwellStat>();
  /** Labels with their own counts (at most MAX_CLASSES; the rest count as "other"). */
  private readonly classes = new Set<string>();
  private relinkIndex: RelinkIndex | undefined;
  /** Live tracks ended early because more than MAX_TRACK_RECORDS were held. */
  evictedTracks = 0;

  constructor(geometry: unknown, options: Partial<Record<keyof CountingOptions, unknown>> = {}) {
    this.options = resolveOptions(options);
    this.geometry = parseGeometry(geometry);
    this.resetState(new Map());
  }

  /** Replaces lines and zones; totals of lines that keep their name survive, per-track state starts over. */
  setGeometry(geometry: unknown): void {
    const g = parseGeometry(geometry);
    this.geometry = g;
    this.px = undefined;
    this.resetState(this.totals);
  }

  private resetState(old: Map<string, LineTotals>): void {
    this.tracks.clear();
    this.ended.clear();
    this.dwell = new Map();
    this.reported.clear();
    this.alarms = this.geometry.zones.map(() => false);
    const totals = new Map<string, LineTotals>();
    for (const l of this.geometry.lines) totals.set(l.name, old.get(l.name) ?? emptyTotals());
    this.totals = totals;
  }

  /** Zeroes the totals of the named lines (all when omitted). Per-track "already counted" flags stay: the same pass is not counted again. */
  resetCounts(lines?: string[]): void {
    for (const [name] of this.totals) if (!lines || lines.includes(name)) this.totals.set(name, emptyTotals());
  }

  snapshot(): CounterSnapshot {
    const counts: Record<string, LineTotals> = {};
    for (const [name, t] of this.totals) counts[name] = cloneTotals(t);
    const alarms: Record<string, boolean> = {};
    this.geometry.zones.forEach((z, i) => (alarms[z.name] = this.alarms[i]));
    return { version: 1, counts, alarms };
  }

  /** Restores totals for lines that exist now; anything malformed is ignored rather than trusted. */
  restore(snap: unknown): void {
    if (!snap || typeof snap !== 'object' || (snap as CounterSnapshot).version !== 1) return;
    const counts = (snap as CounterSnapshot).counts;
    if (!counts || typeof counts !== 'object') return;
    // A raised alarm stays raised over a restart: no second "raised" for the same crowd, and the
    // "cleared" still comes when it empties.
    const alarms = (snap as CounterSnapshot).alarms;
    if (alarms && typeof alarms === 'object') {
      this.geometry.zones.forEach((z, i) => (this.alarms[i] = alarms[z.name] === true));
      this.alarmHoldFrames = this.options.zoneEnterFrames;
    }
    for (const name of this.totals.keys()) {
      const t = counts[name];
      if (!t || !isCount(t.in) || !isCount(t.out)) continue;
      const byClass: Record<string, DirectionCounts> = {};
      if (t.byClass && typeof t.byClass === 'object') {
        for (const [k, v] of Object.entries(t.byClass)) if (v && isCount(v.in) && isCount(v.out)) byClass[k] = { in: v.in, out: v.out };
      }
      this.totals.set(name, { in: t.in, out: t.out, byClass });
      for (const cls of Object.keys(byClass)) this.classes.add(cls);
      // Restored totals were reported before the restart: the next metrics delta starts from them,
      // so a sum() over deltas in the database does not count them twice.
      for (const [cls, c] of Object.entries(byClass)) {
        this.reported.set(`${name}\u0000${cls}\u0000in`, c.in);
        this.reported.set(`${name}\u0000${cls}\u0000out`, c.out);
      }
    }
  }

  /** Time of the newest frame counted (−Infinity before the first). */
  lastTime(): number {
    return this.lastTMs;
  }

  /** Number of per-track records held (live and kept for re-link): flat over a long run. */
  stateSize(): { tracks: number; ended: number } {
    return { tracks: this.tracks.size, ended: this.ended.size };
  }

  private pixels(width: number, height: number): PixelGeometry {
    const key = `${width}x${height}`;
    if (this.px && this.px.key === key) return this.px;
    const lines = this.geometry.lines.map((l) => {
      const a: Point = [l.start[0] * width, l.start[1] * height];
      const b: Point = [l.end[0] * width, l.end[1] * height];
      return { a, b, len: Math.hypot(b[0] - a[0], b[1] - a[1]) };
    });
    const zones = this.geometry.zones.map((z) => z.polygon.map(([px, py]): Point => [px * width, py * height]));
    this.px = { key, lines, zones };
    return this.px;
  }

  /**
   * One frame of tracked detections. Detections without a trackId, or with trackState "lost" (a
   * prediction, not an observation), are ignored. Time must not go backwards; if it does (a looped
   * file) per-track state starts over, totals stay.
   */
  update(detections: readonly Detection[], tMs: number, width: number, height: number): CounterUpdate {
    if (!Number.isFinite(tMs)) throw new Error(`counter.update: tMs must be a finite number, got ${tMs}`);
    if (!(width > 0) || !(height > 0)) throw new Error(`counter.update: width and height must be > 0, got ${width}×${height}`);
    if (!Array.isArray(detections)) throw new Error('counter.update: detections must be an array');
    const events: VisionEvent[] = [];
    if (tMs < this.lastTMs) {
      this.tracks.clear();
      this.ended.clear();
    }
    this.lastTMs = tMs;
    this.relinkIndex = undefined;
    const px = this.pixels(width, height);
    const o = this.options;

    const present = new Map<number, Detection>();
    for (const d of detections) {
      if (!d || d.trackId === undefined || d.trackId === null || d.trackState === 'lost') continue;
      if (!Array.isArray(d.box) || d.box.length !== 4 || !d.box.every(Number.isFinite)) continue;
      if (!present.has(d.trackId)) present.set(d.trackId, d);
    }

    for (const [id, d] of present) {
      const anchor = anchorPoint(d.box, o.anchor);
      const boxH = Math.max(1, d.box[3] - d.box[1]);
      const label = d.label === undefined || d.label === null ? String(d.classId) : String(d.label);
      let rec = this.tracks.get(id);
      if (rec) this.keepStandIn(rec, boxH, tMs);
      else {
        rec = this.ended.get(id);
        if (rec) {
          // The same id back after we timed it out: keep its line state (it is the same object).
          this.ended.delete(id);
          rec.zones = this.geometry.zones.map(newZoneState);
          rec.relinked = false;
        } else {
          rec = this.newTrack(id, d, tMs, anchor, boxH, present, px);
        }
        this.tracks.set(id, rec);
      }
      rec.label = label;
      rec.classId = d.classId;
      const wasConfirmed = rec.confirmed;
      rec.hits++;
      if (!o.confirmedOnly || d.trackState === undefined || d.trackState === 'confirmed') rec.confirmed = true;
      // A chain of short tentative tracks re-linked one to the next is one object the tracker could
      // not hold (boxes overlapping too little from frame to frame: fast, near, or a low frame rate).
      else if (o.chainConfirmHits > 0 && rec.inheritedFrom !== undefined && rec.hits >= o.chainConfirmHits) rec.confirmed = true;

      // A box far shorter than the track's boxes so far is part of the object (its legs hidden, say):
      // its bottom is not the feet, and stepping it would carry the anchor over a line nobody crossed.
      // Such a frame neither moves the track across lines nor becomes the trajectory's last point.
      const partial = o.partialBoxRatio > 0 && boxH < o.partialBoxRatio * rec.fullH;
      if (!partial) {
        for (let i = 0; i < px.lines.length; i++) this.stepLine(rec, i, rec.anchor, anchor, boxH, tMs, px, events);
        rec.fullH = 0.7 * rec.fullH + 0.3 * boxH;
      }
      if (rec.confirmed && !wasConfirmed) {
        for (const p of rec.pending) this.count(rec, p.line, p.dir, p.tMs, events);
        rec.pending = [];
        this.takeOverZones(rec);
      }
      if (rec.confirmed) this.stepZones(rec, anchor, tMs, px, events);

      if (!partial) {
        if (rec.anchor && tMs > rec.anchorMs) {
          const dt = tMs - rec.anchorMs;
          const vx = (anchor[0] - rec.anchor[0]) / dt;
          const vy = (anchor[1] - rec.anchor[1]) / dt;
          rec.vel = [0.5 * rec.vel[0] + 0.5 * vx, 0.5 * rec.vel[1] + 0.5 * vy];
        }
        rec.anchor = anchor;
        rec.anchorMs = tMs;
        rec.boxH = boxH;
        const br = rec.bridge;
        if (br && !br.verdict) {
          if (!br.to) br.to = anchor;
          br.stepped = true;
          if (++br.frames > o.relinkCheckFrames) this.judgeBridge(rec, events);
        }
      }
      rec.lastSeenMs = tMs;
    }

    // Eviction: a track unseen for trackTimeoutS is over even if no track-end signal came.
    for (const rec of [...this.tracks.values()]) {
      if (tMs - rec.lastSeenMs > o.trackTimeoutS * 1000) this.finish(rec, tMs, 'timeout', events);
    }
    for (const [id, rec] of this.ended) if (tMs - rec.lastSeenMs > o.relinkS * 1000) this.ended.delete(id);
    if (this.tracks.size > MAX_TRACK_RECORDS) {
      const oldest = [...this.tracks.values()].sort((a, b) => a.lastSeenMs - b.lastSeenMs || a.id - b.id);
      for (const rec of oldest.slice(0, this.tracks.size - MAX_TRACK_RECORDS)) {
        this.finish(rec, tMs, 'evicted', events);
        this.evictedTracks++;
      }
    }
    // Ended records in end order: the front is the oldest.
    for (const id of this.ended.keys()) {
      if (this.ended.size <= MAX_TRACK_RECORDS) break;
      this.ended.delete(id);
    }
    this.relinkIndex = undefined;

    const zones = this.zoneReports(tMs, events);
    return { counts: this.counts(), countsByClass: this.countsByClass(), zones, events };
  }

  /** The tracker says this track is over (vision-track's track-end event): evict it now. */
  endTrack(trackId: number, tMs: number): VisionEvent[] {
    const events: VisionEvent[] = [];
    const rec = this.tracks.get(trackId);
    if (rec) this.finish(rec, Math.max(tMs, rec.lastSeenMs), 'track-end', events);
    return events;
  }

  /**
   * The stream is over (end of a recording): every track ends now, as if the tracker had ended it,
   * so crossings made in the last frames are completed (`completeAtEnd`) and zone dwell is closed.
   */
  endAll(tMs: number): VisionEvent[] {
    const events: VisionEvent[] = [];
    for (const rec of [...this.tracks.values()]) this.finish(rec, Math.max(tMs, rec.lastSeenMs), 'end-of-stream', events);
    return events;
  }

  counts(): Record<string, DirectionCounts> {
    const out: Record<string, DirectionCounts> = {};
    for (const [name, t] of this.totals) out[name] = { in: t.in, out: t.out };
    return out;
  }

  countsByClass(): Record<string, Record<string, DirectionCounts>> {
    const out: Record<string, Record<string, DirectionCounts>> = {};
    for (const [name, t] of this.totals) out[name] = cloneTotals(t).byClass;
    return out;
  }

  /**
   * InfluxDB points for the period since the last call: `line_crossings` (count = total since reset,
   * delta = crossings in the period) per line, class and direction; `zone_occupancy` per zone and
   * class (class "all" = every class); `zone_dwell` (exits, mean_s, max_s) per zone and class that
   * had exits in the period.
   */
  takeMetrics(timestampMs: number): InfluxPoint[] {
    const cam = this.options.camera;
    const points: InfluxPoint[] = [];
    for (const [line, t] of this.totals) {
      for (const [cls, c] of Object.entries(t.byClass)) {
        for (const dir of ['in', 'out'] as const) {
          const key = `${line}\u0000${cls}\u0000${dir}`;
          const prev = this.reported.get(key) ?? 0;
          const delta = c[dir] >= prev ? c[dir] - prev : c[dir]; // a reset in between: all of it is new
          this.reported.set(key, c[dir]);
          points.push({ measurement: 'line_crossings', tags: { camera: cam, line, class: cls, direction: dir }, fields: { count: c[dir], delta }, timestamp: timestampMs });
        }
      }
    }
    const reports = this.zoneReports(this.lastTMs, null);
    for (const [zone, z] of Object.entries(reports)) {
      points.push({ measurement: 'zone_occupancy', tags: { camera: cam, zone, class: 'all' }, fields: { occupancy: z.occupancy }, timestamp: timestampMs });
      for (const [cls, n] of Object.entries(z.byClass)) {
        points.push({ measurement: 'zone_occupancy', tags: { camera: cam, zone, class: cls }, fields: { occupancy: n }, timestamp: timestampMs });
      }
    }
    for (const [key, s] of this.dwell) {
      const [zone, cls] = key.split('\u0000');
      points.push({ measurement: 'zone_dwell', tags: { camera: cam, zone, class: cls }, fields: { exits: s.n, mean_s: s.sum / s.n / 1000, max_s: s.max / 1000 }, timestamp: timestampMs });
    }
    this.dwell = new Map();
    return points;
  }

  private newTrack(id: number, d: Detection, tMs: number, anchor: Point, boxH: number, present: Map<number, Detection>, px: PixelGeometry): TrackRec {
    const rec: TrackRec = {
      id,
      label: d.label === undefined || d.label === null ? String(d.classId) : String(d.label),
      classId: d.classId,
      firstSeenMs: tMs,
      lastSeenMs: tMs,
      confirmed: false,
      anchor: undefined,
      anchorMs: tMs,
      boxH,
      fullH: boxH,
      vel: [0, 0],
      lines: px.lines.map(newLineState),
      zones: this.geometry.zones.map(newZoneState),
      pending: [],
      relinked: false,
      hits: 0,
    };
    const src = this.relinkSource(rec, tMs, anchor, present);
    if (src) {
      // Identity switch: carry the line state over (hysteresis streak included: it is one
      // trajectory), and start the trajectory at the old track's last anchor so that a crossing made
      // across the switch is seen (once) with its true crossing point. Crossings the old track made
      // while tentative move over with it, so they count when the chain is confirmed, and only once.
      src.relinked = true;
      rec.inheritedFrom = src.id;
      rec.hits = src.hits;
      rec.pending = src.pending;
      src.pending = [];
      rec.lines = src.lines.map((s) => ({ ...s, bridged: false }));
      rec.anchor = src.anchor;
      if (this.options.relinkCheckFrames > 0 && src.anchor) {
        // A source still under check (a chain of short tracks) hands on its bridge and held crossings.
        const open = src.bridge && !src.bridge.verdict ? src.bridge : undefined;
        rec.bridge = open ? { from: open.from, to: open.to, stepped: false, frames: open.frames, held: open.held } : { from: src.anchor, stepped: false, frames: 0, held: [] };
        if (open) open.held = [];
      }
    }
    return rec;
  }

  /**
   * The tracker re-found a lost track on a box of another size, after a long gap: it may have handed
   * the hidden person's track to someone who walked in front of them. The track goes on as the
   * tracker says (it may well be the same object), and a copy of its state as last seen stays behind
   * as a re-link source (a stand-in), so that if the hidden person reappears as a new track within
   * relinkS of being lost, they inherit their own crossing state instead of starting afresh (a line
   * they crossed while hidden would otherwise go uncounted). Nothing is counted twice: the stand-in
   * carries the same "already counted" flags, and is inherited at most once, by a new track only.
   */
  private keepStandIn(rec: TrackRec, boxH: number, tMs: number): void {
    if (this.options.relinkS <= 0 || !rec.confirmed || !rec.anchor) return;
    const gapMs = tMs - rec.lastSeenMs;
    // (A gap longer than relinkS: the stand-in would be out of the pool before anyone could inherit it.)
    if (gapMs < STAND_IN_MIN_GAP_S * 1000 || gapMs > this.options.relinkS * 1000) return;
    if (Math.max(rec.fullH, boxH) < STAND_IN_SIZE_RATIO * Math.min(rec.fullH, boxH)) return;
    const id = -++this.standIns;
    this.relinkIndex = undefined; // a new re-link source
    this.ended.set(id, {
      ...rec,
      id,
      lines: rec.lines.map((l) => ({ ...l })),
      zones: this.geometry.zones.map(newZoneState),
      pending: [],
      relinked: false,
      bridge: undefined,
    });
  }

  /** The nearest unseen track of the same class and size, lost within relinkS, near its predicted position. */
  private relinkSource(rec: TrackRec, tMs: number, anchor: Point, present: Map<number, Detection>): TrackRec | undefined {
    const o = this.options;
    if (o.relinkS <= 0) return undefined;
    const idx = (this.relinkIndex ??= this.buildRelinkIndex(tMs, present));
    // A source's predicted point is at most `reach` from its last anchor, and the new anchor at most
    // `reach` from that, with reach ≤ relinkRadius × this track's height: only sources whose anchor x
    // is within twice that can qualify.
    const window = 2 * o.relinkRadius * rec.boxH * (1 + 1e-9) + 1e-9;
    let lo = 0;
    let hi = idx.xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (idx.xs[mid] < anchor[0] - window) lo = mid + 1;
      else hi = mid;
    }
    let best: TrackRec | undefined;
    let bestScore = Infinity;
    let bestOrder = Infinity;
    for (let k = lo; k < idx.xs.length && idx.xs[k] <= anchor[0] + window; k++) {
      const c = idx.recs[k];
      if (c.relinked || !c.anchor || c.label !== rec.label) continue;
      const dt = tMs - c.lastSeenMs;
      // An identity switch keeps the object's size; a box half or twice as tall is someone nearer
      // or farther away, whose state must not be inherited.
      if (Math.max(c.boxH, rec.boxH) > RELINK_MAX_SIZE_RATIO * Math.min(c.boxH, rec.boxH)) continue;
      // Predict with the smoothed velocity, for at most RELINK_MAX_PREDICT_S and never further than
      // the radius itself: a stale velocity must not carry the search area away from where the track
      // was last seen.
      const reach = o.relinkRadius * Math.min(c.boxH, rec.boxH);
      const horizon = Math.min(dt, RELINK_MAX_PREDICT_S * 1000);
      let pxp = c.vel[0] * horizon;
      let pyp = c.vel[1] * horizon;
      const m = Math.hypot(pxp, pyp);
      if (m > reach && m > 0) {
        pxp *= reach / m;
        pyp *= reach / m;
      }
      const dist = Math.hypot(anchor[0] - (c.anchor[0] + pxp), anchor[1] - (c.anchor[1] + pyp));
      const score = dist / Math.max(1e-9, reach);
      if (score <= 1 && (score < bestScore || (score === bestScore && idx.order[k] < bestOrder))) {
        best = c;
        bestScore = score;
        bestOrder = idx.order[k];
      }
    }
    return best;
  }

  /** This frame's possible re-link sources (unseen now, seen within relinkS, with an anchor), by anchor x. */
  private buildRelinkIndex(tMs: number, present: Map<number, Detection>): RelinkIndex {
    const relinkMs = this.options.relinkS * 1000;
    const cands: { x: number; rec: TrackRec; order: number }[] = [];
    let order = 0;
    for (const pool of [this.tracks, this.ended]) {
      for (const c of pool.values()) {
        const n = order++;
        if (present.has(c.id) || !c.anchor) continue;
        const dt = tMs - c.lastSeenMs;
        if (dt <= 0 || dt > relinkMs) continue;
        cands.push({ x: c.anchor[0], rec: c, order: n });
      }
    }
    cands.sort((a, b) => a.x - b.x || a.order - b.order);
    return { xs: cands.map((c) => c.x), recs: cands.map((c) => c.rec), order: cands.map((c) => c.order) };
  }

  /** A re-linked track takes over the zone membership of its predecessor if that one is still unseen (no exit + enter for one person). */
  private takeOverZones(rec: TrackRec): void {
    if (rec.inheritedFrom === undefined) return;
    const src = this.tracks.get(rec.inheritedFrom);
    if (!src || src.lastSeenMs > rec.firstSeenMs) return;
    for (let i = 0; i < rec.zones.length; i++) {
      if (src.zones[i]?.inside) {
        rec.zones[i] = { ...src.zones[i], streak: 0 };
        src.zones[i] = newZoneState();
      }
    }
  }

  private stepLine(rec: TrackRec, i: number, prev: Point | undefined, cur: Point, boxH: number, tMs: number, px: PixelGeometry, events: VisionEvent[]): void {
    const { a, b, len } = px.lines[i];
    const st = rec.lines[i];
    const dist = (p: Point) => ((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])) / len;
    const d = dist(cur);
    const raw = Math.sign(d);
    if (raw !== 0) {
      if (prev && st.rawSide !== 0 && raw !== st.rawSide) {
        const dp = dist(prev);
        const f = dp / (dp - d);
        const cx = prev[0] + (cur[0] - prev[0]) * f;
        const cy = prev[1] + (cur[1] - prev[1]) * f;
        st.crossT = ((cx - a[0]) * (b[0] - a[0]) + (cy - a[1]) * (b[1] - a[1])) / (len * len);
        st.bridged = rec.bridge !== undefined && !rec.bridge.stepped;
      }
      st.rawSide = raw;
    }
    const band = this.options.minDistance * boxH;
    if (Math.abs(d) <= band || raw === 0) return; // in the dead band: neither side yet
    if (st.side === 0 || raw === st.side) {
      st.side = raw;
      st.streak = 0;
      return;
    }
    if (st.streak === 0) st.streakMs = tMs;
    st.streak++;
    if (st.streak < this.options.minFrames) return;
    this.settle(rec, i, tMs, events);
  }

  /** Hysteresis satisfied (or the track ended past the band): the side changes, and the crossing counts if it was a crossing. */
  private settle(rec: TrackRec, i: number, tMs: number, events: VisionEvent[]): void {
    const st = rec.lines[i];
    const raw = -st.side;
    st.side = raw;
    st.streak = 0;
    const inSegment = st.crossT >= 0 && st.crossT <= 1;
    const bridged = st.bridged;
    st.crossT = NaN;
    st.bridged = false;
    if (!inSegment) return; // passed beside the segment: the side changed, nothing was crossed
    const dir: Direction = raw > 0 ? 'in' : 'out';
    const line = this.geometry.lines[i];
    if (line.directions !== 'both' && line.directions !== dir) return;
    if (!classAllowed(line.classes, rec.label, rec.classId)) return;
    if (bridged && rec.bridge) {
      if (rec.bridge.verdict === 'against') return;
      if (!rec.bridge.verdict) {
        rec.bridge.held.push({ line: i, dir, tMs });
        return;
      }
    }
    this.release(rec, { line: i, dir, tMs }, events);
  }

  /** A settled crossing counts now, or, while the track is tentative, when it is confirmed. */
  private release(rec: TrackRec, p: Pending, events: VisionEvent[]): void {
    if (!rec.confirmed) {
      if (rec.pending.length < MAX_PENDING) rec.pending.push(p);
      return;
    }
    this.count(rec, p.line, p.dir, p.tMs, events);
  }

  /**
   * The re-link check: has this track moved back against its bridge since it appeared? The bridge
   * of a true identity switch points the way the object was going, and it goes on that way (or
   * stands); a bridge to someone else who appeared nearby points anywhere, often against their own
   * walk (a person entering the view beside where another was lost). Only a move back drops the
   * held crossings: a standing object keeps them.
   */
  private judgeBridge(rec: TrackRec, events: VisionEvent[]): void {
    const br = rec.bridge;
    if (!br || br.verdict) return;
    const to = br.to ?? br.from;
    const now = rec.anchor ?? to;
    const along = (to[0] - br.from[0]) * (now[0] - to[0]) + (to[1] - br.from[1]) * (now[1] - to[1]) >= 0;
    br.verdict = along ? 'along' : 'against';
    const held = br.held;
    br.held = [];
    if (along) for (const p of held) this.release(rec, p, events);
  }

  private count(rec: TrackRec, i: number, dir: Direction, tMs: number, events: VisionEvent[]): void {
    const st = rec.lines[i];
    const bit = dir === 'in' ? 1 : 2;
    if (this.options.mode === 'once' && st.counted & bit) return;
    if (tMs - st.lastCountMs < this.options.cooldownS * 1000) return;
    st.counted |= bit;
    st.lastCountMs = tMs;
    const name = this.geometry.lines[i].name;
    const t = this.totals.get(name)!;
    t[dir]++;
    const c = (t.byClass[this.classKey(rec.label)] ??= { in: 0, out: 0 });
    c[dir]++;
    events.push({ event: 'line-crossing', camera: this.options.camera, tMs, line: name, direction: dir, class: rec.label, classId: rec.classId, trackId: rec.id });
  }

  /** The label a crossing or a dwell is counted under: its own among the first MAX_CLASSES seen, else "other". */
  private classKey(label: string): string {
    if (this.classes.has(label)) return label;
    if (this.classes.size < MAX_CLASSES) {
      this.classes.add(label);
      return label;
    }
    return 'other';
  }

  private stepZones(rec: TrackRec, anchor: Point, tMs: number, px: PixelGeometry, events: VisionEvent[]): void {
    const o = this.options;
    for (let i = 0; i < px.zones.length; i++) {
      const zone = this.geometry.zones[i];
      if (!classAllowed(zone.classes, rec.label, rec.classId)) continue;
      const zs = rec.zones[i];
      const inside = pointInPolygon(anchor, px.zones[i]);
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
        this.exitZone(rec, i, zs.streakStartMs, 'left', events);
      }
    }
  }

  private exitZone(rec: TrackRec, i: number, atMs: number, reason: string, events: VisionEvent[]): void {
    const zs = rec.zones[i];
    const zone = this.geometry.zones[i].name;
    const dwellMs = Math.max(0, atMs - zs.enteredMs);
    zs.inside = false;
    zs.streak = 0;
    const key = `${zone}\u0000${this.classKey(rec.label)}`;
    const s = this.dwell.get(key) ?? { n: 0, sum: 0, max: 0 };
    this.dwell.set(key, { n: s.n + 1, sum: s.sum + dwellMs, max: Math.max(s.max, dwellMs) });
    events.push({ event: 'zone-exit', camera: this.options.camera, tMs: atMs, zone, class: rec.label, classId: rec.classId, trackId: rec.id, dwellMs, reason });
  }

  private finish(rec: TrackRec, tMs: number, reason: string, events: VisionEvent[]): void {
    // Judged on the frames there were: a track ending before the check had its frames.
    this.judgeBridge(rec, events);
    // A track that ends past the dead band, before its hysteresis frames were seen, crossed: the
    // object walked out of view (or out of the clip) just after the line. Counted at the time it got
    // past the band. Not when a successor inherited the state: that one completes it.
    if (this.options.completeAtEnd && !rec.relinked && rec.confirmed) {
      for (let i = 0; i < rec.lines.length; i++) if (rec.lines[i].streak > 0) this.settle(rec, i, rec.lines[i].streakMs, events);
    }
    for (let i = 0; i < rec.zones.length; i++) if (rec.zones[i].inside) this.exitZone(rec, i, rec.lastSeenMs, reason, events);
    this.tracks.delete(rec.id);
    rec.pending = [];
    // Kept only as a re-link source, and only while it can still be one.
    if (this.options.relinkS > 0 && tMs - rec.lastSeenMs <= this.options.relinkS * 1000) this.ended.set(rec.id, rec);
  }

  private zoneReports(tMs: number, events: VisionEvent[] | null): Record<string, ZoneReport> {
    const out: Record<string, ZoneReport> = {};
    if (events && this.alarmHoldFrames > 0) this.alarmHoldFrames--;
    this.geometry.zones.forEach((z, i) => {
      const r: ZoneReport = { occupancy: 0, byClass: {}, alarm: this.alarms[i], objects: [] };
      if (z.capacity !== undefined) r.capacity = z.capacity;
      for (const rec of this.tracks.values()) {
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
          events.push({ event: 'zone-alarm', camera: this.options.camera, tMs, zone: z.name, state: over ? 'raised' : 'cleared', occupancy: r.occupancy, capacity: z.capacity });
        }
      }
      out[z.name] = r;
    });
    return out;
  }
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function cloneTotals(t: LineTotals): LineTotals {
  const byClass: Record<string, DirectionCounts> = {};
  for (const [k, v] of Object.entries(t.byClass)) byClass[k] = { in: v.in, out: v.out };
  return { in: t.in, out: t.out, byClass };
}
