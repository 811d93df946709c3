'use strict';
// The accuracy helpers behind `bench count-accuracy`: the gt kept only where the detector found the
// person (detectedOnly) and the perfect-tracker bound counted from it (detectionBound).
const assert = require('assert');
const { parseGeometry } = require('../../dist/nodes/lib/counting');
const { detectedOnly, detectionBound, compareWith, gtCounts, relativeError, countMotTracks, randomLines } = require('../../dist/nodes/lib/eval');

const W = 640;
const H = 480;
const FPS = 10;
const LINES = { lines: [{ name: 'door', start: [0, 0.5], end: [1, 0.5] }] };
const SCENE = { geometry: LINES, width: W, height: H, fps: FPS };

/** A 40×100 px box whose feet are at (x, y). */
const box = (x, y) => [x - 20, y - 100, x + 20, y];
const row = (id, x, y, score = 1) => ({ box: box(x, y), score, classId: 0, label: 'person', trackId: id, trackState: 'confirmed' });

/** A MotTrackFile of `n` frames, filled per frame by `fill(f)` (1-based). */
function file(n, fill) {
  const frames = [[]];
  for (let f = 1; f <= n; f++) frames.push(fill(f));
  return { frames, lastFrame: n, rows: frames.reduce((s, l) => s + l.length, 0) };
}

// Two people walk down across the door line (y = 240) side by side, 20 px a frame over 30 frames.
const N = 30;
const feet = (f) => 100 + 10 * f;
const gt = file(N, (f) => [row(1, 150, feet(f)), row(2, 450, feet(f))]);

describe('counting accuracy helpers', function () {
  it('detectedOnly keeps a gt box only where one detection matches it, one to one', function () {
    // One detection covers person 1 exactly; a second, shifted by half a box, overlaps person 2 at IoU 1/3.
    const dets = file(N, (f) => [row(-1, 150, feet(f)), row(-1, 470, feet(f))]);
    const strict = detectedOnly(gt, dets, 0.5);
    assert.ok(strict.frames.slice(1).every((l) => l.length === 1 && l[0].trackId === 1));
    const loose = detectedOnly(gt, dets, 0.3);
    assert.ok(loose.frames.slice(1).every((l) => l.length === 2));
    // One detection between both people (a "group box") can only stand for one of them.
    const one = file(N, (f) => [row(-1, 150, feet(f))]);
    const gt2 = file(N, (f) => [row(1, 150, feet(f)), row(2, 160, feet(f))]);
    assert.ok(
      detectedOnly(gt2, one, 0.5)
        .frames.slice(1)
        .every((l) => l.length === 1),
    );
  });

  it('detectionBound counts a person hidden for longer than the track timeout while crossing (perfect identity)', function () {
    // Person 2 is not detected from frame 8 to frame 25 (1.8 s at 10 fps) and crosses meanwhile; the
    // 1-s track timeout passed in would end its track during the gap, the bound keeps the identity.
    const dets = file(N, (f) => (f >= 8 && f <= 25 ? [row(-1, 150, feet(f))] : [row(-1, 150, feet(f)), row(-1, 450, feet(f))]));
    const bound = detectionBound(gt, dets, { ...SCENE, counting: { trackTimeoutS: 1 } });
    assert.deepStrictEqual(bound, { door: { in: 2, out: 0 } });
    // The same boxes counted as they are, with that timeout, lose the hidden crossing.
    assert.deepStrictEqual(countMotTracks(detectedOnly(gt, dets), { ...SCENE, counting: { relinkS: 0, trackTimeoutS: 1 } }).counts, {
      door: { in: 1, out: 0 },
    });
    const rows = compareWith(gtCounts(gt, SCENE).counts, bound);
    assert.strictEqual(relativeError(rows), 0);
  });

  it('detectionBound misses a person the detector never found near the line', function () {
    // Person 2 is only detected far above the line, then never again.
    const dets = file(N, (f) => (f <= 5 ? [row(-1, 150, feet(f)), row(-1, 450, feet(f))] : [row(-1, 150, feet(f))]));
    const bound = detectionBound(gt, dets, SCENE);
    assert.deepStrictEqual(bound, { door: { in: 1, out: 0 } });
    const rows = compareWith(gtCounts(gt, SCENE).counts, bound);
    assert.strictEqual(rows[0].absError, 1);
    assert.strictEqual(rows[0].gtTotal, 2);
  });

  it("detectionBound on the detector's boxes: the same perfect identities, the detector's box geometry", function () {
    // Person 2 stops 20 px past the line; the detector sees only their upper 60 px (legs hidden), so
    // its box bottom stays 40 px above the feet and never reaches the line. IoU 0.6: still matched.
    const stop = (f) => Math.min(260, feet(f));
    const gtStop = file(N, (f) => [row(1, 150, feet(f)), row(2, 450, stop(f))]);
    const upper = (x, y) => ({ ...row(-1, x, y), box: [x - 20, y - 100, x + 20, y - 40] });
    const dets = file(N, (f) => [row(-1, 150, feet(f)), upper(450, stop(f))]);
    const kept = detectedOnly(gtStop, dets, 0.5, 'detector');
    assert.deepStrictEqual(
      kept.frames[10].map((d) => [d.trackId, d.box]),
      [
        [1, box(150, 200)],
        [2, [430, 100, 470, 160]],
      ],
    );
    assert.deepStrictEqual(detectionBound(gtStop, dets, SCENE), { door: { in: 2, out: 0 } }, 'on gt boxes both cross');
    assert.deepStrictEqual(
      detectionBound(gtStop, dets, SCENE, 0.5, 'detector'),
      { door: { in: 1, out: 0 } },
      "on the detector's boxes person 2 never reaches the line",
    );
  });

  it('randomLines: seeded chords of the whole frame through its middle, valid geometry, same seed same lines', () => {
    const g = randomLines(200, 7);
    assert.strictEqual(g.lines.length, 200);
    assert.deepStrictEqual(randomLines(200, 7), g, 'the same seed gives the same lines');
    assert.notDeepStrictEqual(randomLines(200, 8), g);
    parseGeometry(g); // accepted as it is by the counter
    const onBorder = (p) => p.some((v) => v === 0 || v === 1);
    let steep = 0;
    for (const l of g.lines) {
      assert.ok(onBorder(l.start) && onBorder(l.end), `${l.name} ends on the frame's border: ${JSON.stringify(l)}`);
      const len = Math.hypot(l.end[0] - l.start[0], l.end[1] - l.start[1]);
      assert.ok(len > 0.1, `${l.name} is a chord, not a stub: ${len}`);
      if (Math.abs(l.end[1] - l.start[1]) > Math.abs(l.end[0] - l.start[0])) steep++;
    }
    assert.ok(steep > 60 && steep < 140, `angles are spread: ${steep} of 200 steeper than 45°`);
    assert.deepStrictEqual(randomLines(0, 1), { lines: [] });
    assert.throws(() => randomLines(-1, 1), /count must be a whole number/);
  });
});
