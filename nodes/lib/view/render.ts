/**
 * vision-view's settings and its frame → JPEG path (also used by `edgevision bench app`).
 */
import sharp from 'sharp';
import { FrameRef } from '../types';
import { OverlayFrame, OverlayOptions, ViewGeometry, drawOverlay, labelSize, parseViewGeometry, viewSize } from './overlay';
import { Canvas } from './raster';
import { fontFor } from './glyphs';

export interface ViewSettings {
  maxWidth: number;
  maxFps: number;
  quality: number;
  showTentative: boolean;
  caption: boolean;
  /** Send each encoded frame on the output too (at most maxFps), whether or not anyone watches. */
  sendJpeg: boolean;
  geometry: ViewGeometry;
}

function num(v: unknown, def: number, min: number, max: number, what: string): number {
  if (v === '' || v === undefined || v === null) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${what} must be a number ${min}–${max}, got "${String(v)}"`);
  return n;
}

export const SETTING_KEYS = ['geometry', 'stations', 'maxWidth', 'maxFps', 'quality', 'showTentative', 'caption', 'sendJpeg'];

/** "Send JPEG": "never" (default) or "every" frame; a config message may also say true/false. */
function sendMode(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 'never' || v === false) return false;
  if (v === 'every' || v === true) return true;
  throw new Error(`send JPEG must be "never" or "every", got "${String(v)}"`);
}

export function toSettings(c: Record<string, unknown>): ViewSettings {
  return {
    maxWidth: Math.round(num(c.maxWidth, 960, 0, 8192, 'max width')),
    maxFps: num(c.maxFps, 5, 0, 60, 'max fps'),
    quality: Math.round(num(c.quality, 75, 10, 100, 'JPEG quality')),
    showTentative: c.showTentative !== false && c.showTentative !== 'false',
    caption: c.caption !== false && c.caption !== 'false',
    sendJpeg: sendMode(c.sendJpeg),
    geometry: parseViewGeometry(c.geometry, c.stations),
  };
}

/** Resize (sharp) → overlay (our loops, on a copy) → JPEG (sharp). */
export async function renderView(data: Uint8Array, ref: FrameRef, frame: OverlayFrame, s: ViewSettings, caption: string): Promise<Buffer> {
  const { width, height } = viewSize(ref.width, ref.height, s.maxWidth);
  const px = await overlaid(data, ref, width, height, frame, s.geometry, { showTentative: s.showTentative, caption: s.caption ? caption : undefined });
  return sharp(px, { raw: { width, height, channels: 3 } }).jpeg({ quality: s.quality }).toBuffer();
}

/**
 * The frame as rgb24 at width × height (a fresh buffer) with the overlay drawn on it, in the label
 * font for that height: vision-view's picture before JPEG, and `edgevision run --annotate`'s frames.
 */
export async function overlaid(
  data: Uint8Array,
  ref: FrameRef,
  width: number,
  height: number,
  frame: OverlayFrame,
  geometry: ViewGeometry,
  opts: Pick<OverlayOptions, 'showTentative' | 'caption'>,
): Promise<Buffer> {
  const px = await rgbAt(data, ref, width, height);
  const font = await fontFor(labelSize(height));
  drawOverlay(new Canvas(px, width, height), frame, geometry, { ...opts, font: font ?? undefined });
  return px;
}

/**
 * The bare picture, no overlay, at most `maxWidth` wide: what the editors' drawing board draws lines
 * and zones on (nodes/shared/snapshot.ts). Returns the JPEG and its size.
 */
export async function renderPicture(data: Uint8Array, ref: FrameRef, maxWidth: number, quality = 80): Promise<{ jpeg: Buffer; width: number; height: number }> {
  const { width, height } = viewSize(ref.width, ref.height, maxWidth);
  const px = await rgbAt(data, ref, width, height);
  return { jpeg: await sharp(px, { raw: { width, height, channels: 3 } }).jpeg({ quality }).toBuffer(), width, height };
}

/** The frame's pixels as rgb24 at width × height, always a fresh buffer: the frame store's pixels are never written. */
async function rgbAt(data: Uint8Array, ref: FrameRef, width: number, height: number): Promise<Buffer> {
  if (ref.format === 'rgb24' && width === ref.width && height === ref.height) return Buffer.from(data);
  const channels = ref.format === 'gray8' ? 1 : 3;
  let img = sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width: ref.width, height: ref.height, channels } });
  if (ref.format === 'bgr24') img = img.recomb([[0, 0, 1], [0, 1, 0], [1, 0, 0]]);
  if (channels === 1) img = img.toColourspace('srgb');
  if (width !== ref.width || height !== ref.height) img = img.resize(width, height, { fit: 'fill', kernel: 'linear' });
  return img.raw().toBuffer();
}
