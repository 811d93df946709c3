/** Plane geometry on the one box convention [x1, y1, x2, y2] and points [x, y]. Pure functions. */
import { Box, Point } from './types';

export function boxArea(b: Box): number {
  return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
}

export function boxWidth(b: Box): number {
  return b[2] - b[0];
}

export function boxHeight(b: Box): number {
  return b[3] - b[1];
}

/** Intersection over union; 0 for boxes without area. */
export function iou(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  if (iw <= 0) return 0;
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (ih <= 0) return 0;
  const inter = iw * ih;
  const union = boxArea(a) + boxArea(b) - inter;
  return union > 0 ? inter / union : 0;
}

export function boxCenter(b: Box): Point {
  return [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2];
}

/** Anchor points a rule can follow: the feet (bottom-centre) are where a person is on the floor. */
export type Anchor = 'bottom-center' | 'center' | 'top-center';

export function anchorPoint(b: Box, anchor: Anchor = 'bottom-center'): Point {
  const cx = (b[0] + b[2]) / 2;
  switch (anchor) {
    case 'center':
      return [cx, (b[1] + b[3]) / 2];
    case 'top-center':
      return [cx, b[1]];
    default:
      return [cx, b[3]];
  }
}

/** z of (b − a) × (p − a): < 0 on one side of the directed line a→b, > 0 on the other, 0 on it. */
export function cross(a: Point, b: Point, p: Point): number {
  return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
}

/** True when segments p1–p2 and q1–q2 intersect (touching counts). */
export function segmentsIntersect(p1: Point, p2: Point, q1: Point, q2: Point): boolean {
  const d1 = cross(q1, q2, p1);
  const d2 = cross(q1, q2, p2);
  const d3 = cross(p1, p2, q1);
  const d4 = cross(p1, p2, q2);
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true;
  const on = (a: Point, b: Point, p: Point) =>
    Math.min(a[0], b[0]) <= p[0] && p[0] <= Math.max(a[0], b[0]) && Math.min(a[1], b[1]) <= p[1] && p[1] <= Math.max(a[1], b[1]);
  return (d1 === 0 && on(q1, q2, p1)) || (d2 === 0 && on(q1, q2, p2)) || (d3 === 0 && on(p1, p2, q1)) || (d4 === 0 && on(p1, p2, q2));
}

/** Even–odd point-in-polygon (ray casting). Points exactly on an edge may fall either way. */
export function pointInPolygon(p: Point, poly: readonly Point[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Normalised (0..1) points to pixels of a width × height frame. */
export function denormalise(points: readonly Point[], width: number, height: number): Point[] {
  return points.map(([px, py]) => [px * width, py * height]);
}

/** Distance from point p to segment a–b. */
export function pointSegmentDistance(p: Point, a: Point, b: Point): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  let t = len2 > 0 ? ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2 : 0;
  t = Math.max(0, Math.min(1, t));
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

/**
 * One point of normalised geometry (`[x, y]`, both 0..1, y down), as every geometry JSON here stores
 * it (line-count lines and zones, productivity stations, detect include/exclude, the view). `where`
 * names the element in the error: `geometry: lines[0].end x = 640 is outside 0..1 (…)`.
 */
export function parseUnitPoint(v: unknown, where: string): Point {
  if (!Array.isArray(v) || v.length !== 2) throw new Error(`${where} must be [x, y], got ${JSON.stringify(v)}`);
  for (const [i, c] of (v as unknown[]).entries()) {
    const n = i ? 'y' : 'x';
    if (typeof c !== 'number' || !Number.isFinite(c)) throw new Error(`${where} ${n} must be a number, got ${JSON.stringify(c)}`);
    if (c < 0 || c > 1) throw new Error(`${where} ${n} = ${c} is outside 0..1 (geometry is normalised to the frame size)`);
  }
  return [v[0] as number, v[1] as number];
}

/** A normalised polygon: at least three points (parseUnitPoint), enclosing some area. */
export function parseUnitPolygon(v: unknown, where: string): Point[] {
  if (!Array.isArray(v) || v.length < 3) throw new Error(`${where} must have at least 3 points`);
  const poly = v.map((p, j) => parseUnitPoint(p, `${where}[${j}]`));
  let area = 0;
  for (let a = 0, b = poly.length - 1; a < poly.length; b = a++) area += poly[b][0] * poly[a][1] - poly[a][0] * poly[b][1];
  if (Math.abs(area) < 1e-6) throw new Error(`${where} has no area (its points lie on one line)`);
  return poly;
}
