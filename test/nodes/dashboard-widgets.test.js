'use strict';
// The Dashboard 2.0 widget nodes in a real Node-RED runtime: with Dashboard 2.0's own ui-base,
// ui-page and ui-group loaded, a vision-ui-tiles set to a vision-line-count gets that node's counts
// into the dashboard's data store (what a browser opening the page receives) without any wire, and
// the widget record carries our bundle's location; without a group, or set to a node of the wrong
// type, each widget's status is red with the reason and the flow keeps running.
// A vision-ui-floor set to a calibrated vision-reid gets its people (global ids, floor points) the same way.
const assert = require('assert');
const helper = require('node-red-node-test-helper');
const lineCountNode = require('../../dist/nodes/line-count/line-count.js');
const liveNode = require('../../dist/nodes/ui-live/ui-live.js');
const tilesNode = require('../../dist/nodes/ui-tiles/ui-tiles.js');
const timelineNode = require('../../dist/nodes/ui-timeline/ui-timeline.js');
const eventsNode = require('../../dist/nodes/ui-events/ui-events.js');
const floorNode = require('../../dist/nodes/ui-floor/ui-floor.js');
const reidNode = require('../../dist/nodes/reid/reid.js');
const { sharedFrameStore } = require('../../dist/nodes/lib/frame-store.js');
const statusNode = require('@node-red/nodes/core/common/25-status.js');
const { waitFor } = require('../helpers/wait');

const D2 = '@flowfuse/node-red-dashboard/nodes/';
const dashboardNodes = ['config/ui_base.js', 'config/ui_page.js', 'config/ui_group.js', 'config/ui_theme.js'].map((f) => require(D2 + f));

helper.init(require.resolve('node-red'));

const GEOMETRY = JSON.stringify({ lines: [{ name: 'door', start: [0.5, 0], end: [0.5, 1] }], zones: [] });

function frame(seq, x, trackId = 1) {
  const tMs = 1000 + seq * 100;
  return {
    topic: 'cam1',
    payload: {
      camera: 'cam1',
      frame: { camera: 'cam1', seq, tMs, width: 100, height: 100, format: 'rgb24' },
      detections: [{ box: [x - 5, 40, x + 5, 60], score: 0.9, classId: 0, label: 'person', trackId, state: 'confirmed' }],
    },
  };
}

// (Node-RED takes any property whose value is another config node's id as a reference to it: names
// must not equal ids.)
const dashboard = [
  { id: 'f1', type: 'tab', label: 'Flow' },
  { id: 'd2-base', type: 'ui-base', name: 'Test', path: '/dashboard' },
  { id: 'd2-theme', type: 'ui-theme', name: 'Theme', colors: {}, sizes: {} },
  { id: 'd2-page', type: 'ui-page', name: 'Page', ui: 'd2-base', path: '/p', layout: 'grid', theme: 'd2-theme', order: 1 },
  { id: 'd2-group', type: 'ui-group', name: 'Group', page: 'd2-page', width: '6', height: '1', order: 1 },
];

describe('Dashboard 2.0 widget nodes', function () {
  this.timeout(20000);
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(() => helper.unload());

  it('vision-ui-tiles follows a vision-line-count without a wire: its counts reach the dashboard store', async () => {
    const flow = [
      ...dashboard,
      {
        id: 'count',
        z: 'f1',
        type: 'vision-line-count',
        name: 'Count',
        geometry: GEOMETRY,
        minFrames: 1,
        minDistance: 0.01,
        cooldownS: 0,
        wires: [[], [], []],
      },
      {
        id: 'tiles',
        type: 'vision-ui-tiles',
        group: 'd2-group',
        source: 'count',
        showCounts: true,
        showZones: true,
        showStations: true,
        showKpi: true,
        wires: [],
      },
    ];
    await helper.load([...dashboardNodes, lineCountNode, tilesNode], flow);
    const tiles = helper.getNode('tiles');
    const base = helper.getNode('d2-base');
    // Our bundle, where the dashboard's browser code will import it from.
    const entry = base.ui.widgets.get('tiles');
    assert.deepStrictEqual(
      { package: entry.src.package, src: entry.src.src, component: entry.src.component },
      { package: '@edgevision/node-red-vision', src: 'vision-ui-tiles.umd.js', component: 'VisionUiTiles' },
    );
    const count = helper.getNode('count');
    for (let i = 0; i < 12; i++) count.receive(frame(i, 20 + i * 6));
    const stored = await waitFor(
      () => {
        const m = tiles.getState();
        const t = m && m.payload && m.payload.tiles;
        const out = t && t.find((x) => x.key === 'out:door');
        return out && out.value !== '0' ? t : null;
      },
      5000,
      'the tiles in the dashboard store with the crossing counted',
      50,
    );
    assert.deepStrictEqual(
      stored.map((t) => `${t.key}=${t.value}`),
      ['in:door=0', 'out:door=1'],
    );
  });

  it('a widget imported with new ids (its node id missing) shows the one node of its kind on its flow, and says so', async () => {
    /** @param {Record<string, unknown>} hint */
    const flow = (hint) => [
      ...dashboard,
      {
        id: 'count-new',
        z: 'f1',
        type: 'vision-line-count',
        name: 'Count',
        geometry: GEOMETRY,
        minFrames: 1,
        minDistance: 0.01,
        cooldownS: 0,
        wires: [[], [], []],
      },
      { id: 'tiles', z: 'f1', type: 'vision-ui-tiles', group: 'd2-group', source: 'count-old', ...hint, showCounts: true, wires: [] },
    ];
    const warnings = () =>
      helper
        .log()
        .args.map((/** @type {any[]} */ a) => a[0])
        .filter((/** @type {any} */ e) => e.id === 'tiles' && e.level === helper.log().WARN)
        .map((/** @type {any} */ e) => String(e.msg));
    await helper.load([...dashboardNodes, lineCountNode, tilesNode], flow({}));
    const count = helper.getNode('count-new');
    for (let i = 0; i < 12; i++) count.receive(frame(i, 20 + i * 6));
    await waitFor(
      () => {
        const m = helper.getNode('tiles').getState();
        const out = m && m.payload && m.payload.tiles && m.payload.tiles.find((/** @type {any} */ x) => x.key === 'out:door');
        return out && out.value === '1';
      },
      5000,
      "the crossing counted by the flow's line-count on the widget",
      50,
    );
    assert.ok(
      warnings().some((t) => /count-old.*not in the flows.*count-new/.test(t)),
      warnings().join('; '),
    );
    await helper.unload();
    // It was set to a productivity-state (kept by the editor): a line-count is not taken in its place.
    await helper.load(
      [...dashboardNodes, lineCountNode, tilesNode, statusNode],
      [
        ...flow({ sourceType: 'vision-productivity-state' }),
        { id: 'st', z: 'f1', type: 'status', scope: ['tiles'], wires: [['sts']] },
        { id: 'sts', z: 'f1', type: 'helper' },
      ],
    );
    /** @type {string[]} */
    const texts = [];
    helper.getNode('sts').on('input', (/** @type {any} */ m) => texts.push(m.status.text));
    await waitFor(() => texts.some((t) => /not deployed/.test(t)), 5000, 'the red status');
  });

  it('vision-ui-floor follows a calibrated vision-reid: people with their global ids, where they stand on the floor', async () => {
    // 200 × 200 px onto a 10 m × 10 m floor; one person walking right, a textured picture so that the
    // crops pass the quality gate and the track gets a global id.
    const W = 200;
    const calib = {
      cam1: {
        image: [
          [0, 200],
          [200, 200],
          [200, 0],
          [0, 0],
        ],
        floor: [
          [0, 10],
          [10, 10],
          [10, 0],
          [0, 0],
        ],
      },
    };
    const flow = [
      ...dashboard,
      { id: 'reid', z: 'f1', type: 'vision-reid', embedder: 'colour', calibrations: JSON.stringify(calib), sampleEvery: 1, wires: [[], []] },
      { id: 'plain', z: 'f1', type: 'vision-reid', embedder: 'colour', wires: [[], []] },
      { id: 'st', z: 'f1', type: 'status', scope: ['map', 'nomap'], wires: [['out']] },
      { id: 'out', z: 'f1', type: 'helper' },
      { id: 'map', z: 'f1', type: 'vision-ui-floor', group: 'd2-group', source: 'reid', showAreas: true, wires: [] },
      { id: 'nomap', z: 'f1', type: 'vision-ui-floor', group: 'd2-group', source: 'plain', wires: [] },
    ];
    await helper.load([...dashboardNodes, reidNode, floorNode, statusNode], flow);
    const seen = {};
    helper.getNode('out').on('input', (m) => (seen[m.status.source.id] = m.status));
    const entry = helper.getNode('d2-base').ui.widgets.get('map');
    assert.deepStrictEqual([entry.src.src, entry.src.component], ['vision-ui-floor.umd.js', 'VisionUiFloor']);
    const store = sharedFrameStore();
    const data = Buffer.alloc(W * W * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
    const reid = helper.getNode('reid');
    try {
      for (let i = 0; i < 20; i++) {
        const ref = store.put('cam1', data, W, W, 1000 + i * 100);
        const x = 40 + i * 4;
        reid.receive({
          topic: 'cam1',
          payload: { camera: 'cam1', frame: ref, detections: [{ box: [x, 50, x + 40, 150], score: 0.9, classId: 0, label: 'person', trackId: 1 }] },
        });
      }
      const view = await waitFor(
        () => {
          const m = helper.getNode('map').getState();
          // Ids are given from a track's first frame: wait for the last frame's position.
          const last = m && m.payload && m.payload.people && m.payload.people[0];
          return last && Math.abs(last.x - (30 + 6.8 * 54)) < 20 ? m.payload : null;
        },
        10000,
        'a person on the floor map in the dashboard store, at the last frame',
        50,
      );
      const p = view.people[0];
      assert.match(p.globalId, /^p\d+$/);
      assert.strictEqual(p.camera, 'cam1');
      // The bottom centre of the last box (x + 20 = 136 px, 150 px) on a 10 m floor drawn 540 units wide from x = 30.
      assert.ok(Math.abs(p.x - (30 + 6.8 * 54)) < 20 && Math.abs(p.y - (30 + 7.5 * 54)) < 1, JSON.stringify(p));
      assert.deepStrictEqual([view.width, view.areas.length, view.cameras, view.calibrated], [600, 1, 1, true]);
      await waitFor(() => seen.map && /1 on the floor · 1 camera/.test(seen.map.text), 5000, 'the status', 50);
      assert.strictEqual(seen.map.fill, 'green');
      // Set to a reid node without a floor calibration: a yellow status saying what to set.
      await waitFor(() => seen.nomap && seen.nomap.fill === 'yellow', 5000, 'the warning', 50);
      assert.match(seen.nomap.text, /no calibrated camera/);
    } finally {
      store.release('cam1');
    }
  });

  for (const [type, mod, extra] of /** @type {[string, unknown, Record<string, unknown>][]} */ ([
    ['vision-ui-live', liveNode, { view: 'count' }],
    ['vision-ui-tiles', tilesNode, { source: 'count' }],
    ['vision-ui-timeline', timelineNode, { source: 'count' }],
    ['vision-ui-events', eventsNode, { sources: ['count'] }],
    ['vision-ui-floor', floorNode, { source: 'count' }],
  ])) {
    it(`${type}: no group → red status saying so; set to a node not deployed or of another type → red status saying so`, async () => {
      const flow = [
        ...dashboard,
        { id: 'count', z: 'f1', type: 'vision-line-count', name: 'Count', geometry: GEOMETRY, wires: [[], [], []] },
        // Two line-counts: w2's missing node is not guessed (an import with new ids would be, with one).
        { id: 'count2', z: 'f1', type: 'vision-line-count', name: 'Count 2', geometry: GEOMETRY, wires: [[], [], []] },
        { id: 'st', z: 'f1', type: 'status', scope: ['w1', 'w2', 'w3'], wires: [['out']] },
        { id: 'out', z: 'f1', type: 'helper' },
        { id: 'w1', z: 'f1', type, ...extra, wires: [] },
        {
          id: 'w2',
          z: 'f1',
          type,
          group: 'd2-group',
          ...(type === 'vision-ui-live' ? {} : extra),
          view: 'count',
          source: 'nope',
          sources: ['nope'],
          wires: [],
        },
        { id: 'w3', z: 'f1', type, group: 'd2-group', view: 'st', source: 'st', sources: ['st'], wires: [] },
      ];
      await helper.load([...dashboardNodes, lineCountNode, mod, statusNode], flow);
      const seen = {};
      helper.getNode('out').on('input', (m) => (seen[m.status.source.id] = m.status));
      await waitFor(() => seen.w1 && seen.w2 && seen.w2.fill === 'red' && seen.w3 && seen.w3.fill === 'red', 5000, 'the three statuses', 50);
      assert.strictEqual(seen.w1.fill, 'red');
      assert.match(seen.w1.text, /no group/);
      assert.match(seen.w2.text, type === 'vision-ui-live' ? /no vision-view node/ : /not deployed/);
      assert.match(seen.w3.text, type === 'vision-ui-live' ? /no vision-view node/ : /cannot show a status/);
      for (const k of ['w1', 'w2', 'w3']) assert.ok(seen[k].text.length <= 60, seen[k].text);
    });
  }
});
