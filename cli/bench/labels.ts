/**
 * `edgevision bench labels`: what the Unicode label font costs vision-view per frame. Draws the same
 * labels onto a frame-sized canvas with the shipped-font LabelFont (NFC, marks, glyph cache) and,
 * as the baseline in the same run, with a plain ASCII lookup of the same cells (what the old bitmap
 * font did, accents and all non-ASCII dropped). Also times a character's first use (the one-off
 * rasterisation from the TrueType outline). Prints figures; asserts nothing.
 */
import { parseArgs, numArg } from '../args';
import { LabelFont } from '../../nodes/lib/view/glyphs';
import { BitmapFont, Canvas } from '../../nodes/lib/view/raster';

export const usage = [
  'usage: edgevision bench labels [--frames N] [--size PX]',
  '',
  '  --frames N   frames drawn per variant (default 300)',
  '  --size PX    label font size in pixels (default 18, what a 720-pixel-high view uses)',
].join('\n');

const W = 960;
const H = 720;

function labels(): string[] {
  return Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? `Süd-Tor ${i}  in 12  out 9` : i % 3 === 1 ? `#${100 + i}` : `Größe ${i}: working`));
}

function drawMs(font: BitmapFont, texts: string[], frames: number): number {
  const c = new Canvas(new Uint8Array(W * H * 3), W, H);
  const t0 = process.hrtime.bigint();
  for (let k = 0; k < frames; k++) texts.forEach((s, i) => c.text(10 + (i % 4) * 230, 10 + Math.floor(i / 4) * 40, s, [255, 255, 255], font));
  return Number(process.hrtime.bigint() - t0) / 1e6 / frames;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const frames = Math.max(1, Math.round(numArg(args, 'frames', 300)));
  const size = Math.round(numArg(args, 'size', 18));
  const texts = labels();

  // First use: every distinct character of the labels, rasterised once (a warm-up size first, so the
  // figure is the rasteriser's cost, not the JIT's or the font file's load).
  const chars = [...new Set(texts.join('') + 'ÄÖÜäöüßΩλЖщ')];
  const t00 = process.hrtime.bigint();
  const cold = new LabelFont(size + 1);
  for (const ch of chars) cold.glyph(ch);
  const coldUs = Number(process.hrtime.bigint() - t00) / 1e3 / chars.length;
  for (let k = 2; k < 12; k++) {
    const warm = new LabelFont(size + k);
    for (const ch of chars) warm.glyph(ch);
  }
  const font = new LabelFont(size);
  const t0 = process.hrtime.bigint();
  for (const ch of chars) font.glyph(ch);
  const firstUs = Number(process.hrtime.bigint() - t0) / 1e3 / chars.length;

  const ascii = new Map<string, Uint8Array>();
  for (let c = 32; c < 127; c++) ascii.set(String.fromCharCode(c), font.glyph(String.fromCharCode(c)));
  const plain: BitmapFont = { cellWidth: font.cellWidth, cellHeight: font.cellHeight, glyph: (ch) => ascii.get(ch) };

  for (let r = 0; r < 2; r++) {
    drawMs(font, texts, Math.max(1, frames / 6));
    drawMs(plain, texts, Math.max(1, frames / 6));
  }
  const base = drawMs(plain, texts, frames);
  const uni = drawMs(font, texts, frames);
  const chars24 = Math.round(texts.join('').length / texts.length);
  console.log(`${texts.length} labels (~${chars24} characters each) at ${size} px on ${W}×${H}, mean of ${frames} frames:`);
  console.log(`  ASCII lookup, same cells (baseline)   ${base.toFixed(3)} ms/frame`);
  console.log(`  Unicode label font (NFC, cache)      ${uni.toFixed(3)} ms/frame   ${(uni / base).toFixed(2)}× baseline`);
  console.log(`  first use of a character             ${firstUs.toFixed(0)} µs warm, ${coldUs.toFixed(0)} µs in a fresh process (once per size, then cached)`);
  return 0;
}
