'use strict';
// The store-and-forward coordinator with a scripted transport and recorded timers: every outcome,
// the back-off sequence, replay order and pacing, and close, without a server or wall-clock waits.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Forwarder } = require('../../dist/nodes/lib/influx/forwarder.js');
const { Spool } = require('../../dist/nodes/lib/influx/spool.js');
const { TransportError } = require('../../dist/nodes/lib/influx/transport.js');
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
  };
}

/** A server whose answers the test scripts: 'ok', 'down' (network), 500, 400… */
function scriptedTransport() {
  const t = {
    target: 'fake://db',
    mode: 'ok',
    pingOk: true,
    written: [],
    attempts: 0,
    hold: null, // a promise that writes wait on, to keep them in flight
    async write(body, precision, signal) {
      t.attempts++;
      if (t.hold) {
        await Promise.race([t.hold, new Promise((_, rej) => signal.addEventListener('abort', () => rej(new TransportError('server unreachable: aborted', 'retry'))))]);
      }
      if (t.mode === 'down') throw new TransportError('server unreachable: ECONNREFUSED', 'retry');
      if (t.mode === 500) throw new TransportError('500: internal', 'retry', 500);
      if (t.mode === 400) throw new TransportError('400: unable to parse', 'reject', 400);
      t.written.push(body);
    },
    async ping() {
      return t.pingOk ? { ok: true } : { ok: false, error: 'no answer' };
    },
  };
  return t;
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
      onState: (s, d) => events.push(s),
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

  for (const mode of ['down', 500]) {
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
      assert.deepStrictEqual(t.written, [1, 2, 3, 4, 5].map((i) => `m v=${i} ${i}`));
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
    assert.deepStrictEqual(timers.delays.filter((d) => d < 1000), [100, 100, 100], '50 points at 500/s = 100 ms per batch');
  });

  it('rejects a 4xx batch without spooling or retrying it', async function () {
    const t = scriptedTransport();
    make(t);
    await fwd.start();
    t.mode = 400;
    const o = await fwd.submit(batch(1));
    assert.deepStrictEqual(o, { kind: 'rejected', status: 400, message: '400: unable to parse' });
    assert.strictEqual(t.attempts, 1);
    assert.strictEqual(fwd.stats().spool.backlog, 0);
    assert.strictEqual(fwd.stats().rejectedPoints, 10);
    assert.notStrictEqual(fwd.stats().state, 'down', 'bad data does not mean the server is down');
  });

  it('drops a spooled batch the server rejects on replay and reports it', async function () {
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
    const brokenSpool = {
      open: async () => {},
      append: async () => 0,
      peek: async () => {
        throw new Error('EIO: i/o error, read');
      },
      ack: async () => {},
      stats: () => ({ segments: 1, bytes: 100, backlog: 10, dropped: 0 }),
      get isEmpty() {
        return false;
      },
      close: async () => {},
    };
    fwd = new Forwarder({ transport: t, spool: brokenSpool, timers: recordingTimers(), onError: (e) => errors.push(e.message) });
    await fwd.start();
    await until(() => errors.length === 1, 'the error reported');
    assert.deepStrictEqual(errors, ['EIO: i/o error, read']);
    assert.match(fwd.stats().lastError, /^spool: EIO/);
  });

  it('refuses bad options with a reason', function () {
    const t = scriptedTransport();
    const spool = new Spool({ dir });
    const timers = recordingTimers();
    assert.throws(() => new Forwarder({ transport: t, spool }), /timers are required/);
    assert.throws(() => new Forwarder({ transport: t, spool, timers, maxInFlight: 0 }), /maxInFlight must be an integer >= 1/);
    assert.throws(() => new Forwarder({ transport: t, spool, timers, replayPointsPerSec: 0 }), /replayPointsPerSec must be > 0/);
  });
});
