'use strict';
// The overlay's Unicode label text: the TrueType reader, the outline rasteriser and the label font
// built on the DejaVu Sans Mono Bold file shipped in the package (no system font involved).
const assert = require('assert');
const fs = require('fs');
const sharp = require('sharp');
const { TrueTypeFont, rasterise } = require('../../dist/nodes/lib/view/ttf');
const { LabelFont, FONT_FILE, fontFor } = require('../../dist/nodes/lib/view/glyphs');
const { Canvas } = require('../../dist/nodes/lib/view/raster');

const ttf = new TrueTypeFont(fs.readFileSync(FONT_FILE));
const on = (x, y) => ({ x, y, on: true });
const sum = (a) => a.reduce((s, v) => s + v, 0);
/** Ink in rows [y0, y1) of a cell. */
const inkRows = (g, w, y0, y1) => sum(g.subarray(y0 * w, y1 * w));

describe('overlay text: TrueType outline rasteriser', () => {
  // Cells are addressed y down; rasterise flips font units (y up) around dy, so dy = height.
  it('a pixel-aligned square is fully covered inside and empty outside', () => {
    const sq = [[on(2, 2), on(6, 2), on(6, 6), on(2, 6)]];
    const g = rasterise(sq, 1, 0, 8, 8, 8);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) assert.strictEqual(g[y * 8 + x], x >= 2 && x < 6 && y >= 2 && y < 6 ? 255 : 0, `pixel ${x},${y}`);
  });

  it('an edge through the middle of a pixel covers it by half', () => {
    const g = rasterise([[on(1.5, 1), on(4, 1), on(4, 3), on(1.5, 3)]], 1, 0, 4, 5, 4);
    assert.strictEqual(g[1 * 5 + 1], 128); // x 1..2 half covered
    assert.strictEqual(g[1 * 5 + 2], 255);
    assert.strictEqual(g[1 * 5 + 0], 0);
  });

  it('coverage adds up to the area of a slanted triangle, whichever way it winds', () => {
    const tri = [on(1, 1), on(15, 3), on(6, 13)]; // area ½·|14·12 − 5·2| = 79
    for (const c of [tri, [...tri].reverse()]) {
      const g = rasterise([c], 1, 0, 16, 16, 16);
      assert.ok(Math.abs(sum(g) / 255 - 79) < 0.5, `${sum(g) / 255}`);
    }
  });

  it('a counter-wound inner contour is a hole; overlapping same-wound contours do not exceed full', () => {
    const outer = [on(0, 0), on(10, 0), on(10, 10), on(0, 10)];
    const hole = [on(3, 3), on(3, 7), on(7, 7), on(7, 3)];
    const g = rasterise([outer, hole], 1, 0, 10, 10, 10);
    assert.strictEqual(g[5 * 10 + 5], 0);
    assert.strictEqual(g[1 * 10 + 1], 255);
    const twice = rasterise([outer, outer], 1, 0, 10, 10, 10);
    assert.ok(twice.every((v) => v === 255));
  });

  it('clips what lies outside the cell without leaking into other rows', () => {
    const g = rasterise([[on(-5, -5), on(3, -5), on(3, 20), on(-5, 20)]], 1, 0, 10, 6, 10);
    for (let y = 0; y < 10; y++) for (let x = 0; x < 6; x++) assert.strictEqual(g[y * 6 + x], x < 3 ? 255 : 0, `pixel ${x},${y}`);
  });

  it('draws a glyph as librsvg draws the same outline (mean difference under 4 of 255)', async () => {
    const size = 40;
    const W = 30;
    const H = 50;
    const scale = size / ttf.unitsPerEm;
    for (const ch of ['Ж', 'ü', 'g', '@', 'Ω']) {
      const contours = ttf.outline(ttf.glyphIndex(ch.codePointAt(0)));
      const ours = rasterise(contours, scale, 2, 40, W, H);
      const d = contours.map((c) => svgContour(c, (p) => [2 + p.x * scale, 40 - p.y * scale])).join(' ');
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><path d="${d}" fill="#fff" fill-rule="nonzero"/></svg>`;
      const ref = await sharp(Buffer.from(svg)).ensureAlpha().extractChannel(3).raw().toBuffer();
      let diff = 0;
      for (let i = 0; i < ours.length; i++) diff += Math.abs(ours[i] - ref[i]);
      assert.ok(sum(ours) > 255 * 50, `${ch} has ink`);
      assert.ok(diff / ours.length < 4, `${ch}: mean difference ${(diff / ours.length).toFixed(2)}`);
    }
  });
});

describe('overlay text: TrueType reader', () => {
  it('maps Latin, Latin-1, Extended, Greek and Cyrillic code points and lacks CJK and emoji', () => {
    for (const ch of 'AzüßŁőƒΩωЖя€→≥') assert.ok(ttf.glyphIndex(ch.codePointAt(0)) > 0, ch);
    for (const ch of ['東', '😀']) assert.strictEqual(ttf.glyphIndex(ch.codePointAt(0)), 0, ch);
  });

  it('resolves composite glyphs (ü is u plus a diaeresis above it)', () => {
    const u = ttf.outline(ttf.glyphIndex(0x75));
    const ue = ttf.outline(ttf.glyphIndex(0xfc));
    assert.ok(ue.length > u.length, `${ue.length} contours vs ${u.length}`);
    const top = (cs) => Math.max(...cs.flat().map((p) => p.y));
    assert.ok(top(ue) > top(u) + 200, 'the dots sit above the u');
  });

  it('rejects what is not a TrueType file', () => {
    assert.throws(() => new TrueTypeFont(Buffer.from('not a font at all')), /not a TrueType font/);
    assert.throws(() => new TrueTypeFont(Buffer.alloc(4)), /too short/);
  });
});

describe('overlay text: label font', () => {
  const f = new LabelFont(20);
  const w = f.cellWidth;
  const xHeightRow = Math.round(20 * 0.95 - 20 * 0.56); // above the top of "u"

  it('draws ü as u with ink above it ("Süd" used to come out "S d")', () => {
    const u = f.glyph('u');
    const ue = f.glyph('ü');
    assert.strictEqual(inkRows(u, w, 0, xHeightRow - 1), 0);
    assert.ok(inkRows(ue, w, 0, xHeightRow - 1) > 255 * 4);
    assert.deepStrictEqual(ue.subarray(xHeightRow * w), u.subarray(xHeightRow * w));
  });

  it('draws Greek and Cyrillic letters, and a box for a character the font lacks', () => {
    const box = f.glyph('東');
    assert.deepStrictEqual(f.glyph('😀'), box);
    for (const ch of 'ΩλЖщ') {
      const g = f.glyph(ch);
      assert.ok(sum(g) > 255 * 20, `${ch} has ink`);
      assert.notDeepStrictEqual(g, box, ch);
    }
    assert.ok(sum(box) > 0);
  });

  it('caches each cell: the same mask object on every call', () => {
    assert.strictEqual(f.glyph('Ж'), f.glyph('Ж'));
  });

  it('draws decomposed text (u + combining diaeresis) exactly as composed text, one cell per letter', () => {
    const draw = (s) => {
      const c = new Canvas(new Uint8Array(100 * 30 * 3), 100, 30);
      c.text(2, 2, s, [255, 255, 255], f);
      return c.data;
    };
    assert.deepStrictEqual(draw('Su\u0308d'), draw('Süd'));
    assert.strictEqual(Canvas.textWidth('Su\u0308d', f), 3 * w);
    assert.strictEqual(Canvas.textWidth('Süd\u200b', f), 3 * w, 'a zero-width space takes no cell');
    assert.ok(sum(draw('Süd')) > 0);
  });

  it('fontFor shares one font per size and rejects absurd sizes', async () => {
    assert.strictEqual(await fontFor(14), await fontFor(14));
    assert.throws(() => new LabelFont(0), /font size must be 4–512 px, got 0/);
  });
});

/** An SVG path for one TrueType contour (quadratic B-spline with implied on-curve midpoints). */
function svgContour(c, map) {
  const pts = c.map((p) => ({ p: map(p), on: p.on }));
  const mid = (a, b) => [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
  let first = pts.findIndex((p) => p.on);
  if (first < 0) {
    pts.unshift({ p: mid(pts[pts.length - 1].p, pts[0].p), on: true });
    first = 0;
  }
  const n = pts.length;
  const start = pts[first].p;
  let d = `M${start[0]} ${start[1]}`;
  let ctrl = null;
  for (let k = 1; k <= n; k++) {
    const pt = pts[(first + k) % n];
    if (pt.on) {
      d += ctrl ? ` Q${ctrl[0]} ${ctrl[1]} ${pt.p[0]} ${pt.p[1]}` : ` L${pt.p[0]} ${pt.p[1]}`;
      ctrl = null;
    } else if (ctrl) {
      const m = mid(ctrl, pt.p);
      d += ` Q${ctrl[0]} ${ctrl[1]} ${m[0]} ${m[1]}`;
      ctrl = pt.p;
    } else ctrl = pt.p;
  }
  if (ctrl) d += ` Q${ctrl[0]} ${ctrl[1]} ${start[0]} ${start[1]}`;
  return d + ' Z';
}
