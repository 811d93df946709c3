'use strict';
// What the Dashboard 2.0 widgets show (nodes/lib/dashboard), as tables of inputs and outputs, and
// how the gateway picks the dashboards of the seeded demo (EDGEVISION_DASHBOARD).
const assert = require('assert');
const { buildTiles, TILE_DEFAULTS, StationTimeline, EventLog, floorView, idHue } = require('../../dist/nodes/lib/dashboard');
const { selectDashboards, dashboardChoice } = require('../../flows/gateway.js');
const demo = require('../../flows/demo.json');
/** @typedef {import('../../dist/nodes/lib/types').VisionFrame} VisionFrame */
/** @typedef {import('../../dist/nodes/lib/dashboard/tiles').KpiSummary} KpiSummary */
/** @typedef {import('../../dist/nodes/lib/dashboard/tiles').TileOptions} TileOptions */

/** @type {VisionFrame} */
const frame = {
  camera: 'cam1',
  frame: { camera: 'cam1', seq: 1, tMs: 1000, width: 768, height: 576, format: 'rgb24' },
  detections: [],
  counts: { door: { in: 3, out: 1 } },
  zones: { dock: { occupancy: 2 } },
  stations: { 'station-1': { state: 'working' }, 'station-2': { state: 'absent' } },
};
/** @type {KpiSummary} */
const kpi = { factory: { shift: { utilisation: 81.456, units_per_working_hour: 12.34 } } };

describe('dashboard widgets: tiles', () => {
  /** @type {[string, VisionFrame | null, KpiSummary | null, TileOptions, string[]][]} */
  const cases = [
    ['nothing yet', null, null, TILE_DEFAULTS, []],
    [
      'a frame and a KPI report',
      frame,
      kpi,
      TILE_DEFAULTS,
      ['in:door=3', 'out:door=1', 'zone:dock=2', 'station:station-1=working', 'station:station-2=absent', 'kpi:utilisation=81.5 %', 'kpi:uph=12.3'],
    ],
    ['counts only', frame, kpi, { ...TILE_DEFAULTS, zones: false, stations: false, kpi: false }, ['in:door=3', 'out:door=1']],
    ['bounded', frame, kpi, { ...TILE_DEFAULTS, maxTiles: 3 }, ['in:door=3', 'out:door=1', 'zone:dock=2']],
    [
      'a count that is not a number shows 0',
      { ...frame, counts: { door: { in: 'x' } }, zones: {}, stations: {} },
      null,
      TILE_DEFAULTS,
      ['in:door=0', 'out:door=0'],
    ],
  ];
  for (const [name, f, k, opts, want] of cases) {
    it(name, () => {
      assert.deepStrictEqual(
        buildTiles(f, k, opts).map((t) => `${t.key}=${t.value}`),
        want,
      );
    });
  }
  it('colours station tiles by state', () => {
    const tones = Object.fromEntries(buildTiles(frame, null).map((t) => [t.key, t.tone]));
    assert.strictEqual(tones['station:station-1'], 'working');
    assert.strictEqual(tones['station:station-2'], 'absent');
    assert.strictEqual(tones['in:door'], 'neutral');
  });
});

describe('dashboard widgets: station timeline', () => {
  it('segments from state changes, the last one open until now', () => {
    const t = new StationTimeline({ windowMs: 60000 });
    t.change('s1', 'absent', 0);
    t.change('s1', 'working', 10000);
    t.change('s1', 'working', 12000); // same state: no new segment
    t.change('s1', 'idle', 30000);
    t.advance(40000);
    assert.deepStrictEqual(t.view(), {
      now: 40000,
      windowMs: 60000,
      stations: {
        s1: [
          { state: 'absent', from: 0, to: 10000 },
          { state: 'working', from: 10000, to: 30000 },
          { state: 'idle', from: 30000, to: 40000 },
        ],
      },
    });
  });
  it('forgets what ended before the window and clips the segment at its start', () => {
    const t = new StationTimeline({ windowMs: 10000 });
    t.change('s1', 'working', 0);
    t.change('s1', 'idle', 5000);
    t.change('s1', 'working', 12000);
    t.advance(20000);
    assert.deepStrictEqual(t.view().stations.s1, [
      { state: 'idle', from: 10000, to: 12000 },
      { state: 'working', from: 12000, to: 20000 },
    ]);
  });
  it('ignores changes back in time, bad input and stations beyond the bound', () => {
    const t = new StationTimeline({ windowMs: 10000, maxStations: 1 });
    assert.strictEqual(t.change('s1', 'working', 5000), true);
    assert.strictEqual(t.change('s1', 'idle', 4000), false);
    assert.strictEqual(t.change('s2', 'idle', 6000), false);
    assert.strictEqual(t.change('', 'idle', 6000), false);
    assert.strictEqual(t.change('s1', 'idle', NaN), false);
    assert.deepStrictEqual(Object.keys(t.view().stations), ['s1']);
  });
  it('says which option is wrong', () => {
    assert.throws(() => new StationTimeline({ windowMs: 5 }), /windowMs/);
    assert.throws(() => new StationTimeline({ maxStations: 0 }), /maxStations/);
  });
});

describe('dashboard widgets: event table', () => {
  it('keeps the newest rows first, at most max, and skips KPI reports and non-events', () => {
    const log = new EventLog(2);
    assert.strictEqual(log.add({ event: 'line-crossing', camera: 'cam1', tMs: 1, line: 'door', direction: 'in', trackId: 7 }), true);
    assert.strictEqual(log.add({ event: 'kpi', tMs: 2 }), false);
    assert.strictEqual(log.add('nonsense'), false);
    log.add({ event: 'zone-exit', camera: 'cam1', tMs: 3, zone: 'dock', dwellMs: 4200, trackId: 8 });
    log.add({ event: 'state-change', camera: 'cam1', tMs: 4, station: 's1', state: 'idle' });
    assert.deepStrictEqual(log.rows(), [
      { tMs: 4, event: 'state-change', camera: 'cam1', where: 's1', detail: 'idle', track: '' },
      { tMs: 3, event: 'zone-exit', camera: 'cam1', where: 'dock', detail: '4.2 s', track: '8' },
    ]);
    assert.throws(() => new EventLog(0), /max/);
  });
});

describe('gateway: EDGEVISION_DASHBOARD', () => {
  const types = (flows) => new Set(flows.map((n) => n.type));
  it('reads both (default), 1 or 2, and refuses anything else', () => {
    assert.strictEqual(dashboardChoice({}), 'both');
    assert.strictEqual(dashboardChoice({ EDGEVISION_DASHBOARD: '2' }), '2');
    assert.strictEqual(dashboardChoice({ EDGEVISION_DASHBOARD: '1' }), '1');
    assert.throws(() => dashboardChoice({ EDGEVISION_DASHBOARD: '3' }), /EDGEVISION_DASHBOARD must be both, 1 or 2/);
  });
  it('"both" keeps the demo as it is', () => {
    assert.strictEqual(selectDashboards(demo, 'both'), demo);
  });
  for (const [which, gone, kept] of /** @type {[string, RegExp, RegExp][]} */ ([
    ['2', /^ui_/, /^(ui-|vision-ui-)/],
    ['1', /^(ui-|vision-ui-)/, /^ui_/],
  ])) {
    it(`"${which}": the other dashboard's nodes, the wires to them and the functions that only fed them are gone`, () => {
      const out = selectDashboards(demo, which);
      const t = types(out);
      assert.ok(![...t].some((x) => gone.test(x)), [...t].join(', '));
      assert.ok([...t].some((x) => kept.test(x)));
      const ids = new Set(out.map((n) => n.id));
      for (const n of out) for (const w of n.wires || []) for (const to of w) assert.ok(ids.has(to), `${n.id} → ${to}`);
      // The pipeline stays whole.
      for (const id of ['demo-camera', 'demo-detect', 'demo-track', 'demo-count', 'demo-stations', 'demo-view', 'demo-influx', 'demo-health'])
        assert.ok(ids.has(id), id);
      for (const n of out) if (n.z) assert.ok(ids.has(n.z), `${n.id} is on a tab that is there`);
    });
  }
});

describe('dashboard widgets: floor map', () => {
  /** @type {{ camera: string, floor: import('../../dist/nodes/lib/types').Point[] }} */
  const area = {
    camera: 'cam1',
    floor: [
      [0, 6],
      [10, 6],
      [10, 0],
      [0, 0],
    ],
  };
  it('fits the floor in a 600-wide view box, same scale on both axes, people where they stand', () => {
    const v = floorView({
      areas: [area],
      people: [
        { globalId: 'p2', camera: 'cam1', floor: [5, 3] },
        { globalId: 'p1', camera: 'cam1', floor: [0, 0] },
      ],
    });
    // 10 × 6 m: 540 px for 10 m → 54 px/m, 6 m = 324 px + 2 × 30 padding = 384.
    assert.deepStrictEqual([v.width, v.height], [600, 384]);
    assert.deepStrictEqual(v.areas[0].points, [
      [30, 354],
      [570, 354],
      [570, 30],
      [30, 30],
    ]);
    assert.deepStrictEqual(
      v.people.map((p) => [p.globalId, p.x, p.y]),
      [
        ['p1', 30, 30],
        ['p2', 300, 192],
      ],
    );
    assert.strictEqual(v.people[0].hue, idHue('p1'));
    // Ids in sequence are far apart in colour (the golden angle), whatever their prefix.
    for (let n = 1; n < 12; n++) {
      const d = Math.abs(idHue(`gw-a:p${n}`) - idHue(`gw-a:p${n + 1}`));
      assert.ok(Math.min(d, 360 - d) >= 80, `p${n}/p${n + 1}: ${d}`);
    }
    assert.ok(idHue('visitor') >= 0 && idHue('visitor') < 360);
  });
  it('grows the box for someone outside every area; a narrow floor is centred, its height bounded', () => {
    const v = floorView({ areas: [area], people: [{ globalId: 'x', camera: 'cam1', floor: [20, 3] }] });
    assert.deepStrictEqual(
      v.people.map((p) => [p.x, p.y]),
      [[570, 111]],
    );
    const tall = floorView({
      areas: [
        {
          camera: 'c',
          floor: [
            [0, 0],
            [1, 0],
            [1, 100],
            [0, 100],
          ],
        },
      ],
      people: [],
    });
    assert.strictEqual(tall.height, 900);
    const xs = tall.areas[0].points.map((p) => p[0]);
    assert.ok(Math.abs(600 - Math.max(...xs) - Math.min(...xs)) < 0.2, `centred: ${xs}`);
  });
  it('skips points that are not numbers; nothing to draw gives an empty box', () => {
    const v = floorView({ areas: [{ camera: 'c', floor: [[NaN, 1]] }], people: [{ globalId: 'q', camera: 'c', floor: [1, null] }] });
    assert.deepStrictEqual([v.areas, v.people, v.width], [[], [], 600]);
    assert.ok(v.height >= 200 && v.height <= 900);
  });
});
