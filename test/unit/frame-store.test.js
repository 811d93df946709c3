'use strict';
const assert = require('assert');
const { FrameStore, frameBytes } = require('../../dist/nodes/lib/frame-store.js');

const px = (w, h, v = 0) => new Uint8Array(w * h * 3).fill(v);

describe('FrameStore', () => {
  it('returns stored pixels by reference and nothing once evicted, counting evictions and misses', () => {
    const s = new FrameStore({ capacity: 3 });
    const refs = [0, 1, 2, 3, 4].map((i) => s.put('c', px(2, 2, i), 2, 2, i * 100));
    assert.deepStrictEqual(
      refs.map((r) => r.seq),
      [0, 1, 2, 3, 4],
    );
    assert.deepStrictEqual(refs[4], { camera: 'c', seq: 4, tMs: 400, width: 2, height: 2, format: 'rgb24' });
    assert.strictEqual(s.get(refs[0]), undefined);
    assert.strictEqual(s.get(refs[1]), undefined);
    assert.strictEqual(s.get(refs[2]).data[0], 2);
    assert.strictEqual(s.get(refs[4]).data[0], 4);
    assert.deepStrictEqual(s.stats('c'), { camera: 'c', frames: 5, evicted: 2, misses: 2, bytes: 3 * 12 });
  });

  it('knows the newest frame time per camera, also after release (a redeploy continues after it)', () => {
    const s = new FrameStore({ capacity: 2 });
    assert.strictEqual(s.lastTime('c'), undefined);
    for (const t of [0, 100, 200, 150]) s.put('c', px(1, 1), 1, 1, t);
    s.put('d', px(1, 1), 1, 1, 7);
    assert.strictEqual(s.lastTime('c'), 200);
    s.release('c');
    assert.strictEqual(s.lastTime('c'), 200);
    assert.strictEqual(s.lastTime('d'), 7);
  });

  it('keeps cameras apart and knows the latest frame', () => {
    const s = new FrameStore({ capacity: 2 });
    const a = s.put('a', px(1, 1, 7), 1, 1, 0);
    s.put('b', px(1, 1, 9), 1, 1, 0);
    const a2 = s.put('a', px(1, 1, 8), 1, 1, 1);
    assert.strictEqual(s.latest('a').data[0], 8);
    assert.strictEqual(s.latest('b').data[0], 9);
    assert.strictEqual(s.hasNewer(a), true);
    assert.strictEqual(s.hasNewer(a2), false);
    assert.strictEqual(s.latest('nope'), undefined);
  });

  it('knows the newest frame each named reader fetched; unnamed reads and misses move nothing', () => {
    const s = new FrameStore({ capacity: 4 });
    const refs = [0, 1, 2].map((i) => s.put('c', px(1, 1), 1, 1, i));
    assert.deepStrictEqual([...s.readPositions('c')], []);
    s.get(refs[2]); // a sampler (a view): not a reader to wait for
    assert.deepStrictEqual([...s.readPositions('c')], []);
    s.get(refs[1], 'detect');
    s.get(refs[0], 'detect'); // an older read never moves it back
    s.get(refs[0], 'motion');
    assert.deepStrictEqual(
      [...s.readPositions('c')],
      [
        ['detect', 1],
        ['motion', 0],
      ],
    );
    s.put('c', px(1, 1), 1, 1, 3);
    s.put('c', px(1, 1), 1, 1, 4);
    s.put('c', px(1, 1), 1, 1, 5);
    s.put('c', px(1, 1), 1, 1, 6);
    s.get(refs[2], 'motion'); // evicted: a miss does not count as a read
    assert.strictEqual(s.readPositions('c').get('motion'), 0);
    assert.deepStrictEqual([...s.readPositions('other')], []);
    s.forgetReader('detect');
    assert.deepStrictEqual([...s.readPositions('c')], [['motion', 0]]);
  });

  it('a reader still loading is expected from the frame before the one it was sent; a read moves it on', () => {
    const s = new FrameStore({ capacity: 4 });
    const refs = [0, 1, 2].map((i) => s.put('c', px(1, 1), 1, 1, i));
    s.expect(refs[1], 'detect');
    assert.deepStrictEqual([...s.readPositions('c')], [['detect', 0]]);
    s.expect(refs[2], 'detect'); // already expected: stays where it was
    assert.strictEqual(s.readPositions('c').get('detect'), 0);
    s.get(refs[2], 'detect');
    s.expect(refs[0], 'detect'); // it reads now: an expectation no longer moves it
    assert.strictEqual(s.readPositions('c').get('detect'), 2);
    s.expect({ ...refs[0], camera: 'unknown' }, 'detect'); // a camera the store does not hold: nothing
    assert.deepStrictEqual([...s.readPositions('unknown')], []);
  });

  it('knows which cameras are paced (a full-speed replay), until told otherwise or the camera is forgotten', () => {
    const s = new FrameStore({ capacity: 2, maxCameras: 1 });
    assert.strictEqual(s.isPaced('c'), false);
    s.setPaced('c', true);
    s.put('c', px(1, 1), 1, 1, 0);
    assert.strictEqual(s.isPaced('c'), true);
    s.setPaced('c', false);
    assert.strictEqual(s.isPaced('c'), false);
    s.setPaced('c', true);
    s.put('d', px(1, 1), 1, 1, 0); // one camera at most: c is forgotten
    assert.strictEqual(s.isPaced('c'), false);
  });

  it('rejects a buffer whose size does not match, and bad capacities', () => {
    const s = new FrameStore();
    assert.throws(() => s.put('c', new Uint8Array(10), 2, 2, 0), /has 10 bytes; 2×2 rgb24 needs 12/);
    assert.throws(() => new FrameStore({ capacity: 0 }), /capacity must be a whole number/);
    assert.strictEqual(frameBytes(4, 2, 'gray8'), 8);
  });

  it('release frees pixels but never reuses a sequence number', () => {
    const s = new FrameStore({ capacity: 2 });
    const r0 = s.put('c', px(1, 1), 1, 1, 0);
    s.release('c');
    assert.strictEqual(s.get(r0), undefined);
    assert.strictEqual(s.stats('c').bytes, 0);
    assert.strictEqual(s.put('c', px(1, 1), 1, 1, 1).seq, 1);
  });

  it('holds at most maxCameras: one more forgets the camera put to least recently, counted; a seq is never reused', () => {
    const s = new FrameStore({ capacity: 2, maxCameras: 2 });
    s.put('a', px(1, 1), 1, 1, 0);
    const b0 = s.put('b', px(1, 1), 1, 1, 0);
    s.put('a', px(1, 1), 1, 1, 1); // a is now the most recently put
    s.put('c', px(1, 1), 1, 1, 0);
    assert.deepStrictEqual(s.cameraIds(), ['a', 'c']);
    assert.deepStrictEqual(s.totals(), { cameras: 2, evictedCameras: 1, idleCameras: 0 });
    assert.strictEqual(s.get(b0), undefined, "b's pixels are gone");
    const b = s.put('b', px(1, 1), 1, 1, 5); // b comes back (evicting a) above every seq handed out before
    assert.ok(b.seq > b0.seq, `seq ${b.seq}`);
    for (let i = 0; i < 20000; i++) s.put(`topic-${i}`, px(1, 1), 1, 1, 0);
    assert.strictEqual(s.totals().cameras, 2);
  });

  it('forgets cameras not put to for idleMs of the time the caller passes in; cameras put without a time stay', () => {
    const s = new FrameStore({ capacity: 2, idleMs: 1000 });
    s.put('old', px(1, 1), 1, 1, 0, 'rgb24', 0);
    s.put('untimed', px(1, 1), 1, 1, 0);
    s.put('live', px(1, 1), 1, 1, 0, 'rgb24', 500);
    assert.deepStrictEqual(s.sweep(999), []);
    s.put('live', px(1, 1), 1, 1, 1, 'rgb24', 1200); // put() sweeps: "old" is 1200 ms old
    assert.deepStrictEqual(s.cameraIds(), ['untimed', 'live']);
    assert.deepStrictEqual(s.totals(), { cameras: 2, evictedCameras: 0, idleCameras: 1 });
    assert.deepStrictEqual(s.sweep(5000), ['live']);
    assert.throws(() => new FrameStore({ maxCameras: 0 }), /max cameras must be a whole number/);
  });
});
