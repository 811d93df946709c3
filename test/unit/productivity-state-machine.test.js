'use strict';
// The station state machine: the transition table row by row, then every timing rule with injected
// time (no sleeps, no clock): exact thresholds, flapping presence, the absence timeout, long gaps.
const assert = require('assert');
const { nextState, StateMachine, validateTiming } = require('../../dist/nodes/lib/productivity');

const S = 1000;

describe('productivity: transition table (nextState)', () => {
  const T = { idleDelayMs: 10 * S, absenceTimeoutMs: 60 * S };
  // [from, present, active, inactiveForMs, absentForMs, expected, why]
  /** @typedef {import('../../dist/nodes/lib/productivity/state-machine').StationState} StationState */
  /** @type {[StationState, boolean, boolean, number | null, number | null, StationState, string][]} */
  const rows = [
    ['absent', true, true, null, null, 'working', 'a worker arrives and works'],
    ['absent', true, false, null, null, 'idle', 'a worker arrives and does nothing'],
    ['absent', false, false, null, null, 'absent', 'nobody, never seen'],
    ['absent', false, false, null, 120 * S, 'absent', 'nobody for long'],
    ['idle', true, true, null, null, 'working', 'activity resumes'],
    ['idle', true, false, null, null, 'idle', 'still inactive'],
    ['idle', false, false, null, 30 * S, 'idle', 'a short break is idle'],
    ['idle', false, false, null, 60 * S, 'idle', 'exactly at the absence timeout: not yet absent'],
    ['idle', false, false, null, 60 * S + 1, 'absent', 'just past the absence timeout'],
    ['working', true, true, null, null, 'working', 'keeps working'],
    ['working', true, false, 0, null, 'working', 'activity just dropped'],
    ['working', true, false, 10 * S, null, 'working', 'exactly at the idle delay: still working'],
    ['working', true, false, 10 * S + 1, null, 'idle', 'just past the idle delay'],
    ['working', false, false, 5 * S, 5 * S, 'working', 'left, within the idle delay'],
    ['working', false, false, 11 * S, 11 * S, 'idle', 'left, past the idle delay'],
    ['working', false, false, 61 * S, 61 * S, 'absent', 'left, past the absence timeout'],
    ['working', false, true, null, 1 * S, 'working', 'active without presence does not make work (stays)'],
    ['idle', false, true, null, 1 * S, 'idle', 'active without presence is not working'],
  ];
  for (const [from, present, active, inactiveForMs, absentForMs, want, why] of rows) {
    it(`${from} + present=${present} active=${active} inactive=${inactiveForMs} absent=${absentForMs} → ${want} (${why})`, () => {
      assert.strictEqual(nextState(from, { present, active, inactiveForMs, absentForMs }, T), want);
    });
  }
});

/** Runs a script of [tSeconds, raw, active?] observations and returns the changes (seconds). */
function run(timing, script, initial) {
  const m = new StateMachine(timing, script[0][0] * S, initial);
  const changes = [];
  const presence = [];
  for (const [t, raw, active] of script) {
    const r = raw === 'advance' ? m.advance(t * S) : m.step(t * S, { raw, active });
    for (const c of r.changes) changes.push([c.tMs / S, c.from, c.to]);
    for (const p of r.presence) presence.push([p.tMs / S, p.present]);
  }
  return { m, changes, presence };
}

function seconds(from, to, raw, active, every = 1) {
  const out = [];
  for (let t = from; t <= to + 1e-9; t += every) out.push([Math.round(t * 1000) / 1000, raw, active]);
  return out;
}

describe('productivity: timing rules with injected time', () => {
  const base = { presenceOnMs: 0, presenceOffMs: 2 * S, idleDelayMs: 10 * S, absenceTimeoutMs: 60 * S };

  it('idle delay: exactly at the threshold stays working, the change is placed at the threshold instant', () => {
    const script = [...seconds(0, 9, true, true), ...seconds(10, 20, true, false)];
    let r = run(base, script);
    assert.deepStrictEqual(r.changes, [[0, 'absent', 'working']]);
    assert.strictEqual(r.m.state, 'working'); // t=20: inactive for exactly 10 s
    r = run(base, [...script, [20.5, true, false]]);
    assert.deepStrictEqual(r.changes, [
      [0, 'absent', 'working'],
      [20, 'working', 'idle'],
    ]);
  });

  it('presence on: a visit counts once it has lasted presenceOnMs (at ≥, not before)', () => {
    const t = { ...base, presenceOnMs: 1 * S };
    let r = run(t, [
      [0, true, true],
      [0.5, true, true],
      [0.999, true, true],
    ]);
    assert.deepStrictEqual(r.presence, []);
    assert.strictEqual(r.m.state, 'absent');
    r = run(t, [
      [0, true, true],
      [0.5, true, true],
      [1, true, true],
    ]);
    assert.deepStrictEqual(r.presence, [[1, true]]);
    assert.deepStrictEqual(r.changes, [[1, 'absent', 'working']]);
  });

  it('presence off: ends presenceOffMs after the last sighting, exactly-at keeps it', () => {
    let r = run(base, [...seconds(0, 5, true, true), [7, false]]);
    assert.deepStrictEqual(r.presence, [[0, true]]);
    assert.strictEqual(r.m.present, true);
    r = run(base, [...seconds(0, 5, true, true), [7, false], [7.5, false]]);
    assert.deepStrictEqual(r.presence, [
      [0, true],
      [7, false],
    ]);
    assert.strictEqual(r.m.present, false);
  });

  it('absence timeout: idle until exactly the timeout, absent from the instant it is passed', () => {
    // Seen working until 30 s; presence ends at 32; idle delay runs out at 42; absent after 92.
    const script = [...seconds(0, 30, true, true), ...seconds(31, 92, false)];
    let r = run(base, script);
    assert.deepStrictEqual(r.changes, [
      [0, 'absent', 'working'],
      [42, 'working', 'idle'],
    ]);
    assert.strictEqual(r.m.state, 'idle');
    r = run(base, [...script, [92.001, false]]);
    assert.deepStrictEqual(r.changes, [
      [0, 'absent', 'working'],
      [42, 'working', 'idle'],
      [92, 'idle', 'absent'],
    ]);
  });

  it('absence timeout default is 300 s', () => {
    assert.strictEqual(validateTiming({}).absenceTimeoutMs, 300000);
    const r = run({ presenceOnMs: 0, presenceOffMs: 0, idleDelayMs: 0 }, [
      [0, true, false],
      [1, false],
      [301, false],
      [302, false],
    ]);
    // presence ends at 0 (off 0) → absent after 300 s → at 300
    assert.deepStrictEqual(r.changes, [
      [0, 'absent', 'idle'],
      [300, 'idle', 'absent'],
    ]);
  });

  it('flapping presence within presenceOffMs does not flap the state', () => {
    // The detector finds the worker only every other frame (0.5 s apart): one visit, one presence.
    const script = [];
    for (let t = 0; t <= 60; t += 0.5) script.push([t, Math.round(t * 2) % 2 === 0, true]);
    const r = run(base, script);
    assert.deepStrictEqual(r.presence, [[0, true]]);
    assert.deepStrictEqual(r.changes, [[0, 'absent', 'working']]);
  });

  it('flapping presence with gaps longer than presenceOffMs never becomes presence when presenceOnMs is longer than a sighting', () => {
    const t = { ...base, presenceOnMs: 1 * S, presenceOffMs: 1 * S };
    const script = [];
    for (let s = 0; s <= 30; s += 3) script.push([s, true, true], [s + 1.5, false]);
    const r = run(t, script);
    assert.deepStrictEqual(r.presence, []);
    assert.deepStrictEqual(r.changes, []);
  });

  it('without inertia the same flapping would toggle presence (the test above can fail)', () => {
    const t = { ...base, presenceOnMs: 0, presenceOffMs: 1 * S };
    const script = [];
    for (let s = 0; s <= 9; s += 3) script.push([s, true, true], [s + 1.5, false]);
    const r = run(t, script);
    assert.ok(r.presence.length >= 6, JSON.stringify(r.presence));
  });

  it('a long gap without frames fires every due timeout in time order', () => {
    const r = run(base, [...seconds(0, 10, true, true), [1000, false]]);
    // presence ends 12, idle at 22 (12 + 10), absent at 72 (12 + 60)
    assert.deepStrictEqual(r.presence, [
      [0, true],
      [12, false],
    ]);
    assert.deepStrictEqual(r.changes, [
      [0, 'absent', 'working'],
      [22, 'working', 'idle'],
      [72, 'idle', 'absent'],
    ]);
  });

  it('advance() with no observation fires only timeouts', () => {
    const r = run(base, [
      [0, true, true],
      [1, 'advance'],
      [3, 'advance'],
    ]);
    assert.deepStrictEqual(r.presence, [
      [0, true],
      [2, false],
    ]);
    assert.deepStrictEqual(r.changes, [[0, 'absent', 'working']]);
  });

  it('an absence timeout shorter than the idle delay goes from working straight to absent', () => {
    const r = run({ ...base, absenceTimeoutMs: 5 * S }, [...seconds(0, 10, true, true), [30, false]]);
    assert.deepStrictEqual(r.changes, [
      [0, 'absent', 'working'],
      [17, 'working', 'absent'],
    ]);
  });

  it('equal idle delay and absence timeout: absent wins the tie (no zero-length idle)', () => {
    const r = run({ ...base, idleDelayMs: 5 * S, absenceTimeoutMs: 5 * S }, [...seconds(0, 10, true, true), [30, false]]);
    assert.deepStrictEqual(r.changes, [
      [0, 'absent', 'working'],
      [17, 'working', 'absent'],
    ]);
  });

  it('idle → working when activity resumes, and no reading keeps the last activity', () => {
    const r = run(base, [[0, true, false], [1, true, undefined], [2, true, true], ...seconds(3, 30, true, undefined)]);
    assert.deepStrictEqual(r.changes, [
      [0, 'absent', 'idle'],
      [2, 'idle', 'working'],
    ]);
  });

  it('a late observation is ignored and flagged; a repeated time changes nothing', () => {
    const m = new StateMachine(base, 0);
    m.step(10 * S, { raw: true, active: true });
    const late = m.step(5 * S, { raw: false });
    assert.strictEqual(late.late, true);
    assert.strictEqual(m.state, 'working');
    const again = m.step(10 * S, { raw: true, active: true });
    assert.deepStrictEqual(again.changes, []);
    assert.strictEqual(again.late, false);
  });

  it('rejects negative or non-numeric timings with the key name', () => {
    assert.throws(() => new StateMachine({ idleDelayMs: -1 }, 0), /idleDelayMs/);
    assert.throws(() => new StateMachine({ absenceTimeoutMs: /** @type {any} */ ('x') }, 0), /absenceTimeoutMs/);
  });
});
