/**
 * Crops a box out of a packed 8-bit frame and resizes it (stretched, as re-id models are trained:
 * torchreid resizes a person crop to 256×128 without keeping the aspect ratio) into planar float32
 * with the model's channel order and normalisation, at `offset` of a batch tensor.
 */
import { Box } from '../types';
import { SourceImage } from '../detect/letterbox';

export interface CropNormalisation {
  channelOrder: 'rgb' | 'bgr';
  /** Multiplier applied to 0–255 values (1/255 for ImageNet-normalised models). */
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
}

/** The box clipped to the frame and rounded outwards; null when nothing of it is inside. */
export function clipBox(b: Box, width: number, height: number): Box | null {
  const x1 = Math.max(0, Math.floor(b[0]));
  const y1 = Math.max(0, Math.floor(b[1]));
  const x2 = Math.min(width, Math.ceil(b[2]));
  const y2 = Math.min(height, Math.ceil(b[3]));
  if (!(x2 - x1 >= 1 && y2 - y1 >= 1)) return null;
  return [x1, y1, x2, y2];
}

function channelMap(img: SourceImage, order: 'rgb' | 'bgr'): [number, number, number] {
  if (img.format === 'gray8') return [0, 0, 0];
  const same = (img.format === 'rgb24') === (order === 'rgb');
  return same ? [0, 1, 2] : [2, 1, 0];
}

/**
 * Bilinear crop-resize of `box` into `out` (3·dstW·dstH floats from `offset`). `out` is the
 * caller's reusable batch buffer: the one argument written to. Throws when the box misses the frame.
 */
export function cropResizeInto(img: SourceImage, box: Box, dstWidth: number, dstHeight: number, norm: CropNormalisation, out: Float32Array, offset = 0): void {
  const bpp = img.format === 'gray8' ? 1 : 3;
  if (img.data.length !== img.width * img.height * bpp)
    throw new Error(`frame has ${img.data.length} bytes; ${img.width}×${img.height} ${img.format} needs ${img.width * img.height * bpp}`);
  const c = clipBox(box, img.width, img.height);
  if (!c) throw new Error(`box [${box.join(', ')}] is outside the ${img.width}×${img.height} frame`);
  const plane = dstWidth * dstHeight;
  if (out.length < offset + 3 * plane) throw new Error(`output buffer too small: needs ${offset + 3 * plane} floats`);
  const [c0, c1, c2] = channelMap(img, norm.channelOrder);
  const a = [0, 1, 2].map((k) => norm.scale / norm.std[k]);
  const b = [0, 1, 2].map((k) => -norm.mean[k] / norm.std[k]);
  const cw = c[2] - c[0];
  const ch = c[3] - c[1];
  const sx = cw / dstWidth;
  const sy = ch / dstHeight;
  const { data, width } = img;
  // Horizontal taps once per crop, not per pixel.
  const xa = new Int32Array(dstWidth);
  const xb = new Int32Array(dstWidth);
  const wx = new Float32Array(dstWidth);
  for (let dx = 0; dx < dstWidth; dx++) {
    let fx = (dx + 0.5) * sx - 0.5;
    if (fx < 0) fx = 0;
    if (fx > cw - 1) fx = cw - 1;
    const x0 = Math.floor(fx);
    xa[dx] = (c[0] + x0) * bpp;
    xb[dx] = (c[0] + Math.min(x0 + 1, cw - 1)) * bpp;
    wx[dx] = fx - x0;
  }
  const o0 = offset;
  const o1 = offset + plane;
  const o2 = offset + 2 * plane;
  for (let dy = 0; dy < dstHeight; dy++) {
    let fy = (dy + 0.5) * sy - 0.5;
    if (fy < 0) fy = 0;
    if (fy > ch - 1) fy = ch - 1;
    const y0 = Math.floor(fy);
    const wy = fy - y0;
    const rowA = (c[1] + y0) * width * bpp;
    const rowB = (c[1] + Math.min(y0 + 1, ch - 1)) * width * bpp;
    let o = dy * dstWidth;
    for (let dx = 0; dx < dstWidth; dx++, o++) {
      const w = wx[dx];
      const pa = rowA + xa[dx],
        pb = rowA + xb[dx],
        pc = rowB + xa[dx],
        pd = rowB + xb[dx];
      const w00 = (1 - w) * (1 - wy),
        w01 = w * (1 - wy),
        w10 = (1 - w) * wy,
        w11 = w * wy;
      out[o0 + o] = (data[pa + c0] * w00 + data[pb + c0] * w01 + data[pc + c0] * w10 + data[pd + c0] * w11) * a[0] + b[0];
      out[o1 + o] = (data[pa + c1] * w00 + data[pb + c1] * w01 + data[pc + c1] * w10 + data[pd + c1] * w11) * a[1] + b[1];
      out[o2 + o] = (data[pa + c2] * w00 + data[pb + c2] * w01 + data[pc + c2] * w10 + data[pd + c2] * w11) * a[2] + b[2];
    }
  }
}
