'use strict';
// The package as a user gets it: `npm pack` of this checkout, a fresh Node-RED user dir, the
// Dockerfile's install script (docker/install.sh: `npm install <tarball>` with no environment
// variable, no .npmrc, a fresh HOME and npm cache), `npx edgevision fetch-assets --user-dir`, a
// plain Node-RED (not our gateway) started on that user dir, and every example under Import ▸
// Examples deployed through the admin API as the editor's import + deploy would. Each example's
// debug nodes must receive messages (seen on the editor's comms websocket, as the debug sidebar
// sees them), no node may turn red, and Node-RED's log must stay free of errors — including ONNX
// Runtime's "Failed to load library" lines on this CPU-only machine.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, execFileSync } = require('child_process');
const WebSocket = require('ws');
const { assetsDir } = require('../helpers/assets');
const { startInfluxd, stopAll, freePort } = require('../helpers/influx-servers');
const { waitFor } = require('../helpers/wait');

const ROOT = path.join(__dirname, '..', '..');
const PKG = require('../../package.json');
const until = (cond, ms, what) => waitFor(cond, ms, what, 200);

/** PATH and a private HOME: nothing of the developer's or CI's npm config leaks in. */
function cleanEnv(home) {
  const env = { PATH: process.env.PATH, HOME: home, TMPDIR: process.env.TMPDIR || os.tmpdir(), LANG: 'C.UTF-8' };
  return env;
}

function run(cmd, args, opts) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024, ...opts });
}

/** Debug messages (by debug node id) and node statuses from the editor's websocket. */
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
      if (m.topic === 'debug' && m.data) {
        const list = debug.get(m.data.id) || [];
        list.push(m.data);
        debug.set(m.data.id, list);
      } else if (m.topic && m.topic.startsWith('status/')) statuses.set(m.topic.slice(7), m.data || {});
    }
  });
  return { debug, statuses, reset: () => (debug.clear(), statuses.clear()), close: () => ws.close() };
}

describe('installed as users do: npm pack → npm install in a fresh user dir → plain Node-RED → every example', function () {
  this.timeout(900000);
  let tmp,
    userDir,
    tarball,
    red,
    redLog = '',
    url,
    w,
    db,
    installLog;

  before(async function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-palette-'));
    const home = path.join(tmp, 'home');
    fs.mkdirSync(home);
    userDir = path.join(tmp, 'user');
    fs.mkdirSync(userDir);
    // The checkout's own pack. `npm test` has just built dist/ and `prepare` vendored ONNX Runtime;
    // --ignore-scripts keeps the pack from rebuilding dist/ under the running test suite.
    const packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: ROOT }));
    tarball = path.join(tmp, packed[0].filename);
    // The Dockerfile's build steps, here without apt (ffmpeg is on the PATH) and without Docker.
    installLog = run('sh', [path.join(ROOT, 'docker', 'install.sh'), userDir], {
      cwd: tmp,
      env: { ...cleanEnv(home), EDGEVISION_PACKAGE: tarball, EDGEVISION_SKIP_APT: '1' },
    });
    // The dashboards a user installs beside the package (docs/nodes/dashboard-widgets.md), from the
    // npm registry, at the versions this checkout develops against: the dashboard examples need them.
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')).packages;
    const dashboards = ['@flowfuse/node-red-dashboard', 'node-red-dashboard'].map((d) => `${d}@${lock[`node_modules/${d}`].version}`);
    run('npm', ['install', '--no-audit', '--no-fund', ...dashboards], { cwd: userDir, env: cleanEnv(home) });
    run(path.join(userDir, 'node_modules', '.bin', 'edgevision'), ['fetch-assets', '--user-dir', userDir, '--from', assetsDir()], { env: cleanEnv(home) });
    db = await startInfluxd();
    const port = await freePort();
    // A plain Node-RED (the version this project develops against) on that user dir, default settings.
    red = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--port', String(port)], {
      env: cleanEnv(home),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    red.stdout.on('data', (d) => (redLog += d));
    red.stderr.on('data', (d) => (redLog += d));
    url = `http://127.0.0.1:${port}`;
    await until(
      async () => {
        if (red.exitCode !== null) throw new Error(`Node-RED exited: ${redLog}`);
        return (
          /Started flows|Server now running/.test(redLog) &&
          (await fetch(`${url}/settings`).then(
            (r) => r.ok,
            () => false,
          ))
        );
      },
      60000,
      'Node-RED to start',
    );
    w = watch(url);
  });

  after(async function () {
    if (w) w.close();
    if (red && red.exitCode === null) {
      red.kill('SIGTERM');
      await until(() => red.exitCode !== null, 15000, 'Node-RED to stop').catch(() => red.kill('SIGKILL'));
    }
    if (db) await db.destroy();
    await stopAll();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('installs with no environment variable and downloads nothing from outside the npm registry', () => {
    const pkgDir = path.join(userDir, 'node_modules', '@edgevision', 'node-red-vision');
    assert.ok(fs.existsSync(path.join(pkgDir, 'dist', 'nodes', 'detect', 'detect.js')), 'dist/ is in the package');
    assert.doesNotMatch(installLog, /nuget|onnxruntime-node-install|ENOTFOUND/i);
    const bin = path.join(pkgDir, 'vendor', 'onnxruntime-node', 'bin', 'napi-v6', process.platform, process.arch);
    assert.deepStrictEqual(
      fs.readdirSync(bin).filter((f) => /providers/.test(f)),
      [],
      'no CUDA provider library was fetched',
    );
    assert.ok(!fs.existsSync(path.join(userDir, 'node_modules', 'onnxruntime-node')), 'no onnxruntime-node with its downloader');
    assert.match(installLog, /cpu\s+available/, "install.sh's smoke check ran the binding");
    // The assets went to the user dir, where a palette update cannot wipe them.
    assert.ok(fs.existsSync(path.join(userDir, 'edgevision', 'yolox_nano.onnx')));
    assert.ok(!fs.existsSync(path.join(pkgDir, 'models', 'yolox_nano.onnx')));
  });

  it('the tarball holds what a palette user needs and nothing of the development kit', () => {
    const list = run('tar', ['-tzf', tarball]).split('\n').filter(Boolean);
    assert.deepStrictEqual(
      list.filter((f) => /\.map$|\/cli\/bench\/|^package\/(flows|test|scripts|docs)\//.test(f)),
      [],
    );
    for (const f of ['package/LICENSE', 'package/README.md', 'package/CHANGELOG.md', 'package/models/manifest.json']) assert.ok(list.includes(f), f);
    for (const t of Object.keys(PKG['node-red'].nodes)) {
      const js = `package/${PKG['node-red'].nodes[t]}`;
      assert.ok(list.includes(js) && list.includes(js.replace(/\.js$/, '.html')), `${t}: .js and .html`);
    }
    // The Dashboard 2.0 widgets' browser code (npm run build makes it; Node-RED serves it from resources/).
    for (const w of Object.values(PKG['node-red-dashboard-2'].widgets)) assert.ok(list.includes(`package/resources/${w.output}`), w.output);
  });

  it('Node-RED loads all the node types of the module, without errors', async () => {
    const r = await fetch(`${url}/nodes`, { headers: { accept: 'application/json' } });
    const sets = (await r.json()).filter((s) => s.module === PKG.name);
    assert.deepStrictEqual(
      sets.filter((s) => s.err).map((s) => `${s.name}: ${s.err}`),
      [],
    );
    assert.deepStrictEqual(sets.flatMap((s) => s.types).sort(), Object.keys(PKG['node-red'].nodes).sort());
    // Where a Dashboard 2.0 installed beside us loads our widgets from.
    for (const w of Object.values(PKG['node-red-dashboard-2'].widgets)) {
      const res = await fetch(`${url}/resources/${PKG.name}/${w.output}`);
      assert.strictEqual(res.status, 200, `/resources/${PKG.name}/${w.output}`);
      assert.ok((await res.text()).includes(w.component), w.component);
    }
    const ex = await fetch(`${url}/library/_examples_/`).then(
      (x) => (x.ok ? x.json() : null),
      () => null,
    );
    if (ex) assert.ok(JSON.stringify(ex).includes(PKG.name), 'the examples are offered under Import ▸ Examples');
  });

  const examplesDir = path.join(ROOT, 'examples');
  for (const file of fs
    .readdirSync(examplesDir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    it(`${file}: deployed as imported, runs, no red status, nothing logged as an error`, async function () {
      // The installed package's copy: what Import ▸ Examples offers.
      let flow = JSON.parse(fs.readFileSync(path.join(userDir, 'node_modules', PKG.name, 'examples', file), 'utf8'));
      // What a user edits after import: the database's address (our influxd runs on a free port).
      flow = flow.map((n) => (n.type === 'vision-influxdb' ? { ...n, host: '127.0.0.1', port: String(db.port), url: db.url } : n));
      for (const n of flow) if (n.type === 'vision-influxdb' && n.database) await db.createDatabase(n.database);
      const logBefore = redLog.length;
      w.reset();
      const r = await fetch(`${url}/flows`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
        body: JSON.stringify(flow),
      });
      assert.ok(r.status === 200 || r.status === 204, `deploy: ${r.status} ${await r.text()}`);
      const debugs = flow.filter((n) => n.type === 'debug' && n.active !== false && !/rejected/.test(n.name || ''));
      const httpIn = flow.find((n) => n.type === 'http in');
      if (httpIn) {
        // A request/response example: POST a real photo, as its comment says.
        const img = fs.readFileSync(path.join(assetsDir(), 'images', 'coco', '000000001000.jpg'));
        const res = await until(
          async () => {
            const x = await fetch(`${url}${httpIn.url}`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: img });
            return x.status === 404 ? null : x;
          },
          30000,
          'the http endpoint',
        );
        assert.strictEqual(res.status, 200, await res.clone().text());
        const body = await res.json();
        assert.ok(body.detections.filter((d) => d.label === 'person').length >= 5, JSON.stringify(body).slice(0, 300));
      }
      await until(() => debugs.every((d) => (w.debug.get(d.id) || []).length > 0), 60000, `messages at ${debugs.map((d) => d.name || d.id).join(', ')}`);
      for (const n of flow.filter((x) => x.type === 'vision-influxdb' && x.database)) {
        await until(async () => ((await db.query('SHOW MEASUREMENTS', n.database)).series || []).length > 0, 30000, `points in database ${n.database}`);
      }
      // A dashboard example: its page is served, and Dashboard 2.0 finds our widgets' bundles in the package.
      for (const base of flow.filter((n) => n.type === 'ui-base' || n.type === 'ui_base')) {
        const page = await until(
          async () => (await fetch(`${url}${base.type === 'ui-base' ? base.path : '/ui'}/`)).status === 200,
          30000,
          `the dashboard page of ${file}`,
        );
        assert.ok(page);
      }
      for (const widget of new Set(flow.filter((n) => n.type.startsWith('vision-ui-')).map((n) => n.type))) {
        const res = await fetch(`${url}/resources/${PKG.name}/${widget}.umd.js`);
        assert.strictEqual(res.status, 200, `${widget}'s bundle`);
      }
      const ids = new Set(flow.map((n) => n.id));
      const red = [...ids].filter((id) => w.statuses.get(id) && w.statuses.get(id).fill === 'red');
      assert.deepStrictEqual(
        red.map((id) => `${id}: ${w.statuses.get(id).text}`),
        [],
        'no red status',
      );
      const log = redLog.slice(logBefore);
      assert.deepStrictEqual(
        log.split('\n').filter((l) => /\[(error|fatal)\]|Failed to load library|ONNXRuntimeError/.test(l)),
        [],
        'nothing logged as an error',
      );
    });
  }

  it("the whole run's log is free of errors and of ONNX Runtime's provider noise", () => {
    assert.deepStrictEqual(
      redLog.split('\n').filter((l) => /\[(error|fatal)\]|Failed to load library|providers_shared/.test(l)),
      [],
    );
  });
});
