'use strict';
// The productivity engine's parts: the event log (late and duplicate events), KPI arithmetic, shift
// boundaries, the motion signal, model-health drift, station and option validation.
const assert = require('assert');
const P = require('../../dist/nodes/lib/productivity');

describe('productivity: event log ordered by event time', () => {
  it('places a late event by its event time and integrates as if it had come on time', () => {
    const inOrder = new P.Timeline();
    const late = new P.Timeline();
    /** @type {[number, string][]} */
    const evs = [
      [0, 'absent'],
      [10, 'working'],
      [25, 'idle'],
      [40, 'working'],
    ];
    for (const [t, v] of evs) inOrder.insert(t, v, t);
    for (const [t, v] of [evs[0], evs[1], evs[3], evs[2]]) late.insert(t, v, 100);
    assert.deepStrictEqual(
      late.list().map((e) => [e.tMs, e.value]),
      evs,
    );
    assert.deepStrictEqual([...late.integrate(0, 50)], [...inOrder.integrate(0, 50)]);
    assert.deepStrictEqual(Object.fromEntries(late.integrate(0, 50)), { absent: 10, working: 25, idle: 15 });
  });

  it('drops a duplicate (same time and state) and keeps a different state at the same time', () => {
    const t = new P.Timeline();
    assert.strictEqual(t.insert(5, 'working', 1), true);
    assert.strictEqual(t.insert(5, 'working', 2), false);
    assert.strictEqual(t.insert(5, 'idle', 3), true);
    assert.strictEqual(t.length, 2);
    assert.strictEqual(t.valueAt(5), 'idle'); // the later arrival at one time wins
    assert.strictEqual(t.valueAt(4), undefined);
  });

  it('integrates over a window that starts mid-state and never counts time before the first event', () => {
    const t = new P.Timeline();
    t.insert(100, 'idle', 0);
    t.insert(200, 'working', 0);
    assert.deepStrictEqual(Object.fromEntries(t.integrate(150, 260)), { idle: 50, working: 60 });
    assert.deepStrictEqual(Object.fromEntries(t.integrate(0, 150)), { idle: 50 });
    assert.strictEqual(t.integrate(300, 300).size, 0);
  });

  it('prune keeps the state at the cut', () => {
    const t = new P.Timeline();
    for (const [ms, v] of /** @type {[number, string][]} */ ([
      [0, 'absent'],
      [10, 'working'],
      [20, 'idle'],
      [30, 'working'],
    ]))
      t.insert(ms, v, 0);
    t.prune(25);
    assert.deepStrictEqual(
      t.list().map((e) => e.tMs),
      [20, 30],
    );
    assert.deepStrictEqual(Object.fromEntries(t.integrate(25, 35)), { idle: 5, working: 5 });
  });

  it('unit log: late units placed by time, duplicate source ids dropped, [from, to) bounds', () => {
    const u = new P.UnitLog();
    assert.ok(u.add(50, 2, 0, 'a'));
    assert.ok(u.add(10, 1, 0));
    assert.ok(!u.add(70, 5, 0, 'a'));
    assert.ok(u.add(100, 3, 0));
    assert.strictEqual(u.sum(0, 100), 3);
    assert.strictEqual(u.sum(0, 101), 6);
    assert.strictEqual(u.sum(50, 100), 2);
    assert.strictEqual(u.sum(50, 100, true), 5);
    assert.strictEqual(u.sum(2e12, 2e12, true), 0);
    u.prune(50);
    assert.strictEqual(u.sum(0, 1000), 5);
  });
});

describe('productivity: KPI arithmetic', () => {
  it('utilisation = working / (working + idle + absent), staffed = working / (working + idle)', () => {
    const k = P.computeKpi({ workingMs: 3600000, idleMs: 1800000, absentMs: 1800000, occupancyMs: 5000000, units: 90 });
    assert.deepStrictEqual(k, {
      working_s: 3600,
      idle_s: 1800,
      absent_s: 1800,
      elapsed_s: 7200,
      occupancy_s: 5000,
      utilisation: 50,
      staffed_utilisation: 66.667,
      units: 90,
      units_per_working_hour: 90,
      throughput_per_hour: 45,
    });
  });
  it('no division by zero', () => {
    const k = P.computeKpi({ workingMs: 0, idleMs: 0, absentMs: 0, occupancyMs: 0, units: 3 });
    assert.strictEqual(k.utilisation, 0);
    assert.strictEqual(k.units_per_working_hour, 0);
    assert.strictEqual(k.throughput_per_hour, 0);
  });
});

describe('productivity: shifts', () => {
  const day = Date.UTC(2026, 0, 5);
  const h = (x) => day + x * 3600000;
  const defs = P.parseShifts('early=06:00, late=14:00, night=22:00');
  /** @type {[number, string, number, number][]} */
  const table = [
    [h(6), 'early', h(6), h(14)],
    [h(13.99), 'early', h(6), h(14)],
    [h(14), 'late', h(14), h(22)],
    [h(23), 'night', h(22), h(30)],
    [h(3), 'night', h(-2), h(6)],
  ];
  for (const [t, name, start, end] of table) {
    it(`${new Date(t).toISOString()} is in ${name}`, () => {
      assert.deepStrictEqual(P.shiftAt(t, defs, 0), { name, startMs: start, endMs: end });
    });
  }
  it('applies a UTC offset (06:00 at UTC+2 is 04:00 UTC)', () => {
    assert.deepStrictEqual(P.shiftAt(h(5), defs, 120), { name: 'early', startMs: h(4), endMs: h(12) });
  });
  it('a local day with a DST change: the shift starts and ends at local midnight (23 h long)', () => {
    const change = Date.UTC(2026, 2, 29, 1, 0, 0); // CET → CEST
    const cet = (ms) => (ms < change ? 60 : 120);
    const s = P.shiftAt(Date.UTC(2026, 2, 29, 12), P.parseShifts(''), cet);
    assert.deepStrictEqual(s, { name: '00:00', startMs: Date.UTC(2026, 2, 28, 23), endMs: Date.UTC(2026, 2, 29, 22) });
  });
  it('accepts the line-count format (, ; or space separators)', () => {
    assert.deepStrictEqual(
      P.parseShifts('22:00; 06:00 14:00').map((d) => d.startMin),
      [360, 840, 1320],
    );
  });
  it('empty means one shift a day from midnight; bad specs say what is wrong', () => {
    assert.deepStrictEqual(P.shiftAt(h(5), P.parseShifts(''), 0), { name: '00:00', startMs: h(0), endMs: h(24) });
    assert.throws(() => P.parseShifts('6am'), /HH:MM/);
    assert.throws(() => P.parseShifts('06:00,06:00'), /same time/);
  });
});

describe('productivity: motion signal (frame differencing)', () => {
  const W = 40;
  const H = 20;
  function frame(format, fill) {
    const bpp = format === 'gray8' ? 1 : 3;
    const data = new Uint8Array(W * H * bpp);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const v = fill(x, y);
        for (let c = 0; c < bpp; c++) data[(y * W + x) * bpp + c] = v;
      }
    return { ref: { camera: 'c', seq: 0, tMs: 0, width: W, height: H, format }, data };
  }
  for (const format of ['rgb24', 'bgr24', 'gray8']) {
    it(`${format}: fraction of sampled pixels changed inside the box only`, () => {
      const a = frame(format, () => 100);
      // Change the left half of the frame by 50 grey levels.
      const b = frame(format, (x) => (x < 20 ? 150 : 100));
      assert.strictEqual(P.motionFraction(a, b, [0, 0, 20, 20], { step: 1, pixelThreshold: 25 }), 1);
      assert.strictEqual(P.motionFraction(a, b, [20, 0, 40, 20], { step: 1, pixelThreshold: 25 }), 0);
      assert.strictEqual(P.motionFraction(a, b, [10, 0, 30, 20], { step: 2, pixelThreshold: 25 }), 0.5);
      assert.strictEqual(P.motionFraction(a, b, [0, 0, 20, 20], { step: 1, pixelThreshold: 50 }), 0); // not above 50
    });
  }
  it('null when frames differ in size or the box misses the frame', () => {
    const a = frame('gray8', () => 0);
    const b = { ...a, ref: { ...a.ref, width: 20, height: 40 } };
    assert.strictEqual(P.motionFraction(a, b, [0, 0, 5, 5]), null);
    assert.strictEqual(P.motionFraction(a, a, [100, 100, 120, 120]), null);
  });
  it('time-based EMA: same result for one long step as for the same reading in small steps', () => {
    const one = P.emaOverTime(0, 0, 1, 1000, 1000);
    let v = 0;
    for (let t = 100; t <= 1000; t += 100) v = P.emaOverTime(v, t - 100, 1, t, 1000);
    assert.ok(Math.abs(one - (1 - Math.exp(-1))) < 1e-12);
    assert.ok(Math.abs(v - one) < 1e-12);
    assert.strictEqual(P.emaOverTime(undefined, undefined, 0.3, 5, 1000), 0.3);
  });
});

describe('productivity: model health (drift)', () => {
  it('warns once when the mean stays below the threshold for the sustain period, clears once on recovery', () => {
    const m = new P.ConfidenceMonitor({ windowMs: 10000, threshold: 0.5, sustainMs: 30000 });
    const evs = [];
    for (let t = 0; t <= 120000; t += 1000) {
      const score = t < 20000 ? 0.9 : t < 90000 ? 0.3 : 0.9;
      const e = m.observe(t, [score, score]);
      if (e) evs.push([e.event, e.tMs, e.lowSinceMs]);
    }
    // The 10 s window holds the seconds (t−10, t]. At 26 s it holds 3 high (0.9) and 7 low (0.3)
    // seconds: mean 0.48 < 0.5 (at 25 s it is 0.54). Low since 26 s, so the warning comes at 56 s.
    // Recovery from 90 s: at 93 s the window is 6 low + 4 high = 0.54 ≥ 0.5: cleared.
    assert.deepStrictEqual(
      evs.map((e) => e[0]),
      ['drift-warning', 'drift-cleared'],
    );
    assert.strictEqual(evs[0][2], 26000);
    assert.strictEqual(evs[0][1], 56000);
    assert.strictEqual(evs[1][1], 93000);
  });
  it('a dip shorter than the sustain period raises nothing; frames without detections do not count', () => {
    const m = new P.ConfidenceMonitor({ windowMs: 1000, threshold: 0.5, sustainMs: 30000 });
    const evs = [];
    for (let t = 0; t <= 100000; t += 1000) {
      const e = m.observe(t, t >= 40000 && t < 60000 ? [0.2] : t >= 60000 ? [] : [0.9]);
      if (e) evs.push(e);
    }
    assert.deepStrictEqual(evs, []);
  });
});

describe('productivity: stations and options validation', () => {
  it('parses the line-count geometry shape, ignoring lines', () => {
    const z = P.parseStations('{"lines":[{"name":"l","points":[[0,0],[1,1]]}],"zones":[{"name":"s1","camera":"c","polygon":[[0,0],[1,0],[1,1]]}]}');
    assert.deepStrictEqual(z, [
      {
        name: 's1',
        camera: 'c',
        polygon: [
          [0, 0],
          [1, 0],
          [1, 1],
        ],
      },
    ]);
  });
  /** @type {[string, RegExp][]} */
  const bad = [
    ['{', /not valid JSON/],
    ['{"zones":{}}', /must be an array/],
    ['{"zones":[{"polygon":[[0,0],[1,0],[1,1]]}]}', /non-empty "name"/],
    ['{"zones":[{"name":"a","polygon":[[0,0],[1,0]]}]}', /at least 3 points/],
    ['{"zones":[{"name":"a","polygon":[[0,0],[2,0],[1,1]]}]}', /outside 0..1/],
    ['{"zones":[{"name":"a","polygon":[[0,0],[1,0],[1,1]]},{"name":"a","polygon":[[0,0],[1,0],[1,1]]}]}', /used twice/],
  ];
  for (const [json, re] of bad) it(`rejects ${json} with ${re}`, () => assert.throws(() => P.parseStations(json), re));

  it('option defaults: confidence 0.7, absence 300 s', () => {
    const o = P.resolveOptions({});
    assert.strictEqual(o.minConfidence, 0.7);
    assert.strictEqual(o.absenceTimeoutMs, 300000);
  });
  /** @type {[object, RegExp][]} */
  const badOpts = [
    [{ minConfidence: 1.5 }, /minConfidence/],
    [{ activitySource: 'magic' }, /activitySource/],
    [{ idleDelayMs: -1 }, /idleDelayMs/],
    [{ nonsense: 1 }, /unknown option "nonsense"/],
    [{ unitsStation: 'nope' }, /unitsStation "nope"/],
    [{ shifts: '25:00' }, /HH:MM/],
  ];
  for (const [patch, re] of badOpts) it(`rejects ${JSON.stringify(patch)}`, () => assert.throws(() => P.resolveOptions(/** @type {any} */ (patch)), re));
});
