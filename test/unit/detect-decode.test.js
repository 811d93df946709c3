'use strict';
const assert = require('assert');
const { decode, makeGrid, gridRows, detectFormat, classCount } = require('../../dist/nodes/lib/detect/decode');

const close = (a, b, eps = 1e-3) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) <= eps);
function thresholds(n, t = 0.25) {
  return new Float32Array(n).fill(t);
}
function boxesOf(c) {
  const out = [];
  for (let i = 0; i < c.scores.length; i++) out.push(c.boxes.slice(4 * i, 4 * i + 4));
  return out;
}

describe('detect decoders', () => {
  it('counts grid rows like YOLOX: 416 → 52²+26²+13² = 3549, 640 → 8400', () => {
    assert.strictEqual(gridRows(416, 416), 3549);
    assert.strictEqual(gridRows(640, 640), 8400);
    assert.strictEqual(gridRows(640, 384), 80 * 48 + 40 * 24 + 20 * 12);
  });

  describe('yolox (raw grid)', () => {
    // A 64×32 input: stride 8 → 8×4 cells, 16 → 4×2, 32 → 2×1: 32 + 8 + 2 = 42 rows, 2 classes.
    const W = 64,
      H = 32,
      NC = 2,
      K = 5 + NC;
    const grid = makeGrid(W, H);
    function tensor(rows, batch = 1) {
      const n = grid.gx.length;
      const data = new Float32Array(batch * n * K);
      for (const [b, r, vals] of rows) data.set(vals, (b * n + r) * K);
      return { data, dims: [batch, n, K] };
    }
    it('decodes xy = (raw + grid)·stride and wh = exp(raw)·stride', () => {
      // Row 9 is stride 8, cell (1,1): centre (1.5+1)·8 = 20, (0.5+1)·8 = 12; w = e^1·8, h = e^0·8.
      // Row 32 is the first stride-16 row, cell (0,0).
      const t = tensor([
        [0, 9, [1.5, 0.5, 1, 0, 0.9, 0.2, 0.8]],
        [0, 32, [0.5, 0.5, 0, Math.log(2), 0.6, 0.9, 0.1]],
      ]);
      const c = decode('yolox', t, 0, { thresholds: thresholds(NC), grid });
      const w = Math.E * 8;
      assert.deepStrictEqual(c.classIds, [1, 0]);
      assert.ok(close(c.scores, [0.72, 0.54]));
      assert.ok(close(boxesOf(c)[0], [20 - w / 2, 12 - 4, 20 + w / 2, 12 + 4]));
      assert.ok(close(boxesOf(c)[1], [8 - 8, 8 - 16, 8 + 8, 8 + 16]));
    });
    it('keeps a row only when obj·cls reaches its class threshold; Infinity drops the class', () => {
      const t = tensor([
        [0, 0, [0, 0, 0, 0, 0.5, 0.4, 0.3]], // 0.2 and 0.15: below 0.25
        [0, 1, [0, 0, 0, 0, 1.0, 0.3, 0.9]], // class 1 best but dropped → class 0 at 0.3
      ]);
      const thr = new Float32Array([0.25, Infinity]);
      const c = decode('yolox', t, 0, { thresholds: thr, grid });
      assert.deepStrictEqual(c.classIds, [0]);
      assert.ok(close(c.scores, [0.3]));
    });
    it('reads the requested batch item only', () => {
      const t = tensor(
        [
          [0, 0, [0, 0, 0, 0, 0.9, 0.9, 0]],
          [1, 5, [0, 0, 0, 0, 0.8, 0, 0.9]],
        ],
        2,
      );
      assert.deepStrictEqual(decode('yolox', t, 1, { thresholds: thresholds(NC), grid }).classIds, [1]);
      assert.throws(() => decode('yolox', t, 2, { thresholds: thresholds(NC), grid }), /batch index 2/);
    });
    it('refuses an output whose rows do not match the grid', () => {
      const t = { data: new Float32Array(10 * K), dims: [1, 10, K] };
      assert.throws(() => decode('yolox', t, 0, { thresholds: thresholds(NC), grid }), /10 rows/);
    });
  });

  it('yolov5 decodes [1,N,5+C] centre boxes in input pixels', () => {
    const data = new Float32Array([
      100,
      50,
      20,
      40,
      0.8,
      0.1,
      0.9,
      0.2,
      10,
      10,
      4,
      4,
      0.1,
      0.9,
      0.9,
      0.9, // obj too low
    ]);
    const c = decode('yolov5', { data, dims: [1, 2, 8] }, 0, { thresholds: thresholds(3) });
    assert.deepStrictEqual(c.classIds, [1]);
    assert.ok(close(c.scores, [0.72]));
    assert.ok(close(boxesOf(c)[0], [90, 30, 110, 70]));
  });

  it('yolov8 decodes [1,4+C,N] channel-major with no objectness', () => {
    // 3 anchors, 2 classes: rows cx, cy, w, h, cls0, cls1.
    const data = new Float32Array([10, 200, 30, 20, 100, 30, 4, 50, 2, 8, 10, 2, 0.9, 0.1, 0.2, 0.3, 0.7, 0.1]);
    const c = decode('yolov8', { data, dims: [1, 6, 3] }, 0, { thresholds: thresholds(2) });
    assert.deepStrictEqual(c.classIds, [0, 1]);
    assert.ok(close(c.scores, [0.9, 0.7]));
    assert.ok(close(boxesOf(c)[0], [8, 16, 12, 24]));
    assert.ok(close(boxesOf(c)[1], [175, 95, 225, 105]));
  });

  it('end2end passes [1,N,6] corner boxes through, by class threshold', () => {
    const data = new Float32Array([
      1,
      2,
      3,
      4,
      0.9,
      1,
      5,
      6,
      7,
      8,
      0.2,
      0,
      9,
      9,
      19,
      19,
      0.6,
      7, // class outside the labels: dropped
    ]);
    const c = decode('end2end', { data, dims: [1, 3, 6] }, 0, { thresholds: thresholds(2) });
    assert.deepStrictEqual(boxesOf(c), [[1, 2, 3, 4]]);
    assert.deepStrictEqual(c.classIds, [1]);
  });

  it('an unknown format is an error naming the known ones', () => {
    assert.throws(
      () => decode(/** @type {any} */ ('ssd'), { data: new Float32Array(6), dims: [1, 1, 6] }, 0, { thresholds: thresholds(1) }),
      /yolox, yolov5, yolov8, end2end/,
    );
  });

  /** @type {[(number | string)[], number, number, string | undefined][]} */
  const shapes = [
    [[1, 3549, 85], 416, 416, 'yolox'],
    [[1, 25200, 85], 640, 640, 'yolov5'],
    [[1, 84, 8400], 640, 640, 'yolov8'],
    [[1, 5, 8400], 640, 640, 'yolov8'],
    [[1, 300, 6], 640, 640, 'end2end'],
    [[1, 'num_dets', 6], 640, 640, 'end2end'],
    [[1, 1000, 85], 640, 640, undefined],
    [[1, 8400], 640, 640, undefined],
  ];
  for (const [dims, w, h, want] of shapes) {
    it(`detects ${want ?? 'no decoder'} from [${dims}] at ${w}×${h}`, () => {
      const r = detectFormat(dims, w, h);
      assert.strictEqual(r.format, want);
      if (!want) assert.match(r.reason, /matches no decoder|dimensions/);
    });
  }

  it('counts classes from the shape', () => {
    assert.strictEqual(classCount('yolox', [1, 3549, 85]), 80);
    assert.strictEqual(classCount('yolov8', [1, 84, 8400]), 80);
    assert.strictEqual(classCount('end2end', [1, 300, 6]), undefined);
  });
});
