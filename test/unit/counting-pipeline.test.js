'use strict';
// CountingPipeline: detections → Tracker → Counter (→ station KPIs), the function behind
// `edgevision run`, `bench count-accuracy` and `trackAndCount`, on scripted detections.
const assert = require('assert');
const { CountingPipeline } = require('../../dist/nodes/lib/eval/pipeline');
const { VISION_TRACK_DEFAULTS, DEFAULT_TRACKER_OPTIONS } = require('../../dist/nodes/lib/tracking/tracker');

const W = 640;
const H = 480;
const DT = 40;
const LINES = { lines: [{ name: 'door', start: [0, 0.5], end: [1, 0.5] }] };

/** A person 40×100 px whose feet are at (x, y) pixels. */
const person = (x, y, score = 0.95) => ({ box: [x - 20, y - 100, x + 20, y], score, classId: 0, label: 'person' });

/** Feet walking down from y0 by dy per frame, n frames. */
function walkDown(y0, dy, n, score) {
  return Array.from({ length: n }, (_, i) => [person(320, y0 + dy * i, score)]);
}

function run(settings, frames) {
  const p = new CountingPipeline({ geometry: LINES, ...settings });
  const steps = frames.map((dets, i) => p.step(dets, i * DT, W, H));
  return { p, steps, result: p.finish() };
}

describe('counting: CountingPipeline', function () {
  it('tracks and counts a walk across the line, marking detections as vision-track does', function () {
    const { steps, result } = run({}, walkDown(150, 8, 20));
    assert.deepStrictEqual(result.counts, { door: { in: 1, out: 0 } });
    assert.strictEqual(result.frames, 20);
    assert.strictEqual(result.firstMs, 0);
    assert.strictEqual(result.lastMs, 19 * DT);
    const d = steps[5].detections[0];
    assert.strictEqual(d.trackId, 1);
    assert.strictEqual(d.trackState, 'confirmed');
    assert.ok(Array.isArray(d.velocity) && typeof d.ageMs === 'number');
    assert.strictEqual(steps[0].detections[0].trackState, 'tentative');
    const crossing = steps.flatMap((s) => s.counter.events).filter((e) => e.event === 'line-crossing');
    assert.strictEqual(crossing.length, 1);
    assert.strictEqual(crossing[0].direction, 'in');
  });

  it("uses the vision-track node's defaults unless told otherwise: a 0.75 person is tracked, with the engine's 0.9 it is not", function () {
    assert.ok(VISION_TRACK_DEFAULTS.newTrackThreshold < 0.75 && DEFAULT_TRACKER_OPTIONS.newTrackThreshold > 0.75);
    assert.deepStrictEqual(run({}, walkDown(150, 8, 20, 0.75)).result.counts, { door: { in: 1, out: 0 } });
    assert.deepStrictEqual(run({ tracker: {} }, walkDown(150, 8, 20, 0.75)).result.counts, { door: { in: 0, out: 0 } });
  });

  it('finish() ends the tracks: a crossing in the last frames (before minFrames past the line) is completed', function () {
    // Feet reach y = 250 (line at 240, dead band 5 px) only in the very last frame.
    const frames = walkDown(160, 10, 10);
    const { steps, result } = run({}, frames);
    assert.deepStrictEqual(steps[steps.length - 1].counter.counts, { door: { in: 0, out: 0 } });
    assert.deepStrictEqual(result.counts, { door: { in: 1, out: 0 } });
    assert.deepStrictEqual(run({ counting: { completeAtEnd: false } }, frames).result.counts, { door: { in: 0, out: 0 } });
  });

  it('passes counting options through and validates settings before any frame', function () {
    assert.deepStrictEqual(run({ counting: { minFrames: 30 } }, walkDown(150, 8, 20)).result.counts, { door: { in: 1, out: 0 } }); // completed at the end
    assert.throws(
      () => new CountingPipeline({ geometry: { lines: [{ name: 'door', start: [0, 0.5], end: [2, 0.5] }] } }),
      /lines\[0\]\.end x = 2 is outside 0\.\.1/,
    );
    assert.throws(() => new CountingPipeline({ geometry: LINES, counting: { minFrames: 0 } }), /minFrames/);
    assert.throws(() => new CountingPipeline({ geometry: LINES, tracker: { minHits: 0 } }), /minHits/);
  });

  it('with stations: per-station working + idle + absent = first to last frame', function () {
    const stations = {
      zones: [
        {
          name: 'walk',
          polygon: [
            [0.3, 0.2],
            [0.7, 0.2],
            [0.7, 0.9],
            [0.3, 0.9],
          ],
        },
        {
          name: 'corner',
          polygon: [
            [0, 0],
            [0.1, 0],
            [0.1, 0.1],
            [0, 0.1],
          ],
        },
      ],
    };
    const frames = [...walkDown(150, 2, 100), ...Array.from({ length: 50 }, () => [])];
    const { result } = run({ stations }, frames);
    assert.deepStrictEqual(Object.keys(result.stations), ['walk', 'corner']);
    const elapsedMs = (frames.length - 1) * DT;
    for (const [name, s] of Object.entries(result.stations)) {
      assert.strictEqual(Math.round(s.working_s * 1000) + Math.round(s.idle_s * 1000) + Math.round(s.absent_s * 1000), elapsedMs, name);
    }
    assert.ok(result.stations.walk.absent_s < result.stations.corner.absent_s);
    assert.strictEqual(result.stations.corner.absent_s * 1000, elapsedMs);
    assert.strictEqual(run({}, frames).result.stations, undefined);
  });

  it('refuses a step after finish, and never mutates the detections it is given', function () {
    const frames = walkDown(150, 8, 5);
    const copy = JSON.parse(JSON.stringify(frames));
    const { p } = run({}, frames);
    assert.deepStrictEqual(frames, copy);
    assert.throws(() => p.step([], 1000, W, H), /after finish/);
  });
});
