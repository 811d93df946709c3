'use strict';
// The view's drawing: the canvas primitives paint exactly the pixels they should (and only those),
// the overlay puts each thing where the frame says, geometry errors say what is wrong, and the
// frame-rate gate and output size follow their rules.
const assert = require('assert');
const { Canvas, parseColour, clipSegment } = require('../../dist/nodes/lib/view/raster.js');
const {
  drawOverlay,
  overlaySvg,
  parseViewGeometry,
  viewSize,
  viewCaption,
  RateGate,
  trackColour,
  STATE_COLOURS,
  mjpegPartHeader,
} = require('../../dist/nodes/lib/view/overlay.js');

const px = (c, x, y) => [...c.data.subarray((y * c.width + x) * 3, (y * c.width + x) * 3 + 3)];
const blank = (w, h, v = 0) => new Canvas(new Uint8Array(w * h * 3).fill(v), w, h);
const changed = (c, v = 0) => {
  let n = 0;
  for (let i = 0; i < c.data.length; i += 3) if (c.data[i] !== v || c.data[i + 1] !== v || c.data[i + 2] !== v) n++;
  return n;
};

describe('view: canvas primitives', () => {
  it('fillRect paints exactly w×h pixels, clipped to the canvas', () => {
    for (const [x, y, w, h, want] of [
      [2, 3, 4, 5, 20],
      [-2, -2, 4, 4, 4],
      [8, 8, 10, 10, 4],
      [20, 20, 3, 3, 0],
    ]) {
      const c = blank(10, 10);
      c.fillRect(x, y, w, h, [255, 0, 0]);
      assert.strictEqual(changed(c), want, `${x},${y} ${w}×${h}`);
    }
  });

  it('alpha blends with the pixel underneath', () => {
    const c = blank(4, 4, 100);
    c.fillRect(0, 0, 4, 4, [200, 0, 100], 0.5);
    assert.deepStrictEqual(px(c, 1, 1), [150, 50, 100]);
  });

  it('an outline leaves the inside untouched; a dashed one paints less', () => {
    const c = blank(20, 20);
    c.strokeRect(2, 2, 18, 18, [0, 255, 0], 2);
    assert.deepStrictEqual(px(c, 10, 10), [0, 0, 0]);
    assert.deepStrictEqual(px(c, 2, 10), [0, 255, 0]);
    assert.deepStrictEqual(px(c, 17, 10), [0, 255, 0]);
    const solid = changed(c);
    const d = blank(20, 20);
    d.strokeRect(2, 2, 18, 18, [0, 255, 0], 2, 3);
    assert.ok(changed(d) > 0 && changed(d) < solid, `${changed(d)} vs ${solid}`);
  });

  it('fills a polygon at pixel centres (a triangle is half its box), even-odd', () => {
    const c = blank(100, 100);
    c.fillPolygon(
      [
        [0, 0],
        [100, 0],
        [100, 100],
      ],
      [255, 255, 255],
      1,
    );
    assert.ok(Math.abs(changed(c) - 5000) <= 100, `${changed(c)}`);
    assert.deepStrictEqual(px(c, 90, 10), [255, 255, 255]);
    assert.deepStrictEqual(px(c, 10, 90), [0, 0, 0]);
  });

  it('draws a line along its path only', () => {
    const c = blank(50, 50);
    c.line(5, 25, 45, 25, [255, 255, 0], 2);
    assert.deepStrictEqual(px(c, 25, 25), [255, 255, 0]);
    assert.deepStrictEqual(px(c, 25, 10), [0, 0, 0]);
    assert.ok(changed(c) >= 80 && changed(c) <= 90, `${changed(c)}`);
  });

  it('text blits glyph masks with their coverage and skips characters the font lacks', () => {
    const g = new Uint8Array([255, 0, 128, 0]); // 2×2: full, none / half, none
    const font = { cellWidth: 2, cellHeight: 2, glyph: (ch) => ({ A: g })[ch] };
    const c = blank(6, 2);
    c.text(0, 0, 'A?A', [255, 255, 255], font);
    assert.deepStrictEqual(px(c, 0, 0), [255, 255, 255]);
    assert.deepStrictEqual(px(c, 1, 0), [0, 0, 0]);
    assert.deepStrictEqual(px(c, 0, 1), [128, 128, 128]);
    assert.deepStrictEqual(px(c, 2, 0), [0, 0, 0]); // '?' is not in the font
    assert.deepStrictEqual(px(c, 4, 0), [255, 255, 255]);
    assert.strictEqual(Canvas.textWidth('A?A', font), 6);
  });

  it('rejects a buffer of the wrong size and bad colours', () => {
    assert.throws(() => new Canvas(new Uint8Array(10), 2, 2), /needs 12 bytes, got 10/);
    assert.throws(() => parseColour('red'), /#rrggbb/);
    assert.deepStrictEqual(parseColour('#ff8000'), [255, 128, 0]);
  });
});

describe('view: geometry', () => {
  it('accepts line-count and productivity-state JSON (strings or objects; blank = none)', () => {
    const g = parseViewGeometry('{"lines":[{"name":"door","start":[0.1,0.5],"end":[0.9,0.5]}],"zones":[{"name":"z","polygon":[[0,0],[1,0],[1,1]]}]}', {
      zones: [
        {
          name: 's1',
          camera: 'cam1',
          polygon: [
            [0, 0],
            [0.5, 0],
            [0.5, 0.5],
          ],
        },
      ],
    });
    assert.strictEqual(g.lines[0].name, 'door');
    assert.strictEqual(g.zones.length, 1);
    assert.strictEqual(g.stations[0].camera, 'cam1');
    assert.deepStrictEqual(parseViewGeometry('', undefined), { lines: [], zones: [], stations: [] });
    // productivity-state also accepts a bare array of stations
    assert.strictEqual(
      parseViewGeometry('', [
        {
          name: 's',
          polygon: [
            [0, 0],
            [1, 0],
            [1, 1],
          ],
        },
      ]).stations.length,
      1,
    );
  });

  for (const [geometry, stations, re] of /** @type {[string, string, RegExp][]} */ ([
    ['{', '', /geometry: not JSON/],
    ['{"lines":[{"name":"door","start":[0.1,0.5],"end":[640,0.5]}]}', '', /lines\[0\]\.end x = 640 is outside 0\.\.1/],
    ['{"lines":[{"start":[0,0],"end":[1,1]}]}', '', /lines\[0\]\.name must be a non-empty string/],
    ['', '{"zones":[{"name":"s","polygon":[[0,0],[1,1]]}]}', /stations: zones\[0\]\.polygon must have at least 3 points/],
    ['{"zones":[{"name":"z","polygon":[[0,0],[1,0],[1,"a"]]}]}', '', /zones\[0\]\.polygon\[2\] y must be a number, got "a"/],
    ['{"lines":5}', '', /lines must be an array/],
  ])) {
    it(`says what is wrong: ${re.source}`, () => assert.throws(() => parseViewGeometry(geometry, stations), re));
  }
});

describe('view: overlay', () => {
  const geometry = parseViewGeometry(
    { lines: [{ name: 'door', start: [0, 0.5], end: [1, 0.5] }], zones: [] },
    {
      zones: [
        {
          name: 's1',
          polygon: [
            [0, 0],
            [0.25, 0],
            [0.25, 0.25],
            [0, 0.25],
          ],
        },
        {
          name: 'other-cam',
          camera: 'cam2',
          polygon: [
            [0.75, 0.75],
            [1, 0.75],
            [1, 1],
            [0.75, 1],
          ],
        },
      ],
    },
  );
  const frame = (extra = {}) => ({ camera: 'cam1', width: 400, height: 200, detections: [], stations: { s1: { state: 'working' } }, ...extra });

  it('colours a station by its state, draws the line, and skips stations of other cameras', () => {
    const c = blank(200, 100); // half the source size: geometry scales with the canvas
    drawOverlay(c, frame(), geometry, {});
    const [r, g, b] = px(c, 25, 12); // inside s1
    const [wr, wg, wb] = parseColour(STATE_COLOURS.working);
    assert.ok(g > r && g > b && g > 0, `${[r, g, b]}`);
    assert.ok(Math.abs(g - Math.round(wg * 0.28)) <= 2, `${g} vs ${wg}`);
    assert.deepStrictEqual(px(c, 100, 50), parseColour('#ffeb3b')); // on the line
    assert.deepStrictEqual(px(c, 190, 90), [0, 0, 0]); // cam2's station is not drawn
    assert.ok(wr >= 0 && wb >= 0);
  });

  it('draws boxes scaled to the output, in the track colour; lost tracks and broken boxes are skipped', () => {
    const c = blank(200, 100);
    drawOverlay(
      c,
      frame({
        stations: {},
        detections: [
          { box: [200, 120, 300, 180], score: 0.9, classId: 0, label: 'person', trackId: 3, trackState: 'confirmed' },
          { box: [20, 120, 60, 180], score: 0.9, classId: 0, label: 'person', trackId: 4, trackState: 'lost' },
          { box: [NaN, 0, 1, 1], score: 0.9, classId: 0, label: 'person' },
        ],
      }),
      { lines: [], zones: [], stations: [] },
      {},
    );
    assert.deepStrictEqual(px(c, 100, 75), parseColour(trackColour(3))); // left edge at x = 200 / 2
    assert.deepStrictEqual(px(c, 125, 75), [0, 0, 0]); // inside the box
    assert.deepStrictEqual(px(c, 10, 75), [0, 0, 0]); // the lost track
  });

  it('the SVG form carries the same facts (counts, occupancy, state, ids) and escapes names', () => {
    const g = parseViewGeometry(
      {
        lines: [{ name: 'a<b', start: [0, 0.5], end: [1, 0.5] }],
        zones: [
          {
            name: 'z',
            polygon: [
              [0, 0],
              [1, 0],
              [1, 1],
            ],
          },
        ],
      },
      geometry.stations,
    );
    const svg = overlaySvg(
      frame({
        counts: { 'a<b': { in: 7, out: 2 } },
        zones: { z: { occupancy: 5 } },
        detections: [{ box: [1, 1, 10, 10], score: 1, classId: 0, label: 'person', trackId: 12, trackState: 'confirmed' }],
      }),
      g,
      { outWidth: 200, outHeight: 100 },
    );
    for (const s of ['a&lt;b  in 7  out 2', 'z: 5', 's1: working', '#12']) assert.ok(svg.includes(s), s);
    assert.ok(!svg.includes('other-cam'));
  });
});

describe('view: caption', () => {
  // The caption shows the camera's own measured rate from the frame (payload.fps), never the view's.
  for (const [fps, want] of [
    [7, 'cam1 · 7.0 fps'],
    [7.24, 'cam1 · 7.2 fps'],
    [0, 'cam1 · 0.0 fps'],
    [undefined, 'cam1'],
    ['7', 'cam1'],
    [NaN, 'cam1'],
    [-1, 'cam1'],
  ]) {
    it(`payload.fps ${String(fps)} → "${want}"`, () => assert.strictEqual(viewCaption('cam1', fps), want));
  }
});

describe('view: sizes, rate and stream framing', () => {
  for (const [w, h, max, want] of /** @type {[number, number, number, number[]][]} */ ([
    [768, 576, 960, [768, 576]],
    [1920, 1080, 960, [960, 540]],
    [1920, 1080, 0, [1920, 1080]],
    [641, 481, 320, [320, 240]],
  ])) {
    it(`${w}×${h} at max ${max} → ${want.join('×')}`, () => assert.deepStrictEqual(viewSize(w, h, max), { width: want[0], height: want[1] }));
  }

  it('lets through at most maxFps frames a second of the given clock; 0 = no limit', () => {
    const g = new RateGate(5);
    const passed = [];
    for (let t = 0; t <= 1000; t += 50) {
      if (!g.ready(t)) continue;
      g.mark(t);
      passed.push(t);
    }
    assert.deepStrictEqual(passed, [0, 200, 400, 600, 800, 1000]);
    const w = new RateGate(5);
    w.mark(1000);
    assert.deepStrictEqual([w.waitMs(1000), w.waitMs(1143), w.waitMs(1200), w.waitMs(1500)], [200, 57, 0, 0]);
    const free = new RateGate(0);
    free.mark(0);
    assert.ok(free.ready(0));
    assert.throws(() => new RateGate(NaN), /max fps/);
  });

  it('frames an MJPEG part', () => {
    assert.strictEqual(mjpegPartHeader('b', 12), '--b\r\nContent-Type: image/jpeg\r\nContent-Length: 12\r\n\r\n');
  });
});

describe('view: drawing is bounded by the picture', () => {
  const W = 64;
  const H = 48;
  const NO_GEOMETRY = { lines: [], zones: [], stations: [] };
  const draw = (detections) => {
    const c = new Canvas(new Uint8Array(W * H * 3), W, H);
    const stats = drawOverlay(c, { camera: 'a', width: W, height: H, detections }, NO_GEOMETRY, {});
    return { c, stats };
  };

  it('clipSegment: the part of a segment inside a rectangle, or null', () => {
    assert.deepStrictEqual(clipSegment(-10, 5, 30, 5, 0, 0, 20, 10), [0.25, 0.75]);
    assert.deepStrictEqual(clipSegment(2, 2, 4, 4, 0, 0, 20, 10), [0, 1]);
    assert.strictEqual(clipSegment(-10, 50, 30, 50, 0, 0, 20, 10), null);
    assert.strictEqual(clipSegment(-1e300, 5, 1e300, 5, 0, 0, 20, 10)[0] > 0, true);
  });

  for (const v of [1e4, 1e8, 1e12, 1e300]) {
    for (const trackState of ['confirmed', 'tentative']) {
      it(`a ${trackState} box ±${v} draws the same pixels as one just past the edges, and is counted as clipped`, () => {
        const huge = draw([{ box: [-v, -v, v, v], trackId: 1, trackState }]);
        const edge = draw([{ box: [-6, -6, W + 6, H + 6], trackId: 1, trackState }]);
        assert.deepStrictEqual(huge.stats, { drawn: 1, skipped: 0, clipped: 1 });
        assert.deepStrictEqual(edge.stats, { drawn: 1, skipped: 0, clipped: 0 });
        assert.ok(Buffer.from(huge.c.data).equals(Buffer.from(edge.c.data)), 'same picture');
      });
    }
  }

  it('skips and counts what is not a box; a box wholly off the picture is neither drawn nor an error', () => {
    const { c, stats } = draw([
      null,
      { box: [10, 0, 5, 5] },
      { box: [1, 2, 3] },
      { box: [NaN, 0, 1, 1] },
      { box: ['1', '1', '9', '9'] },
      { box: [1000, 1000, 1100, 1100] },
    ]);
    assert.deepStrictEqual(stats, { drawn: 0, skipped: 5, clipped: 0 });
    assert.ok(
      c.data.every((v) => v === 0),
      'nothing drawn',
    );
  });

  it('a track id of a million characters is cut', () => {
    const font = { cellWidth: 2, cellHeight: 2, glyph: () => new Uint8Array(4).fill(255) };
    const c = new Canvas(new Uint8Array(W * H * 3), W, H);
    const stats = drawOverlay(
      c,
      {
        camera: 'a',
        width: W,
        height: H,
        detections: [/** @type {any} a hostile track id: text, not a number */ ({ box: [5, 20, 30, 40], trackId: 'x'.repeat(1e6), trackState: 'confirmed' })],
      },
      NO_GEOMETRY,
      { font },
    );
    assert.strictEqual(stats.drawn, 1);
  });
});
