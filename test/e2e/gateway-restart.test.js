'use strict';
// The gateway app across a restart, as a supervisor would use it: with no InfluxDB reachable the
// writer spools to disk and its status says how many points it holds; a setting changed on the dashboard (idle delay, in a
// real browser) reaches the running vision-productivity-state node, and after the gateway is stopped
// and started again on the same user dir the control still shows it and the node still runs with it.
// Each gateway runs in a child process (`node -e` with startGateway), stopped with SIGTERM.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const WebSocket = require('ws');
const { startGatewayChild, stopChild } = require('../helpers/gateway-child');
const { asset } = require('../helpers/assets');
const { freePort } = require('../helpers/influx-servers');
const { chromiumPath, launchChromium } = require('../helpers/browser');
const { waitFor, sleep } = require('../helpers/wait');
// Polls servers and browsers: every 200 ms is plenty.
const until = (cond, ms, what) => waitFor(cond, ms, what, 200);

function startChild(userDir, reset, env) {
  const child = /** @type {import('../helpers/gateway-child').GatewayChild & { output?: () => string }} */ (
    startGatewayChild({ port: 0, userDir, resetFlows: reset, realtime: true }, env, 'error')
  );
  child.output = () => child.log().slice(-2000);
  return child;
}

/** Node statuses from the editor's websocket (what the editor shows under each node). */
function watchStatuses(url) {
  const statuses = new Map();
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/comms');
  ws.on('open', () => ws.send(JSON.stringify({ subscribe: 'status/#' })));
  ws.on('message', (data) => {
    for (const m of [].concat(JSON.parse(String(data)))) {
      if (m.topic && m.topic.startsWith('status/')) statuses.set(m.topic.slice(7), m.data || {});
    }
  });
  return { statuses, close: () => ws.close() };
}

describe('gateway app: spooling without a database, dashboard settings across a restart', function () {
  this.timeout(180000);
  let browser, child, userDir, env;

  before(async function () {
    chromiumPath(); // fails now, before any server starts, when chromium is missing
    const nobody = await freePort(); // nothing listens here
    env = {
      EDGEVISION_SOURCE: asset('video/vtest.avi'),
      EDGEVISION_INFLUX_URL: `http://127.0.0.1:${nobody}`,
      EDGEVISION_INFLUX_HOST: '127.0.0.1',
      EDGEVISION_INFLUX_PORT: String(nobody),
      EDGEVISION_INFLUX_PROTOCOL: 'http',
      EDGEVISION_INFLUX_VERSION: '1.x',
      EDGEVISION_INFLUX_DB: 'edgevision',
      EDGEVISION_PROVIDERS: 'cpu',
    };
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-gateway-restart-'));
    browser = await launchChromium();
  });

  after(async function () {
    if (browser) await browser.close();
    if (child) await stopChild(child);
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  const readIdle = (page) =>
    page.evaluate(() => {
      const el = /** @type {HTMLElement | null} */ (document.querySelector('.ev-ctl-idle'));
      const m = el && /(\d+)\s*$/.exec(el.innerText.replace(/[^\d\s]/g, ' ').trim());
      return m ? Number(m[1]) : null;
    });
  const savedConfig = async (url) => {
    const r = await fetch(`${url}/context/node/demo-stations?store=default`);
    const j = await r.json();
    const c = j.default && j.default.config;
    // Kept with the editor settings' fingerprint (nodes/shared/kept-settings.ts).
    return c ? JSON.parse(c.msg).values : null;
  };

  it('with no database it spools to disk and the writer says so', async () => {
    child = startChild(userDir, true, env);
    const url = await until(() => child.url() || (child.exitCode !== null && Promise.reject(new Error(child.output()))), 60000, 'the gateway');
    const w = watchStatuses(url);
    try {
      const st = await until(
        () => {
          const s = w.statuses.get('demo-influx');
          return s && / points held$/.test(s.text || '') ? s : null; // "db unreachable (ECONNREFUSED) — 1 234 points held"
        },
        60000,
        'the writer status to say it holds points',
      );
      console.log(`      vision-influx-write status: ${st.fill} ${st.shape} "${st.text}"`);
      const spool = path.join(userDir, 'edgevision-spool');
      await until(
        () =>
          fs.existsSync(spool) &&
          fs.readdirSync(spool, { recursive: true }).some((f) => fs.statSync(path.join(spool, f)).isFile() && fs.statSync(path.join(spool, f)).size > 0),
        20000,
        'spool files',
      );
    } finally {
      w.close();
    }
  });

  it('a setting changed on the dashboard reaches the node, and both survive a restart', async () => {
    const url = child.url();
    let page = await browser.newPage({ viewport: { width: 1280, height: 1080 } });
    await page.goto(`${url}/ui/`, { waitUntil: 'domcontentloaded' });
    await until(async () => (await readIdle(page)) === 10, 30000, "the idle control to show the flow's 10 s");
    // Two clicks on the control's "up" button: 10 → 12 s.
    const up = page.locator('.ev-ctl-idle button').last();
    await up.click();
    await up.click();
    await until(
      async () => (await savedConfig(url)) && (await savedConfig(url)).idleDelayS === 12,
      20000,
      'vision-productivity-state to keep idleDelayS 12 in its context',
    );
    await page.close();
    await sleep(6000); // the file context store flushes every 5 s (and on close)
    await stopChild(child);

    child = startChild(userDir, false, env);
    const url2 = await until(() => child.url() || (child.exitCode !== null && Promise.reject(new Error(child.output()))), 60000, 'the restarted gateway');
    page = await browser.newPage({ viewport: { width: 1280, height: 1080 } });
    await page.goto(`${url2}/ui/`, { waitUntil: 'domcontentloaded' });
    const shown = await until(
      async () => {
        const v = await readIdle(page);
        return v === 12 ? v : null;
      },
      30000,
      'the idle control to show 12 after the restart',
    );
    assert.strictEqual(shown, 12);
    assert.strictEqual((await savedConfig(url2)).idleDelayS, 12);
    await page.close();
  });
});
