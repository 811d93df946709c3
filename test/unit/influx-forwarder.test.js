'use strict';
// The store-and-forward coordinator with a scripted transport and recorded timers: every outcome,
// the back-off sequence, replay order and pacing, and close, without a server or wall-clock waits.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Forwarder } = require('../../dist/nodes/lib/influx/forwarder.js');
const { Spool } = require('../../dist/nodes/lib/influx/spool.js');
const { TransportError, httpError } = require('../../dist/nodes/lib/influx/transport.js');
const { DeadLetter } = require('../../dist/nodes/lib/influx/deadletter.js');
const { waitFor, sleep } = require('../helpers/wait');

/** Timers that fire on the next turn of the event loop but remember the delay asked for. */
function recordingTimers() {
  const delays = [];
  return {
    delays,
    setTimeout(fn, ms) {
      delays.push(ms);
      return setImmediate(fn);
    },
    clearTimeout(h) {
      clearImmediate(h);
    },
    now: () => Date.UTC(2026, 0, 1),
  };
}

/** A server whose answers the test scripts: 'ok', 'down' (network), 500, 400… */
function scriptedTransport() {
  const t = {
    target: 'fake://db',
    /** @type {'ok' | 'down' | 'nodb' | number} */
    mode: 'ok',
    pingOk: true,
    written: [],
    attempts: 0,
    /** @type {Promise<unknown> | null} */
    hold: null, // a promise that writes wait on, to keep them in flight
    async write(body, precision, signal) {
      t.attempts++;
      if (t.hold) {
        await Promise.race([
          t.hold,
          new Promise((_, rej) => signal.addEventListener('abort', () => rej(new TransportError('server unreachable: aborted', 'retry')))),
        ]);
      }
      if (t.mode === 'down') throw new TransportError('server unreachable: ECONNREFUSED', 'retry');
      if (t.mode === 500) throw new TransportError('500: internal', 'retry', 500);
      if (t.mode === 400) throw new TransportError('400: unable to parse', 'reject', 400);
      if (t.mode === 401) throw httpError(401, 'authorization failed', { v: '1.x', database: 'ev' });
      if (t.mode === 403) throw httpError(403, 'not authorized to write', { v: '2.x', bucket: 'b' });
      if (t.mode === 'nodb' && !t.dbExists) throw httpError(404, 'database not found: "ev"', { v: '1.x', database: 'ev' });
      t.written.push(body);
    },
    async ping() {
      return t.pingOk ? { ok: true } : { ok: false, error: 'no answer' };
    },
    dbExists: false,
    creates: 0,
    createFails: null, // a TransportError that creating the database throws
    async createDatabase() {
      t.creates++;
      if (t.createFails) throw t.createFails;
      t.dbExists = true;
    },
  };
  return t;
}

/** Every body written exactly once, in this order: nothing lost, nothing twice. */
function writtenOnce(t, bodies) {
  assert.deepStrictEqual(t.written, bodies);
}

const until = (fn, what) => waitFor(fn, 4000, what, 2);

describe('influx forwarder (store and forward)', function () {
  let dir;
  let fwd;
  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-fwd-'));
  });
  afterEach(async function () {
    if (fwd) await fwd.close();
    fwd = null;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function make(transport, opts = {}) {
    const timers = recordingTimers();
    const events = [];
    const rejectedOnReplay = [];
    fwd = new Forwarder({
      transport,
      spool: new Spool({ dir, maxBytes: opts.maxBytes || 1 << 20, segmentBytes: opts.segmentBytes }),
      timers,
      random: () => 0,
      backoff: { initialMs: 100, maxMs: 400, factor: 2, jitter: 0.2 },
      replayPointsPerSec: 1000,
      ...opts,
      onState: (s) => events.push(s),
      onReplayRejected: (rec, err) => rejectedOnReplay.push([rec.body, err.status]),
    });
    return { timers, events, rejectedOnReplay };
  }
  const batch = (i, points = 10) => ({ body: `m v=${i} ${i}`, points, precision: 'ms', owner: 'w1' });

  it('writes straight through while the server answers', async function () {
    const t = scriptedTransport();
    const { events } = make(t);
    await fwd.start();
    assert.deepStrictEqual(await fwd.submit(batch(1)), { kind: 'written' });
    assert.deepStrictEqual(t.written, ['m v=1 1']);
    await until(() => events.includes('up'), 'up');
    const s = fwd.stats();
    assert.strictEqual(s.writtenPoints, 10);
    assert.strictEqual(s.spool.backlog, 0);
  });

  for (const mode of /** @type {('down' | number)[]} */ (['down', 500])) {
    it(`spools on ${mode === 'down' ? 'a network error' : 'a 5xx'}, probes with back-off, replays oldest first when the server is back`, async function () {
      const t = scriptedTransport();
      const { timers, events } = make(t);
      await fwd.start();
      await until(() => events.includes('up'), 'up');
      t.mode = mode;
      t.pingOk = false;
      const first = await fwd.submit(batch(1));
      assert.strictEqual(first.kind, 'spooled');
      assert.strictEqual(fwd.stats().state, 'down');
      const attemptsWhenDown = t.attempts;
      for (let i = 2; i <= 5; i++) assert.strictEqual((await fwd.submit(batch(i))).kind, 'spooled');
      assert.strictEqual(t.attempts, attemptsWhenDown, 'no write is tried while down');
      assert.strictEqual(fwd.stats().spool.backlog, 50);
      await until(() => timers.delays.filter((d) => d >= 80).length >= 4, 'several probes');
      const probes = timers.delays.filter((d) => d >= 80).slice(0, 4);
      assert.deepStrictEqual(probes, [100, 200, 400, 400], 'exponential back-off, capped (jitter 0.2 × random 0)');
      t.mode = 'ok';
      t.pingOk = true;
      await until(() => fwd.stats().spool.backlog === 0, 'replayed');
      assert.deepStrictEqual(
        t.written,
        [1, 2, 3, 4, 5].map((i) => `m v=${i} ${i}`),
      );
      assert.strictEqual(fwd.stats().replayedPoints, 50);
      assert.deepStrictEqual(events.slice(-2), ['down', 'up']);
    });
  }

  it('paces replay to replayPointsPerSec', async function () {
    const t = scriptedTransport();
    const { timers, events } = make(t, { replayPointsPerSec: 500, backoff: { initialMs: 1000, maxMs: 1000 } });
    t.pingOk = false;
    t.mode = 'down';
    await fwd.start();
    await until(() => events.includes('down'), 'down');
    for (let i = 1; i <= 3; i++) await fwd.submit(batch(i, 50));
    timers.delays.length = 0;
    t.mode = 'ok';
    t.pingOk = true;
    await until(() => fwd.stats().spool.backlog === 0, 'replayed');
    await sleep(20); // the pause after the last batch is scheduled right after its ack
    // The probe writes the first batch (to learn whether the server takes writes); the replay paces the rest.
    assert.deepStrictEqual(
      timers.delays.filter((d) => d < 1000),
      [100, 100],
      '50 points at 500/s = 100 ms per batch',
    );
  });

  it('rejects a 4xx batch without spooling or retrying it', async function () {
    const t = scriptedTransport();
    make(t);
    await fwd.start();
    t.mode = 400;
    const o = await fwd.submit(batch(1));
    assert.deepStrictEqual(o, { kind: 'rejected', status: 400, message: '400: unable to parse', kept: false, notKept: 'no dead-letter file' });
    assert.strictEqual(t.attempts, 1);
    assert.strictEqual(fwd.stats().spool.backlog, 0);
    assert.strictEqual(fwd.stats().rejectedPoints, 10);
    assert.notStrictEqual(fwd.stats().state, 'down', 'bad data does not mean the server is down');
  });

  it('without a dead-letter file, drops a spooled batch the server rejects on replay and reports it', async function () {
    const t = scriptedTransport();
    const { events, rejectedOnReplay } = make(t);
    t.mode = 'down';
    t.pingOk = false;
    await fwd.start();
    await until(() => events.includes('down'), 'down');
    await fwd.submit(batch(1));
    t.mode = 400;
    t.pingOk = true;
    await until(() => rejectedOnReplay.length === 1, 'rejected on replay');
    assert.deepStrictEqual(rejectedOnReplay, [['m v=1 1', 400]]);
    await until(() => fwd.stats().spool.backlog === 0, 'removed from the spool');
  });

  it('spools what does not fit the in-flight window and queue instead of holding it in memory', async function () {
    const t = scriptedTransport();
    const { events } = make(t, { maxInFlight: 1, maxQueued: 1 });
    await fwd.start();
    await until(() => events.includes('up'), 'up');
    /** @type {(v?: unknown) => void} */
    let release;
    t.hold = new Promise((r) => (release = r));
    const a = fwd.submit(batch(1)); // in flight
    const b = fwd.submit(batch(2)); // queued
    const c = await fwd.submit(batch(3)); // overflow
    assert.strictEqual(c.kind, 'spooled');
    assert.match(c.reason, /slower than the input/);
    t.hold = null;
    release();
    assert.strictEqual((await a).kind, 'written');
    assert.strictEqual((await b).kind, 'written');
    await until(() => fwd.stats().spool.backlog === 0, 'overflow replayed');
    assert.deepStrictEqual(t.written.sort(), ['m v=1 1', 'm v=2 2', 'm v=3 3']);
  });

  it('on close, aborts writes that outlast the grace period and spools them for the next start', async function () {
    const t = scriptedTransport();
    const { events } = make(t, { closeGraceMs: 5 });
    await fwd.start();
    await until(() => events.includes('up'), 'up');
    t.hold = new Promise(() => {}); // the server never answers
    const pending = fwd.submit(batch(7));
    await until(() => fwd.stats().inFlight === 1, 'in flight');
    await fwd.close();
    assert.strictEqual((await pending).kind, 'spooled');
    fwd = null;
    const again = new Spool({ dir });
    await again.open();
    assert.strictEqual((await again.peek()).body, 'm v=7 7');
    await again.close();
  });

  it('reports a disk failure during replay instead of throwing it', async function () {
    const t = scriptedTransport();
    const errors = [];
    /** @type {import('../../dist/nodes/lib/influx/forwarder').SpoolLike} */
    const brokenSpool = {
      open: async () => {},
      append: async () => 0,
      peek: async () => {
        throw new Error('EIO: i/o error, read');
      },
      ack: async () => {},
      stats: () => ({ segments: 1, bytes: 100, backlog: 10, dropped: 0, corrupt: 0 }),
      get isEmpty() {
        return false;
      },
      close: async () => {},
    };
    fwd = new Forwarder({ transport: t, spool: brokenSpool, timers: recordingTimers(), onError: (e) => errors.push(e.message) });
    await fwd.start();
    await until(() => errors.length >= 1, 'the error reported');
    assert.strictEqual(errors[0], 'EIO: i/o error, read');
    assert.match(fwd.stats().lastError, /^spool: EIO/);
    assert.strictEqual(fwd.stats().state, 'up', 'the server is fine: live writes go straight through');
  });

  for (const [mode, hint] of /** @type {[number, RegExp][]} */ ([
    [401, /^401 unauthorized: check user\/password$/],
    [403, /^403 forbidden: check token rights$/],
  ])) {
    it(`holds batches on a ${mode} (spooled, never rejected), retries with back-off, writes each once when fixed`, async function () {
      const t = scriptedTransport();
      const { timers, events } = make(t);
      await fwd.start();
      await until(() => events.includes('up'), 'up');
      t.mode = mode; // the token expired: the server answers pings, refuses writes
      const first = await fwd.submit(batch(1));
      assert.strictEqual(first.kind, 'spooled');
      for (let i = 2; i <= 4; i++) assert.strictEqual((await fwd.submit(batch(i))).kind, 'spooled');
      const s = fwd.stats();
      assert.strictEqual(s.state, 'down');
      assert.match(s.lastHint, hint);
      assert.strictEqual(s.rejectedPoints, 0, 'a wrong token is not bad data');
      assert.strictEqual(s.spool.backlog, 40);
      // Probes ping (ok) and then try the oldest batch: still refused, so the link stays down, backing off.
      await until(() => timers.delays.filter((d) => d >= 80).length >= 4, 'several probes');
      assert.deepStrictEqual(timers.delays.filter((d) => d >= 80).slice(0, 4), [100, 200, 400, 400]);
      assert.strictEqual(events.filter((e) => e === 'up').length, 1, 'no flapping up while the server refuses writes');
      assert.strictEqual(fwd.stats().spool.backlog, 40, 'nothing discarded');
      t.mode = 'ok'; // the token is fixed
      await until(() => fwd.stats().spool.backlog === 0, 'replayed');
      writtenOnce(
        t,
        [1, 2, 3, 4].map((i) => `m v=${i} ${i}`),
      );
      assert.strictEqual(fwd.stats().state, 'up');
      assert.strictEqual(fwd.stats().lastHint, '');
    });
  }

  it('creates a missing database when allowed, then writes the batch (no spooling, no rejection)', async function () {
    const t = scriptedTransport();
    const notices = [];
    const { events } = make(t, { createDatabase: true, onNotice: (n) => notices.push(n) });
    await fwd.start();
    await until(() => events.includes('up'), 'up');
    t.mode = 'nodb';
    assert.deepStrictEqual(await fwd.submit(batch(1)), { kind: 'written' });
    assert.deepStrictEqual(await fwd.submit(batch(2)), { kind: 'written' });
    assert.strictEqual(t.creates, 1);
    assert.strictEqual(notices.length, 1);
    assert.match(notices[0], /created the missing database/);
    writtenOnce(t, ['m v=1 1', 'm v=2 2']);
  });

  it('holds the spool on a missing database when creating it is not allowed, and replays once it exists', async function () {
    const t = scriptedTransport();
    const { events } = make(t, { createDatabase: false });
    await fwd.start();
    await until(() => events.includes('up'), 'up');
    t.mode = 'nodb';
    for (let i = 1; i <= 3; i++) assert.strictEqual((await fwd.submit(batch(i))).kind, 'spooled');
    await until(() => t.attempts >= 5, 'probes writing the oldest batch');
    assert.strictEqual(t.creates, 0);
    assert.match(fwd.stats().lastHint, /^db "ev" missing: create it$/);
    assert.strictEqual(fwd.stats().spool.backlog, 30, 'a 404 never discards the spool');
    t.dbExists = true; // someone ran CREATE DATABASE
    await until(() => fwd.stats().spool.backlog === 0, 'replayed');
    writtenOnce(
      t,
      [1, 2, 3].map((i) => `m v=${i} ${i}`),
    );
  });

  it('holds the spool when creating the missing database is refused, and says so', async function () {
    const t = scriptedTransport();
    t.createFails = httpError(403, 'requires admin privilege', { v: '1.x' });
    const { events } = make(t, { createDatabase: true });
    await fwd.start();
    await until(() => events.includes('up'), 'up');
    t.mode = 'nodb';
    assert.strictEqual((await fwd.submit(batch(1))).kind, 'spooled');
    assert.strictEqual(fwd.stats().lastHint, 'cannot create db: 403');
    assert.match(fwd.stats().lastError, /creating it failed: 403: requires admin privilege/);
    t.createFails = null; // an admin granted the right
    await until(() => fwd.stats().spool.backlog === 0, 'replayed');
    writtenOnce(t, ['m v=1 1']);
  });

  describe('with a dead-letter file', function () {
    const NOW = Date.UTC(2026, 0, 1);
    const entries = async () => (await new DeadLetter({ dir }).read()).entries;

    it('keeps a batch refused as malformed with the reason and the time, and requeues it after the fix', async function () {
      const t = scriptedTransport();
      const { events } = make(t, { deadLetter: new DeadLetter({ dir }) });
      await fwd.start();
      await until(() => events.includes('up'), 'up');
      t.mode = 400;
      const o = await fwd.submit(batch(1));
      assert.deepStrictEqual(o, { kind: 'rejected', status: 400, message: '400: unable to parse', kept: true });
      assert.deepStrictEqual(await entries(), [
        { time: new Date(NOW).toISOString(), status: 400, reason: '400: unable to parse', precision: 'ms', points: 10, owner: 'w1', body: 'm v=1 1' },
      ]);
      assert.strictEqual(fwd.stats().spool.backlog, 0, 'not spooled: retrying it as it is would fail forever');
      t.mode = 'ok'; // the schema is fixed
      assert.deepStrictEqual(await fwd.requeueDeadLetter(), { batches: 1, points: 10, left: 0 });
      await until(() => t.written.length === 1, 'written from the spool');
      writtenOnce(t, ['m v=1 1']);
      assert.deepStrictEqual(await entries(), []);
    });

    it('moves a batch refused on replay into the dead-letter file before it leaves the spool', async function () {
      const t = scriptedTransport();
      const { events, rejectedOnReplay } = make(t, { deadLetter: new DeadLetter({ dir }) });
      t.mode = 'down';
      t.pingOk = false;
      await fwd.start();
      await until(() => events.includes('down'), 'down');
      await fwd.submit(batch(1));
      await fwd.submit(batch(2));
      t.mode = 400;
      t.pingOk = true;
      await until(() => rejectedOnReplay.length === 2, 'both refused on replay');
      assert.deepStrictEqual(
        (await entries()).map((e) => e.body),
        ['m v=1 1', 'm v=2 2'],
      );
      assert.strictEqual(fwd.stats().spool.backlog, 0);
    });

    it('keeps a refused batch in the spool while the dead-letter file cannot take it (disk error)', async function () {
      const t = scriptedTransport();
      const errors = [];
      let full = true;
      const failing = {
        maxBytes: 1 << 20,
        append: async () => {
          if (full) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
          return true;
        },
      };
      const { events, rejectedOnReplay } = make(t, { deadLetter: failing, onError: (e) => errors.push(e.message) });
      t.mode = 'down';
      t.pingOk = false;
      await fwd.start();
      await until(() => events.includes('down'), 'down');
      await fwd.submit(batch(1));
      t.mode = 400;
      t.pingOk = true;
      await until(() => errors.length >= 1, 'the disk error reported');
      assert.match(errors[0], /ENOSPC/);
      assert.strictEqual(fwd.stats().spool.backlog, 10, 'still in the spool');
      assert.strictEqual(rejectedOnReplay.length, 0);
      full = false;
      await until(() => rejectedOnReplay.length === 1, 'kept once the disk has room');
      assert.strictEqual(fwd.stats().spool.backlog, 0);
    });

    it('says when the dead-letter file is at its cap', async function () {
      const t = scriptedTransport();
      const { events } = make(t, { deadLetter: new DeadLetter({ dir, maxBytes: 1024 }) });
      await fwd.start();
      await until(() => events.includes('up'), 'up');
      t.mode = 400;
      const big = { ...batch(1), body: 'm v=1 1\n'.repeat(200) };
      const o = await fwd.submit(big);
      assert.strictEqual(o.kept, false);
      assert.match(o.notKept, /at its cap \(1024 bytes\)/);
    });
  });

  it('refuses bad options with a reason', function () {
    const t = scriptedTransport();
    const spool = new Spool({ dir });
    const timers = recordingTimers();
    assert.throws(() => new Forwarder(/** @type {any} */ ({ transport: t, spool })), /timers are required/);
    assert.throws(() => new Forwarder({ transport: t, spool, timers, maxInFlight: 0 }), /maxInFlight must be an integer >= 1/);
    assert.throws(() => new Forwarder({ transport: t, spool, timers, replayPointsPerSec: 0 }), /replayPointsPerSec must be > 0/);
  });
});
