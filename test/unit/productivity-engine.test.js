'use strict';
// The engine's rules beyond the state machine: late frames, frames whose pixels are gone, the external
// activity signal, runtime configuration, model-health events, camera filters and bounded memory.
const assert = require('assert');
const { ProductivityEngine } = require('../../dist/nodes/lib/productivity');
/** @typedef {import('../../dist/nodes/lib/types').Detection} Detection */

const W = 64;
const H = 32;
const ZONES = {
  zones: [
    {
      name: 'a',
      polygon: [
        [0, 0],
        [0.5, 0],
        [0.5, 1],
        [0, 1],
      ],
    },
    {
      name: 'b',
      camera: 'cam2',
      polygon: [
        [0.5, 0],
        [1, 0],
        [1, 1],
        [0.5, 1],
      ],
    },
  ],
};
/** @type {(id: number, x: number, extra?: Partial<Detection>) => Detection} */
const det = (id, x, extra = {}) => ({ box: [x, 4, x + 20, 28], score: 0.9, classId: 0, label: 'person', trackId: id, trackState: 'confirmed', ...extra });
const pix = (camera, seq, tMs, v) => ({ ref: { camera, seq, tMs, width: W, height: H, format: 'gray8' }, data: new Uint8Array(W * H).fill(v) });
const frame = (camera, t, detections, pixels) => ({ camera, tMs: t * 1000, width: W, height: H, detections, pixels, rxMs: t * 1000 });

describe('productivity engine', () => {
  it('a late frame changes nothing and is counted', () => {
    const e = new ProductivityEngine({ stations: ZONES, activitySource: 'presence', presenceOnMs: 0 });
    e.processFrame(frame('cam', 10, [det(1, 5)]));
    const r = e.processFrame(frame('cam', 5, []));
    assert.strictEqual(r.late, true);
    assert.deepStrictEqual(r.events, []);
    assert.strictEqual(r.stations.a.state, 'working');
    assert.strictEqual(e.stats.lateFrames, 1);
  });

  it('motion: change in the box is activity; a frame whose pixels are gone gives no reading (state holds)', () => {
    const e = new ProductivityEngine({ stations: ZONES, presenceOnMs: 0, idleDelayMs: 0, motionTauMs: 0 });
    let r = e.processFrame(frame('cam', 0, [det(1, 5)], pix('cam', 0, 0, 10)));
    assert.strictEqual(r.stations.a.activity, null); // nothing to difference against yet
    r = e.processFrame(frame('cam', 1, [det(1, 5)], pix('cam', 1, 1000, 200)));
    assert.strictEqual(r.stations.a.activity, 1);
    assert.strictEqual(r.stations.a.state, 'working');
    r = e.processFrame(frame('cam', 2, [det(1, 5)], null)); // evicted from the store
    assert.strictEqual(r.stations.a.state, 'working');
    r = e.processFrame(frame('cam', 3, [det(1, 5)], pix('cam', 3, 3000, 200))); // 2 s since the last pixels: still ≤ maxFrameGapMs
    assert.strictEqual(r.stations.a.activity, 0);
    r = e.processFrame(frame('cam', 4, [det(1, 5)], pix('cam', 4, 4000, 200)));
    assert.strictEqual(r.stations.a.state, 'idle'); // idle delay 0: idle from the first still reading
    assert.deepStrictEqual(
      r.events.map((x) => [x.event, x.tMs, x.to]),
      [['state-change', 3000, 'idle']],
    );
  });

  it('frames further apart than maxFrameGapMs are not differenced', () => {
    const e = new ProductivityEngine({ stations: ZONES, presenceOnMs: 0, motionTauMs: 0, maxFrameGapMs: 500 });
    e.processFrame(frame('cam', 0, [det(1, 5)], pix('cam', 0, 0, 10)));
    const r = e.processFrame(frame('cam', 1, [det(1, 5)], pix('cam', 1, 1000, 200)));
    assert.strictEqual(r.stations.a.activity, null);
  });

  const combos = [
    // [activitySource, external, motion changed?, expected state]
    ['either', true, false, 'working'],
    ['either', false, true, 'working'],
    ['either', false, false, 'idle'],
    ['both', true, true, 'working'],
    ['both', true, false, 'idle'],
    ['both', false, true, 'idle'],
    ['external', true, false, 'working'],
    ['external', false, true, 'idle'],
    ['motion', true, false, 'idle'],
    ['presence', false, false, 'working'],
  ];
  for (const [src, ext, moving, want] of combos) {
    it(`activitySource ${src}: external ${ext}, motion ${moving} → ${want}`, () => {
      const e = new ProductivityEngine({ stations: ZONES, presenceOnMs: 0, motionTauMs: 0, activitySource: src });
      e.setExternal(undefined, ext);
      e.processFrame(frame('cam', 0, [], pix('cam', 0, 0, 10)));
      const r = e.processFrame(frame('cam', 1, [det(1, 5)], pix('cam', 1, 1000, moving ? 200 : 10)));
      assert.strictEqual(r.stations.a.state, want);
    });
  }

  it('the external signal never makes an unstaffed station work', () => {
    const e = new ProductivityEngine({ stations: ZONES, activitySource: 'external' });
    e.setExternal('a', 1);
    const r = e.processFrame(frame('cam', 0, []));
    assert.strictEqual(r.stations.a.state, 'absent');
    assert.throws(() => e.setExternal('nope', true), /unknown station "nope"/);
  });

  it('runtime configuration keeps the state and applies new thresholds from then on', () => {
    const e = new ProductivityEngine({
      stations: ZONES,
      activitySource: 'presence',
      presenceOnMs: 0,
      presenceOffMs: 0,
      idleDelayMs: 0,
      absenceTimeoutMs: 100000,
    });
    e.processFrame(frame('cam', 0, [det(1, 5)]));
    e.processFrame(frame('cam', 1, []));
    e.configure({ absenceTimeoutMs: 10000 });
    assert.strictEqual(e.options.absenceTimeoutMs, 10000);
    // Presence ended at 0 (last seen 0, presenceOffMs 0): exactly 10 s later it is still idle.
    let r = e.processFrame(frame('cam', 10, []));
    assert.strictEqual(r.stations.a.state, 'idle');
    r = e.processFrame(frame('cam', 11, []));
    assert.deepStrictEqual(r.events.map((x) => [x.tMs, x.to]).slice(-1), [[10000, 'absent']]);
    assert.throws(() => e.configure({ minConfidence: 2 }), /minConfidence/);
    assert.strictEqual(e.options.minConfidence, 0.7); // a rejected patch changes nothing
  });

  it('zones with a camera only see that camera; others see every camera', () => {
    const e = new ProductivityEngine({ stations: ZONES, activitySource: 'presence', presenceOnMs: 0 });
    let r = e.processFrame(frame('cam1', 0, [det(1, 40)]));
    assert.deepStrictEqual(Object.keys(r.stations), ['a']);
    r = e.processFrame(frame('cam2', 0, [det(2, 40)]));
    assert.deepStrictEqual(Object.keys(r.stations).sort(), ['a', 'b']);
    assert.strictEqual(r.stations.b.state, 'working');
    assert.strictEqual(r.events.find((x) => x.station === 'b').camera, 'cam2');
  });

  it('drift warning through the engine, as an event on the frame that triggers it', () => {
    const e = new ProductivityEngine({ stations: ZONES, healthWindowMs: 5000, driftThreshold: 0.5, driftSustainMs: 10000 });
    const evs = [];
    for (let t = 0; t <= 30; t++) evs.push(...e.processFrame(frame('cam', t, [det(1, 5, { score: 0.3 })])).events.filter((x) => x.event.startsWith('drift')));
    assert.deepStrictEqual(
      evs.map((x) => [x.event, x.tMs, x.camera, x.meanConfidence]),
      [['drift-warning', 10000, 'cam', 0.3]],
    );
    const r = e.kpis(0);
    assert.deepStrictEqual(r.modelHealth.cam, { meanConfidence: 0.3, drifting: true });
  });

  it('units: errors name the problem; units older than the open periods are dropped', () => {
    const e = new ProductivityEngine({ stations: ZONES, windowMs: 60000, utcOffsetMin: 0 });
    assert.throws(() => e.addUnits({ station: 'zz', rxMs: 0 }), /unknown station "zz"/);
    assert.throws(() => e.addUnits({ rxMs: 0 }), /names no station/);
    e.processFrame(frame('cam', 86400 + 7200, [])); // 02:00 on day 2: shift (one a day) began at 00:00
    assert.strictEqual(e.addUnits({ station: 'a', tMs: 86400000 - 1, rxMs: 0 }).accepted, false);
    assert.strictEqual(e.addUnits({ station: 'a', tMs: 86400000, rxMs: 0 }).accepted, true);
  });

  it('memory stays bounded: finished workers and old events are evicted', () => {
    const e = new ProductivityEngine({
      stations: ZONES,
      activitySource: 'presence',
      presenceOnMs: 0,
      presenceOffMs: 1000,
      windowMs: 60000,
      shifts: '00:00,01:00,02:00,03:00',
      utcOffsetMin: 0,
    });
    // A new worker every 10 s for 3 hours, each staying 5 s.
    for (let t = 0; t < 3 * 3600; t++) {
      const id = Math.floor(t / 10);
      e.processFrame(frame('cam', t, t % 10 < 5 ? [det(id, 5)] : []));
    }
    // Only the last shift's (1 h) workers remain: about 360, not 1080.
    assert.ok(e.stats.workers <= 361, `workers ${e.stats.workers}`);
    const r = e.kpis(0);
    assert.ok(Object.keys(r.workers).length <= 361);
    assert.strictEqual(r.stations.a.shift.elapsed_s, 3600 - 1);
  });
});

describe('productivity: the CLI function (computeStationKpis)', () => {
  const { computeStationKpis } = require('../../dist/nodes/lib/productivity');
  it('returns {stations: {name: {working_s, idle_s, absent_s, utilisation, units}}} over the whole run', () => {
    // 100 s at 1 fps; a worker at station "a" from 10 s to 59 s; without pixels presence is activity.
    const frames = [];
    for (let t = 0; t <= 100; t++) {
      frames.push({
        tMs: t * 1000,
        width: W,
        height: H,
        detections: t >= 10 && t < 60 ? [det(1, 5)] : [],
        units: t === 30 ? [{ station: 'a', count: 4 }] : [],
      });
    }
    const r = computeStationKpis({ zones: [ZONES.zones[0]] }, frames, { absenceTimeoutMs: 20000 });
    // present 11 (on after 1 s) → last seen 59, gone at 61; working until 61 + 30 (idle delay) = 91 > 81
    // (absent at 61 + 20), so working 11–81, then absent: working 70, absent 11 + 19.
    assert.deepStrictEqual(r, { stations: { a: { working_s: 70, idle_s: 0, absent_s: 30, utilisation: 70, units: 4 } } });
  });

  it('forgetCamera: the camera goes, its workers end their presence (the record stays for the KPIs), others are untouched', () => {
    const e = new ProductivityEngine({ stations: ZONES, activitySource: 'presence', presenceOnMs: 0, presenceOffMs: 2000 });
    e.processFrame(frame('cam', 0, [det(1, 5)]));
    e.processFrame(frame('cam2', 0, [det(7, 40)]));
    e.processFrame(frame('cam', 1, [det(1, 5)]));
    assert.deepStrictEqual(e.cameraNames(), ['cam', 'cam2']);
    assert.strictEqual(e.forgetCamera('cam'), true);
    assert.strictEqual(e.forgetCamera('cam'), false);
    assert.deepStrictEqual(e.cameraNames(), ['cam2']);
    const k = e.kpis(5000);
    assert.strictEqual(k.workers['cam:1'].state, 'absent', 'ended');
    assert.ok(k.workers['cam:1'].shift.working_s > 0, 'its time is kept');
    assert.strictEqual(k.workers['cam2:7'].state, 'working', 'the other camera is untouched');
    assert.strictEqual(e.stats.cameras, 1);
  });
});
