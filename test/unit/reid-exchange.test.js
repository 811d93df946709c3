'use strict';
// Identities across gateways without a broker: the record format and its bounds, topics, the tap
// that ends tracks when the engine does, the intake rules, the bounded outbound queue, and two
// engines joined through records (what two gateways do over MQTT). Plus the floor map's bounds.
const assert = require('assert');
const ex = require('../../dist/nodes/lib/reid/exchange.js');
const { FloorMap } = require('../../dist/nodes/lib/reid/floor-map.js');
const { ReidEngine } = require('../../dist/nodes/lib/reid/engine.js');
const { l2normalise } = require('../../dist/nodes/lib/vector.js');

function unit(k, dim = 8) {
  const v = new Array(dim).fill(0);
  v[k] = 1;
  v[(k + 1) % dim] = 0.1;
  return Array.from(l2normalise(v));
}
/** @type {(trackId: number, x?: number) => import('../../dist/nodes/lib/types').Detection} */
const det = (trackId, x = 100) => ({ box: [x, 100, x + 50, 250], score: 0.9, classId: 0, label: 'person', trackId });
const record = (over = {}) => ({
  v: 1,
  gateway: 'gw-a',
  camera: 'cam-1',
  trackId: 3,
  globalId: 'gw-a:p1',
  modelId: 'colour:v1:8',
  firstMs: 0,
  endMs: 1000,
  samples: 4,
  embedding: unit(2),
  ...over,
});

describe('reid exchange: records and topics', () => {
  const expect = { modelId: 'colour:v1:8', dim: 8 };

  it('round-trips a record, floor included', () => {
    const r = record({ floor: [1.5, 2] });
    assert.deepStrictEqual(ex.decodeRecord(ex.encodeRecord(r), expect), r);
    assert.deepStrictEqual(ex.decodeRecord(Buffer.from(ex.encodeRecord(r)), expect), r);
  });

  // Each row: what is wrong with the payload → the reason it is refused with.
  /** @type {[string, string | Uint8Array, RegExp][]} */
  const bad = [
    [
      'a model id of another embedder',
      ex.encodeRecord(record({ modelId: 'onnx:osnet:512', embedding: new Array(512).fill(0) })),
      /model onnx:osnet:512 is not this gateway's colour:v1:8/,
    ],
    ['a wrong dimension', ex.encodeRecord(record({ embedding: [1, 0] })), /embedding must be 8 numbers/],
    [
      'a NaN in the embedding',
      ex
        .encodeRecord(record())
        .replace('"embedding":[', '"embedding":["x",')
        .replace(/,[^,\]]+\]/, ']'),
      /not a finite number/,
    ],
    ['another version', ex.encodeRecord(record({ v: 3 })), /version 3 is not 1 or 2/],
    ['a version 2 record without a state', ex.encodeRecord(record({ v: 2 })), /needs state "live" or "ended"/],
    ['no gateway', ex.encodeRecord(record({ gateway: '' })), /gateway must be a non-empty string/],
    ['a 200-character global id', ex.encodeRecord(record({ globalId: 'x'.repeat(200) })), /globalId is longer than 128/],
    ['a bad floor', ex.encodeRecord(record({ floor: [1] })), /floor must be \[X, Y\]/],
    ['not JSON', '{nope', /not JSON/],
    ['an array', '[1,2]', /not a JSON object/],
    ['over the size bound', ex.encodeRecord(record({ camera: 'c'.repeat(70000) })), /over the 65536-byte bound/],
  ];
  for (const [what, payload, reason] of bad) {
    it(`refuses ${what}`, () => assert.throws(() => ex.decodeRecord(payload, expect), reason));
  }

  it('round-trips a live record (version 2); a version-1 record has no state', () => {
    const r = record({ v: 2, state: 'live', floor: [1, 2] });
    assert.deepStrictEqual(ex.decodeRecord(ex.encodeRecord(r), expect), r);
    assert.strictEqual(ex.decodeRecord(ex.encodeRecord(record()), expect).state, undefined);
  });

  it('live records go one level below the camera, where version-1 subscribers (+/+) never look', () => {
    assert.strictEqual(ex.liveTopic('plant/reid', 'colour:v1:8', 'gw-a', 'cam/1'), 'plant/reid/colour:v1:8/gw-a/cam_1/live');
    assert.strictEqual(ex.liveSubscriptionTopic('plant/reid', 'colour:v1:8'), 'plant/reid/colour:v1:8/+/+/live');
  });

  it('builds topics whose levels cannot hold wildcards or separators; model ids keep models apart', () => {
    assert.strictEqual(ex.identityTopic('plant/reid', 'onnx:osnet:512', 'gw+1', 'cam/#2'), 'plant/reid/onnx:osnet:512/gw_1/cam__2');
    assert.strictEqual(ex.subscriptionTopic('plant/reid', 'colour:v1:168'), 'plant/reid/colour:v1:168/+/+');
    assert.strictEqual(ex.presenceTopic('plant/reid', 'gw-a'), 'plant/reid/_gateways/gw-a');
    assert.strictEqual(ex.modelIdOf('colour', 168), 'colour:v1:168');
    assert.strictEqual(ex.modelIdOf('onnx', 512, 'osnet_x0_25_msmt17.onnx'), 'onnx:osnet_x0_25_msmt17:512');
    assert.notStrictEqual(ex.modelIdOf('onnx', 512, 'a'), ex.modelIdOf('onnx', 512, 'b'));
    for (const bad of ['', 'a/#', '/a', 'a/', 'a//b', 'a/+/b']) assert.throws(() => ex.checkTopicRoot(bad), /topic root/, bad);
    assert.strictEqual(ex.checkTopicRoot(' edgevision/reid '), 'edgevision/reid');
  });
});

describe('reid exchange: intake and queue', () => {
  it('accepts another gateway once, newer records only; never its own', () => {
    const i = new ex.RemoteIntake('gw-b', 2);
    assert.strictEqual(i.judge(record({ gateway: 'gw-b' })), 'own');
    assert.strictEqual(i.judge(record()), 'accept');
    assert.strictEqual(i.judge(record()), 'duplicate', 'a QoS 1 redelivery');
    assert.strictEqual(i.judge(record({ endMs: 500 })), 'stale');
    assert.strictEqual(i.judge(record({ endMs: 2000 })), 'accept');
    i.noteLocal('gw-a:p1', 5000);
    assert.strictEqual(i.judge(record({ endMs: 3000 })), 'stale', 'older than what this gateway saw itself');
    // Bounded: two identities remembered at most.
    i.judge(record({ globalId: 'x' }));
    i.judge(record({ globalId: 'y' }));
    assert.strictEqual(i.judge(record({ endMs: 3000 })), 'accept', 'the oldest identity was forgotten');
  });

  it('the outbound queue keeps the newest `capacity` records and counts what it dropped', () => {
    const q = new ex.OutboundQueue(3);
    for (let k = 0; k < 5; k++) q.push(k);
    assert.deepStrictEqual([q.length, q.dropped], [3, 2]);
    assert.deepStrictEqual(q.take(2), [2, 3]);
    q.unshift([2, 3]);
    q.push(5);
    assert.deepStrictEqual([q.take(10), q.dropped], [[3, 4, 5], 3]);
    assert.throws(() => new ex.OutboundQueue(0), /whole number ≥ 1/);
  });
});

describe('reid exchange: the tap and two engines', () => {
  const opts = { minSamples: 2, sampleEvery: 1, threshold: 0.8, margin: 0.02, trackTimeoutMs: 1000 };

  /** One frame through an engine and its tap, embeddings given per track id. */
  function frame(engine, tap, camera, tMs, tracks) {
    const dets = tracks.map(([id, , x]) => det(id, x));
    const embs = new Map(tracks.map(([, k], i) => [i, unit(k)]));
    const u = engine.update(camera, tMs, dets, embs, 640, 480);
    const sampled = new Map(u.sampled.map((i) => [i, embs.get(i)]));
    return { u, ended: tap.observe(camera, tMs, dets, sampled, u.globalIds) };
  }

  it('ends a track when the engine does, with the same average, and only tracks with an identity', () => {
    const engine = new ReidEngine(8, opts);
    const tap = new ex.TrackTap({ momentum: engine.options.momentum, trackTimeoutMs: 1000, maxTracks: 10, minSamples: 2 });
    frame(engine, tap, 'cam-1', 0, [[1, 0]]);
    frame(engine, tap, 'cam-1', 100, [[1, 0]]);
    assert.deepStrictEqual(frame(engine, tap, 'cam-1', 1100, []).ended, [], 'not yet: 1000 ms is not over the timeout');
    const { ended } = frame(engine, tap, 'cam-1', 1101, []);
    assert.strictEqual(ended.length, 1);
    assert.strictEqual(ended[0].globalId, 'p1');
    assert.deepStrictEqual([ended[0].firstMs, ended[0].endMs, ended[0].samples], [0, 100, 2]);
    // The engine's gallery holds the same average: a search with it is a perfect match.
    assert.ok(engine.searchGallery(ended[0].embedding).similarity > 0.9999);
    assert.strictEqual(tap.size, 0, 'per-track state evicted');
    const rec = ex.toRecord(ended[0], 'gw-a', 'colour:v1:8');
    assert.deepStrictEqual([rec.gateway, rec.camera, rec.globalId, rec.embedding.length], ['gw-a', 'cam-1', 'p1', 8]);
    // Track-end events, a camera reset and the live-track bound end tracks too.
    // An identity given on fewer than minSamples good crops (provisional) is not published.
    tap.observe('cam-1', 2000, [det(5)], new Map([[0, unit(3)]]), ['p9']);
    tap.observe('cam-1', 2040, [det(5)], new Map(), ['p9']);
    assert.strictEqual(tap.end('cam-1', 5), undefined, 'one sample is not a confirmed identity');
    tap.observe('cam-1', 2000, [det(6)], new Map([[0, unit(3)]]), ['p10']);
    tap.observe('cam-1', 2040, [det(6)], new Map([[0, unit(3)]]), ['p10']);
    assert.strictEqual(tap.end('cam-1', 6).globalId, 'p10', 'two samples: published');
    const small = new ex.TrackTap({ momentum: 0.8, trackTimeoutMs: 1000, maxTracks: 1, minSamples: 2 });
    const e2 = new ReidEngine(8, opts);
    frame(e2, small, 'c', 0, [[1, 0, 0]]);
    frame(e2, small, 'c', 10, [[1, 0, 0]]);
    assert.strictEqual(frame(e2, small, 'c', 20, [[2, 4, 300]]).ended.length, 1, 'over maxTracks: the longest-unseen track ends');
    assert.strictEqual(small.endCamera('c').length, 0);
  });

  it('a person who leaves gateway A keeps the global id at gateway B; another person does not take it', () => {
    const a = new ReidEngine(8, { ...opts, idPrefix: 'gw-a:p' });
    const b = new ReidEngine(8, { ...opts, idPrefix: 'gw-b:p' });
    const tapA = new ex.TrackTap({ momentum: 0.8, trackTimeoutMs: 1000, maxTracks: 10, minSamples: 2 });
    frame(a, tapA, 'cam-1', 0, [[7, 2]]);
    frame(a, tapA, 'cam-1', 40, [[7, 2]]);
    const [ended] = frame(a, tapA, 'cam-1', 1100, []).ended;
    const wire = ex.encodeRecord(ex.toRecord(ended, 'gw-a', 'colour:v1:8'));
    const r = ex.decodeRecord(wire, { modelId: 'colour:v1:8', dim: 8 });
    b.addToGallery({ globalId: r.globalId, camera: ex.remoteCamera(r), endMs: r.endMs, floor: r.floor }, r.embedding);
    const tapB = new ex.TrackTap({ momentum: 0.8, trackTimeoutMs: 1000, maxTracks: 10, minSamples: 2 });
    frame(b, tapB, 'cam-9', 3000, [
      [41, 2, 100],
      [42, 5, 300],
    ]);
    const { u } = frame(b, tapB, 'cam-9', 3040, [
      [41, 2, 100],
      [42, 5, 300],
    ]);
    assert.strictEqual(u.globalIds[0], 'gw-a:p1', "the person from A keeps A's id");
    // Someone else gets an id of B's own (which number depends on how the engine mints provisional ids).
    assert.match(u.globalIds[1], /^gw-b:p\d+$/);
  });
});

describe('reid floor map', () => {
  it('keeps the newest point per id, drops people their camera no longer shows, and cameras that stopped', () => {
    const m = new FloorMap({ holdMs: 500, staleMs: 10000, capacity: 3 });
    m.update('c1', 0, 0, [{ globalId: 'p1', floor: [1, 2] }]);
    m.update('c2', 100, 0, [
      { globalId: 'p1', floor: [1.1, 2] },
      { globalId: 'p2', floor: [5, 5], trackId: 7 },
    ]);
    assert.deepStrictEqual(
      m.snapshot(1000).map((p) => [p.globalId, p.camera, p.floor]),
      [
        ['p1', 'c2', [1.1, 2]],
        ['p2', 'c2', [5, 5]],
      ],
    );
    m.update('c2', 700, 2000, [{ globalId: 'p1', floor: [1.2, 2] }]);
    assert.deepStrictEqual(
      m.snapshot(2000).map((p) => p.globalId),
      ['p1'],
      'p2 not seen by c2 for 600 ms of frame time',
    );
    assert.deepStrictEqual(m.snapshot(12001), [], 'c2 sent nothing for 10 s of wall time');
    for (let k = 0; k < 10; k++) m.update('c3', k, 20000, [{ globalId: `q${k}`, floor: [k, 0] }]);
    assert.ok(m.snapshot(20000).length <= 3, 'bounded');
  });

  it('projects the bottom centre of a box through the camera homography', () => {
    const p = new ex.FloorProjector({
      cam: {
        image: [
          [0, 0],
          [100, 0],
          [100, 100],
          [0, 100],
        ],
        floor: [
          [0, 0],
          [10, 0],
          [10, 10],
          [0, 10],
        ],
      },
    });
    assert.deepStrictEqual(p.project('cam', [40, 20, 60, 80]), [5, 8]);
    assert.strictEqual(p.project('other', [0, 0, 1, 1]), undefined);
  });
});

// Two gateways whose cameras see the same place at the same time: live records through the wire
// format (encode → decode → intake → observeRemote), the same rules as overlapping local cameras.
describe('reid exchange: live tracks across gateways (overlapping views)', () => {
  /** @type {import('../../dist/nodes/lib/reid/engine').ReidOptionsInput} */
  const opts = { minSamples: 2, sampleEvery: 1, threshold: 0.8, margin: 0.02, trackTimeoutMs: 1000, calibrate: 'off' };
  const modelId = 'colour:v1:8';

  function gateway(name, extra = {}) {
    const engine = new ReidEngine(8, { ...opts, idPrefix: `${name}:p`, ...extra });
    const tap = new ex.TrackTap(
      { momentum: engine.options.momentum, trackTimeoutMs: 1000, maxTracks: 10, minSamples: 2, liveEveryMs: 1000 },
      new ex.FloorProjector(extra.calibrations || {}),
    );
    return { name, engine, tap, intake: new ex.RemoteIntake(name), outbox: [], joins: [], splits: [] };
  }

  /** One frame at one gateway: tracks [trackId, embedding index (or vector), x]; its records go to its outbox. */
  function step(g, camera, tMs, tracks) {
    const dets = tracks.map(([id, , x]) => det(id, x));
    const embs = new Map(tracks.map(([, k], i) => [i, Array.isArray(k) ? k : unit(k)]));
    const u = g.engine.update(camera, tMs, dets, embs, 640, 480);
    g.joins.push(...u.joins);
    g.splits.push(...u.splits);
    const sampled = new Map(u.sampled.map((i) => [i, embs.get(i)]));
    for (const e of g.tap.observe(camera, tMs, dets, sampled, u.globalIds)) g.outbox.push(ex.encodeRecord(ex.toRecord(e, g.name, modelId)));
    for (const e of g.tap.dueLive(tMs)) g.outbox.push(ex.encodeRecord(ex.toRecord(e, g.name, modelId)));
    return u;
  }

  /** What the share glue does with each record another gateway sent. */
  function deliver(from, to) {
    for (const wire of from.outbox.splice(0)) {
      const r = ex.decodeRecord(wire, { modelId, dim: 8 });
      const key = ex.remoteTrackKey(r);
      if (r.state === 'live') {
        if (to.intake.judgeLive(r) === 'accept')
          to.engine.observeRemote({
            key,
            globalId: r.globalId,
            camera: ex.remoteCamera(r),
            firstMs: r.firstMs,
            lastMs: r.endMs,
            embedding: r.embedding,
            floor: r.floor,
            olderOnTie: r.gateway < to.name,
          });
        continue;
      }
      const v = to.intake.judge(r);
      to.intake.forgetLive(r);
      to.engine.endRemote(key);
      if (v === 'accept') to.engine.addToGallery({ globalId: r.globalId, camera: ex.remoteCamera(r), endMs: r.endMs, floor: r.floor }, r.embedding);
    }
  }

  it('a person seen by both gateways at once has one global id while both tracks are live; a stranger does not take it', () => {
    const a = gateway('gw-a');
    const b = gateway('gw-b');
    const idsB = [];
    for (let t = 0; t <= 2000; t += 40) {
      const ua = step(a, 'cam-1', t, [[5, 2, 100]]);
      deliver(a, b);
      if (t >= 400) {
        const ub = step(b, 'cam-9', t, [
          [50, 2, 300],
          [51, 6, 100],
        ]);
        deliver(b, a);
        if (t >= 480) idsB.push([ua.globalIds[0], ub.globalIds[0], ub.globalIds[1]]);
      }
    }
    assert.ok(idsB.length > 30);
    for (const [ida, idb, other] of idsB) {
      assert.strictEqual(ida, 'gw-a:p1', 'A keeps its own id (it saw the person first)');
      assert.strictEqual(idb, 'gw-a:p1', 'B joined the live track of A');
      assert.match(other, /^gw-b:p\d+$/);
    }
    assert.strictEqual(b.joins.length, 1);
    assert.deepStrictEqual([b.joins[0].live, b.joins[0].fromCamera, b.joins[0].gapMs <= 0], [true, 'gw-a/cam-1', true]);
    assert.deepStrictEqual([a.joins.length, a.splits.length, b.splits.length], [0, 0, 0]);
    assert.strictEqual(b.engine.stats().remoteLive, 1, 'one live track of A held at B');
    // Live records are rate-limited: a steady track is re-sent once a second, not every frame.
    const liveFromA = [];
    const g = gateway('gw-a');
    for (let t = 0; t <= 3000; t += 40) {
      step(g, 'cam-1', t, [[5, 2, 100]]);
      for (const w of g.outbox.splice(0)) liveFromA.push(ex.decodeRecord(w, { modelId, dim: 8 }));
    }
    assert.deepStrictEqual(
      liveFromA.map((r) => [r.state, r.endMs]),
      [
        ['live', 40],
        ['live', 1040],
        ['live', 2040],
      ],
    );
  });

  it('when the ended record comes, the live entry goes and the identity stays (through the gallery)', () => {
    const a = gateway('gw-a');
    const b = gateway('gw-b');
    let last;
    for (let t = 0; t <= 3000; t += 40) {
      step(a, 'cam-1', t, t <= 1000 ? [[5, 2, 100]] : []);
      deliver(a, b);
      last = step(b, 'cam-9', t, t >= 200 ? [[50, 2, 300]] : []);
      deliver(b, a);
    }
    assert.strictEqual(last.globalIds[0], 'gw-a:p1');
    assert.strictEqual(b.engine.stats().remoteLive, 0, 'A ended the track: no longer live at B');
    assert.deepStrictEqual(b.splits, []);
  });

  it('splits when the evidence contradicts: the remote track turns out to look like someone else', () => {
    const a = gateway('gw-a');
    const b = gateway('gw-b');
    for (let t = 0; t <= 4000; t += 40) {
      // A's track drifts to another appearance after 1.5 s (its tracker swapped people, say).
      step(a, 'cam-1', t, [[5, t < 1500 ? 2 : 6, 100]]);
      deliver(a, b);
      step(b, 'cam-9', t, t >= 200 ? [[50, 2, 300]] : []);
      deliver(b, a);
    }
    assert.strictEqual(b.joins.length, 1, 'joined first');
    assert.strictEqual(b.splits.length, 1, JSON.stringify(b.splits));
    assert.deepStrictEqual([b.splits[0].globalId, b.splits[0].reason], ['gw-a:p1', 'below-threshold']);
    assert.strictEqual(b.engine.trackIdentity('cam-9', 50), b.splits[0].newGlobalId);
    assert.match(b.splits[0].newGlobalId, /^gw-b:p\d+$/);
  });

  it('tracks that start in the same ms: exactly one gateway follows the other (no swap, no loop)', () => {
    const a = gateway('gw-a');
    const b = gateway('gw-b');
    let ua, ub;
    for (let t = 0; t <= 1500; t += 40) {
      ua = step(a, 'cam-1', t, [[5, 2, 100]]);
      ub = step(b, 'cam-9', t, [[50, 2, 300]]);
      deliver(a, b);
      deliver(b, a);
    }
    assert.deepStrictEqual([ua.globalIds[0], ub.globalIds[0]], ['gw-a:p1', 'gw-a:p1']);
    assert.deepStrictEqual([a.joins.length, b.joins.length], [0, 1]);
  });

  it('floor gate: both calibrated, the same look at two floor points 6 m apart is two people', () => {
    const calibrations = (cam) => ({
      [cam]: {
        image: [
          [0, 480],
          [640, 480],
          [640, 0],
          [0, 0],
        ],
        floor: [
          [0, 6],
          [10, 6],
          [10, 0],
          [0, 0],
        ],
      },
    });
    const a = gateway('gw-a', { calibrations: calibrations('cam-1') });
    const b = gateway('gw-b', { calibrations: calibrations('cam-9') });
    let ub;
    for (let t = 0; t <= 1500; t += 40) {
      step(a, 'cam-1', t, [[5, 2, 0]]);
      deliver(a, b);
      if (t >= 200) ub = step(b, 'cam-9', t, [[50, 2, 500]]);
      deliver(b, a);
    }
    assert.match(ub.globalIds[0], /^gw-b:p\d+$/, 'the floor gate kept them apart');
    assert.strictEqual(b.joins.length, 0);
  });

  it('a remote live track that falls silent enters the gallery after remoteHoldMs; a stale update is ignored', () => {
    const e = new ReidEngine(8, { ...opts, remoteHoldMs: 500 });
    const r = { key: 'gw-a/cam\u00001', globalId: 'gw-a:p1', camera: 'gw-a/cam', firstMs: 0, lastMs: 1000, embedding: unit(2), olderOnTie: false };
    e.observeRemote(r);
    e.observeRemote({ ...r, lastMs: 900, globalId: 'old' });
    assert.deepStrictEqual(
      e.remoteLive().map((x) => x.globalId),
      ['gw-a:p1'],
    );
    e.update('cam', 1400, [], new Map(), 640, 480);
    assert.strictEqual(e.stats().remoteLive, 1);
    e.update('cam', 1600, [], new Map(), 640, 480);
    assert.deepStrictEqual([e.stats().remoteLive, e.stats().gallery], [0, 1]);
    assert.throws(() => e.observeRemote({ ...r, embedding: [1, 0] }), /expected 8/);
  });
});
