'use strict';
// The line-crossing kernel alone (one track × one line), without a Counter: each rule as a table.
const assert = require('assert');
const K = require('../../dist/nodes/lib/counting/line-crossing.js');
/** @typedef {import('../../dist/nodes/lib/types').Point} Point */
/** @typedef {import('../../dist/nodes/lib/counting/line-crossing').CrossingRules} CrossingRules */
/** @typedef {import('../../dist/nodes/lib/counting/config').Direction} Direction */
/** @typedef {import('../../dist/nodes/lib/counting/config').DirectionLimit} DirectionLimit */

// A horizontal segment across the middle of a 100 × 100 frame, drawn left to right: moving down is "in".
const LINE = K.pixelLine({ name: 'door', start: [0.1, 0.5], end: [0.9, 0.5], directions: 'both', classes: [] }, 100, 100);
/** @type {CrossingRules} */
const RULES = { minDistance: 0.05, minFrames: 2, mode: 'once', cooldownS: 1 };

/**
 * Walks an anchor through `points` (100 ms apart, box 20 px tall: a 1 px dead band); what each settle said.
 * @param {Point[]} points
 */
function walk(points, rules = RULES, onBridge = false) {
  const st = K.newLineCrossingState();
  const out = [];
  /** @type {Point | undefined} */
  let prev;
  points.forEach((cur, i) => {
    if (K.stepLine(st, LINE, { prev, cur, boxH: 20, tMs: i * 100, onBridge }, rules)) {
      const streakMs = st.streakMs;
      const s = K.settle(st);
      out.push(s ? `${s.dir}${s.bridged ? ' bridged' : ''} from ${streakMs}` : 'beside');
    }
    prev = cur;
  });
  return out;
}

describe('counting: the line-crossing kernel', () => {
  it('puts the segment in pixels', () => {
    assert.deepStrictEqual(LINE, { a: [10, 50], b: [90, 50], len: 80 });
  });

  /** @type {[string, Point[], CrossingRules, string[]][]} */
  const cases = [
    // [what, points, rules, expected settles]
    [
      'a clean crossing down is "in", timed when the anchor got past the band',
      [
        [50, 40],
        [50, 45],
        [50, 55],
        [50, 60],
      ],
      RULES,
      ['in from 200'],
    ],
    [
      'a clean crossing up is "out"',
      [
        [50, 60],
        [50, 55],
        [50, 45],
        [50, 40],
      ],
      RULES,
      ['out from 200'],
    ],
    [
      'hysteresis: one frame past the band and back is no crossing',
      [
        [50, 40],
        [50, 55],
        [50, 45],
        [50, 40],
      ],
      RULES,
      [],
    ],
    [
      'dead band: jitter within it never changes the side',
      [
        [50, 40],
        [50, 49.5],
        [50, 50.5],
        [50, 50.9],
        [50, 49.2],
        [50, 50.8],
      ],
      RULES,
      [],
    ],
    [
      'a frame inside the band does not break the streak',
      [
        [50, 40],
        [50, 55],
        [50, 50.5],
        [50, 56],
      ],
      RULES,
      ['in from 100'],
    ],
    [
      'minFrames 1: the first frame past the band settles',
      [
        [50, 40],
        [50, 60],
      ],
      { ...RULES, minFrames: 1 },
      ['in from 100'],
    ],
    [
      'finite segment: passing beside it changes the side, counts nothing',
      [
        [95, 40],
        [95, 55],
        [95, 60],
      ],
      RULES,
      ['beside'],
    ],
    [
      'no side before the first frame: starting past the line is no crossing',
      [
        [50, 60],
        [50, 65],
        [50, 70],
      ],
      RULES,
      [],
    ],
    [
      'there and back: two crossings, one each way',
      [
        [50, 40],
        [50, 55],
        [50, 60],
        [50, 45],
        [50, 40],
      ],
      RULES,
      ['in from 100', 'out from 300'],
    ],
  ];
  for (const [what, points, rules, want] of cases) {
    it(what, () => assert.deepStrictEqual(walk(points, rules), want));
  }

  it('a crossing point found on a re-link bridge is marked, and the mark is used once', () => {
    assert.deepStrictEqual(
      walk(
        [
          [50, 40],
          [50, 55],
          [50, 60],
        ],
        RULES,
        true,
      ),
      ['in bridged from 100'],
    );
    const st = K.newLineCrossingState();
    K.stepLine(st, LINE, { prev: undefined, cur: [50, 40], boxH: 20, tMs: 0, onBridge: false }, RULES);
    K.stepLine(st, LINE, { prev: [50, 40], cur: [50, 60], boxH: 20, tMs: 100, onBridge: true }, RULES);
    assert.strictEqual(K.stepLine(st, LINE, { prev: [50, 60], cur: [50, 61], boxH: 20, tMs: 200, onBridge: false }, RULES), true);
    assert.deepStrictEqual(K.settle(st), { dir: 'in', bridged: true });
    assert.strictEqual(st.bridged, false);
    assert.ok(Number.isNaN(st.crossT));
  });

  /** @type {[string, CrossingRules, [Direction, number][], boolean[]][]} */
  const counting = [
    // [what, rules, [dir, tMs][] tried in order, expected answers]
    [
      'once per track: a second "in" never counts, an "out" still does',
      { ...RULES, cooldownS: 0 },
      [
        ['in', 0],
        ['in', 60000],
        ['out', 60000],
      ],
      [true, false, true],
    ],
    [
      'every: each crossing counts once the cooldown is over',
      { ...RULES, mode: 'every' },
      [
        ['in', 0],
        ['in', 500],
        ['in', 1000],
        ['out', 1500],
      ],
      [true, false, true, false],
    ],
    [
      'cooldown 0 in mode every: back to back crossings count',
      { ...RULES, mode: 'every', cooldownS: 0 },
      [
        ['in', 0],
        ['out', 0],
        ['in', 0],
      ],
      [true, true, true],
    ],
  ];
  for (const [what, rules, tries, want] of counting) {
    it(what, () => {
      const st = K.newLineCrossingState();
      assert.deepStrictEqual(
        tries.map(([dir, t]) => K.tryCount(st, dir, t, rules)),
        want,
      );
    });
  }

  /** @type {[DirectionLimit, (string | number)[], Direction, string, number, boolean][]} */
  const accepts = [
    // [directions, classes, dir, label, classId, expected]
    ['both', [], 'out', 'person', 0, true],
    ['in', [], 'in', 'person', 0, true],
    ['in', [], 'out', 'person', 0, false],
    ['both', ['person'], 'in', 'car', 2, false],
    ['both', ['person'], 'in', 'person', 0, true],
    ['both', [2], 'in', 'car', 2, true],
  ];
  for (const [directions, classes, dir, label, classId, want] of accepts) {
    it(`a line for ${directions} / [${classes}] ${want ? 'counts' : 'ignores'} ${dir} of ${label} (${classId})`, () => {
      assert.strictEqual(K.lineAccepts({ name: 'l', start: [0, 0], end: [1, 1], directions, classes }, dir, label, classId), want);
    });
  }
});
