'use strict';
// Every example flow in examples/ loaded into a real Node-RED (the gateway app in a child process,
// a temp user dir, the example as its flow file) and run: its nodes start without errors (nothing
// logged at error level, no red status), and each of its debug nodes receives messages (seen on the
// editor's websocket, as the debug sidebar sees them). As a user would run them: no environment
// variables; the demo clip and model put into the user dir by `edgevision fetch-assets --user-dir
// DIR --from <shared assets>` (EDGEVISION_ASSETS is unset for the child, so the nodes must find them
// there, and the log must say so); the influx example's connection edited to point at a real influxd
// started here, which must then hold its points. The view example's picture is fetched over HTTP;
// the HTTP example is sent a real photo (COCO 1000, 12 people) and must answer with them. One
// child per example: a fresh runtime each, as after an import.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const sharp = require('sharp');
const WebSocket = require('ws');
const { execFileSync } = require('child_process');
const { startGatewayChild, stopChild: stopGatewayChild, ROOT } = require('../helpers/gateway-child');
const { asset, assetsDir } = require('../helpers/assets');
const { startInfluxd, stopAll } = require('../helpers/influx-servers');
const { waitFor } = require('../helpers/wait');
// Polls servers and browsers: every 200 ms is plenty.
const until = (cond, ms, what) => waitFor(cond, ms, what, 200);

const DIR = path.join(ROOT, 'examples');

/** Node-RED with the example, its assets in the user dir and none anywhere else (info level: the log says where files came from). */
function startChild(userDir, flowFile) {
  const env = { EDGEVISION_ASSETS: undefined, EDGEVISION_ASSETS_FROM: undefined, EDGEVISION_SOURCE: undefined, EDGEVISION_MODEL: undefined };
  for (const k of Object.keys(process.env)) if (k.startsWith('EDGEVISION_INFLUX_')) env[k] = undefined;
  return startGatewayChild({ port: 0, userDir, flowFile, resetFlows: true }, env, 'info');
}

/** What a user runs once: the CLI puts the demo clip and the model into <userDir>/edgevision. */
function fetchAssetsInto(userDir) {
  execFileSync(process.execPath, [path.join(ROOT, 'bin', 'edgevision.js'), 'fetch-assets', '--user-dir', userDir, '--from', assetsDir()], {
    stdio: 'pipe',
    env: { ...process.env, EDGEVISION_ASSETS_FROM: '' },
  });
}

function stopChild(child) {
  return stopGatewayChild(child, 10000);
}

/** Debug messages and node statuses from the editor's websocket. */
function watch(url) {
  const debug = new Map();
  const statuses = new Map();
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/comms');
  ws.on('open', () => {
    ws.send(JSON.stringify({ subscribe: 'debug' }));
    ws.send(JSON.stringify({ subscribe: 'status/#' }));
  });
  ws.on('message', (data) => {
    for (const m of [].concat(JSON.parse(String(data)))) {
      if (m.topic === 'debug' && m.data) debug.set(m.data.id, (debug.get(m.data.id) || 0) + 1);
      else if (m.topic && m.topic.startsWith('status/')) statuses.set(m.topic.slice(7), m.data || {});
    }
  });
  ws.on('error', () => undefined); // a socket still connecting when the test ends is closed quietly
  const close = () => (ws.readyState === WebSocket.CONNECTING ? ws.once('open', () => ws.close()) : ws.close());
  return { debug, statuses, close };
}

describe('examples: every flow loads into Node-RED and runs', function () {
  this.timeout(240000);
  let db, userDir;

  before(async function () {
    db = await startInfluxd();
    await db.createDatabase('examples');
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-examples-'));
  });

  after(async function () {
    if (db) await db.destroy();
    await stopAll();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  const files = fs
    .readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();

  it('has one example per node type, each with a comment node saying what it shows', () => {
    const types = new Set();
    for (const f of files) {
      const flow = JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8'));
      const comments = flow.filter((n) => n.type === 'comment');
      assert.ok(comments.length >= 1 && comments[0].name.length > 10 && comments[0].info.length > 40, `${f}: a comment with a title and an explanation`);
      for (const n of flow) if (n.type.startsWith('vision-')) types.add(n.type);
      // The dashboard examples use their dashboard's nodes too (Dashboard 2.0: ui-*, Dashboard 1: ui_*).
      const dashboard = /dashboard-2/.test(f) ? /^ui-/ : /dashboard-1/.test(f) ? /^ui_/ : null;
      const foreign = flow.filter(
        (n) =>
          !n.type.startsWith('vision-') &&
          !(dashboard && dashboard.test(n.type)) &&
          !['tab', 'comment', 'debug', 'inject', 'function', 'switch', 'change', 'delay', 'http in', 'http response', 'catch'].includes(n.type),
      );
      assert.deepStrictEqual(
        foreign.map((n) => n.type),
        [],
        `${f}: core nodes only besides ours (and its dashboard's)`,
      );
      // Imported into any Node-RED, an example must run as it is: no ${EDGEVISION_…} to set first.
      assert.deepStrictEqual(JSON.stringify(flow).match(/\$\{EDGEVISION_\w+\}/g), null, `${f}: no environment variables`);
    }
    // Every node type the package registers appears in at least one example.
    for (const t of Object.keys(require('../../package.json')['node-red'].nodes)) {
      assert.ok(types.has(t), `an example uses ${t}`);
    }
  });

  for (const file of files) {
    it(`${file}: starts without errors and every debug node receives messages`, async () => {
      const flow = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'));
      const ids = new Set(flow.map((n) => n.id));
      const debugs = flow.filter((n) => n.type === 'debug' && n.name !== 'rejected by the server');
      const dir = path.join(userDir, file.replace(/\.json$/, ''));
      fetchAssetsInto(dir);
      // The influx example's connection, edited as a user would to reach their server.
      for (const n of flow) if (n.type === 'vision-influxdb') Object.assign(n, { host: '127.0.0.1', port: db.port, database: 'examples' });
      const flowFile = path.join(userDir, file);
      fs.writeFileSync(flowFile, JSON.stringify(flow));
      const child = startChild(dir, flowFile);
      let w = null;
      try {
        const url = await until(() => child.url() || (child.exitCode !== null && Promise.reject(new Error(child.log()))), 60000, 'Node-RED to start');
        w = watch(url);
        if (file.includes('http')) {
          // The comment's curl command, as fetch: the answer is JSON with the photo's people.
          // The URL is printed when the server listens; the route exists once the flow has started.
          const r = await until(
            async () => {
              const x = await fetch(`${url}/detect`, {
                method: 'POST',
                headers: { 'Content-Type': 'image/jpeg' },
                body: fs.readFileSync(asset('images/coco/000000001000.jpg')),
              });
              return x.status === 404 ? null : x;
            },
            30000,
            'the /detect route',
          );
          const text = await r.text();
          assert.strictEqual(r.status, 200, text);
          const answer = JSON.parse(text);
          assert.deepStrictEqual([answer.width, answer.height], [640, 480]);
          const people = answer.detections.filter((d) => d.label === 'person');
          assert.ok(people.length >= 8, `people in COCO 1000 (12 there): ${text}`);
          for (const d of answer.detections) assert.ok(d.box.length === 4 && d.score >= 0.5 && d.box[2] <= 640 && d.box[3] <= 480, JSON.stringify(d));
        }
        await until(() => debugs.every((d) => w.debug.get(d.id) > 0), 45000, `messages at ${debugs.map((d) => d.name).join(', ')}`);
        if (file.includes('view')) {
          const r = await until(
            async () => {
              const x = await fetch(`${url}/vision-view/cam1.jpg`);
              return x.status === 200 ? x : null;
            },
            10000,
            'the view snapshot',
          );
          assert.strictEqual(r.headers.get('content-type'), 'image/jpeg');
          assert.strictEqual((await sharp(Buffer.from(await r.arrayBuffer())).metadata()).width, 768);
        }
        if (file.includes('dashboard')) {
          // The dashboard page is served (the browser tests are test/e2e/dashboard2.test.js).
          const page = file.includes('dashboard-2') ? '/dashboard' : '/ui/';
          const r = await until(
            async () => {
              const x = await fetch(`${url}${page}`);
              return x.status === 200 ? x : null;
            },
            10000,
            `the page ${page}`,
          );
          assert.match(r.headers.get('content-type'), /html/);
          if (file.includes('dashboard-2')) {
            // Each widget's status: set to its vision node and running (green), not waiting on a missing one.
            const widgets = flow.filter((n) => n.type.startsWith('vision-ui-'));
            await until(() => widgets.every((n) => w.statuses.get(n.id) && w.statuses.get(n.id).fill === 'green'), 30000, 'every widget running');
          }
        }
        if (file.includes('influx')) {
          await until(
            async () => (await db.scalar('SELECT COUNT("celsius") FROM "example_temperature"', 'examples')) > 0,
            15000,
            'the example points in InfluxDB',
          );
        }
        // Found in the user dir, not anywhere else.
        const log = child.log();
        const assetsIn = path.join(dir, 'edgevision');
        if (flow.some((n) => n.type === 'vision-camera-source'))
          assert.ok(log.includes(`vtest is ${path.join(assetsIn, 'vtest.avi')}`), `the clip from the user dir:\n${log}`);
        if (flow.some((n) => n.type === 'vision-model'))
          assert.ok(log.includes(`${path.join(assetsIn, 'yolox_nano.onnx')}: yolox`), `the model from the user dir:\n${log}`);
        const errors = log.split('\n').filter((l) => /\[(error|fatal)\]/.test(l));
        assert.deepStrictEqual(errors, [], 'nothing logged at error level');
        const red = [...ids].filter((id) => w.statuses.get(id) && w.statuses.get(id).fill === 'red');
        assert.deepStrictEqual(
          red.map((id) => `${id}: ${w.statuses.get(id).text}`),
          [],
          'no red status',
        );
      } finally {
        if (w) w.close();
        await stopChild(child);
      }
    });
  }
});
