'use strict';
// vision-line-count in a Node-RED runtime: counts on the frame, one event per crossing / enter /
// exit, track-end eviction, config and reset messages, metrics output, persistence in node context
// across a redeploy, and errors that go to Catch with a red status while the flow keeps running.
const assert = require('assert');
const helper = require('node-red-node-test-helper');
const lineCountNode = require('../../dist/nodes/line-count/line-count.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const statusNode = require('@node-red/nodes/core/common/25-status.js');
const completeNode = require('@node-red/nodes/core/common/24-complete.js');
const NODES = [lineCountNode, catchNode, statusNode, completeNode];
const fs = require('fs');
const path = require('path');
const { asset } = require('../helpers/assets');
const { waitFor, sleep } = require('../helpers/wait');
const { parseMotTracks, trackAndCount } = require('../../dist/nodes/lib/eval');
const { VISION_TRACK_DEFAULTS } = require('../../dist/nodes/lib/tracking/tracker');

helper.init(require.resolve('node-red'));

const W = 1000;
const H = 1000;
const GEOMETRY = JSON.stringify({
  lines: [{ name: 'door', start: [0.2, 0.5], end: [0.8, 0.5] }],
  zones: [
    {
      name: 'station',
      polygon: [
        [0.6, 0.6],
        [0.9, 0.6],
        [0.9, 0.9],
        [0.6, 0.9],
      ],
    },
  ],
});

function frame(camera, seq, dets) {
  return {
    topic: camera,
    payload: {
      camera,
      frame: { camera, seq, tMs: 1000 + seq * 40, width: W, height: H, format: 'rgb24' },
      detections: dets,
    },
  };
}
function person(id, fx, fy, state = 'confirmed') {
  return { box: [fx * W - 20, fy * H - 100, fx * W + 20, fy * H], score: 0.9, classId: 0, label: 'person', trackId: id, trackState: state };
}
/** A person walking down across the door line in n frames. */
function crossing(camera, id, n = 20, seq0 = 0) {
  return Array.from({ length: n }, (_, i) => frame(camera, seq0 + i, [person(id, 0.5, 0.3 + (0.4 * i) / (n - 1))]));
}

function flow(extra = {}) {
  const z = 'tab1';
  const at = { x: 100, y: 100 };
  return [
    { id: z, type: 'tab', label: 'line-count' },
    {
      id: 'lc',
      z,
      ...at,
      type: 'vision-line-count',
      name: 'door counter',
      geometry: GEOMETRY,
      metricsInterval: 0,
      shifts: '',
      wires: [['frames'], ['events'], ['metrics']],
      ...extra,
    },
    { id: 'frames', z, ...at, type: 'helper' },
    { id: 'events', z, ...at, type: 'helper' },
    { id: 'metrics', z, ...at, type: 'helper' },
    { id: 'catch', z, ...at, type: 'catch', scope: ['lc'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z, ...at, type: 'helper' },
    { id: 'status', z, ...at, type: 'status', scope: ['lc'], wires: [['statuses']] },
    { id: 'statuses', z, ...at, type: 'helper' },
    { id: 'comp', z, ...at, type: 'complete', scope: ['lc'], wires: [['completed']] },
    { id: 'completed', z, ...at, type: 'helper' },
  ];
}

function collect(node) {
  const got = [];
  node.on('input', (m) => got.push(m));
  return got;
}

/** Loads a flow and returns the line-count node and what reached each helper node (frames, events, metrics, caught, statuses, completed). */
async function loadLineCount(f) {
  await helper.load(NODES, f);
  const got = { lc: helper.getNode('lc') };
  for (const id of ['frames', 'events', 'metrics', 'caught', 'statuses', 'completed']) got[id] = collect(helper.getNode(id));
  return got;
}

describe('vision-line-count (node)', function () {
  afterEach(async function () {
    await helper.unload();
  });

  it('loads with its name', async function () {
    await helper.load(NODES, flow());
    assert.strictEqual(helper.getNode('lc').name, 'door counter');
  });

  it('puts counts on the frame and sends one event per crossing on output 2', async function () {
    const { lc, frames, events } = await loadLineCount(flow());
    for (const m of crossing('cam-1', 7)) lc.receive(m);
    await waitFor(() => frames.length === 20, 5000, '20 frames');
    const last = frames[19];
    assert.strictEqual(last.topic, 'cam-1');
    assert.deepStrictEqual(last.payload.counts, { door: { in: 1, out: 0 } });
    assert.deepStrictEqual(last.payload.countsByClass, { door: { person: { in: 1, out: 0 } } });
    assert.strictEqual(last.payload.detections.length, 1, 'the frame keeps its detections');
    assert.strictEqual(last.payload.frame.width, W);
    await waitFor(() => events.length === 1, 2000, 'one event');
    const e = events[0];
    assert.strictEqual(e.topic, 'cam-1');
    assert.deepStrictEqual(
      [e.payload.event, e.payload.camera, e.payload.line, e.payload.direction, e.payload.class, e.payload.trackId],
      ['line-crossing', 'cam-1', 'door', 'in', 'person', 7],
    );
    assert.ok(e.payload.tMs > 1000 && e.payload.tMs < 1000 + 20 * 40, 'event time is the frame time');
  });

  it('counts each camera (msg.topic) separately', async function () {
    const { lc, frames } = await loadLineCount(flow());
    for (const m of crossing('a', 1)) lc.receive(m);
    for (const m of crossing('b', 1)) lc.receive(m);
    for (const m of crossing('b', 2, 20, 100)) lc.receive(m);
    await waitFor(() => frames.length === 60, 5000, '60 frames');
    assert.deepStrictEqual(frames[19].payload.counts.door, { in: 1, out: 0 });
    assert.deepStrictEqual(frames[59].payload.counts.door, { in: 2, out: 0 });
  });

  it('a 65th camera puts away the least recently seen counter, not the frame: its totals come back with it', async function () {
    const { lc, frames, caught, events } = await loadLineCount(flow());
    const warns = [];
    lc.warn = (m) => warns.push(String(m));
    for (const m of crossing('first', 1)) lc.receive(m);
    // Someone standing in the zone of the first camera when it is put away: they exit then.
    lc.receive(frame('first', 30, [person(9, 0.75, 0.75)]));
    for (let k = 0; k < 3; k++) lc.receive(frame('first', 31 + k, [person(9, 0.75, 0.75)]));
    for (let i = 0; i < 64; i++) lc.receive(frame(`cam-${i}`, 0, [person(1, 0.5, 0.3)]));
    await waitFor(() => frames.length === 20 + 4 + 64, 5000, 'every frame counted');
    assert.strictEqual(caught.length, 0, 'no frame refused');
    assert.strictEqual(lc.countStats().cameras, 64);
    assert.strictEqual(lc.countStats().evictedCameras, 1);
    assert.strictEqual(warns.filter((w) => /more than 64 cameras: the counter of the least recently seen \("first"\)/.test(w)).length, 1);
    assert.ok(
      events.some((e) => e.payload.event === 'zone-exit' && e.payload.camera === 'first'),
      'its open zone visit ended',
    );
    lc.receive(frame('first', 40, []));
    await waitFor(() => frames.length === 20 + 4 + 64 + 1, 5000, 'the first camera back');
    assert.deepStrictEqual(frames[frames.length - 1].payload.counts.door, { in: 1, out: 0 }, 'its totals carried on');
  });

  it('zone enter, track-end → exit with dwell, occupancy on the frame', async function () {
    const { lc, frames, events } = await loadLineCount(flow());
    for (let i = 0; i < 6; i++) lc.receive(frame('cam', i, [person(3, 0.75, 0.75)]));
    await waitFor(() => frames.length === 6, 5000, '6 frames');
    assert.strictEqual(frames[5].payload.zones.station.occupancy, 1);
    assert.deepStrictEqual(frames[5].payload.zones.station.objects, [{ trackId: 3, label: 'person', dwellMs: 5 * 40 }]);
    lc.receive({ topic: 'cam', payload: { event: 'track-end', camera: 'cam', trackId: 3, tMs: 1000 + 10 * 40 } });
    await waitFor(() => events.length === 2, 2000, 'enter and exit');
    assert.deepStrictEqual(
      events.map((m) => m.payload.event),
      ['zone-enter', 'zone-exit'],
    );
    assert.strictEqual(events[1].payload.reason, 'track-end');
    assert.strictEqual(events[1].payload.dwellMs, 5 * 40);
  });

  it('a config message replaces the geometry; a bad one goes to Catch and leaves the old one working', async function () {
    const { lc, frames, caught, statuses } = await loadLineCount(flow());
    lc.receive({
      topic: 'config',
      payload: {
        lines: [
          { name: 'door', start: [0.2, 0.5], end: [0.8, 0.5] },
          { name: 'gate', start: [0, 0.6], end: [1, 0.6] },
        ],
      },
    });
    lc.receive({ topic: 'config', payload: { lines: [{ name: 'bad', start: [0, 0], end: [2, 0] }] } });
    await waitFor(() => caught.length === 1, 2000, 'catch');
    assert.match(caught[0].error.message, /lines\[0\]\.end x = 2 is outside 0\.\.1/);
    await waitFor(() => statuses.some((s) => s.status.fill === 'red'), 2000, 'red status');
    for (const m of crossing('cam', 1)) lc.receive(m);
    await waitFor(() => frames.length === 20, 5000, '20 frames');
    assert.deepStrictEqual(frames[19].payload.counts, { door: { in: 1, out: 0 }, gate: { in: 1, out: 0 } });
    assert.strictEqual(typeof lc.context().get('geometry').values, 'string', 'the replacement is stored');
  });

  it('a reset message zeroes the totals and says so on output 2', async function () {
    const { lc, frames, events } = await loadLineCount(flow());
    for (const m of crossing('cam', 1)) lc.receive(m);
    await waitFor(() => frames.length === 20, 5000, '20 frames');
    lc.receive({ topic: 'reset' });
    await waitFor(() => events.some((m) => m.payload.event === 'counts-reset'), 2000, 'reset event');
    lc.receive(frame('cam', 50, []));
    await waitFor(() => frames.length === 21, 5000, '21 frames');
    assert.deepStrictEqual(frames[20].payload.counts, { door: { in: 0, out: 0 } });
  });

  it('a reset for one camera leaves the others', async function () {
    const { lc, frames } = await loadLineCount(flow());
    for (const m of crossing('a', 1)) lc.receive(m);
    for (const m of crossing('b', 1)) lc.receive(m);
    await waitFor(() => frames.length === 40, 5000, '40 frames');
    lc.receive({ topic: 'reset', payload: { camera: 'a' } });
    lc.receive(frame('a', 50, []));
    lc.receive(frame('b', 50, []));
    await waitFor(() => frames.length === 42, 5000, '42 frames');
    assert.deepStrictEqual(frames[40].payload.counts.door, { in: 0, out: 0 });
    assert.deepStrictEqual(frames[41].payload.counts.door, { in: 1, out: 0 });
  });

  it('msg.reset on a frame resets that camera (however the frame names it), then counts the frame', async function () {
    const { lc, frames, events } = await loadLineCount(flow());
    // Frames that name their camera only in payload.frame.camera (no msg.topic, no payload.camera).
    const bare = (m) => ({ payload: { frame: m.payload.frame, detections: m.payload.detections } });
    for (const m of crossing('a', 1)) lc.receive(bare(m));
    for (const m of crossing('b', 1)) lc.receive(m);
    await waitFor(() => frames.length === 40, 5000, '40 frames');
    assert.deepStrictEqual(frames[19].payload.counts.door, { in: 1, out: 0 });
    lc.receive({ ...bare(frame('a', 50, [])), reset: true });
    lc.receive(frame('b', 50, []));
    await waitFor(() => frames.length === 42, 5000, '42 frames');
    assert.deepStrictEqual(frames[40].payload.counts.door, { in: 0, out: 0 }, 'camera a was reset before its frame was counted');
    assert.deepStrictEqual(frames[41].payload.counts.door, { in: 1, out: 0 }, 'camera b kept its totals');
    const resets = events.filter((m) => m.payload.event === 'counts-reset');
    assert.deepStrictEqual(
      resets.map((m) => [m.topic, m.payload.camera, m.payload.reason]),
      [['a', 'a', 'message']],
    );
  });

  it('msg.reset on a frame that is refused (no size) resets nothing', async function () {
    const { lc, frames, events, caught } = await loadLineCount(flow());
    for (const m of crossing('cam', 1)) lc.receive(m);
    await waitFor(() => frames.length === 20, 5000, '20 frames');
    lc.receive({ topic: 'cam', reset: true, payload: { camera: 'cam', frame: { tMs: 5000 }, detections: [] } });
    await waitFor(() => caught.length === 1, 2000, 'the refused frame reaches Catch');
    assert.match(caught[0].error.message, /no frame\.width/);
    lc.receive(frame('cam', 50, []));
    await waitFor(() => frames.length === 21, 5000, '21 frames');
    assert.deepStrictEqual(frames[20].payload.counts.door, { in: 1, out: 0 }, 'the totals were kept');
    assert.ok(!events.some((m) => m.payload.event === 'counts-reset'), 'no counts-reset event');
  });

  it('a frame without a size goes to Catch with the reason and a red status; the next frame is counted', async function () {
    const { lc, caught, statuses, frames } = await loadLineCount(flow());
    lc.receive({ topic: 'cam', payload: { camera: 'cam', frame: { tMs: 0 }, detections: [] } });
    lc.receive({ topic: 'cam', payload: 'hello' });
    await waitFor(() => caught.length === 2, 2000, 'two errors');
    assert.match(caught[0].error.message, /no frame\.width/);
    assert.match(caught[1].error.message, /expected a vision frame/);
    await waitFor(() => statuses.some((s) => s.status.fill === 'red' && /frame/.test(s.status.text)), 2000, 'red status');
    for (const m of crossing('cam', 1)) lc.receive(m);
    await waitFor(() => frames.length === 20, 5000, '20 frames');
    assert.deepStrictEqual(frames[19].payload.counts.door, { in: 1, out: 0 });
  });

  it('an invalid option turns the node red and refuses messages with the reason', async function () {
    const { lc, caught } = await loadLineCount(flow({ minFrames: '0' }));
    lc.receive(frame('cam', 0, []));
    await waitFor(() => caught.length === 1, 2000, 'catch');
    assert.match(caught[0].error.message, /minFrames must be a whole number in 1\.\.1000/);
  });

  it('sends InfluxDB points on the metrics output', async function () {
    const { lc, metrics } = await loadLineCount(flow({ metricsInterval: 0.1 }));
    for (const m of crossing('cam-9', 1)) lc.receive(m);
    await waitFor(() => metrics.some((m) => m.payload.some((p) => p.measurement === 'line_crossings')), 3000, 'metrics');
    const m = metrics.find((x) => x.payload.some((p) => p.measurement === 'line_crossings'));
    assert.strictEqual(m.topic, 'cam-9');
    assert.deepStrictEqual(m.payload.find((p) => p.measurement === 'line_crossings' && p.tags.direction === 'in').tags, {
      camera: 'cam-9',
      line: 'door',
      class: 'person',
      direction: 'in',
    });
    assert.ok(m.payload.some((p) => p.measurement === 'zone_occupancy' && p.tags.zone === 'station'));
    assert.deepStrictEqual(m.counts, { door: { in: 1, out: 0 } });
  });

  it('totals are stored in node context on every crossing and restored when the node starts', async function () {
    const f = flow();
    await helper.load(NODES, f);
    let lc = helper.getNode('lc');
    let frames = collect(helper.getNode('frames'));
    for (const m of crossing('cam', 1)) lc.receive(m);
    await waitFor(() => frames.length === 20, 5000, '20 frames');
    const stored = lc.context().get('counts');
    assert.deepStrictEqual(stored.cam.counts.door, { in: 1, out: 0, byClass: { person: { in: 1, out: 0 } } });
    const lastReset = lc.context().get('lastResetMs');
    assert.ok(Number.isFinite(lastReset));
    await helper.unload();
    // A restart with a persistent store (localfilesystem) hands the node its old context. The test
    // helper cannot configure stores, so start the runtime without the node, put the stored values
    // into its context, then deploy the node.
    await helper.load(
      NODES,
      f.filter((n) => n.id !== 'lc'),
    );
    const nodeContext = require('@node-red/runtime/lib/nodes/context').get('lc', 'tab1');
    nodeContext.set('counts', JSON.parse(JSON.stringify(stored)));
    nodeContext.set('lastResetMs', lastReset);
    await helper.setFlows(f, 'full');
    lc = helper.getNode('lc');
    frames = collect(helper.getNode('frames'));
    lc.receive(frame('cam', 100, []));
    await waitFor(() => frames.length === 1, 5000, '1 frame');
    assert.deepStrictEqual(frames[0].payload.counts.door, { in: 1, out: 0 });
    assert.deepStrictEqual(frames[0].payload.countsByClass.door, { person: { in: 1, out: 0 } });
  });

  it('lines replaced at run time survive a restart, until the editor settings change: then the editor wins', async function () {
    const f = flow();
    await helper.load(NODES, f);
    const lc = helper.getNode('lc');
    const replaced = { lines: [{ name: 'gate', start: [0, 0.6], end: [1, 0.6] }] };
    lc.receive({ topic: 'config', payload: replaced });
    await waitFor(() => !!lc.context().get('geometry'), 2000, 'the kept lines');
    const kept = JSON.parse(JSON.stringify(lc.context().get('geometry')));
    await helper.unload();

    /**
     * A restart with a persistent context store (the node's old context handed back), deployed with
     * this line-count node; resolves with the line names it counts and what it warned.
     * @param {any[]} deployed
     */
    async function restart(deployed) {
      await helper.load(
        NODES,
        deployed.filter((n) => n.id !== 'lc'),
      );
      require('@node-red/runtime/lib/nodes/context').get('lc', 'tab1').set('geometry', kept);
      await helper.setFlows(deployed, 'full');
      const node = helper.getNode('lc');
      const frames = collect(helper.getNode('frames'));
      node.receive(frame('cam', 0, []));
      await waitFor(() => frames.length === 1, 5000, '1 frame');
      const lines = Object.keys(frames[0].payload.counts);
      // What the node logged as warnings (the test helper spies on the runtime's log).
      const warned = helper
        .log()
        .args.map((/** @type {any[]} */ a) => a[0])
        .filter((/** @type {any} */ e) => e.id === 'lc' && e.level === helper.log().WARN)
        .map((/** @type {any} */ e) => String(e.msg));
      await helper.unload();
      return { lines, warned };
    }

    // The same editor settings (renamed and moved only): the replacement holds.
    const same = await restart(f.map((n) => (n.id === 'lc' ? { ...n, name: 'renamed', x: 400 } : n)));
    assert.deepStrictEqual(same.lines, ['gate']);
    assert.deepStrictEqual(
      same.warned.filter((t) => /changed in the editor/.test(t)),
      [],
    );
    // The lines changed in the editor and deployed: the editor's lines run, and the log says why.
    const edited = JSON.stringify({ lines: [{ name: 'exit', start: [0.1, 0.2], end: [0.9, 0.2] }] });
    const changed = await restart(f.map((n) => (n.id === 'lc' ? { ...n, geometry: edited } : n)));
    assert.deepStrictEqual(changed.lines, ['exit']);
    assert.ok(
      changed.warned.some((t) => /changed in the editor/.test(t)),
      changed.warned.join('; '),
    );
  });

  it('resets on a shift boundary passed since the last reset (also while Node-RED was down)', async function () {
    const f = flow({ shifts: '06:00,14:00,22:00' });
    await helper.load(
      NODES,
      f.filter((n) => n.id !== 'lc'),
    );
    const nodeContext = require('@node-red/runtime/lib/nodes/context').get('lc', 'tab1');
    nodeContext.set('counts', { cam: { version: 1, counts: { door: { in: 5, out: 2, byClass: {} } } } });
    nodeContext.set('lastResetMs', Date.now() - 9 * 3600 * 1000); // 9 h ago: a boundary lies between
    await helper.setFlows(f, 'full');
    const lc = helper.getNode('lc');
    const frames = collect(helper.getNode('frames'));
    const events = collect(helper.getNode('events'));
    lc.receive(frame('cam', 0, []));
    await waitFor(() => frames.length === 1, 5000, '1 frame');
    assert.deepStrictEqual(frames[0].payload.counts.door, { in: 0, out: 0 });
    await waitFor(() => events.length === 1, 2000, 'reset event');
    assert.deepStrictEqual([events[0].payload.event, events[0].payload.reason], ['counts-reset', 'shift']);
    assert.ok(Date.now() - lc.context().get('lastResetMs') < 5000, 'the reset time is stored');
  });

  it('does not reset when no boundary passed', async function () {
    const f = flow({ shifts: '06:00,14:00,22:00' });
    await helper.load(
      NODES,
      f.filter((n) => n.id !== 'lc'),
    );
    const nodeContext = require('@node-red/runtime/lib/nodes/context').get('lc', 'tab1');
    nodeContext.set('counts', { cam: { version: 1, counts: { door: { in: 5, out: 2, byClass: {} } } } });
    nodeContext.set('lastResetMs', Date.now() - 1000);
    await helper.setFlows(f, 'full');
    const lc = helper.getNode('lc');
    const frames = collect(helper.getNode('frames'));
    lc.receive(frame('cam', 0, []));
    await waitFor(() => frames.length === 1, 5000, '1 frame');
    assert.deepStrictEqual(frames[0].payload.counts.door, { in: 5, out: 2 });
  });

  it('ignores other tracker events (track-start) wired to its input', async function () {
    const { lc, caught, completed } = await loadLineCount(flow());
    lc.receive({ topic: 'cam', payload: { event: 'track-start', camera: 'cam', trackId: 1, tMs: 0 } });
    await waitFor(() => completed.length === 1, 2000, 'done()');
    await sleep(50);
    assert.strictEqual(caught.length, 0);
  });

  it('calls done() once per message (Complete node)', async function () {
    const { lc, completed } = await loadLineCount(flow());
    for (const m of crossing('cam', 1, 5)) lc.receive(m);
    lc.receive({ topic: 'reset' });
    lc.receive({ topic: 'cam', payload: { event: 'track-end', camera: 'cam', trackId: 1, tMs: 5000 } });
    await waitFor(() => completed.length === 7, 2000, '7 completes');
    await sleep(50);
    assert.strictEqual(completed.length, 7);
  });

  it('behind a real vision-track (frames on input, track-end events wired in too) counts what the engine counts', async function () {
    const trackNode = require('../../dist/nodes/track/track.js');
    const z = 'tab1';
    const at = { x: 100, y: 100 };
    const geometry = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'lines', 'TUD-Campus.json'), 'utf8');
    await helper.load(
      [trackNode, ...NODES],
      [
        { id: z, type: 'tab', label: 'pipeline' },
        { id: 'trk', z, ...at, type: 'vision-track', wires: [['lc'], ['lc']] },
        { id: 'lc', z, ...at, type: 'vision-line-count', geometry, metricsInterval: 0, shifts: '', wires: [['frames'], ['events'], []] },
        { id: 'frames', z, ...at, type: 'helper' },
        { id: 'events', z, ...at, type: 'helper' },
      ],
    );
    const frames = collect(helper.getNode('frames'));
    const dets = parseMotTracks(fs.readFileSync(asset('mot15/TUD-Campus/det/det.txt'), 'utf8'));
    const trk = helper.getNode('trk');
    for (let f = 1; f <= dets.lastFrame; f++) {
      const detections = dets.frames[f].map((d) => ({ box: d.box, score: d.score, classId: 0, label: 'person' }));
      trk.receive({
        topic: 'tud',
        payload: { camera: 'tud', frame: { camera: 'tud', seq: f, tMs: ((f - 1) * 1000) / 25, width: 640, height: 480, format: 'rgb24' }, detections },
      });
    }
    await waitFor(() => frames.length === dets.lastFrame, 10000, 'every frame through both nodes');
    // The same tracker settings the vision-track node runs with.
    const expected = trackAndCount(dets, { geometry: JSON.parse(geometry), width: 640, height: 480, fps: 25 }, VISION_TRACK_DEFAULTS);
    assert.deepStrictEqual(frames[frames.length - 1].payload.counts, expected);
    assert.ok(Object.values(expected).reduce((s, c) => s + c.in + c.out, 0) >= 8, 'people were counted');
  });
});
