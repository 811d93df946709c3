/**
 * A small TrueType reader and outline rasteriser: enough to draw vision-view's labels from the font
 * file shipped with the package (nodes/lib/view/fonts/), so the overlay reads the same in a bare
 * Docker image with no system fonts as on a desktop. It reads the tables a glyph outline needs (head,
 * maxp, hhea, hmtx, cmap formats 4 and 12, loca, glyf with composite glyphs) and ignores hinting.
 *
 * The rasteriser is the signed-area accumulation of font-rs (Raph Levien): each line segment adds its
 * exact coverage to an accumulation buffer, a prefix sum per row gives each pixel's coverage. Glyphs
 * are rasterised once per size and character (glyphs.ts caches them), so its cost is off the frame path.
 */

/** One outline point in font units, y up; `on` is false for a quadratic control point. */
export interface OutlinePoint {
  x: number;
  y: number;
  on: boolean;
}

export type Contour = OutlinePoint[];

export class TrueTypeFont {
  readonly unitsPerEm: number;
  readonly ascender: number;
  readonly descender: number;
  readonly numGlyphs: number;
  private readonly view: DataView;
  private readonly tables = new Map<string, { offset: number; length: number }>();
  private readonly longLoca: boolean;
  private readonly numHMetrics: number;
  private readonly lookup: (cp: number) => number;

  constructor(data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const v = this.view;
    if (data.byteLength < 12) throw new Error('font file is too short');
    const version = v.getUint32(0);
    if (version !== 0x00010000 && version !== 0x74727565) throw new Error(`not a TrueType font (version 0x${version.toString(16)})`);
    const n = v.getUint16(4);
    for (let i = 0; i < n; i++) {
      const r = 12 + i * 16;
      const tag = String.fromCharCode(data[r], data[r + 1], data[r + 2], data[r + 3]);
      this.tables.set(tag, { offset: v.getUint32(r + 8), length: v.getUint32(r + 12) });
    }
    const head = this.table('head');
    this.unitsPerEm = v.getUint16(head + 18);
    this.longLoca = v.getInt16(head + 50) === 1;
    this.numGlyphs = v.getUint16(this.table('maxp') + 4);
    const hhea = this.table('hhea');
    this.ascender = v.getInt16(hhea + 4);
    this.descender = v.getInt16(hhea + 6);
    this.numHMetrics = v.getUint16(hhea + 34);
    this.lookup = this.readCmap();
  }

  private table(tag: string): number {
    const t = this.tables.get(tag);
    if (!t) throw new Error(`font has no '${tag}' table`);
    return t.offset;
  }

  /** The glyph for a code point; 0 (the font's .notdef) when the font lacks it. */
  glyphIndex(codePoint: number): number {
    const g = this.lookup(codePoint);
    return g > 0 && g < this.numGlyphs ? g : 0;
  }

  /** Advance width in font units. */
  advance(glyph: number): number {
    const hmtx = this.table('hmtx');
    const i = Math.min(glyph, this.numHMetrics - 1);
    return this.view.getUint16(hmtx + i * 4);
  }

  /** The glyph's contours in font units (composite glyphs resolved); empty for a blank glyph. */
  outline(glyph: number, depth = 0): Contour[] {
    if (depth > 8) throw new Error('composite glyph nests too deep');
    const v = this.view;
    const loca = this.table('loca');
    const start = this.longLoca ? v.getUint32(loca + glyph * 4) : v.getUint16(loca + glyph * 2) * 2;
    const end = this.longLoca ? v.getUint32(loca + glyph * 4 + 4) : v.getUint16(loca + glyph * 2 + 2) * 2;
    if (end <= start) return [];
    const p = this.table('glyf') + start;
    const nContours = v.getInt16(p);
    return nContours >= 0 ? this.simple(p, nContours) : this.composite(p, depth);
  }

  private simple(p: number, nContours: number): Contour[] {
    const v = this.view;
    const ends: number[] = [];
    for (let i = 0; i < nContours; i++) ends.push(v.getUint16(p + 10 + i * 2));
    const nPoints = nContours ? ends[nContours - 1] + 1 : 0;
    let q = p + 10 + nContours * 2;
    q += 2 + v.getUint16(q); // instructions
    const flags = new Uint8Array(nPoints);
    for (let i = 0; i < nPoints;) {
      const f = v.getUint8(q++);
      flags[i++] = f;
      if (f & 8) {
        let r = v.getUint8(q++);
        while (r-- > 0 && i < nPoints) flags[i++] = f;
      }
    }
    const coords = (short: number, same: number): Int32Array => {
      const out = new Int32Array(nPoints);
      let c = 0;
      for (let i = 0; i < nPoints; i++) {
        const f = flags[i];
        if (f & short) c += f & same ? v.getUint8(q++) : -v.getUint8(q++);
        else if (!(f & same)) {
          c += v.getInt16(q);
          q += 2;
        }
        out[i] = c;
      }
      return out;
    };
    const xs = coords(2, 16);
    const ys = coords(4, 32);
    const contours: Contour[] = [];
    let from = 0;
    for (const e of ends) {
      const c: Contour = [];
      for (let i = from; i <= e; i++) c.push({ x: xs[i], y: ys[i], on: (flags[i] & 1) === 1 });
      contours.push(c);
      from = e + 1;
    }
    return contours;
  }

  private composite(p: number, depth: number): Contour[] {
    const v = this.view;
    const out: Contour[] = [];
    let q = p + 10;
    for (;;) {
      const flags = v.getUint16(q);
      const glyph = v.getUint16(q + 2);
      q += 4;
      let arg1: number;
      let arg2: number;
      if (flags & 1) {
        arg1 = flags & 2 ? v.getInt16(q) : v.getUint16(q);
        arg2 = flags & 2 ? v.getInt16(q + 2) : v.getUint16(q + 2);
        q += 4;
      } else {
        arg1 = flags & 2 ? v.getInt8(q) : v.getUint8(q);
        arg2 = flags & 2 ? v.getInt8(q + 1) : v.getUint8(q + 1);
        q += 2;
      }
      let [a, b, c, d] = [1, 0, 0, 1];
      const f2dot14 = (o: number) => v.getInt16(o) / 16384;
      if (flags & 8) {
        a = d = f2dot14(q);
        q += 2;
      } else if (flags & 0x40) {
        a = f2dot14(q);
        d = f2dot14(q + 2);
        q += 4;
      } else if (flags & 0x80) {
        a = f2dot14(q);
        b = f2dot14(q + 2);
        c = f2dot14(q + 4);
        d = f2dot14(q + 6);
        q += 8;
      }
      const part = this.outline(glyph, depth + 1).map((ct) => ct.map((pt) => ({ x: a * pt.x + c * pt.y, y: b * pt.x + d * pt.y, on: pt.on })));
      let dx = arg1;
      let dy = arg2;
      if (!(flags & 2)) {
        // Point matching: move the component so its point arg2 lands on the parent's point arg1.
        const parent = out.flat()[arg1];
        const child = part.flat()[arg2];
        dx = parent && child ? parent.x - child.x : 0;
        dy = parent && child ? parent.y - child.y : 0;
      }
      for (const ct of part) out.push(ct.map((pt) => ({ x: pt.x + dx, y: pt.y + dy, on: pt.on })));
      if (!(flags & 0x20)) break;
    }
    return out;
  }

  private readCmap(): (cp: number) => number {
    const v = this.view;
    const cmap = this.table('cmap');
    const n = v.getUint16(cmap + 2);
    let f4 = -1;
    let f12 = -1;
    for (let i = 0; i < n; i++) {
      const r = cmap + 4 + i * 8;
      const platform = v.getUint16(r);
      const encoding = v.getUint16(r + 2);
      const at = cmap + v.getUint32(r + 4);
      const format = v.getUint16(at);
      const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
      if (!unicode) continue;
      if (format === 12 && f12 < 0) f12 = at;
      if (format === 4 && f4 < 0) f4 = at;
    }
    if (f12 >= 0) {
      const groups = v.getUint32(f12 + 12);
      return (cp) => {
        let lo = 0;
        let hi = groups - 1;
        while (lo <= hi) {
          const mid = (lo + hi) >> 1;
          const g = f12 + 16 + mid * 12;
          if (cp < v.getUint32(g)) hi = mid - 1;
          else if (cp > v.getUint32(g + 4)) lo = mid + 1;
          else return v.getUint32(g + 8) + cp - v.getUint32(g);
        }
        return 0;
      };
    }
    if (f4 < 0) throw new Error('font has no Unicode cmap');
    const segs = v.getUint16(f4 + 6) / 2;
    const endAt = f4 + 14;
    const startAt = endAt + segs * 2 + 2;
    const deltaAt = startAt + segs * 2;
    const rangeAt = deltaAt + segs * 2;
    return (cp) => {
      if (cp > 0xffff) return 0;
      let lo = 0;
      let hi = segs - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (v.getUint16(endAt + mid * 2) < cp) lo = mid + 1;
        else hi = mid;
      }
      const start = v.getUint16(startAt + lo * 2);
      if (cp < start || cp > v.getUint16(endAt + lo * 2)) return 0;
      const delta = v.getUint16(deltaAt + lo * 2);
      const range = v.getUint16(rangeAt + lo * 2);
      if (range === 0) return (cp + delta) & 0xffff;
      const g = v.getUint16(rangeAt + lo * 2 + range + (cp - start) * 2);
      return g === 0 ? 0 : (g + delta) & 0xffff;
    };
  }
}

/**
 * Coverage (0–255) of the contours inside a width × height cell: a font-unit point (x, y) lands on
 * pixel coordinates (dx + x·scale, dy − y·scale), so dy is the baseline's row. Nonzero winding;
 * anything outside the cell is clipped.
 */
export function rasterise(contours: Contour[], scale: number, dx: number, dy: number, width: number, height: number): Uint8Array {
  const acc = new Float32Array(width * height + 2);
  const line = (x0: number, y0: number, x1: number, y1: number) => drawLine(acc, width, height, x0, y0, x1, y1);
  for (const ct of contours) flatten(ct, (x: number, y: number) => [dx + x * scale, dy - y * scale], line);
  // One running sum over the whole buffer, as font-rs does: a segment's last cell may spill into
  // the next row's first, and every row of a closed outline sums to zero, so nothing leaks.
  const out = new Uint8Array(width * height);
  let sum = 0;
  for (let i = 0; i < out.length; i++) {
    sum += acc[i];
    out[i] = Math.round(Math.min(1, Math.abs(sum)) * 255);
  }
  return out;
}

type Map2 = (x: number, y: number) => [number, number];

/** Turns one contour's quadratic B-spline (implied on-curve midpoints) into pixel-space segments. */
function flatten(ct: Contour, map: Map2, line: (x0: number, y0: number, x1: number, y1: number) => void): void {
  const n = ct.length;
  if (n < 2) return;
  const pts = ct.map((p) => ({ p: map(p.x, p.y), on: p.on }));
  // Start on an on-curve point (or the midpoint of two control points when there is none).
  let first = pts.findIndex((p) => p.on);
  let start: [number, number];
  if (first < 0) {
    start = mid(pts[n - 1].p, pts[0].p);
    first = 0;
    pts.unshift({ p: start, on: true });
  } else start = pts[first].p;
  const m = pts.length;
  let cur = start;
  let ctrl: [number, number] | null = null;
  for (let k = 1; k <= m; k++) {
    const pt = pts[(first + k) % m];
    if (pt.on) {
      if (ctrl) quad(cur, ctrl, pt.p, line);
      else line(cur[0], cur[1], pt.p[0], pt.p[1]);
      cur = pt.p;
      ctrl = null;
    } else if (ctrl) {
      const on = mid(ctrl, pt.p);
      quad(cur, ctrl, on, line);
      cur = on;
      ctrl = pt.p;
    } else ctrl = pt.p;
  }
  if (ctrl) quad(cur, ctrl, start, line);
}

function mid(a: [number, number], b: [number, number]): [number, number] {
  return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
}

function quad(a: [number, number], c: [number, number], b: [number, number], line: (x0: number, y0: number, x1: number, y1: number) => void): void {
  // Enough steps that the chords stay within ~0.1 px of the curve.
  const dev = Math.hypot(a[0] - 2 * c[0] + b[0], a[1] - 2 * c[1] + b[1]);
  const steps = Math.max(1, Math.ceil(Math.sqrt(dev * 2)));
  let px = a[0];
  let py = a[1];
  for (let i = 1; i <= steps; i++) {
    const t = i / steps;
    const u = 1 - t;
    const x = u * u * a[0] + 2 * u * t * c[0] + t * t * b[0];
    const y = u * u * a[1] + 2 * u * t * c[1] + t * t * b[1];
    line(px, py, x, y);
    px = x;
    py = y;
  }
}

/** font-rs's accumulation step for one segment; x is clamped into the cell (coverage piles up at its edge). */
function drawLine(a: Float32Array, w: number, h: number, x0: number, y0: number, x1: number, y1: number): void {
  if (Math.abs(y0 - y1) <= 1e-9) return;
  x0 = Math.min(Math.max(x0, 0), w - 1e-3);
  x1 = Math.min(Math.max(x1, 0), w - 1e-3);
  let dir = 1;
  if (y0 > y1) {
    dir = -1;
    [x0, y0, x1, y1] = [x1, y1, x0, y0];
  }
  const dxdy = (x1 - x0) / (y1 - y0);
  let x = x0;
  if (y0 < 0) x -= y0 * dxdy;
  const yEnd = Math.min(h, Math.ceil(y1));
  for (let y = Math.max(0, Math.floor(y0)); y < yEnd; y++) {
    const row = y * w;
    const dy = Math.min(y + 1, y1) - Math.max(y, y0);
    const xnext = x + dxdy * dy;
    const d = dy * dir;
    const [xa, xb] = x < xnext ? [x, xnext] : [xnext, x];
    const xaFloor = Math.floor(xa);
    const xai = xaFloor;
    const xbCeil = Math.ceil(xb);
    const xbi = xbCeil;
    if (xbi <= xai + 1) {
      const xmf = 0.5 * (x + xnext) - xaFloor;
      a[row + xai] += d - d * xmf;
      a[row + xai + 1] += d * xmf;
    } else {
      const s = 1 / (xb - xa);
      const xaf = xa - xaFloor;
      const a0 = 0.5 * s * (1 - xaf) * (1 - xaf);
      const xbf = xb - xbCeil + 1;
      const am = 0.5 * s * xbf * xbf;
      a[row + xai] += d * a0;
      if (xbi === xai + 2) a[row + xai + 1] += d * (1 - a0 - am);
      else {
        const a1 = s * (1.5 - xaf);
        a[row + xai + 1] += d * (a1 - a0);
        for (let xi = xai + 2; xi < xbi - 1; xi++) a[row + xi] += d * s;
        const a2 = a1 + (xbi - xai - 3) * s;
        a[row + xbi - 1] += d * (1 - a2 - am);
      }
      a[row + xbi] += d * am;
    }
    x = xnext;
  }
}
