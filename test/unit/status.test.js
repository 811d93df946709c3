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
