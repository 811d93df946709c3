/**
 * vision-view's settings (read from its config in nodes/view/config.ts) and its frame → JPEG path
 * (also used by `edgevision bench app`).
 */
import sharp from 'sharp';
import { FrameRef } from '../types';
import { OverlayFrame, OverlayOptions, ViewGeometry, drawOverlay, labelSize, viewSize } from './overlay';
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

/** What a view draws with when nothing is set: the editor's defaults. */
export const VIEW_DEFAULTS: Readonly<Omit<ViewSettings, 'geometry'>> = Object.freeze({
  maxWidth: 960,
  maxFps: 5,
  quality: 75,
  showTentative: true,
  caption: true,
  sendJpeg: false,
});

/** Resize (sharp) → overlay (our loops, on a copy) → JPEG (sharp). */
export async function renderView(data: Uint8Array, ref: FrameRef, frame: OverlayFrame, s: ViewSettings, caption: string): Promise<Buffer> {
  const { width, height } = viewSize(ref.width, ref.height, s.maxWidth);
  const px = await overlaid(data, ref, width, height, frame, s.geometry, { showTentative: s.showTentative, caption: s.caption ? caption : undefined });
  return sharp(px, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: s.quality })
    .toBuffer();
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
  return {
    jpeg: await sharp(px, { raw: { width, height, channels: 3 } })
      .jpeg({ quality })
      .toBuffer(),
    width,
    height,
  };
}

/** The frame's pixels as rgb24 at width × height, always a fresh buffer: the frame store's pixels are never written. */
async function rgbAt(data: Uint8Array, ref: FrameRef, width: number, height: number): Promise<Buffer> {
  if (ref.format === 'rgb24' && width === ref.width && height === ref.height) return Buffer.from(data);
  const channels = ref.format === 'gray8' ? 1 : 3;
  let img = sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width: ref.width, height: ref.height, channels } });
  if (ref.format === 'bgr24')
    img = img.recomb([
      [0, 0, 1],
      [0, 1, 0],
      [1, 0, 0],
    ]);
  if (channels === 1) img = img.toColourspace('srgb');
  if (width !== ref.width || height !== ref.height) img = img.resize(width, height, { fit: 'fill', kernel: 'linear' });
  return img.raw().toBuffer();
}
