'use strict';
// Every example flow in examples/ deployed into a real Node-RED (the gateway app, a temp user dir)
// and run: its nodes start without errors (nothing logged at error level, no red status on our
// nodes), and each of its debug nodes receives messages. Assets come through env vars, as the
// examples' comments tell users: EDGEVISION_SOURCE (the demo clip) and EDGEVISION_INFLUX_* (a real
// influxd started here, which must then hold the influx example's points). The view example's
// picture is fetched over HTTP.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const sharp = require('sharp');
const { asset } = require('../helpers/assets');
const { startInfluxd, stopAll, sleep } = require('../helpers/influx-servers');

const ROOT = path.join(__dirname, '..', '..');
const DIR = path.join(ROOT, 'examples');
const LEVEL = { fatal: 10, error: 20, warn: 30 };

function extraSettings() {
  const listed = require('../../package.json')['node-red'].nodes['vision-view'];
  return listed ? {} : { nodesDir: [path.join(ROOT, 'dist', 'nodes', 'view')] };
}

async function until(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}

describe('examples: every flow loads into Node-RED and runs', function () {
  this.timeout(240000);
  let gw, db, userDir;
  const logs = [];
  const delivered = new Map(); // destination node id → messages received
  const statuses = new Map(); // node id → last status

  before(async function () {
    db = await startInfluxd();
    await db.createDatabase('examples');
    Object.assign(process.env, {
      EDGEVISION_SOURCE: asset('video/vtest.avi'),
      EDGEVISION_INFLUX_HOST: '127.0.0.1',
      EDGEVISION_INFLUX_PORT: String(db.port),
      EDGEVISION_INFLUX_DB: 'examples',
    });
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-examples-'));
    const empty = path.join(userDir, 'empty.json');
    fs.writeFileSync(empty, '[]');
    const capture = { level: 'warn', metrics: false, audit: false, handler: () => (m) => logs.push(m) };
    gw = await require('../../flows/gateway.js').startGateway({
      port: 0,
      userDir,
      flowFile: empty,
      resetFlows: true,
      settings: { ...extraSettings(), logging: { console: { level: 'off' }, capture } },
    });
    gw.RED.hooks.add('postDeliver.examples-test', (ev) => {
      const id = ev.destination && ev.destination.id;
      if (id) delivered.set(id, (delivered.get(id) || 0) + 1);
    });
    gw.RED.events.on('node-status', (s) => statuses.set(s.id, s.status || {}));
  });

  after(async function () {
    if (gw) {
      gw.RED.hooks.remove('*.examples-test');
      await gw.stop();
    }
    if (db) await db.destroy();
    await stopAll();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  async function deploy(flow) {
    const r = await fetch(`${gw.url}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flow),
    });
    assert.strictEqual(r.status, 204, `deploy: ${r.status} ${await r.text()}`);
  }

  const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

  it('has one example per node type, each with a comment node saying what it shows', () => {
    const types = new Set();
    for (const f of files) {
      const flow = JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8'));
      const comments = flow.filter((n) => n.type === 'comment');
      assert.ok(comments.length >= 1 && comments[0].name.length > 10 && comments[0].info.length > 40, `${f}: a comment with a title and an explanation`);
      for (const n of flow) if (n.type.startsWith('vision-')) types.add(n.type);
      const foreign = flow.filter((n) => !n.type.startsWith('vision-') && !['tab', 'comment', 'debug', 'inject', 'function', 'switch', 'change', 'delay'].includes(n.type));
      assert.deepStrictEqual(foreign.map((n) => n.type), [], `${f}: core nodes only besides ours`);
    }
    for (const t of ['vision-camera-source', 'vision-model', 'vision-detect', 'vision-track', 'vision-line-count', 'vision-productivity-state', 'vision-influxdb', 'vision-influx-write', 'vision-view']) {
      assert.ok(types.has(t), `an example uses ${t}`);
    }
  });

  for (const file of files) {
    it(`${file}: starts without errors and every debug node receives messages`, async () => {
      const flow = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'));
      const ids = new Set(flow.map((n) => n.id));
      const debugs = flow.filter((n) => n.type === 'debug' && n.name !== 'rejected by the server' && n.name !== 'InfluxDB points');
      const from = logs.length;
      for (const id of ids) {
        delivered.delete(id);
        statuses.delete(id);
      }
      await deploy(flow);
      await until(() => debugs.every((d) => delivered.get(d.id) > 0), 45000, `messages at ${debugs.map((d) => d.name).join(', ')}`);
      if (file.includes('view')) {
        const r = await until(async () => {
          const x = await fetch(`${gw.url}/vision-view/cam1.jpg`);
          return x.status === 200 ? x : null;
        }, 10000, 'the view snapshot');
        assert.strictEqual(r.headers.get('content-type'), 'image/jpeg');
        assert.strictEqual((await sharp(Buffer.from(await r.arrayBuffer())).metadata()).width, 768);
      }
      if (file.includes('influx')) {
        await until(async () => (await db.scalar('SELECT COUNT("celsius") FROM "example_temperature"', 'examples')) > 0, 15000, 'the example points in InfluxDB');
      }
      const errors = logs.slice(from).filter((m) => m.level <= LEVEL.error && (!m.id || ids.has(m.id)));
      assert.deepStrictEqual(errors.map((m) => `${m.type}: ${m.msg}`), []);
      const red = [...ids].filter((id) => statuses.get(id) && statuses.get(id).fill === 'red');
      assert.deepStrictEqual(red.map((id) => `${id}: ${statuses.get(id).text}`), [], 'no red status');
    });
  }
});
