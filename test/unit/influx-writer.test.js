'use strict';
// The engine writer behind vision-influx-write, without Node-RED or a server: batching by size and by
// time with hand-fired timers, stamps for points without a time, when each message is settled, a batch
// refused as malformed and a spool whose disk fails (through a real Forwarder and Spool), no link,
// close, and the status it reports.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { InfluxWriter, resolveWriterSettings, shortCount, groupedCount } = require('../../dist/nodes/lib/influx/writer.js');
const { Forwarder } = require('../../dist/nodes/lib/influx/forwarder.js');
const { Spool, SpoolWriteError } = require('../../dist/nodes/lib/influx/spool.js');
const { DeadLetter } = require('../../dist/nodes/lib/influx/deadletter.js');
const { TransportError } = require('../../dist/nodes/lib/influx/transport.js');
const { waitFor } = require('../helpers/wait');
/** @typedef {import('../../dist/nodes/lib/influx/writer').WriterLink} WriterLink */
/** @typedef {import('../../dist/nodes/lib/influx/writer').WriterSettings} WriterSettings */
/** @typedef {import('../../dist/nodes/lib/influx/forwarder').Outcome} Outcome */
/** @typedef {import('../../dist/nodes/lib/influx/forwarder').LinkState} LinkState */

const T0 = Date.UTC(2026, 0, 1);
const until = (fn, what) => waitFor(fn, 4000, what, 2);
const ticks = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/** Timers the test fires by hand: nothing runs until `fire()`. */
function manualTimers() {
  const pending = new Map();
  let next = 1;
  return {
    pending,
    delays: [],
    setTimeout(fn, ms) {
      this.delays.push(ms);
      const id = next++;
      pending.set(id, fn);
      return id;
    },
    clearTimeout(id) {
      pending.delete(id);
    },
    fire() {
      const fns = [...pending.values()];
      pending.clear();
      for (const fn of fns) fn();
    },
  };
}

/** A link that records batches and answers with `outcome` (or waits for `hold`). */
function fakeLink() {
  const link = {
    batches: [],
    /** @type {Outcome} */
    outcome: { kind: 'written' },
    /** @type {Promise<unknown> | null} */
    hold: null,
    /** @type {{ state: LinkState, writtenPoints: number, replayedPoints: number, backlog: number, dropped: number, corrupt: number, lastHint: string }} */
    figures: { state: 'up', writtenPoints: 0, replayedPoints: 0, backlog: 0, dropped: 0, corrupt: 0, lastHint: '' },
    async submit(b) {
      link.batches.push(b);
      if (link.hold) await link.hold;
      return link.outcome;
    },
    stats() {
      const f = link.figures;
      return {
        state: f.state,
        inFlight: 0,
        queued: 0,
        writtenPoints: f.writtenPoints,
        spooledPoints: 0,
        replayedPoints: f.replayedPoints,
        rejectedPoints: 0,
        spool: { segments: 0, bytes: 0, backlog: f.backlog, dropped: f.dropped, corrupt: f.corrupt },
        lastError: '',
        lastHint: f.lastHint,
      };
    },
    async requeueDeadLetter() {
      return { batches: 0, points: 0, left: 0 };
    },
  };
  return link;
}

/**
 * A writer on a fake link, recording what it tells the glue.
 * @param {Partial<WriterSettings>} [settings]
 * @param {WriterLink & Partial<ReturnType<typeof fakeLink>>} [link] the fake, or a real Forwarder
 * @param {Promise<WriterLink>} [linkPromise]
 */
function make(settings = {}, link = fakeLink(), linkPromise = Promise.resolve(link)) {
  const timers = manualTimers();
  const heard = { bad: [], batches: [], refused: [], failed: [] };
  const writer = new InfluxWriter(
    { batchSize: 5, flushMs: 250, ...settings },
    {
      owner: 'w1',
      link: linkPromise,
      timers,
      hooks: {
        onBadPoints: (first, err) => heard.bad.push([first, err.message]),
        onBatch: (r) => heard.batches.push(r),
        onRefused: (r) => heard.refused.push(r),
        onFailed: (err, text) => heard.failed.push([err, text]),
      },
    },
  );
  return { writer, link, timers, heard };
}

/** A settle callback that records what it was called with, and how often. */
function settles() {
  const calls = [];
  const fn = (err) => calls.push(err);
  fn.calls = calls;
  return fn;
}

const pts = (from, n, extra = {}) => Array.from({ length: n }, (_, i) => ({ measurement: 'm', fields: { v: from + i }, timestamp: T0 + from + i, ...extra }));

describe('influx writer (engine)', function () {
  describe('settings', function () {
    /** @type {[object, RegExp][]} */
    const bad = [
      [{ batchSize: 0 }, /batchSize must be an integer >= 1, got 0/],
      [{ batchSize: 1.5 }, /batchSize must be an integer >= 1, got 1.5/],
      [{ flushMs: -1 }, /flushMs must be a number >= 0, got -1/],
      [{ flushMs: NaN }, /flushMs must be a number >= 0, got NaN/],
      [{ precision: 'xs' }, /precision must be one of ns, us, ms, s, got xs/],
    ];
    for (const [s, re] of bad) {
      it(`refuses ${JSON.stringify(s)} with a reason`, function () {
        assert.throws(() => resolveWriterSettings(/** @type {any} */ (s)), re);
        assert.throws(() => make(/** @type {any} */ (s)), re);
      });
    }
    it('defaults what is not given', function () {
      assert.deepStrictEqual(resolveWriterSettings({}), {
        precision: 'ms',
        measurement: '',
        overrideMeasurement: false,
        integerFields: [],
        batchSize: 1000,
        flushMs: 1000,
      });
    });
  });

  describe('batching', function () {
    it("adds the configured tags (gateway, site) to every point that lacks them; a point's own tag wins", async function () {
      const { writer, link } = make({ batchSize: 2, tags: { gateway: 'gw-a', site: 'plant-1' } });
      writer.add(
        [
          { measurement: 'm', fields: { v: 1 }, tags: { camera: 'c1' }, timestamp: T0 },
          { measurement: 'm', fields: { v: 2 }, tags: { gateway: 'own' }, timestamp: T0 + 1 },
        ],
        undefined,
        T0,
        settles(),
      );
      await until(() => link.batches.length === 1, 'the batch submitted');
      assert.deepStrictEqual(link.batches[0].body.split('\n'), [`m,camera=c1,gateway=gw-a,site=plant-1 v=1 ${T0}`, `m,gateway=own,site=plant-1 v=2 ${T0 + 1}`]);
    });

    it('flushes as soon as a batch is full, and only then settles its messages', async function () {
      const { writer, link, timers } = make({ batchSize: 5 });
      const release = { fn: null };
      link.hold = new Promise((r) => (release.fn = r));
      const s = [settles(), settles(), settles()];
      writer.add(pts(0, 2), undefined, T0, s[0]);
      writer.add(pts(2, 2), undefined, T0, s[1]);
      await ticks();
      assert.strictEqual(link.batches.length, 0, '4 of 5 points: still waiting');
      assert.strictEqual(timers.pending.size, 1, 'one flush timer for the batch');
      writer.add(pts(4, 2), undefined, T0, s[2]);
      assert.strictEqual(timers.pending.size, 0, 'the flush timer is cleared by a full batch');
      await until(() => link.batches.length === 1, 'the batch submitted');
      assert.strictEqual(link.batches[0].points, 6);
      assert.strictEqual(link.batches[0].owner, 'w1');
      assert.strictEqual(link.batches[0].precision, 'ms');
      assert.deepStrictEqual(
        link.batches[0].body.split('\n'),
        [0, 1, 2, 3, 4, 5].map((i) => `m v=${i} ${T0 + i}`),
      );
      await ticks();
      assert.deepStrictEqual(
        s.map((f) => f.calls.length),
        [0, 0, 0],
        'nothing settled before the batch is durable',
      );
      release.fn();
      await until(() => s.every((f) => f.calls.length === 1), 'all three settled');
      assert.deepStrictEqual(
        s.map((f) => f.calls[0]),
        [undefined, undefined, undefined],
      );
    });

    it('flushes a batch that does not fill up after flushMs, started by its first message', async function () {
      const { writer, link, timers, heard } = make({ batchSize: 1000, flushMs: 250 });
      const s = [settles(), settles()];
      writer.add(pts(0, 3), undefined, T0, s[0]);
      writer.add(pts(3, 3), undefined, T0 + 10, s[1]);
      assert.deepStrictEqual(timers.delays, [250], 'one timer, for the first message');
      await ticks();
      assert.strictEqual(link.batches.length, 0);
      timers.fire();
      await until(() => s.every((f) => f.calls.length === 1), 'settled');
      assert.strictEqual(link.batches.length, 1);
      assert.strictEqual(link.batches[0].points, 6);
      assert.deepStrictEqual(heard.batches, [{ outcome: 'written', points: 6 }]);
      // The next message starts a new timer.
      writer.add(pts(6, 1), undefined, T0 + 20, settles());
      assert.deepStrictEqual(timers.delays, [250, 250]);
    });

    it('reports a spooled batch with its reason', async function () {
      const { writer, link, heard } = make({ batchSize: 2 });
      link.outcome = { kind: 'spooled', reason: 'held: server unreachable' };
      const s = settles();
      writer.add(pts(0, 2), undefined, T0, s);
      await until(() => s.calls.length === 1, 'settled');
      assert.deepStrictEqual(s.calls, [undefined]);
      assert.deepStrictEqual(heard.batches, [{ outcome: 'spooled', points: 2, reason: 'held: server unreachable' }]);
    });
  });

  describe('stamps and bad points', function () {
    /** @type {[import('../../dist/nodes/lib/influx/line-protocol').Precision, number[], string[]][]} */
    const cases = [
      // precision, arrival times, expected stamps
      ['ms', [T0, T0], [`${T0}`, `${T0 + 1}`, `${T0 + 2}`, `${T0 + 3}`]],
      ['us', [T0, T0], [`${T0}000`, `${T0}001`, `${T0}002`, `${T0}003`]],
      ['s', [T0, T0 + 5000], [`${T0 / 1000}`, `${T0 / 1000 + 1}`, `${T0 / 1000 + 5}`, `${T0 / 1000 + 6}`]],
    ];
    for (const [precision, arrivals, want] of cases) {
      it(`gives each point without a time its own stamp, strictly increasing (${precision})`, async function () {
        const { writer, link, timers } = make({ precision, measurement: 'm', batchSize: 100 });
        // Batch points without a time (two plain field objects would be read as [fields, tags]).
        const noTime = (a, b) => [
          { measurement: 'm', fields: { v: a } },
          { measurement: 'm', fields: { v: b } },
        ];
        writer.add(noTime(1, 2), undefined, arrivals[0], settles());
        writer.add(noTime(3, 4), undefined, arrivals[1], settles());
        timers.fire();
        await until(() => link.batches.length === 1, 'submitted');
        assert.strictEqual(link.batches[0].precision, precision);
        assert.deepStrictEqual(
          link.batches[0].body.split('\n').map((l) => l.split(' ')[2]),
          want,
        );
      });
    }

    it('keeps a point its own time, and writes integer fields and msg.measurement', async function () {
      const { writer, link, timers } = make({ integerFields: ['n'], batchSize: 100 });
      writer.add({ n: 7, v: 1.5, time: new Date(T0 + 9) }, 'fromMsg', T0, settles());
      timers.fire();
      await until(() => link.batches.length === 1, 'submitted');
      assert.strictEqual(link.batches[0].body, `fromMsg n=7i,v=1.5 ${T0 + 9}`);
    });

    it('writes the good points of a message, says why the others were refused, and settles it with that error once durable', async function () {
      const { writer, link, timers, heard } = make({ batchSize: 100 });
      const release = { fn: null };
      link.hold = new Promise((r) => (release.fn = r));
      const s = settles();
      writer.add([...pts(0, 1), { measurement: 'm', fields: { v: NaN }, timestamp: T0 + 1 }, ...pts(2, 1)], undefined, T0, s);
      const why = 'point 1: field "v" is NaN; InfluxDB stores only finite numbers';
      assert.deepStrictEqual(heard.bad, [[why, `1 bad point not written: ${why}`]]);
      timers.fire();
      await until(() => link.batches.length === 1, 'submitted');
      assert.strictEqual(link.batches[0].points, 2);
      await ticks();
      assert.strictEqual(s.calls.length, 0, 'not settled before the good points are durable');
      assert.deepStrictEqual(writer.status(), { state: 'error', text: why }, 'the status keeps the reason until a batch is written');
      release.fn();
      await until(() => s.calls.length === 1, 'settled');
      assert.strictEqual(s.calls[0].message, `1 bad point not written: ${why}`);
      assert.deepStrictEqual(writer.status(), { state: 'idle', text: '0 pt/s' }, 'a written batch clears it');
    });

    it('settles a message with nothing to write at once, and batches nothing', async function () {
      const { writer, link, timers } = make();
      const s = settles();
      writer.add([], undefined, T0, s);
      assert.strictEqual(s.calls.length, 1);
      assert.match(s.calls[0].message, /payload is an empty array/);
      assert.strictEqual(timers.pending.size, 0);
      await ticks();
      assert.strictEqual(link.batches.length, 0);
    });
  });

  describe('with a real Forwarder and Spool', function () {
    let dir;
    let fwd;
    beforeEach(function () {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-writer-'));
    });
    afterEach(async function () {
      if (fwd) await fwd.close();
      fwd = null;
      fs.rmSync(dir, { recursive: true, force: true });
    });

    // The first probe (delay 0) runs at once; later probes and replay pacing never fire by themselves.
    const forwarderTimers = {
      setTimeout: (fn, ms) => (ms === 0 ? setImmediate(fn) : null),
      clearTimeout: (h) => h && clearImmediate(h),
      now: () => T0,
    };

    function transport(mode) {
      const t = {
        target: 'fake://db',
        mode,
        written: [],
        async write(body) {
          if (t.mode === 400) throw new TransportError('400: partial write: field type conflict', 'reject', 400);
          if (t.mode === 'down') throw new TransportError('server unreachable: ECONNREFUSED', 'retry', undefined, { hint: 'db unreachable' });
          t.written.push(body);
        },
        async ping() {
          return t.mode === 'down' ? { ok: false, error: 'no answer' } : { ok: true };
        },
      };
      return t;
    }

    /** fs.promises whose writes fail with `code` while `faults.code` is set. */
    function faultyFs(faults) {
      const p = fs.promises;
      const wrap = (fh) => ({
        async write(buf, off, len) {
          if (faults.code) throw Object.assign(new Error(`${faults.code}: injected`), { code: faults.code });
          return fh.write(buf, off, len);
        },
        read: (...a) => fh.read(...a),
        datasync: () => fh.datasync(),
        truncate: (n) => fh.truncate(n),
        stat: () => fh.stat(),
        close: () => fh.close(),
      });
      return {
        mkdir: (d, o) => p.mkdir(d, o),
        readdir: (d) => p.readdir(d),
        readFile: (f) => p.readFile(f),
        writeFile: (f, d) => p.writeFile(f, d),
        rename: (a, b) => p.rename(a, b),
        truncate: (f, n) => p.truncate(f, n),
        unlink: (f) => p.unlink(f),
        open: async (f, flags) => wrap(await p.open(f, flags)),
      };
    }

    async function forwarder(t, spoolFs) {
      fwd = new Forwarder({
        transport: t,
        spool: new Spool({ dir, fs: spoolFs }),
        deadLetter: new DeadLetter({ dir }),
        timers: forwarderTimers,
        random: () => 0,
        backoff: { initialMs: 1000, maxMs: 1000 },
      });
      await fwd.start();
      return fwd;
    }

    it('sends a batch the server refuses as malformed to onRefused, kept in the dead-letter file; its messages complete', async function () {
      const t = transport(400);
      const f = await forwarder(t);
      const { writer, heard } = make({ batchSize: 2 }, f);
      const s = [settles(), settles()];
      writer.add(pts(0, 1), undefined, T0, s[0]);
      writer.add(pts(1, 1), undefined, T0, s[1]);
      await until(() => s.every((x) => x.calls.length === 1), 'settled');
      assert.deepStrictEqual(
        s.map((x) => x.calls[0]),
        [undefined, undefined],
        'refused points are kept, not lost: the messages complete',
      );
      assert.strictEqual(heard.refused.length, 1);
      const r = heard.refused[0];
      assert.deepStrictEqual(
        [r.lines, r.points, r.status, r.message, r.replay, r.fate.kept],
        [[`m v=0 ${T0}`, `m v=1 ${T0 + 1}`], 2, 400, '400: partial write: field type conflict', false, true],
      );
      assert.deepStrictEqual(heard.batches, [], 'no report on output 1 for a refused batch');
      const kept = fs
        .readFileSync(path.join(dir, 'deadletter.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.deepStrictEqual(
        kept.map((e) => [e.owner, e.points, e.body]),
        [['w1', 2, `m v=0 ${T0}\nm v=1 ${T0 + 1}`]],
      );
      assert.deepStrictEqual(writer.status(), { state: 'error', text: 'refused: 400: partial write: field type conflict' });
      // Written again once fixed: the refusal is no longer the status.
      t.mode = 'ok';
      const s2 = settles();
      writer.add(pts(2, 2), undefined, T0, s2);
      await until(() => s2.calls.length === 1, 'settled');
      assert.strictEqual(writer.status().state, 'running');
    });

    it('fails the messages of a batch the spool could not take (disk full), and recovers with the disk', async function () {
      const t = transport('down');
      const faults = { code: null };
      const f = await forwarder(t, faultyFs(faults));
      const { writer, heard } = make({ batchSize: 3 }, f);
      const first = settles();
      writer.add(pts(0, 3), undefined, T0, first);
      await until(() => first.calls.length === 1, 'the first batch settled');
      assert.deepStrictEqual(first.calls, [undefined], 'spooled while the server is away');
      assert.strictEqual(heard.batches[0].outcome, 'spooled');
      faults.code = 'ENOSPC';
      const s = [settles(), settles()];
      writer.add(pts(3, 2), undefined, T0, s[0]);
      writer.add(pts(5, 1), undefined, T0, s[1]);
      await until(() => s.every((x) => x.calls.length === 1), 'failed');
      for (const x of s) {
        assert.ok(x.calls[0] instanceof SpoolWriteError, `got ${x.calls[0]}`);
        assert.strictEqual(x.calls[0].code, 'ENOSPC');
      }
      assert.strictEqual(heard.failed.length, 1);
      assert.strictEqual(heard.failed[0][1], 'spool disk full: points refused');
      assert.strictEqual(writer.diskError, 'spool disk full: points refused');
      assert.deepStrictEqual(writer.status(), { state: 'error', text: 'spool disk full: points refused' });
      assert.strictEqual(f.stats().spool.backlog, 3, 'only the first batch is in the spool');
      // The disk has room again: the next batch is durable and the error clears.
      faults.code = null;
      const after = settles();
      writer.add(pts(6, 3), undefined, T0, after);
      await until(() => after.calls.length === 1, 'settled');
      assert.deepStrictEqual(after.calls, [undefined]);
      assert.strictEqual(writer.diskError, '');
      assert.strictEqual(f.stats().spool.backlog, 6);
      assert.strictEqual(writer.status().state, 'error', 'still red: the server is down');
      assert.match(writer.status().text, /^db unreachable — 6 points held$/);
    });

    it('routes a rejection on replay to onRefused, marked as a replay', async function () {
      const f = await forwarder(transport('ok'));
      const { writer, heard } = make({}, f);
      await until(() => writer.status() !== null, 'the link');
      writer.replayRejected(
        /** @type {import('../../dist/nodes/lib/influx/spool').SpoolRecord} */ ({ body: 'a v=1 1\na v=2 2', points: 2, owner: 'w1' }),
        new TransportError('400: bad', 'reject', 400),
        {
          kept: false,
          notKept: 'no dead-letter file',
        },
      );
      assert.strictEqual(heard.refused.length, 1);
      assert.deepStrictEqual(
        [heard.refused[0].lines, heard.refused[0].replay, heard.refused[0].fate.notKept],
        [['a v=1 1', 'a v=2 2'], true, 'no dead-letter file'],
      );
    });
  });

  describe('without a link', function () {
    it('fails every batch with the reason there is none, and the dead-letter requeue too', async function () {
      const { writer, heard, timers } = make({}, undefined, Promise.reject(new Error('no InfluxDB connection configured')));
      const s = settles();
      writer.add(pts(0, 1), undefined, T0, s);
      timers.fire();
      await until(() => s.calls.length === 1, 'failed');
      assert.strictEqual(s.calls[0].message, 'no usable InfluxDB connection: no InfluxDB connection configured');
      assert.deepStrictEqual(
        heard.failed.map(([e, text]) => [e.message, text]),
        [[s.calls[0].message, s.calls[0].message]],
      );
      await assert.rejects(writer.requeueDeadLetter(), /no usable InfluxDB connection: no InfluxDB connection configured/);
      assert.strictEqual(writer.status(), null, 'no figures without a link');
    });
  });

  describe('close', function () {
    it('flushes what is waiting, resolves once it has an outcome, then refuses new messages', async function () {
      const { writer, link, timers } = make({ batchSize: 100 });
      const release = { fn: null };
      link.hold = new Promise((r) => (release.fn = r));
      const s = settles();
      writer.add(pts(0, 2), undefined, T0, s);
      let closed = false;
      const closing = writer.close().then(() => (closed = true));
      assert.strictEqual(writer.closing, true);
      assert.strictEqual(timers.pending.size, 0, 'no flush timer left behind');
      await until(() => link.batches.length === 1, 'flushed on close');
      await ticks();
      assert.strictEqual(closed, false, 'waits for the batch in flight');
      release.fn();
      await closing;
      assert.deepStrictEqual(s.calls, [undefined]);
      const late = settles();
      writer.add(pts(2, 1), undefined, T0, late);
      assert.strictEqual(late.calls[0].message, 'node is closing');
    });
  });

  describe('status', function () {
    // link figures → what the status says; the rate is points written or replayed since the previous call.
    /** @type {[string, Partial<ReturnType<typeof fakeLink>['figures']>, { state: string, text: string }][]} */
    const cases = [
      ['idle, nothing written', {}, { state: 'idle', text: '0 pt/s' }],
      ['running at a rate', { writtenPoints: 1500, replayedPoints: 200 }, { state: 'running', text: '1.7k pt/s' }],
      ['a backlog and dropped points', { backlog: 12345, dropped: 3, corrupt: 2 }, { state: 'running', text: '0 pt/s · backlog 12k · dropped 5' }],
      ['connecting', { state: 'connecting', backlog: 10 }, { state: 'connecting', text: 'connecting · backlog 10' }],
      [
        'down, with the hint and the exact backlog',
        { state: 'down', lastHint: 'db unreachable', backlog: 1234567 },
        { state: 'error', text: 'db unreachable — 1 234 567 points held' },
      ],
      ['down, no hint', { state: 'down' }, { state: 'error', text: 'db down — 0 points held' }],
    ];
    for (const [what, figures, want] of cases) {
      it(what, async function () {
        const { writer, link } = make();
        Object.assign(link.figures, figures);
        await ticks();
        assert.deepStrictEqual(writer.status(), want);
      });
    }

    it('counts the rate from the previous call', async function () {
      const { writer, link } = make();
      await ticks();
      link.figures.writtenPoints = 500;
      assert.strictEqual(writer.status().text, '500 pt/s');
      link.figures.writtenPoints = 800;
      assert.strictEqual(writer.status().text, '300 pt/s');
      assert.deepStrictEqual(writer.status(), { state: 'idle', text: '0 pt/s' });
    });

    it('formats counts short and grouped', function () {
      assert.deepStrictEqual([0, 999, 1000, 1234, 9999, 10000, 123456].map(shortCount), ['0', '999', '1.0k', '1.2k', '10.0k', '10k', '123k']);
      assert.deepStrictEqual([0, 999, 1000, 1234567].map(groupedCount), ['0', '999', '1 000', '1 234 567']);
    });
  });
});
