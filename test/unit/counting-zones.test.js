'use strict';
// Zones: occupancy per zone and class, enter/exit with inertia, dwell (on exit and running),
// over-capacity alarm, exits on track end, metrics, persistence of totals.
const assert = require('assert');
const { Counter } = require('../../dist/nodes/lib/counting');
/** @typedef {import('../../dist/nodes/lib/types').Detection} Detection */

const W = 1000;
const H = 1000;
const DT = 100;
const ZONE = {
  zones: [
    {
      name: 'station-1',
      polygon: [
        [0.4, 0.4],
        [0.6, 0.4],
        [0.6, 0.6],
        [0.4, 0.6],
      ],
      capacity: 1,
    },
  ],
};

/**
 * @param {Partial<Detection>} [extra]
 * @returns {Detection}
 */
function det(id, fx, fy, extra = {}) {
  return { box: [fx * W - 20, fy * H - 100, fx * W + 20, fy * H], score: 0.9, classId: 0, label: 'person', trackId: id, trackState: 'confirmed', ...extra };
}
const IN = 0.5;
const OUT = 0.2;

/** Each frame: list of [id, inside?] pairs. */
function run(geometry, options, script) {
  const c = new Counter(geometry, options);
  const events = [];
  const reports = [];
  script.forEach((frame, i) => {
    const r = c.update(
      frame.map(([id, inside, extra]) => det(id, inside ? IN : OUT, inside ? IN : OUT, extra)),
      i * DT,
      W,
      H,
    );
    events.push(...r.events);
    reports.push(r);
  });
  return { c, events, reports };
}
const rep = (n, frame) => Array.from({ length: n }, () => frame);

const cases = [
  {
    name: 'inertia: 2 frames inside is not an enter (3 needed)',
    script: [...rep(2, [[1, false]]), ...rep(2, [[1, true]]), ...rep(3, [[1, false]])],
    events: [],
  },
  { name: 'enter after 3 frames inside, dated at the first', script: [...rep(2, [[1, false]]), ...rep(5, [[1, true]])], events: [['zone-enter', 1, 2 * DT]] },
  {
    name: 'a 2-frame excursion outside is not an exit',
    script: [...rep(4, [[1, true]]), ...rep(2, [[1, false]]), ...rep(4, [[1, true]])],
    events: [['zone-enter', 1, 0]],
  },
  {
    name: 'exit after 3 frames outside, dated at the first, with the dwell',
    script: [...rep(5, [[1, true]]), ...rep(4, [[1, false]])],
    events: [
      ['zone-enter', 1, 0],
      ['zone-exit', 1, 5 * DT, 5 * DT],
    ],
  },
  {
    name: 'over capacity raises one alarm and clears it once',
    script: [
      ...rep(4, [[1, true]]),
      ...rep(4, [
        [1, true],
        [2, true],
      ]),
      ...rep(4, [
        [1, true],
        [2, false],
      ]),
    ],
    events: [
      ['zone-enter', 1, 0],
      ['zone-enter', 2, 4 * DT],
      ['zone-alarm', 'raised', 6 * DT],
      ['zone-exit', 2, 8 * DT, 4 * DT],
      ['zone-alarm', 'cleared', 10 * DT],
    ],
  },
  { name: 'tentative tracks do not occupy', script: rep(5, [[1, true, { trackState: 'tentative' }]]), events: [] },
];

function shape(e) {
  if (e.event === 'zone-alarm') return [e.event, e.state, e.tMs];
  if (e.event === 'zone-exit') return [e.event, e.trackId, e.tMs, e.dwellMs];
  return [e.event, e.trackId, e.tMs];
}

describe('counting: zones', function () {
  for (const k of cases) {
    it(k.name, function () {
      const { events } = run(ZONE, {}, k.script);
      assert.deepStrictEqual(events.map(shape), k.events);
    });
  }

  it('occupancy per class and running dwell per object', function () {
    const script = [
      ...rep(3, [[1, true]]),
      ...rep(4, [
        [1, true],
        [2, true, { label: 'forklift', classId: 9 }],
      ]),
    ];
    const { reports } = run(
      {
        zones: [
          {
            name: 'z',
            polygon: [
              [0.4, 0.4],
              [0.6, 0.4],
              [0.6, 0.6],
              [0.4, 0.6],
            ],
          },
        ],
      },
      {},
      script,
    );
    const z = reports[reports.length - 1].zones.z;
    assert.strictEqual(z.occupancy, 2);
    assert.deepStrictEqual(z.byClass, { person: 1, forklift: 1 });
    assert.deepStrictEqual(
      z.objects.map((o) => [o.trackId, o.dwellMs]),
      [
        [1, 6 * DT],
        [2, 3 * DT],
      ],
    );
    assert.strictEqual(z.alarm, false);
  });

  it('zone class limits', function () {
    const g = {
      zones: [
        {
          name: 'z',
          polygon: [
            [0.4, 0.4],
            [0.6, 0.4],
            [0.6, 0.6],
            [0.4, 0.6],
          ],
          classes: ['forklift'],
        },
      ],
    };
    const { reports } = run(
      g,
      {},
      rep(4, [
        [1, true],
        [2, true, { label: 'forklift', classId: 9 }],
      ]),
    );
    assert.deepStrictEqual(reports[3].zones.z.byClass, { forklift: 1 });
  });

  it('a track that ends inside exits with its dwell up to its last sighting', function () {
    const { c } = run(ZONE, {}, rep(5, [[1, true]]));
    const ev = c.endTrack(1, 10 * DT);
    assert.deepStrictEqual(
      ev.map((e) => [e.event, e.trackId, e.dwellMs, e.reason]),
      [['zone-exit', 1, 4 * DT, 'track-end']],
    );
    assert.strictEqual(c.update([], 11 * DT, W, H).zones['station-1'].occupancy, 0);
  });

  it('a track that times out inside exits too', function () {
    const { c } = run(ZONE, { trackTimeoutS: 0.5 }, rep(5, [[1, true]]));
    const r = c.update([], 4 * DT + 501, W, H);
    assert.deepStrictEqual(
      r.events.map((e) => [e.event, e.reason]),
      [['zone-exit', 'timeout']],
    );
    assert.strictEqual(r.zones['station-1'].occupancy, 0);
  });

  it('an id switch inside a zone hands the membership over: no exit, no enter, dwell continues', function () {
    const c = new Counter(ZONE, {});
    const events = [];
    for (let i = 0; i < 5; i++) events.push(...c.update([det(1, 0.5, 0.5)], i * DT, W, H).events);
    for (let i = 5; i < 10; i++) events.push(...c.update([det(2, 0.505, 0.5, { trackState: i < 7 ? 'tentative' : 'confirmed' })], i * DT, W, H).events);
    events.push(...c.endTrack(1, 10 * DT));
    const r = c.update([det(2, 0.5, 0.5)], 10 * DT, W, H);
    assert.deepStrictEqual(events.map(shape), [['zone-enter', 1, 0]]);
    assert.deepStrictEqual(r.zones['station-1'].objects, [{ trackId: 2, label: 'person', dwellMs: 10 * DT }]);
  });
});

describe('counting: metrics and persistence', function () {
  const LINE = { lines: [{ name: 'door', start: [0, 0.5], end: [1, 0.5] }], zones: ZONE.zones };
  function crossDown(c, id, t0) {
    for (let i = 0; i <= 10; i++) c.update([det(id, 0.2, 0.3 + i * 0.04)], t0 + i * DT, W, H);
  }

  it('InfluxDB points: line_crossings (total and delta), zone_occupancy, zone_dwell, with the tags', function () {
    const c = new Counter(LINE, { camera: 'cam-1' });
    crossDown(c, 1, 0);
    let pts = c.takeMetrics(5000);
    const lc = pts.filter((p) => p.measurement === 'line_crossings');
    assert.deepStrictEqual(lc, [
      {
        measurement: 'line_crossings',
        tags: { camera: 'cam-1', line: 'door', class: 'person', direction: 'in' },
        fields: { count: 1, delta: 1 },
        timestamp: 5000,
      },
      {
        measurement: 'line_crossings',
        tags: { camera: 'cam-1', line: 'door', class: 'person', direction: 'out' },
        fields: { count: 0, delta: 0 },
        timestamp: 5000,
      },
    ]);
    assert.deepStrictEqual(
      pts.filter((p) => p.measurement === 'zone_occupancy'),
      [{ measurement: 'zone_occupancy', tags: { camera: 'cam-1', zone: 'station-1', class: 'all' }, fields: { occupancy: 0 }, timestamp: 5000 }],
    );
    crossDown(c, 2, 2000);
    for (let i = 0; i < 5; i++) c.update([det(3, 0.5, 0.5)], 4000 + i * DT, W, H);
    for (let i = 5; i < 9; i++) c.update([det(3, 0.2, 0.2)], 4000 + i * DT, W, H);
    pts = c.takeMetrics(9000);
    assert.deepStrictEqual(pts.find((p) => p.measurement === 'line_crossings').fields, { count: 2, delta: 1 });
    assert.deepStrictEqual(
      pts.filter((p) => p.measurement === 'zone_dwell'),
      [
        {
          measurement: 'zone_dwell',
          tags: { camera: 'cam-1', zone: 'station-1', class: 'person' },
          fields: { exits: 1, mean_s: 0.5, max_s: 0.5 },
          timestamp: 9000,
        },
      ],
    );
    assert.strictEqual(c.takeMetrics(10000).filter((p) => p.measurement === 'zone_dwell').length, 0, 'dwell is per period');
  });

  it('snapshot and restore keep totals across a restart; reset zeroes them', function () {
    const a = new Counter(LINE);
    crossDown(a, 1, 0);
    const snap = JSON.parse(JSON.stringify(a.snapshot()));
    const b = new Counter(LINE);
    b.restore(snap);
    assert.deepStrictEqual(b.counts(), { door: { in: 1, out: 0 } });
    assert.deepStrictEqual(b.countsByClass(), { door: { person: { in: 1, out: 0 } } });
    b.resetCounts();
    assert.deepStrictEqual(b.counts(), { door: { in: 0, out: 0 } });
  });

  it('after a restore, the first metrics delta counts only new crossings', function () {
    const a = new Counter(LINE);
    crossDown(a, 1, 0);
    const b = new Counter(LINE);
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    crossDown(b, 2, 5000);
    const p = b.takeMetrics(9000).find((x) => x.measurement === 'line_crossings' && x.tags.direction === 'in');
    assert.deepStrictEqual(p.fields, { count: 2, delta: 1 });
  });

  it('a raised over-capacity alarm stays raised over a restart: no second "raised", and "cleared" still comes', function () {
    const crowd = [
      ...rep(4, [[1, true]]),
      ...rep(4, [
        [1, true],
        [2, true],
      ]),
    ];
    const { c: a, events } = run(ZONE, {}, crowd);
    assert.deepStrictEqual(
      events.filter((e) => e.event === 'zone-alarm').map((e) => e.state),
      ['raised'],
    );
    const b = new Counter(ZONE, {});
    b.restore(JSON.parse(JSON.stringify(a.snapshot())));
    // New tracker ids after the restart: the same two people, still over capacity, then one leaves.
    const after = [];
    [
      ...rep(6, [
        [11, true],
        [12, true],
      ]),
      ...rep(6, [
        [11, true],
        [12, false],
      ]),
    ].forEach((frame, i) => {
      after.push(
        ...b.update(
          frame.map(([id, inside]) => det(id, inside ? IN : OUT, inside ? IN : OUT)),
          (20 + i) * DT,
          W,
          H,
        ).events,
      );
    });
    assert.deepStrictEqual(
      after.filter((e) => e.event === 'zone-alarm').map((e) => e.state),
      ['cleared'],
    );
  });

  it('restore ignores malformed snapshots and lines that no longer exist', function () {
    const c = new Counter(LINE);
    for (const bad of [
      null,
      'x',
      { version: 2, counts: {} },
      { version: 1, counts: { door: { in: -1, out: 0 } } },
      { version: 1, counts: { gone: { in: 5, out: 5 } } },
    ])
      c.restore(bad);
    assert.deepStrictEqual(c.counts(), { door: { in: 0, out: 0 } });
  });

  it('replacing the geometry keeps the totals of lines that keep their name', function () {
    const c = new Counter({
      lines: [
        { name: 'door', start: [0, 0.5], end: [1, 0.5] },
        { name: 'old', start: [0, 0.6], end: [1, 0.6] },
      ],
    });
    crossDown(c, 1, 0);
    c.setGeometry({
      lines: [
        { name: 'door', start: [0, 0.4], end: [1, 0.4] },
        { name: 'new', start: [0, 0.7], end: [1, 0.7] },
      ],
    });
    assert.deepStrictEqual(c.counts(), { door: { in: 1, out: 0 }, new: { in: 0, out: 0 } });
  });

  it('after a geometry change, the metrics delta of a kept line counts only new crossings', function () {
    const c = new Counter(LINE);
    crossDown(c, 1, 0);
    const inPoint = (pts, line) => pts.find((x) => x.measurement === 'line_crossings' && x.tags.line === line && x.tags.direction === 'in');
    assert.deepStrictEqual(inPoint(c.takeMetrics(1000), 'door').fields, { count: 1, delta: 1 });
    // door moved (and a line named "gone" comes and goes): its total 1 was reported already.
    c.setGeometry({
      lines: [
        { name: 'door', start: [0, 0.6], end: [1, 0.6] },
        { name: 'gone', start: [0, 0.2], end: [1, 0.2] },
      ],
    });
    assert.deepStrictEqual(inPoint(c.takeMetrics(2000), 'door').fields, { count: 1, delta: 0 }, 'no new crossing: delta 0, not the kept total');
    crossDown(c, 2, 3000);
    assert.deepStrictEqual(inPoint(c.takeMetrics(5000), 'door').fields, { count: 2, delta: 1 });
  });
});
