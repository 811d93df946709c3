/**
 * Letterbox preprocessing: resize a packed 8-bit frame into the model's input keeping the aspect
 * ratio, pad the rest, and write planar (CHW) float32 with the model's channel order and scaling.
 * This runs once per frame per camera, so it is written as flat typed-array loops over precomputed
 * index/weight tables (bilinear, pixel-centre aligned like OpenCV's INTER_LINEAR) with no closures
 * or allocations per pixel; the benchmark compares it with sharp.
 */
import { Box, PixelFormat } from '../types';

export interface PreprocessOptions {
  /** Channel order the model wants. */
  channelOrder: 'rgb' | 'bgr';
  /** Grey value (0–255) of the padding, before scaling. */
  padValue: number;
  /** Multiplier applied to 0–255 values (1/255 for models that want 0–1). */
  scale: number;
  /** Per-channel mean and std in the model's channel order, applied after scale: (v·scale − mean) / std. */
  mean: [number, number, number];
  std: [number, number, number];
  /** Where the resized image sits: centred (Ultralytics) or top-left (YOLOX's own preprocessing). */
  align: 'center' | 'top-left';
  /**
   * Resampling: bilinear (what YOLO training pipelines use, OpenCV INTER_LINEAR) or nearest, about
   * 3× cheaper and slightly blockier; see `edgevision bench detect` for both on your frames.
   */
  interpolation: 'bilinear' | 'nearest';
}

export const DEFAULT_PREPROCESS: PreprocessOptions = {
  channelOrder: 'rgb',
  padValue: 114,
  scale: 1,
  mean: [0, 0, 0],
  std: [1, 1, 1],
  align: 'center',
  interpolation: 'bilinear',
};

export function validatePreprocess(p: Partial<PreprocessOptions> = {}): PreprocessOptions {
  const o: PreprocessOptions = { ...DEFAULT_PREPROCESS, ...p };
  if (o.channelOrder !== 'rgb' && o.channelOrder !== 'bgr') throw new Error(`channelOrder must be "rgb" or "bgr", got ${String(o.channelOrder)}`);
  if (!(o.padValue >= 0 && o.padValue <= 255)) throw new Error(`padValue must be 0–255, got ${o.padValue}`);
  if (!(Number.isFinite(o.scale) && o.scale > 0)) throw new Error(`scale must be a number > 0, got ${o.scale}`);
  for (const [name, v] of [
    ['mean', o.mean],
    ['std', o.std],
  ] as const) {
    if (!Array.isArray(v) || v.length !== 3 || !v.every((n) => Number.isFinite(n))) throw new Error(`${name} must be three numbers, got ${JSON.stringify(v)}`);
  }
  if (o.std.some((s) => s === 0)) throw new Error('std must not contain 0');
  if (o.align !== 'center' && o.align !== 'top-left') throw new Error(`align must be "center" or "top-left", got ${String(o.align)}`);
  if (o.interpolation !== 'bilinear' && o.interpolation !== 'nearest')
    throw new Error(`interpolation must be "bilinear" or "nearest", got ${String(o.interpolation)}`);
  return { ...o, mean: [...o.mean] as PreprocessOptions['mean'], std: [...o.std] as PreprocessOptions['std'] };
}

/** How a source frame maps into the model input; also what maps boxes back. */
export interface LetterboxParams {
  srcWidth: number;
  srcHeight: number;
  dstWidth: number;
  dstHeight: number;
  /** Model pixels per source pixel. */
  scale: number;
  /** Size of the resized image inside the input. */
  innerWidth: number;
  innerHeight: number;
  /** Offset of the resized image inside the input. */
  padX: number;
  padY: number;
}

export function letterboxParams(
  srcWidth: number,
  srcHeight: number,
  dstWidth: number,
  dstHeight: number,
  align: PreprocessOptions['align'] = 'center',
): LetterboxParams {
  for (const [n, v] of [
    ['source width', srcWidth],
    ['source height', srcHeight],
    ['input width', dstWidth],
    ['input height', dstHeight],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${n} must be a whole number ≥ 1, got ${v}`);
  }
  const scale = Math.min(dstWidth / srcWidth, dstHeight / srcHeight);
  const innerWidth = Math.min(dstWidth, Math.max(1, Math.round(srcWidth * scale)));
  const innerHeight = Math.min(dstHeight, Math.max(1, Math.round(srcHeight * scale)));
  const padX = align === 'center' ? Math.floor((dstWidth - innerWidth) / 2) : 0;
  const padY = align === 'center' ? Math.floor((dstHeight - innerHeight) / 2) : 0;
  return { srcWidth, srcHeight, dstWidth, dstHeight, scale, innerWidth, innerHeight, padX, padY };
}

/** A box in model-input pixels back to source pixels, clipped to the frame. */
export function unletterboxBox(b: ArrayLike<number>, p: LetterboxParams): Box {
  // The effective per-axis scale (inner size / source size) undoes the rounding of the inner size.
  const sx = p.innerWidth / p.srcWidth;
  const sy = p.innerHeight / p.srcHeight;
  const clip = (v: number, hi: number) => (v < 0 ? 0 : v > hi ? hi : v);
  return [
    clip((b[0] - p.padX) / sx, p.srcWidth),
    clip((b[1] - p.padY) / sy, p.srcHeight),
    clip((b[2] - p.padX) / sx, p.srcWidth),
    clip((b[3] - p.padY) / sy, p.srcHeight),
  ];
}

/** A box in source pixels into model-input pixels (the inverse; used by tests and tools). */
export function letterboxBox(b: Box, p: LetterboxParams): Box {
  const sx = p.innerWidth / p.srcWidth;
  const sy = p.innerHeight / p.srcHeight;
  return [b[0] * sx + p.padX, b[1] * sy + p.padY, b[2] * sx + p.padX, b[3] * sy + p.padY];
}

/** Source offsets and weights for one axis (pixel-centre aligned, edge-clamped). */
export interface AxisTable {
  i0: Int32Array;
  i1: Int32Array;
  w1: Float32Array;
}

export function axisTable(src: number, dst: number, stride: number): AxisTable {
  const i0 = new Int32Array(dst);
  const i1 = new Int32Array(dst);
  const w1 = new Float32Array(dst);
  const ratio = src / dst;
  for (let d = 0; d < dst; d++) {
    let s = (d + 0.5) * ratio - 0.5;
    if (s < 0) s = 0;
    let a = Math.floor(s);
    if (a > src - 1) a = src - 1;
    const b = a + 1 < src ? a + 1 : src - 1;
    i0[d] = a * stride;
    i1[d] = b * stride;
    w1[d] = s - a;
  }
  return { i0, i1, w1 };
}

/** Input channel (0..2) feeding each output plane, for the source format and the model's order. */
export function channelMap(format: PixelFormat, order: PreprocessOptions['channelOrder']): [number, number, number] {
  if (format === 'rgb24') return order === 'rgb' ? [0, 1, 2] : [2, 1, 0];
  if (format === 'bgr24') return order === 'bgr' ? [0, 1, 2] : [2, 1, 0];
  return [0, 0, 0];
}

export interface SourceImage {
  data: Uint8Array;
  width: number;
  height: number;
  format: PixelFormat;
}

/** Checks a frame against its size and the output buffer's room; returns bytes per pixel. */
export function checkLetterboxArgs(img: SourceImage, dstWidth: number, dstHeight: number, out: Float32Array, offset: number): number {
  const { data, width: sw, height: sh, format } = img;
  const bpp = format === 'gray8' ? 1 : 3;
  if (data.length !== sw * sh * bpp) throw new Error(`frame has ${data.length} bytes; ${sw}×${sh} ${format} needs ${sw * sh * bpp}`);
  const plane = dstWidth * dstHeight;
  if (out.length < offset + 3 * plane) throw new Error(`output buffer too small: needs ${offset + 3 * plane} floats`);
  return bpp;
}

/** Fills the part of each plane outside the inner rectangle (the rest is overwritten anyway). */
function fillPadding(out: Float32Array, p: LetterboxParams, planes: readonly number[], values: readonly number[]): void {
  const w = p.dstWidth,
    top = p.padY,
    bottom = p.padY + p.innerHeight;
  const right = p.padX + p.innerWidth;
  planes.forEach((o, c) => {
    const v = values[c];
    out.fill(v, o, o + top * w);
    out.fill(v, o + bottom * w, o + p.dstHeight * w);
    if (p.padX > 0 || right < w) {
      for (let y = top; y < bottom; y++) {
        out.fill(v, o + y * w, o + y * w + p.padX);
        out.fill(v, o + y * w + right, o + (y + 1) * w);
      }
    }
  });
}

/**
 * Letterboxes `img` into `out` (length 3·dstH·dstW, at `offset` for batching) and returns the mapping.
 * `out` is the caller's reusable buffer: this is the one function here that writes to an argument.
 */
export function letterboxInto(img: SourceImage, dstWidth: number, dstHeight: number, opts: PreprocessOptions, out: Float32Array, offset = 0): LetterboxParams {
  const { data, width: sw, height: sh, format } = img;
  const bpp = checkLetterboxArgs(img, dstWidth, dstHeight, out, offset);
  const plane = dstWidth * dstHeight;
  const p = letterboxParams(sw, sh, dstWidth, dstHeight, opts.align);
  const [c0, c1, c2] = channelMap(format, opts.channelOrder);
  // out = v·scale/std − mean/std, folded into one multiply-add per value.
  const a0 = opts.scale / opts.std[0],
    b0 = -opts.mean[0] / opts.std[0];
  const a1 = opts.scale / opts.std[1],
    b1 = -opts.mean[1] / opts.std[1];
  const a2 = opts.scale / opts.std[2],
    b2 = -opts.mean[2] / opts.std[2];
  const o0 = offset,
    o1 = offset + plane,
    o2 = offset + 2 * plane;

  const iw = p.innerWidth,
    ih = p.innerHeight;
  fillPadding(out, p, [o0, o1, o2], [opts.padValue * a0 + b0, opts.padValue * a1 + b1, opts.padValue * a2 + b2]);
  const xt = axisTable(sw, iw, bpp);
  const yt = axisTable(sh, ih, sw * bpp);
  const x0 = xt.i0,
    x1 = xt.i1,
    wx = xt.w1;
  if (opts.interpolation === 'nearest') {
    // The nearer of the two bilinear taps: same pixel-centre alignment, one load per channel.
    const xn = new Int32Array(iw);
    for (let dx = 0; dx < iw; dx++) xn[dx] = wx[dx] < 0.5 ? x0[dx] : x1[dx];
    for (let dy = 0; dy < ih; dy++) {
      const r = yt.w1[dy] < 0.5 ? yt.i0[dy] : yt.i1[dy];
      let o = (dy + p.padY) * dstWidth + p.padX;
      for (let dx = 0; dx < iw; dx++, o++) {
        const q = r + xn[dx];
        out[o0 + o] = data[q + c0] * a0 + b0;
        out[o1 + o] = data[q + c1] * a1 + b1;
        out[o2 + o] = data[q + c2] * a2 + b2;
      }
    }
    return p;
  }
  for (let dy = 0; dy < ih; dy++) {
    const r0 = yt.i0[dy],
      r1 = yt.i1[dy];
    const fy = yt.w1[dy],
      gy = 1 - fy;
    let o = (dy + p.padY) * dstWidth + p.padX;
    for (let dx = 0; dx < iw; dx++, o++) {
      const fx = wx[dx],
        gx = 1 - fx;
      const p00 = r0 + x0[dx],
        p01 = r0 + x1[dx],
        p10 = r1 + x0[dx],
        p11 = r1 + x1[dx];
      const w00 = gx * gy,
        w01 = fx * gy,
        w10 = gx * fy,
        w11 = fx * fy;
      out[o0 + o] = (data[p00 + c0] * w00 + data[p01 + c0] * w01 + data[p10 + c0] * w10 + data[p11 + c0] * w11) * a0 + b0;
      out[o1 + o] = (data[p00 + c1] * w00 + data[p01 + c1] * w01 + data[p10 + c1] * w10 + data[p11 + c1] * w11) * a1 + b1;
      out[o2 + o] = (data[p00 + c2] * w00 + data[p01 + c2] * w01 + data[p10 + c2] * w10 + data[p11 + c2] * w11) * a2 + b2;
    }
  }
  return p;
}

/**
 * Packs an already-resized interleaved image (e.g. from sharp) into CHW with padding. Used by the
 * benchmark's sharp path so both paths produce the same tensor layout.
 */
export function packResizedInto(resized: Uint8Array, p: LetterboxParams, format: PixelFormat, opts: PreprocessOptions, out: Float32Array, offset = 0): void {
  const plane = p.dstWidth * p.dstHeight;
  const [c0, c1, c2] = channelMap(format, opts.channelOrder);
  const a0 = opts.scale / opts.std[0],
    b0 = -opts.mean[0] / opts.std[0];
  const a1 = opts.scale / opts.std[1],
    b1 = -opts.mean[1] / opts.std[1];
  const a2 = opts.scale / opts.std[2],
    b2 = -opts.mean[2] / opts.std[2];
  const o0 = offset,
    o1 = offset + plane,
    o2 = offset + 2 * plane;
  fillPadding(out, p, [o0, o1, o2], [opts.padValue * a0 + b0, opts.padValue * a1 + b1, opts.padValue * a2 + b2]);
  const bpp = format === 'gray8' ? 1 : 3;
  let s = 0;
  for (let dy = 0; dy < p.innerHeight; dy++) {
    let o = (dy + p.padY) * p.dstWidth + p.padX;
    for (let dx = 0; dx < p.innerWidth; dx++, o++, s += bpp) {
      out[o0 + o] = resized[s + c0] * a0 + b0;
      out[o1 + o] = resized[s + c1] * a1 + b1;
      out[o2 + o] = resized[s + c2] * a2 + b2;
    }
  }
}
