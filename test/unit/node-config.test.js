'use strict';
// The nodes' shared config readers (one wording for every error, nothing clamped) and the shared
// message dispatcher (what kind of message reached a node), table-driven.
const assert = require('assert');
const C = require('../../dist/nodes/shared/config.js');
const { messageKind } = require('../../dist/nodes/shared/message-kind.js');

describe('shared config readers', function () {
  /** @type {[string, () => unknown, unknown][]} */
  const ok = [
    // [reader call, expected]
    ['blank("")', () => C.blank(''), true],
    ['blank("  ")', () => C.blank('  '), true],
    ['blank(null)', () => C.blank(null), true],
    ['blank(0)', () => C.blank(0), false],
    ['optNumber blank', () => C.optNumber('', 'x'), undefined],
    ['optNumber text', () => C.optNumber(' 2.5 ', 'x'), 2.5],
    ['optNumber number', () => C.optNumber(3, 'x'), 3],
    ['optNumber at the bounds', () => C.optNumber('64', 'x', { integer: true, min: 1, max: 64 }), 64],
    ['optNumber fraction', () => C.optNumber('1/255', 'scale', { above: 0, fraction: true }), 1 / 255],
    ['number default', () => C.number(undefined, 'x', 60, { min: 0 }), 60],
    ['number 0 is a value', () => C.number('0', 'x', 60, { min: 0 }), 0],
    ['requiredNumber', () => C.requiredNumber('7', 'count'), 7],
    ['bool blank', () => C.bool('', 'x', true), true],
    ['bool "false"', () => C.bool('false', 'x', true), false],
    ['bool true', () => C.bool(true, 'x', false), true],
    ['choice', () => C.choice(' udp ', 'x', ['tcp', 'udp'], 'tcp'), 'udp'],
    ['choice blank', () => C.choice('', 'x', ['tcp', 'udp'], 'tcp'), 'tcp'],
    ['text', () => C.text('  a b  '), 'a b'],
    ['text blank', () => C.text(' ', 'd'), 'd'],
    ['list text', () => C.list(' person, ,car '), ['person', 'car']],
    ['list array', () => C.list(['a', ' b']), ['a', 'b']],
    ['optJson text', () => C.optJson('{"a":1}', 'x'), { a: 1 }],
    ['optJson object', () => C.optJson({ a: 1 }, 'x'), { a: 1 }],
    ['optJson blank', () => C.optJson('', 'x'), undefined],
    ['maxDetections blank', () => C.maxDetections(''), 1000],
    ['maxDetections', () => C.maxDetections('250'), 250],
  ];
  for (const [name, f, want] of ok) it(`reads ${name}`, () => assert.deepStrictEqual(f(), want));

  /** @type {[() => unknown, string | RegExp][]} */
  const bad = [
    // every error: `<label> must be <rule>, got "<value>"`
    [() => C.optNumber('abc', 'score threshold'), 'score threshold must be a number, got "abc"'],
    [() => C.optNumber('1.5', 'minimum hits', { integer: true }), 'minimum hits must be a whole number, got "1.5"'],
    [() => C.optNumber('0', 'images waiting per topic', { integer: true, min: 1, max: 64 }), 'images waiting per topic must be a whole number 1–64, got "0"'],
    [() => C.optNumber('65', 'images waiting per topic', { integer: true, min: 1, max: 64 }), 'images waiting per topic must be a whole number 1–64, got "65"'],
    [() => C.optNumber(-1, 'frame-rate limit', { min: 0 }), 'frame-rate limit must be a number ≥ 0, got "-1"'],
    [() => C.optNumber('9000', 'max width', { max: 8192 }), 'max width must be a number ≤ 8192, got "9000"'],
    [() => C.optNumber('0', 'scale', { above: 0, fraction: true, note: '1/255 for 0–1' }), 'scale must be a number > 0 (1/255 for 0–1), got "0"'],
    [() => C.optNumber('1/255', 'pad value', { min: 0, max: 255 }), 'pad value must be a number 0–255, got "1/255"'],
    [
      () => C.optNumber('-2', 'threads', { integer: true, min: 0, note: '0 = one per core' }),
      'threads must be a whole number ≥ 0 (0 = one per core), got "-2"',
    ],
    [() => C.optNumber(true, 'x'), 'x must be a number, got "true"'],
    [() => C.requiredNumber('', 'count'), 'count must be a number, got ""'],
    [() => C.bool('yes', 'loop files', true), 'loop files must be true or false, got "yes"'],
    [() => C.choice('gpu', 'RTSP over', ['tcp', 'udp'], 'tcp'), 'RTSP over must be one of tcp, udp, got "gpu"'],
    [() => C.optJson('[[0,0]', 'include polygons'), /^include polygons must be valid JSON \(.+\), got "\[\[0,0\]"$/],
    [() => C.maxDetections('0'), 'max detections per frame must be a whole number 1–100000, got "0"'],
    [() => C.maxDetections(1e6), 'max detections per frame must be a whole number 1–100000, got "1000000"'],
  ];
  for (const [f, want] of bad) {
    it(`refuses with one wording: ${want}`, () => {
      assert.throws(f, (/** @type {Error} */ e) => (want instanceof RegExp ? want.test(e.message) : e.message === want) || assert.fail(`got: ${e.message}`));
    });
  }
});

describe('shared message dispatcher', function () {
  const jpeg = Buffer.from([0xff, 0xd8, 0xff]);
  const frame = { camera: 'config', frame: { camera: 'config', seq: 1, tMs: 0, width: 4, height: 4 }, detections: [] };
  /** @type {[string, import('../../dist/nodes/shared/red').NodeMessage, import('../../dist/nodes/shared/message-kind').KindOptions, import('../../dist/nodes/shared/message-kind').MessageKind][]} */
  const cases = [
    // [what, msg, options, expected]
    ['a vision frame', { topic: 'cam', payload: frame }, {}, { kind: 'frame', resetFirst: false }],
    ['a frame whose camera is called "config"', { topic: 'config', payload: frame }, {}, { kind: 'frame', resetFirst: false }],
    ['a frame whose camera is called "reset"', { topic: 'reset', payload: { ...frame, camera: 'reset' } }, {}, { kind: 'frame', resetFirst: false }],
    ['detections without a frame reference', { topic: 'cam', payload: { detections: [] } }, {}, { kind: 'frame', resetFirst: false }],
    ['a frame with msg.reset', { topic: 'cam', payload: frame, reset: true }, {}, { kind: 'frame', resetFirst: true }],
    ['image bytes where images are taken', { topic: 'config', payload: jpeg }, { images: true }, { kind: 'image', resetFirst: false }],
    ['image bytes elsewhere: as the topic says', { topic: 'config', payload: jpeg }, {}, { kind: 'config', reset: false, patch: jpeg, resetFirst: false }],
    ['image bytes without a topic elsewhere', { payload: jpeg }, {}, { kind: 'other', resetFirst: false }],
    ['a config patch', { topic: 'config', payload: { conf: 0.5 } }, {}, { kind: 'config', reset: false, patch: { conf: 0.5 }, resetFirst: false }],
    [
      'a config patch with reset: false',
      { topic: 'config', payload: { conf: 0.5, reset: false } },
      {},
      { kind: 'config', reset: false, patch: { conf: 0.5 }, resetFirst: false },
    ],
    ['a config reset (object)', { topic: 'config', payload: { reset: true, conf: 0.5 } }, {}, { kind: 'config', reset: true, resetFirst: false }],
    ['a config reset (text)', { topic: 'config', payload: 'reset' }, {}, { kind: 'config', reset: true, resetFirst: false }],
    [
      'a config that is not an object (the node refuses it)',
      { topic: 'config', payload: 'conf=1' },
      {},
      { kind: 'config', reset: false, patch: 'conf=1', resetFirst: false },
    ],
    ['a reset of every camera', { topic: 'reset' }, {}, { kind: 'reset', resetFirst: false }],
    ['a reset naming a camera (text)', { topic: 'reset', payload: 'cam1' }, {}, { kind: 'reset', camera: 'cam1', resetFirst: false }],
    [
      'a reset naming a camera (object)',
      { topic: 'reset', payload: { camera: 'cam1', lines: ['door'] } },
      {},
      { kind: 'reset', camera: 'cam1', resetFirst: false },
    ],
    ['a track-end event', { topic: 'cam', payload: { event: 'track-end', camera: 'cam', trackId: 3 } }, {}, { kind: 'track-end', resetFirst: false }],
    ['a track-start event', { topic: 'cam', payload: { event: 'track-start', trackId: 3 } }, {}, { kind: 'event', event: 'track-start', resetFirst: false }],
    ['a line-crossing event', { topic: 'cam', payload: { event: 'line-crossing' } }, {}, { kind: 'event', event: 'line-crossing', resetFirst: false }],
    ['a node topic of its own', { topic: 'snapshot', payload: { camera: 'cam' } }, {}, { kind: 'other', resetFirst: false }],
    ['msg.reset without a frame', { topic: 'cam', payload: 'x', reset: true }, {}, { kind: 'other', resetFirst: true }],
    ['nothing at all', { topic: 'cam' }, {}, { kind: 'other', resetFirst: false }],
    ['an array payload', { topic: 'cam', payload: [1, 2] }, {}, { kind: 'other', resetFirst: false }],
  ];
  for (const [what, msg, opts, want] of cases) it(`says ${JSON.stringify(want.kind)}: ${what}`, () => assert.deepStrictEqual(messageKind(msg, opts), want));

  it('does not change the message', function () {
    const msg = { topic: 'config', payload: { reset: false, conf: 0.5 } };
    messageKind(msg);
    assert.deepStrictEqual(msg, { topic: 'config', payload: { reset: false, conf: 0.5 } });
  });
});
