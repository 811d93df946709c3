'use strict';
// The gateway app's front door: it starts cleanly whatever a browser does meanwhile (a kiosk that
// reloads /ui/ every second from the moment `npm start` runs), it refuses to listen beyond loopback
// without a login, and with EDGEVISION_ADMIN_* / EDGEVISION_VIEWER_* the editor, the admin API, the
// dashboard and the video routes all ask for one. Gateways run in child processes stopped by PID.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const WebSocket = require('ws');
const { authSettings } = require('../../flows/gateway.js');
const { startGatewayChild, stopChild } = require('../helpers/gateway-child');
const { asset } = require('../helpers/assets');
const { freePort } = require('../helpers/influx-servers');
const { waitFor, sleep } = require('../helpers/wait');

const until = (cond, ms, what) => waitFor(cond, ms, what, 100);
const basic = (u, p) => ({ authorization: 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64') });

describe('gateway app: start-up under load, logins, and who may reach it', function () {
  this.timeout(180000);
  const dirs = [];
  const children = [];
  let db;
  const userDir = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-gw-sec-'));
    dirs.push(d);
    return d;
  };
  const start = (opts, env) => {
    const c = startGatewayChild(
      { userDir: userDir(), resetFlows: true, realtime: true, ...opts },
      { EDGEVISION_SOURCE: asset('video/vtest.avi'), EDGEVISION_PROVIDERS: 'cpu', EDGEVISION_INFLUX_URL: `http://127.0.0.1:${db}`, ...env },
      'warn',
    );
    children.push(c);
    return c;
  };

  before(async () => {
    db = await freePort(); // nothing listens there: the writer spools, which is fine here
  });
  after(async () => {
    for (const c of children) await stopChild(c);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  describe('logins from the environment', () => {
    it('loopback without logins: none asked; beyond loopback without them: refused, saying why', () => {
      assert.deepStrictEqual(authSettings({}, '127.0.0.1'), {});
      assert.deepStrictEqual(authSettings({}, 'localhost'), {});
      assert.throws(
        () => authSettings({}, '0.0.0.0'),
        /HOST=0\.0\.0\.0 makes the editor reachable from other machines, where anyone could deploy a flow .* set EDGEVISION_ADMIN_USER and EDGEVISION_ADMIN_PASSWORD/,
      );
      assert.throws(() => authSettings({ EDGEVISION_ADMIN_USER: 'a' }, '127.0.0.1'), /set both EDGEVISION_ADMIN_USER and EDGEVISION_ADMIN_PASSWORD/);
      assert.throws(() => authSettings({ EDGEVISION_VIEWER_USER: 'v', EDGEVISION_VIEWER_PASSWORD: 'w' }, '127.0.0.1'), /needs EDGEVISION_ADMIN_USER/);
    });

    it('a password may be given as a bcrypt hash, and is never kept in plain text', () => {
      const hash = '$2b$10$' + 'a'.repeat(53);
      const a = authSettings({ EDGEVISION_ADMIN_USER: 'ops', EDGEVISION_ADMIN_PASSWORD: hash }, '0.0.0.0');
      assert.strictEqual(a.adminAuth.users[0].password, hash);
      const b = authSettings({ EDGEVISION_ADMIN_USER: 'ops', EDGEVISION_ADMIN_PASSWORD: 'Pr1v@te:pw' }, '0.0.0.0');
      assert.match(b.adminAuth.users[0].password, /^\$2[aby]\$10\$/);
      assert.strictEqual(b.adminAuth.users[0].permissions, '*');
    });

    it('HOST=0.0.0.0 with no login: the gateway does not start and says why', async () => {
      const c = start({ host: '0.0.0.0', port: 0 }, {});
      await until(() => c.exitCode !== null, 60000, 'the gateway to exit');
      assert.notStrictEqual(c.exitCode, 0);
      assert.match(c.log(), /anyone could deploy a flow/);
      assert.strictEqual(c.url(), undefined, 'it never listened');
    });

    it('with logins: editor and admin API need a token, a viewer may read but not deploy, the dashboard and video need a login', async () => {
      const c = start(
        { port: 0 },
        { EDGEVISION_ADMIN_USER: 'ops', EDGEVISION_ADMIN_PASSWORD: 'Pr1v@te:pw', EDGEVISION_VIEWER_USER: 'shift', EDGEVISION_VIEWER_PASSWORD: 'look-only' },
      );
      const url = await until(() => c.url() || (c.exitCode !== null && Promise.reject(new Error(c.log()))), 90000, 'the gateway');
      assert.strictEqual((await fetch(`${url}/flows`)).status, 401);
      // As the editor's login form asks: scope '' = whatever the user may do.
      const token = async (username, password) => {
        const r = await fetch(`${url}/auth/token`, {
          method: 'POST',
          body: new URLSearchParams({ client_id: 'node-red-editor', grant_type: 'password', scope: '', username, password }),
        });
        return r.ok ? (await r.json()).access_token : null;
      };
      assert.strictEqual(await token('ops', 'wrong'), null);
      const admin = await token('ops', 'Pr1v@te:pw');
      const viewer = await token('shift', 'look-only');
      assert.ok(admin && viewer);
      const flows = await fetch(`${url}/flows`, { headers: { authorization: `Bearer ${admin}` } });
      assert.strictEqual(flows.status, 200);
      const body = await flows.text();
      assert.strictEqual((await fetch(`${url}/flows`, { headers: { authorization: `Bearer ${viewer}` } })).status, 200);
      const deploy = await fetch(`${url}/flows`, { method: 'POST', headers: { authorization: `Bearer ${viewer}`, 'content-type': 'application/json' }, body });
      assert.ok([401, 403].includes(deploy.status), `a viewer may not deploy (${deploy.status})`);
      for (const route of ['/ui/', '/dashboard', '/vision-view/cam1.jpg']) {
        assert.strictEqual((await fetch(url + route)).status, 401, `${route} without a login`);
        assert.strictEqual((await fetch(url + route, { headers: basic('shift', 'nope') })).status, 401, `${route} with a wrong password`);
      }
      for (const route of ['/ui/', '/dashboard']) assert.strictEqual((await fetch(url + route, { headers: basic('shift', 'look-only') })).status, 200, route);
      const jpg = await until(
        async () => {
          const r = await fetch(`${url}/vision-view/cam1.jpg`, { headers: basic('ops', 'Pr1v@te:pw') });
          return r.status === 200 ? r : null;
        },
        60000,
        'a picture with a login',
      );
      assert.strictEqual(jpg.headers.get('content-type'), 'image/jpeg');
      // The editor's own page still loads (its login form), and the dashboard's socket.io refuses strangers.
      assert.strictEqual((await fetch(`${url}/`)).status, 200);
      // socket.io (engine.io v4 over polling): handshake, ask to join the namespace, read the answer.
      const sioJoin = async (board, headers) => {
        const hs = await (await fetch(`${url}/${board}/socket.io/?EIO=4&transport=polling`, { headers })).text();
        const sid = JSON.parse(hs.slice(1)).sid;
        const at = `${url}/${board}/socket.io/?EIO=4&transport=polling&sid=${sid}`;
        await fetch(at, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: '40' });
        return (await fetch(at, { headers })).text();
      };
      // Dashboard 1 (/ui) and Dashboard 2.0 (/dashboard).
      for (const board of ['ui', 'dashboard']) {
        assert.match(await sioJoin(board, {}), /^44.*login required/, `the ${board} socket refuses a stranger`);
        assert.match(await sioJoin(board, basic('shift', 'look-only')), /^40/, `and lets a viewer in (${board})`);
      }
      assert.doesNotMatch(c.log(), /Pr1v@te|look-only/, 'no password in the log');
    });
  });

  it('starts cleanly while a kiosk hammers /ui/, the editor and its websocket from the first moment', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    let stop = false;
    let answered = 0;
    const hammer = (async () => {
      while (!stop) {
        for (const p of ['/ui/', '/ui/socket.io/?EIO=4&transport=polling', '/', '/flows', '/vision-view/cam1.mjpg']) {
          const ctl = new AbortController();
          const t = setTimeout(() => ctl.abort(), 500);
          await fetch(base + p, { signal: ctl.signal }).then(
            (r) => (answered++, r.body && r.body.cancel()),
            () => undefined,
          );
          clearTimeout(t);
        }
        const ws = new WebSocket(base.replace('http', 'ws') + '/comms');
        ws.on('error', () => undefined);
        ws.on('open', () => ws.close());
        await sleep(50);
      }
    })();
    const c = start({ port }, {});
    try {
      const url = await until(() => c.url() || (c.exitCode !== null && Promise.reject(new Error(c.log()))), 90000, 'the gateway');
      // Flows running: the camera sends frames to the view.
      await until(async () => (await fetch(`${url}/vision-view/cam1.jpg`)).status === 200, 60000, 'frames in the live view');
      const flows = await fetch(`${url}/flows`);
      assert.strictEqual(flows.status, 200);
      assert.ok((await flows.json()).length > 10, 'the demo flow is loaded');
      assert.ok(answered > 0, 'the kiosk was answered once the gateway was up');
    } finally {
      stop = true;
      await hammer;
    }
    const bad = c
      .log()
      .split('\n')
      .filter((l) => /\[(error|fatal)\]|TypeError|Cannot read properties/.test(l));
    assert.deepStrictEqual(bad, [], 'nothing logged as an error during start-up');
  });
});
