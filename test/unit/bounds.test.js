'use strict';
// What one message may cost: the detection bounds every node applies first, and the per-camera table
// every node keeps its state in.
const assert = require('assert');
const { boundDetections, detectionProblem, groupDigits, DropCounts, MAX_LABEL_CHARS } = require('../../dist/nodes/lib/bounds.js');
// The cap's editor field is read with the nodes' shared readers.
const { maxDetections: resolveMaxDetections } = require('../../dist/nodes/shared/config.js');
const { CameraTable } = require('../../dist/nodes/lib/camera-table.js');

const det = (score, x = 0, extra = {}) => ({ box: [x, 0, x + 10, 20], score, classId: 0, label: 'person', ...extra });

describe('bounds: boundDetections', () => {
  // [name, entry, why it is skipped (regexp) or null when it is kept]
  /** @type {[string, unknown, RegExp | null][]} */
  const ENTRIES = [
    ['a detection', det(0.9), null],
    ['null', null, /^null$/],
    ['undefined', undefined, /a undefined, not an object/],
    ['a number', 7, /a number, not an object/],
    ['a string', 'person', /a string, not an object/],
    ['an array', [0, 0, 1, 1], /an array, not an object/],
    ['no box', { score: 1 }, /no box/],
    ['box of 3 numbers', { box: [0, 0, 1] }, /box has 3 values, not 4/],
    ['box of strings', { box: ['0', '0', '1', '1'] }, /box has a string in it/],
    ['box with NaN', { box: [NaN, 0, 1, 1] }, /box has NaN/],
    ['box with Infinity', { box: [0, 0, Infinity, 1] }, /box has Infinity/],
    ['inverted box', { box: [10, 0, 5, 5] }, /empty or inverted/],
    ['empty box', { box: [5, 5, 5, 9] }, /empty or inverted/],
    ['huge finite box', { box: [-1e12, -1e12, 1e12, 1e12] }, null],
    ['negative coordinates', { box: [-50, -20, -10, -5] }, null],
  ];
  for (const [name, entry, why] of ENTRIES) {
    it(`${name}: ${why ? 'skipped and counted, with the reason' : 'kept'}`, () => {
      const p = detectionProblem(entry);
      const b = boundDetections([det(0.5), entry], { maxDetections: 10 });
      if (why) {
        assert.match(p, why);
        assert.strictEqual(b.invalid, 1);
        assert.strictEqual(b.detections.length, 1);
        assert.strictEqual(b.firstInvalid, `detection 1: ${p}`);
      } else {
        assert.strictEqual(p, undefined);
        assert.strictEqual(b.invalid, 0);
        assert.strictEqual(b.detections.length, 2);
      }
    });
  }

  it('a clean frame under the cap is handed back as it is (no copy)', () => {
    const input = [det(0.3), det(0.9)];
    const b = boundDetections(input, { maxDetections: 2 });
    assert.strictEqual(b.detections, input);
    assert.deepStrictEqual([b.overCap, b.invalid, b.firstInvalid], [0, 0, undefined]);
  });

  it('over the cap keeps the highest scores in their original order; ties go to the earlier; a missing score counts as sure', () => {
    const input = [det(0.2, 0), det(0.9, 1), det(0.5, 2), det(0.5, 3), det(undefined, 4), det(0.1, 5), det(0.5, 6)];
    const b = boundDetections(input, { maxDetections: 4 });
    assert.deepStrictEqual(
      b.detections.map((d) => d.box[0]),
      [1, 2, 3, 4],
    );
    assert.strictEqual(b.overCap, 3);
    assert.ok(
      input.every((d) => d.box.length === 4),
      'input untouched',
    );
  });

  it('100 000 detections: exactly the cap is kept, the rest counted', () => {
    const input = Array.from({ length: 100000 }, (_, i) => det(((i * 7919) % 100000) / 100000, i));
    const b = boundDetections(input, { maxDetections: 1000 });
    assert.strictEqual(b.detections.length, 1000);
    assert.strictEqual(b.overCap, 99000);
    assert.ok(
      b.detections.every((d) => d.score >= 0.99),
      'the highest scores',
    );
  });

  it('cuts a huge label on a copy', () => {
    const input = [det(0.9, 0, { label: 'x'.repeat(1e6) })];
    const b = boundDetections(input, { maxDetections: 5 });
    assert.strictEqual(b.detections[0].label.length, MAX_LABEL_CHARS);
    assert.strictEqual(input[0].label.length, 1e6);
  });

  it('the cap setting: blank is the default, anything but a whole number 1–100000 is refused with the field name', () => {
    assert.strictEqual(resolveMaxDetections(''), 1000);
    assert.strictEqual(resolveMaxDetections('250'), 250);
    for (const bad of ['0', '-1', '1.5', 'lots', 1e6])
      assert.throws(() => resolveMaxDetections(bad), /max detections per frame must be a whole number 1–100000/);
  });

  it('status figures', () => {
    assert.strictEqual(groupDigits(12340), '12 340');
    assert.strictEqual(groupDigits(999), '999');
    const d = new DropCounts();
    assert.strictEqual(d.text(), '');
    d.add({ overCap: 12340, invalid: 3 });
    assert.strictEqual(d.text(), ' · 12 340 over cap dropped · 3 bad skipped');
    d.evicted(2);
    assert.strictEqual(d.text(), ' · 2 cameras evicted · 12 340 over cap dropped · 3 bad skipped', 'what grew last comes first');
    d.add({ overCap: 0, invalid: 1 });
    assert.strictEqual(d.text(), ' · 4 bad skipped · 2 cameras evicted · 12 340 over cap dropped');
  });
});

describe('bounds: CameraTable', () => {
  it('evicts the least recently used beyond the cap, and counts it', () => {
    const t = new CameraTable({ maxCameras: 2, idleMs: 1000 });
    assert.deepStrictEqual(t.set('a', 1, 0), []);
    t.set('b', 2, 1);
    assert.strictEqual(t.get('a', 2), 1); // a is now the most recently used
    assert.deepStrictEqual(t.set('c', 3, 3), [{ camera: 'b', value: 2, reason: 'cap' }]);
    assert.deepStrictEqual([...t.keys()], ['a', 'c']);
    assert.strictEqual(t.evictedCap, 1);
    assert.strictEqual(t.peek('b'), undefined);
  });

  it('sweep releases entries unused for idleMs, and only those', () => {
    const t = new CameraTable({ maxCameras: 10, idleMs: 1000 });
    t.set('a', 1, 0);
    t.set('b', 2, 500);
    t.get('a', 900);
    assert.deepStrictEqual(t.sweep(1400), []);
    assert.deepStrictEqual(t.sweep(1500), [{ camera: 'b', value: 2, reason: 'idle' }]);
    assert.deepStrictEqual(t.sweep(1900), [{ camera: 'a', value: 1, reason: 'idle' }]);
    assert.strictEqual(t.size, 0);
    assert.strictEqual(t.evictedIdle, 2);
  });

  it('20 000 distinct cameras: never more than the cap held', () => {
    const t = new CameraTable({ maxCameras: 64, idleMs: 1000 });
    let evicted = 0;
    for (let i = 0; i < 20000; i++) evicted += t.set(`cam-${i}`, i, i).length;
    assert.strictEqual(t.size, 64);
    assert.strictEqual(evicted, 20000 - 64);
  });

  it('rejects bad bounds', () => {
    assert.throws(() => new CameraTable({ maxCameras: 0 }), /max cameras/);
    assert.throws(() => new CameraTable({ idleMs: 0 }), /idle time/);
  });
});
