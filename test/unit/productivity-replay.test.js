'use strict';
// A scripted replay of one synthetic 8-hour shift (06:00–14:00 UTC, one frame a second) for three
// stations, through the whole engine: detections, pixels for the motion signal, units from messages and
// from line crossings. Every KPI is worked out by hand below and must match to the second.
const assert = require('assert');
const { ProductivityEngine } = require('../../dist/nodes/lib/productivity');
/** @typedef {import('../../dist/nodes/lib/types').Detection} Detection */

const T0 = Date.UTC(2026, 0, 5, 6, 0, 0); // 06:00, start of the "early" shift
const W = 96;
const H = 32;
const BG = 100;
const STATIONS = {
  zones: [
    {
      name: 's1',
      polygon: [
        [0, 0],
        [1 / 3, 0],
        [1 / 3, 1],
        [0, 1],
      ],
    },
    {
      name: 's2',
      polygon: [
        [1 / 3, 0],
        [2 / 3, 0],
        [2 / 3, 1],
        [1 / 3, 1],
      ],
    },
    {
      name: 's3',
      polygon: [
        [2 / 3, 0],
        [1, 0],
        [1, 1],
        [2 / 3, 1],
      ],
    },
  ],
};
/** @type {(i: number) => import('../../dist/nodes/lib/types').Box} */
const box = (i) => [32 * i + 4, 4, 32 * i + 28, 28]; // anchor (bottom-centre) well inside strip i

/**
 * What is in front of each station at second t: the worker's track id (or null), whether they move,
 * and extra detections that must not count. Motion is drawn as the box flipping between two grey
 * levels each second; a still worker keeps the last level, so "active at t" = frame t differs from t−1.
 */
function scene(t) {
  /** @type {{ st: number, id: number, active: boolean, missed?: boolean, score?: number, trackState?: Detection['trackState'] }[]} */
  const out = [];
  // s1: works 600–3600, still 3601–5400, works again until 14400 and leaves; a new track from 16200 on.
  if (t >= 600 && t <= 14400) out.push({ st: 0, id: 1, active: t <= 3600 || t > 5400 });
  if (t >= 16200) out.push({ st: 0, id: 11, active: true });
  // s2: works 1800–10800 with a 2-minute break 5401–5519; the detector misses every third frame.
  if (t >= 1800 && t <= 10800 && !(t > 5400 && t < 5520)) out.push({ st: 1, id: 2, active: true, missed: t % 3 === 2 });
  // s3: a passer-by for one frame; a low-confidence and a tentative detection parked for 10 minutes;
  // a still worker at exactly the 0.7 threshold 7200–9000; a short working visit 20000–20100.
  if (t === 1000) out.push({ st: 2, id: 99, active: true });
  if (t >= 2000 && t <= 2600) out.push({ st: 2, id: 98, active: true, score: 0.69 });
  if (t >= 3000 && t <= 3600) out.push({ st: 2, id: 97, active: true, trackState: 'tentative' });
  if (t >= 7200 && t <= 9000) out.push({ st: 2, id: 3, active: false, score: 0.7 });
  if (t >= 20000 && t <= 20100) out.push({ st: 2, id: 33, active: true });
  return out;
}

/** `restartAt`: seconds at which the engine is replaced by a new one restored from its JSON snapshot. */
function replay(untilS, onSecond, restartAt = []) {
  const options = {
    stations: STATIONS,
    shifts: 'early=06:00,late=14:00,night=22:00',
    utcOffsetMin: 0,
    // Defaults otherwise (presence on 1 s, off 2 s, idle delay 30 s, absence 300 s, confidence 0.7),
    // except that the motion signal is not smoothed so the hand arithmetic below stays in whole seconds
    // (the smoothing itself is tested on its own).
    motionTauMs: 0,
    unitsLine: 'exit',
    unitsStation: 's2',
  };
  let engine = new ProductivityEngine(options);
  const level = [BG, BG, BG]; // grey level of each station's box in the previous frame
  const reports = [];
  const points = [];
  const events = [];
  for (let t = 0; t <= untilS; t++) {
    if (restartAt.includes(t)) {
      // A gateway restart: the node's context keeps only JSON.
      const saved = JSON.parse(JSON.stringify(engine.snapshot()));
      engine = new ProductivityEngine(options);
      engine.restore(saved);
    }
    const data = new Uint8Array(W * H).fill(BG);
    /** @type {Detection[]} */
    const detections = [];
    const drawn = new Set();
    for (const o of scene(t)) {
      const b = box(o.st);
      if (!drawn.has(o.st) && o.score === undefined && o.trackState === undefined && o.id < 90) {
        drawn.add(o.st);
        const prev = level[o.st];
        const v = o.active ? (t % 2 ? 200 : 60) : prev === BG ? 60 : prev;
        level[o.st] = v;
        for (let y = b[1]; y < b[3]; y++) data.fill(v, y * W + b[0], y * W + b[2]);
      }
      if (o.missed) continue;
      detections.push({ box: b, score: o.score ?? 0.9, classId: 0, label: 'person', trackId: o.id, trackState: o.trackState ?? 'confirmed' });
    }
    for (let i = 0; i < 3; i++) if (!drawn.has(i)) level[i] = BG;
    const tMs = T0 + t * 1000;
    const r = engine.processFrame({
      camera: 'cam',
      tMs,
      width: W,
      height: H,
      detections,
      rxMs: tMs,
      pixels: { ref: { camera: 'cam', seq: t, tMs, width: W, height: H, format: 'gray8' }, data },
    });
    reports.push(...r.reports);
    points.push(...r.points);
    events.push(...r.events);
    if (onSecond) onSecond(engine, t, tMs);
  }
  return { engine, reports, points, events };
}

function units(engine, t, tMs) {
  // s1: a PLC counter message every 100 s from 1000 to 20900 (200 units) ...
  if (t >= 1000 && t <= 20900 && t % 100 === 0) assert.ok(engine.addUnits({ station: 's1', count: 1, tMs, rxMs: tMs }).accepted);
  // ... plus 5 units that arrive 7 hours late (event time 06:34:10), and the same message again.
  if (t === 28000) assert.ok(engine.addUnits({ station: 's1', count: 5, tMs: T0 + 2050000, rxMs: tMs, sourceId: 'plc-1' }).accepted);
  if (t === 28001) assert.deepStrictEqual(engine.addUnits({ station: 's1', count: 5, tMs: T0 + 2050000, rxMs: tMs, sourceId: 'plc-1' }).reason, 'duplicate');
  // s2: a line-count crossing on the "exit" line every 100 s from 2000 to 9900 (80 units), one sent twice.
  if (t >= 2000 && t <= 9900 && t % 100 === 0) {
    const ev = { event: 'line-crossing', camera: 'cam', line: 'exit', trackId: 500 + t / 100, tMs };
    assert.ok(engine.addCrossing(ev, tMs).accepted);
    if (t === 5000) assert.strictEqual(engine.addCrossing(ev, tMs).accepted, false);
  }
  // A crossing on another line is not a unit.
  if (t === 3000) assert.strictEqual(engine.addCrossing({ event: 'line-crossing', line: 'entry', trackId: 1, tMs }, tMs), null);
}

describe('productivity: scripted replay of a synthetic shift, KPIs by hand', function () {
  this.timeout(60000);
  let run;
  before(() => {
    run = replay(28800 + 60, units); // one minute into the next shift
  });

  it('closes the early shift at exactly 14:00 with the hand-computed figures per station', () => {
    const end = run.reports.filter((r) => r.reason === 'shift-end');
    assert.strictEqual(end.length, 1);
    const r = end[0];
    assert.deepStrictEqual(r.shift, { name: 'early', startMs: T0, endMs: T0 + 8 * 3600000 });
    assert.strictEqual(r.tMs, T0 + 28800000);
    // s1: absent [0,601) — first sighting at 600, presence needs 1 s —; working [601,3631) — still
    // from 3601, idle once that has lasted longer than 30 s —; idle [3631,5401); working [5401,14432)
    // — last seen 14400, presence ends 2 s later at 14402, and working lasts the 30 s idle delay —;
    // idle [14432,14702) — absent 300 s after presence ended —; absent [14702,16201); working [16201,28800).
    const s1 = { working: 3030 + 9031 + 12599, idle: 1770 + 270, absent: 601 + 1499, occupancy: 14402 - 601 + (28800 - 16201), units: 200 + 5 };
    // s2: absent [0,1801); working [1801,5432) (left 5400 → presence ends 5402 → idle after 30 s);
    // idle [5432,5521) (a 2-minute break is idle, not absent); working [5521,10832); idle [10832,11102);
    // absent [11102,28800). The missed detections every third frame change nothing.
    const s2 = { working: 3631 + 5311, idle: 89 + 270, absent: 1801 + 17698, occupancy: 5402 - 1801 + (10802 - 5521), units: 80 };
    // s3: the passer-by (1 frame), the 0.69 detection and the tentative track never count. absent
    // [0,7201); idle [7201,9302) (a still worker at exactly 0.7; presence ends 9002, absent at 9302);
    // absent [9302,20001); working [20001,20132); idle [20132,20402); absent [20402,28800).
    const s3 = { working: 131, idle: 2101 + 270, absent: 7201 + 10699 + 8398, occupancy: 9002 - 7201 + (20102 - 20001), units: 0 };
    for (const [name, want] of Object.entries({ s1, s2, s3 })) {
      const k = r.stations[name].shift;
      assert.strictEqual(want.working + want.idle + want.absent, 28800, `${name}: hand figures must cover the shift`);
      assert.deepStrictEqual(
        [k.working_s, k.idle_s, k.absent_s, k.elapsed_s, k.occupancy_s, k.units],
        [want.working, want.idle, want.absent, 28800, want.occupancy, want.units],
        name,
      );
      assert.strictEqual(k.utilisation, Math.round(((100 * want.working) / 28800) * 1000) / 1000, `${name} utilisation`);
      const uph = want.working ? Math.round((want.units / (want.working / 3600)) * 1000) / 1000 : 0;
      assert.strictEqual(k.units_per_working_hour, uph, `${name} units per working hour`);
      assert.strictEqual(k.throughput_per_hour, Math.round((want.units / 8) * 1000) / 1000, `${name} throughput`);
    }
    assert.strictEqual(r.stations.s1.shift.utilisation, 85.625); // 24660 / 28800
    const f = r.factory.shift;
    assert.deepStrictEqual([f.working_s, f.idle_s, f.absent_s, f.elapsed_s, f.units], [33733, 4770, 47897, 86400, 285]);
    assert.strictEqual(f.utilisation, Math.round(((100 * 33733) / 86400) * 1000) / 1000);
  });

  it("per-worker figures cover each track's presence only", () => {
    const w = run.reports.find((r) => r.reason === 'shift-end').workers;
    const got = Object.fromEntries(Object.entries(w).map(([id, v]) => [id, [v.station, v.shift.working_s, v.shift.idle_s, v.shift.occupancy_s]]));
    assert.deepStrictEqual(got, {
      'cam:1': ['s1', 3030 + (14402 - 5401), 1770, 14402 - 601], // the worker's presence ends at 14402
      'cam:2': ['s2', 5402 - 1801 + (10802 - 5521), 0, 5402 - 1801 + (10802 - 5521)],
      'cam:3': ['s3', 0, 9002 - 7201, 9002 - 7201],
      'cam:11': ['s1', 28800 - 16201, 0, 28800 - 16201],
      'cam:33': ['s3', 20102 - 20001, 0, 20102 - 20001],
    });
  });

  it('a state that spans the shift boundary is split: the late shift starts with s1 working', () => {
    const r = run.engine.kpis(T0 + 28860000);
    assert.strictEqual(r.shift.name, 'late');
    const k = r.stations.s1.shift;
    assert.deepStrictEqual([k.working_s, k.idle_s, k.absent_s, k.elapsed_s], [60, 0, 0, 60]);
    assert.deepStrictEqual([r.stations.s2.shift.absent_s, r.stations.s3.shift.absent_s], [60, 60]);
  });

  it('the rolling window (1 h) at 14:00 covers 13:00–14:00 only', () => {
    const r = run.reports.find((x) => x.reason === 'shift-end');
    assert.deepStrictEqual([r.stations.s1.window.working_s, r.stations.s1.window.units], [3600, 0]);
    assert.deepStrictEqual([r.stations.s2.window.absent_s, r.stations.s3.window.absent_s], [3600, 3600]);
  });

  it('a KPI report at every state change and every minute of event time, with InfluxDB points', () => {
    const byReason = {};
    for (const r of run.reports) byReason[r.reason] = (byReason[r.reason] || 0) + 1;
    // State changes: s1 6, s2 5, s3 5 (listed in the first test), none in the same frame.
    assert.strictEqual(byReason['state-change'], 16);
    const changes = run.events.filter((e) => e.event === 'state-change');
    assert.deepStrictEqual(
      changes.filter((e) => e.station === 's1').map((e) => [(e.tMs - T0) / 1000, e.to]),
      [
        [601, 'working'],
        [3631, 'idle'],
        [5401, 'working'],
        [14432, 'idle'],
        [14702, 'absent'],
        [16201, 'working'],
      ],
    );
    // The idle change is decided at the first frame after the threshold: event time 3631, received 3632.
    const idle = changes.find((e) => e.station === 's1' && e.to === 'idle');
    assert.strictEqual(idle.rxMs - idle.tMs, 1000);
    // Interval reports: each minute boundary of event time (8 h + 1 min = 481), less the minutes whose
    // boundary frame already carried a state-change or shift-end report.
    assert.strictEqual(
      byReason.interval + byReason['shift-end'] + run.reports.filter((r) => r.reason === 'state-change' && (r.tMs - T0) % 60000 === 0).length,
      481,
    );
    const states = run.points.filter((p) => p.measurement === 'station_state');
    assert.strictEqual(states.length, 16);
    assert.deepStrictEqual(states[0], {
      measurement: 'station_state',
      tags: { station: 's1', camera: 'cam' },
      fields: { state: 'working', state_code: 2, from: 'absent' },
      timestamp: T0 + 601000,
    });
    const kpiPts = run.points.filter(
      (p) =>
        p.measurement === 'station_kpi' && p.tags.period === 'shift' && p.tags.station === 's1' && p.timestamp === T0 + 28800000 && p.tags.shift === 'early',
    );
    assert.strictEqual(kpiPts.length, 1);
    assert.strictEqual(kpiPts[0].fields.working_s, 24660);
    for (const m of ['worker_kpi', 'factory_kpi'])
      assert.ok(
        run.points.some((p) => p.measurement === m),
        m,
      );
  });
});

describe('productivity: a restart mid-shift carries on where it stopped', function () {
  this.timeout(60000);
  it('restored from its snapshot three times, the engine ends the shift with the same KPIs, events and points as without', () => {
    const straight = replay(28800 + 60, units);
    // Restarts while s1 works, while s2 is on its break, and while s3 holds a still worker.
    const restarted = replay(28800 + 60, units, [2000, 5450, 8000]);
    const end = (run) => run.reports.find((r) => r.reason === 'shift-end');
    assert.deepStrictEqual(end(restarted).stations, end(straight).stations);
    assert.deepStrictEqual(end(restarted).workers, end(straight).workers);
    assert.deepStrictEqual(end(restarted).factory, end(straight).factory);
    assert.strictEqual(end(restarted).stations.s1.shift.utilisation, 85.625);
    assert.deepStrictEqual(
      restarted.events.filter((e) => e.event === 'state-change'),
      straight.events.filter((e) => e.event === 'state-change'),
    );
    assert.deepStrictEqual(
      restarted.points.filter((p) => p.measurement === 'station_state'),
      straight.points.filter((p) => p.measurement === 'station_state'),
    );
  });

  it('a station whose zone was redrawn while down starts afresh; the others keep their state', () => {
    const { engine } = replay(4000, units);
    const saved = JSON.parse(JSON.stringify(engine.snapshot()));
    const moved = {
      zones: STATIONS.zones.map((z) =>
        z.name === 's2'
          ? {
              ...z,
              polygon: [
                [0.34, 0],
                [0.66, 0],
                [0.66, 1],
                [0.34, 1],
              ],
            }
          : z,
      ),
    };
    const next = new ProductivityEngine({ stations: moved, shifts: 'early=06:00,late=14:00,night=22:00', utcOffsetMin: 0, motionTauMs: 0 });
    assert.deepStrictEqual(next.restore(saved), { stations: 2, workers: 2 });
    const k = next.kpis(T0 + 4000000);
    assert.strictEqual(k.stations.s1.state, 'idle');
    assert.strictEqual(k.stations.s1.shift.working_s, 3030);
    assert.strictEqual(k.stations.s2.shift.elapsed_s, 0, 's2 was redrawn: no history');
  });

  it('a malformed or foreign snapshot is ignored, never trusted', () => {
    const e = new ProductivityEngine({ stations: STATIONS });
    for (const bad of [null, 42, 'x', {}, { version: 2 }, { version: 1, stations: { s1: { zone: 'nope' } } }])
      assert.deepStrictEqual(e.restore(bad), { stations: 0, workers: 0 });
    const { engine } = replay(700, units);
    const saved = JSON.parse(JSON.stringify(engine.snapshot()));
    saved.stations.s1.states[0].value = 'dancing';
    saved.stations.s2.machine.lastT = 'soon';
    const f = new ProductivityEngine({ stations: STATIONS, shifts: 'early=06:00,late=14:00,night=22:00', utcOffsetMin: 0 });
    assert.deepStrictEqual(f.restore(saved), { stations: 1, workers: 1 }, 's1 and s2 start afresh, s3 is restored');
  });
});

module.exports = { replay, STATIONS };
