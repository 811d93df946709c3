/**
 * Station KPIs for a whole recording, for the CLI (`edgevision run … --stations stations.json`):
 * feed tracked frames in order, read `{stations: {s1: {working_s, idle_s, absent_s, utilisation, units}}}`
 * covering the run from its first to its last frame.
 */
import { Detection, Frame, PixelFormat } from '../types';
import { KpiReport, ProductivityEngine } from './engine';
import { ProductivityOptions } from './options';

export interface ReplayFrame {
  tMs: number;
  width: number;
  height: number;
  detections: readonly Detection[];
  camera?: string;
  /** Pixels of this frame for the motion signal; without them activity falls back to presence. */
  pixels?: Uint8Array;
  format?: PixelFormat;
  /** Units produced at this frame's time. */
  units?: { station?: string; count?: number }[];
}

export interface StationTotals {
  working_s: number;
  idle_s: number;
  absent_s: number;
  utilisation: number;
  units: number;
}

export interface ReplayResult {
  stations: Record<string, StationTotals>;
}

export class StationKpiRun {
  private readonly engine: ProductivityEngine;
  private seq = 0;
  private last: number | null = null;
  private readonly explicitSource: boolean;
  private sourceSet = false;

  constructor(stations: unknown, options: Partial<Record<keyof ProductivityOptions, unknown>> = {}) {
    // The window covers the whole run and there is a single endless shift, so nothing is pruned away.
    this.engine = new ProductivityEngine({ kpiIntervalMs: 0, ...options, stations, windowMs: Number.MAX_SAFE_INTEGER / 2, shifts: '', utcOffsetMin: 0 });
    this.explicitSource = options.activitySource !== undefined;
  }

  push(f: ReplayFrame): void {
    const camera = f.camera ?? 'replay';
    if (!this.explicitSource && !this.sourceSet) {
      this.engine.configure({ activitySource: f.pixels ? 'motion' : 'presence' });
      this.sourceSet = true;
    }
    let pixels: Frame | null = null;
    if (f.pixels) pixels = { ref: { camera, seq: this.seq++, tMs: f.tMs, width: f.width, height: f.height, format: f.format ?? 'rgb24' }, data: f.pixels };
    this.engine.processFrame({ camera, tMs: f.tMs, width: f.width, height: f.height, detections: f.detections, pixels, rxMs: f.tMs });
    for (const u of f.units ?? []) this.engine.addUnits({ station: u.station, count: u.count, tMs: f.tMs, rxMs: f.tMs });
    this.last = this.last === null ? f.tMs : Math.max(this.last, f.tMs);
  }

  /** The full KPI report over the run so far (shift and window both cover it). */
  report(): KpiReport | null {
    return this.last === null ? null : this.engine.kpis(this.last);
  }

  result(): ReplayResult {
    const r = this.report();
    const stations: Record<string, StationTotals> = {};
    for (const name of this.engine.stationNames()) {
      const k = r?.stations[name]?.window;
      stations[name] = {
        working_s: k?.working_s ?? 0,
        idle_s: k?.idle_s ?? 0,
        absent_s: k?.absent_s ?? 0,
        utilisation: k?.utilisation ?? 0,
        units: k?.units ?? 0,
      };
    }
    return { stations };
  }
}

/** One call over a whole sequence of frames (sorted by time). */
export function computeStationKpis(
  stations: unknown,
  frames: Iterable<ReplayFrame>,
  options: Partial<Record<keyof ProductivityOptions, unknown>> = {},
): ReplayResult {
  const run = new StationKpiRun(stations, options);
  for (const f of frames) run.push(f);
  return run.result();
}
