'use strict';
// The re-id engine on synthetic data: gallery bounds and expiry, matching rules, per-track state
// eviction, transitions, homography, quality gate, crops, colour descriptor, option validation.
const assert = require('assert');
const { Gallery } = require('../../dist/nodes/lib/reid/gallery.js');
const { ReidEngine, resolveReidOptions } = require('../../dist/nodes/lib/reid/engine.js');
const { homographyFromPairs, applyHomography } = require('../../dist/nodes/lib/reid/homography.js');
const { judgeQuality } = require('../../dist/nodes/lib/reid/quality.js');
const { cropResizeInto } = require('../../dist/nodes/lib/reid/crop.js');
const { colourDescriptor, DEFAULT_COLOUR, colourDimension } = require('../../dist/nodes/lib/reid/colour.js');
const { l2normalise, emaUpdate, dot } = require('../../dist/nodes/lib/vector.js');
const { retrieval } = require('../../dist/nodes/lib/reid/eval.js');
/** @typedef {import('../../dist/nodes/lib/types').Box} Box */
/** @typedef {import('../../dist/nodes/lib/types').Point} Point */
/** @typedef {import('../../dist/nodes/lib/types').Detection} Detection */
/** @typedef {import('../../dist/nodes/lib/detect/letterbox').SourceImage} SourceImage */
/** @typedef {import('../../dist/nodes/lib/reid/engine').ReidOptions} ReidOptions */

/** A unit vector along axis k (dim 8), optionally mixed with axis j. */
function unit(k, j = -1, w = 0, dim = 8) {
  const v = new Array(dim).fill(0);
  v[k] = 1;
  if (j >= 0) v[j] = w;
  return Array.from(l2normalise(v));
}
/** @type {(trackId: number, x?: number, extra?: Partial<Detection>) => Detection} */
const det = (trackId, x = 100, extra = {}) => ({ box: [x, 100, x + 50, 250], score: 0.9, classId: 0, label: 'person', trackId, ...extra });

describe('reid: vectors', () => {
  it('normalises, keeps zero vectors zero, and averages with momentum', () => {
    assert.deepStrictEqual(Array.from(l2normalise([3, 4])), [0.6000000238418579, 0.800000011920929]);
    assert.deepStrictEqual(Array.from(l2normalise([0, 0])), [0, 0]);
    const a = [1, 0];
    const m = emaUpdate(a, [0, 1], 0.9);
    assert.ok(m[0] > 0.99 && m[1] > 0.09 && m[1] < 0.12, `ema moved too far: ${Array.from(m)}`);
    assert.deepStrictEqual(a, [1, 0], 'argument mutated');
    assert.throws(() => dot([1], [1, 2]), /lengths differ/);
  });
});

describe('reid: gallery', () => {
  it('is bounded: at capacity the entry that ended first is evicted', () => {
    const g = new Gallery(8, { capacity: 3, ttlMs: 1e9 });
    for (let i = 0; i < 5; i++) g.add({ globalId: `p${i}`, camera: 'a', endMs: i * 10 }, unit(i));
    assert.strictEqual(g.size, 3);
    assert.deepStrictEqual(
      g
        .list()
        .map((e) => e.globalId)
        .sort(),
      ['p2', 'p3', 'p4'],
    );
    assert.strictEqual(g.search(unit(0)).entry.globalId === 'p0', false);
  });
  it('expires entries older than the TTL and frees their slots', () => {
    const g = new Gallery(8, { capacity: 4, ttlMs: 1000 });
    g.add({ globalId: 'old', camera: 'a', endMs: 0 }, unit(0));
    g.add({ globalId: 'new', camera: 'a', endMs: 900 }, unit(1));
    assert.deepStrictEqual(g.expire(1500), ['old']);
    assert.strictEqual(g.size, 1);
    for (let i = 0; i < 3; i++) g.add({ globalId: `q${i}`, camera: 'a', endMs: 1500 }, unit(i + 2));
    assert.strictEqual(g.size, 4);
    assert.strictEqual(g.search(unit(1)).entry.globalId, 'new');
  });
  it('returns the best and second-best similarity among allowed entries', () => {
    const g = new Gallery(8, { capacity: 10, ttlMs: 1e9 });
    g.add({ globalId: 'a', camera: 'c1', endMs: 0 }, unit(0));
    g.add({ globalId: 'b', camera: 'c2', endMs: 0 }, unit(0, 1, 1));
    g.add({ globalId: 'c', camera: 'c1', endMs: 0 }, unit(2));
    const m = g.search(unit(0));
    assert.strictEqual(m.entry.globalId, 'a');
    assert.ok(Math.abs(m.similarity - 1) < 1e-6 && Math.abs(m.second - Math.SQRT1_2) < 1e-6);
    assert.strictEqual(g.search(unit(0), (e) => e.camera === 'c2').entry.globalId, 'b');
    assert.strictEqual(
      g.search(unit(0), () => false),
      undefined,
    );
    assert.throws(() => g.add({ globalId: 'x', camera: 'c', endMs: 0 }, [1, 0]), /2 values; the gallery holds 8/);
  });
});

describe('reid: gallery views', () => {
  it('keeps several views of one identity by key; scores each identity by its best allowed view', () => {
    const g = new Gallery(8, { capacity: 10, ttlMs: 1e9 });
    g.add({ globalId: 'p1', camera: 'a', endMs: 0, key: 'p1/a' }, unit(0));
    g.add({ globalId: 'p1', camera: 'b', endMs: 5, key: 'p1/b' }, unit(1));
    g.add({ globalId: 'p2', camera: 'a', endMs: 3 }, unit(2));
    assert.deepStrictEqual([g.size, g.has('p1'), g.has('p2'), g.has('p3')], [3, true, true, false]);
    assert.deepStrictEqual(
      g.views('p1').map((v) => v.key),
      ['p1/a', 'p1/b'],
    );
    const s = g.scoreIdentities(unit(1, 0, 0.5), 0.1);
    assert.deepStrictEqual([...s.keys()], ['p1']);
    assert.strictEqual(s.get('p1').entry.camera, 'b', 'the best view counts');
    const onlyA = g.scoreIdentities(unit(1, 0, 0.5), 0.1, (e) => e.camera === 'a');
    assert.strictEqual(onlyA.get('p1').entry.camera, 'a', 'a view the gates refuse does not count');
    assert.ok(g.remove('p1/b') && !g.remove('p1/b') && g.has('p1'));
  });
});

describe('reid: engine', () => {
  const opts = { sampleEvery: 1, minSamples: 1, threshold: 0.8, margin: 0.05, trackTimeoutMs: 500, galleryTtlMs: 60000 };
  function step(e, camera, tMs, dets, vecs) {
    return e.update(camera, tMs, dets, new Map(vecs.map((v, i) => [i, v])), 640, 480);
  }

  it('gives a returning person the same global id in another camera, with one join event', () => {
    const e = new ReidEngine(8, opts);
    const a = step(e, 'cam-1', 0, [det(1)], [unit(0)]);
    assert.strictEqual(a.globalIds[0], 'p1');
    step(e, 'cam-1', 2000, [], []); // track 1 ends (unseen > 500 ms) → gallery
    assert.strictEqual(e.stats().gallery, 1);
    const b = step(e, 'cam-2', 2100, [det(7)], [unit(0, 1, 0.2)]);
    assert.strictEqual(b.globalIds[0], 'p1');
    assert.strictEqual(b.joins.length, 1);
    assert.deepStrictEqual(
      { ...b.joins[0], similarity: undefined, second: undefined },
      {
        event: 'identity-join',
        globalId: 'p1',
        camera: 'cam-2',
        trackId: 7,
        tMs: 2100,
        fromCamera: 'cam-1',
        gapMs: 2100,
        similarity: undefined,
        second: undefined,
        previousGlobalId: 'p2',
        live: false,
      },
    );
    // The identity stays in the gallery: its true owner could still claim it (the join is revisable).
    assert.strictEqual(e.stats().gallery, 1);
  });

  it('mints a new id below the threshold and when the margin over the second best is too small', () => {
    const e = new ReidEngine(8, opts);
    step(e, 'c', 0, [det(1, 10), det(2, 300)], [unit(0, 1, 0.9), unit(1, 0, 0.9)]);
    e.sweep(1000);
    assert.strictEqual(e.stats().gallery, 2);
    // Equally close to both: ambiguous → new id, nobody is joined.
    const amb = step(e, 'c', 1100, [det(3)], [unit(0, 1, 1)]);
    assert.strictEqual(amb.joins.length, 0);
    assert.strictEqual(amb.globalIds[0], 'p3');
    // Far from both: new id.
    const far = step(e, 'c', 1100, [det(4, 400)], [unit(5)]);
    assert.strictEqual(far.globalIds[0], 'p4');
    assert.strictEqual(e.stats().gallery, 2);
  });

  it('forgets per-track state when tracks end, and bounds live tracks by maxTracks', () => {
    const e = new ReidEngine(8, { ...opts, maxTracks: 3 });
    for (let t = 1; t <= 6; t++) step(e, 'c', t, [det(t, 10 + t * 60)], [unit(t % 8)]);
    assert.strictEqual(e.stats().tracks, 3, 'live tracks bounded');
    e.sweep(10000);
    assert.strictEqual(e.stats().tracks, 0, 'ended tracks forgotten');
    assert.ok(e.stats().gallery <= 6);
  });

  it('a track the tracker resumes after reid ended it keeps its identity, without a join event', () => {
    const e = new ReidEngine(8, opts);
    step(e, 'c', 0, [det(1)], [unit(0)]);
    step(e, 'c', 1000, [], []); // ended: unseen > 500 ms
    assert.strictEqual(e.stats().gallery, 1);
    const u = step(e, 'c', 1500, [det(1, 300)], []); // same track id, no new sample yet
    assert.deepStrictEqual({ id: u.globalIds[0], joins: u.joins.length, gallery: e.stats().gallery }, { id: 'p1', joins: 0, gallery: 0 });
  });

  it('same camera: a look-alike far from where the person was lost is not joined', () => {
    const e = new ReidEngine(8, { ...opts, trackTimeoutMs: 0 });
    step(e, 'c', 0, [det(1, 10)], [unit(0)]);
    e.sweep(1);
    // 150 px tall boxes; 0.5 s later at 580 px: (1.5 × 0.5 + 1) × 150 = 262 px allowed, 570 px away.
    assert.strictEqual(step(e, 'c', 500, [det(2, 580)], [unit(0)]).joins.length, 0);
    const e2 = new ReidEngine(8, { ...opts, trackTimeoutMs: 0 });
    step(e2, 'c', 0, [det(1, 10)], [unit(0)]);
    e2.sweep(1);
    assert.strictEqual(step(e2, 'c', 500, [det(2, 200)], [unit(0)]).joins.length, 1);
  });

  it('endTrack and endCamera move identities to the gallery at once', () => {
    const e = new ReidEngine(8, opts);
    step(e, 'a', 0, [det(1, 10), det(2, 300)], [unit(0), unit(1)]);
    step(e, 'b', 0, [det(1, 10)], [unit(2)]);
    assert.strictEqual(e.endTrack('a', 1), true);
    assert.strictEqual(e.endTrack('a', 1), false);
    assert.strictEqual(e.endCamera('b'), 1);
    assert.deepStrictEqual(e.stats(), {
      tracks: 1,
      gallery: 2,
      galleryBytes: e.stats().galleryBytes,
      identities: 3,
      joins: 0,
      splits: 0,
      provisional: 0,
      threshold: 0.8,
      calibrated: false,
      remoteLive: 0,
    });
  });

  it('samples a new track every frame until minSamples, then every N frames; never a cut crop', () => {
    const e = new ReidEngine(8, { ...opts, sampleEvery: 3, minSamples: 2 });
    const sampled = { 1: [], 2: [] };
    for (let f = 0; f < 9; f++) {
      const dets = [det(1, 100), det(2, 1)]; // track 2 is cut by the left edge
      const want = e.select('c', dets, 640, 480);
      want.forEach((i) => sampled[dets[i].trackId].push(f));
      e.update('c', f * 40, dets, new Map(want.map((i) => [i, unit(0)])), 640, 480);
    }
    assert.deepStrictEqual(sampled, { 1: [0, 1, 4, 7], 2: [] });
  });

  it('uses an embedding that arrives on the detection instead of asking for one', () => {
    const e = new ReidEngine(8, opts);
    const d = det(1, 100, { embedding: unit(3) });
    assert.deepStrictEqual(e.select('c', [d], 640, 480), []);
    const u = e.update('c', 0, [d], new Map(), 640, 480);
    assert.deepStrictEqual(u.sampled, [0]);
    assert.strictEqual(u.globalIds[0], 'p1');
  });

  it('a track without good crops keeps a provisional id, and is matched once it shows one, however late', () => {
    const e = new ReidEngine(8, { ...opts, minSamples: 2, trackTimeoutMs: 10000 });
    step(e, 'a', 0, [det(1)], [unit(0)]);
    step(e, 'a', 40, [det(1)], [unit(0)]);
    e.endTrack('a', 1);
    /** @type {(x: number) => Detection} */
    const small = (x) => ({ box: [x, 100, x + 10, 110], score: 0.9, classId: 0, label: 'person', trackId: 5 });
    for (const t of [1000, 3000, 6000]) {
      const u = e.update('b', t, [small(100)], new Map(), 640, 480);
      assert.deepStrictEqual({ id: u.globalIds[0], provisional: u.provisional[0] }, { id: 'p2', provisional: true });
    }
    assert.strictEqual(e.stats().provisional, 1);
    // 7 s in, two good crops: it is matched to p1 with a join event that names the provisional id.
    step(e, 'b', 7000, [det(5)], [unit(0, 1, 0.1)]);
    const u = step(e, 'b', 7040, [det(5)], [unit(0, 1, 0.1)]);
    assert.deepStrictEqual(
      { id: u.globalIds[0], provisional: u.provisional[0], joins: u.joins.map((j) => [j.globalId, j.previousGlobalId]) },
      { id: 'p1', provisional: false, joins: [['p1', 'p2']] },
    );
  });

  it('joins one-to-one over all open tracks (Hungarian), not first-come', () => {
    // Gallery X = e0 and Y (cos 0.6 with X). A: X 0.90, Y 0.85; B: X 0.88, Y 0.53.
    const X = [1, 0, 0, 0, 0, 0, 0, 0];
    const Y = [0.6, 0.8, 0, 0, 0, 0, 0, 0];
    const A = [0.9, 0.3875, Math.sqrt(1 - 0.81 - 0.3875 ** 2), 0, 0, 0, 0, 0];
    const B = [0.88, 0, Math.sqrt(1 - 0.88 ** 2), 0, 0, 0, 0, 0];
    assert.deepStrictEqual(
      [dot(A, X), dot(A, Y), dot(B, X)].map((v) => Math.round(v * 100) / 100),
      [0.9, 0.85, 0.88],
    );
    const e = new ReidEngine(8, { ...opts, margin: 0.01, trackTimeoutMs: 0 });
    step(e, 'a', 0, [det(1, 10), det(2, 300)], [X, Y]);
    e.sweep(1);
    // First-come would give A X (its best) and leave B without a match; the assignment serves both.
    const u = step(e, 'b', 1000, [det(7, 10), det(8, 300)], [A, B]);
    assert.deepStrictEqual(u.globalIds, ['p2', 'p1'], 'A → Y (p2), B → X (p1)');
    assert.strictEqual(u.joins.length, 2);
  });

  it('a wrong join is undone with an identity-split when the true owner shows up, who then gets the identity', () => {
    const e = new ReidEngine(8, { ...opts, trackTimeoutMs: 5000, margin: 0.01 });
    const owner = unit(0);
    step(e, 'a', 0, [det(1)], [owner]);
    e.endTrack('a', 1);
    // A look-alike in camera b takes p1 (0.85 ≥ 0.8)…
    const look = unit(0, 3, 0.62);
    assert.ok(dot(look, owner) > 0.8 && dot(look, owner) < 0.86);
    const j = step(e, 'b', 1000, [det(5)], [look]);
    assert.deepStrictEqual(j.globalIds, ['p1']);
    // …then the real person appears in camera c: p1 fits them far better, so the look-alike gives it back.
    const u = step(e, 'c', 2000, [det(9)], [unit(0, 1, 0.05)]);
    assert.deepStrictEqual(
      { ids: u.globalIds, split: u.splits.map((s) => [s.globalId, s.camera, s.newGlobalId, s.reason]), joins: u.joins.map((x) => [x.globalId, x.camera]) },
      { ids: ['p1'], split: [['p1', 'b', 'p2', 'better-owner']], joins: [['p1', 'c']] },
    );
    assert.strictEqual(e.trackIdentity('b', 5), 'p2');
    assert.strictEqual(e.stats().splits, 1);
  });

  it("a join its own later crops contradict is split back to the track's own id", () => {
    const e = new ReidEngine(8, { ...opts, trackTimeoutMs: 5000, momentum: 0.5 });
    step(e, 'a', 0, [det(1)], [unit(0)]);
    e.endTrack('a', 1);
    assert.deepStrictEqual(step(e, 'b', 1000, [det(5)], [unit(0, 1, 0.3)]).globalIds, ['p1']);
    let splits = [];
    for (let k = 1; k <= 4 && !splits.length; k++) splits = step(e, 'b', 1000 + 40 * k, [det(5)], [unit(1)]).splits;
    assert.deepStrictEqual(
      splits.map((s) => [s.globalId, s.newGlobalId, s.reason]),
      [['p1', 'p2', 'below-threshold']],
    );
  });

  it('a joined track keeps its identity when every gallery view of it has expired (a long visit)', () => {
    const e = new ReidEngine(8, { ...opts, galleryTtlMs: 1000, trackTimeoutMs: 60000 });
    step(e, 'a', 0, [det(1)], [unit(0)]);
    e.endTrack('a', 1);
    assert.deepStrictEqual(step(e, 'b', 500, [det(5)], [unit(0, 1, 0.2)]).globalIds, ['p1']);
    // 5 s on, p1's view expired long ago; the track goes on sampling the same look.
    const u = step(e, 'b', 5000, [det(5)], [unit(0, 1, 0.25)]);
    assert.deepStrictEqual([u.globalIds, u.splits.length, e.stats().gallery], [['p1'], 0, 0]);
  });

  it('overlapping cameras: a person seen live by two cameras at one floor point gets one id', () => {
    /** @type {Point[]} */
    const square = [
      [0, 0],
      [640, 0],
      [640, 480],
      [0, 480],
    ];
    /** @type {Point[]} */
    const floor = [
      [0, 0],
      [10, 0],
      [10, 10],
      [0, 10],
    ];
    /** @type {Point[]} */
    const mirrored = [
      [10, 0],
      [0, 0],
      [0, 10],
      [10, 10],
    ];
    const run = (xB, extra = {}) => {
      const e = new ReidEngine(8, {
        ...opts,
        calibrations: { a: { image: square, floor }, b: { image: square, floor: mirrored } },
        floorTolerance: 0.5,
        ...extra,
      });
      const u = [];
      for (let f = 0; f < 5; f++) {
        step(e, 'a', f * 100, [{ box: [100, 300, 160, 460], score: 1, classId: 0, label: 'p', trackId: 1 }], [unit(0)]);
        u.push(step(e, 'b', f * 100 + 10, [{ box: [xB, 300, xB + 60, 460], score: 1, classId: 0, label: 'p', trackId: 4 }], [unit(0, 2, 0.4)]));
      }
      return { e, u };
    };
    // Camera a: floor x ≈ 2.03; camera b is mirrored, so the same spot is at image x ≈ 640 − 130.
    const same = run(640 - 160);
    const joins = same.u.flatMap((x) => x.joins);
    assert.deepStrictEqual(
      joins.map((j) => [j.globalId, j.camera, j.fromCamera, j.live]),
      [['p1', 'b', 'a', true]],
    );
    assert.deepStrictEqual(
      same.e.liveIdentities().map((l) => [l.globalId, l.camera, l.floor.map((v) => Math.round(v * 10) / 10)]),
      [
        ['p1', 'a', [2, 9.6]],
        ['p1', 'b', [2, 9.6]],
      ],
    );
    assert.strictEqual(run(100).u.flatMap((x) => x.joins).length, 0, 'same look, 6 m apart: two people');
    assert.strictEqual(run(640 - 160, { overlap: 'off' }).u.flatMap((x) => x.joins).length, 0, 'overlap off');
    const windowed = run(640 - 160, { transitions: [{ from: 'a', to: 'b', minS: 2, maxS: 10 }] });
    assert.strictEqual(windowed.u.flatMap((x) => x.joins).length, 0, 'a transition window says the views do not overlap');
  });

  it('learns its threshold from same-frame pairs (negatives) and one track over time (positives)', () => {
    const e = new ReidEngine(8, {
      ...opts,
      threshold: 0.95,
      calibrationMinNegatives: 30,
      calibrationMinPositives: 5,
      positiveGapMs: 200,
      targetFalseJoinRate: 0.05,
    });
    assert.deepStrictEqual([e.stats().threshold, e.stats().calibrated], [0.95, false]);
    // Twelve rounds of three people in one camera, 0.6 s each; their looks are about 0.5 apart, each
    // one's crops about 0.97 alike. A pair counts once, when one of its tracks ends.
    for (let r = 0; r < 12; r++) {
      for (let f = 0; f < 15; f++) {
        const jitter = (k) => unit(k, (k + 4) % 8, f % 2 ? 0.25 : 0);
        const looks = [unit(0, 1, 1), unit(1, 2, 1), unit(2, 0, 1)].map((v, k) => (f % 3 ? v : jitter(k)));
        step(e, 'c', r * 1000 + f * 40, [det(3 * r + 1, 10), det(3 * r + 2, 200), det(3 * r + 3, 400)], looks);
      }
      for (let k = 1; k <= 3; k++) e.endTrack('c', 3 * r + k);
    }
    let s = e.calibration.state();
    assert.strictEqual(s.mode, 'learnt', JSON.stringify(s));
    assert.strictEqual(s.negatives, 36, 'three pairs a round');
    assert.ok(s.positives >= 5, JSON.stringify(s));
    // 36 negatives cannot show a 5 % rate (59 can: 0.95^59 < 0.05): the learnt threshold is lower
    // than the fixed one, so the fixed one holds.
    assert.strictEqual(s.certifyingNegatives, 59);
    assert.ok(e.calibration.learnt() < 0.95, `learnt ${e.calibration.learnt()}`);
    assert.strictEqual(s.threshold, 0.95);
    // Learnt (enough pairs), but the fixed threshold is the one in use: the status must not say "learnt".
    assert.deepStrictEqual([s.mode, s.thresholdSource, e.stats().calibrated], ['learnt', 'fixed', false]);
    for (let r = 12; r < 24; r++) {
      for (let f = 0; f < 15; f++) {
        const jitter = (k) => unit(k, (k + 4) % 8, f % 2 ? 0.25 : 0);
        const looks = [unit(0, 1, 1), unit(1, 2, 1), unit(2, 0, 1)].map((v, k) => (f % 3 ? v : jitter(k)));
        step(e, 'c', r * 1000 + f * 40, [det(3 * r + 1, 10), det(3 * r + 2, 200), det(3 * r + 3, 400)], looks);
      }
      for (let k = 1; k <= 3; k++) e.endTrack('c', 3 * r + k);
    }
    s = e.calibration.state();
    assert.strictEqual(s.negatives, 72);
    assert.ok(s.threshold < 0.95 && s.positiveMedian > s.threshold && s.negativeMedian < s.threshold, `learnt ${JSON.stringify(s)}`);
    assert.strictEqual(e.stats().threshold, s.threshold);
    assert.strictEqual(e.stats().calibrated, true);
    const off = new ReidEngine(8, { ...opts, calibrate: 'off' });
    off.calibration.restore(e.calibration.snapshot());
    assert.strictEqual(off.threshold(), 0.8, 'calibrate off: the fixed threshold stays');
  });

  // Table: transition windows decide which gallery entries a new track may take.
  /** @type {{ name: string, windows: ReidOptions['transitions'], unlisted?: ReidOptions['unlistedTransitions'], gapS: number, join: boolean }[]} */
  const table = [
    { name: 'inside the window', windows: [{ from: 'a', to: 'b', minS: 2, maxS: 10 }], gapS: 5, join: true },
    { name: 'too soon', windows: [{ from: 'a', to: 'b', minS: 2, maxS: 10 }], gapS: 1, join: false },
    { name: 'too late', windows: [{ from: 'a', to: 'b', minS: 2, maxS: 10 }], gapS: 11, join: false },
    { name: 'window for the other direction only, unlisted allowed', windows: [{ from: 'b', to: 'a', minS: 100, maxS: 200 }], gapS: 5, join: true },
    { name: 'no window, unlisted denied', windows: [], unlisted: 'deny', gapS: 5, join: false },
  ];
  for (const row of table) {
    it(`transition a → b: ${row.name}`, () => {
      const e = new ReidEngine(8, { ...opts, trackTimeoutMs: 0, transitions: row.windows, unlistedTransitions: row.unlisted || 'allow' });
      step(e, 'a', 0, [det(1)], [unit(0)]);
      e.sweep(1);
      const u = step(e, 'b', row.gapS * 1000, [det(9)], [unit(0)]);
      assert.strictEqual(u.joins.length, row.join ? 1 : 0);
    });
  }

  it('floor gate: a match needs a walkable distance between calibrated cameras', () => {
    // Both cameras see the same 10 × 10 floor square, camera b's image is mirrored left-right.
    /** @type {Point[]} */
    const image = [
      [0, 0],
      [640, 0],
      [640, 480],
      [0, 480],
    ];
    /** @type {ReidOptions['calibrations']} */
    const cal = {
      a: {
        image,
        floor: [
          [0, 0],
          [10, 0],
          [10, 10],
          [0, 10],
        ],
      },
      b: {
        image,
        floor: [
          [10, 0],
          [0, 0],
          [0, 10],
          [10, 10],
        ],
      },
    };
    const run = (xB) => {
      const e = new ReidEngine(8, { ...opts, trackTimeoutMs: 0, calibrations: cal, maxSpeed: 1, floorTolerance: 0.5 });
      step(e, 'a', 0, [{ box: [0, 380, 64, 480 - 5], score: 1, classId: 0, label: 'p', trackId: 1 }], [unit(0)]);
      e.sweep(1);
      return step(e, 'b', 1000, [{ box: [xB, 380, xB + 64, 475], score: 1, classId: 0, label: 'p', trackId: 2 }], [unit(0)]).joins.length;
    };
    assert.strictEqual(run(640 - 64 - 3), 1, 'same floor spot seen from b');
    assert.strictEqual(run(3), 0, '10 units away in 1 s at ≤ 1 unit/s');
  });

  it('validates options with messages that say what is wrong', () => {
    assert.throws(() => resolveReidOptions({ threshold: 2 }), /threshold must be a number in \[-1, 1\]/);
    assert.throws(() => resolveReidOptions({ sampleEvery: 0 }), /sampleEvery/);
    assert.throws(() => resolveReidOptions(/** @type {any} */ ({ bogus: 1 })), /unknown reid option "bogus"/);
    assert.throws(() => resolveReidOptions({ transitions: [{ from: 'a', to: 'b', minS: 5, maxS: 1 }] }), /maxS \(1\) is below minS \(5\)/);
    assert.throws(() => resolveReidOptions({ quality: { maxOverlap: 3 } }), /maxOverlap/);
    assert.throws(() => new ReidEngine(8, { calibrations: { a: { image: [[0, 0]], floor: [[0, 0]] } } }), /camera a: homography needs at least 4 point pairs/);
  });
});

describe('reid: homography', () => {
  it('recovers a known projective map from 4 and from 6 (noisy-free) pairs', () => {
    const H = [0.02, 0.001, -1, 0.0005, 0.03, -2, 0.0001, 0.0008, 1];
    /** @type {Point[]} */
    const img = [
      [10, 20],
      [600, 30],
      [620, 460],
      [30, 470],
      [300, 240],
      [100, 400],
    ];
    const floor = img.map((p) => applyHomography(H, p));
    for (const n of [4, 6]) {
      const h = homographyFromPairs(img.slice(0, n), floor.slice(0, n));
      for (const p of /** @type {Point[]} */ ([
        [50, 50],
        [320, 200],
        [500, 440],
      ])) {
        const a = applyHomography(h, p);
        const b = applyHomography(H, p);
        assert.ok(Math.hypot(a[0] - b[0], a[1] - b[1]) < 1e-6, `n=${n}: ${a} vs ${b}`);
      }
    }
  });
  it('refuses degenerate or short input', () => {
    assert.throws(
      () =>
        homographyFromPairs(
          [
            [0, 0],
            [1, 1],
            [2, 2],
            [3, 3],
          ],
          [
            [0, 0],
            [1, 0],
            [1, 1],
            [0, 1],
          ],
        ),
      /do not define a homography/,
    );
    assert.throws(
      () =>
        homographyFromPairs(
          [[0, 0]],
          [
            [0, 0],
            [1, 1],
          ],
        ),
      /as many floor points/,
    );
  });
});

describe('reid: quality gate', () => {
  /** @type {{ name: string, boxes: Box[], want: string[] }[]} */
  const rows = [
    { name: 'good', boxes: [[100, 100, 150, 250]], want: ['ok'] },
    { name: 'too short', boxes: [[100, 100, 150, 150]], want: ['small'] },
    { name: 'too narrow', boxes: [[100, 100, 110, 250]], want: ['small'] },
    { name: 'cut by the left edge', boxes: [[0, 100, 50, 250]], want: ['edge'] },
    { name: 'cut by the bottom edge', boxes: [[100, 400, 150, 480]], want: ['edge'] },
    {
      name: 'half covered by a neighbour (the neighbour is fine)',
      boxes: [
        [100, 100, 150, 250],
        [125, 50, 300, 300],
      ],
      want: ['overlapped', 'ok'],
    },
    {
      name: 'touching neighbours',
      boxes: [
        [100, 100, 150, 250],
        [150, 100, 200, 250],
      ],
      want: ['ok', 'ok'],
    },
  ];
  for (const r of rows) it(r.name, () => assert.deepStrictEqual(judgeQuality(r.boxes, 640, 480), r.want));
});

describe('reid: crops and the colour descriptor', () => {
  /**
   * 4×H rgb image: left half red, right half blue.
   * @returns {SourceImage}
   */
  function img(h = 4) {
    const data = new Uint8Array(4 * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < 4; x++) data.set(x < 2 ? [255, 0, 0] : [0, 0, 255], (y * 4 + x) * 3);
    return { data, width: 4, height: h, format: 'rgb24' };
  }
  it('crops and stretches into planar floats with normalisation and channel order', () => {
    const out = new Float32Array(3 * 2 * 2);
    cropResizeInto(img(), [0, 0, 2, 4], 2, 2, { channelOrder: 'rgb', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] }, out);
    assert.deepStrictEqual(Array.from(out), [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    cropResizeInto(img(), [2, 0, 4, 4], 2, 2, { channelOrder: 'bgr', scale: 1, mean: [0, 0, 0], std: [1, 1, 1] }, out);
    assert.deepStrictEqual(Array.from(out.subarray(0, 4)), [255, 255, 255, 255], 'blue first in bgr');
    assert.throws(() => cropResizeInto(img(), [10, 10, 20, 20], 2, 2, { channelOrder: 'rgb', scale: 1, mean: [0, 0, 0], std: [1, 1, 1] }, out), /outside/);
  });
  it('tells red from blue clothes and is L2-normalised', () => {
    const red = colourDescriptor(img(), [0, 0, 2, 4], { ...DEFAULT_COLOUR, trimX: 0 });
    const blue = colourDescriptor(img(), [2, 0, 4, 4], { ...DEFAULT_COLOUR, trimX: 0 });
    assert.strictEqual(red.length, colourDimension(DEFAULT_COLOUR));
    assert.ok(Math.abs(dot(red, red) - 1) < 1e-5);
    assert.ok(dot(red, blue) < 0.01, `red·blue = ${dot(red, blue)}`);
    // A shorter crop of the same red: every stripe still red.
    assert.ok(
      dot(
        colourDescriptor(img(12), [0, 0, 2, 12], { ...DEFAULT_COLOUR, trimX: 0 }),
        colourDescriptor(img(12), [0, 3, 2, 12], { ...DEFAULT_COLOUR, trimX: 0 }),
      ) > 0.99,
    );
  });
});

describe('reid: retrieval metrics', () => {
  it('rank-1 and mAP on a hand-checked ranking, near-duplicates left out', () => {
    const crops = [
      { identity: 'a', sequence: 's', frame: 0 },
      { identity: 'a', sequence: 's', frame: 1 }, // near-duplicate of the first (gap 5)
      { identity: 'a', sequence: 's', frame: 20 },
      { identity: 'b', sequence: 's', frame: 0 },
    ];
    const v = [unit(0), unit(0), unit(0, 1, 1), unit(1, 0, 0.5)];
    const r = retrieval(crops, v, 5);
    // Queries a@0 and a@1: a@20 (0.71) above b (0.45) → hit, AP 1. Query a@20: b (0.95) above a@0 and
    // a@1 (0.71 each) → miss, AP (1/2 + 2/3)/2. Query b has no true match and is not counted.
    assert.strictEqual(r.queries, 3);
    assert.ok(Math.abs(r.rank1 - 2 / 3) < 1e-9);
    assert.ok(Math.abs(r.mAP - (2 + 7 / 12) / 3) < 1e-6, String(r.mAP));
  });
});

describe('reid: threshold calibration', () => {
  const { ThresholdCalibration } = require('../../dist/nodes/lib/reid/calibration.js');
  it('uses the fixed threshold until it has enough pairs, then the lowest score the target share of negatives reach (95 % bound)', () => {
    const c = new ThresholdCalibration(0.6, { targetFalseJoinRate: 0.01, minNegatives: 100, minPositives: 10 });
    for (let i = 0; i < 99; i++) c.addNegative(0.2 + (i % 10) * 0.01); // 0.20 … 0.29
    c.addNegative(0.7); // one outlier: 1 % of 100
    for (let i = 0; i < 9; i++) c.addPositive(0.8);
    assert.deepStrictEqual([c.ready, c.threshold()], [false, 0.6]);
    c.addPositive(0.8);
    assert.strictEqual(c.ready, true);
    // 100 pairs cannot show a 1 % rate with confidence: no negative may reach the threshold.
    assert.ok(c.threshold() > 0.7 && c.threshold() <= 0.705, `threshold ${c.threshold()}`);
    const s = c.state();
    assert.deepStrictEqual([s.mode, s.negatives, s.positives, s.keepRate, s.falseJoinRate], ['learnt', 100, 10, 1, 0]);
    // 2000 pairs, 20 of them spread over 0.60 … 0.79: 1 % is 20, less 7 for chance: the top 12 may reach it.
    const d = new ThresholdCalibration(0.6, { targetFalseJoinRate: 0.01, minNegatives: 100, minPositives: 1 });
    for (let i = 0; i < 1980; i++) d.addNegative(0.2 + (i % 10) * 0.01);
    for (let i = 0; i < 20; i++) d.addNegative(0.6 + i * 0.01);
    d.addPositive(0.9);
    assert.ok(d.threshold() > 0.67 && d.threshold() <= 0.685, `threshold ${d.threshold()}`);
    assert.ok(d.state().falseJoinRate <= 0.01);
  });
  it('keeps the learnt threshold within its floor and ceiling', () => {
    const c = new ThresholdCalibration(0.6, { minNegatives: 1, minPositives: 1, floor: 0.4, ceiling: 0.9 });
    c.addNegative(0.99);
    c.addPositive(1);
    assert.strictEqual(c.threshold(), 0.9);
    const d = new ThresholdCalibration(0.6, { minNegatives: 1, minPositives: 1, floor: 0.4 });
    d.addNegative(-0.5);
    d.addPositive(1);
    assert.strictEqual(d.threshold(), 0.6, 'one negative shows nothing: the learnt threshold may not go below the fixed one');
    for (let i = 1; i < 299; i++) d.addNegative(-0.5);
    assert.strictEqual(d.threshold(), 0.4, '299 negatives show a 1 % rate');
  });
  it('lets the learnt threshold go below the fixed one only once its negatives can show the target rate', () => {
    // (1 − r)^n ≤ 0.05: n ≥ 299 at 1 %, 59 at 5 %.
    const table = [
      { rate: 0.01, n: 298, want: 0.6 },
      { rate: 0.01, n: 299, want: 0.305 },
      { rate: 0.05, n: 58, want: 0.6 },
      { rate: 0.05, n: 59, want: 0.305 },
    ];
    for (const row of table) {
      const c = new ThresholdCalibration(0.6, { targetFalseJoinRate: row.rate, minNegatives: 30, minPositives: 1 });
      for (let i = 0; i < row.n; i++) c.addNegative(0.3);
      c.addPositive(0.9);
      assert.strictEqual(c.threshold(), row.want, JSON.stringify(row));
    }
    // A learnt threshold above the fixed one is used at once (it only tightens).
    const t = new ThresholdCalibration(0.6, { minNegatives: 30, minPositives: 1 });
    for (let i = 0; i < 30; i++) t.addNegative(0.7);
    t.addPositive(0.9);
    assert.strictEqual(t.threshold(), 0.705);
  });
  it('snapshots to JSON and restores; refuses a malformed snapshot and keeps what it had', () => {
    const c = new ThresholdCalibration(0.6, { minNegatives: 3, minPositives: 1 });
    [0.1, 0.2, 0.5].forEach((v) => c.addNegative(v));
    c.addPositive(0.9);
    const snap = JSON.parse(JSON.stringify(c.snapshot()));
    const d = new ThresholdCalibration(0.6, { minNegatives: 3, minPositives: 1 });
    d.restore(snap);
    assert.deepStrictEqual(d.state(), c.state());
    assert.throws(() => d.restore({ version: 2 }), /not a version 1 snapshot/);
    assert.throws(() => d.restore({ version: 1, negatives: [[9999, 1]], positives: [] }), /bad negatives entry/);
    assert.deepStrictEqual(d.state(), c.state());
  });
});
