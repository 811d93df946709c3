'use strict';
// vision-track in a real Node-RED runtime (node-red-node-test-helper), fed real MOT15 detections.
const assert = require('assert');
const fs = require('fs');
const helper = require('node-red-node-test-helper');
const trackNode = require('../../dist/nodes/track/track.js');
const { parseMot, groupByFrame, rowsToDetections } = require('../../dist/nodes/lib/eval/mot/io.js');
const { asset } = require('../helpers/assets');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const statusNode = require('@node-red/nodes/core/common/25-status.js');
const completeNode = require('@node-red/nodes/core/common/24-complete.js');
const { waitFor } = require('../helpers/wait');
const NODES = [trackNode, catchNode, statusNode, completeNode];

helper.init(require.resolve('node-red'));

function flow(props = {}) {
  const z = 'tab1';
  const at = { x: 100, y: 100 };
  return [
    { id: z, type: 'tab', label: 'track' },
    { id: 'trk', z, ...at, type: 'vision-track', wires: [['out'], ['events']], ...props },
    { id: 'out', z, ...at, type: 'helper' },
    { id: 'events', z, ...at, type: 'helper' },
    { id: 'catch', z, ...at, type: 'catch', scope: ['trk'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z, ...at, type: 'helper' },
    { id: 'stat', z, ...at, type: 'status', scope: ['trk'], wires: [['statuses']] },
    { id: 'statuses', z, ...at, type: 'helper' },
    { id: 'comp', z, ...at, type: 'complete', scope: ['trk'], wires: [['completed']] },
    { id: 'completed', z, ...at, type: 'helper' },
  ];
}

function collect(node) {
  const got = [];
  node.on('input', (m) => got.push(m));
  return got;
}

const FPS = 25;
let tud; // TUD-Campus detections per frame
const frameMsg = (camera, f, detections, extra = {}) => ({
  topic: camera,
  payload: { camera, frame: { camera, seq: f, tMs: (f * 1000) / FPS, width: 640, height: 480, format: 'rgb24' }, detections },
  ...extra,
});
const person = (x, score = 0.95) => ({ box: [x, 100, x + 40, 200], score, classId: 0, label: 'person' });

async function load(props) {
  await helper.load(NODES, flow(props));
  const h = {};
  for (const id of ['trk', 'out', 'events', 'caught', 'statuses', 'completed']) h[id] = helper.getNode(id);
  h.got = { out: collect(h.out), events: collect(h.events), caught: collect(h.caught), statuses: collect(h.statuses), completed: collect(h.completed) };
  return h;
}

describe('vision-track node', function () {
  before(() => {
    const by = groupByFrame(parseMot(fs.readFileSync(asset('mot15/TUD-Campus/det/det.txt'), 'utf8')));
    tud = [];
    for (let f = 1; f <= 71; f++) tud.push(rowsToDetections(by.get(f) || []));
  });
  afterEach(async () => {
    await helper.unload();
  });

  it('tracks a real sequence: ids, states, velocity, age on detections; start events; done() per message; status', async () => {
    const h = await load();
    tud.forEach((dets, i) => h.trk.receive(frameMsg('cam1', i, dets, { keep: 'me' })));
    await waitFor(() => h.got.completed.length === 71, 3000, '71 completes');
    assert.strictEqual(h.got.out.length, 71);
    assert.strictEqual(h.got.caught.length, 0);
    const last = h.got.out[70];
    assert.strictEqual(last.topic, 'cam1');
    assert.strictEqual(last.keep, 'me', 'other msg properties are kept');
    const confirmed = last.payload.detections.filter((d) => d.trackState === 'confirmed');
    assert.ok(confirmed.length >= 3, `confirmed at the last frame: ${confirmed.length}`);
    for (const d of confirmed) {
      assert.ok(Number.isInteger(d.trackId) && d.trackId > 0);
      assert.ok(Array.isArray(d.velocity) && d.velocity.length === 2 && d.velocity.every(Number.isFinite));
      assert.ok(d.ageMs > 0);
    }
    const starts = h.got.events.filter((m) => m.payload.event === 'track-start');
    assert.ok(starts.length >= 5, `${starts.length} starts`);
    for (const s of starts) {
      assert.strictEqual(s.topic, 'cam1');
      assert.strictEqual(s.payload.camera, 'cam1');
      assert.ok(Number.isFinite(s.payload.firstSeenMs));
    }
    // Every confirmed id on output 1 was announced on output 2.
    const announced = new Set(starts.map((s) => s.payload.trackId));
    for (const m of h.got.out) for (const d of m.payload.detections) if (d.trackState === 'confirmed') assert.ok(announced.has(d.trackId), `id ${d.trackId}`);
    await waitFor(() => h.got.statuses.some((s) => /\d+ active · 1 camera/.test(s.status.text)), 2500, 'status with active tracks');
  });

  it('a track that disappears for longer than the buffer ends with first/last seen and path length', async () => {
    const h = await load({ lostBufferS: 0.2 });
    for (let f = 0; f < 10; f++) h.trk.receive(frameMsg('cam1', f, [person(100 + 3 * f)]));
    for (let f = 10; f < 20; f++) h.trk.receive(frameMsg('cam1', f, []));
    await waitFor(() => h.got.completed.length === 20, 2000, 'completes');
    const ends = h.got.events.filter((m) => m.payload.event === 'track-end');
    assert.strictEqual(ends.length, 1);
    const e = ends[0].payload;
    assert.strictEqual(e.reason, 'lost');
    assert.strictEqual(e.firstSeenMs, 0);
    assert.strictEqual(e.lastSeenMs, 9 * 40);
    assert.strictEqual(e.durationMs, 360);
    assert.strictEqual(e.pathLengthPx, 27);
  });

  it('keeps one tracker per camera (ids counted per camera) and resets one camera by topic "reset"', async () => {
    const h = await load();
    for (let f = 0; f < 3; f++) {
      h.trk.receive(frameMsg('a', f, [person(100)]));
      h.trk.receive(frameMsg('b', f, [person(300)]));
    }
    await waitFor(() => h.got.out.length === 6, 2000, 'frames');
    assert.strictEqual(h.got.out[5].payload.detections[0].trackId, 1);
    assert.strictEqual(h.got.out[4].payload.detections[0].trackId, 1);
    h.trk.receive({ topic: 'reset', payload: 'a' });
    await waitFor(() => h.got.events.some((m) => m.payload.event === 'track-end'), 2000, 'end event');
    const end = h.got.events.find((m) => m.payload.event === 'track-end');
    assert.deepStrictEqual([end.topic, end.payload.reason, end.payload.trackId], ['a', 'reset', 1]);
    const stats = h.trk.trackStats();
    assert.deepStrictEqual([stats.a.total, stats.b.total], [0, 1]);
    // b kept its track; a starts again from nothing
    h.trk.receive(frameMsg('b', 3, [person(300)]));
    await waitFor(() => h.got.out.length === 7, 2000, 'frame');
    assert.strictEqual(h.got.out[6].payload.detections[0].trackState, 'confirmed');
    assert.strictEqual(h.got.caught.length, 0);
  });

  it("msg.reset on a frame ends that camera's tracks first", async () => {
    const h = await load();
    for (let f = 0; f < 3; f++) h.trk.receive(frameMsg('a', f, [person(100)]));
    h.trk.receive(frameMsg('a', 3, [person(100)], { reset: true }));
    await waitFor(() => h.got.out.length === 4, 2000, 'frames');
    assert.strictEqual(h.got.out[3].payload.detections[0].trackState, 'tentative');
    assert.strictEqual(h.got.out[3].payload.detections[0].trackId, 2);
    assert.ok(h.got.events.some((m) => m.payload.event === 'track-end' && m.payload.reason === 'reset'));
  });

  it('a source whose time goes back (looping file) restarts its tracker instead of failing', async () => {
    const h = await load();
    for (let f = 0; f < 3; f++) h.trk.receive(frameMsg('a', 10 + f, [person(100)]));
    h.trk.receive(frameMsg('a', 0, [person(100)]));
    await waitFor(() => h.got.completed.length === 4, 2000, 'completes');
    assert.strictEqual(h.got.caught.length, 0);
    await waitFor(() => h.got.statuses.some((s) => /1 restarts/.test(s.status.text)), 2500, 'restart in status');
  });

  it('a camera silent for 5 minutes has its tracks ended (reason lost) and may then carry on from its last frame time', async () => {
    // Catch the node's idle-camera sweeper (a 30 s interval) so the test can run it at will.
    const realSetInterval = global.setInterval;
    /** @type {() => void} */
    let sweep;
    // @ts-expect-error a stand-in with the one signature the node uses, replaced again below
    global.setInterval = (fn, ms, ...rest) => {
      if (ms === 30 * 1000 && /track\.js/.test(new Error().stack)) sweep = fn;
      return realSetInterval(fn, ms, ...rest);
    };
    let h;
    try {
      h = await load();
    } finally {
      global.setInterval = realSetInterval;
    }
    assert.strictEqual(typeof sweep, 'function', 'the sweeper interval was set');
    for (let f = 0; f < 3; f++) h.trk.receive(frameMsg('a', f, [person(100)]));
    await waitFor(() => h.got.completed.length === 3, 2000, 'frames');
    sweep(); // not idle yet: nothing ends
    assert.strictEqual(h.trk.trackStats().a.total, 1);
    const realNow = Date.now;
    Date.now = () => realNow() + 6 * 60 * 1000;
    try {
      sweep();
    } finally {
      Date.now = realNow;
    }
    await waitFor(() => h.got.events.some((m) => m.payload.event === 'track-end'), 2000, 'end event');
    const end = h.got.events.find((m) => m.payload.event === 'track-end');
    assert.deepStrictEqual([end.topic, end.payload.reason, end.payload.trackId, end.payload.lastSeenMs], ['a', 'lost', 1, 80]);
    assert.strictEqual(h.trk.trackStats().a.total, 0);
    // The source resumes where it stopped (a paused replay): frames are tracked, not refused, and ids keep counting.
    h.trk.receive(frameMsg('a', 3, [person(100)]));
    h.trk.receive(frameMsg('a', 4, [person(100)]));
    await waitFor(() => h.got.completed.length === 5, 2000, 'frames after the sweep');
    assert.strictEqual(h.got.caught.length, 0, h.got.caught.map((m) => m.error.message).join('; '));
    assert.deepStrictEqual([h.got.out[4].payload.detections[0].trackId, h.got.out[4].payload.detections[0].trackState], [2, 'confirmed']);
  });

  it('"confirmed only" drops untracked and tentative detections', async () => {
    const h = await load({ emit: 'confirmed' });
    h.trk.receive(frameMsg('a', 0, [person(100), person(300, 0.3)]));
    h.trk.receive(frameMsg('a', 1, [person(100), person(300, 0.3)]));
    await waitFor(() => h.got.out.length === 2, 2000, 'frames');
    assert.strictEqual(h.got.out[0].payload.detections.length, 0);
    assert.deepStrictEqual(
      h.got.out[1].payload.detections.map((d) => d.trackState),
      ['confirmed'],
    );
  });

  it('"all" keeps every detection and leaves untracked ones without a trackId; boxes unsmoothed when asked', async () => {
    const h = await load({ smoothBoxes: false });
    h.trk.receive(frameMsg('a', 0, [person(100), person(300, 0.3)]));
    await waitFor(() => h.got.out.length === 1, 2000, 'frame');
    const [a, b] = h.got.out[0].payload.detections;
    assert.strictEqual(a.trackState, 'tentative');
    assert.deepStrictEqual(a.box, [100, 100, 140, 200]);
    assert.strictEqual(b.trackId, undefined);
  });

  it('defaults to the YOLOX-Nano score thresholds: 0.75 starts a track, 0.65 cannot (engine defaults would need 0.9)', async () => {
    const h = await load();
    for (let f = 0; f < 3; f++) h.trk.receive(frameMsg('a', f, [person(100, 0.75), person(300, 0.65)]));
    await waitFor(() => h.got.out.length === 3, 2000, 'frames');
    const [a, b] = h.got.out[2].payload.detections;
    assert.strictEqual(a.trackState, 'confirmed');
    assert.strictEqual(b.trackId, undefined);
    assert.strictEqual(h.trk.trackStats().a.total, 1);
  });

  it('reports a payload that is not a vision frame to Catch with a red status, and keeps running', async () => {
    const h = await load();
    h.trk.receive({ topic: 'a', payload: 'hello' });
    await waitFor(() => h.got.caught.length === 1, 2000, 'catch');
    assert.match(h.got.caught[0].error.message, /must be a vision frame/);
    await waitFor(() => h.got.statuses.some((s) => s.status.fill === 'red'), 2000, 'red status');
    // A detection without a usable box is skipped and counted (the frame's other detections go on),
    // with a yellow status that says which and why.
    h.trk.receive({ topic: 'a', payload: { camera: 'a', frame: { tMs: 0 }, detections: [{ box: [1, 2] }, person(300)] } });
    await waitFor(() => h.got.out.length === 1, 2000, 'the frame, without the bad detection');
    assert.strictEqual(h.got.caught.length, 1);
    assert.deepStrictEqual(
      h.got.out[0].payload.detections.map((d) => d.box[0]),
      [300],
    );
    await waitFor(
      () => h.got.statuses.some((s) => s.status.fill === 'yellow' && /detection 0: box has 2 values, not 4/.test(s.status.text)),
      2000,
      'yellow status',
    );
    h.trk.receive(frameMsg('a', 1, [person(100)]));
    await waitFor(() => h.got.out.length === 2, 2000, 'still running');
  });

  it('config messages: a bad option is refused with its name; a good one is applied and kept in context', async () => {
    const h = await load();
    h.trk.receive({ topic: 'config', payload: { lostBufferS: -3 } });
    await waitFor(() => h.got.caught.length === 1, 2000, 'refusal');
    assert.match(h.got.caught[0].error.message, /lostBufferS/);
    h.trk.receive(frameMsg('a', 0, [person(100)]));
    h.trk.receive(frameMsg('a', 1, [person(100)]));
    h.trk.receive({ topic: 'config', payload: { minHits: 1 } });
    await waitFor(() => h.got.completed.length === 3, 2000, 'config done'); // Complete fires on success only
    assert.deepStrictEqual(h.trk.context().get('trackConfig').values, { minHits: 1 });
    assert.ok(
      h.got.events.some((m) => m.payload.event === 'track-end' && m.payload.reason === 'reset'),
      'current tracks ended',
    );
    h.trk.receive(frameMsg('a', 2, [person(300)]));
    await waitFor(() => h.got.out.length === 3, 2000, 'frame');
    const d = h.got.out[2].payload.detections[0];
    assert.strictEqual(d.trackState, 'confirmed', 'minHits 1 confirms at once, on the existing camera too');
    assert.strictEqual(d.trackId, 2, 'ids keep counting');
    h.trk.receive({ topic: 'config', payload: { reset: true } });
    await waitFor(() => h.got.completed.length === 5, 2000, 'config reset');
    assert.strictEqual(h.trk.context().get('trackConfig'), undefined);
  });

  it('an invalid setting turns the status red with the reason and fails every frame', async () => {
    const h = await load({ highThreshold: 0.3, lowThreshold: 0.5 });
    h.trk.receive(frameMsg('a', 0, [person(100)]));
    await waitFor(() => h.got.caught.length === 1, 2000, 'catch');
    assert.match(h.got.caught[0].error.message, /lowThreshold \(0.5\) must not exceed highThreshold \(0.3\)/);
    assert.ok(h.got.statuses.length === 0 || h.got.statuses.some((s) => s.status.fill === 'red'));
  });
});
