'use strict';
// vision-productivity-state in a real Node-RED runtime (node-red-node-test-helper): frames with
// pixels in the shared frame store, the three outputs, units and activity messages, runtime config
// persisted in context, and errors routed to Catch with a red status.
const assert = require('assert');
const helper = require('node-red-node-test-helper');
const prodNode = require('../../dist/nodes/productivity-state/productivity-state.js');
const { sharedFrameStore } = require('../../dist/nodes/lib/frame-store.js');
const { waitFor } = require('../helpers/wait');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const statusNode = require('@node-red/nodes/core/common/25-status.js');
const completeNode = require('@node-red/nodes/core/common/24-complete.js');
const NODES = [prodNode, catchNode, statusNode, completeNode];

helper.init(require.resolve('node-red'));

const W = 64;
const H = 32;
const STATIONS = JSON.stringify({
  zones: [
    {
      name: 's1',
      polygon: [
        [0, 0],
        [0.5, 0],
        [0.5, 1],
        [0, 1],
      ],
    },
    {
      name: 's2',
      polygon: [
        [0.5, 0],
        [1, 0],
        [1, 1],
        [0.5, 1],
      ],
    },
  ],
});

function flow(props = {}) {
  const z = 'tab1';
  const at = { x: 100, y: 100 };
  return [
    { id: z, type: 'tab', label: 'productivity' },
    {
      id: 'p',
      z,
      ...at,
      type: 'vision-productivity-state',
      stations: STATIONS,
      presenceOnS: 0,
      presenceOffS: 2,
      idleDelayS: 5,
      absenceTimeoutS: 20,
      motionTauS: 0,
      kpiIntervalS: 10,
      shifts: '',
      utcOffsetMin: '0',
      wires: [['frames'], ['events'], ['metrics']],
      ...props,
    },
    { id: 'frames', z, ...at, type: 'helper' },
    { id: 'events', z, ...at, type: 'helper' },
    { id: 'metrics', z, ...at, type: 'helper' },
    { id: 'catch', z, ...at, type: 'catch', scope: ['p'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z, ...at, type: 'helper' },
    { id: 'stat', z, ...at, type: 'status', scope: ['p'], wires: [['statuses']] },
    { id: 'statuses', z, ...at, type: 'helper' },
    { id: 'comp', z, ...at, type: 'complete', scope: ['p'], wires: [['completed']] },
    { id: 'completed', z, ...at, type: 'helper' },
  ];
}

function collect(node) {
  const got = [];
  node.on('input', (m) => got.push(m));
  return got;
}

const until = (pred, what, ms = 5000) => waitFor(pred, ms, what, 5);

let cam = 0;
/** Puts a grey frame in the shared store and returns the vision frame message for it. */
function visionFrame(camera, tMs, grey, detections, extra = {}) {
  const ref = sharedFrameStore().put(camera, new Uint8Array(W * H).fill(grey), W, H, tMs, 'gray8');
  return { topic: camera, payload: { camera, frame: ref, detections }, ...extra };
}
const person = (id, x) => ({ box: [x, 4, x + 20, 28], score: 0.9, classId: 0, label: 'person', trackId: id, trackState: 'confirmed' });

describe('vision-productivity-state node', function () {
  this.timeout(20000);
  let camera;
  beforeEach(() => {
    camera = `prod-cam-${++cam}`;
  });
  afterEach(async () => {
    await helper.unload();
  });

  it('with the editor defaults, a 0.69 detection is not presence and a 0.7 one is (after 1 s)', async () => {
    await helper.load(NODES, [
      { id: 'tab1', type: 'tab' },
      { id: 'p', z: 'tab1', x: 1, y: 1, type: 'vision-productivity-state', stations: STATIONS, activitySource: 'presence', wires: [['frames']] },
      { id: 'frames', z: 'tab1', x: 1, y: 1, type: 'helper' },
    ]);
    const p = helper.getNode('p');
    const frames = collect(helper.getNode('frames'));
    const t0 = 7e12;
    const at = (score) => [
      { ...person(1, 4), score },
      { ...person(2, 36), score: score - 0.01 },
    ];
    p.receive(visionFrame(camera, t0, 50, at(0.7)));
    p.receive(visionFrame(camera, t0 + 1000, 50, at(0.7)));
    await until(() => frames.length === 2, 'two frames');
    assert.deepStrictEqual(
      [frames[0].payload.stations.s1.present, frames[1].payload.stations.s1.present, frames[1].payload.stations.s2.present],
      [false, true, false],
    );
  });

  it('frames in → stations on output 1 (other msg properties kept), state changes and KPIs on 2, points on 3', async () => {
    await helper.load(NODES, flow());
    const p = helper.getNode('p');
    const frames = collect(helper.getNode('frames'));
    const events = collect(helper.getNode('events'));
    const metrics = collect(helper.getNode('metrics'));
    const completed = collect(helper.getNode('completed'));
    const t0 = Date.UTC(2026, 0, 5, 8);
    // s1: the worker's box flips between two grey levels (moving) for 3 s; s2 stays empty.
    for (let i = 0; i <= 3; i++) p.receive(visionFrame(camera, t0 + i * 1000, i % 2 ? 200 : 50, [person(1, 4)], { keep: 'me' }));
    await until(() => completed.length === 4, 'four completes');
    assert.strictEqual(frames.length, 4);
    assert.strictEqual(frames[3].keep, 'me');
    assert.strictEqual(frames[3].topic, camera);
    assert.deepStrictEqual(
      { state: frames[3].payload.stations.s1.state, workers: frames[3].payload.stations.s1.workers, s2: frames[3].payload.stations.s2.state },
      { state: 'working', workers: [`${camera}:1`], s2: 'absent' },
    );
    // The first frame has nothing to difference against: idle at t0, working from the first motion.
    const change = events.find((m) => m.payload.event === 'state-change' && m.payload.to === 'working');
    assert.deepStrictEqual([change.topic, change.payload.station, change.payload.to, change.payload.tMs], [camera, 's1', 'working', t0 + 1000]);
    assert.ok(events.some((m) => m.topic === 'kpi' && m.payload.reason === 'state-change'));
    const pts = metrics.flatMap((m) => m.payload);
    assert.deepStrictEqual([...new Set(pts.map((x) => x.measurement))].sort(), ['factory_kpi', 'station_kpi', 'station_state', 'worker_kpi']);
  });

  it('a frame whose pixels left the store is no motion reading, not an error', async () => {
    await helper.load(NODES, flow());
    const p = helper.getNode('p');
    const frames = collect(helper.getNode('frames'));
    const caught = collect(helper.getNode('caught'));
    const completed = collect(helper.getNode('completed'));
    const t0 = 1e12;
    p.receive(visionFrame(camera, t0, 50, [person(1, 4)]));
    p.receive(visionFrame(camera, t0 + 1000, 200, [person(1, 4)]));
    // A reference to a frame that was never stored (or long evicted).
    p.receive({
      topic: camera,
      payload: { camera, frame: { camera, seq: 99999, tMs: t0 + 2000, width: W, height: H, format: 'gray8' }, detections: [person(1, 4)] },
    });
    await until(() => completed.length === 3, 'three completes');
    assert.strictEqual(caught.length, 0);
    assert.strictEqual(frames[2].payload.stations.s1.activity, 1); // the last reading held (no new one)
    assert.strictEqual(frames[2].payload.stations.s1.state, 'working');
  });

  it('units messages and line crossings count, and show in a KPI report on request', async () => {
    await helper.load(NODES, flow({ unitsLine: 'exit', unitsStation: 's2' }));
    const p = helper.getNode('p');
    const events = collect(helper.getNode('events'));
    const metrics = collect(helper.getNode('metrics'));
    const completed = collect(helper.getNode('completed'));
    const t0 = 2e12;
    p.receive(visionFrame(camera, t0, 50, []));
    p.receive({ topic: 'units', payload: 3, station: 's1' });
    p.receive({ topic: 'units', payload: { count: 2, station: 's1', tMs: t0, unitId: 'u1' } });
    p.receive({ topic: 'units', payload: { count: 2, station: 's1', tMs: t0, unitId: 'u1' } }); // duplicate
    p.receive({ topic: camera, payload: { event: 'line-crossing', camera, line: 'exit', trackId: 4, tMs: t0 } });
    p.receive({ topic: camera, payload: { event: 'line-crossing', camera, line: 'entry', trackId: 5, tMs: t0 } });
    p.receive({ topic: 'kpi' });
    await until(() => completed.length === 7, 'seven completes');
    const r = events.filter((m) => m.topic === 'kpi').pop().payload;
    assert.strictEqual(r.stations.s1.shift.units, 5);
    assert.strictEqual(r.stations.s2.shift.units, 1);
    assert.strictEqual(r.factory.shift.units, 6);
    assert.ok(metrics.pop().payload.some((x) => x.measurement === 'factory_kpi' && x.fields.units === 6));
  });

  it('the external activity signal makes a present worker work (activity from "either")', async () => {
    await helper.load(NODES, flow({ activitySource: 'either' }));
    const p = helper.getNode('p');
    const frames = collect(helper.getNode('frames'));
    const completed = collect(helper.getNode('completed'));
    const t0 = 3e12;
    p.receive(visionFrame(camera, t0, 50, [person(1, 4)]));
    p.receive(visionFrame(camera, t0 + 1000, 50, [person(1, 4)]));
    p.receive({ topic: 'activity', payload: true, station: 's1' });
    p.receive(visionFrame(camera, t0 + 2000, 50, [person(1, 4)]));
    await until(() => completed.length === 4, 'four completes');
    assert.strictEqual(frames[1].payload.stations.s1.state, 'idle');
    assert.strictEqual(frames[2].payload.stations.s1.state, 'working');
  });

  it('config messages change thresholds at run time and persist in the node context; bad ones go to Catch', async () => {
    await helper.load(NODES, flow());
    const p = helper.getNode('p');
    const caught = collect(helper.getNode('caught'));
    const statuses = collect(helper.getNode('statuses'));
    const completed = collect(helper.getNode('completed'));
    p.receive({ topic: 'config', payload: { idleDelayS: 12, minConfidence: 0.6 } });
    p.receive({ topic: 'config', payload: { idelDelayS: 12 } });
    p.receive({ topic: 'config', payload: { minConfidence: 7 } });
    await until(() => completed.length === 1 && caught.length === 2, 'one complete and two errors');
    assert.match(caught[0].error.message, /unknown setting "idelDelayS"/);
    assert.match(caught[1].error.message, /minConfidence must be a number within 0\.\.1/);
    assert.deepStrictEqual(p.context().get('config').values, { idleDelayS: 12, minConfidence: 0.6 });
    await until(() => statuses.some((s) => s.status.fill === 'red'), 'a red status');
  });

  it('restores persisted settings when the node restarts (with a configured context store)', async () => {
    // Node-RED keeps a node's context across a redeploy only when settings.js configures a context
    // store (contextStorage); with `localfilesystem` it also survives a restart. Emulate that here.
    helper.settings({ contextStorage: { default: { module: 'memory' } } });
    try {
      const f = flow();
      await helper.load(NODES, f);
      await helper._context.load();
      const first = helper.getNode('p');
      const done1 = collect(helper.getNode('completed'));
      first.receive({ topic: 'config', payload: { absenceTimeoutS: 3 } });
      await until(() => done1.length === 1, 'the config message');
      const f2 = JSON.parse(JSON.stringify(f));
      f2.find((n) => n.id === 'p').name = 'renamed'; // a changed node is stopped and created anew
      await helper.setFlows(f2, 'nodes');
      const p = helper.getNode('p');
      assert.notStrictEqual(p, first);
      const frames = collect(helper.getNode('frames'));
      const completed = collect(helper.getNode('completed'));
      const t0 = 4e12;
      p.receive(visionFrame(camera, t0, 50, [person(1, 4)]));
      // Presence ends at t0 + 2 s (presenceOffS 2); absent 3 s later (the restored setting, not 20 s).
      p.receive(visionFrame(camera, t0 + 5000, 50, []));
      p.receive(visionFrame(camera, t0 + 5500, 50, []));
      await until(() => completed.length === 3, 'three completes');
      assert.strictEqual(frames[1].payload.stations.s1.state, 'idle');
      assert.strictEqual(frames[2].payload.stations.s1.state, 'absent');
    } finally {
      helper.settings({ contextStorage: undefined });
    }
  });

  it('low detection confidence for the sustain period: a drift-warning event and a yellow status', async () => {
    await helper.load(NODES, flow({ healthWindowS: 1, driftThreshold: 0.5, driftSustainMin: 0.05 })); // 3 s
    const p = helper.getNode('p');
    const events = collect(helper.getNode('events'));
    const statuses = collect(helper.getNode('statuses'));
    const completed = collect(helper.getNode('completed'));
    const t0 = 8e12;
    for (let i = 0; i <= 4; i++) p.receive(visionFrame(camera, t0 + i * 1000, 50, [{ ...person(1, 4), score: 0.3 }]));
    await until(() => completed.length === 5, 'five completes');
    const drift = events.filter((m) => m.payload.event === 'drift-warning');
    assert.deepStrictEqual(
      drift.map((m) => [m.topic, m.payload.tMs, m.payload.meanConfidence]),
      [[camera, t0 + 3000, 0.3]],
    );
    await until(() => statuses.some((s) => s.status.fill === 'yellow' && /low confidence/.test(s.status.text)), 'a yellow status');
  });

  it('an unrecognised message goes to Catch with the reason and a red status; the node keeps running', async () => {
    await helper.load(NODES, flow());
    const p = helper.getNode('p');
    const caught = collect(helper.getNode('caught'));
    const statuses = collect(helper.getNode('statuses'));
    const frames = collect(helper.getNode('frames'));
    p.receive({ payload: 'hello' });
    await until(() => caught.length === 1, 'an error');
    assert.match(caught[0].error.message, /expected a vision frame/);
    await until(() => statuses.some((s) => s.status.fill === 'red'), 'a red status');
    p.receive(visionFrame(camera, 5e12, 50, []));
    await until(() => frames.length === 1, 'a frame after the error');
  });

  it('bad stations JSON in the editor: red status and every message refused with the reason', async () => {
    await helper.load(NODES, flow({ stations: '{"zones":[{"name":"a","polygon":[[0,0]]}]}' }));
    const p = helper.getNode('p');
    const caught = collect(helper.getNode('caught'));
    p.receive(visionFrame(camera, 6e12, 50, []));
    await until(() => caught.length === 1, 'an error');
    assert.match(caught[0].error.message, /not configured/);
  });
});
