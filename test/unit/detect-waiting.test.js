'use strict';
// DetectQueue: camera frames newest-wins per camera (or a few in order for a paced replay), images queued per topic in arrival order up to
// a bound, taken earliest-arrival first once decoded. Each case is a script of steps on a queue of
// perTopic 2; a job is its name.
const assert = require('assert');
const { DetectQueue } = require('../../dist/nodes/lib/detect/waiting');

// Steps:
//   ['frame', camera, job, replaced?, keep?]  offerFrame; expects the jobs it replaced (none, one or a list)
//   ['image', topic, job]               offerImage; expects a ticket
//   ['full', topic, job]                offerImage; expects a refusal
//   ['ready', job, ok?]                 ready(ticket of job); expects ok (default true)
//   ['remove', job, ok?]                remove(ticket of job); expects ok (default true)
//   ['take', max, [jobs]]               take(max); expects these jobs
//   ['size', n]  ['waiting', topic, n]  ['drain', [jobs]]
/** @type {[string, any[][]][]} a script of steps, each an operation and its operands */
const cases = [
  [
    'newest frame wins per camera',
    [
      ['frame', 'A', 'a1'],
      ['frame', 'A', 'a2', 'a1'],
      ['frame', 'B', 'b1'],
      ['size', 2],
      ['take', 5, ['a2', 'b1']],
      ['size', 0],
      ['take', 5, []],
    ],
  ],
  [
    'a replaced frame takes the later arrival: earlier cameras go first',
    [
      ['frame', 'A', 'a1'],
      ['frame', 'B', 'b1'],
      ['frame', 'A', 'a2', 'a1'],
      ['take', 1, ['b1']],
      ['take', 1, ['a2']],
    ],
  ],
  [
    'a paced camera keeps up to `keep` frames in order; beyond, the oldest goes',
    [
      ['frame', 'A', 'a1', undefined, 3],
      ['frame', 'A', 'a2', undefined, 3],
      ['frame', 'B', 'b1'],
      ['frame', 'A', 'a3', undefined, 3],
      ['frame', 'A', 'a4', 'a1', 3],
      ['size', 4],
      ['take', 2, ['a2', 'b1']],
      ['take', 5, ['a3', 'a4']],
      ['size', 0],
    ],
  ],
  [
    'frames of a paced camera and images interleave by arrival',
    [
      ['frame', 'A', 'a1', undefined, 6],
      ['image', 'T', 'i1'],
      ['frame', 'A', 'a2', undefined, 6],
      ['ready', 'i1'],
      ['drain', ['a1', 'i1', 'a2']],
    ],
  ],
  [
    'images are kept in arrival order, none replaced',
    [
      ['image', 'T', 'i1'],
      ['image', 'T', 'i2'],
      ['ready', 'i1'],
      ['ready', 'i2'],
      ['take', 5, ['i1', 'i2']],
    ],
  ],
  [
    'an image is not taken before it is ready',
    [
      ['image', 'T', 'i1'],
      ['take', 5, []],
      ['ready', 'i1'],
      ['take', 5, ['i1']],
    ],
  ],
  [
    'an undecoded image holds back the later ones of its topic',
    [
      ['image', 'T', 'i1'],
      ['image', 'T', 'i2'],
      ['ready', 'i2'],
      ['take', 5, []],
      ['ready', 'i1'],
      ['take', 5, ['i1', 'i2']],
    ],
  ],
  [
    '... but not other topics nor cameras',
    [
      ['image', 'T', 't1'],
      ['image', 'U', 'u1'],
      ['frame', 'A', 'a1'],
      ['ready', 'u1'],
      ['take', 5, ['u1', 'a1']],
      ['size', 1],
    ],
  ],
  [
    'the bound is per topic; refused beyond it, room again once one is taken',
    [
      ['image', 'T', 'i1'],
      ['image', 'T', 'i2'],
      ['full', 'T', 'i3'],
      ['image', 'U', 'u1'],
      ['waiting', 'T', 2],
      ['ready', 'i1'],
      ['take', 1, ['i1']],
      ['waiting', 'T', 1],
      ['image', 'T', 'i4'],
      ['waiting', 'T', 2],
    ],
  ],
  [
    'undecoded images count against the bound',
    [
      ['image', 'T', 'i1'],
      ['image', 'T', 'i2'],
      ['full', 'T', 'i3'],
    ],
  ],
  [
    'camera frames never count against the bound, even on the same name',
    [
      ['frame', 'T', 'f1'],
      ['frame', 'T', 'f2', 'f1'],
      ['image', 'T', 'i1'],
      ['image', 'T', 'i2'],
      ['ready', 'i1'],
      ['ready', 'i2'],
      ['take', 5, ['f2', 'i1', 'i2']],
    ],
  ],
  [
    'earliest arrival first across frames and images; take stops at max',
    [
      ['image', 'T', 'i1'],
      ['frame', 'A', 'a1'],
      ['image', 'T', 'i2'],
      ['frame', 'B', 'b1'],
      ['ready', 'i1'],
      ['ready', 'i2'],
      ['take', 2, ['i1', 'a1']],
      ['take', 2, ['i2', 'b1']],
    ],
  ],
  [
    'a removed (undecodable) image frees its place and unblocks the next',
    [
      ['image', 'T', 'i1'],
      ['image', 'T', 'i2'],
      ['ready', 'i2'],
      ['remove', 'i1'],
      ['waiting', 'T', 1],
      ['take', 5, ['i2']],
      ['remove', 'i1', false],
    ],
  ],
  [
    'drain hands back everything in arrival order, decoded or not; tickets are dead afterwards',
    [
      ['frame', 'A', 'a1'],
      ['image', 'T', 'i1'],
      ['image', 'U', 'u1'],
      ['ready', 'u1'],
      ['frame', 'A', 'a2', 'a1'],
      ['drain', ['i1', 'u1', 'a2']],
      ['size', 0],
      ['ready', 'i1', false],
      ['remove', 'u1', false],
      ['take', 5, []],
    ],
  ],
];

describe('detect waiting queue (frames newest-wins, images queued)', () => {
  for (const [name, steps] of cases) {
    it(name, () => {
      const q = new DetectQueue(2);
      const tickets = new Map();
      steps.forEach((s, i) => {
        const at = `step ${i} ${JSON.stringify(s)}`;
        switch (s[0]) {
          case 'frame':
            assert.deepStrictEqual(q.offerFrame(s[1], s[2], s[4]), s[3] === undefined ? [] : [].concat(s[3]), at);
            break;
          case 'image': {
            const t = q.offerImage(s[1], s[2]);
            assert.ok(t, at);
            tickets.set(s[2], t);
            break;
          }
          case 'full':
            assert.strictEqual(q.offerImage(s[1], s[2]), undefined, at);
            break;
          case 'ready':
            assert.strictEqual(q.ready(tickets.get(s[1])), s[2] ?? true, at);
            break;
          case 'remove':
            assert.strictEqual(q.remove(tickets.get(s[1])), s[2] ?? true, at);
            break;
          case 'take':
            assert.deepStrictEqual(q.take(s[1]), s[2], at);
            break;
          case 'size':
            assert.strictEqual(q.size, s[1], at);
            break;
          case 'waiting':
            assert.strictEqual(q.imagesWaiting(s[1]), s[2], at);
            break;
          case 'drain':
            assert.deepStrictEqual(q.drain(), s[1], at);
            break;
          default:
            throw new Error(`unknown step ${s[0]}`);
        }
      });
    });
  }

  it('forgets a topic once its queue is empty (no per-topic state grows in a 24/7 plant)', () => {
    const q = new DetectQueue(1);
    for (let i = 0; i < 1000; i++) {
      const t = q.offerImage(`topic-${i}`, i);
      q.ready(t);
      assert.deepStrictEqual(q.take(1), [i]);
    }
    const inside = /** @type {any} */ (q); // its private per-topic maps, read on purpose
    assert.strictEqual(inside.images.size, 0);
    assert.strictEqual(inside.frames.size, 0);
  });

  it('rejects a bound that is not a whole number ≥ 1', () => {
    for (const bad of [0, -1, 1.5, NaN]) assert.throws(() => new DetectQueue(bad), /whole number ≥ 1/);
    assert.throws(() => new DetectQueue(1, 0), /cameras waiting must be a whole number ≥ 1/);
  });

  it('20 000 distinct cameras while the model is busy: at most maxTopics wait, each one beyond pushes out the longest-waiting', () => {
    const q = new DetectQueue(1, 3);
    const pushedOut = [];
    for (let i = 0; i < 20000; i++) {
      pushedOut.push(...q.offerFrame(`cam-${i}`, i));
      assert.ok(q.size <= 3);
    }
    assert.strictEqual(pushedOut.length, 20000 - 3);
    assert.deepStrictEqual(pushedOut.slice(0, 3), [0, 1, 2], 'oldest first');
    assert.deepStrictEqual(q.take(10), [19997, 19998, 19999]);
  });

  it('images of a topic beyond maxTopics are refused; room again once a topic is done', () => {
    const q = new DetectQueue(4, 2);
    const a1 = q.offerImage('a', 1);
    assert.ok(q.offerImage('b', 2));
    assert.strictEqual(q.offerImage('c', 3), undefined);
    assert.strictEqual(q.imageTopics, 2);
    const a4 = q.offerImage('a', 4);
    assert.ok(a4, 'a topic already waiting takes more, up to perTopic');
    q.ready(a1);
    assert.deepStrictEqual(q.take(1), [1]);
    assert.strictEqual(q.offerImage('c', 5), undefined, 'a still waits');
    q.remove(a4);
    assert.ok(q.offerImage('c', 6), 'a is done: room for c');
  });
});
