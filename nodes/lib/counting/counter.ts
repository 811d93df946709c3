/**
 * The counting engine for one camera: line crossings, zone occupancy and dwell from tracked
 * detections. Pure: the caller passes frame time in, nothing reads the clock, arguments are never
 * mutated, and every per-track record is evicted when its track ends (signal or timeout).
 *
 * This file orchestrates; each concern has its module:
 * - `line-crossing.ts`: the kernel, one track × one line (dead band, hysteresis, finite segment,
 *   once per track, cooldown);
 * - `zones.ts`: occupancy with inertia, dwell, alarms;
 * - `relink.ts`: identity re-link over a tracker's identity switch (bridges, stand-ins);
 * - `totals.ts`: totals, metrics deltas, snapshot;
 * - `track-record.ts`: what is kept per track.
 * Each rule exists because of a failure users of other counters report; docs/nodes/line-count.md
 * names them. Tentative tracks wait for confirmation: their crossings are pending until then.
 */
import { anchorPoint } from '../geometry';
import { Detection, InfluxPoint, Point, VisionEvent } from '../types';
import { CountingOptions, Direction, Geometry, parseGeometry, resolveOptions } from './config';
import { AnchorStep, PixelLine, lineAccepts, pixelLine, settle, stepLine, tryCount } from './line-crossing';
import { Relinker, judgeBridge, onBridge, stepBridge, withheld } from './relink';
import { ClassKeys, CounterSnapshot, DirectionCounts, Totals } from './totals';
import { MAX_PENDING, Pending, TrackRec, labelOf, moveAnchor, newTrackRecord } from './track-record';
import { ZoneReport, Zones } from './zones';

export { MAX_CLASSES } from './totals';
export type { CounterSnapshot, DirectionCounts, LineTotals } from './totals';
export type { ZoneObject, ZoneReport } from './zones';

export interface CounterUpdate {
  /** Totals since the last reset: `{door: {in, out}}`. */
  counts: Record<string, DirectionCounts>;
  countsByClass: Record<string, Record<string, DirectionCounts>>;
  zones: Record<string, ZoneReport>;
  /** Crossings, zone enters/exits and alarms that happened in this update, oldest first. */
  events: VisionEvent[];
}

/**
 * Per-track records held at most, live and ended (kept for re-link) each: far above what a tracker at
 * the detection cap produces, a bound when ids arrive from somewhere else (a new id every frame).
 * Beyond it the longest-unseen live track ends early (reason "evicted"), the oldest ended one is forgotten.
 */
export const MAX_TRACK_RECORDS = 4000;

interface PixelGeometry {
  key: string;
  lines: PixelLine[];
  zones: Point[][];
}

/** This frame's observations: one per track id (the first), without predictions ("lost") and malformed boxes. */
function observations(detections: readonly Detection[]): Map<number, Detection> {
  const present = new Map<number, Detection>();
  for (const d of detections) {
    if (!d || d.trackId === undefined || d.trackId === null || d.trackState === 'lost') continue;
    if (!Array.isArray(d.box) || d.box.length !== 4 || !d.box.every(Number.isFinite)) continue;
    if (!present.has(d.trackId)) present.set(d.trackId, d);
  }
  return present;
}

export class Counter {
  readonly options: CountingOptions;
  private geometry: Geometry;
  private px: PixelGeometry | undefined;
  private readonly tracks = new Map<number, TrackRec>();
  /** Ended tracks (and stand-ins, negative ids) kept for re-link until relinkS after their last sighting. */
  private readonly ended = new Map<number, TrackRec>();
  private lastTMs = -Infinity;
  private readonly classes = new ClassKeys();
  private readonly totals = new Totals(this.classes);
  private readonly zones: Zones;
  private readonly relink: Relinker;
  /** Live tracks ended early because more than MAX_TRACK_RECORDS were held. */
  evictedTracks = 0;

  constructor(geometry: unknown, options: Partial<Record<keyof CountingOptions, unknown>> = {}) {
    this.options = resolveOptions(options);
    this.geometry = parseGeometry(geometry);
    this.zones = new Zones(this.options, this.classes);
    this.relink = new Relinker(this.options, this.tracks, this.ended, () => this.zones.newStates());
    this.resetState();
  }

  /** Replaces lines and zones; totals of lines that keep their name survive, per-track state starts over. */
  setGeometry(geometry: unknown): void {
    this.geometry = parseGeometry(geometry);
    this.px = undefined;
    this.resetState();
  }

  private resetState(): void {
    this.tracks.clear();
    this.ended.clear();
    this.zones.setZones(this.geometry.zones);
    this.totals.setLines(this.geometry.lines.map((l) => l.name));
  }

  /** Zeroes the totals of the named lines (all when omitted). Per-track "already counted" flags stay: the same pass is not counted again. */
  resetCounts(lines?: string[]): void {
    this.totals.reset(lines);
  }

  snapshot(): CounterSnapshot {
    return { version: 1, counts: this.totals.snapshot(), alarms: this.zones.alarmsByName() };
  }

  /** Restores totals for lines that exist now; anything malformed is ignored rather than trusted. */
  restore(snap: unknown): void {
    if (!snap || typeof snap !== 'object' || (snap as CounterSnapshot).version !== 1) return;
    const counts = (snap as CounterSnapshot).counts;
    if (!counts || typeof counts !== 'object') return;
    const alarms = (snap as CounterSnapshot).alarms;
    if (alarms && typeof alarms === 'object') this.zones.restoreAlarms(alarms);
    this.totals.restore(counts);
  }

  /** Time of the newest frame counted (−Infinity before the first). */
  lastTime(): number {
    return this.lastTMs;
  }

  /** Number of per-track records held (live and kept for re-link): flat over a long run. */
  stateSize(): { tracks: number; ended: number } {
    return { tracks: this.tracks.size, ended: this.ended.size };
  }

  counts(): Record<string, DirectionCounts> {
    return this.totals.counts();
  }

  countsByClass(): Record<string, Record<string, DirectionCounts>> {
    return this.totals.countsByClass();
  }

  /**
   * InfluxDB points for the period since the last call: `line_crossings` (count = total since reset,
   * delta = crossings in the period) per line, class and direction; `zone_occupancy` per zone and
   * class (class "all" = every class); `zone_dwell` (exits, mean_s, max_s) per zone and class that
   * had exits in the period.
   */
  takeMetrics(timestampMs: number): InfluxPoint[] {
    const lines = this.totals.takeMetrics(this.options.camera, timestampMs);
    return [...lines, ...this.zones.takeMetrics(this.tracks, this.lastTMs, timestampMs)];
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

    // 1. Time went backwards (a looped file): per-track state starts over, totals stay.
    if (tMs < this.lastTMs) {
      this.tracks.clear();
      this.ended.clear();
    }
    this.lastTMs = tMs;
    this.relink.invalidate();
    const px = this.pixels(width, height);

    // 2. Each observed track: its record, confirmation, lines, zones, trajectory.
    const present = observations(detections);
    for (const [id, d] of present) this.observe(id, d, tMs, present, px, events);

    // 3. Tracks unseen for trackTimeoutS are over even if no track-end signal came.
    for (const rec of [...this.tracks.values()]) {
      if (tMs - rec.lastSeenMs > this.options.trackTimeoutS * 1000) this.finish(rec, tMs, 'timeout', events);
    }

    // 4. Records past their use or beyond the bounds go.
    this.forgetRecords(tMs, events);
    this.relink.invalidate();

    // 5. Zone occupancy and alarms.
    const zones = this.zones.reports(this.tracks, tMs, events);
    return { counts: this.totals.counts(), countsByClass: this.totals.countsByClass(), zones, events };
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

  private pixels(width: number, height: number): PixelGeometry {
    const key = `${width}x${height}`;
    if (this.px && this.px.key === key) return this.px;
    const lines = this.geometry.lines.map((l) => pixelLine(l, width, height));
    const zones = this.geometry.zones.map((z) => z.polygon.map(([px, py]): Point => [px * width, py * height]));
    this.px = { key, lines, zones };
    return this.px;
  }

  /** One observation of one track, in stages. */
  private observe(id: number, d: Detection, tMs: number, present: ReadonlyMap<number, Detection>, px: PixelGeometry, events: VisionEvent[]): void {
    const o = this.options;
    const anchor = anchorPoint(d.box, o.anchor);
    const boxH = Math.max(1, d.box[3] - d.box[1]);

    // a. The record: the live one, one timed out and back, or a new one (re-linked if it can be).
    const rec = this.recordFor(id, d, tMs, anchor, boxH, present, px);

    // b. Confirmation.
    const wasConfirmed = rec.confirmed;
    this.confirm(rec, d);

    // c. Lines. A box far shorter than the track's boxes so far is part of the object (its legs
    // hidden, say): its bottom is not the feet, and stepping it would carry the anchor over a line
    // nobody crossed. Such a frame neither moves the track across lines nor becomes the trajectory's
    // last point.
    const partial = o.partialBoxRatio > 0 && boxH < o.partialBoxRatio * rec.fullH;
    if (!partial) {
      this.stepLines(rec, { prev: rec.anchor, cur: anchor, boxH, tMs, onBridge: onBridge(rec) }, px, events);
      rec.fullH = 0.7 * rec.fullH + 0.3 * boxH;
    }

    // d. Just confirmed: crossings made while tentative count now, a re-linked track takes over zones.
    if (rec.confirmed && !wasConfirmed) {
      for (const p of rec.pending) this.count(rec, p, events);
      rec.pending = [];
      this.relink.takeOverZones(rec);
    }

    // e. Zones (confirmed tracks only).
    if (rec.confirmed) this.zones.step(rec, anchor, tMs, px.zones, events);

    // f. Trajectory: a whole box moves the anchor; the re-link check counts its frames.
    if (!partial) {
      moveAnchor(rec, anchor, boxH, tMs);
      if (stepBridge(rec, anchor, o.relinkCheckFrames)) this.releaseAll(rec, judgeBridge(rec), events);
    }
    rec.lastSeenMs = tMs;
  }

  private recordFor(id: number, d: Detection, tMs: number, anchor: Point, boxH: number, present: ReadonlyMap<number, Detection>, px: PixelGeometry): TrackRec {
    const live = this.tracks.get(id);
    if (live) {
      this.relink.keepStandIn(live, boxH, tMs);
      return live;
    }
    let rec = this.ended.get(id);
    if (rec) {
      // The same id back after we timed it out: keep its line state (it is the same object).
      this.ended.delete(id);
      rec.zones = this.zones.newStates();
      rec.relinked = false;
    } else {
      rec = newTrackRecord(id, d, tMs, boxH, px.lines.length, this.zones.newStates());
      this.relink.relinkNew(rec, tMs, anchor, present);
    }
    this.tracks.set(id, rec);
    return rec;
  }

  private confirm(rec: TrackRec, d: Detection): void {
    const o = this.options;
    rec.label = labelOf(d);
    rec.classId = d.classId;
    rec.hits++;
    if (!o.confirmedOnly || d.trackState === undefined || d.trackState === 'confirmed') rec.confirmed = true;
    // A chain of short tentative tracks re-linked one to the next is one object the tracker could
    // not hold (boxes overlapping too little from frame to frame: fast, near, or a low frame rate).
    else if (o.chainConfirmHits > 0 && rec.inheritedFrom !== undefined && rec.hits >= o.chainConfirmHits) rec.confirmed = true;
  }

  private stepLines(rec: TrackRec, step: AnchorStep, px: PixelGeometry, events: VisionEvent[]): void {
    for (let i = 0; i < px.lines.length; i++) {
      if (stepLine(rec.lines[i], px.lines[i], step, this.options)) this.settleLine(rec, i, step.tMs, events);
    }
  }

  /** The side changed: a crossing inside the segment, of a direction and class the line counts, goes on. */
  private settleLine(rec: TrackRec, i: number, tMs: number, events: VisionEvent[]): void {
    const crossed = settle(rec.lines[i]);
    if (!crossed || !lineAccepts(this.geometry.lines[i], crossed.dir, rec.label, rec.classId)) return;
    const p: Pending = { line: i, dir: crossed.dir, tMs };
    if (crossed.bridged && withheld(rec, p)) return; // on a re-link's bridge: waits for (or failed) the check
    this.release(rec, p, events);
  }

  private releaseAll(rec: TrackRec, crossings: Pending[], events: VisionEvent[]): void {
    for (const p of crossings) this.release(rec, p, events);
  }

  /** A settled crossing counts now, or, while the track is tentative, when it is confirmed. */
  private release(rec: TrackRec, p: Pending, events: VisionEvent[]): void {
    if (!rec.confirmed) {
      if (rec.pending.length < MAX_PENDING) rec.pending.push(p);
      return;
    }
    this.count(rec, p, events);
  }

  private count(rec: TrackRec, p: Pending, events: VisionEvent[]): void {
    if (!tryCount(rec.lines[p.line], p.dir, p.tMs, this.options)) return;
    const name = this.geometry.lines[p.line].name;
    this.totals.add(name, rec.label, p.dir);
    events.push(crossingEvent(this.options.camera, name, p.dir, p.tMs, rec));
  }

  private finish(rec: TrackRec, tMs: number, reason: string, events: VisionEvent[]): void {
    // Judged on the frames there were: a track ending before the check had its frames.
    this.releaseAll(rec, judgeBridge(rec), events);
    // A track that ends past the dead band, before its hysteresis frames were seen, crossed: the
    // object walked out of view (or out of the clip) just after the line. Counted at the time it got
    // past the band. Not when a successor inherited the state: that one completes it.
    if (this.options.completeAtEnd && !rec.relinked && rec.confirmed) {
      for (let i = 0; i < rec.lines.length; i++) if (rec.lines[i].streak > 0) this.settleLine(rec, i, rec.lines[i].streakMs, events);
    }
    this.zones.exitAll(rec, rec.lastSeenMs, reason, events);
    this.tracks.delete(rec.id);
    rec.pending = [];
    // Kept only as a re-link source, and only while it can still be one.
    if (this.options.relinkS > 0 && tMs - rec.lastSeenMs <= this.options.relinkS * 1000) this.ended.set(rec.id, rec);
  }

  /** Ended records past relinkS go; beyond MAX_TRACK_RECORDS the longest-unseen live tracks end and the oldest ended records go. */
  private forgetRecords(tMs: number, events: VisionEvent[]): void {
    for (const [id, rec] of this.ended) if (tMs - rec.lastSeenMs > this.options.relinkS * 1000) this.ended.delete(id);
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
  }
}

function crossingEvent(camera: string, line: string, direction: Direction, tMs: number, rec: TrackRec): VisionEvent {
  return { event: 'line-crossing', camera, tMs, line, direction, class: rec.label, classId: rec.classId, trackId: rec.id };
}
