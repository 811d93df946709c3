'use strict';
// parseMotTracks: a MOT file as per-frame tracked detections, on the one MOT parser (mot/io).
const assert = require('assert');
const { parseMotTracks } = require('../../dist/nodes/lib/eval');

describe('parseMotTracks', function () {
  const text = ['1,7,10,20,30,40,0.9,-1,-1,-1', '3,8,0,0,10,10,0,-1,-1,-1', '3,7,12,20,30,40,2,-1,-1,-1', ''].join('\n');

  it('groups rows by frame as confirmed person tracks, frames without rows empty', function () {
    const f = parseMotTracks(text);
    assert.strictEqual(f.lastFrame, 3);
    assert.strictEqual(f.rows, 3);
    assert.deepStrictEqual(
      f.frames.map((d) => d.length),
      [0, 1, 0, 2],
    );
    assert.deepStrictEqual(f.frames[1][0], { box: [10, 20, 40, 60], score: 0.9, classId: 0, label: 'person', trackId: 7, trackState: 'confirmed' });
    // Column 7 is a score only when positive, and never above 1.
    assert.deepStrictEqual(
      f.frames[3].map((d) => d.score),
      [1, 1],
    );
  });

  it('with gt, drops rows flagged 0 (ignore)', function () {
    const f = parseMotTracks(text, { gt: true });
    assert.strictEqual(f.rows, 2);
    assert.deepStrictEqual(
      f.frames[3].map((d) => d.trackId),
      [7],
    );
  });

  it('names the line of a bad row', function () {
    assert.throws(() => parseMotTracks('1,1,0,0,1,1\n0,1,0,0,1,1'), /line 2: frame must be a whole number ≥ 1, got 0/);
    assert.throws(() => parseMotTracks('1,1,0,0,1'), /line 1: expected frame,id/);
  });
});
