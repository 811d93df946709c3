'use strict';
// Write and read back through both client paths: InfluxDB 1.x (`influx`, Debian's influxd) and the
// 2.x write API (`@influxdata/influxdb-client`, Debian's victoria-metrics). Count and values.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const helper = require('node-red-node-test-helper');
const influxdbNode = require('../../dist/nodes/influxdb/influxdb.js');
const writeNode = require('../../dist/nodes/influx-write/influx-write.js');
const { startInfluxd, startVictoria, stopAll } = require('../helpers/influx-servers');
const { waitFor } = require('../helpers/wait');
// Polls servers and browsers: every 200 ms is plenty.
const until = (cond, ms, what) => waitFor(cond, ms, what, 200);

helper.init(require.resolve('node-red'));

const T0 = Date.UTC(2026, 0, 1);

describe('vision-influx-write round trip (e2e, real servers)', function () {
  this.timeout(60000);
  let spoolRoot;
  beforeEach(function () {
    spoolRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-spool-'));
  });
  afterEach(async function () {
    await helper.unload();
    fs.rmSync(spoolRoot, { recursive: true, force: true });
  });
  after(stopAll);

  const writer = (extra) => ({ id: 'w', type: 'vision-influx-write', influxdb: 'cfg', batchSize: 200, flushInterval: 50, wires: [[], []], ...extra });
  const catcher = [
    { id: 'c', type: 'catch', scope: ['w'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
  ];

  describe('InfluxDB 1.x (influxd)', function () {
    let db;
    before(async function () {
      db = await startInfluxd();
      await db.createDatabase('rt');
    });
    after(async function () {
      if (db) await db.destroy();
    });

    it('writes 1000 points with escaped names and every field type, read back exactly', async function () {
      const cfg = { id: 'cfg', type: 'vision-influxdb', version: '1.x', host: '127.0.0.1', port: db.port, database: 'rt', spoolDir: path.join(spoolRoot, 's') };
      await helper.load([influxdbNode, writeNode], [cfg, writer({ precision: 'ms', integerFields: 'people' }), ...catcher]);
      const errors = [];
      helper.getNode('caught').on('input', (m) => errors.push(m.error.message));
      const w = helper.getNode('w');
      const expected = [];
      for (let i = 0; i < 1000; i += 10) {
        const batch = [];
        for (let k = i; k < i + 10; k++) {
          const p = {
            measurement: 'zone stats,a', // a space and a comma: escaped in line protocol
            tags: { camera: `cam ${k % 3}`, 'zone=id': 'z,1' },
            fields: { people: k % 7, dwell: k / 8, ok: k % 2 === 0, note: `n "${k}"`, big: `${k * 1000003}i` },
            timestamp: T0 + k * 1000,
          };
          batch.push(p);
          expected.push(p);
        }
        w.receive({ payload: batch });
      }
      const q = `SELECT "people","dwell","ok","note","big","camera","zone=id" FROM "zone stats,a" ORDER BY time`;
      const res = await until(
        async () => {
          const r = await db.query(q, 'rt');
          return r.series && r.series[0].values.length === 1000 && r;
        },
        20000,
        '1000 points',
      );
      const rows = res.series[0].values;
      rows.forEach((row, k) => {
        const p = expected[k];
        assert.deepStrictEqual(row, [p.timestamp, p.fields.people, p.fields.dwell, p.fields.ok, p.fields.note, k * 1000003, p.tags.camera, 'z,1']);
      });
      const keys = Object.fromEntries((await db.query('SHOW FIELD KEYS FROM "zone stats,a"', 'rt')).series[0].values);
      assert.deepStrictEqual(keys, { big: 'integer', dwell: 'float', note: 'string', ok: 'boolean', people: 'integer' });
      assert.deepStrictEqual(errors, []);
    });
  });

  describe('2.x write API (victoria-metrics through @influxdata/influxdb-client)', function () {
    let vm;
    before(async function () {
      vm = await startVictoria();
    });
    after(async function () {
      if (vm) await vm.destroy();
    });

    const cfg = () => ({
      id: 'cfg',
      type: 'vision-influxdb',
      version: '2.x',
      url: vm.url,
      org: 'plant',
      bucket: 'vision',
      spoolDir: path.join(spoolRoot, 's'),
      maxBackoff: 1,
      replayRate: 100000,
    });

    async function exported(measurement) {
      const series = await vm.exportSeries(`{__name__=~"${measurement}_.*"}`);
      const out = {};
      for (const s of series) {
        const key = `${s.metric.__name__}|${s.metric.camera}`;
        out[key] = s.timestamps.map((t, i) => [t, s.values[i]]);
      }
      return out;
    }

    it('writes points (ns precision) and reads back count, values and timestamps', async function () {
      await helper.load([influxdbNode, writeNode], [cfg(), writer({ precision: 'ns', integerFields: 'people' }), ...catcher], { cfg: { token: 'secret' } });
      const errors = [];
      helper.getNode('caught').on('input', (m) => errors.push(m.error.message));
      const w = helper.getNode('w');
      for (let i = 0; i < 600; i += 20) {
        const batch = [];
        for (let k = i; k < i + 20; k++)
          batch.push({ measurement: 'kpi', tags: { camera: `c${k % 2}` }, fields: { people: k % 5, util: k / 600 }, timestamp: T0 + k * 1000 });
        w.receive({ payload: batch });
      }
      const got = await until(
        async () => {
          const e = await exported('kpi');
          const n = Object.values(e).reduce((a, s) => a + s.length, 0);
          return n === 1200 && e;
        },
        20000,
        '600 points × 2 fields',
      );
      for (const cam of [0, 1]) {
        const ks = [...Array(600).keys()].filter((k) => k % 2 === cam);
        assert.deepStrictEqual(
          got[`kpi_people|c${cam}`],
          ks.map((k) => [T0 + k * 1000, k % 5]),
        );
        // VictoriaMetrics keeps about 12 significant digits of a float.
        const util = got[`kpi_util|c${cam}`];
        assert.deepStrictEqual(
          util.map(([t]) => t),
          ks.map((k) => T0 + k * 1000),
        );
        util.forEach(([, v], i) => assert.ok(Math.abs(v - ks[i] / 600) < 1e-9, `util ${v} vs ${ks[i] / 600}`));
      }
      assert.deepStrictEqual(errors, []);
    });

    it('spools while victoria-metrics is stopped and replays when it is back', async function () {
      await helper.load([influxdbNode, writeNode], [cfg(), writer({ precision: 'ms' }), ...catcher]);
      await until(() => helper.getNode('cfg').stats(), 5000, 'link open');
      await vm.stop();
      const w = helper.getNode('w');
      for (let k = 0; k < 300; k++) w.receive({ payload: { measurement: 'replay2', fields: { v: k }, timestamp: T0 + k } });
      await until(() => helper.getNode('cfg').stats().spool.backlog === 300, 15000, '300 points spooled');
      await vm.start();
      await until(() => helper.getNode('cfg').stats().spool.backlog === 0, 20000, 'replayed');
      const got = await exported('replay2');
      assert.deepStrictEqual(
        got['replay2_v|undefined'],
        [...Array(300).keys()].map((k) => [T0 + k, k]),
      );
    });
  });
});
