'use strict';
// RateMeter: frames delivered over a window of wall time. Times are passed in, so every case is exact.
const assert = require('assert');
const { RateMeter } = require('../../dist/nodes/lib/rate-meter.js');

/** Ticks every `periodMs` from `from` for `n` frames; returns the last tick time. */
function feed(m, from, periodMs, n) {
  let t = from;
  for (let i = 0; i < n; i++) {
    t = from + i * periodMs;
    m.tick(t);
  }
  return t;
}

describe('RateMeter', () => {
  /** @type {[string, number, number, number, number, number][]} */
  const table = [
    // name, window, period ms, frames, read at (ms after the last tick), expected fps
    ['7 fps steady, window full', 5000, 1000 / 7, 70, 0, 7],
    ['7 fps just after the first frames (no inflated start)', 5000, 1000 / 7, 3, 0, 7],
    ['25 fps steady', 5000, 40, 300, 0, 25],
    ['2 fps in a 5 s window', 5000, 500, 40, 0, 2],
    ['one frame: no rate yet', 5000, 100, 1, 0, 0],
    ['a stalled source falls to 0 after a whole window', 5000, 100, 100, 5001, 0],
  ];
  for (const [name, windowMs, period, n, after, want] of table) {
    it(name, () => {
      const m = new RateMeter({ windowMs });
      const last = feed(m, 1000, period, n);
      assert.ok(Math.abs(m.rate(last + after) - want) < 0.21, `${m.rate(last + after)} vs ${want}`);
    });
  }

  it('a burst then a slow rate: after one window the figure is the new rate, not an average of gaps', () => {
    const m = new RateMeter({ windowMs: 5000 });
    const end = feed(m, 0, 5, 200); // 200 frames in 1 s (a full-speed start)
    const last = feed(m, end + 200, 200, 50); // then 5 fps for 10 s
    assert.ok(Math.abs(m.rate(last) - 5) < 0.21, String(m.rate(last)));
  });

  it('reset forgets the old frames (a restarted source)', () => {
    const m = new RateMeter();
    feed(m, 0, 10, 500);
    m.reset();
    assert.strictEqual(m.rate(6000), 0);
    const last = feed(m, 6000, 250, 9);
    assert.ok(Math.abs(m.rate(last) - 4) < 1e-9, String(m.rate(last)));
  });

  it('holds only a window of frames however long it runs', () => {
    const m = new RateMeter({ windowMs: 1000 });
    feed(m, 0, 1, 100000);
    const inside = /** @type {any} */ (m); // its private ring of times, read on purpose
    assert.ok(inside.times.length - inside.head <= 1001 && inside.times.length < 3000, `${inside.times.length} held`);
  });

  it('refuses a window that is not a positive number', () => {
    for (const w of [0, -1, NaN, Infinity]) assert.throws(() => new RateMeter({ windowMs: w }), /windowMs must be a number > 0/);
  });
});
