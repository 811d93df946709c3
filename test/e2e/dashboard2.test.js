'use strict';
// The demo on both dashboards, in headless Chromium (playwright-core driving Debian's chromium): the
// gateway app (flows/gateway.js, in a child process) with the demo flow in real time — vtest.avi,
// the real yolox_nano, tracker, counter, stations — serving Dashboard 2.0 at /dashboard and
// Dashboard 1 at /ui. Each of our Dashboard 2.0 widgets must show what its vision node does and
// update without a reload: the live view's MJPEG picture changes (and with the stream blocked, its
// still pictures do), the tiles count people, the timeline draws both stations, the event table
// fills. At a phone's width (390 px) nothing is wider than the screen and the video keeps its
// proportions (nothing cropped). The widget bundles must be served under /resources and be named in
// package.json's "files" (palette-install.test.js checks the real tarball). Screenshots (desktop and
// phone, both dashboards) go to test/output/, and with EDGEVISION_UPDATE_SCREENSHOT=1 Dashboard 2.0's
// also to docs/images/ (the README's pictures).
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const sharp = require('sharp');
const { chromiumPath, launchChromium } = require('../helpers/browser');
const { startGatewayChild, stopChild, ROOT } = require('../helpers/gateway-child');
require('../helpers/assets');
const { waitFor } = require('../helpers/wait');
// Polls a browser: every 200 ms is plenty.
const until = (cond, ms, what) => waitFor(cond, ms, what, 200);

const PKG = require('../../package.json');
const WIDGETS = PKG['node-red-dashboard-2'].widgets;
const PHONE = { width: 390, height: 844 };

/** A fingerprint of an <img>'s current picture (same origin, so the canvas is readable). */
function imagePrint(page, selector) {
  return page.evaluate((sel) => {
    const img = document.querySelector(sel);
    if (!img || !img.naturalWidth) return null;
    const c = document.createElement('canvas');
    c.width = 64;
    c.height = 48;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0, 64, 48);
    const d = g.getImageData(0, 0, 64, 48).data;
    let h = 0;
    for (let i = 0; i < d.length; i += 4) h = (h * 31 + d[i] + d[i + 1] * 3 + d[i + 2] * 7) >>> 0;
    return h;
  }, selector);
}

async function pictureChanges(page, selector, ms) {
  const first = await until(() => imagePrint(page, selector), ms, `a picture in ${selector}`);
  await until(
    async () => {
      const now = await imagePrint(page, selector);
      return now !== null && now !== first;
    },
    ms,
    `the picture in ${selector} to change`,
  );
}

/** Dashboard 2.0's "App is offline ready" notice, closed so that it is not in the pictures. */
async function closeNotices(page) {
  await page
    .getByRole('button', { name: 'Close' })
    .click({ timeout: 1500 })
    .catch(() => undefined);
}

/** A full-page picture to test/output/, and to docs/images/ when asked (not Dashboard 1's: gateway-dashboard.test.js and readable.test.js make those). */
async function screenshot(page, name, { docs = true } = {}) {
  const png = await page.screenshot({ fullPage: true });
  const small = await sharp(png).png({ palette: true, quality: 90, compressionLevel: 9 }).toBuffer();
  const dirs = [path.join(ROOT, 'test', 'output')];
  if (docs && process.env.EDGEVISION_UPDATE_SCREENSHOT === '1') dirs.push(path.join(ROOT, 'docs', 'images'));
  for (const dir of dirs) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, name), small);
  }
  const meta = await sharp(small).metadata();
  console.log(`      ${name}: ${meta.width}×${meta.height}, ${(small.length / 1024).toFixed(0)} kB`);
  assert.ok(small.length < 600 * 1024, `${name}: ${small.length} bytes`);
}

/** Everything wider than the page, or reaching past its right edge. */
function overflow(page) {
  return page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll('.ev-live, .ev-tiles, .ev-timeline, .ev-events, .ev-live-img')]
      .map((e) => ({ cls: e.className, r: e.getBoundingClientRect() }))
      .filter((x) => x.r.width > 0 && (x.r.right > w + 1 || x.r.left < -1))
      .map((x) => `${x.cls}: ${Math.round(x.r.left)}..${Math.round(x.r.right)}`);
    return { clientWidth: w, scrollWidth: document.documentElement.scrollWidth, wide };
  });
}

/** The live picture's box against its natural size: the same proportions means nothing is cropped or stretched. */
function videoFit(page) {
  return page.evaluate(() => {
    const img = /** @type {HTMLImageElement} */ (document.querySelector('.ev-live-img'));
    const r = img.getBoundingClientRect();
    const frame = img.parentElement.getBoundingClientRect();
    return { w: r.width, h: r.height, nw: img.naturalWidth, nh: img.naturalHeight, frameW: frame.width, frameH: frame.height, right: r.right };
  });
}

describe('Dashboard 2.0 widgets and the demo on both dashboards, in Chromium', function () {
  this.timeout(240000);
  let gw, url, browser, page, userDir;
  const t0 = Date.now();

  before(async function () {
    chromiumPath(); // fails now, before the gateway starts, when chromium is missing
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-dash2-'));
    // No database: the writer spools to the user dir (its status says so); the dashboards are the point here.
    gw = startGatewayChild(
      { port: 0, userDir, resetFlows: true, realtime: true },
      { EDGEVISION_PROVIDERS: 'cpu', EDGEVISION_INFLUX_URL: 'http://127.0.0.1:9' },
      'warn',
    );
    url = await until(() => gw.url() || (gw.exitCode !== null && Promise.reject(new Error(gw.log()))), 60000, 'the gateway to start');
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('pageerror', (e) => console.log(`      page error: ${e.message}`));
    await page.goto(`${url}/dashboard`, { waitUntil: 'domcontentloaded' });
  });

  after(async function () {
    if (browser) await browser.close();
    if (gw) await stopChild(gw);
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
    console.log(`      (${((Date.now() - t0) / 1000).toFixed(0)} s in all)`);
  });

  it('serves each widget bundle under /resources, and packs them', async () => {
    for (const [type, w] of Object.entries(WIDGETS)) {
      const r = await fetch(`${url}/resources/${PKG.name}/${w.output}`);
      assert.strictEqual(r.status, 200, `${type}: /resources/${PKG.name}/${w.output}`);
      assert.match(r.headers.get('content-type') || '', /javascript/);
      const body = await r.text();
      assert.ok(body.includes(JSON.stringify(type)) && body.includes(w.component), `${type}: the bundle defines window[${type}].${w.component}`);
    }
    // What `npm pack` takes (test/e2e/palette-install.test.js installs the real tarball and fetches them there too).
    assert.ok(PKG.files.includes('resources/'), 'package.json "files" has resources/');
    assert.ok(!fs.existsSync(path.join(ROOT, '.npmignore')), 'no .npmignore that could leave resources/ out');
  });

  it('vision-ui-live: the MJPEG stream plays, fitted to the widget', async () => {
    await page.waitForSelector('.ev-live[data-mode="mjpeg"] .ev-live-img', { timeout: 60000 });
    const src = await page.getAttribute('.ev-live-img', 'src');
    assert.match(src, /\/vision-view\/cam1\.mjpg/);
    await pictureChanges(page, '.ev-live-img', 60000);
    const fit = await videoFit(page);
    assert.ok(Math.abs(fit.w / fit.h - fit.nw / fit.nh) < 0.02, `proportions kept: ${JSON.stringify(fit)}`);
    assert.ok(fit.w <= fit.frameW + 1 && fit.w >= fit.frameW - 1, `the picture fills the widget's width: ${JSON.stringify(fit)}`);
  });

  it('vision-ui-tiles: counts and station states arrive, and move without a reload', async () => {
    const tiles = () =>
      page.evaluate(() =>
        Object.fromEntries(
          [...document.querySelectorAll('.ev-tile')].map((/** @type {HTMLElement} */ t) => [t.dataset.key, t.querySelector('.ev-tile-value').textContent]),
        ),
      );
    const first = await until(
      async () => {
        const t = await tiles();
        return Number(t['in:crossing']) + Number(t['out:crossing']) > 0 ? t : null;
      },
      90000,
      'people counted in the crossing tiles',
    );
    for (const k of ['zone:path-west', 'station:station-1', 'station:station-2']) assert.ok(k in first, `a ${k} tile: ${JSON.stringify(first)}`);
    assert.match(first['station:station-1'], /^(working|idle|absent)$/);
    const later = await until(
      async () => {
        const t = await tiles();
        return JSON.stringify(t) !== JSON.stringify(first) ? t : null;
      },
      60000,
      'a tile to change',
    );
    console.log(`      tiles ${JSON.stringify(first)} → ${JSON.stringify(later)}`);
  });

  it('vision-ui-timeline: a bar per station with its states', async () => {
    const rows = await until(
      () =>
        page.evaluate(() => {
          const r = [...document.querySelectorAll('.ev-timeline-row')].map((/** @type {HTMLElement} */ e) => ({
            station: e.dataset.station,
            state: e.dataset.state,
            segs: e.querySelectorAll('.ev-timeline-seg').length,
          }));
          return r.length >= 2 ? r : null;
        }),
      30000,
      'two station rows',
    );
    assert.deepStrictEqual(rows.map((r) => r.station).sort(), ['station-1', 'station-2']);
    for (const r of rows) assert.ok(r.segs >= 1 && /^(working|idle|absent)$/.test(r.state), JSON.stringify(r));
  });

  it('vision-ui-events: crossings and zone events listed, newest first, as they happen', async () => {
    const events = () =>
      page.evaluate(() => [...document.querySelectorAll('.ev-event')].map((/** @type {HTMLElement} */ e) => e.innerText.replace(/\s+/g, ' ')));
    const first = await until(
      async () => {
        const e = await events();
        return e.some((t) => t.includes('line-crossing')) ? e : null;
      },
      60000,
      'a line crossing in the event table',
    );
    assert.ok(first.length <= 12, `${first.length} rows (12 at most)`);
    await until(async () => (await events())[0] !== first[0], 60000, 'a newer event at the top');
  });

  it('the rest of the page: health figures and the settings controls (Dashboard 2.0 core widgets)', async () => {
    const text = await until(
      async () => {
        const t = await page.evaluate(() => document.body.innerText);
        return /Frames per second\s*\n?\s*[\d.]+/.test(t) ? t : null;
      },
      30000,
      'a health figure',
    );
    for (const s of ['Inference', 'Dropped frames', 'Detection confidence', 'Absent after (s)', 'Idle after (s)'])
      assert.ok(text.includes(s), `the page shows "${s}"`);
    await closeNotices(page);
    await screenshot(page, 'dashboard2-desktop.png');
  });

  it('a setting changed on Dashboard 2.0 reaches the node (idle after, to vision-productivity-state)', async () => {
    const input = page.locator('.ev2-ctl-idle input').first();
    await input.fill('13');
    await input.press('Enter');
    const saved = await until(
      async () => {
        const r = await fetch(`${url}/context/node/demo-stations?store=default`);
        const c = ((await r.json()).default || {}).config;
        // Kept with the editor settings' fingerprint (nodes/shared/kept-settings.ts).
        const v = c ? JSON.parse(c.msg).values : null;
        return v && v.idleDelayS === 13 ? v : null;
      },
      20000,
      'vision-productivity-state to keep idleDelayS 13 in its context',
    );
    assert.strictEqual(saved.idleDelayS, 13);
  });

  it('vision-ui-live: still pictures while the stream fails', async () => {
    const p2 = await browser.newPage({ viewport: { width: 800, height: 900 } });
    try {
      // A proxy that cannot pass a stream through, as the browser sees it.
      await p2.route('**/*.mjpg*', (r) => r.abort());
      await p2.goto(`${url}/dashboard`, { waitUntil: 'domcontentloaded' });
      await p2.waitForSelector('.ev-live[data-mode="still"] .ev-live-img', { timeout: 60000 });
      assert.match(await p2.getAttribute('.ev-live-img', 'src'), /\/vision-view\/cam1\.jpg\?t=\d+/);
      await pictureChanges(p2, '.ev-live-img', 30000);
    } finally {
      await p2.close();
    }
  });

  it("at a phone's width (390 px) every widget fits and the video is whole", async () => {
    const phone = await browser.newPage({ viewport: PHONE, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
    try {
      await phone.goto(`${url}/dashboard`, { waitUntil: 'domcontentloaded' });
      await phone.waitForSelector('.ev-live-img', { timeout: 60000 });
      await until(
        () => phone.evaluate(() => /** @type {HTMLImageElement} */ (document.querySelector('.ev-live-img')).naturalWidth > 0),
        30000,
        'the video on the phone',
      );
      await until(
        () => phone.evaluate(() => document.querySelectorAll('.ev-tile').length > 0 && document.querySelectorAll('.ev-event').length > 0),
        30000,
        'tiles and events on the phone',
      );
      const o = await overflow(phone);
      assert.deepStrictEqual(o.wide, [], `nothing reaches past the screen: ${JSON.stringify(o)}`);
      assert.ok(o.scrollWidth <= o.clientWidth + 1, `no sideways scrolling: ${JSON.stringify(o)}`);
      const fit = await videoFit(phone);
      assert.ok(fit.right <= PHONE.width && fit.w >= 300, `the video within the screen: ${JSON.stringify(fit)}`);
      assert.ok(Math.abs(fit.w / fit.h - fit.nw / fit.nh) < 0.02, `proportions kept (not cropped): ${JSON.stringify(fit)}`);
      await closeNotices(phone);
      await screenshot(phone, 'dashboard2-phone.png');
    } finally {
      await phone.close();
    }
  });

  it('Dashboard 1 (/ui) still serves the demo: video and counts, desktop and phone pictures', async () => {
    for (const [name, viewport] of [
      ['dashboard1-desktop.png', { width: 1280, height: 1100 }],
      ['dashboard1-phone.png', PHONE],
    ]) {
      const p1 = await browser.newPage({ viewport });
      try {
        await p1.goto(`${url}/ui/`, { waitUntil: 'domcontentloaded' });
        await p1.waitForSelector('#ev-video-img', { timeout: 60000 });
        await pictureChanges(p1, '#ev-video-img', 60000);
        await until(
          () => p1.evaluate(() => /\d/.test(/** @type {HTMLElement | null} */ (document.querySelector('.ev-kpi-in') || { innerText: '' }).innerText || '')),
          30000,
          'the In tile',
        );
        await screenshot(p1, name, { docs: false });
      } finally {
        await p1.close();
      }
    }
  });
});
