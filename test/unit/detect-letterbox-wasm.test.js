'use strict';
// The WebAssembly SIMD letterbox against the JS loops (the reference, tested in detect-letterbox):
// the same tensor, to float rounding, for every pixel format, channel order, interpolation, alignment
// and scale/mean/std, at odd sizes, upscaling and downscaling, at a batch offset, and across a change
// of frame size in one module.
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { letterboxInto, DEFAULT_PREPROCESS } = require('../../dist/nodes/lib/detect/letterbox');
const { WasmLetterbox, wasmLetterbox, letterboxAuto } = require('../../dist/nodes/lib/detect/letterbox-wasm');
const { Detector } = require('../../dist/nodes/lib/detect/detector');
const { resolveSpec } = require('../../dist/nodes/lib/detect/spec');
/** @typedef {import('../../dist/nodes/lib/detect/letterbox').SourceImage} SourceImage */
/** @typedef {import('../../dist/nodes/lib/detect/letterbox').PreprocessOptions} PreprocessOptions */

/**
 * @param {SourceImage['format']} format
 * @returns {SourceImage}
 */
function noise(w, h, format, seed) {
  const bpp = format === 'gray8' ? 1 : 3;
  const data = new Uint8Array(w * h * bpp);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s >>> 24;
  }
  return { data, width: w, height: h, format };
}

function maxDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('detect letterbox, WebAssembly SIMD kernel', () => {
  const wasm = wasmLetterbox();

  it('compiles on this Node (WebAssembly SIMD is in every Node ≥ 16.4)', () => {
    assert.ok(wasm, 'the WebAssembly letterbox could not be created');
  });

  const sizes = [
    [768, 576],
    [640, 480],
    [1920, 1080],
    [480, 640],
    [7, 3],
    [1, 1],
    [100, 100],
    [2, 999],
  ];
  /** @type {({ format: SourceImage['format'] } & Pick<PreprocessOptions, 'channelOrder' | 'interpolation' | 'align'>)[]} */
  const variants = [];
  for (const format of /** @type {const} */ (['rgb24', 'bgr24', 'gray8'])) {
    for (const channelOrder of /** @type {const} */ (['rgb', 'bgr'])) {
      for (const interpolation of /** @type {const} */ (['bilinear', 'nearest'])) {
        for (const align of /** @type {const} */ (['center', 'top-left'])) variants.push({ format, channelOrder, interpolation, align });
      }
    }
  }

  it(`matches the JS loops within 1e-4 on ${sizes.length} sizes × ${variants.length} option sets`, () => {
    let seed = 1;
    for (const [w, h] of sizes) {
      for (const v of variants) {
        /** @type {PreprocessOptions} */
        const opts = {
          ...DEFAULT_PREPROCESS,
          channelOrder: v.channelOrder,
          interpolation: v.interpolation,
          align: v.align,
          scale: 1 / 255,
          mean: [0.485, 0.456, 0.406],
          std: [0.229, 0.224, 0.225],
          padValue: 114,
        };
        const img = noise(w, h, v.format, seed++);
        const ref = new Float32Array(3 * 64 * 48);
        const got = new Float32Array(3 * 64 * 48).fill(NaN);
        const p1 = letterboxInto(img, 64, 48, opts, ref);
        const p2 = wasm.letterboxInto(img, 64, 48, opts, got);
        assert.deepStrictEqual(p2, p1);
        const d = maxDiff(ref, got);
        assert.ok(d <= 1e-4, `${w}×${h} ${JSON.stringify(v)}: max difference ${d}`);
      }
    }
  });

  it('matches at the real model size, raw 0–255 BGR (yolox_nano preprocessing)', () => {
    /** @type {PreprocessOptions} */
    const opts = { ...DEFAULT_PREPROCESS, channelOrder: 'bgr', align: 'top-left' };
    for (const [w, h] of [
      [768, 576],
      [640, 480],
      [1280, 720],
    ]) {
      const img = noise(w, h, 'rgb24', w);
      const ref = new Float32Array(3 * 416 * 416);
      const got = new Float32Array(3 * 416 * 416);
      letterboxInto(img, 416, 416, opts, ref);
      wasm.letterboxInto(img, 416, 416, opts, got);
      assert.ok(maxDiff(ref, got) <= 1e-3, `${w}×${h}: ${maxDiff(ref, got)}`);
    }
  });

  it('writes at a batch offset and leaves the rest of the buffer alone', () => {
    const img = noise(30, 20, 'rgb24', 9);
    const per = 3 * 16 * 16;
    const ref = new Float32Array(per);
    letterboxInto(img, 16, 16, DEFAULT_PREPROCESS, ref);
    const out = new Float32Array(3 * per).fill(-1);
    wasm.letterboxInto(img, 16, 16, DEFAULT_PREPROCESS, out, per);
    assert.ok(out.subarray(0, per).every((x) => x === -1));
    assert.ok(out.subarray(2 * per).every((x) => x === -1));
    assert.ok(maxDiff(out.subarray(per, 2 * per), ref) <= 1e-4);
  });

  it('one module serves frames of changing sizes, growing its memory for a 4K frame', () => {
    const w = WasmLetterbox.create();
    for (const [fw, fh] of [
      [64, 48],
      [3840, 2160],
      [64, 48],
      [33, 77],
      [1920, 1080],
    ]) {
      const img = noise(fw, fh, 'rgb24', fw + fh);
      const ref = new Float32Array(3 * 320 * 320);
      const got = new Float32Array(3 * 320 * 320);
      letterboxInto(img, 320, 320, DEFAULT_PREPROCESS, ref);
      w.letterboxInto(img, 320, 320, DEFAULT_PREPROCESS, got);
      assert.ok(maxDiff(ref, got) <= 1e-3, `${fw}×${fh}`);
    }
  });

  it('gives the memory of a 4K frame back once 250 frames went by without one, not while sizes alternate', () => {
    const MB = 1024 * 1024;
    const w = WasmLetterbox.create();
    const big = noise(3840, 2160, 'rgb24', 1);
    const small = noise(640, 480, 'rgb24', 2);
    const out = new Float32Array(3 * 160 * 160);
    w.letterboxInto(big, 160, 160, DEFAULT_PREPROCESS, out);
    assert.ok(w.memoryBytes() > 20 * MB, `4K frame: ${w.memoryBytes()} bytes`);
    // Two cameras, 4K and VGA, through one module: the memory stays (starting over each switch is slow).
    for (let i = 0; i < 300; i++) w.letterboxInto(i % 2 ? big : small, 160, 160, DEFAULT_PREPROCESS, out);
    assert.ok(w.memoryBytes() > 20 * MB, 'kept while 4K frames keep coming');
    for (let i = 0; i < 250; i++) w.letterboxInto(small, 160, 160, DEFAULT_PREPROCESS, out);
    assert.ok(w.memoryBytes() > 20 * MB, 'kept for 250 frames');
    w.letterboxInto(small, 160, 160, DEFAULT_PREPROCESS, out);
    assert.ok(w.memoryBytes() < 4 * MB, `given back after 250 VGA frames: ${w.memoryBytes()} bytes held`);
    // The fresh module gives the same tensor, and grows again for the next 4K frame.
    const ref = new Float32Array(out.length);
    letterboxInto(small, 160, 160, DEFAULT_PREPROCESS, ref);
    w.letterboxInto(small, 160, 160, DEFAULT_PREPROCESS, out);
    assert.ok(maxDiff(ref, out) <= 1e-3);
    w.letterboxInto(big, 160, 160, DEFAULT_PREPROCESS, out);
    letterboxInto(big, 160, 160, DEFAULT_PREPROCESS, ref);
    assert.ok(maxDiff(ref, out) <= 1e-3);
    assert.ok(w.memoryBytes() > 20 * MB);
  });

  it('refuses what the JS loops refuse: wrong byte count, too small an output', () => {
    assert.throws(
      () => wasm.letterboxInto({ data: new Uint8Array(10), width: 4, height: 4, format: 'rgb24' }, 8, 8, DEFAULT_PREPROCESS, new Float32Array(192)),
      /bytes/,
    );
    assert.throws(() => wasm.letterboxInto(noise(4, 4, 'rgb24', 1), 8, 8, DEFAULT_PREPROCESS, new Float32Array(10)), /too small/);
  });

  it('letterboxAuto (what vision-detect calls) gives the same tensor as the JS loops', () => {
    const img = noise(640, 480, 'rgb24', 5);
    const ref = new Float32Array(3 * 416 * 416);
    const got = new Float32Array(3 * 416 * 416);
    letterboxInto(img, 416, 416, DEFAULT_PREPROCESS, ref);
    letterboxAuto(img, 416, 416, DEFAULT_PREPROCESS, got);
    assert.ok(maxDiff(ref, got) <= 1e-3);
    // Where the kernel compiles, letterboxAuto and the Detector's input are its output bit for bit
    // (the JS loops round differently), so the detect path falling back to the loops fails here.
    const kernel = new Float32Array(3 * 416 * 416);
    wasm.letterboxInto(img, 416, 416, DEFAULT_PREPROCESS, kernel);
    assert.notDeepStrictEqual(kernel, ref, 'the kernel and the loops round alike: this check tells nothing');
    assert.deepStrictEqual(got, kernel);
    const runner = {
      inputs: [{ name: 'images', type: 'float32', shape: [1, 3, 416, 416] }],
      outputs: [{ name: 'output0', type: 'float32', shape: [1, 6, 3549] }],
      metadata: { names: "{0: 'person', 1: 'forklift'}" },
      run: () => Promise.reject(new Error('not run here')),
    };
    const spec = resolveSpec(runner);
    const prepared = new Detector(runner, spec).prepare([img]);
    wasm.letterboxInto(img, 416, 416, spec.preprocess, kernel);
    assert.deepStrictEqual(prepared.tensor, kernel);
  });

  it('the committed module was built from the committed letterbox.c (run scripts/build-wasm.sh after editing it)', function () {
    const dir = path.join(__dirname, '..', '..', 'nodes', 'lib', 'detect', 'wasm');
    const header = fs.readFileSync(path.join(dir, 'letterbox.generated.ts'), 'utf8').split('\n')[0];
    const sha = crypto
      .createHash('sha256')
      .update(fs.readFileSync(path.join(dir, 'letterbox.c')))
      .digest('hex');
    assert.match(header, /sha256 ([0-9a-f]{64})/);
    assert.strictEqual(/sha256 ([0-9a-f]{64})/.exec(header)[1], sha);
  });
});
