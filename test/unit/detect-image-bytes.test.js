'use strict';
// The checks vision-detect makes on an image payload before decoding it: the format from the first
// bytes, a readable description of anything else, and the pixel limit.
const assert = require('assert');
const { imageKind, describeBytes, pixelLimitError, MAX_IMAGE_PIXELS } = require('../../dist/nodes/lib/detect/image-bytes');

const b = (...v) => Uint8Array.from(v);
const ascii = (s) => Uint8Array.from(Buffer.from(s, 'latin1'));

describe('detect image bytes', () => {
  /** @type {[string, Uint8Array, string | undefined][]} */
  const kinds = [
    ['JPEG (SOI + marker)', b(0xff, 0xd8, 0xff, 0xe0, 0, 0x10), 'jpeg'],
    ['PNG signature', b(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0), 'png'],
    ['WebP (RIFF....WEBP)', ascii('RIFF\x10\x00\x00\x00WEBPVP8 '), 'webp'],
    ['RIFF that is not WebP (a WAV file)', ascii('RIFF\x10\x00\x00\x00WAVEfmt '), undefined],
    ['PNG signature cut short', b(0x89, 0x50, 0x4e, 0x47), undefined],
    ['two bytes of a JPEG', b(0xff, 0xd8), undefined],
    ['GIF (not taken)', ascii('GIF89a'), undefined],
    ['text', ascii('hello'), undefined],
    ['empty', b(), undefined],
  ];
  for (const [name, bytes, want] of kinds) it(`kind: ${name}`, () => assert.strictEqual(imageKind(bytes), want));

  /** @type {[string, Uint8Array, string][]} */
  const descriptions = [
    ['text shows its letters', ascii('hello world'), '11 bytes starting 68 65 6c 6c ("hell")'],
    ['binary shows hex only', b(0, 1, 2, 3, 4), '5 bytes starting 00 01 02 03'],
    ['one byte', b(0x41), '1 byte starting 41 ("A")'],
    ['empty', b(), '0 bytes'],
  ];
  for (const [name, bytes, want] of descriptions) it(`describe: ${name}`, () => assert.strictEqual(describeBytes(bytes), want));

  /** @type {[string, number, number, number, RegExp | undefined][]} */
  const limits = [
    ['within the limit', 640, 480, 50e6, undefined],
    ['exactly at the limit', 10000, 5000, 50e6, undefined],
    ['one row over', 10000, 5001, 50e6, /10000×5001 \(50.01 MP\), more than the 50 MP limit/],
    ['a decompression bomb claim', 65535, 65535, 50e6, /65535×65535 \(4294\.84 MP\)/],
    ['small limits in pixels', 100, 100, 1000, /100×100 \(10000 pixels\), more than the 1000 pixels limit/],
    ['no size in the header', 0, 480, 50e6, /gives no size/],
  ];
  for (const [name, w, h, max, want] of limits) {
    it(`pixel limit: ${name}`, () => {
      const got = pixelLimitError(w, h, max);
      if (want === undefined) assert.strictEqual(got, undefined);
      else assert.match(got, want);
    });
  }

  it('the default limit is 50 MP', () => assert.strictEqual(MAX_IMAGE_PIXELS, 50e6));
});
