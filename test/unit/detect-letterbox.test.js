'use strict';
const assert = require('assert');
const {
  letterboxParams,
  letterboxInto,
  unletterboxBox,
  letterboxBox,
  packResizedInto,
  validatePreprocess,
  DEFAULT_PREPROCESS,
} = require('../../dist/nodes/lib/detect/letterbox');
/** @typedef {import('../../dist/nodes/lib/types').Box} Box */
/** @typedef {import('../../dist/nodes/lib/detect/letterbox').SourceImage} SourceImage */
/** @typedef {import('../../dist/nodes/lib/detect/letterbox').PreprocessOptions} PreprocessOptions */

describe('detect letterbox', () => {
  /** @type {[number, number, number, number, PreprocessOptions['align'], number[], number[]][]} */
  const sizes = [
    // [srcW, srcH, dstW, dstH, align, expected inner W×H, pad]
    [640, 480, 416, 416, 'center', [416, 312], [0, 52]],
    [640, 480, 416, 416, 'top-left', [416, 312], [0, 0]],
    [480, 640, 416, 416, 'center', [312, 416], [52, 0]],
    [1920, 1080, 640, 640, 'center', [640, 360], [0, 140]],
    [100, 100, 416, 416, 'center', [416, 416], [0, 0]],
    [7, 3, 64, 32, 'center', [64, 27], [0, 2]],
  ];
  for (const [sw, sh, dw, dh, align, inner, pad] of sizes) {
    it(`maps ${sw}×${sh} into ${dw}×${dh} (${align})`, () => {
      const p = letterboxParams(sw, sh, dw, dh, align);
      assert.deepStrictEqual([p.innerWidth, p.innerHeight], inner);
      assert.deepStrictEqual([p.padX, p.padY], pad);
    });
    it(`round-trips boxes within 1 px for ${sw}×${sh} → ${dw}×${dh} (${align})`, () => {
      const p = letterboxParams(sw, sh, dw, dh, align);
      /** @type {Box[]} */
      const boxes = [
        [0, 0, sw, sh],
        [sw * 0.1, sh * 0.2, sw * 0.35, sh * 0.9],
        [sw * 0.5, sh * 0.5, sw * 0.51, sh * 0.52],
      ];
      for (const b of boxes) {
        const back = unletterboxBox(letterboxBox(b, p), p);
        back.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1, `coordinate ${i}: ${v} vs ${b[i]}`));
      }
    });
  }

  for (const [sw, sh, align, interpolation] of /** @type {[number, number, PreprocessOptions['align'], PreprocessOptions['interpolation']][]} */ ([
    [640, 480, 'center', 'bilinear'],
    [640, 480, 'top-left', 'bilinear'],
    [300, 500, 'center', 'bilinear'],
    [1280, 720, 'center', 'bilinear'],
    [640, 480, 'top-left', 'nearest'],
    [300, 500, 'center', 'nearest'],
  ])) {
    it(`pixels and box mapping agree within 1 px: ${sw}×${sh} → 416×416 (${align}, ${interpolation})`, () => {
      // A white rectangle on black: where it lands in the tensor must be where letterboxBox says.
      /** @type {Box} */
      const rect = [Math.round(sw * 0.2), Math.round(sh * 0.1), Math.round(sw * 0.55), Math.round(sh * 0.8)];
      const d = new Uint8Array(sw * sh * 3);
      for (let y = rect[1]; y < rect[3]; y++) d.fill(255, (y * sw + rect[0]) * 3, (y * sw + rect[2]) * 3);
      const out = new Float32Array(3 * 416 * 416);
      const p = letterboxInto({ data: d, width: sw, height: sh, format: 'rgb24' }, 416, 416, validatePreprocess({ padValue: 0, align, interpolation }), out);
      let x1 = Infinity,
        y1 = Infinity,
        x2 = -1,
        y2 = -1;
      for (let y = 0; y < 416; y++)
        for (let x = 0; x < 416; x++) {
          if (out[y * 416 + x] >= 127.5) {
            x1 = Math.min(x1, x);
            y1 = Math.min(y1, y);
            x2 = Math.max(x2, x + 1);
            y2 = Math.max(y2, y + 1);
          }
        }
      const expected = letterboxBox(rect, p);
      [x1, y1, x2, y2].forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= 1, `coordinate ${i}: image ${v}, mapping ${expected[i]}`));
      // And back to source pixels: within one model pixel's worth of source pixels.
      const back = unletterboxBox([x1, y1, x2, y2], p);
      back.forEach((v, i) => assert.ok(Math.abs(v - rect[i]) <= 1 / p.scale, `source coordinate ${i}: ${v} vs ${rect[i]}`));
    });
  }

  it('clips boxes that reach into the padding to the frame', () => {
    const p = letterboxParams(640, 480, 416, 416, 'center');
    assert.deepStrictEqual(unletterboxBox([-10, 0, 500, 416], p), [0, 0, 640, 480]);
  });

  it('rejects sizes that are not whole positive numbers', () => {
    assert.throws(() => letterboxParams(0, 10, 416, 416), /source width/);
    assert.throws(() => letterboxParams(10, 10, 416.5, 416), /input width/);
  });

  /** @returns {SourceImage} */
  function solid(w, h, rgb) {
    const d = new Uint8Array(w * h * 3);
    for (let i = 0; i < w * h; i++) d.set(rgb, i * 3);
    return { data: d, width: w, height: h, format: 'rgb24' };
  }

  it('writes CHW with the pad value around the image, in the model channel order', () => {
    const img = solid(8, 4, [10, 20, 30]);
    const out = new Float32Array(3 * 8 * 8);
    const opts = validatePreprocess({ channelOrder: 'bgr', padValue: 114, align: 'center' });
    const p = letterboxInto(img, 8, 8, opts, out);
    assert.deepStrictEqual([p.padX, p.padY, p.innerWidth, p.innerHeight], [0, 2, 8, 4]);
    const at = (c, y, x) => out[c * 64 + y * 8 + x];
    // Row 0 and 7 are padding, rows 2..5 are the image; planes are B, G, R.
    assert.deepStrictEqual([at(0, 0, 0), at(1, 7, 7), at(2, 1, 3)], [114, 114, 114]);
    assert.deepStrictEqual([at(0, 2, 0), at(1, 3, 4), at(2, 5, 7)], [30, 20, 10]);
  });

  it('applies scale, mean and std per channel', () => {
    const img = solid(4, 4, [255, 0, 51]);
    const out = new Float32Array(3 * 4 * 4);
    const opts = validatePreprocess({ channelOrder: 'rgb', scale: 1 / 255, mean: [0.5, 0, 0.1], std: [0.5, 1, 0.2] });
    letterboxInto(img, 4, 4, opts, out);
    assert.ok(Math.abs(out[0] - 1) < 1e-6);
    assert.ok(Math.abs(out[16] - 0) < 1e-6);
    assert.ok(Math.abs(out[32] - 0.5) < 1e-6);
  });

  it('reads bgr24 frames too', () => {
    const img = solid(2, 2, [1, 2, 3]);
    img.format = 'bgr24';
    const out = new Float32Array(12);
    letterboxInto(img, 2, 2, validatePreprocess({ channelOrder: 'rgb' }), out);
    assert.deepStrictEqual([out[0], out[4], out[8]], [3, 2, 1]);
  });

  it('interpolates bilinearly: a horizontal ramp stays a ramp after downscaling', () => {
    const w = 64,
      h = 8;
    const d = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d.fill(x * 4, (y * w + x) * 3, (y * w + x) * 3 + 3);
    const out = new Float32Array(3 * 32 * 4);
    letterboxInto({ data: d, width: w, height: h, format: 'rgb24' }, 32, 4, DEFAULT_PREPROCESS, out);
    // Destination x maps to source 2x + 0.5: the mean of source pixels 2x and 2x+1.
    for (let x = 0; x < 32; x++) assert.ok(Math.abs(out[x] - (8 * x + 2)) < 1e-3, `x=${x}: ${out[x]}`);
  });

  it('nearest picks the nearer source pixel: a 2× downscale of a checkerboard column pattern keeps one phase', () => {
    const w = 8,
      h = 2;
    const d = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d.fill(x % 2 ? 200 : 0, (y * w + x) * 3, (y * w + x) * 3 + 3);
    const out = new Float32Array(3 * 4 * 1);
    letterboxInto({ data: d, width: w, height: h, format: 'rgb24' }, 4, 1, validatePreprocess({ interpolation: 'nearest' }), out);
    // Destination x maps to source 2x + 0.5: a tie, resolved to the right-hand pixel (odd → 200).
    assert.deepStrictEqual(Array.from(out.slice(0, 4)), [200, 200, 200, 200]);
    const bil = new Float32Array(12);
    letterboxInto({ data: d, width: w, height: h, format: 'rgb24' }, 4, 1, DEFAULT_PREPROCESS, bil);
    assert.deepStrictEqual(Array.from(bil.slice(0, 4)), [100, 100, 100, 100]);
  });

  it('a reused buffer holds no trace of the previous frame: only the padding is filled, and all of it', () => {
    // A wide frame, then a tall one (padding moves from top/bottom to left/right), then a square one.
    for (const align of /** @type {const} */ (['center', 'top-left'])) {
      for (const interpolation of /** @type {const} */ (['bilinear', 'nearest'])) {
        const opts = { ...DEFAULT_PREPROCESS, align, interpolation };
        const reused = new Float32Array(3 * 32 * 32).fill(-7);
        for (const [w, h, v] of [
          [64, 16, 200],
          [10, 40, 30],
          [32, 32, 5],
        ]) {
          const fresh = new Float32Array(3 * 32 * 32);
          letterboxInto(solid(w, h, [v, v + 1, v + 2]), 32, 32, opts, reused);
          letterboxInto(solid(w, h, [v, v + 1, v + 2]), 32, 32, opts, fresh);
          assert.deepStrictEqual(reused, fresh, `${align} ${interpolation} ${w}×${h}`);
        }
      }
    }
  });

  it('writes at an offset for batching and leaves the rest of the buffer alone', () => {
    const img = solid(4, 4, [9, 9, 9]);
    const out = new Float32Array(2 * 48).fill(-1);
    letterboxInto(img, 4, 4, DEFAULT_PREPROCESS, out, 48);
    assert.ok(out.slice(0, 48).every((v) => v === -1));
    assert.ok(out.slice(48).every((v) => v === 9));
  });

  it('packs a resized image the same way as the direct path when no resize is needed', () => {
    const w = 6,
      h = 3;
    const d = new Uint8Array(w * h * 3).map((_, i) => (i * 37) % 256);
    /** @type {SourceImage} */
    const img = { data: d, width: w, height: h, format: 'rgb24' };
    const opts = validatePreprocess({ channelOrder: 'bgr' });
    const a = new Float32Array(3 * 6 * 6);
    const b = new Float32Array(3 * 6 * 6);
    const p = letterboxInto(img, 6, 6, opts, a);
    packResizedInto(d, p, 'rgb24', opts, b);
    assert.deepStrictEqual(Array.from(a), Array.from(b));
  });

  it('rejects a frame whose byte count does not match its size', () => {
    assert.throws(
      () => letterboxInto({ data: new Uint8Array(10), width: 4, height: 4, format: 'rgb24' }, 4, 4, DEFAULT_PREPROCESS, new Float32Array(48)),
      /needs 48/,
    );
  });

  /** @type {[object, RegExp][]} */
  const bad = [
    [{ channelOrder: 'rgba' }, /channelOrder/],
    [{ padValue: 300 }, /padValue/],
    [{ scale: 0 }, /scale/],
    [{ mean: [0, 0] }, /mean/],
    [{ std: [1, 0, 1] }, /std must not contain 0/],
    [{ align: 'middle' }, /align/],
    [{ interpolation: 'cubic' }, /interpolation/],
  ];
  for (const [o, re] of bad) it(`rejects preprocess ${JSON.stringify(o)}`, () => assert.throws(() => validatePreprocess(/** @type {any} */ (o)), re));
});
