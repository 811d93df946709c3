/**
 * The productivity engine: tracks in, station and worker states, events, KPIs and InfluxDB points
 * out. Pure (no clock, no Node-RED): every call carries its event time, and the caller's receive time
 * is only copied onto the events. One engine per node; all per-camera, per-track and per-worker maps
 * are evicted when the object goes away.
 */
import { anchorPoint, denormalise, pointInPolygon } from '../geometry';
import { Detection, Frame, InfluxPoint, Point } from '../types';
import { ConfidenceMonitor, MonitorSnapshot } from './health';
import { Kpi, KpiInputs, computeKpi, sumInputs } from './kpi';
import { emaOverTime, motionFraction } from './motion';
import { ProductivityOptions, resolveOptions } from './options';
import { Shift, ShiftDef, parseShifts, shiftAt } from './shift';
import { MachineSnapshot, STATE_CODE, StateMachine, StationState, StepResult, TimingOptions } from './state-machine';
import { StationZone } from './stations';
import { LogEntry, Timeline, UnitEntry, UnitLog } from './timeline';

export interface FrameInput {
  camera: string;
  tMs: number;
  width: number;
  height: number;
  detections: readonly Detection[];
  /** This frame's pixels from the frame store; null/undefined = gone, so no motion reading. */
  pixels?: Frame | null;
  /** Receive time (caller's clock), copied onto events. Defaults to tMs. */
  rxMs?: number;
}

export interface StationView {
  state: StationState;
  present: boolean;
  active: boolean;
  /** Highest smoothed activity of the workers in the zone in this frame (null: no reading). */
  activity: number | null;
  workers: string[];
  sinceMs: number;
}

export interface PeriodKpis {
  shift: Kpi;
  window: Kpi;
}

export interface KpiReport {
  event: 'kpi';
  camera: string;
  tMs: number;
  rxMs: number;
  reason: 'interval' | 'state-change' | 'shift-end' | 'request';
  shift: Shift;
  windowMs: number;
  stations: Record<string, PeriodKpis & { state: StationState; camera: string }>;
  workers: Record<string, PeriodKpis & { station: string; state: StationState }>;
  factory: PeriodKpis;
  modelHealth: Record<string, { meanConfidence: number | null; drifting: boolean }>;
}

export interface EngineEvent {
  event: string;
  camera: string;
  tMs: number;
  rxMs: number;
  [key: string]: unknown;
}

export interface FrameResult {
  stations: Record<string, StationView>;
  events: EngineEvent[];
  reports: KpiReport[];
  points: InfluxPoint[];
  /** The frame was older than the camera's last one and did not change any state. */
  late: boolean;
}

interface StationRec {
  zone: StationZone;
  camera: string;
  machine: StateMachine | null;
  states: Timeline<StationState>;
  presence: Timeline<'present' | 'empty'>;
  units: UnitLog;
  external: boolean | undefined;
  pixelPoly: { w: number; h: number; poly: Point[] } | null;
  view: StationView | null;
}

/** A track's smoothed motion on one camera (keyed by worker id). */
interface TrackMotion {
  ema: number;
  emaMs: number;
  lastSeenMs: number;
}

interface CameraRec {
  lastMs: number;
  prev: Frame | null;
  tracks: Map<string, TrackMotion>;
  health: ConfidenceMonitor;
}

interface WorkerRec {
  camera: string;
  station: string;
  machine: StateMachine | null;
  states: Timeline<StationState>;
  units: UnitLog;
  lastMs: number;
}

/** A qualifying track inside a station in this frame. */
interface InStation {
  det: Detection;
  worker: string | null;
  activity: number | null;
}

/** What stage 5 of processFrame found: tracks per station, and each worker's first station. */
interface TracksSeen {
  byStation: Map<string, InStation[]>;
  workers: Map<string, { station: string; activity: number | null }>;
}

const EMPTY: KpiInputs = { workingMs: 0, idleMs: 0, absentMs: 0, occupancyMs: 0, units: 0 };

interface EngineCounters {
  lateFrames: number;
  lateUnits: number;
  duplicateUnits: number;
  duplicateEvents: number;
}

/**
 * What the engine carries over a restart or a redeploy (plain JSON, for node context): station and
 * worker state machines and the event logs the shift and rolling KPIs are integrated from, the
 * shift, the engine's time and each camera's model-health window. Not kept: pixels and per-track
 * motion (they rebuild within a frame or two, and track ids change with a new tracker anyway).
 */
export interface EngineSnapshot {
  version: 1;
  nowMs: number | null;
  shift: Shift | null;
  kpiBucket: number | null;
  counters: EngineCounters;
  stations: Record<
    string,
    {
      /** The station's zone when saved: state is restored only into the same zone. */
      zone: string;
      camera: string;
      machine: MachineSnapshot | null;
      states: LogEntry<StationState>[];
      presence: LogEntry<'present' | 'empty'>[];
      units: UnitEntry[];
      external: boolean | null;
    }
  >;
  workers: Record<
    string,
    { camera: string; station: string; machine: MachineSnapshot | null; states: LogEntry<StationState>[]; units: UnitEntry[]; lastMs: number }
  >;
  cameras: Record<string, { lastMs: number; health: MonitorSnapshot }>;
}

const isState = (v: unknown): v is StationState => v === 'working' || v === 'idle' || v === 'absent';
const isPresence = (v: unknown): v is 'present' | 'empty' => v === 'present' || v === 'empty';
const finiteOr = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);

export class ProductivityEngine {
  private opts: ProductivityOptions;
  private shiftDefs: ShiftDef[];
  private readonly stations = new Map<string, StationRec>();
  private readonly cameras = new Map<string, CameraRec>();
  private readonly workers = new Map<string, WorkerRec>();
  private nowMs: number | null = null;
  private shift: Shift | null = null;
  private kpiBucket = -Infinity;
  private counters: EngineCounters = { lateFrames: 0, lateUnits: 0, duplicateUnits: 0, duplicateEvents: 0 };

  constructor(options: Partial<Record<keyof ProductivityOptions, unknown>> = {}) {
    this.opts = resolveOptions(options);
    this.shiftDefs = parseShifts(this.opts.shifts);
    this.buildStations();
  }

  get options(): ProductivityOptions {
    return { ...this.opts, stations: this.opts.stations.map((s) => ({ ...s, polygon: s.polygon.map((p) => [p[0], p[1]] as Point) })) };
  }

  get stats(): { lateFrames: number; lateUnits: number; duplicateUnits: number; duplicateEvents: number; workers: number; cameras: number } {
    return { ...this.counters, workers: this.workers.size, cameras: this.cameras.size };
  }

  get timeMs(): number | null {
    return this.nowMs;
  }

  /** Cameras whose model-health monitor is in the drift-warning state. */
  driftingCameras(): string[] {
    return [...this.cameras].filter(([, c]) => c.health.drifting).map(([name]) => name);
  }

  /** Cameras the engine holds state for (model health, the previous frame), in first-seen order. */
  cameraNames(): string[] {
    return [...this.cameras.keys()];
  }

  /**
   * Forgets a camera (it stopped sending long ago, or the caller holds too many): its own state (the
   * model-health window, the frame kept for differencing) goes, and the workers last seen on it end
   * their presence as if it had sent empty frames (their records stay for the open periods' KPIs, then
   * go as every finished worker's do). Stations are kept. A frame of it starts afresh.
   */
  forgetCamera(camera: string): boolean {
    const cam = this.cameras.get(camera);
    if (!cam) return false;
    const endMs = Number.isFinite(cam.lastMs) ? cam.lastMs + this.opts.presenceOffMs + 1 : null;
    for (const [wid, w] of this.workers) {
      if (w.camera !== camera || !w.machine) continue;
      if (endMs !== null) this.recordWorker(w, w.machine.step(Math.max(endMs, w.machine.timeMs), { raw: false }));
      w.machine = null;
      if (w.states.length <= 1 && !w.units.length) this.workers.delete(wid);
    }
    this.cameras.delete(camera);
    return true;
  }

  stationNames(): string[] {
    return [...this.stations.keys()];
  }

  /** Whether activity comes from frame differencing, so frames need their pixels. */
  get needsPixels(): boolean {
    const s = this.opts.activitySource;
    return s !== 'presence' && s !== 'external';
  }

  /** Changes options at run time. Timing and thresholds keep all state; new stations start afresh. */
  configure(patch: Partial<Record<keyof ProductivityOptions, unknown>>): ProductivityOptions {
    const next = resolveOptions(patch, this.opts);
    const stationsChanged = patch.stations !== undefined && JSON.stringify(next.stations) !== JSON.stringify(this.opts.stations);
    this.opts = next;
    this.shiftDefs = parseShifts(next.shifts);
    if (this.nowMs !== null) this.shift = shiftAt(this.nowMs, this.shiftDefs, next.utcOffsetMin);
    for (const s of this.stations.values()) s.machine?.configure(this.timing());
    for (const w of this.workers.values()) w.machine?.configure(this.workerTiming());
    for (const c of this.cameras.values()) c.health.configure(this.healthOpts());
    if (stationsChanged) this.buildStations();
    return this.options;
  }

  private timing(): TimingOptions {
    const o = this.opts;
    return { presenceOnMs: o.presenceOnMs, presenceOffMs: o.presenceOffMs, idleDelayMs: o.idleDelayMs, absenceTimeoutMs: o.absenceTimeoutMs };
  }

  /** A worker's record covers only their presence: they are "absent" the moment presence ends. */
  private workerTiming(): TimingOptions {
    return { ...this.timing(), absenceTimeoutMs: 0 };
  }

  private healthOpts() {
    return { windowMs: this.opts.healthWindowMs, threshold: this.opts.driftThreshold, sustainMs: this.opts.driftSustainMs };
  }

  private buildStations(): void {
    const keep = new Map(this.stations);
    this.stations.clear();
    for (const zone of this.opts.stations) {
      const old = keep.get(zone.name);
      if (old && JSON.stringify(old.zone) === JSON.stringify(zone)) {
        this.stations.set(zone.name, old);
        continue;
      }
      this.stations.set(zone.name, {
        zone,
        camera: zone.camera ?? '',
        machine: null,
        states: new Timeline(),
        presence: new Timeline(),
        units: new UnitLog(),
        external: undefined,
        pixelPoly: null,
        view: null,
      });
    }
  }

  private qualifies(d: Detection): boolean {
    const o = this.opts;
    if (!(d.score >= o.minConfidence)) return false;
    if (o.labels.length && !o.labels.includes(d.label)) return false;
    if (o.requireConfirmed && d.trackState !== 'confirmed') return false;
    return true;
  }

  private polyFor(s: StationRec, w: number, h: number): Point[] {
    if (!s.pixelPoly || s.pixelPoly.w !== w || s.pixelPoly.h !== h) s.pixelPoly = { w, h, poly: denormalise(s.zone.polygon, w, h) };
    return s.pixelPoly.poly;
  }

  private static workerId(camera: string, d: Detection): string | null {
    if (d.globalId) return d.globalId;
    if (d.trackId === undefined) return null;
    return `${camera}:${d.trackId}`;
  }

  /**
   * Processes one vision frame, in stages: (1) the camera's record, (2) a late frame stops there,
   * (3) shift boundaries the frame steps over, (4) model health, (5) activity of each qualifying
   * track in a station, (6) stations, (7) workers, (8) camera bookkeeping, (9) KPI reports,
   * (10) pruning, (11) the reports' points.
   */
  processFrame(f: FrameInput): FrameResult {
    if (!f || typeof f.camera !== 'string' || !Number.isFinite(f.tMs)) throw new Error('frame needs a camera name and a finite tMs');
    if (!(f.width > 0 && f.height > 0)) throw new Error(`frame of camera "${f.camera}" needs width and height > 0`);
    if (!Array.isArray(f.detections)) throw new Error(`frame of camera "${f.camera}" needs a detections array`);
    const rx = f.rxMs ?? f.tMs;
    const res: FrameResult = { stations: {}, events: [], reports: [], points: [], late: false };

    // 1. The camera's record (a camera seen for the first time gets one).
    const cam = this.cameraFor(f.camera);

    // 2. A frame older than the camera's last one changes nothing: the stations as they are.
    if (f.tMs < cam.lastMs) return this.lateFrame(f.camera, res);

    // 3. Shift boundaries that this frame steps over close the shift at its exact end.
    this.closeShifts(f, rx, res);

    // 4. Model health: every detection of a worker label, whatever its score or track state.
    this.observeHealth(cam, f, rx, res);

    // 5. Activity per qualifying track, computed only for those inside some station.
    const stations = [...this.stations.values()].filter((s) => this.onCamera(s, f.camera));
    const seen = this.tracksInStations(cam, f, stations);

    // 6. Stations: each machine steps on presence and activity.
    const changed = this.stepStations(stations, seen.byStation, f, rx, res);

    // 7. Workers (tracked detections in a station), each with their own machine over their presence.
    this.stepWorkers(seen.workers, f, rx);

    // 8. Camera bookkeeping: the frame kept for differencing, motion of gone tracks forgotten, time.
    this.keepFrame(cam, f);

    // 9. KPI reports at state changes and on event-time interval boundaries.
    this.reportKpis(changed, rx, res);

    // 10. Records older than the open shift and window go.
    this.prune();

    // 11. Points for the reports.
    for (const r of res.reports) res.points.push(...this.kpiPoints(r));
    return res;
  }

  private cameraFor(camera: string): CameraRec {
    let cam = this.cameras.get(camera);
    if (!cam) {
      cam = { lastMs: -Infinity, prev: null, tracks: new Map(), health: new ConfidenceMonitor(this.healthOpts()) };
      this.cameras.set(camera, cam);
    }
    return cam;
  }

  private lateFrame(camera: string, res: FrameResult): FrameResult {
    this.counters.lateFrames++;
    res.late = true;
    for (const [name, s] of this.stations) if (s.view && this.onCamera(s, camera)) res.stations[name] = s.view;
    return res;
  }

  /** Closes every shift that ends at or before this frame (its machines advanced to the end, a shift-end report). */
  private closeShifts(f: FrameInput, rx: number, res: FrameResult): void {
    const o = this.opts;
    if (this.nowMs === null) this.shift = shiftAt(f.tMs, this.shiftDefs, o.utcOffsetMin);
    let guard = 0;
    while (this.shift && f.tMs >= this.shift.endMs && guard++ < 64) {
      const end = this.shift.endMs;
      for (const s of this.stations.values()) {
        if (s.machine && this.onCamera(s, f.camera)) this.record(s, s.machine.advance(end), f.camera, rx, res);
      }
      for (const w of this.workers.values()) if (w.machine && w.camera === f.camera) this.recordWorker(w, w.machine.advance(end));
      res.reports.push(this.report(end, rx, 'shift-end', true));
      this.shift = shiftAt(end, this.shiftDefs, o.utcOffsetMin);
    }
    if (this.shift && f.tMs >= this.shift.endMs) this.shift = shiftAt(f.tMs, this.shiftDefs, o.utcOffsetMin);
  }

  private observeHealth(cam: CameraRec, f: FrameInput, rx: number, res: FrameResult): void {
    const o = this.opts;
    const scores = f.detections.filter((d) => !o.labels.length || o.labels.includes(d.label)).map((d) => d.score);
    const h = cam.health.observe(f.tMs, scores);
    if (h) res.events.push({ ...h, camera: f.camera, rxMs: rx, threshold: o.driftThreshold });
  }

  /** Qualifying tracks inside this camera's stations: per station, and each worker's first station. */
  private tracksInStations(cam: CameraRec, f: FrameInput, stations: StationRec[]): TracksSeen {
    const canDiff = !!(f.pixels && cam.prev && f.tMs - cam.prev.ref.tMs <= this.opts.maxFrameGapMs && f.tMs > cam.prev.ref.tMs);
    const byStation = new Map<string, InStation[]>();
    const workers = new Map<string, { station: string; activity: number | null }>();
    for (const d of f.detections) {
      if (!this.qualifies(d)) continue;
      const p = anchorPoint(d.box, this.opts.anchor);
      let activity: number | null | undefined;
      const wid = ProductivityEngine.workerId(f.camera, d);
      for (const s of stations) {
        if (!pointInPolygon(p, this.polyFor(s, f.width, f.height))) continue;
        if (activity === undefined) activity = this.activity(cam, wid, d, f, canDiff);
        let list = byStation.get(s.zone.name);
        if (!list) byStation.set(s.zone.name, (list = []));
        list.push({ det: d, worker: wid, activity });
        if (wid && !workers.has(wid)) workers.set(wid, { station: s.zone.name, activity });
      }
    }
    return { byStation, workers };
  }

  /** Steps each station's machine on this frame; true when a station's state changed. */
  private stepStations(stations: StationRec[], byStation: Map<string, InStation[]>, f: FrameInput, rx: number, res: FrameResult): boolean {
    let changed = false;
    for (const s of stations) {
      if (!s.machine) {
        s.camera = s.zone.camera ?? f.camera;
        s.machine = new StateMachine(this.timing(), f.tMs, 'absent');
        s.states.insert(f.tMs, 'absent', rx);
        s.presence.insert(f.tMs, 'empty', rx);
      }
      const here = byStation.get(s.zone.name) ?? [];
      const readings = here.map((e) => e.activity).filter((a): a is number => a !== null);
      const motion = readings.length ? Math.max(...readings) : null;
      const obs = { raw: here.length > 0, active: this.combine(s, here.length > 0, motion) };
      const step = s.machine.step(f.tMs, obs);
      if (this.record(s, step, f.camera, rx, res)) changed = true;
      s.view = {
        state: s.machine.state,
        present: s.machine.present,
        active: s.machine.present && s.machine.active,
        activity: motion,
        workers: here.map((e) => e.worker).filter((w): w is string => w !== null),
        sinceMs: s.states.lastMs() ?? f.tMs,
      };
      res.stations[s.zone.name] = s.view;
    }
    return changed;
  }

  /** Workers seen in a station step as present; this camera's other workers as not seen. */
  private stepWorkers(seen: Map<string, { station: string; activity: number | null }>, f: FrameInput, rx: number): void {
    for (const [wid, at] of seen) {
      let w = this.workers.get(wid);
      if (!w || !w.machine) {
        if (!w) {
          w = { camera: f.camera, station: at.station, machine: null, states: new Timeline(), units: new UnitLog(), lastMs: f.tMs };
          this.workers.set(wid, w);
        }
        w.machine = new StateMachine(this.workerTiming(), f.tMs, 'absent');
        w.states.insert(f.tMs, 'absent', rx);
      }
      w.station = at.station;
      w.camera = f.camera; // a worker with a global id may move between cameras
      w.lastMs = f.tMs;
      const act = this.combine(this.stations.get(at.station)!, true, at.activity);
      this.recordWorker(w, w.machine.step(f.tMs, { raw: true, active: act }));
    }
    for (const [wid, w] of this.workers) {
      if (!w.machine || w.camera !== f.camera || seen.has(wid)) continue;
      this.recordWorker(w, w.machine.step(f.tMs, { raw: false }));
      // A track that never became present (a passer-by) is forgotten once its visit is over.
      if (w.machine && !w.machine.present && f.tMs - w.lastMs > this.opts.presenceOffMs) {
        w.machine = null;
        if (w.states.length <= 1 && !w.units.length) this.workers.delete(wid);
      }
    }
  }

  private keepFrame(cam: CameraRec, f: FrameInput): void {
    // Keep the previous frame's pixels by reference (the store never rewrites a frame) for differencing.
    if (f.pixels) cam.prev = f.pixels;
    const forget = f.tMs - (this.opts.presenceOffMs + this.opts.maxFrameGapMs);
    for (const [k, t] of cam.tracks) if (t.lastSeenMs < forget) cam.tracks.delete(k);
    cam.lastMs = f.tMs;
    this.nowMs = this.nowMs === null ? f.tMs : Math.max(this.nowMs, f.tMs);
  }

  /** A state-change report when a state changed, else an interval report when the frame starts a new interval. */
  private reportKpis(changed: boolean, rx: number, res: FrameResult): void {
    const o = this.opts;
    const now = this.nowMs!;
    const bucket = o.kpiIntervalMs > 0 ? Math.floor(now / o.kpiIntervalMs) : -Infinity;
    if (changed) res.reports.push(this.report(now, rx, 'state-change', false));
    else if (o.kpiIntervalMs > 0 && bucket > this.kpiBucket && this.kpiBucket !== -Infinity && !res.reports.length)
      res.reports.push(this.report(now, rx, 'interval', false));
    this.kpiBucket = bucket;
  }

  private onCamera(s: StationRec, camera: string): boolean {
    return s.zone.camera === undefined || s.zone.camera === camera;
  }

  /** The smoothed motion of one track (null: no reading this frame). */
  private activity(cam: CameraRec, wid: string | null, d: Detection, f: FrameInput, canDiff: boolean): number | null {
    if (!this.needsPixels) return null;
    const raw = canDiff ? motionFraction(cam.prev!, f.pixels!, d.box, { step: this.opts.motionStep, pixelThreshold: this.opts.motionPixelThreshold }) : null;
    if (wid === null) return raw;
    const t = cam.tracks.get(wid);
    if (raw === null) {
      if (t) t.lastSeenMs = f.tMs;
      return t ? t.ema : null;
    }
    const ema = emaOverTime(t?.ema, t?.emaMs, raw, f.tMs, this.opts.motionTauMs);
    cam.tracks.set(wid, { ema, emaMs: f.tMs, lastSeenMs: f.tMs });
    return ema;
  }

  /** Combines motion and the external signal per activitySource; undefined = no reading. */
  private combine(s: StationRec, raw: boolean, motion: number | null): boolean | undefined {
    const m = motion === null ? undefined : motion > this.opts.activityThreshold;
    const e = s.external;
    switch (this.opts.activitySource) {
      case 'presence':
        return raw ? true : undefined;
      case 'external':
        return e ?? false;
      case 'either':
        // Either signal on is enough; with the machine off, motion decides (no reading keeps the last).
        if (e === true || m === true) return true;
        return m;
      case 'both':
        return e !== true ? false : m;
      default:
        return m;
    }
  }

  /** Logs a station's changes, emits their events and points; true when the state changed. */
  private record(s: StationRec, step: StepResult, camera: string, rx: number, res: FrameResult): boolean {
    for (const p of step.presence) s.presence.insert(p.tMs, p.present ? 'present' : 'empty', rx);
    for (const c of step.changes) {
      if (!s.states.insert(c.tMs, c.to, rx)) {
        this.counters.duplicateEvents++;
        continue;
      }
      const cam = s.zone.camera ?? camera;
      res.events.push({ event: 'state-change', camera: cam, tMs: c.tMs, rxMs: rx, station: s.zone.name, from: c.from, to: c.to, state: c.to });
      res.points.push({
        measurement: 'station_state',
        tags: { station: s.zone.name, camera: cam },
        fields: { state: c.to, state_code: STATE_CODE[c.to], from: c.from },
        timestamp: c.tMs,
      });
    }
    return step.changes.length > 0;
  }

  private recordWorker(w: WorkerRec, step: StepResult): void {
    for (const c of step.changes) w.states.insert(c.tMs, c.to, w.lastMs);
    // A worker whose presence ended is done: the record stays for the open periods' KPIs only.
    if (w.machine && w.machine.state === 'absent' && step.changes.length) w.machine = null;
  }

  /**
   * Adds units for a station (a PLC counter, a conveyor line crossing). Late units are placed by event
   * time; a unit older than what the open periods cover, or a duplicate source id, is dropped.
   */
  addUnits(u: { station?: string; count?: number; tMs?: number; rxMs: number; sourceId?: string }): { accepted: boolean; station: string; reason?: string } {
    const name = u.station || this.opts.unitsStation || (this.stations.size === 1 ? [...this.stations.keys()][0] : '');
    const s = this.stations.get(name);
    if (!s)
      throw new Error(
        name
          ? `units for unknown station "${name}" (stations: ${this.stationNames().join(', ') || 'none'})`
          : 'units message names no station and no default units station is set',
      );
    const count = u.count ?? 1;
    if (!Number.isFinite(count)) throw new Error(`units count must be a number, got ${JSON.stringify(u.count)}`);
    const t = u.tMs ?? this.nowMs ?? u.rxMs;
    if (!Number.isFinite(t)) throw new Error(`units time must be a finite number, got ${JSON.stringify(u.tMs)}`);
    if (t < this.horizon()) {
      this.counters.lateUnits++;
      return { accepted: false, station: name, reason: 'older than the open shift and window' };
    }
    if (!s.units.add(t, count, u.rxMs, u.sourceId)) {
      this.counters.duplicateUnits++;
      return { accepted: false, station: name, reason: 'duplicate' };
    }
    // Credit the worker who has been present at the station longest.
    let best: [string, WorkerRec] | null = null;
    for (const e of this.workers) {
      const m = e[1].machine;
      if (!m || e[1].station !== name || !m.present) continue;
      if (!best || (m.presentSinceMs ?? Infinity) < (best[1].machine!.presentSinceMs ?? Infinity)) best = e;
    }
    if (best) best[1].units.add(t, count, u.rxMs);
    return { accepted: true, station: name };
  }

  /** A line-count event: a crossing of `unitsLine` is one unit for `unitsStation`. Returns null when it is not one. */
  addCrossing(ev: Record<string, unknown>, rxMs: number): { accepted: boolean; station: string; reason?: string } | null {
    const o = this.opts;
    if (!o.unitsLine || !ev || ev.event !== 'line-crossing') return null;
    const line = ev.line ?? ev.name;
    if (line !== o.unitsLine) return null;
    const t = typeof ev.tMs === 'number' ? ev.tMs : undefined;
    const id = `${String(ev.camera ?? '')}|${String(line)}|${String(ev.trackId ?? ev.globalId ?? '')}|${String(t ?? '')}|${String(ev.direction ?? '')}`;
    return this.addUnits({
      station: o.unitsStation || undefined,
      count: 1,
      tMs: t,
      rxMs,
      sourceId: ev.trackId !== undefined && t !== undefined ? id : undefined,
    });
  }

  /** The external activity signal (a PLC "machine running" bit) for one station or, without one, all. */
  setExternal(station: string | undefined, value: unknown): void {
    const on = typeof value === 'boolean' ? value : typeof value === 'number' ? value > 0 : value === 'true' || value === 'on' || value === '1';
    if (station) {
      const s = this.stations.get(station);
      if (!s) throw new Error(`activity for unknown station "${station}"`);
      s.external = on;
    } else {
      for (const s of this.stations.values()) s.external = on;
    }
  }

  private horizon(): number {
    if (this.nowMs === null || !this.shift) return -Infinity;
    return Math.min(this.shift.startMs, this.nowMs - this.opts.windowMs);
  }

  private prune(): void {
    const h = this.horizon();
    if (h === -Infinity) return;
    // A camera that stopped sending cannot be differenced against any more: let its last frame go.
    for (const c of this.cameras.values()) if (c.prev && this.nowMs! - c.lastMs > this.opts.maxFrameGapMs) c.prev = null;
    for (const s of this.stations.values()) {
      s.states.prune(h);
      s.presence.prune(h);
      s.units.prune(h);
    }
    for (const [id, w] of this.workers) {
      if (!w.machine && w.lastMs < h) this.workers.delete(id);
      else {
        w.states.prune(h);
        w.units.prune(h);
      }
    }
    if (this.workers.size > this.opts.maxWorkers) {
      const done = [...this.workers].filter(([, w]) => !w.machine).sort((a, b) => a[1].lastMs - b[1].lastMs);
      for (const [id] of done.slice(0, this.workers.size - this.opts.maxWorkers)) this.workers.delete(id);
    }
  }

  private stationInputs(s: StationRec, from: number, to: number, closed: boolean): KpiInputs {
    if (!s.machine && !s.states.length) return { ...EMPTY };
    const st = s.states.integrate(from, to);
    const pr = s.presence.integrate(from, to);
    return {
      workingMs: st.get('working') ?? 0,
      idleMs: st.get('idle') ?? 0,
      absentMs: st.get('absent') ?? 0,
      occupancyMs: pr.get('present') ?? 0,
      units: s.units.sum(from, to, !closed),
    };
  }

  private workerInputs(w: WorkerRec, from: number, to: number, closed: boolean): KpiInputs {
    const st = w.states.integrate(from, to);
    const working = st.get('working') ?? 0;
    const idle = st.get('idle') ?? 0;
    return { workingMs: working, idleMs: idle, absentMs: 0, occupancyMs: working + idle, units: w.units.sum(from, to, !closed) };
  }

  /** KPIs of the current shift and the rolling window, up to the engine's time (or `atMs`). */
  kpis(rxMs: number, atMs?: number): KpiReport | null {
    const t = atMs ?? this.nowMs;
    if (t === null) return null;
    return this.report(t, rxMs, 'request', false);
  }

  private report(t: number, rx: number, reason: KpiReport['reason'], closed: boolean): KpiReport {
    const shift = this.shift ?? shiftAt(t, this.shiftDefs, this.opts.utcOffsetMin);
    const wFrom = t - this.opts.windowMs;
    const stations: KpiReport['stations'] = {};
    const sIn: KpiInputs[] = [];
    const wIn: KpiInputs[] = [];
    for (const [name, s] of this.stations) {
      const a = this.stationInputs(s, shift.startMs, t, closed);
      const b = this.stationInputs(s, wFrom, t, closed);
      sIn.push(a);
      wIn.push(b);
      stations[name] = { state: s.machine?.state ?? 'absent', camera: s.camera, shift: computeKpi(a), window: computeKpi(b) };
    }
    const workers: KpiReport['workers'] = {};
    for (const [id, w] of this.workers) {
      const a = this.workerInputs(w, shift.startMs, t, closed);
      const b = this.workerInputs(w, wFrom, t, closed);
      if (a.occupancyMs === 0 && b.occupancyMs === 0 && a.units === 0 && b.units === 0) continue;
      workers[id] = { station: w.station, state: w.machine?.state ?? 'absent', shift: computeKpi(a), window: computeKpi(b) };
    }
    const modelHealth: KpiReport['modelHealth'] = {};
    for (const [c, cam] of this.cameras) modelHealth[c] = { meanConfidence: cam.health.mean, drifting: cam.health.drifting };
    return {
      event: 'kpi',
      camera: '*',
      tMs: t,
      rxMs: rx,
      reason,
      shift: { ...shift },
      windowMs: this.opts.windowMs,
      stations,
      workers,
      factory: { shift: computeKpi(sumInputs(sIn)), window: computeKpi(sumInputs(wIn)) },
      modelHealth,
    };
  }

  /** The engine's state as plain JSON (see EngineSnapshot). */
  snapshot(): EngineSnapshot {
    const stations: EngineSnapshot['stations'] = {};
    for (const [name, s] of this.stations) {
      stations[name] = {
        zone: JSON.stringify(s.zone),
        camera: s.camera,
        machine: s.machine ? s.machine.snapshot() : null,
        states: s.states.list(),
        presence: s.presence.list(),
        units: s.units.list(),
        external: s.external ?? null,
      };
    }
    const workers: EngineSnapshot['workers'] = {};
    for (const [id, w] of this.workers) {
      workers[id] = {
        camera: w.camera,
        station: w.station,
        machine: w.machine ? w.machine.snapshot() : null,
        states: w.states.list(),
        units: w.units.list(),
        lastMs: w.lastMs,
      };
    }
    const cameras: EngineSnapshot['cameras'] = {};
    for (const [name, c] of this.cameras) cameras[name] = { lastMs: Number.isFinite(c.lastMs) ? c.lastMs : -1, health: c.health.snapshot() };
    return {
      version: 1,
      nowMs: this.nowMs,
      shift: this.shift ? { ...this.shift } : null,
      kpiBucket: Number.isFinite(this.kpiBucket) ? this.kpiBucket : null,
      counters: { ...this.counters },
      stations,
      workers,
      cameras,
    };
  }

  /**
   * Carries on from a snapshot taken before a restart or redeploy. Stations are restored only where
   * the zone is unchanged (a station drawn anew starts afresh); a malformed part is skipped, never
   * trusted. Returns what was restored. The time until the next frame is a gap like any camera
   * dropout: the state machines' timeouts decide what it counts as.
   */
  restore(snap: unknown): { stations: number; workers: number } {
    const out = { stations: 0, workers: 0 };
    const x = snap as EngineSnapshot;
    if (!x || typeof x !== 'object' || x.version !== 1) return out;
    if (typeof x.nowMs === 'number' && Number.isFinite(x.nowMs)) this.nowMs = x.nowMs;
    if (x.shift && Number.isFinite(x.shift.startMs) && Number.isFinite(x.shift.endMs) && typeof x.shift.name === 'string') this.shift = { ...x.shift };
    else if (this.nowMs !== null) this.shift = shiftAt(this.nowMs, this.shiftDefs, this.opts.utcOffsetMin);
    this.kpiBucket = typeof x.kpiBucket === 'number' && Number.isFinite(x.kpiBucket) ? x.kpiBucket : -Infinity;
    if (x.counters && typeof x.counters === 'object') {
      for (const k of Object.keys(this.counters) as (keyof EngineCounters)[]) this.counters[k] = finiteOr(x.counters[k], this.counters[k]);
    }
    for (const [name, saved] of Object.entries(x.stations ?? {})) {
      const s = this.stations.get(name);
      if (!s || !saved || saved.zone !== JSON.stringify(s.zone)) continue;
      try {
        const machine = saved.machine ? StateMachine.fromSnapshot(this.timing(), saved.machine) : null;
        s.states = Timeline.from(saved.states ?? [], isState);
        s.presence = Timeline.from(saved.presence ?? [], isPresence);
        s.units = UnitLog.from(saved.units ?? []);
        s.machine = machine;
        s.camera = typeof saved.camera === 'string' ? saved.camera : s.camera;
        s.external = typeof saved.external === 'boolean' ? saved.external : undefined;
        out.stations++;
      } catch {
        /* malformed: this station starts afresh */
      }
    }
    for (const [id, saved] of Object.entries(x.workers ?? {})) {
      if (!saved || typeof saved.station !== 'string' || !this.stations.has(saved.station)) continue;
      try {
        this.workers.set(id, {
          camera: String(saved.camera),
          station: saved.station,
          machine: saved.machine ? StateMachine.fromSnapshot(this.workerTiming(), saved.machine) : null,
          states: Timeline.from(saved.states ?? [], isState),
          units: UnitLog.from(saved.units ?? []),
          lastMs: finiteOr(saved.lastMs, this.nowMs ?? 0),
        });
        out.workers++;
      } catch {
        /* malformed: this worker is forgotten */
      }
    }
    for (const [name, saved] of Object.entries(x.cameras ?? {})) {
      if (!saved) continue;
      const health = new ConfidenceMonitor(this.healthOpts());
      health.restore(saved.health);
      this.cameras.set(name, { lastMs: finiteOr(saved.lastMs, -Infinity), prev: null, tracks: new Map(), health });
    }
    return out;
  }

  /** InfluxDB points for a report: station_kpi, worker_kpi, factory_kpi, one per period. */
  kpiPoints(r: KpiReport): InfluxPoint[] {
    const pts: InfluxPoint[] = [];
    const fields = (k: Kpi) => ({ ...k }) as Record<string, number>;
    for (const period of ['shift', 'window'] as const) {
      const tags = { period, shift: r.shift.name };
      for (const [name, s] of Object.entries(r.stations)) {
        pts.push({
          measurement: 'station_kpi',
          tags: { ...tags, station: name, camera: s.camera },
          fields: { ...fields(s[period]), state_code: STATE_CODE[s.state] },
          timestamp: r.tMs,
        });
      }
      for (const [id, w] of Object.entries(r.workers)) {
        pts.push({ measurement: 'worker_kpi', tags: { ...tags, worker: id, station: w.station }, fields: fields(w[period]), timestamp: r.tMs });
      }
      pts.push({ measurement: 'factory_kpi', tags, fields: fields(r.factory[period]), timestamp: r.tMs });
    }
    return pts;
  }
}
