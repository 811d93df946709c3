/**
 * The counts/KPI tiles of the vision-ui-tiles widget, from what the picked node sends: the newest
 * frame's counts (line in/out), zones (occupancy) and stations (state), and the newest KPI report
 * (utilisation and units per working hour of the shift). Pure: state in, tiles out.
 */
import { VisionFrame } from '../types';

export interface Tile {
  /** Stable across updates (the browser keys its tiles by it). */
  key: string;
  label: string;
  value: string;
  /** A small line under the value ("in", "people", "shift"). */
  sub: string;
  /** How the tile is coloured: a station's state, or neutral. */
  tone: 'neutral' | 'working' | 'idle' | 'absent';
}

export interface TileOptions {
  /** What to show; all by default. */
  counts: boolean;
  zones: boolean;
  stations: boolean;
  kpi: boolean;
  /** At most this many tiles (a frame from a misconfigured node must not make thousands). */
  maxTiles: number;
}

export const TILE_DEFAULTS: TileOptions = { counts: true, zones: true, stations: true, kpi: true, maxTiles: 48 };

/** The parts of a KPI report the tiles use (vision-productivity-state's topic "kpi" payload). */
export interface KpiSummary {
  factory?: { shift?: { utilisation?: number; units_per_working_hour?: number; units?: number } };
  stations?: Record<string, { shift?: { utilisation?: number } }>;
}

const STATES = new Set(['working', 'idle', 'absent']);

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The tiles for the newest frame and KPI report (either may be missing). */
export function buildTiles(frame: VisionFrame | null, kpi: KpiSummary | null, opts: TileOptions = TILE_DEFAULTS): Tile[] {
  const out: Tile[] = [];
  const counts = (frame?.counts || {}) as Record<string, { in?: number; out?: number }>;
  const zones = (frame?.zones || {}) as Record<string, { occupancy?: number }>;
  const stations = (frame?.stations || {}) as Record<string, { state?: string }>;
  if (opts.counts) {
    for (const [line, c] of Object.entries(counts)) {
      out.push({ key: `in:${line}`, label: line, value: String(num(c?.in) ?? 0), sub: 'in', tone: 'neutral' });
      out.push({ key: `out:${line}`, label: line, value: String(num(c?.out) ?? 0), sub: 'out', tone: 'neutral' });
    }
  }
  if (opts.zones) {
    for (const [zone, z] of Object.entries(zones)) {
      out.push({ key: `zone:${zone}`, label: zone, value: String(num(z?.occupancy) ?? 0), sub: 'in the zone', tone: 'neutral' });
    }
  }
  if (opts.stations) {
    for (const [name, s] of Object.entries(stations)) {
      const state = String(s?.state || '');
      out.push({ key: `station:${name}`, label: name, value: state || '–', sub: 'state', tone: STATES.has(state) ? (state as Tile['tone']) : 'neutral' });
    }
  }
  if (opts.kpi && kpi) {
    const f = kpi.factory?.shift;
    const util = num(f?.utilisation);
    const uph = num(f?.units_per_working_hour);
    if (util !== null) out.push({ key: 'kpi:utilisation', label: 'Utilisation', value: `${util.toFixed(1)} %`, sub: 'shift', tone: 'neutral' });
    if (uph !== null) out.push({ key: 'kpi:uph', label: 'Units / working h', value: uph.toFixed(1), sub: 'shift', tone: 'neutral' });
  }
  return out.slice(0, Math.max(0, opts.maxTiles));
}
