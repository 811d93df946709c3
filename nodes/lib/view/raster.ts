/**
 * Drawing straight into an interleaved RGB buffer: what vision-view uses to annotate a frame. Measured
 * against compositing an SVG overlay with sharp (libvips converts the whole frame for the alpha blend):
 * at 768×576 the SVG path cost 35–55 ms of CPU per frame on top of the JPEG encode; these loops touch
 * only the pixels they draw (2–4 ms of event-loop time for a busy frame: a dozen boxes and labels, a
 * line, two stations, a zone), so this is what runs. `edgevision bench app` prints both figures.
 *
 * A Canvas writes into the buffer it is given: callers hand it their own copy, never the frame
 * store's pixels.
 */
import { Point } from '../types';

export type Rgb = [number, number, number];

/** A monospaced bitmap font: one alpha mask (0–255) of cellWidth × cellHeight per character. */
export interface BitmapFont {
  cellWidth: number;
  cellHeight: number;
  /**
   * The cell of one character (one code point), or undefined to leave it blank. Baseline offset is
   * baked into the cells; text is drawn from the cell's top-left corner.
   */
  glyph(c: string): Uint8Array | undefined;
}

/** Combining marks take no cell of their own; format and control characters are not drawn. */
const MARK = /^\p{M}$/u;
const INVISIBLE = /^[\p{Cc}\p{Cf}]$/u;

/** The characters of a label as drawn: NFC (so "u" + combining diaeresis is one "ü"), controls dropped. */
function drawn(s: string): string[] {
  return [...s.normalize('NFC')].filter((c) => !INVISIBLE.test(c));
}

export function parseColour(hex: string): Rgb {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m) throw new Error(`colour must be #rrggbb, got "${hex}"`);
  const n = parseInt(m[1], 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export class Canvas {
  constructor(
    readonly data: Uint8Array,
    readonly width: number,
    readonly height: number,
  ) {
    if (data.length !== width * height * 3) throw new Error(`canvas ${width}×${height} needs ${width * height * 3} bytes, got ${data.length}`);
  }

  /** Blends one horizontal run [x0, x1) of row y (clipped). alpha 0–1. */
  private span(y: number, x0: number, x1: number, c: Rgb, alpha: number): void {
    if (y < 0 || y >= this.height) return;
    const a = Math.max(0, Math.floor(x0));
    const b = Math.min(this.width, Math.ceil(x1));
    if (b <= a) return;
    const d = this.data;
    let i = (y * this.width + a) * 3;
    if (alpha >= 1) {
      for (let x = a; x < b; x++, i += 3) {
        d[i] = c[0];
        d[i + 1] = c[1];
        d[i + 2] = c[2];
      }
      return;
    }
    const k = Math.round(alpha * 256);
    const r = c[0] * k;
    const g = c[1] * k;
    const bl = c[2] * k;
    const inv = 256 - k;
    for (let x = a; x < b; x++, i += 3) {
      d[i] = (d[i] * inv + r) >> 8;
      d[i + 1] = (d[i + 1] * inv + g) >> 8;
      d[i + 2] = (d[i + 2] * inv + bl) >> 8;
    }
  }

  fillRect(x: number, y: number, w: number, h: number, c: Rgb, alpha = 1): void {
    const y0 = Math.max(0, Math.round(y));
    const y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) this.span(yy, Math.round(x), Math.round(x + w), c, alpha);
  }

  /** A box outline of the given thickness, drawn inside [x1, y1, x2, y2]; dash > 0 draws dashes. */
  strokeRect(x1: number, y1: number, x2: number, y2: number, c: Rgb, t: number, dash = 0): void {
    if (dash > 0) {
      this.line(x1, y1, x2, y1, c, t, dash);
      this.line(x2, y1, x2, y2, c, t, dash);
      this.line(x2, y2, x1, y2, c, t, dash);
      this.line(x1, y2, x1, y1, c, t, dash);
      return;
    }
    this.fillRect(x1, y1, x2 - x1, t, c);
    this.fillRect(x1, y2 - t, x2 - x1, t, c);
    this.fillRect(x1, y1 + t, t, y2 - y1 - 2 * t, c);
    this.fillRect(x2 - t, y1 + t, t, y2 - y1 - 2 * t, c);
  }

  /**
   * A thick line: squares of side t stamped every pixel along it; dash > 0 alternates on/off runs.
   * Only the part within reach of the canvas is stepped, so the cost is bounded by the picture, never
   * by the coordinates (a box corner at 10¹² px costs what one at the edge does).
   */
  line(x1: number, y1: number, x2: number, y2: number, c: Rgb, t: number, dash = 0): void {
    if (!Number.isFinite(x1) || !Number.isFinite(y1) || !Number.isFinite(x2) || !Number.isFinite(y2)) return;
    const len = Math.hypot(x2 - x1, y2 - y1);
    const m = t + 2;
    const clip = clipSegment(x1, y1, x2, y2, -m, -m, this.width + m, this.height + m);
    if (!clip) return;
    const [u0, u1] = clip;
    // The visible piece, and how far along the whole line it starts (to keep the dash pattern).
    const ax = x1 + (x2 - x1) * u0;
    const ay = y1 + (y2 - y1) * u0;
    const bx = x1 + (x2 - x1) * u1;
    const by = y1 + (y2 - y1) * u1;
    const from = len * u0;
    const part = Math.hypot(bx - ax, by - ay);
    const steps = Math.max(1, Math.ceil(part));
    const h = t / 2;
    let px = NaN;
    let py = NaN;
    for (let s = 0; s <= steps; s++) {
      if (dash > 0 && Math.floor((from + (s / steps) * part) / dash) % 2 === 1) continue;
      const x = Math.round(ax + ((bx - ax) * s) / steps - h);
      const y = Math.round(ay + ((by - ay) * s) / steps - h);
      if (x === px && y === py) continue;
      px = x;
      py = y;
      this.fillRect(x, y, Math.max(1, Math.round(t)), Math.max(1, Math.round(t)), c);
    }
  }

  polyline(points: Point[], closed: boolean, c: Rgb, t: number, dash = 0): void {
    const n = points.length;
    for (let i = 0; i < (closed ? n : n - 1); i++) {
      const a = points[i];
      const b = points[(i + 1) % n];
      this.line(a[0], a[1], b[0], b[1], c, t, dash);
    }
  }

  /** Even-odd scanline fill at pixel centres, blended with alpha. */
  fillPolygon(points: Point[], c: Rgb, alpha: number): void {
    if (points.length < 3) return;
    let ymin = Infinity;
    let ymax = -Infinity;
    for (const p of points) {
      ymin = Math.min(ymin, p[1]);
      ymax = Math.max(ymax, p[1]);
    }
    const y0 = Math.max(0, Math.floor(ymin));
    const y1 = Math.min(this.height - 1, Math.ceil(ymax));
    const xs: number[] = [];
    for (let y = y0; y <= y1; y++) {
      const yc = y + 0.5;
      xs.length = 0;
      for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
        const [xi, yi] = points[i];
        const [xj, yj] = points[j];
        if (yi > yc !== yj > yc) xs.push(xi + ((yc - yi) * (xj - xi)) / (yj - yi));
      }
      xs.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2) this.span(y, Math.round(xs[k]), Math.round(xs[k + 1]), c, alpha);
    }
  }

  /**
   * Text from the top-left corner, one cell per character (combining marks over the one before);
   * characters for which the font returns no cell are drawn as blanks.
   */
  text(x: number, y: number, s: string, c: Rgb, font: BitmapFont): void {
    const { cellWidth: cw, cellHeight: ch } = font;
    const d = this.data;
    let ox = Math.round(x);
    const oy = Math.round(y);
    for (const chr of drawn(s)) {
      const mark = MARK.test(chr);
      if (mark) ox -= cw;
      if (ox >= this.width) break; // the rest is off the canvas
      const g = font.glyph(chr);
      if (g) {
        for (let gy = 0; gy < ch; gy++) {
          const yy = oy + gy;
          if (yy < 0 || yy >= this.height) continue;
          for (let gx = 0; gx < cw; gx++) {
            const a = g[gy * cw + gx];
            const xx = ox + gx;
            if (a === 0 || xx < 0 || xx >= this.width) continue;
            const i = (yy * this.width + xx) * 3;
            const inv = 255 - a;
            d[i] = (d[i] * inv + c[0] * a) / 255;
            d[i + 1] = (d[i + 1] * inv + c[1] * a) / 255;
            d[i + 2] = (d[i + 2] * inv + c[2] * a) / 255;
          }
        }
      }
      ox += cw;
    }
  }

  /** Width of a text in pixels. */
  static textWidth(s: string, font: BitmapFont): number {
    return drawn(s).filter((c) => !MARK.test(c)).length * font.cellWidth;
  }
}

/**
 * Liang–Barsky: the parameter range [u0, u1] ⊆ [0, 1] of the segment (x1, y1)–(x2, y2) inside the
 * rectangle [xmin, xmax] × [ymin, ymax], or null when it misses it.
 */
export function clipSegment(x1: number, y1: number, x2: number, y2: number, xmin: number, ymin: number, xmax: number, ymax: number): [number, number] | null {
  const dx = x2 - x1;
  const dy = y2 - y1;
  let u0 = 0;
  let u1 = 1;
  const edges: [number, number][] = [
    [-dx, x1 - xmin],
    [dx, xmax - x1],
    [-dy, y1 - ymin],
    [dy, ymax - y1],
  ];
  for (const [p, q] of edges) {
    if (p === 0) {
      if (q < 0) return null;
      continue;
    }
    const r = q / p;
    if (p < 0) {
      if (r > u1) return null;
      if (r > u0) u0 = r;
    } else {
      if (r < u0) return null;
      if (r < u1) u1 = r;
    }
  }
  return [u0, u1];
}
