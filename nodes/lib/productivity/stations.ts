/**
 * Workstations are zones in the same normalised geometry JSON as line-count:
 * `{"zones":[{"name":"station-1","camera":"cam1","polygon":[[x,y],...]}]}` (0..1 coordinates). `camera`
 * is optional: a zone without one applies to every camera the node sees. Other keys (`lines`, …) are
 * ignored so that one geometry file can feed both nodes.
 * Points and polygons are checked by the same parser as line-count's zones (geometry.ts).
 */
import { parseUnitPolygon } from '../geometry';
import { Point } from '../types';

export interface StationZone {
  name: string;
  camera?: string;
  /** Normalised 0..1 polygon, at least three points. */
  polygon: Point[];
}

function fail(msg: string): never {
  throw new Error(`stations: ${msg}`);
}

/** Parses and validates stations from a JSON string or an already-parsed object. */
export function parseStations(input: unknown): StationZone[] {
  let obj: unknown = input;
  if (typeof input === 'string') {
    if (input.trim() === '') return [];
    try {
      obj = JSON.parse(input);
    } catch (e) {
      fail(`not valid JSON (${(e as Error).message})`);
    }
  }
  if (Array.isArray(obj)) obj = { zones: obj };
  if (!obj || typeof obj !== 'object') fail('expected an object like {"zones":[{"name":"s1","polygon":[[x,y],...]}]}');
  const zones = (obj as { zones?: unknown }).zones;
  if (zones === undefined) return [];
  if (!Array.isArray(zones)) fail('"zones" must be an array');
  const seen = new Set<string>();
  return zones.map((z, i) => {
    if (!z || typeof z !== 'object') fail(`zone ${i} is not an object`);
    const { name, camera, polygon } = z as { name?: unknown; camera?: unknown; polygon?: unknown };
    if (typeof name !== 'string' || name.trim() === '') fail(`zone ${i} needs a non-empty "name"`);
    if (seen.has(name)) fail(`zone name "${name}" is used twice`);
    seen.add(name);
    if (camera !== undefined && camera !== null && typeof camera !== 'string') fail(`zone "${name}": "camera" must be a string`);
    const pts = parseUnitPolygon(polygon, `stations: zone "${name}" polygon`);
    const out: StationZone = { name, polygon: pts };
    if (typeof camera === 'string' && camera !== '') out.camera = camera;
    return out;
  });
}
