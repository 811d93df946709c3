'use strict';
// The gateway app end to end: startGateway() on a free port with a temp user dir and the demo flow
// (in a child process, stopped with SIGTERM, so that nothing it leaves behind touches this one)
// (vtest.avi at full speed, looping) → the real yolox_nano, tracker, counter, stations → a real
// InfluxDB 1.x (influxd) and the dashboard, opened in headless Chromium (playwright-core driving
// Debian's chromium). It fails if the page shows no video, if the counters never move, or if the
// database misses line, zone, station or health points. The screenshot goes to test/output/, and with
// EDGEVISION_UPDATE_SCREENSHOT=1 also to docs/images/ (the README's picture).
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const sharp = require('sharp');
const { startInfluxd, stopAll } = require('../helpers/influx-servers');
const { chromiumPath, launchChromium } = require('../helpers/browser');
const { startGatewayChild, stopChild, ROOT } = require('../helpers/gateway-child');
require('../helpers/assets');
const { waitFor, sleep } = require('../helpers/wait');
// Polls servers and browsers: every 200 ms is plenty.
const until = (cond, ms, what) => waitFor(cond, ms, what, 200);

const DB = 'edgevision';
// The demo runs this long in all (the brief: a short CI run at full speed instead of minutes in real time).
const DEMO_MS = Number(process.env.EDGEVISION_E2E_DEMO_MS || 75000);

function startChild(opts, env) {
  return startGatewayChild(opts, env, 'warn');
}

describe('gateway app: demo flow, dashboard in Chromium, points in InfluxDB', function () {
  this.timeout(300000);
  let db, gw, url, browser, page, userDir;
  const t0 = Date.now();
  const seen = {};

  before(async function () {
    chromiumPath(); // fails now, before any server starts, when chromium is missing
    db = await startInfluxd();
    await db.createDatabase(DB);
    const env = {
      EDGEVISION_INFLUX_URL: db.url,
      EDGEVISION_INFLUX_HOST: '127.0.0.1',
      EDGEVISION_INFLUX_PORT: String(db.port),
      EDGEVISION_INFLUX_PROTOCOL: 'http',
      EDGEVISION_INFLUX_VERSION: '1.x',
      EDGEVISION_INFLUX_DB: DB,
      EDGEVISION_PROVIDERS: 'cpu',
      // At full speed the clip decodes far ahead of the detector; a deeper frame store keeps each
      // frame's own pixels until the view draws its boxes on them.
      EDGEVISION_FRAME_STORE_CAPACITY: '64',
    };
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-gateway-'));
    gw = startChild({ port: 0, userDir, resetFlows: true, realtime: false }, env);
    url = await until(() => gw.url() || (gw.exitCode !== null && Promise.reject(new Error(gw.log()))), 60000, 'the gateway to start');
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    page.on('pageerror', (e) => console.log(`      page error: ${e.message}`));
    await page.goto(`${url}/ui/`, { waitUntil: 'domcontentloaded' });
  });

  after(async function () {
    if (browser) await browser.close();
    if (gw) await stopChild(gw);
    if (db) await db.destroy();
    await stopAll();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('shows live video: the <img> has frames and they change', async () => {
    await page.waitForSelector('#ev-video-img', { timeout: 60000 });
    const size = await until(
      () => page.evaluate(() => /** @type {HTMLImageElement} */ (document.getElementById('ev-video-img')).naturalWidth),
      60000,
      'a first video frame',
    );
    assert.ok(size >= 320, `naturalWidth ${size}`);
    // A fingerprint of the picture: the browser decodes the MJPEG stream; same origin, so readable.
    const print = () =>
      page.evaluate(() => {
        const img = /** @type {HTMLImageElement} */ (document.getElementById('ev-video-img'));
        const c = document.createElement('canvas');
        c.width = 64;
        c.height = 48;
        const g = c.getContext('2d');
        g.drawImage(img, 0, 0, 64, 48);
        const d = g.getImageData(0, 0, 64, 48).data;
        let h = 0;
        for (let i = 0; i < d.length; i += 4) h = (h * 31 + d[i] + d[i + 1] * 3 + d[i + 2] * 7) >>> 0;
        return h;
      });
    const first = await print();
    const changed = await until(async () => (await print()) !== first, 30000, 'the video to change');
    seen.videoWidth = size;
    assert.ok(changed);
  });

  it('counts move: the "In" or "Out" tile shows people counted', async () => {
    const read = (cls) =>
      page.evaluate((c) => {
        const el = /** @type {HTMLElement | null} */ (document.querySelector('.' + c));
        const m = el && /(\d+)\s*$/.exec(el.innerText.trim());
        return m ? Number(m[1]) : null;
      }, cls);
    const counts = await until(
      async () => {
        const i = await read('ev-kpi-in');
        const o = await read('ev-kpi-out');
        return i !== null && o !== null && i + o > 0 ? { in: i, out: o } : null;
      },
      90000,
      'a count above 0 in the In/Out tiles',
    );
    seen.counts = counts;
    console.log(`      tiles: in ${counts.in}, out ${counts.out} after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  });

  it('saves a screenshot of the whole dashboard (test/output/dashboard.png, < 500 kB)', async () => {
    // Let the charts, timeline and event table fill a little before the picture.
    await sleep(Math.max(0, Math.min(20000, t0 + 45000 - Date.now())));
    // The dashboard lays its groups out in columns once the page has its size: wait until no two
    // group cards overlap (a picture taken mid-layout shows them stacked on each other).
    const overlaps = () =>
      page.evaluate(() => {
        const r = [...document.querySelectorAll('ui-card-panel')].map((e) => e.getBoundingClientRect()).filter((b) => b.width > 0 && b.height > 0);
        let n = 0;
        for (let i = 0; i < r.length; i++)
          for (let j = i + 1; j < r.length; j++)
            if (r[i].left < r[j].right - 1 && r[j].left < r[i].right - 1 && r[i].top < r[j].bottom - 1 && r[j].top < r[i].bottom - 1) n++;
        return { groups: r.length, overlaps: n };
      });
    const layout = await until(
      async () => {
        const o = await overlaps();
        return o.groups >= 7 && o.overlaps === 0 ? o : null;
      },
      20000,
      'the seven dashboard groups laid out without overlapping',
    );
    assert.strictEqual(layout.overlaps, 0);
    await sleep(500);
    const png = await page.screenshot();
    const small = await sharp(png).png({ palette: true, quality: 90, compressionLevel: 9 }).toBuffer();
    // test/output always; the README's picture in docs/images only when asked, so a test run never
    // leaves a tracked file modified.
    const dirs = [path.join(ROOT, 'test', 'output')];
    if (process.env.EDGEVISION_UPDATE_SCREENSHOT === '1') dirs.push(path.join(ROOT, 'docs', 'images'));
    for (const dir of dirs) {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'dashboard.png'), small);
    }
    const meta = await sharp(small).metadata();
    console.log(`      screenshot ${meta.width}×${meta.height}, ${(small.length / 1024).toFixed(0)} kB`);
    assert.ok(small.length < 500 * 1024, `${small.length} bytes`);
    const text = await page.evaluate(() => document.body.innerText);
    for (const s of ['Live', 'Utilisation', 'Events', 'Health', 'Detection confidence']) assert.ok(text.includes(s), `the page shows "${s}"`);
  });

  it('after the demo has run, InfluxDB holds line, zone, station and health points', async () => {
    await sleep(Math.max(0, t0 + DEMO_MS - Date.now()));
    const count = async (m, field) => db.scalar(`SELECT COUNT("${field}") FROM "${m}"`, DB);
    const want = { line_crossings: 'count', zone_occupancy: 'occupancy', station_kpi: 'working_s', pipeline_health: 'fps' };
    const got = await until(
      async () => {
        const r = {};
        for (const [m, f] of Object.entries(want)) r[m] = await count(m, f);
        return Object.values(r).every((n) => n > 0) ? r : null;
      },
      30000,
      `points in every measurement (${Object.keys(want).join(', ')})`,
    );
    got.station_state = await count('station_state', 'state_code');
    console.log(`      points after ${((Date.now() - t0) / 1000).toFixed(0)} s: ${JSON.stringify(got)}`);
    const crossings = await db.scalar(`SELECT SUM("delta") FROM "line_crossings"`, DB);
    assert.ok(crossings > 0, `line crossings in the database: ${crossings}`);
  });
});
