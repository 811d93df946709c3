'use strict';
// ReplayPacer: when a file replayed at full speed waits for the stages that read its pixels.
const assert = require('assert');
const { ReplayPacer } = require('../../dist/nodes/lib/video/replay-pacer.js');

const at = (entries) => new Map(Object.entries(entries));

describe('ReplayPacer', () => {
  it('never waits while no stage names itself as a reader', () => {
    const p = new ReplayPacer();
    assert.strictEqual(p.shouldWait(100, at({}), 0), false);
    assert.strictEqual(p.mayResume(100, at({}), 0), true);
  });

  it('waits for the slowest reader, not the fastest', () => {
    const p = new ReplayPacer({ maxAhead: 2 });
    // detect has read frame 5, a motion reading frame 9: frame 10 is 5 ahead of the slowest.
    assert.strictEqual(p.shouldWait(10, at({ detect: 5, motion: 9 }), 0), true);
    assert.strictEqual(p.shouldWait(7, at({ detect: 5, motion: 9 }), 1), false, 'two ahead is allowed');
    assert.strictEqual(p.mayResume(10, at({ detect: 8, motion: 10 }), 2), false);
    assert.strictEqual(p.mayResume(10, at({ detect: 9, motion: 10 }), 3), true, 'one behind: go on');
  });

  it('stops waiting for a reader that has not moved for giveUpMs, and waits again once it reads', () => {
    const p = new ReplayPacer({ maxAhead: 2, giveUpMs: 2000 });
    assert.strictEqual(p.shouldWait(10, at({ detect: 5 }), 0), true);
    assert.strictEqual(p.mayResume(10, at({ detect: 5 }), 1999), false, 'still within the give-up time');
    assert.strictEqual(p.mayResume(10, at({ detect: 5 }), 2001), true, 'stopped: not waited for');
    assert.strictEqual(p.shouldWait(50, at({ detect: 5 }), 3000), false, 'nor for later frames');
    assert.strictEqual(p.shouldWait(51, at({ detect: 6 }), 3100), true, 'it read again: waited for again');
  });

  it('a stopped reader does not hide a live one, and a forgotten reader is dropped', () => {
    const p = new ReplayPacer({ maxAhead: 2, giveUpMs: 1000 });
    p.slowest(at({ old: 1, detect: 20 }), 0);
    assert.strictEqual(p.slowest(at({ old: 1, detect: 30 }), 5000), 30, 'old stopped; detect moved');
    assert.strictEqual(p.slowest(at({ detect: 30, motion: 28 }), 5001), 28);
    assert.strictEqual(p.slowest(at({ detect: 31 }), 5002), 31, 'motion left the store: forgotten');
  });
});
