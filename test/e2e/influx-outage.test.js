'use strict';
// Store-and-forward against a real InfluxDB 1.x (Debian's influxd): 10 000 points at a steady rate
// while the server is stopped for 20 s, with and without a Node-RED restart during the outage, and
// the spool's size cap. Every point has its own timestamp, so COUNT is the number of distinct points
// and SUM(seq) tells a lost point from a duplicated one.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const helper = require('node-red-node-test-helper');
const influxdbNode = require('../../dist/nodes/influxdb/influxdb.js');
const writeNode = require('../../dist/nodes/influx-write/influx-write.js');
const { startInfluxd, stopAll } = require('../helpers/influx-servers');
const { waitFor, sleep } = require('../helpers/wait');
// Polls servers and browsers: every 200 ms is plenty.
const until = (cond, ms, what) => waitFor(cond, ms, what, 200);

helper.init(require.resolve('node-red'));

const T0 = Date.UTC(2026, 0, 1);
const N = 10000;
const RATE = 400; // points/s: 10 000 points take 25 s
const OUTAGE_AT_MS = 3000;
const OUTAGE_MS = 20000;

describe('vision-influx-write store-and-forward (e2e, real InfluxDB 1.x)', function () {
  this.timeout(120000);
  let db;
  let spoolRoot;

  before(async function () {
    db = await startInfluxd();
  });
  after(async function () {
    await helper.unload();
    if (db) await db.destroy();
    await stopAll();
  });
  beforeEach(function () {
    spoolRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-spool-'));
  });
  afterEach(async function () {
    await helper.unload();
    await db.start(); // a failed test must not leave the next one without a server
    fs.rmSync(spoolRoot, { recursive: true, force: true });
  });

  function flow(database, extra = {}) {
    return [
      {
        id: 'cfg',
        type: 'vision-influxdb',
        version: '1.x',
        host: '127.0.0.1',
        port: db.port,
        database,
        spoolDir: path.join(spoolRoot, 'spool'),
        spoolMaxMB: extra.spoolMaxMB || 50,
        replayRate: 5000,
        maxBackoff: 2,
        timeout: 5,
      },
      { id: 'w', type: 'vision-influx-write', influxdb: 'cfg', precision: 'ms', batchSize: 100, flushInterval: 100, integerFields: 'seq', wires: [[], []] },
      { id: 'c', type: 'catch', scope: ['w'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ];
  }

  async function load(f, errors) {
    await helper.load([influxdbNode, writeNode], f);
    helper.getNode('caught').on('input', (m) => errors.push(m.error.message));
  }

  const point = (i, run) => ({ measurement: 'outage', tags: { run }, fields: { seq: i }, timestamp: T0 + i });

  /**
   * Sends N points at RATE points/s, in messages of 4; `at(ms)` hooks run when the schedule passes
   * their time (stop the server, restart Node-RED…). Sending pauses while a hook runs.
   */
  async function drive(run, hooks) {
    const start = Date.now();
    const pending = [...hooks].sort((a, b) => a.atMs - b.atMs);
    let i = 0;
    while (i < N) {
      const elapsed = Date.now() - start;
      while (pending.length && pending[0].atMs <= elapsed) await pending.shift().fn();
      const due = Math.min(N, Math.floor((elapsed * RATE) / 1000));
      while (i + 4 <= due || (due === N && i < N)) {
        const batch = [];
        for (let k = 0; k < 4 && i < N; k++, i++) batch.push(point(i, run));
        helper.getNode('w').receive({ payload: batch });
      }
      await sleep(10);
    }
    for (const h of pending) await h.fn();
  }

  async function expectExactly(database, run) {
    const q = (s) => db.scalar(s, database);
    await until(async () => (await q(`SELECT COUNT(seq) FROM outage WHERE run = '${run}'`)) >= N, 60000, `${N} points in the database`);
    await until(() => helper.getNode('cfg').stats()?.spool.backlog === 0, 20000, 'spool drained');
    assert.strictEqual(await q(`SELECT COUNT(seq) FROM outage WHERE run = '${run}'`), N, 'distinct points');
    assert.strictEqual(await q(`SELECT SUM(seq) FROM outage WHERE run = '${run}'`), (N * (N - 1)) / 2, 'sum of seq: none lost, none twice');
    assert.strictEqual(await q(`SELECT MIN(seq) FROM outage WHERE run = '${run}'`), 0);
    assert.strictEqual(await q(`SELECT MAX(seq) FROM outage WHERE run = '${run}'`), N - 1);
    const s = helper.getNode('cfg').stats();
    assert.strictEqual(s.spool.dropped, 0);
    return s;
  }

  it('loses nothing when the server is stopped for 20 s and restarted', async function () {
    await db.createDatabase('outage_a');
    const errors = [];
    await load(flow('outage_a'), errors);
    let sawDown = false;
    await drive('a', [
      { atMs: OUTAGE_AT_MS, fn: () => db.stop() },
      { atMs: OUTAGE_AT_MS + 1500, fn: async () => (sawDown = helper.getNode('cfg').stats().state === 'down') },
      { atMs: OUTAGE_AT_MS + OUTAGE_MS, fn: () => db.start() },
    ]);
    const s = await expectExactly('outage_a', 'a');
    assert.ok(sawDown, 'the link went down during the outage');
    assert.ok(s.spooledPoints > 0 && s.replayedPoints >= s.spooledPoints - 100, `spooled ${s.spooledPoints}, replayed ${s.replayedPoints}`);
    assert.deepStrictEqual(errors, []);
  });

  it('loses nothing when Node-RED restarts while the server is down', async function () {
    await db.createDatabase('outage_b');
    const errors = [];
    await load(flow('outage_b'), errors);
    let spooledBeforeRestart = 0;
    await drive('b', [
      { atMs: OUTAGE_AT_MS, fn: () => db.stop() },
      {
        atMs: OUTAGE_AT_MS + 8000,
        fn: async () => {
          await helper.unload(); // Node-RED stops: the writer flushes into the spool, the spool closes
          const segs = fs.readdirSync(path.join(spoolRoot, 'spool')).filter((f) => f.endsWith('.evs'));
          assert.ok(segs.length > 0, 'spool segments survive the stop');
          await load(flow('outage_b'), errors); // and starts again on the same spool
          await until(() => helper.getNode('cfg').stats(), 5000, 'link open');
          spooledBeforeRestart = helper.getNode('cfg').stats().spool.backlog;
        },
      },
      { atMs: OUTAGE_AT_MS + OUTAGE_MS, fn: () => db.start() },
    ]);
    assert.ok(spooledBeforeRestart > 1000, `backlog found after the restart: ${spooledBeforeRestart}`);
    await expectExactly('outage_b', 'b');
    assert.deepStrictEqual(errors, []);
  });

  it('drops the oldest batches beyond the spool cap and counts exactly the points missing', async function () {
    await db.createDatabase('cap');
    await db.stop();
    const errors = [];
    await load(flow('cap', { spoolMaxMB: 0.05 }), errors); // 51 KiB, 6.4 KiB segments
    // Once the link knows the server is down, every batch goes to the spool in arrival order.
    await until(() => helper.getNode('cfg').stats()?.state === 'down', 10000, 'link down');
    const total = 5000;
    for (let i = 0; i < total; i += 50) {
      const batch = [];
      for (let k = i; k < i + 50; k++) batch.push({ measurement: 'cap', fields: { seq: k }, timestamp: T0 + k });
      helper.getNode('w').receive({ payload: batch });
    }
    await until(() => helper.getNode('cfg').stats()?.spooledPoints === total, 20000, 'all spooled');
    const before = helper.getNode('cfg').stats();
    const dropped = before.spool.dropped;
    assert.ok(dropped > 0, 'the cap was reached');
    assert.ok(before.spool.bytes <= 0.05 * 1024 * 1024, `spool within its cap: ${before.spool.bytes} bytes`);
    assert.strictEqual(before.spool.backlog, total - dropped);
    const meta = JSON.parse(fs.readFileSync(path.join(spoolRoot, 'spool', 'meta.json'), 'utf8'));
    assert.strictEqual(meta.dropped, dropped, 'the drop counter is persisted');
    await db.start();
    await until(async () => (await db.scalar('SELECT COUNT(seq) FROM cap', 'cap')) === total - dropped, 30000, 'replay');
    await until(() => helper.getNode('cfg').stats().spool.backlog === 0, 10000, 'drained');
    assert.strictEqual(await db.scalar('SELECT COUNT(seq) FROM cap', 'cap'), total - dropped, 'missing = dropped');
    assert.strictEqual(await db.scalar('SELECT MIN(seq) FROM cap', 'cap'), dropped, 'the oldest were the ones dropped');
    assert.strictEqual(await db.scalar('SELECT MAX(seq) FROM cap', 'cap'), total - 1);
    assert.deepStrictEqual(errors, []);
  });
});
