'use strict';
// Motion-gated detection: the gate's decisions, the outbox that keeps a camera's frames in order, and
// the tracker carrying its tracks through skipped frames on their Kalman prediction.
const assert = require('assert');
const { MotionGate, SkipOutbox, resolveMotionOptions, thumbnail } = require('../../dist/nodes/lib/detect/motion.js');
const { Tracker } = require('../../dist/nodes/lib/tracking/tracker.js');
const { coastedDetections } = require('../../dist/nodes/lib/tracking/annotate.js');

const W = 320;
const H = 240;
/** A grey frame with a white w×h block at (x, y). */
function frame(x, y, w = 40, h = 80, bg = 60) {
  const d = new Uint8Array(W * H * 3).fill(bg);
  for (let j = y; j < Math.min(H, y + h); j++) for (let i = x; i < Math.min(W, x + w); i++) d.fill(250, (j * W + i) * 3, (j * W + i) * 3 + 3);
  return d;
}

describe('MotionGate', () => {
  it('detects the first frame, skips still ones, detects motion and re-detects after maxSkipS', () => {
    const g = new MotionGate({ maxSkipS: 1 });
    const still = frame(100, 100);
    /** @type {Array<[Uint8Array, number, boolean, string]>} */
    const table = [
      // [pixels, tMs, detect, reason]
      [still, 0, true, 'first'],
      [still, 100, false, 'still'],
      [frame(100, 100), 200, false, 'still'],
      [frame(130, 100), 300, true, 'motion'],
      [frame(130, 100), 400, false, 'still'],
      [frame(130, 100), 1299, false, 'still'],
      [frame(130, 100), 1300, true, 'max-skip'],
    ];
    for (const [px, t, detect, reason] of table) {
      const d = g.decide(px, W, H, t);
      assert.deepStrictEqual([t, d.detect, d.reason], [t, detect, reason]);
    }
    assert.deepStrictEqual(g.stats(), { detected: 3, skipped: 4 });
  });

  it('compares with the last detected frame, so a slow change adds up until it is seen', () => {
    const g = new MotionGate({ maxSkipS: 100, threshold: 12 });
    g.decide(frame(100, 100, 40, 80, 60), W, H, 0);
    // The whole picture brightens by 3 grey levels a frame: never 12 between neighbours, but 15
    // against the detected frame after five.
    const out = [];
    for (let k = 1; k <= 6; k++) out.push(g.decide(frame(100, 100, 40, 80, 60 + 3 * k), W, H, k * 100).detect);
    assert.deepStrictEqual(out, [false, false, false, false, true, false]);
  });

  it('when the count of objects changes, the next confirmFrames frames are detected so new tracks confirm', () => {
    const g = new MotionGate({ confirmFrames: 2, maxSkipS: 100 });
    const px = frame(100, 100);
    assert.strictEqual(g.decide(px, W, H, 0).reason, 'first');
    g.found(3); // new: 3 objects where there were none known
    assert.deepStrictEqual(
      [100, 200, 300].map((t) => g.decide(px, W, H, t).reason),
      ['confirm', 'confirm', 'still'],
    );
    g.found(3); // the same count again: nothing new
    assert.strictEqual(g.decide(px, W, H, 400).reason, 'still');
    g.found(2);
    assert.strictEqual(g.decide(px, W, H, 500).reason, 'confirm');
  });

  it('a change of frame size or time going back starts again', () => {
    const g = new MotionGate();
    g.decide(frame(0, 0), W, H, 1000);
    assert.strictEqual(g.decide(new Uint8Array(10 * 10 * 3), 10, 10, 1100).reason, 'first');
    assert.strictEqual(g.decide(new Uint8Array(10 * 10 * 3), 10, 10, 500).reason, 'first');
  });

  it('thumbnail: bgr24 and gray8 read the same luma as rgb24', () => {
    const rgb = new Uint8Array([200, 100, 50]);
    const bgr = new Uint8Array([50, 100, 200]);
    const out = new Uint8Array(1);
    assert.strictEqual(thumbnail(rgb, 1, 1, 'rgb24', 1, 1, out)[0], thumbnail(bgr, 1, 1, 'bgr24', 1, 1, new Uint8Array(1))[0]);
    assert.strictEqual(thumbnail(new Uint8Array([77]), 1, 1, 'gray8', 1, 1, out)[0], 77);
    assert.throws(() => thumbnail(new Uint8Array(2), 1, 1, 'rgb24', 1, 1, out), /not a 1×1 rgb24 frame/);
  });

  it('options are checked by name and range', () => {
    assert.throws(() => resolveMotionOptions({ minArea: 2 }), /minArea must be a number from 0 to 1, got 2/);
    assert.throws(() => resolveMotionOptions({ cells: 3.5 }), /cells must be a whole number/);
    assert.throws(() => resolveMotionOptions(/** @type {any} */ ({ speed: 1 })), /unknown motion option speed/);
    assert.strictEqual(resolveMotionOptions({ maxSkipS: undefined }).maxSkipS, 1);
  });
});

describe('SkipOutbox', () => {
  it('a still frame leaves at once only when nothing of its camera is in the detector', () => {
    const o = new SkipOutbox();
    assert.deepStrictEqual(o.still('a', 's1'), { now: true });
    o.queued('a');
    o.queued('a');
    assert.deepStrictEqual(o.still('a', 's2'), { now: false, replaced: undefined });
    assert.deepStrictEqual(o.still('a', 's3'), { now: false, replaced: 's2' }, 'newest still frame wins');
    assert.deepStrictEqual(o.still('b', 'x'), { now: true }, 'other cameras are not held');
    assert.strictEqual(o.finished('a'), undefined, 'one frame is still ahead');
    assert.strictEqual(o.finished('a'), 's3');
    o.queued('a');
    o.still('a', 's4');
    assert.strictEqual(o.supersede('a'), 's4', 'a newer detected frame supersedes it');
    assert.strictEqual(o.finished('a'), undefined);
  });
});

describe('Tracker.coast', () => {
  /** @returns {import('../../dist/nodes/lib/types').Detection} */
  const det = (x) => ({ box: [x, 10, x + 20, 60], score: 0.9, classId: 0, label: 'person' });
  it('carries confirmed tracks on their prediction without matching, missing or ending anything', () => {
    const tr = new Tracker({ minHits: 2, lostBufferS: 0.5 });
    for (let k = 0; k < 5; k++) tr.update([det(10 + 10 * k)], k * 100); // 100 px/s to the right
    const before = tr.stats();
    const coasted = tr.coast(500);
    assert.deepStrictEqual(tr.stats(), before, 'no state changes');
    const d = coastedDetections(coasted);
    assert.strictEqual(d.length, 1);
    assert.strictEqual(d[0].predicted, true);
    assert.ok(Math.abs(d[0].box[0] - 60) < 3, `predicted x1 ${d[0].box[0]} ≈ 60`);
    // Far past the lost buffer in coasted frames, and the track is matched again: still the same id.
    for (let t = 600; t <= 2000; t += 100) tr.coast(t);
    const u = tr.update([det(10 + 10 * 20)], 2100);
    assert.strictEqual(u.tracks.length, 1);
    assert.strictEqual(u.tracks[0].trackId, coasted[0].trackId);
    assert.throws(() => tr.coast(1000), /backwards/);
  });
});

describe('motion gating and frame size in the editor config', () => {
  const { readDetectConfig } = require('../../dist/nodes/detect/config.js');
  const { readCameraSourceConfig } = require('../../dist/nodes/camera-source/config.js');
  it('detect: off by default; on, the fields are read and checked by the engine', () => {
    assert.strictEqual(readDetectConfig({}).motion, null);
    assert.deepStrictEqual(readDetectConfig({ motionGate: true, motionThreshold: '20', motionMinArea: '0.01', motionMaxSkipS: '' }).motion, {
      cells: 64,
      threshold: 20,
      minArea: 0.01,
      maxSkipS: 1,
      confirmFrames: 1,
    });
    assert.throws(() => readDetectConfig({ motionGate: 'true', motionThreshold: 300 }), /motion option threshold must be a number from 1 to 255, got 300/);
    assert.throws(() => readDetectConfig({ motionGate: true, motionMaxSkipS: 'soon' }), /detect at least every/);
  });
  it('camera-source: frame size as the camera sends it unless asked to follow the readers', () => {
    assert.strictEqual(readCameraSourceConfig({ url: 'x' }).frameSize, 'source');
    assert.strictEqual(readCameraSourceConfig({ url: 'x', frameSize: 'readers' }).frameSize, 'readers');
    assert.throws(() => readCameraSourceConfig({ url: 'x', frameSize: 'tiny' }), /frame size/);
  });
});
