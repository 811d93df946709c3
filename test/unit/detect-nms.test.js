'use strict';
const assert = require('assert');
const { nms } = require('../../dist/nodes/lib/detect/nms');

/** @param {[number[], number, number?][]} rows [box, score, classId] */
function cands(rows) {
  return { boxes: rows.flatMap((r) => r[0]), scores: rows.map((r) => r[1]), classIds: rows.map((r) => r[2] ?? 0) };
}

describe('detect NMS', () => {
  /** @type {[string, [number[], number, number?][], import('../../dist/nodes/lib/detect/nms').NmsOptions, number[]][]} */
  const cases = [
    ['no candidates', [], {}, []],
    ['one candidate', [[[0, 0, 10, 10], 0.5]], {}, [0]],
    [
      'keeps the best of two overlapping boxes',
      [
        [[0, 0, 10, 10], 0.5],
        [[1, 0, 11, 10], 0.9],
      ],
      {},
      [1],
    ],
    [
      'keeps both when the overlap is at most the threshold (IoU exactly 0.5 is kept at 0.5)',
      [
        [[0, 0, 10, 10], 0.9],
        [[0, 0, 10, 5], 0.8],
      ],
      { iouThreshold: 0.5 },
      [0, 1],
    ],
    [
      'drops when the overlap is above the threshold',
      [
        [[0, 0, 10, 10], 0.9],
        [[0, 0, 10, 5.1], 0.8],
      ],
      { iouThreshold: 0.5 },
      [0],
    ],
    [
      'identical boxes with equal scores keep the first',
      [
        [[0, 0, 10, 10], 0.7],
        [[0, 0, 10, 10], 0.7],
      ],
      {},
      [0],
    ],
    [
      'class-aware: a person and a forklift in the same place are both kept',
      [
        [[0, 0, 10, 10], 0.9, 0],
        [[0, 0, 10, 10], 0.8, 7],
      ],
      {},
      [0, 1],
    ],
    [
      'class-agnostic suppresses across classes',
      [
        [[0, 0, 10, 10], 0.9, 0],
        [[0, 0, 10, 10], 0.8, 7],
      ],
      { classAgnostic: true },
      [0],
    ],
    [
      'a suppressed box does not suppress others (chain)',
      [
        [[0, 0, 10, 10], 0.9],
        [[4, 0, 14, 10], 0.8],
        [[8, 0, 18, 10], 0.7],
      ],
      { iouThreshold: 0.3 },
      [0, 2],
    ],
    [
      'zero-area boxes never suppress',
      [
        [[5, 5, 5, 5], 0.9],
        [[0, 0, 10, 10], 0.8],
      ],
      {},
      [0, 1],
    ],
    [
      'touching boxes do not overlap',
      [
        [[0, 0, 10, 10], 0.9],
        [[10, 0, 20, 10], 0.8],
      ],
      {},
      [0, 1],
    ],
    [
      'caps at maxDetections, best first',
      [
        [[0, 0, 1, 1], 0.1],
        [[5, 5, 6, 6], 0.9],
        [[9, 9, 10, 10], 0.5],
      ],
      { maxDetections: 2 },
      [1, 2],
    ],
    [
      'threshold 0 drops any overlap',
      [
        [[0, 0, 10, 10], 0.9],
        [[9, 9, 20, 20], 0.8],
      ],
      { iouThreshold: 0 },
      [0],
    ],
    [
      'threshold 1 keeps even identical boxes',
      [
        [[0, 0, 10, 10], 0.9],
        [[0, 0, 10, 10], 0.8],
      ],
      { iouThreshold: 1 },
      [0, 1],
    ],
  ];
  for (const [name, rows, opts, want] of cases) {
    it(name, () => assert.deepStrictEqual(nms(cands(rows), opts), want));
  }

  it('does not modify the candidates', () => {
    const c = cands([
      [[0, 0, 10, 10], 0.5],
      [[1, 0, 11, 10], 0.9],
    ]);
    const copy = JSON.parse(JSON.stringify(c));
    nms(c);
    assert.deepStrictEqual(c, copy);
  });

  it('rejects bad options with a reason', () => {
    assert.throws(() => nms(cands([]), { iouThreshold: 1.5 }), /iouThreshold/);
    assert.throws(() => nms(cands([]), { maxDetections: 0 }), /maxDetections/);
  });
});
