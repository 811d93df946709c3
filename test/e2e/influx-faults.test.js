'use strict';
// The InfluxDB writer under faults, against a real influxd (1.x): whatever the writer acknowledged
// (a message completed: its points written or fsync'ed whole to the spool) must be stored exactly
// once. Every point is sent without a time (the writer stamps it), with a unique integer field
// `seq`, so a point lost, or stored twice under two stamps, shows in the seq values read back.
// Each test prints: points acknowledged, stored, lost, duplicated.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync, fork } = require('child_process');
const helper = require('node-red-node-test-helper');
const influxdbNode = require('../../dist/nodes/influxdb/influxdb.js');
const writeNode = require('../../dist/nodes/influx-write/influx-write.js');
const { startInfluxd, stopAll, request } = require('../helpers/influx-servers');
const { waitFor, sleep } = require('../helpers/wait');
/** @typedef {import('../../dist/nodes/lib/influx/forwarder').ForwarderStats} ForwarderStats */
/** @typedef {import('../helpers/influx-writer-child').WriterChildMessage} WriterChildMessage */
/** @typedef {import('child_process').ChildProcess & { last: ForwarderStats | null, err: string, ready?: boolean }} WriterChild */

helper.init(require.resolve('node-red'));

const BIN = path.join(__dirname, '..', '..', 'bin', 'edgevision.js');
const CHILD = path.join(__dirname, '..', 'helpers', 'influx-writer-child.js');
const until = (cond, ms, what) => waitFor(cond, ms, what, 100);

/** Every seq stored in `measurement` (one per row: a point stored twice under two stamps is two rows). */
async function storedSeqs(db, database, measurement) {
  const res = await db.query(`SELECT seq FROM "${measurement}"`, database);
  const s = res.series && res.series[0];
  return s ? s.values.map((v) => v[1]) : [];
}

/** The figures of one fault, printed, and the exactly-once assertions. */
function tally(name, acked, stored, /** @type {{ sent?: number }} */ { sent } = {}) {
  const storedSet = new Set(stored);
  const lost = [...acked].filter((q) => !storedSet.has(q));
  const duplicated = stored.length - storedSet.size;
  const unacked = [...storedSet].filter((q) => !acked.has(q));
  console.log(
    `      fault "${name}": acknowledged ${acked.size}, stored ${stored.length}, lost ${lost.length}, duplicated ${duplicated}` +
      (unacked.length ? `, stored but never acknowledged ${unacked.length} (in flight when it happened)` : ''),
  );
  assert.deepStrictEqual(lost.slice(0, 10), [], `${lost.length} acknowledged points lost`);
  assert.strictEqual(duplicated, 0, 'points stored twice');
  if (sent !== undefined)
    assert.ok(
      unacked.every((q) => q >= 0 && q < sent),
      'only points that were sent are stored',
    );
  return { lost: lost.length, duplicated, unacked: unacked.length };
}

function flow(port, database, spoolDir, extra = {}) {
  return [
    {
      id: 'cfg',
      type: 'vision-influxdb',
      version: '1.x',
      host: '127.0.0.1',
      port,
      database,
      spoolDir,
      spoolMaxMB: 50,
      replayRate: 100000,
      maxBackoff: 1,
      timeout: 1,
      ...(extra.cfg || {}),
    },
    {
      id: 'w',
      type: 'vision-influx-write',
      influxdb: 'cfg',
      precision: 'us',
      batchSize: extra.batchSize || 50,
      flushInterval: 20,
      integerFields: 'seq',
      wires: [['report'], ['refused']],
    },
    { id: 'report', type: 'helper' },
    { id: 'refused', type: 'helper' },
    { id: 'done', type: 'complete', scope: ['w'], uncaught: false, wires: [['completed']] },
    { id: 'completed', type: 'helper' },
    { id: 'c', type: 'catch', scope: ['w'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
  ];
}

/** Loads a flow and records what was acknowledged (Complete), what failed (Catch) and the statuses. */
async function load(f, credentials) {
  await helper.load([influxdbNode, writeNode], f, credentials);
  const rec = { acked: new Set(), failed: [], statuses: [], refused: [] };
  const seqs = (m) => (Array.isArray(m.payload) ? m.payload.map((p) => p.fields.seq) : []);
  helper.getNode('completed').on('input', (m) => seqs(m).forEach((q) => rec.acked.add(q)));
  helper.getNode('caught').on('input', (m) => rec.failed.push(m.error.message));
  helper.getNode('refused').on('input', (m) => rec.refused.push(m));
  helper.getNode('w').on('call:status', (c) => rec.statuses.push(c.args[0]));
  return rec;
}

/** One message of `per` points without a time, seq from `from`. */
function send(measurement, from, per) {
  const payload = [];
  for (let k = 0; k < per; k++) payload.push({ measurement, fields: { seq: from + k } });
  helper.getNode('w').receive({ payload });
}

/** Sends `count` points in messages of `per`, one message every `everyMs`; hooks run at their time. */
async function drive(measurement, count, per, everyMs, hooks = []) {
  const start = Date.now();
  const pending = [...hooks].sort((a, b) => a.atMs - b.atMs);
  for (let seq = 0; seq < count; seq += per) {
    while (pending.length && pending[0].atMs <= Date.now() - start) await pending.shift().fn();
    send(measurement, seq, Math.min(per, count - seq));
    await sleep(everyMs);
  }
  for (const h of pending) {
    await sleep(Math.max(0, h.atMs - (Date.now() - start)));
    await h.fn();
  }
}

const held = (rec, re) => rec.statuses.some((s) => s.fill === 'red' && re.test(s.text || ''));

describe('InfluxDB writer under faults (e2e, real influxd): acknowledged = stored, exactly once', function () {
  this.timeout(120000);
  let db;
  let tmp;

  before(async function () {
    db = await startInfluxd();
  });
  after(async function () {
    await helper.unload();
    if (db) await db.destroy();
    await stopAll();
  });
  beforeEach(function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-faults-'));
  });
  afterEach(async function () {
    await helper.unload();
    if (db.pid) process.kill(db.pid, 'SIGCONT'); // a failed freeze test must not leave it stopped
    await db.start();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('an InfluxDB frozen (SIGSTOP) for 5 s, then thawed (SIGCONT): writes time out, spool, replay', async function () {
    await db.createDatabase('frozen');
    const rec = await load(flow(db.port, 'frozen', path.join(tmp, 'spool')));
    const N = 4000;
    let sawDown = false;
    await drive('frozen', N, 10, 10, [
      { atMs: 1500, fn: () => process.kill(db.pid, 'SIGSTOP') },
      { atMs: 5000, fn: () => (sawDown = helper.getNode('cfg').stats().state === 'down') },
      { atMs: 6500, fn: () => process.kill(db.pid, 'SIGCONT') },
    ]);
    await until(() => rec.acked.size === N, 60000, 'every message acknowledged');
    await until(() => helper.getNode('cfg').stats().spool.backlog === 0, 60000, 'spool drained');
    const s = helper.getNode('cfg').stats();
    assert.ok(sawDown, 'the link went down while the server was frozen');
    assert.ok(s.spooledPoints > 0, `points spooled: ${s.spooledPoints}`);
    assert.ok(held(rec, / — [\d ]+ points held$/), 'a red status with the points held');
    await until(async () => (await storedSeqs(db, 'frozen', 'frozen')).length >= N, 20000, 'all stored');
    tally('influxd frozen 5 s (SIGSTOP/SIGCONT)', rec.acked, await storedSeqs(db, 'frozen', 'frozen'), { sent: N });
    assert.strictEqual((await storedSeqs(db, 'frozen', 'frozen')).length, N);
    assert.deepStrictEqual(rec.failed, []);
  });

  it('a full disk (a 64 KiB tmpfs under the spool): refused batches fail their messages, acknowledged ones all arrive', async function () {
    const mnt = path.join(tmp, 'tiny');
    fs.mkdirSync(mnt);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { encoding: 'utf8' });
    if (m.status !== 0) {
      console.log(
        `      skipped: cannot mount a tmpfs here (${(m.stderr || m.error?.message || '').trim()}); the injected-ENOSPC tests in test/unit/influx-spool.test.js still run`,
      );
      this.skip();
    }
    try {
      await db.createDatabase('fulldisk');
      await db.stop(); // everything goes to the spool until the disk is full
      const rec = await load(flow(db.port, 'fulldisk', path.join(mnt, 'spool'), { batchSize: 10 }));
      await until(() => helper.getNode('cfg').stats()?.state === 'down', 15000, 'link down');
      const N = 4000;
      for (let seq = 0; seq < N; seq += 10) {
        send('fulldisk', seq, 10);
        await sleep(2);
      }
      await until(() => rec.acked.size + rec.failed.length * 10 >= N, 30000, 'every message acknowledged or failed');
      assert.ok(rec.failed.length > 0, 'the disk filled up');
      assert.ok(rec.acked.size > 0, 'some batches fitted');
      assert.match(rec.failed[0], /spool: disk full .*ENOSPC.*points not spooled/);
      assert.ok(held(rec, /^spool disk full: points refused$/), 'a red status says so');
      const spooled = helper.getNode('cfg').stats().spool.backlog;
      assert.strictEqual(spooled, rec.acked.size, 'the spool holds exactly what was acknowledged');
      await db.start(); // the server returns: the spool drains, which frees the disk
      await until(() => helper.getNode('cfg').stats().spool.backlog === 0, 60000, 'spool drained');
      for (let seq = N; seq < N + 500; seq += 10) send('fulldisk', seq, 10); // space is back
      await until(() => [...rec.acked].filter((q) => q >= N).length === 500, 20000, 'later points acknowledged');
      await until(() => helper.getNode('cfg').stats().spool.backlog === 0, 20000, 'what overflowed to the spool replayed');
      const stored = await storedSeqs(db, 'fulldisk', 'fulldisk');
      const r = tally('spool disk full (64 KiB tmpfs)', rec.acked, stored, { sent: N + 500 });
      assert.strictEqual(r.unacked, 0, 'a batch that failed is not stored');
      assert.strictEqual(helper.getNode('cfg').stats().spool.corrupt, 0);
    } finally {
      await helper.unload();
      spawnSync('umount', [mnt]);
    }
  });

  it('the writer killed (SIGKILL) while spooling, then restarted: everything replayed exactly once', async function () {
    await db.createDatabase('killed');
    await db.stop();
    const spoolDir = path.join(tmp, 'spool');
    const acked = new Set();
    const start = () => {
      const child = /** @type {WriterChild} */ (
        fork(CHILD, [JSON.stringify({ port: db.port, database: 'killed', spoolDir })], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
      );
      child.last = null;
      child.err = '';
      child.stderr.on('data', (c) => (child.err = (child.err + c).slice(-4000)));
      child.on('message', (/** @type {WriterChildMessage} */ m) => {
        if (m.acked) m.acked.forEach((q) => acked.add(q));
        if (m.stats) child.last = m.stats;
        if (m.ready) child.ready = true;
      });
      return child;
    };
    const first = start();
    try {
      await until(() => first.ready, 20000, 'child ready').catch((e) => assert.fail(`${e.message}: ${first.err}`));
      first.send({ send: { measurement: 'killed', from: 0, count: 100000, per: 10, everyMs: 2 } });
      await until(() => acked.size >= 2000, 30000, '2000 points spooled');
      first.kill('SIGKILL'); // mid-spool: batches in memory and appends in flight die with it
      await new Promise((r) => (first.exitCode !== null || first.signalCode !== null ? r() : first.once('exit', r)));
    } finally {
      first.kill('SIGKILL');
    }
    const ackedBeforeKill = acked.size;
    await db.start();
    const second = start();
    try {
      await until(
        () => second.ready && second.last && second.last.state === 'up' && second.last.spool.backlog === 0,
        60000,
        'the restarted writer drained the spool',
      );
      assert.ok(second.last.replayedPoints >= ackedBeforeKill - 50, `replayed ${second.last.replayedPoints} after the restart`);
    } finally {
      second.kill('SIGKILL');
    }
    const stored = await storedSeqs(db, 'killed', 'killed');
    tally('writer SIGKILLed while spooling, restarted', acked, stored, { sent: 100000 });
    assert.strictEqual(acked.size, ackedBeforeKill, 'nothing acknowledged after the kill');
  });

  it('a missing database is created when allowed (the default)', async function () {
    const rec = await load(flow(db.port, 'made_on_demand', path.join(tmp, 'spool')));
    await drive('made', 1000, 10, 2);
    await until(() => rec.acked.size === 1000, 20000, 'all acknowledged');
    const stored = await storedSeqs(db, 'made_on_demand', 'made');
    tally('missing database, created', rec.acked, stored, { sent: 1000 });
    assert.strictEqual(stored.length, 1000);
    assert.strictEqual(helper.getNode('cfg').stats().spooledPoints, 0, 'written at once, nothing spooled');
  });

  it('a missing database that may not be created: held with a red status, written once it exists', async function () {
    const rec = await load(flow(db.port, 'made_by_hand', path.join(tmp, 'spool'), { cfg: { createDatabase: false } }));
    await drive('hand', 1000, 10, 2);
    await until(() => rec.acked.size === 1000, 20000, 'all acknowledged (held in the spool)');
    await until(() => held(rec, /^db "made_by_hand" missing: create it — 1 000 points held$/), 10000, 'the red status with what to do');
    await sleep(2500); // several retries: the spool is held, never discarded
    assert.strictEqual(helper.getNode('cfg').stats().spool.backlog, 1000);
    await db.createDatabase('made_by_hand');
    await until(() => helper.getNode('cfg').stats().spool.backlog === 0, 20000, 'replayed');
    const stored = await storedSeqs(db, 'made_by_hand', 'hand');
    tally('missing database, held until created', rec.acked, stored, { sent: 1000 });
    assert.strictEqual(stored.length, 1000);
  });

  it('a batch refused as malformed: output 2 and the dead-letter file; the replay command writes it after the fix', async function () {
    await db.createDatabase('schema');
    // Another writer made seq a string (in the current shard: InfluxDB checks field types per shard),
    // so our integers are a field type conflict.
    const r0 = await request('POST', `${db.url}/write?db=schema&precision=ms`, `bad seq="text" ${Date.now() - 1000}`);
    assert.strictEqual(r0.status, 204);
    const spoolDir = path.join(tmp, 'spool');
    const rec = await load(flow(db.port, 'schema', spoolDir));
    await drive('bad', 200, 10, 2);
    await until(() => rec.acked.size === 200, 20000, 'all acknowledged');
    await until(() => rec.refused.length > 0 && rec.refused.reduce((n, m) => n + m.payload.length, 0) === 200, 10000, 'all on output 2');
    assert.ok(rec.refused.every((m) => m.error.status === 400 && m.error.kept === true));
    await helper.unload();
    await db.query('DROP MEASUREMENT bad', 'schema'); // the user fixes the schema
    const cli = spawnSync(process.execPath, [BIN, 'influx-replay-deadletter', '--dir', spoolDir, '--url', db.url, '--db', 'schema'], { encoding: 'utf8' });
    assert.strictEqual(cli.status, 0, cli.stdout + cli.stderr);
    assert.match(cli.stdout, /batches \(200 points\) written to .*; 0 left in/);
    const stored = (await storedSeqs(db, 'schema', 'bad')).filter((q) => typeof q === 'number');
    tally('batches refused as malformed, replayed from the dead-letter file', rec.acked, stored, { sent: 200 });
    const again = spawnSync(process.execPath, [BIN, 'influx-replay-deadletter', '--dir', spoolDir, '--url', db.url, '--db', 'schema'], { encoding: 'utf8' });
    assert.match(again.stdout, /0 batches \(0 points\)/, 'nothing left to replay');
  });
});

describe('InfluxDB writer under faults (e2e, influxd with authentication)', function () {
  this.timeout(120000);
  const ADMIN = { username: 'admin', password: 'admin-pw' };
  let db;
  let tmp;
  const admin = (q) => db.query(q);

  before(async function () {
    db = await startInfluxd({ auth: ADMIN });
    await admin('CREATE DATABASE authed');
  });
  after(async function () {
    await helper.unload();
    if (db) await db.destroy();
    await stopAll();
  });
  beforeEach(function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-faults-auth-'));
  });
  afterEach(async function () {
    await helper.unload();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a 401 (a wrong password): points held with a red status, written once the credentials are fixed', async function () {
    await admin(`CREATE USER writer401 WITH PASSWORD 'right-pw'`);
    await admin('GRANT WRITE ON authed TO writer401');
    const spoolDir = path.join(tmp, 'spool');
    const f = flow(db.port, 'authed', spoolDir);
    const rec = await load(f, { cfg: { username: 'writer401', password: 'expired-pw' } });
    await drive('auth401', 1000, 10, 2);
    await until(() => rec.acked.size === 1000, 20000, 'all acknowledged (held)');
    await until(() => held(rec, /^401 unauthorized: check user\/password — 1 000 points held$/), 10000, 'the red status');
    assert.strictEqual(helper.getNode('cfg').stats().rejectedPoints, 0, 'never treated as bad data');
    assert.strictEqual(rec.refused.length, 0, 'nothing on output 2');
    // The user enters the right password and deploys: the spool is replayed.
    await helper.unload();
    const rec2 = await load(f, { cfg: { username: 'writer401', password: 'right-pw' } });
    await until(() => helper.getNode('cfg').stats()?.spool.backlog === 0 && helper.getNode('cfg').stats().state === 'up', 20000, 'replayed');
    const stored = await storedSeqs(db, 'authed', 'auth401');
    tally('401 unauthorized, fixed by new credentials', rec.acked, stored, { sent: 1000 });
    assert.strictEqual(stored.length, 1000);
    assert.deepStrictEqual(rec2.failed, []);
  });

  it('a 403 (no write right): points held, written once the right is granted, without a redeploy', async function () {
    await admin(`CREATE USER writer403 WITH PASSWORD 'pw'`);
    const rec = await load(flow(db.port, 'authed', path.join(tmp, 'spool')), { cfg: { username: 'writer403', password: 'pw' } });
    await drive('auth403', 500, 10, 2);
    await until(() => rec.acked.size === 500, 20000, 'all acknowledged (held)');
    await until(() => held(rec, /^403 forbidden: check user rights — 500 points held$/), 10000, 'the red status');
    await admin('GRANT WRITE ON authed TO writer403');
    await until(() => helper.getNode('cfg').stats().spool.backlog === 0, 20000, 'replayed');
    const stored = await storedSeqs(db, 'authed', 'auth403');
    tally('403 forbidden, fixed by a GRANT', rec.acked, stored, { sent: 500 });
    assert.strictEqual(stored.length, 500);
  });
});
