/**
 * The bitmap font vision-view labels are drawn with: printable ASCII and a few symbols rendered once
 * per size by sharp (librsvg) in a monospaced system font, sliced into per-character alpha masks. If no
 * font can be rendered the view draws shapes without labels rather than fail.
 */
import sharp from 'sharp';
import { BitmapFont } from './raster';

const CHARS = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('') + '·–—≥≤×';

function esc(c: string): string {
  return c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c;
}

export async function renderFont(size: number): Promise<BitmapFont> {
  const chars = [...CHARS];
  const cw = Math.ceil(size * 0.62);
  const ch = Math.ceil(size * 1.25);
  const W = cw * chars.length;
  const texts = chars.map((c, i) => (c === ' ' ? '' : `<text x="${i * cw}" y="${Math.round(size * 0.95)}">${esc(c)}</text>`)).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${ch}"><g font-family="DejaVu Sans Mono, Liberation Mono, monospace" font-weight="bold" font-size="${size}" fill="#fff">${texts}</g></svg>`;
  const { data, info } = await sharp(Buffer.from(svg)).ensureAlpha().extractChannel(3).raw().toBuffer({ resolveWithObject: true });
  if (info.width !== W || info.height !== ch) throw new Error(`font atlas came out ${info.width}×${info.height}, expected ${W}×${ch}`);
  const glyphs: Record<string, Uint8Array> = {};
  chars.forEach((c, i) => {
    const g = new Uint8Array(cw * ch);
    for (let y = 0; y < ch; y++) g.set(data.subarray(y * W + i * cw, y * W + i * cw + cw), y * cw);
    glyphs[c] = g;
  });
  return { cellWidth: cw, cellHeight: ch, glyphs };
}

// Fonts are immutable once built; sharing them between view nodes saves a render per node.
const fonts = new Map<number, Promise<BitmapFont | null>>();

/** The font for a size, rendered on first use; null when no font could be rendered. */
export function fontFor(size: number): Promise<BitmapFont | null> {
  let f = fonts.get(size);
  if (!f) {
    f = renderFont(size).catch(() => null);
    fonts.set(size, f);
  }
  return f;
}
