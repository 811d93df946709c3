/**
 * The floor map widget's picture, computed from vision-reid's live floor positions: each calibrated
 * camera's area and each person as a point, in one SVG view box that fits them all (floor units
 * scaled alike on both axes, Y downwards as the floor frame is usually drawn from a plan). The
 * browser only draws what this returns.
 */
import { Point } from '../types';

export interface FloorInput {
  people: readonly { globalId: string; camera: string; floor: Point }[];
  areas: readonly { camera: string; floor: readonly Point[] }[];
}

export interface FloorViewPerson {
  globalId: string;
  camera: string;
  x: number;
  y: number;
  /** Hue (0–359) from the id, so an identity keeps its colour on every camera. */
  hue: number;
}

export interface FloorView {
  /** The SVG view box: width × height (the width is fixed, the height follows the floor's shape). */
  width: number;
  height: number;
  areas: { camera: string; points: [number, number][] }[];
  people: FloorViewPerson[];
}

export const FLOOR_VIEW_WIDTH = 600;
const PAD = 30;
const MIN_H = 200;
const MAX_H = 900;

const r1 = (v: number) => Math.round(v * 10) / 10;

/**
 * The id's colour (hue 0–359): ids numbered in sequence ("gw-a:p2", "gw-a:p3") step by the golden
 * angle (137.5°), so the people minted one after another never look alike; the rest of the id (its
 * prefix, or an id without a number) is hashed (FNV-1a, then mixed) to a starting hue.
 */
export function idHue(id: string): number {
  const m = /^(.*?)(\d+)$/.exec(id);
  const prefix = m ? m[1] : id;
  let h = 0x811c9dc5;
  for (let i = 0; i < prefix.length; i++) h = Math.imul(h ^ prefix.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  const base = (h >>> 0) % 360;
  return m ? Math.round(base + Number(m[2]) * 137.508) % 360 : base;
}

const finitePoint = (p: unknown): p is Point => Array.isArray(p) && p.length >= 2 && Number.isFinite(p[0]) && Number.isFinite(p[1]);

export function floorView(input: FloorInput): FloorView {
  const areas = input.areas.map((a) => ({ camera: a.camera, floor: a.floor.filter(finitePoint) })).filter((a) => a.floor.length);
  const people = input.people.filter((p) => finitePoint(p.floor));
  const pts: Point[] = [...areas.flatMap((a) => a.floor), ...people.map((p) => p.floor)];
  let [x0, y0, x1, y1] = [0, 0, 1, 1];
  if (pts.length) {
    x0 = Math.min(...pts.map((p) => p[0]));
    x1 = Math.max(...pts.map((p) => p[0]));
    y0 = Math.min(...pts.map((p) => p[1]));
    y1 = Math.max(...pts.map((p) => p[1]));
  }
  const dx = Math.max(x1 - x0, 1e-6);
  const dy = Math.max(y1 - y0, 1e-6);
  const W = FLOOR_VIEW_WIDTH;
  const H = Math.round(Math.min(MAX_H, Math.max(MIN_H, PAD * 2 + ((W - 2 * PAD) * dy) / dx)));
  const k = Math.min((W - 2 * PAD) / dx, (H - 2 * PAD) / dy);
  // Centred in the box when the floor is narrower than it.
  const ox = (W - dx * k) / 2;
  const oy = (H - dy * k) / 2;
  const at = (p: Point): [number, number] => [r1(ox + (p[0] - x0) * k), r1(oy + (p[1] - y0) * k)];
  return {
    width: W,
    height: H,
    areas: areas.map((a) => ({ camera: a.camera, points: a.floor.map(at) })),
    people: people
      .map((p) => {
        const [x, y] = at(p.floor);
        return { globalId: p.globalId, camera: p.camera, x, y, hue: idHue(p.globalId) };
      })
      .sort((a, b) => (a.globalId < b.globalId ? -1 : a.globalId > b.globalId ? 1 : 0)),
  };
}
