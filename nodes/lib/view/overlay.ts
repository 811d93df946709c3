/**
 * The annotated view: what vision-view draws over a frame — boxes with track ids, counting lines with
 * their in/out totals, zones with their occupancy, stations coloured by state. drawOverlay() paints
 * into an RGB canvas (what the node runs); overlaySvg() is the same picture as an SVG for sharp to
 * composite, kept as the baseline the benchmark measures the canvas against (raster.ts says why).
 * Pure: no clock, no Node-RED.
 */
import { parseUnitPoint, parseUnitPolygon } from '../geometry';
import { Detection, Point } from '../types';
import { BitmapFont, Canvas, parseColour } from './raster';

export interface ViewLine {
  name: string;
  start: Point;
  end: Point;
}

export interface ViewZone {
  name: string;
  polygon: Point[];
  /** Only drawn for this camera when set (productivity-state's station `camera`). */
  camera?: string;
}

/** Normalised (0..1) geometry: line-count's lines and zones, productivity-state's stations. */
export interface ViewGeometry {
  lines: ViewLine[];
  zones: ViewZone[];
  stations: ViewZone[];
}

/** What one vision frame says, as far as the view draws it. */
export interface OverlayFrame {
  camera: string;
  /** Source frame size in pixels (the boxes' coordinate system). */
  width: number;
  height: number;
  detections: Detection[];
  counts?: Record<string, { in: number; out: number }>;
  zones?: Record<string, { occupancy: number; alarm?: boolean }>;
  stations?: Record<string, { state: string }>;
}

export interface OverlayOptions {
  /** Output image size in pixels; geometry and boxes are scaled to it. */
  outWidth: number;
  outHeight: number;
  /** Draw tentative tracks (dashed) and untracked detections (thin). Default true. */
  showTentative?: boolean;
  /** Text in the top-left corner (camera, fps). */
  caption?: string;
}

export const STATE_COLOURS: Record<string, string> = {
  working: '#2e9e44',
  idle: '#f2a900',
  absent: '#9e9e9e',
};

const PALETTE = [
  '#e6194b',
  '#3cb44b',
  '#4363d8',
  '#f58231',
  '#911eb4',
  '#42d4f4',
  '#f032e6',
  '#bfef45',
  '#fabed4',
  '#469990',
  '#dcbeff',
  '#9a6324',
  '#fffac8',
  '#800000',
  '#aaffc3',
  '#ffd8b1',
];

/** A stable colour per track id (the same person keeps their colour). */
export function trackColour(trackId: number | undefined): string {
  if (trackId === undefined || !Number.isFinite(trackId)) return '#ffffff';
  return PALETTE[Math.abs(Math.trunc(trackId)) % PALETTE.length];
}

/**
 * The caption in the picture's corner: the camera and the frame rate the camera measured and put on
 * its frames (`payload.fps`), so the picture shows the same figure as the camera's status and the
 * dashboard. No figure when the frame has none (a frame that did not come from vision-camera-source).
 */
export function viewCaption(camera: string, fps: unknown): string {
  return typeof fps === 'number' && Number.isFinite(fps) && fps >= 0 ? `${camera} · ${fps.toFixed(1)} fps` : camera;
}

/** Output size: the frame scaled down (never up) to maxWidth, even dimensions (JPEG chroma). */
export function viewSize(width: number, height: number, maxWidth: number): { width: number; height: number } {
  if (!(width > 0 && height > 0)) throw new Error(`frame size must be positive, got ${width}×${height}`);
  const s = maxWidth > 0 && width > maxWidth ? maxWidth / width : 1;
  const even = (v: number) => Math.max(2, 2 * Math.round((v * s) / 2));
  return { width: even(width), height: even(height) };
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function parseJson(v: unknown, what: string): Record<string, unknown> {
  if (v === undefined || v === null || v === '') return {};
  let o = v;
  if (typeof v === 'string') {
    try {
      o = JSON.parse(v);
    } catch (e) {
      throw new Error(`${what}: not JSON (${(e as Error).message})`);
    }
  }
  if (Array.isArray(o)) return { zones: o };
  if (typeof o !== 'object' || o === null) throw new Error(`${what}: expected an object {lines, zones}, got ${typeof o}`);
  return o as Record<string, unknown>;
}

function parseZones(v: unknown, what: string): ViewZone[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new Error(`${what} must be an array`);
  return v.map((z, i) => {
    const w = `${what}[${i}]`;
    if (!z || typeof z.name !== 'string' || !z.name) throw new Error(`${w}.name must be a non-empty string`);
    const polygon = parseUnitPolygon(z.polygon, `${w}.polygon`);
    return { name: z.name, polygon, ...(typeof z.camera === 'string' && z.camera ? { camera: z.camera } : {}) };
  });
}

/**
 * Geometry from line-count's JSON (`{lines, zones}`) and productivity-state's (`{zones}` = stations),
 * as strings or objects; blank means none. Errors say which element is wrong.
 */
export function parseViewGeometry(geometry: unknown, stations?: unknown): ViewGeometry {
  const g = parseJson(geometry, 'geometry');
  const s = parseJson(stations, 'stations');
  const linesIn = g.lines ?? [];
  if (!Array.isArray(linesIn)) throw new Error('geometry: lines must be an array');
  const lines = linesIn.map((l, i) => {
    if (!l || typeof l.name !== 'string' || !l.name) throw new Error(`geometry: lines[${i}].name must be a non-empty string`);
    return { name: l.name, start: parseUnitPoint(l.start, `geometry: lines[${i}].start`), end: parseUnitPoint(l.end, `geometry: lines[${i}].end`) };
  });
  return { lines, zones: parseZones(g.zones, 'geometry: zones'), stations: parseZones(s.zones, 'stations: zones') };
}

/** A label: text on a dark box, kept inside the image. */
function label(x: number, y: number, text: string, colour: string, size: number, outW: number, outH: number): string {
  const w = Math.ceil(text.length * size * 0.6 + size * 0.6);
  const h = Math.ceil(size * 1.35);
  const lx = Math.min(Math.max(0, x), Math.max(0, outW - w));
  const ly = Math.min(Math.max(0, y - h), Math.max(0, outH - h));
  return (
    `<rect x="${lx.toFixed(1)}" y="${ly.toFixed(1)}" width="${w}" height="${h}" fill="#000" fill-opacity="0.6"/>` +
    `<text x="${(lx + size * 0.3).toFixed(1)}" y="${(ly + size * 1.05).toFixed(1)}" fill="${colour}">${esc(text)}</text>`
  );
}

/**
 * The overlay as an SVG document of outWidth × outHeight. Detections without a finite box are
 * skipped (the view never fails a frame on what an upstream node let through).
 */
export function overlaySvg(frame: OverlayFrame, geometry: ViewGeometry, opts: OverlayOptions): string {
  const W = opts.outWidth;
  const H = opts.outHeight;
  if (!(W > 0 && H > 0)) throw new Error(`output size must be positive, got ${W}×${H}`);
  if (!(frame.width > 0 && frame.height > 0)) throw new Error(`frame size must be positive, got ${frame.width}×${frame.height}`);
  const sx = W / frame.width;
  const sy = H / frame.height;
  const { font, stroke } = metrics(H);
  const px = (p: Point) => `${(p[0] * W).toFixed(1)},${(p[1] * H).toFixed(1)}`;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-size="${font}" font-weight="bold">`,
  );

  for (const st of geometry.stations) {
    if (st.camera && st.camera !== frame.camera) continue;
    const state = frame.stations?.[st.name]?.state ?? 'unknown';
    const c = STATE_COLOURS[state] ?? '#607d8b';
    parts.push(`<polygon points="${st.polygon.map(px).join(' ')}" fill="${c}" fill-opacity="0.28" stroke="${c}" stroke-width="${stroke * 1.5}"/>`);
    const top = topmost(st.polygon);
    parts.push(label(top[0] * W, top[1] * H, `${st.name}: ${state}`, c, font, W, H));
  }

  for (const z of geometry.zones) {
    const r = frame.zones?.[z.name];
    const c = r?.alarm ? '#ff1744' : '#00b8d4';
    parts.push(
      `<polygon points="${z.polygon.map(px).join(' ')}" fill="${c}" fill-opacity="0.12" stroke="${c}" stroke-width="${stroke}" stroke-dasharray="${stroke * 4},${stroke * 3}"/>`,
    );
    const top = topmost(z.polygon);
    parts.push(label(top[0] * W, top[1] * H, `${z.name}: ${r ? r.occupancy : 0}`, c, font, W, H));
  }

  for (const l of geometry.lines) {
    const c = frame.counts?.[l.name];
    const [x1, y1] = [l.start[0] * W, l.start[1] * H];
    const [x2, y2] = [l.end[0] * W, l.end[1] * H];
    parts.push(
      `<line x1="${x1.toFixed(1)}" y1="${y1.toFixed(1)}" x2="${x2.toFixed(1)}" y2="${y2.toFixed(1)}" stroke="#ffeb3b" stroke-width="${stroke * 2}" stroke-linecap="round"/>`,
    );
    // Arrow towards the "in" side (cross(end − start, p − start) > 0, y down): the normal (−dy, dx).
    const len = Math.hypot(x2 - x1, y2 - y1) || 1;
    const [mx, my] = [(x1 + x2) / 2, (y1 + y2) / 2];
    const [nx, ny] = [(-(y2 - y1) / len) * font * 1.6, ((x2 - x1) / len) * font * 1.6];
    parts.push(
      `<line x1="${mx.toFixed(1)}" y1="${my.toFixed(1)}" x2="${(mx + nx).toFixed(1)}" y2="${(my + ny).toFixed(1)}" stroke="#ffeb3b" stroke-width="${stroke}"/>`,
    );
    parts.push(`<circle cx="${(mx + nx).toFixed(1)}" cy="${(my + ny).toFixed(1)}" r="${stroke * 2}" fill="#ffeb3b"/>`);
    parts.push(label(Math.min(x1, x2), Math.min(y1, y2) - stroke * 2, `${l.name}  in ${c ? c.in : 0}  out ${c ? c.out : 0}`, '#ffeb3b', font, W, H));
  }

  const showTentative = opts.showTentative !== false;
  for (const d of frame.detections) {
    const b = d.box;
    if (!Array.isArray(b) || b.length !== 4 || !b.every((v) => Number.isFinite(v))) continue;
    const tracked = d.trackId !== undefined;
    const confirmed = d.trackState === 'confirmed' || (!tracked && !d.trackState);
    if (d.trackState === 'lost') continue;
    if (!showTentative && (!tracked || d.trackState === 'tentative')) continue;
    const c = tracked ? trackColour(d.trackId) : '#ffffff';
    const [x, y, w, h] = [b[0] * sx, b[1] * sy, (b[2] - b[0]) * sx, (b[3] - b[1]) * sy];
    const dash = d.trackState === 'tentative' ? ` stroke-dasharray="${stroke * 3},${stroke * 2}"` : '';
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(0, w).toFixed(1)}" height="${Math.max(0, h).toFixed(1)}" fill="none" stroke="${c}" stroke-width="${(confirmed || tracked ? stroke * 1.5 : stroke).toFixed(1)}"${dash}/>`,
    );
    if (tracked) parts.push(label(x, y, `#${d.trackId}`, c, font * 0.85, W, H));
  }

  if (opts.caption) parts.push(label(4, font * 1.45 + 4, opts.caption, '#ffffff', font, W, H));
  parts.push('</svg>');
  return parts.join('');
}

function topmost(polygon: Point[]): Point {
  return polygon.reduce((a, p) => (p[1] < a[1] || (p[1] === a[1] && p[0] < a[0]) ? p : a));
}

/** Label font size (px) for an output height. */
export function labelSize(outHeight: number): number {
  return metrics(outHeight).font;
}

/** Sizes that scale with the output height, shared by both renderers. */
function metrics(H: number): { font: number; stroke: number } {
  return { font: Math.max(10, Math.round(H / 40)), stroke: Math.max(1.5, H / 300) };
}

/** What drawOverlay did with the frame's detections. */
export interface OverlayStats {
  /** Boxes drawn (at least partly on the picture). */
  drawn: number;
  /** Detections skipped: not an object, or a box that is not four finite numbers with x2 > x1, y2 > y1. */
  skipped: number;
  /** Boxes drawn that reached past the picture and were cut at its edge. */
  clipped: number;
}

/** A track-id label is cut to this many characters (an id is a number; a long string is a bug upstream). */
const MAX_ID_LABEL = 24;

/**
 * Paints the overlay into `canvas` (outWidth × outHeight = the canvas size). `font` draws the labels;
 * without one only shapes are drawn. Detections without a usable box (not four finite numbers, empty
 * or inverted) are skipped and counted; boxes are cut to the picture first, so what drawing costs
 * depends on the picture, never on the box's numbers.
 */
export function drawOverlay(
  canvas: Canvas,
  frame: OverlayFrame,
  geometry: ViewGeometry,
  opts: Omit<OverlayOptions, 'outWidth' | 'outHeight'> & { font?: BitmapFont },
): OverlayStats {
  const stats: OverlayStats = { drawn: 0, skipped: 0, clipped: 0 };
  const W = canvas.width;
  const H = canvas.height;
  if (!(frame.width > 0 && frame.height > 0)) throw new Error(`frame size must be positive, got ${frame.width}×${frame.height}`);
  const sx = W / frame.width;
  const sy = H / frame.height;
  const { stroke } = metrics(H);
  const t = Math.max(1, Math.round(stroke));
  const font = opts.font;
  const black: [number, number, number] = [0, 0, 0];
  const toPx = (p: Point): Point => [p[0] * W, p[1] * H];
  const label = (x: number, y: number, text: string, colour: string) => {
    if (!font) return;
    const w = Canvas.textWidth(text, font) + 6;
    const h = font.cellHeight + 2;
    const lx = Math.min(Math.max(0, Math.round(x)), Math.max(0, W - w));
    const ly = Math.min(Math.max(0, Math.round(y - h)), Math.max(0, H - h));
    canvas.fillRect(lx, ly, w, h, black, 0.6);
    canvas.text(lx + 3, ly + 1, text, parseColour(colour), font);
  };

  for (const st of geometry.stations) {
    if (st.camera && st.camera !== frame.camera) continue;
    const state = frame.stations?.[st.name]?.state ?? 'unknown';
    const c = parseColour(STATE_COLOURS[state] ?? '#607d8b');
    const poly = st.polygon.map(toPx);
    canvas.fillPolygon(poly, c, 0.28);
    canvas.polyline(poly, true, c, Math.round(t * 1.5));
    const top = topmost(poly);
    label(top[0], top[1], `${st.name}: ${state}`, STATE_COLOURS[state] ?? '#607d8b');
  }

  for (const z of geometry.zones) {
    const r = frame.zones?.[z.name];
    const hex = r?.alarm ? '#ff1744' : '#00b8d4';
    const c = parseColour(hex);
    const poly = z.polygon.map(toPx);
    canvas.fillPolygon(poly, c, 0.12);
    canvas.polyline(poly, true, c, t, t * 4);
    const top = topmost(poly);
    label(top[0], top[1], `${z.name}: ${r ? r.occupancy : 0}`, hex);
  }

  const yellow = parseColour('#ffeb3b');
  for (const l of geometry.lines) {
    const c = frame.counts?.[l.name];
    const [x1, y1] = toPx(l.start);
    const [x2, y2] = toPx(l.end);
    canvas.line(x1, y1, x2, y2, yellow, t * 2);
    // A tick towards the "in" side (cross(end − start, p − start) > 0, y down): the normal (−dy, dx).
    const len = Math.hypot(x2 - x1, y2 - y1) || 1;
    const [mx, my] = [(x1 + x2) / 2, (y1 + y2) / 2];
    const k = (font ? font.cellHeight : 12) * 1.4;
    const [nx, ny] = [(-(y2 - y1) / len) * k, ((x2 - x1) / len) * k];
    canvas.line(mx, my, mx + nx, my + ny, yellow, t);
    canvas.fillRect(mx + nx - t * 2, my + ny - t * 2, t * 4, t * 4, yellow);
    label(Math.min(x1, x2), Math.min(y1, y2) - t * 2, `${l.name}  in ${c ? c.in : 0}  out ${c ? c.out : 0}`, '#ffeb3b');
  }

  const showTentative = opts.showTentative !== false;
  // Boxes are cut a little outside the picture, so a cut edge is never drawn on it.
  const m = 4 * t + 2;
  for (const d of frame.detections) {
    const b = d?.box;
    if (!Array.isArray(b) || b.length !== 4 || !b.every((v) => typeof v === 'number' && Number.isFinite(v)) || !(b[2] > b[0] && b[3] > b[1])) {
      stats.skipped++;
      continue;
    }
    const tracked = d.trackId !== undefined;
    if (d.trackState === 'lost') continue;
    if (!showTentative && (!tracked || d.trackState === 'tentative')) continue;
    const [x1, y1, x2, y2] = [b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy];
    if (!(x2 > -m && y2 > -m && x1 < W + m && y1 < H + m)) continue; // wholly off the picture
    const cx1 = Math.max(x1, -m);
    const cy1 = Math.max(y1, -m);
    const cx2 = Math.min(x2, W + m);
    const cy2 = Math.min(y2, H + m);
    if (cx1 !== x1 || cy1 !== y1 || cx2 !== x2 || cy2 !== y2) stats.clipped++;
    const hex = tracked ? trackColour(d.trackId) : '#ffffff';
    const c = parseColour(hex);
    canvas.strokeRect(cx1, cy1, cx2, cy2, c, tracked ? Math.round(t * 1.5) : t, d.trackState === 'tentative' ? t * 3 : 0);
    if (tracked) label(cx1, cy1, `#${String(d.trackId).slice(0, MAX_ID_LABEL)}`, hex);
    stats.drawn++;
  }

  if (opts.caption && font) label(4, font.cellHeight + 6, opts.caption, '#ffffff');
  return stats;
}

/**
 * Frame-rate gate for encoding: at most maxFps frames per second of the caller's clock. The caller
 * passes the time in (ms); maxFps ≤ 0 means no limit.
 */
export class RateGate {
  private last = -Infinity;
  constructor(private readonly maxFps: number) {
    if (!Number.isFinite(maxFps)) throw new Error(`max fps must be a number, got ${maxFps}`);
  }
  ready(nowMs: number): boolean {
    return this.maxFps <= 0 || nowMs - this.last >= 1000 / this.maxFps - 1e-6;
  }
  mark(nowMs: number): void {
    this.last = nowMs;
  }
  /** ms until ready() turns true (0 when it is). */
  waitMs(nowMs: number): number {
    return this.maxFps <= 0 ? 0 : Math.max(0, this.last + 1000 / this.maxFps - nowMs);
  }
}

/** One part of a multipart/x-mixed-replace (MJPEG) stream: the header to write before the JPEG. */
export function mjpegPartHeader(boundary: string, bytes: number): string {
  return `--${boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: ${bytes}\r\n\r\n`;
}
