'use strict';
const assert = require('assert');
const { StatusThrottle, statusFor } = require('../../dist/nodes/lib/status.js');

describe('status convention', () => {
  it('maps states to fill and shape', () => {
    assert.deepStrictEqual(statusFor('running', 'ok'), { fill: 'green', shape: 'dot', text: 'ok' });
    assert.deepStrictEqual(statusFor('error', 'bad'), { fill: 'red', shape: 'ring', text: 'bad' });
    assert.strictEqual(statusFor('stopped', 'x'.repeat(100)).text.length, 60);
  });
  it('drops duplicates, limits routine updates to the interval, never holds back a state change', () => {
    const t = new StatusThrottle(1000);
    assert.ok(t.offer('running', '1 frames', 0));
    assert.strictEqual(t.offer('running', '1 frames', 10), null); // duplicate
    assert.strictEqual(t.offer('running', '2 frames', 500), null); // too soon: held
    assert.strictEqual(t.flush(900), null);
    assert.deepStrictEqual(t.flush(1000), { fill: 'green', shape: 'dot', text: '2 frames' });
    assert.ok(t.offer('error', 'camera lost', 1001)); // state change: at once
    assert.ok(t.offer('running', '3 frames', 1002));
  });
});

describe('status convention: forced statuses', () => {
  it('a forced status is the last one shown: a held-back routine one never paints over it, and the same routine text shows again after it', () => {
    const t = new StatusThrottle(1000);
    assert.ok(t.offer('running', '1 frames', 0));
    assert.strictEqual(t.offer('running', '2 frames', 100), null); // held
    assert.deepStrictEqual(t.shown('error', 'bad frame', 200), { fill: 'red', shape: 'ring', text: 'bad frame' });
    assert.strictEqual(t.flush(1500), null, 'the held one is gone');
    assert.deepStrictEqual(t.offer('running', '1 frames', 300), { fill: 'green', shape: 'dot', text: '1 frames' }, 'back to green at once');
  });
});
