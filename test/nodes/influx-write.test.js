'use strict';
// vision-influx-write and vision-influxdb in a Node-RED runtime (node-red-node-test-helper) against a
// real InfluxDB 1.x (Debian's influxd) started by the test.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const helper = require('node-red-node-test-helper');
const influxdbNode = require('../../dist/nodes/influxdb/influxdb.js');
const writeNode = require('../../dist/nodes/influx-write/influx-write.js');
const { startInfluxd, stopAll, freePort } = require('../helpers/influx-servers');
const { waitFor, sleep } = require('../helpers/wait');

helper.init(require.resolve('node-red'));

const T0 = Date.UTC(2026, 0, 1);

const until = (fn, ms = 20000, what = 'condition') => waitFor(fn, ms, what, 50);

describe('vision-influx-write (node, real InfluxDB 1.x)', function () {
  this.timeout(60000);
  let db;
  let spoolRoot;

  before(async function () {
    db = await startInfluxd();
    await db.createDatabase('ev');
  });
  after(async function () {
    if (db) await db.destroy();
    await stopAll();
  });
  beforeEach(function () {
    spoolRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-spool-'));
  });
  afterEach(async function () {
    await helper.unload();
    fs.rmSync(spoolRoot, { recursive: true, force: true });
  });

  function flow(opts = {}) {
    return [
      {
        id: 'cfg',
        type: 'vision-influxdb',
        version: '1.x',
        host: '127.0.0.1',
        port: opts.port || db.port,
        database: opts.database || 'ev',
        spoolDir: path.join(spoolRoot, 'spool'),
        spoolMaxMB: opts.spoolMaxMB || 10,
        replayRate: 100000,
        maxBackoff: 1,
        timeout: 5,
      },
      {
        id: 'w',
        type: 'vision-influx-write',
        influxdb: 'cfg',
        measurement: opts.measurement === undefined ? 'm' : opts.measurement,
        precision: 'ms',
        batchSize: opts.batchSize || 100,
        flushInterval: 50,
        integerFields: opts.integerFields || '',
        wires: [['ok'], ['rej']],
      },
      { id: 'ok', type: 'helper' },
      { id: 'rej', type: 'helper' },
      { id: 'c', type: 'catch', scope: ['w'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
      { id: 'done', type: 'complete', scope: ['w'], uncaught: false, wires: [['completed']] },
      { id: 'completed', type: 'helper' },
    ];
  }

  const load = (f) => helper.load([influxdbNode, writeNode], f);

  it('writes every payload shape node-red-contrib-influxdb accepts, keeping integer fields integers', async function () {
    await load(flow({ measurement: 'shapes', integerFields: 'n' }));
    const w = helper.getNode('w');
    const completed = helper.getNode('completed');
    let completes = 0;
    completed.on('input', () => completes++);
    const errs = [];
    helper.getNode('caught').on('input', (m) => errs.push(m.error.message));
    w.receive({ payload: 1.5 }); // a number → field "value"
    await sleep(5); // distinct default timestamps for the shapes without one
    w.receive({ payload: { value: 2, n: 7, time: new Date(T0 + 1) } });
    w.receive({ payload: [{ value: 3, n: '8i' }, { site: 'a' }] });
    w.receive({
      payload: [
        [{ value: 4, time: T0 + 2 }, { site: 'b' }],
        [{ value: 5, time: T0 + 3 }, { site: 'b' }],
      ],
    });
    w.receive({
      payload: [
        { measurement: 'shapes', tags: { site: 'c' }, fields: { value: 6, n: 9 }, timestamp: T0 + 4 },
        { measurement: 'other', fields: { flag: true, s: 'x "q"' }, timestamp: T0 + 5 },
      ],
    });
    await until(() => completes + errs.length === 5, 10000, 'five messages handled');
    assert.deepStrictEqual(errs, []);
    assert.strictEqual(await db.scalar('SELECT COUNT(value) FROM shapes', 'ev'), 6);
    assert.strictEqual(await db.scalar('SELECT SUM(value) FROM shapes', 'ev'), 1.5 + 2 + 3 + 4 + 5 + 6);
    const keys = await db.query('SHOW FIELD KEYS FROM shapes', 'ev');
    const types = Object.fromEntries(keys.series[0].values);
    assert.deepStrictEqual(types, { n: 'integer', value: 'float' });
    const other = await db.query('SELECT * FROM other', 'ev');
    assert.deepStrictEqual(other.series[0].values[0], [T0 + 5, true, 'x "q"']);
    const b = await db.scalar(`SELECT COUNT(value) FROM shapes WHERE site = 'b'`, 'ev');
    assert.strictEqual(b, 2);
  });

  it('reports bad points with a reason via Catch and writes the rest of the message', async function () {
    await load(flow({ measurement: 'bad' }));
    const w = helper.getNode('w');
    const caught = helper.getNode('caught');
    const errs = [];
    caught.on('input', (m) => errs.push(m.error.message));
    w.receive({
      payload: [
        { measurement: 'bad', fields: { v: 1 }, timestamp: T0 },
        { measurement: 'bad', fields: { v: NaN }, timestamp: T0 + 1 },
        { measurement: 'bad', fields: { v: Infinity }, timestamp: T0 + 2 },
        { measurement: 'bad', fields: {}, timestamp: T0 + 3 },
        { measurement: '', fields: { v: 1 }, timestamp: T0 + 4 },
        { measurement: 'bad', tags: { _x: 'a' }, fields: { v: 1 }, timestamp: T0 + 5 },
        { measurement: 'bad', fields: { v: { nested: 1 } }, timestamp: T0 + 6 },
        { measurement: 'bad', fields: { v: 2 }, timestamp: T0 + 7 },
      ],
    });
    await until(() => errs.length === 1, 10000, 'the error');
    assert.match(errs[0], /6 bad points not written: /);
    assert.match(errs[0], /and 1 more$/);
    assert.match(errs[0], /point 1: field "v" is NaN/);
    assert.match(errs[0], /point 2: field "v" is Infinity/);
    assert.match(errs[0], /point 3: .*no fields/);
    assert.match(errs[0], /point 4: no measurement/);
    assert.match(errs[0], /point 5: tag name "_x"/);
    assert.strictEqual(await db.scalar('SELECT COUNT(v) FROM bad', 'ev'), 2);
    assert.strictEqual(await db.scalar('SELECT SUM(v) FROM bad', 'ev'), 3);
  });

  it('refuses a field whose type would flip, before the server sees it', async function () {
    await load(flow({ measurement: 'flip' }));
    const w = helper.getNode('w');
    const caught = helper.getNode('caught');
    const errs = [];
    caught.on('input', (m) => errs.push(m.error.message));
    w.receive({ payload: { v: 1, time: T0 } });
    w.receive({ payload: { v: 'text', time: T0 + 1 } });
    w.receive({ payload: { v: 3, time: T0 + 2 } });
    await until(async () => (await db.scalar('SELECT COUNT(v) FROM flip', 'ev')) === 2, 10000, 'two points');
    assert.strictEqual(errs.length, 1);
    assert.match(errs[0], /field "v" of measurement "flip" was written as float; got string/);
  });

  it('sends a batch the server refuses as malformed to output 2 and the dead-letter file, and replays it on "replay-deadletter" after the fix', async function () {
    // The server already holds "v" as a string (another writer): our float batch is a field type conflict.
    const r = await require('../helpers/influx-servers').request('POST', `${db.url}/write?db=ev&precision=ms`, `conflict v="text" ${T0 - 1}`);
    assert.strictEqual(r.status, 204);
    await load(flow({ measurement: 'conflict' }));
    const w = helper.getNode('w');
    const got = [];
    const errs = [];
    const reports = [];
    helper.getNode('rej').on('input', (m) => got.push(m));
    helper.getNode('ok').on('input', (m) => reports.push(m));
    helper.getNode('caught').on('input', (m) => errs.push(m.error.message));
    w.receive({ payload: { v: 1, time: T0 } });
    await until(() => got.length === 1 && errs.length === 1, 10000, 'output 2 and the error');
    assert.strictEqual(got[0].error.status, 400);
    assert.match(got[0].error.message, /field type conflict/);
    assert.strictEqual(got[0].error.kept, true);
    const dlFile = path.join(spoolRoot, 'spool', 'deadletter.jsonl');
    assert.strictEqual(got[0].error.deadLetter, dlFile);
    assert.deepStrictEqual(got[0].payload, [`conflict v=1 ${T0}`]);
    assert.match(errs[0], /refused a batch of 1 points as malformed: 400: .*field type conflict.*; kept in .*deadletter\.jsonl/);
    const kept = fs
      .readFileSync(dlFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.strictEqual(kept.length, 1);
    assert.deepStrictEqual([kept[0].status, kept[0].points, kept[0].owner, kept[0].body], [400, 1, 'w', `conflict v=1 ${T0}`]);
    assert.ok(Date.parse(kept[0].time) > 0, 'the time the server refused it');
    await sleep(1500);
    assert.strictEqual(got.length, 1, 'a malformed batch is not retried');
    const segs = fs.readdirSync(path.join(spoolRoot, 'spool')).filter((f) => f.endsWith('.evs'));
    assert.deepStrictEqual(segs, [], 'nothing spooled for a malformed batch');
    // The user fixes the schema, then asks the writer to replay the dead letters.
    await db.query('DROP MEASUREMENT conflict', 'ev');
    w.receive({ topic: 'replay-deadletter' });
    await until(() => reports.some((m) => m.topic === 'replay-deadletter'), 10000, 'the replay report');
    assert.deepStrictEqual(reports.find((m) => m.topic === 'replay-deadletter').payload, { batches: 1, points: 1, left: 0 });
    await until(async () => (await db.scalar('SELECT COUNT(v) FROM conflict', 'ev')) === 1, 10000, 'the fixed batch written');
    assert.strictEqual(fs.readFileSync(dlFile, 'utf8'), '', 'the dead-letter file is empty');
  });

  it('creates a missing database by default (like Telegraf) and writes into it', async function () {
    await load(flow({ database: 'created_by_writer', measurement: 'fresh' }));
    const errs = [];
    helper.getNode('caught').on('input', (m) => errs.push(m.error.message));
    for (let i = 0; i < 5; i++) helper.getNode('w').receive({ payload: { v: i, time: T0 + i } });
    await until(async () => (await db.scalar('SELECT COUNT(v) FROM fresh', 'created_by_writer').catch(() => 0)) === 5, 10000, 'five points');
    assert.deepStrictEqual(errs, []);
    assert.strictEqual(helper.getNode('cfg').stats().spool.backlog, 0);
  });

  it('holds the spool with a red status saying what to do when the database is missing and may not be created', async function () {
    const f = flow({ database: 'held_db', measurement: 'held' });
    f[0].createDatabase = false;
    await load(f);
    const w = helper.getNode('w');
    const statuses = [];
    w.on('call:status', (c) => statuses.push(c.args[0]));
    let completes = 0;
    helper.getNode('completed').on('input', () => completes++);
    for (let i = 0; i < 20; i++) w.receive({ payload: { v: i, time: T0 + i } });
    await until(() => completes === 20, 10000, 'all messages durable (held in the spool)');
    await until(
      () => statuses.some((s) => s.fill === 'red' && /^db "held_db" missing: create it — 20 points held$/.test(s.text || '')),
      10000,
      'red status with the fix',
    );
    assert.strictEqual(helper.getNode('cfg').stats().spool.backlog, 20, 'the spool is held, not discarded');
    await sleep(1500);
    assert.strictEqual(helper.getNode('cfg').stats().spool.backlog, 20, 'still held after retries');
    await db.createDatabase('held_db');
    await until(async () => (await db.scalar('SELECT COUNT(v) FROM held', 'held_db')) === 20, 15000, 'replayed once the database exists');
    assert.strictEqual(await db.scalar('SELECT SUM(v) FROM held', 'held_db'), (19 * 20) / 2);
  });

  it('gives every point without a time its own stamp: 10 points per message into one series are 10 points', async function () {
    const f = flow({ measurement: 'stamps' });
    f[1].precision = 'us';
    await load(f);
    const w = helper.getNode('w');
    let completes = 0;
    helper.getNode('completed').on('input', () => completes++);
    for (let m = 0; m < 50; m++) w.receive({ payload: Array.from({ length: 10 }, (_, i) => ({ v: m * 10 + i })) });
    await until(() => completes === 50, 10000, 'all written');
    assert.strictEqual(await db.scalar('SELECT COUNT(v) FROM stamps', 'ev'), 500);
    assert.strictEqual(await db.scalar('SELECT SUM(v) FROM stamps', 'ev'), (499 * 500) / 2);
  });

  it('spools while the server is unreachable and replays when it answers, showing the backlog in the status', async function () {
    const port = await freePort(); // nothing listens here yet
    await load(flow({ port, measurement: 'late' }));
    const w = helper.getNode('w');
    const statuses = [];
    w.on('call:status', (c) => statuses.push(c.args[0]));
    const completed = helper.getNode('completed');
    let completes = 0;
    completed.on('input', () => completes++);
    for (let i = 0; i < 50; i++) w.receive({ payload: { v: i, time: T0 + i } });
    await until(() => completes === 50, 15000, 'all messages durable (spooled)');
    const segs = fs.readdirSync(path.join(spoolRoot, 'spool')).filter((f) => f.endsWith('.evs'));
    assert.ok(segs.length >= 1, 'spool segment on disk');
    await until(() => statuses.some((s) => s.fill === 'red' && /^db unreachable.* — 50 points held$/.test(s.text || '')), 5000, 'held status');
    // Now bring a server up on that port: a second influxd would need its own config, so relay instead.
    const relay = require('net').createServer((c) => {
      const up = require('net').connect(db.port, '127.0.0.1');
      c.pipe(up).pipe(c);
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
    });
    await new Promise((r) => relay.listen(port, '127.0.0.1', () => r(null)));
    try {
      await until(async () => (await db.scalar('SELECT COUNT(v) FROM late', 'ev')) === 50, 20000, 'replay');
      assert.strictEqual(await db.scalar('SELECT SUM(v) FROM late', 'ev'), (49 * 50) / 2);
      await until(() => fs.readdirSync(path.join(spoolRoot, 'spool')).filter((f) => f.endsWith('.evs')).length === 0, 5000, 'spool emptied');
    } finally {
      await helper.unload();
      await new Promise((r) => relay.close(r));
    }
  });

  it('shows a red status and fails messages when no connection is configured', async function () {
    const f = flow();
    f[1].influxdb = 'missing';
    await load(f);
    const w = helper.getNode('w');
    const caught = helper.getNode('caught');
    const errs = [];
    caught.on('input', (m) => errs.push(m.error.message));
    const statuses = [];
    w.on('call:status', (c) => statuses.push(c.args[0]));
    w.receive({ payload: 1 });
    await until(() => errs.length === 1, 5000, 'error');
    assert.match(errs[0], /no usable InfluxDB connection/);
    assert.ok(statuses.some((s) => s.fill === 'red'));
  });
  it('names the configuration problem when the connection cannot be built', async function () {
    const f = flow();
    Object.assign(f[0], { version: '2.x', url: 'ftp://x', bucket: 'b' });
    await load(f);
    const errs = [];
    helper.getNode('caught').on('input', (m) => errs.push(m.error.message));
    helper.getNode('w').receive({ payload: 1 });
    await until(() => errs.length === 1, 5000, 'error');
    assert.match(errs[0], /no usable InfluxDB connection: influx 2.x: url must be http or https, got ftp:/);
  });

  /** Every status the node showed, from its first (set in the constructor, before a test can listen). */
  const shown = (n) =>
    n.status
      .getCalls()
      .filter((c) => c.thisValue === n)
      .map((c) => c.args[0]);

  it('names a connection setting outside the dialog range (red status, Catch) instead of clamping it', async function () {
    const f = flow();
    f[0].timeout = 500; // used to become 120 s without a word
    await load(f);
    const w = helper.getNode('w');
    const errs = [];
    helper.getNode('caught').on('input', (m) => errs.push(m.error.message));
    w.receive({ payload: 1 });
    await until(() => errs.length === 1, 5000, 'the message failed');
    const why = 'Timeout must be a number 1–120, got "500"';
    assert.deepStrictEqual(errs, [`Error: no usable InfluxDB connection: ${why}`]);
    assert.ok(
      shown(w).some((s) => s.fill === 'red' && s.text === why),
      JSON.stringify(shown(w)),
    );
    const check = await helper.request().get('/vision-influxdb/cfg/check').expect(200);
    assert.deepStrictEqual([check.body.ok, check.body.error], [false, why]);
  });

  it('names a writer setting outside the dialog range (red status, every message fails with it)', async function () {
    const f = flow();
    f[1].batchSize = 0; // used to become 1000
    await load(f);
    const w = helper.getNode('w');
    const errs = [];
    helper.getNode('caught').on('input', (m) => errs.push(m.error.message));
    w.receive({ payload: 1 });
    w.receive({ topic: 'replay-deadletter' });
    await until(() => errs.length === 2, 5000, 'both messages failed');
    const why = 'Batch size must be a whole number 1–100000, got "0"';
    assert.deepStrictEqual(errs, [`Error: ${why}`, `Error: ${why}`]);
    assert.deepStrictEqual(
      shown(w).map((s) => [s.fill, s.text]),
      [['red', why]],
    );
  });
});

describe('vision-influxdb connection check (admin endpoint)', function () {
  this.timeout(30000);
  let db;
  before(async function () {
    db = await startInfluxd();
  });
  after(async function () {
    await helper.unload();
    if (db) await db.destroy();
    await stopAll();
  });

  it('keeps its spool under <userDir>/edgevision-spool/<connection id> unless told otherwise', async function () {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-userdir-'));
    helper.settings({ userDir });
    try {
      await helper.load(
        [influxdbNode, writeNode],
        [
          { id: 'c1', type: 'vision-influxdb', version: '1.x', host: '127.0.0.1', port: db.port, database: 'x' },
          { id: 'c2', type: 'vision-influxdb', version: '1.x', host: '127.0.0.1', port: db.port, database: 'x', spoolDir: 'my-spool' },
        ],
      );
      assert.strictEqual(helper.getNode('c1').spoolDir, path.join(userDir, 'edgevision-spool', 'c1'));
      assert.strictEqual(helper.getNode('c2').spoolDir, path.join(userDir, 'my-spool'));
    } finally {
      await helper.unload();
      helper.settings({});
      fs.rmSync(userDir, { recursive: true, force: true });
    }
  });

  it('answers with the server it reached, and says when it cannot', async function () {
    const spool = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-spool-'));
    const dead = await freePort();
    await helper.load(
      [influxdbNode, writeNode],
      [
        { id: 'up', type: 'vision-influxdb', version: '1.x', host: '127.0.0.1', port: db.port, database: 'x', spoolDir: path.join(spool, 'a') },
        { id: 'gone', type: 'vision-influxdb', version: '1.x', host: '127.0.0.1', port: dead, database: 'x', spoolDir: path.join(spool, 'b') },
        { id: 'bad', type: 'vision-influxdb', version: '2.x', url: 'not a url', bucket: 'b', spoolDir: path.join(spool, 'c') },
      ],
    );
    const up = await helper.request().get('/vision-influxdb/up/check').expect(200);
    assert.strictEqual(up.body.ok, true);
    assert.strictEqual(up.body.target, `http://127.0.0.1:${db.port}/x`);
    assert.match(up.body.version, /^1\./);
    const gone = await helper.request().get('/vision-influxdb/gone/check').expect(200);
    assert.strictEqual(gone.body.ok, false);
    const bad = await helper.request().get('/vision-influxdb/bad/check').expect(200);
    assert.deepStrictEqual([bad.body.ok, bad.body.error], [false, 'influx 2.x: url must be like http://host:8086, got "not a url"']);
    await helper.request().get('/vision-influxdb/nope/check').expect(404);
    await helper.unload();
    fs.rmSync(spool, { recursive: true, force: true });
  });
});
