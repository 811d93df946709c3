/**
 * Counting geometry and rule options: the documented JSON a camera's lines and zones are stored in
 * (normalised 0..1, y down) and the tuning knobs of the crossing and zone rules, both validated with
 * errors that say which field is wrong and why.
 */
import { Anchor, parseUnitPoint, parseUnitPolygon } from '../geometry';
import { Point } from '../types';

export type Direction = 'in' | 'out';
export type DirectionLimit = 'in' | 'out' | 'both';

/** A counting line. Crossing from cross(end−start, p−start) < 0 to > 0 is "in" (y down: a line drawn left to right counts moving down as in). */
export interface LineSpec {
  name: string;
  start: Point;
  end: Point;
  /** Which directions count; default both. */
  directions: DirectionLimit;
  /** Class labels (or numeric class ids) that count; empty = every class. */
  classes: (string | number)[];
}

export interface ZoneSpec {
  name: string;
  polygon: Point[];
  classes: (string | number)[];
  /** Occupancy above this raises an over-capacity alarm; undefined = no alarm. */
  capacity?: number;
}

export interface Geometry {
  lines: LineSpec[];
  zones: ZoneSpec[];
}

const NAME_RE = /^[^\s].{0,63}$/;

function fail(path: string, what: string): never {
  throw new Error(`geometry: ${path} ${what}`);
}

function parsePoint(v: unknown, path: string): Point {
  return parseUnitPoint(v, `geometry: ${path}`);
}

function parseName(v: unknown, path: string, seen: Set<string>): string {
  if (typeof v !== 'string' || !NAME_RE.test(v)) fail(path, 'must be a non-empty name of at most 64 characters, not starting with a space');
  if (seen.has(v)) fail(path, `"${v}" is used twice; names must be unique`);
  seen.add(v);
  return v;
}

function parseClasses(v: unknown, path: string): (string | number)[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(path, 'must be an array of class labels or class ids');
  return v.map((c, i) => {
    if (typeof c === 'string' && c.length > 0) return c;
    if (typeof c === 'number' && Number.isInteger(c) && c >= 0) return c;
    return fail(`${path}[${i}]`, `must be a class label or a class id, got ${JSON.stringify(c)}`);
  });
}

/**
 * Parses and validates `{"lines":[{"name","start","end","directions"?,"classes"?}], "zones":[{"name","polygon","classes"?,"capacity"?}]}`
 * (a JSON string or the object). Never mutates its argument; returns fresh objects.
 */
export function parseGeometry(input: unknown): Geometry {
  let g: unknown = input;
  if (typeof input === 'string') {
    try {
      g = input.trim() === '' ? {} : JSON.parse(input);
    } catch (e) {
      throw new Error(`geometry: not valid JSON (${(e as Error).message})`);
    }
  }
  if (!g || typeof g !== 'object' || Array.isArray(g)) throw new Error('geometry: must be an object {"lines":[…],"zones":[…]}');
  const o = g as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'lines' && k !== 'zones') fail(k, 'is not a geometry field (expected lines, zones)');
  const rawLines = o.lines ?? [];
  const rawZones = o.zones ?? [];
  if (!Array.isArray(rawLines)) fail('lines', 'must be an array');
  if (!Array.isArray(rawZones)) fail('zones', 'must be an array');
  const lineNames = new Set<string>();
  const lines = rawLines.map((l: unknown, i: number): LineSpec => {
    const p = `lines[${i}]`;
    if (!l || typeof l !== 'object') fail(p, 'must be an object {name, start, end}');
    const r = l as Record<string, unknown>;
    const name = parseName(r.name, `${p}.name`, lineNames);
    const start = parsePoint(r.start, `${p}.start`);
    const end = parsePoint(r.end, `${p}.end`);
    if (Math.hypot(end[0] - start[0], end[1] - start[1]) < 1e-3) fail(p, `"${name}" has start and end at the same place`);
    const directions = (r.directions ?? 'both') as DirectionLimit;
    if (directions !== 'in' && directions !== 'out' && directions !== 'both')
      fail(`${p}.directions`, `must be "in", "out" or "both", got ${JSON.stringify(r.directions)}`);
    return { name, start, end, directions, classes: parseClasses(r.classes, `${p}.classes`) };
  });
  const zoneNames = new Set<string>();
  const zones = rawZones.map((z: unknown, i: number): ZoneSpec => {
    const p = `zones[${i}]`;
    if (!z || typeof z !== 'object') fail(p, 'must be an object {name, polygon}');
    const r = z as Record<string, unknown>;
    const name = parseName(r.name, `${p}.name`, zoneNames);
    const polygon = parseUnitPolygon(r.polygon, `geometry: ${p}.polygon`);
    let capacity: number | undefined;
    if (r.capacity !== undefined && r.capacity !== null && r.capacity !== '') {
      capacity = Number(r.capacity);
      if (!Number.isInteger(capacity) || capacity < 0) fail(`${p}.capacity`, `must be a whole number ≥ 0, got ${JSON.stringify(r.capacity)}`);
    }
    return { name, polygon, classes: parseClasses(r.classes, `${p}.classes`), capacity };
  });
  return { lines, zones };
}

/** The tuning knobs; every one documented in docs/nodes/line-count.md with the failure it prevents. */
export interface CountingOptions {
  /** Camera id put on events and metrics. */
  camera: string;
  /** Which point of the box follows the floor: the feet (bottom-center) for people seen from above or the side. */
  anchor: Anchor;
  /** 'once': a track counts at most once per line and direction (the default); 'every': each crossing counts. */
  mode: 'once' | 'every';
  /** Hysteresis: frames the anchor must be seen past the line (beyond the dead band) before the crossing counts. */
  minFrames: number;
  /** Hysteresis: half-width of the dead band around the line, as a fraction of the box height. */
  minDistance: number;
  /**
   * A box shorter than this fraction of its track's recent height has lost part of the object (legs
   * hidden behind something, the box cut short): its anchor does not move the track across a line.
   * 0 = off.
   */
  partialBoxRatio: number;
  /** After a counted crossing, further crossings of the same line by the same track are ignored for this long (s). */
  cooldownS: number;
  /** Only tracks the tracker has confirmed count; crossings of a tentative track wait for its confirmation. */
  confirmedOnly: boolean;
  /** Re-link: a new track that appears within this many seconds of another's last sighting may inherit its state; 0 = off. */
  relinkS: number;
  /** Re-link: how near (in box heights of the lost track) the new track must appear to its predicted position. */
  relinkRadius: number;
  /**
   * Re-link check: a crossing made on a re-link's bridge (from the lost track's last point to the new
   * track's first) counts only if the new track's next this-many frames do not move back against the
   * bridge: someone else who appeared nearby walks their own way. 0 = off (bridge crossings count at once).
   */
  relinkCheckFrames: number;
  /** A track that ends past the dead band with fewer than minFrames frames there still counts (it walked out of view just after the line). */
  completeAtEnd: boolean;
  /** A tentative track re-linked to earlier tentative tracks counts once the chain was seen this many frames; 0 = off. */
  chainConfirmHits: number;
  /** A track not seen for this long (s) is ended even without a track-end signal. */
  trackTimeoutS: number;
  /** Zone inertia: frames inside before an object has entered. */
  zoneEnterFrames: number;
  /** Zone inertia: frames outside before an object has left. */
  zoneExitFrames: number;
}

export const DEFAULT_OPTIONS: Readonly<CountingOptions> = Object.freeze({
  camera: 'camera',
  anchor: 'bottom-center',
  mode: 'once',
  minFrames: 2,
  minDistance: 0.05,
  partialBoxRatio: 0.7,
  cooldownS: 1,
  confirmedOnly: true,
  relinkS: 1.5,
  relinkRadius: 0.75,
  relinkCheckFrames: 5,
  chainConfirmHits: 3,
  completeAtEnd: true,
  trackTimeoutS: 2,
  zoneEnterFrames: 3,
  zoneExitFrames: 3,
});

const RANGES: Record<string, [number, number, boolean]> = {
  // name: [min, max, integer]
  minFrames: [1, 1000, true],
  minDistance: [0, 10, false],
  partialBoxRatio: [0, 1, false],
  cooldownS: [0, 86400, false],
  relinkS: [0, 600, false],
  relinkRadius: [0, 100, false],
  relinkCheckFrames: [0, 1000, true],
  trackTimeoutS: [0.001, 86400, false],
  chainConfirmHits: [0, 1000, true],
  zoneEnterFrames: [1, 1000, true],
  zoneExitFrames: [1, 1000, true],
};

/**
 * Fills defaults and validates typed options (text from an editor or a command line is read by the
 * caller: nodes/line-count/config.ts, the CLI). Undefined (or null) = the default.
 */
export function resolveOptions(partial: Partial<Record<keyof CountingOptions, unknown>> = {}): CountingOptions {
  const o: CountingOptions = { ...DEFAULT_OPTIONS };
  const p = partial as Record<string, unknown>;
  for (const k of Object.keys(p)) {
    if (!(k in DEFAULT_OPTIONS)) throw new Error(`counting option "${k}" is unknown (known: ${Object.keys(DEFAULT_OPTIONS).join(', ')})`);
  }
  const given = (k: string) => p[k] !== undefined && p[k] !== null;
  if (given('camera')) o.camera = String(p.camera);
  if (given('anchor')) {
    const a = p.anchor;
    if (a !== 'bottom-center' && a !== 'center' && a !== 'top-center')
      throw new Error(`counting option anchor must be bottom-center, center or top-center, got ${JSON.stringify(a)}`);
    o.anchor = a;
  }
  if (given('mode')) {
    if (p.mode !== 'once' && p.mode !== 'every') throw new Error(`counting option mode must be "once" or "every", got ${JSON.stringify(p.mode)}`);
    o.mode = p.mode;
  }
  for (const k of ['confirmedOnly', 'completeAtEnd'] as const) {
    if (!given(k)) continue;
    const v = p[k];
    if (typeof v !== 'boolean') throw new Error(`counting option ${k} must be true or false, got ${JSON.stringify(v)}`);
    o[k] = v;
  }
  for (const [k, [min, max, int]] of Object.entries(RANGES)) {
    if (!given(k)) continue;
    const n = p[k];
    if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max || (int && !Number.isInteger(n))) {
      throw new Error(`counting option ${k} must be ${int ? 'a whole number' : 'a number'} in ${min}..${max}, got ${JSON.stringify(p[k])}`);
    }
    (o as unknown as Record<string, number>)[k] = n;
  }
  return o;
}

/** True when a class limit admits this detection's class (matched by label or by numeric id). */
export function classAllowed(classes: readonly (string | number)[], label: string, classId: number): boolean {
  if (classes.length === 0) return true;
  for (const c of classes) if (c === label || c === classId) return true;
  return false;
}
