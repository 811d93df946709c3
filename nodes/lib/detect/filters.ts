/**
 * Detection thresholds and filters as one validated options object: the global and per-class score
 * thresholds, the class filter by name, box area and aspect limits, and include/exclude polygons in
 * normalised (0..1) frame coordinates. What the runtime `config` message changes.
 */
import { Anchor, anchorPoint, boxArea, parseUnitPolygon, pointInPolygon } from '../geometry';
import { Detection, Point } from '../types';

export interface FilterOptions {
  /** Global minimum score (objectness × class probability). */
  conf?: number;
  /** Per-class minimum score by label; overrides `conf` for that class. */
  classConf?: Record<string, number>;
  /** Keep only these labels; empty or absent keeps every class. */
  classes?: string[];
  /** Box area as a fraction of the frame area (0..1). */
  minArea?: number;
  maxArea?: number;
  /** Box width / height. */
  minAspect?: number;
  maxAspect?: number;
  /** Keep a box only when its anchor point lies in one of these polygons (normalised); none = everywhere. */
  include?: Point[][];
  /** Drop a box whose anchor point lies in any of these polygons (normalised). */
  exclude?: Point[][];
  /** The point of a box tested against the polygons: the feet (bottom-center) by default. */
  anchor?: Anchor;
}

export type ResolvedFilters = Required<FilterOptions>;

/** Measured on the TUD clips (see test/e2e/detect-accuracy.test.js): 0.5 keeps precision ≥ 0.8 where people
 * behind glass and reflections score 0.3–0.45, and costs < 1 point of recall on visible people. */
export const DEFAULT_CONF = 0.5;

export const DEFAULT_FILTERS: ResolvedFilters = {
  conf: DEFAULT_CONF,
  classConf: {},
  classes: [],
  minArea: 0,
  maxArea: 1,
  minAspect: 0,
  maxAspect: Infinity,
  include: [],
  exclude: [],
  anchor: 'bottom-center',
};

function unit(name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new Error(`${name} must be a number 0–1, got ${JSON.stringify(v)}`);
  return v;
}

function polygons(name: string, v: unknown): Point[][] {
  if (!Array.isArray(v)) throw new Error(`${name} must be a list of polygons, each a list of [x, y] points 0–1`);
  return v.map((poly, i) => parseUnitPolygon(poly, `${name}[${i}]`));
}

/** Merges `o` over `base` (defaults) and validates; errors say which field is wrong and why. */
export function resolveFilters(o: FilterOptions = {}, base: ResolvedFilters = DEFAULT_FILTERS): ResolvedFilters {
  const known = new Set(Object.keys(DEFAULT_FILTERS));
  for (const k of Object.keys(o)) if (!known.has(k)) throw new Error(`unknown detection setting "${k}"; known: ${[...known].join(', ')}`);
  const r: ResolvedFilters = { ...base, ...stripUndefined(o) } as ResolvedFilters;
  unit('conf', r.conf);
  if (!r.classConf || typeof r.classConf !== 'object' || Array.isArray(r.classConf))
    throw new Error('classConf must be an object of label: score, e.g. {"person": 0.5}');
  for (const [k, v] of Object.entries(r.classConf)) unit(`classConf.${k}`, v);
  if (!Array.isArray(r.classes) || !r.classes.every((s) => typeof s === 'string')) throw new Error('classes must be a list of labels, e.g. ["person"]');
  unit('minArea', r.minArea);
  unit('maxArea', r.maxArea);
  if (r.minArea > r.maxArea) throw new Error(`minArea (${r.minArea}) is above maxArea (${r.maxArea})`);
  for (const k of ['minAspect', 'maxAspect'] as const) {
    const v = r[k];
    if (typeof v !== 'number' || !(v >= 0)) throw new Error(`${k} must be a number ≥ 0, got ${JSON.stringify(v)}`);
  }
  if (r.minAspect > r.maxAspect) throw new Error(`minAspect (${r.minAspect}) is above maxAspect (${r.maxAspect})`);
  if (!['bottom-center', 'center', 'top-center'].includes(r.anchor))
    throw new Error(`anchor must be bottom-center, center or top-center, got ${String(r.anchor)}`);
  return {
    ...r,
    classConf: { ...r.classConf },
    classes: [...r.classes],
    include: polygons('include', r.include),
    exclude: polygons('exclude', r.exclude),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/**
 * Per-class thresholds for the decoders: Infinity for classes the filter drops. Labels named in
 * `classes`/`classConf` that the model does not have are reported, not silently ignored.
 */
export function classThresholds(f: ResolvedFilters, labels: readonly string[]): { thresholds: Float32Array; unknown: string[] } {
  const t = new Float32Array(labels.length);
  const allow = f.classes.length ? new Set(f.classes) : undefined;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    t[i] = allow && !allow.has(l) ? Infinity : (f.classConf[l] ?? f.conf);
  }
  const have = new Set(labels);
  const unknown = [...new Set([...f.classes, ...Object.keys(f.classConf)])].filter((l) => !have.has(l));
  return { thresholds: t, unknown };
}

/** Geometry filters on detections in source pixels of a width × height frame. Returns a new array. */
export function applyGeometryFilters(dets: readonly Detection[], f: ResolvedFilters, width: number, height: number): Detection[] {
  const frameArea = width * height;
  const noGeom = f.minArea === 0 && f.maxArea === 1 && f.minAspect === 0 && f.maxAspect === Infinity && !f.include.length && !f.exclude.length;
  if (noGeom) return [...dets];
  const inPoly = (p: Point, polys: Point[][]) => polys.some((poly) => pointInNormPolygon(p, poly, width, height));
  return dets.filter((d) => {
    const a = boxArea(d.box) / frameArea;
    if (a < f.minArea || a > f.maxArea) return false;
    const h = d.box[3] - d.box[1];
    const aspect = h > 0 ? (d.box[2] - d.box[0]) / h : Infinity;
    if (aspect < f.minAspect || aspect > f.maxAspect) return false;
    const p = anchorPoint(d.box, f.anchor);
    if (f.include.length && !inPoly(p, f.include)) return false;
    if (f.exclude.length && inPoly(p, f.exclude)) return false;
    return true;
  });
}

function pointInNormPolygon(p: Point, poly: Point[], width: number, height: number): boolean {
  // Test in normalised space rather than denormalising every polygon for every box.
  return pointInPolygon([p[0] / width, p[1] / height], poly);
}
