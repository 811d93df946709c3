/**
 * The font vision-view's labels are drawn with: DejaVu Sans Mono Bold, shipped with the package
 * (nodes/lib/view/fonts/, Bitstream Vera licence beside it) and rasterised by our own TrueType
 * reader (ttf.ts), so labels read the same in a bare Docker image without system fonts. It covers
 * Latin (with Latin-1, Extended-A/B), Greek, Cyrillic and common symbols; any other character
 * (CJK, emoji) is drawn as an empty box, one cell wide, so the reader sees something is there.
 *
 * Each character is rasterised on first use at that size and kept (cells are immutable), so a frame
 * only blits cached masks. If the font file cannot be read the view draws shapes without labels.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { BitmapFont } from './raster';
import { TrueTypeFont, rasterise } from './ttf';

export const FONT_FILE = join(__dirname, 'fonts', 'DejaVuSansMono-Bold.ttf');

/** Per font size, the most distinct characters kept; past it the cache starts over (a stream of random text cannot grow it). */
const MAX_CACHED = 4096;

let ttf: TrueTypeFont | null = null;
function loadTtf(): TrueTypeFont {
  if (!ttf) ttf = new TrueTypeFont(readFileSync(FONT_FILE));
  return ttf;
}

/** True for a combining mark (drawn over the character before it). */
export function isMark(c: string): boolean {
  return /^\p{M}$/u.test(c);
}

/** The label font at a pixel size (the em height), from the shipped TrueType file. */
export class LabelFont implements BitmapFont {
  readonly cellWidth: number;
  readonly cellHeight: number;
  private readonly scale: number;
  private readonly baseline: number;
  private readonly cache = new Map<string, Uint8Array>();
  private box: Uint8Array | null = null;

  constructor(
    readonly size: number,
    private readonly font: TrueTypeFont = loadTtf(),
  ) {
    if (!(size >= 4 && size <= 512)) throw new Error(`font size must be 4–512 px, got ${size}`);
    this.cellWidth = Math.ceil(size * 0.62);
    this.cellHeight = Math.ceil(size * 1.25);
    this.scale = size / font.unitsPerEm;
    this.baseline = Math.round(size * 0.95);
  }

  /** The cell of one character (a code point): its glyph, or the empty box when the font lacks it. */
  glyph(c: string): Uint8Array {
    let g = this.cache.get(c);
    if (g) return g;
    const cp = c.codePointAt(0) ?? 0;
    const gid = this.font.glyphIndex(cp);
    if (gid === 0) return this.missing();
    // Centre the advance in the cell; a combining mark sits left of its origin (over the character
    // before it), so it is rasterised one advance to the right and drawn one cell back.
    const adv = this.font.advance(gid) * this.scale;
    const dx = (this.cellWidth - adv) / 2 + (isMark(c) ? adv : 0);
    g = rasterise(this.font.outline(gid), this.scale, dx, this.baseline, this.cellWidth, this.cellHeight);
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(c, g);
    return g;
  }

  /** An outlined box from cap height to baseline, like a browser's "tofu". */
  private missing(): Uint8Array {
    if (this.box) return this.box;
    const w = this.cellWidth;
    const b = new Uint8Array(w * this.cellHeight);
    const t = Math.max(1, Math.round(this.size / 12));
    const x0 = Math.max(0, Math.round(w * 0.12));
    const x1 = Math.min(w, w - x0);
    const y0 = Math.max(0, this.baseline - Math.round(this.size * 0.75));
    const y1 = this.baseline;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (y < y0 + t || y >= y1 - t || x < x0 + t || x >= x1 - t) b[y * w + x] = 255;
    this.box = b;
    return b;
  }
}

// Fonts are immutable apart from their glyph caches; sharing them between view nodes saves work.
const fonts = new Map<number, LabelFont | null>();

/** The font for a size, built on first use; null when the font file could not be read. */
export function fontFor(size: number): Promise<LabelFont | null> {
  let f = fonts.get(size);
  if (f === undefined) {
    try {
      f = new LabelFont(size);
    } catch {
      f = null;
    }
    fonts.set(size, f);
  }
  return Promise.resolve(f);
}
