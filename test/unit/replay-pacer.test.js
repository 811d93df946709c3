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
    p.slowest(at({ detect: 3 }), -80);
    p.slowest(at({ detect: 4 }), -40); // a fast reader: 40 ms a frame
    assert.strictEqual(p.shouldWait(10, at({ detect: 5 }), 0), true);
    assert.strictEqual(p.mayResume(10, at({ detect: 5 }), 1999), false, 'still within the give-up time');
    assert.strictEqual(p.mayResume(10, at({ detect: 5 }), 2001), true, 'stopped: not waited for');
    assert.strictEqual(p.shouldWait(50, at({ detect: 5 }), 3000), false, 'nor for later frames');
    assert.strictEqual(p.shouldWait(51, at({ detect: 6 }), 3100), true, 'it read again: waited for again');
  });

  it('waits for a slow reader (seconds a frame) as long as four of its steps, not taking it for a stopped one', () => {
    const p = new ReplayPacer({ maxAhead: 2, giveUpMs: 2000 });
    // A large model on a small CPU: detect reads a frame every 3 s.
    for (let i = 0; i <= 5; i++) p.slowest(at({ detect: i }), i * 3000);
    assert.strictEqual(p.shouldWait(10, at({ detect: 5 }), 15000 + 2500), true, 'past giveUpMs, yet it is only slow');
    assert.strictEqual(p.mayResume(10, at({ detect: 5 }), 15000 + 11900), false, 'still within 4 × 3 s');
    assert.strictEqual(p.mayResume(10, at({ detect: 5 }), 15000 + 12100), true, 'silent for over 4 steps: stopped');
    // It reads again 13.1 s later: waited for again, and that stop is not taken for its pace
    // (learned, it would stretch the next give-up to 4 × 6 s).
    assert.strictEqual(p.shouldWait(12, at({ detect: 6 }), 28100), true, 'back: waited for again');
    assert.strictEqual(p.mayResume(12, at({ detect: 6 }), 28100 + 11900), false);
    assert.strictEqual(p.mayResume(12, at({ detect: 6 }), 28100 + 12100), true, 'still 4 × 3 s');
  });

  it('a fast reader is not waited for longer after a slow start, once it has read a few frames fast', () => {
    const p = new ReplayPacer({ maxAhead: 2, giveUpMs: 2000 });
    p.slowest(at({ detect: 0 }), 0);
    p.slowest(at({ detect: 1 }), 5000); // first inference: model warm-up
    let t = 5000;
    for (let i = 2; i < 20; i++) p.slowest(at({ detect: i }), (t += 40));
    assert.strictEqual(p.mayResume(30, at({ detect: 19 }), t + 2100), true, 'back to the 2 s give-up');
  });

  it('waits firstStepGiveUpMs for a reader that has read one frame (its pace is not known yet)', () => {
    const p = new ReplayPacer({ maxAhead: 2, giveUpMs: 2000, firstStepGiveUpMs: 10000 });
    assert.strictEqual(p.shouldWait(10, at({ detect: 0 }), 0), true);
    assert.strictEqual(p.mayResume(10, at({ detect: 0 }), 9900), false, 'a slow detector between its first and second frame');
    assert.strictEqual(p.mayResume(10, at({ detect: 0 }), 10100), true);
  });

  it('a reader that gets only some frames (filtered before it) is not taken for a slow one', () => {
    // It reads frame 0, then nothing until the replay gives up on it and runs on; its next read is
    // frame 50. That long step is starvation, not its pace: the give-up stays 2 s, not 4 × 10 s.
    const p = new ReplayPacer({ maxAhead: 2, giveUpMs: 2000, firstStepGiveUpMs: 10000 });
    p.slowest(at({ motion: 0 }), 0);
    assert.strictEqual(p.mayResume(3, at({ motion: 0 }), 10100), true, 'first-step give-up');
    assert.strictEqual(p.shouldWait(53, at({ motion: 50 }), 10500), true);
    assert.strictEqual(p.mayResume(53, at({ motion: 50 }), 10500 + 2100), true, 'after 2 s, as for any stage');
  });

  it('never waits longer than maxGiveUpMs', () => {
    const p = new ReplayPacer({ maxAhead: 2, giveUpMs: 2000, maxGiveUpMs: 10000 });
    p.slowest(at({ detect: 0 }), 0);
    p.slowest(at({ detect: 1 }), 30000);
    assert.strictEqual(p.mayResume(10, at({ detect: 1 }), 30000 + 9900), false);
    assert.strictEqual(p.mayResume(10, at({ detect: 1 }), 30000 + 10100), true);
  });

  it('a stopped reader does not hide a live one, and a forgotten reader is dropped', () => {
    const p = new ReplayPacer({ maxAhead: 2, giveUpMs: 1000, firstStepGiveUpMs: 1000 });
    p.slowest(at({ old: 1, detect: 20 }), 0);
    assert.strictEqual(p.slowest(at({ old: 1, detect: 30 }), 5000), 30, 'old stopped; detect moved');
    assert.strictEqual(p.slowest(at({ detect: 30, motion: 28 }), 5001), 28);
    assert.strictEqual(p.slowest(at({ detect: 31 }), 5002), 31, 'motion left the store: forgotten');
  });
});
