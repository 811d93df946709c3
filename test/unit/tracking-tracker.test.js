'use strict';
// Tracker scenarios on synthetic detections: crossing, occlusion, the lost buffer, memory, options.
const assert = require('assert');
const {
  Tracker,
  resolveTrackerOptions,
  DEFAULT_TRACKER_OPTIONS,
  overlappingPairs,
  solveSparse,
  MAX_CANDIDATES_PER_BOX,
} = require('../../dist/nodes/lib/tracking/tracker.js');
const { solveAssignment } = require('../../dist/nodes/lib/tracking/assignment.js');
const { iou } = require('../../dist/nodes/lib/geometry.js');

/** @typedef {import('../../dist/nodes/lib/types').Box} Box */
/** @typedef {import('../../dist/nodes/lib/types').Detection} Detection */

/** @type {(cx: number, cy: number, w?: number, h?: number, score?: number, classId?: number) => Detection} */
const person = (cx, cy, w = 40, h = 100, score = 0.95, classId = 0) => ({
  box: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2],
  score,
  classId,
  label: classId === 0 ? 'person' : 'car',
});

/** Runs frames at `fps`; frames[i] is the detections of frame i. Returns per-frame updates. */
function play(tracker, frames, fps = 25, t0 = 0) {
  return frames.map((dets, i) => tracker.update(dets, t0 + (i * 1000) / fps));
}

/** Track id given to detection k of frame i (undefined when unmatched or not confirmed). */
function idOf(update, k) {
  const t = update.tracks.find((tr) => tr.detectionIndex === k);
  return t && t.state === 'confirmed' ? t.trackId : undefined;
}

function lcg(seed) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

describe('tracking/tracker', () => {
  it('two people crossing keep their ids', () => {
    // A walks right, B walks left, 30 px/frame relative, B a little lower (nearer the camera); they
    // overlap heavily around frame 20.
    const frames = [];
    for (let i = 0; i < 40; i++) frames.push([person(100 + 10 * i, 200), person(500 - 10 * i, 215, 44, 110)]);
    const ups = play(new Tracker(), frames);
    const a = idOf(ups[5], 0);
    const b = idOf(ups[5], 1);
    assert.ok(a !== undefined && b !== undefined && a !== b, 'both confirmed with distinct ids');
    for (let i = 5; i < 40; i++) {
      assert.strictEqual(idOf(ups[i], 0), a, `frame ${i}: A`);
      assert.strictEqual(idOf(ups[i], 1), b, `frame ${i}: B`);
    }
    // The scene is hard enough to matter: a filter that cannot learn velocity swaps the two.
    const still = play(new Tracker({ kalman: { initialVelocityStd: 1e-6, processVelocityStd: 1e-6 } }), frames);
    assert.notStrictEqual(idOf(still[39], 0), idOf(still[5], 0));
  });

  it('bridges a 10-frame occlusion within the lost buffer (same id, no end/start events)', () => {
    const frames = [];
    for (let i = 0; i < 50; i++) frames.push(i >= 20 && i < 30 ? [] : [person(100 + 4 * i, 200)]);
    const tracker = new Tracker({ lostBufferS: 1 });
    const ups = play(tracker, frames);
    const id = idOf(ups[10], 0);
    assert.ok(id !== undefined);
    assert.strictEqual(ups[25].tracks.find((t) => t.trackId === id).state, 'lost');
    assert.strictEqual(idOf(ups[30], 0), id);
    assert.strictEqual(idOf(ups[49], 0), id);
    assert.strictEqual(
      ups.reduce((n, u) => n + u.started.length, 0),
      1,
    );
    assert.strictEqual(
      ups.reduce((n, u) => n + u.ended.length, 0),
      0,
    );
  });

  it('removes a track lost for longer than the buffer, evicts its state and emits one end event', () => {
    const tracker = new Tracker({ lostBufferS: 0.5 });
    const frames = [];
    for (let i = 0; i < 10; i++) frames.push([person(100 + 4 * i, 200)]);
    for (let i = 0; i < 20; i++) frames.push([]); // 0.8 s at 25 fps
    const ups = play(tracker, frames);
    const ended = ups.flatMap((u) => u.ended);
    assert.strictEqual(ended.length, 1);
    const e = ended[0];
    assert.strictEqual(e.kind, 'end');
    assert.strictEqual(e.reason, 'lost');
    assert.strictEqual(e.firstSeenMs, 0);
    assert.strictEqual(e.lastSeenMs, 9 * 40);
    assert.ok(Math.abs(e.pathLengthPx - 36) < 1e-9, `path ${e.pathLengthPx}`);
    // removed once more than 500 ms passed since last seen: at frame 9 + 13 (520 ms)
    const endFrame = ups.findIndex((u) => u.ended.length);
    assert.strictEqual(endFrame, 22);
    assert.deepStrictEqual(tracker.internalSizes(), { tracks: 0, classVotes: 0 });
    // The same person coming back later is a new track.
    const again = tracker.update([person(100, 200)], 2000);
    assert.ok(again.tracks[0].trackId > e.trackId);
  });

  it('the lost buffer is measured in time, not frames (uneven frame rate)', () => {
    // Same 0.6 s gap, as 3 frames at 5 fps or as 30 frames at 50 fps: bridged both ways with a 1 s buffer.
    for (const fps of [5, 50]) {
      const tracker = new Tracker({ lostBufferS: 1 });
      const gapFrames = Math.round(0.6 * fps);
      const frames = [];
      for (let i = 0; i < 5; i++) frames.push([person(100, 200)]);
      for (let i = 0; i < gapFrames; i++) frames.push([]);
      frames.push([person(100, 200)]);
      const ups = play(tracker, frames, fps);
      assert.strictEqual(idOf(ups[ups.length - 1], 0), idOf(ups[4], 0), `${fps} fps`);
    }
  });

  it('a low-score detection keeps a confirmed track alive but never starts one', () => {
    const tracker = new Tracker();
    const ups = play(tracker, [[person(100, 200)], [person(102, 200)], [person(104, 200, 40, 100, 0.3)]]);
    const id = idOf(ups[1], 0);
    assert.strictEqual(idOf(ups[2], 0), id);
    const fresh = new Tracker();
    const ups2 = play(fresh, [[person(100, 200, 40, 100, 0.3)], [person(100, 200, 40, 100, 0.3)], [person(100, 200, 40, 100, 0.3)]]);
    assert.strictEqual(ups2[2].tracks.length, 0);
  });

  it('tentative until minHits consecutive matches; a tentative track that misses a frame is dropped silently', () => {
    const tracker = new Tracker({ minHits: 3 });
    const ups = play(tracker, [[person(100, 200)], [person(100, 200)], [person(100, 200)], []]);
    assert.strictEqual(ups[0].tracks[0].state, 'tentative');
    assert.strictEqual(ups[1].tracks[0].state, 'tentative');
    assert.strictEqual(ups[2].tracks[0].state, 'confirmed');
    assert.strictEqual(ups[2].started.length, 1);
    const t2 = new Tracker({ minHits: 3 });
    const ups2 = play(t2, [[person(100, 200)], [person(100, 200)], [], [person(100, 200)]]);
    assert.strictEqual(ups2[2].tracks.length, 0);
    assert.strictEqual(ups2.flatMap((u) => u.ended).length, 0);
  });

  it('class-aware association never matches across classes; class-agnostic does', () => {
    const frames = [[person(100, 200, 40, 100, 0.95, 0)], [person(100, 200, 40, 100, 0.95, 0)], [person(100, 200, 40, 100, 0.95, 2)]];
    const aware = play(new Tracker(), frames);
    assert.notStrictEqual(aware[2].tracks.find((t) => t.detectionIndex === 0).trackId, idOf(aware[1], 0));
    const agnostic = play(new Tracker({ classAware: false }), frames);
    assert.strictEqual(idOf(agnostic[2], 0), idOf(agnostic[1], 0));
  });

  it('appearance (when switched on) picks the detection that looks like the track', () => {
    const e1 = [1, 0, 0, 0];
    const e2 = [0, 1, 0, 0];
    const withEmb = (d, e) => ({ ...d, embedding: e });
    const run = (enabled) => {
      const tr = new Tracker({ appearance: { enabled } });
      play(tr, [[withEmb(person(100, 200), e1)], [withEmb(person(100, 200), e1)]]);
      // Next frame: det 0 overlaps the track less but looks the same; det 1 overlaps more but looks different.
      const u = tr.update([withEmb(person(112, 200), e1), withEmb(person(104, 200), e2)], 80);
      return u.tracks.find((t) => t.trackId === 1).detectionIndex;
    };
    assert.strictEqual(run(false), 1);
    assert.strictEqual(run(true), 0);
  });

  it('sets velocity (px/s) and age from frame times', () => {
    const frames = [];
    for (let i = 0; i < 30; i++) frames.push([person(100 + 2 * i, 200)]); // 2 px/frame at 25 fps = 50 px/s
    const ups = play(new Tracker(), frames, 25, 1000);
    const t = ups[29].tracks[0];
    assert.ok(Math.abs(t.velocity[0] - 50) < 5, `vx ${t.velocity[0]}`);
    assert.ok(Math.abs(t.velocity[1]) < 2, `vy ${t.velocity[1]}`);
    assert.strictEqual(t.ageMs, 29 * 40);
    assert.strictEqual(t.firstSeenMs, 1000);
  });

  it('reset ends confirmed tracks (reason reset) and keeps counting ids', () => {
    const tracker = new Tracker();
    play(tracker, [[person(100, 200)], [person(100, 200)]]);
    const ended = tracker.reset(100);
    assert.deepStrictEqual(
      ended.map((e) => [e.trackId, e.reason]),
      [[1, 'reset']],
    );
    assert.strictEqual(tracker.stats().total, 0);
    const u = tracker.update([person(100, 200)], 0); // time may restart after a reset
    assert.strictEqual(u.tracks[0].trackId, 2);
  });

  it('never mutates the detections it is given', () => {
    const dets = [person(100, 200), person(300, 200, 40, 100, 0.3)];
    const snapshot = JSON.stringify(dets);
    const tracker = new Tracker();
    tracker.update(dets, 0);
    tracker.update(dets, 40);
    assert.strictEqual(JSON.stringify(dets), snapshot);
  });

  it('rejects time going backwards and bad detections with a reason', () => {
    const tracker = new Tracker();
    tracker.update([], 100);
    assert.throws(() => tracker.update([], 50), /went backwards/);
    assert.throws(() => tracker.update([/** @type {any} */ ({ box: [0, 0, 1] })], 200), /detection 0 needs a box/);
    assert.throws(() => tracker.update([], NaN), /tMs must be a finite number/);
    // A rejected frame changes nothing: time did not advance to 200, so 150 is still accepted.
    assert.doesNotThrow(() => tracker.update([], 150));
  });

  /** @type {[object, RegExp][]} */
  const badOptions = [
    [{ highThreshold: 2 }, /highThreshold must be a number in \[0, 1\]/],
    [{ lowThreshold: 0.9, highThreshold: 0.5 }, /lowThreshold .* must not exceed highThreshold/],
    [{ minHits: 1.5 }, /minHits must be an integer/],
    [{ lostBufferS: -1 }, /lostBufferS/],
    [{ classAware: 'yes' }, /classAware must be true or false/],
    [{ appearance: { threshold: 3 } }, /appearance.threshold/],
    [{ maxAge: 30 }, /unknown tracker option "maxAge"/],
  ];
  for (const [opts, re] of badOptions) {
    it(`rejects ${JSON.stringify(opts)}`, () => assert.throws(() => new Tracker(/** @type {any} */ (opts)), re));
  }
  it('fills defaults', () => {
    assert.deepStrictEqual(resolveTrackerOptions({}).minHits, DEFAULT_TRACKER_OPTIONS.minHits);
  });

  it('memory stays flat: 100 000 frames of people coming and going, internal maps bounded', () => {
    const rnd = lcg(12345);
    const tracker = new Tracker();
    const people = []; // {cx, cy, vx, left}
    let maxTracks = 0;
    let maxVotes = 0;
    const samples = [];
    for (let f = 0; f < 100000; f++) {
      if (f % 10 === 0) people.push({ cx: 50 + rnd() * 500, cy: 100 + rnd() * 300, vx: (rnd() - 0.5) * 8, left: 20 + Math.floor(rnd() * 80) });
      const dets = [];
      for (const p of people) {
        p.cx += p.vx;
        p.left--;
        if (rnd() < 0.9) dets.push(person(p.cx + (rnd() - 0.5) * 2, p.cy + (rnd() - 0.5) * 2, 40, 100, 0.5 + rnd() * 0.5));
      }
      for (let i = people.length - 1; i >= 0; i--) if (people[i].left <= 0) people.splice(i, 1);
      if (rnd() < 0.05) dets.push(person(rnd() * 600, rnd() * 400, 30, 60, 0.65)); // clutter
      tracker.update(dets, f * 40);
      const s = tracker.internalSizes();
      maxTracks = Math.max(maxTracks, s.tracks);
      maxVotes = Math.max(maxVotes, s.classVotes);
      if (f % 10000 === 9999) samples.push(s.tracks);
    }
    const ids = tracker.stats().nextId - 1;
    assert.ok(ids > 9000, `tracks came and went: ${ids} ids`);
    // About 6 people are in view at a time, plus lost tracks inside the 1 s buffer.
    assert.ok(maxTracks < 60, `live tracks peaked at ${maxTracks}`);
    assert.ok(maxVotes <= maxTracks, 'one class vote entry per track (one class here)');
    assert.ok(Math.max(...samples.slice(5)) <= Math.max(...samples.slice(0, 5)) + 10, `no growth: ${samples}`);
  });

  describe('bounded work per frame', () => {
    /** @type {(rnd: () => number, n: number, W?: number, H?: number) => Box[]} */
    const randomBoxes = (rnd, n, W = 600, H = 400) =>
      Array.from({ length: n }, () => {
        const x = rnd() * W;
        const y = rnd() * H;
        return [x, y, x + 10 + rnd() * 60, y + 20 + rnd() * 100];
      });

    it('overlappingPairs finds exactly the pairs with positive overlap (brute force), when no box has too many', () => {
      const rnd = lcg(7);
      for (let trial = 0; trial < 30; trial++) {
        const a = randomBoxes(rnd, Math.floor(rnd() * 40));
        const b = randomBoxes(rnd, Math.floor(rnd() * 40));
        const got = overlappingPairs(a, b);
        const pairs = got.rows.map((r, k) => `${r},${got.cols[k]}`).sort();
        const want = [];
        a.forEach((x, r) => b.forEach((y, c) => iou(x, y) > 0 && want.push(`${r},${c}`)));
        assert.deepStrictEqual(pairs, want.sort(), `trial ${trial}`);
      }
    });

    it('overlappingPairs on a flood of identical boxes keeps at most MAX_CANDIDATES_PER_BOX pairs per box', () => {
      const same = Array.from({ length: 1000 }, () => /** @type {Box} */ ([100, 100, 200, 300]));
      const got = overlappingPairs(same, same);
      assert.ok(got.rows.length <= MAX_CANDIDATES_PER_BOX * 1000, `${got.rows.length} pairs`);
      const perRow = new Map();
      got.rows.forEach((r) => perRow.set(r, (perRow.get(r) || 0) + 1));
      assert.ok(Math.max(...perRow.values()) <= MAX_CANDIDATES_PER_BOX);
    });

    it('solveSparse (per connected group) costs the same as the dense gated assignment', () => {
      const rnd = lcg(99);
      for (let trial = 0; trial < 200; trial++) {
        const n = 1 + Math.floor(rnd() * 8);
        const m = 1 + Math.floor(rnd() * 8);
        const gate = 0.8;
        const dense = Array.from({ length: n }, () => Array.from({ length: m }, () => (rnd() < 0.35 ? rnd() * gate : Infinity)));
        const er = [];
        const ec = [];
        const ew = [];
        dense.forEach((row, r) => row.forEach((w, c) => Number.isFinite(w) && (er.push(r), ec.push(c), ew.push(w))));
        const rowToCol = solveSparse(n, m, er, ec, ew, gate);
        const cost = (r2c) => r2c.reduce((sum, c, r) => sum + (c >= 0 ? dense[r][c] : gate), 0);
        const want = solveAssignment(dense, { unmatchedCost: gate });
        assert.ok(Math.abs(cost(rowToCol) - cost(want.rowToCol)) < 1e-9, `trial ${trial}: ${cost(rowToCol)} vs ${cost(want.rowToCol)}`);
        const cols = rowToCol.filter((c) => c >= 0);
        assert.strictEqual(new Set(cols).size, cols.length, 'a column at most once');
      }
    });

    it('a flood of identical boxes at the cap: every detection handled, one track per detection, lost tracks bounded by maxLostTracks', () => {
      const tracker = new Tracker({ maxLostTracks: 50 });
      const flood = Array.from({ length: 1000 }, () => /** @type {Detection} */ ({ box: [100, 100, 200, 300], score: 0.95, classId: 0, label: 'person' }));
      let u;
      for (let f = 0; f < 3; f++) u = tracker.update(flood, f * 40);
      assert.strictEqual(u.tracks.filter((t) => t.detectionIndex >= 0).length, 1000, 'each detection matched to a track');
      assert.strictEqual(tracker.stats().total, 1000);
      // The flood stops: the 1000 confirmed tracks become lost, and all but 50 of them end at once.
      u = tracker.update([], 120);
      assert.strictEqual(tracker.stats().lost, 50);
      assert.strictEqual(u.ended.length, 950);
      assert.ok(u.ended.every((e) => e.reason === 'lost'));
    });

    it('maxLostTracks is checked like every option', () => {
      assert.throws(() => new Tracker({ maxLostTracks: -1 }), /maxLostTracks must be an integer in \[0, 1000000\]/);
    });
  });
});
