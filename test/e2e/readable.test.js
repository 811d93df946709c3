'use strict';
// Readable everywhere (issue 25, item 4), in headless Chromium against one gateway running the demo
// flow (vtest.avi at full speed, the real model; no database, so points spool to the temp user dir):
// - the Dashboard 1 demo at a phone's width (390 px) shows the whole video, nothing wider than the
//   screen, the Live card not overlapping the next one;
// - the event table's times are 24-hour HH:mm:ss in the browser's time zone (a browser in en-US,
//   whose own locale format is 12-hour, in a zone 5 h 30 min from UTC);
// - the editor in German (browser locale de-DE): dialog labels, port labels, the drawing board and
//   the help panel come from locales/de.
// The phone screenshot goes to test/output/, and with EDGEVISION_UPDATE_SCREENSHOT=1 also to
// docs/images/dashboard-phone.png.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromiumPath, launchChromium } = require('../helpers/browser');
const { startGatewayChild, stopChild, ROOT } = require('../helpers/gateway-child');
require('../helpers/assets');
const { waitFor } = require('../helpers/wait');

const until = (cond, ms, what) => waitFor(cond, ms, what, 200);
const ZONE = 'Asia/Kolkata'; // UTC+05:30 all year: differs from UTC by a non-whole hour

describe('readable everywhere: phone width, one time format, German editor', function () {
  this.timeout(180000);
  let gw, url, browser, userDir;

  before(async function () {
    chromiumPath();
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-readable-'));
    // Port 9 (discard) refuses connections: the writer spools, which is all this test needs of it.
    gw = startGatewayChild(
      { port: 0, userDir, resetFlows: true, realtime: false },
      { EDGEVISION_PROVIDERS: 'cpu', EDGEVISION_INFLUX_URL: 'http://127.0.0.1:9', EDGEVISION_FRAME_STORE_CAPACITY: '64' },
      'warn',
    );
    url = await until(() => gw.url() || (gw.exitCode !== null && Promise.reject(new Error(gw.log()))), 60000, 'the gateway to start');
    browser = await launchChromium();
  });

  after(async function () {
    if (browser) await browser.close();
    if (gw) await stopChild(gw);
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('the demo dashboard fits a phone: the whole video, nothing cut off on the right', async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'en-US', timezoneId: ZONE });
    try {
      const page = await ctx.newPage();
      await page.goto(`${url}/ui/`, { waitUntil: 'domcontentloaded' });
      await page.waitForSelector('#ev-video-img', { timeout: 60000 });
      await until(
        () => page.evaluate(() => /** @type {HTMLImageElement} */ (document.getElementById('ev-video-img')).naturalWidth > 0),
        60000,
        'a first video frame',
      );
      // The layout settles after the cards render; measure once it has stopped moving.
      let last = '';
      const layout = await until(
        async () => {
          const l = await page.evaluate(() => {
            const r = (e) => {
              const b = e.getBoundingClientRect();
              return { left: Math.round(b.left), right: Math.round(b.right), top: Math.round(b.top), bottom: Math.round(b.bottom) };
            };
            return {
              screen: window.innerWidth,
              scroll: document.documentElement.scrollWidth,
              img: r(document.getElementById('ev-video-img')),
              cards: [...document.querySelectorAll('ui-card-panel')].map((c) => ({ id: c.id, ...r(c) })),
            };
          });
          const key = JSON.stringify(l);
          const settled = key === last;
          last = key;
          return settled && l;
        },
        20000,
        'the dashboard layout to settle',
      );
      const { screen, img, cards } = layout;
      assert.ok(layout.scroll <= screen, `page is ${layout.scroll} px wide on a ${screen} px screen`);
      assert.ok(img.left >= 0 && img.right <= screen, `video spans ${img.left}..${img.right} on a ${screen} px screen`);
      assert.ok(img.right - img.left >= screen * 0.85, `video is ${img.right - img.left} px wide: it should take the screen's width`);
      for (const c of cards) assert.ok(c.right <= screen, `card ${c.id} ends at ${c.right} px, beyond the ${screen} px screen`);
      const live = cards.find((c) => c.id.endsWith('Live'));
      for (const c of cards) if (c !== live && c.left < live.right && c.right > live.left) assert.ok(c.top >= live.bottom, `${c.id} overlaps the Live card`);
      fs.mkdirSync(path.join(ROOT, 'test', 'output'), { recursive: true });
      const shot = await page.screenshot({ fullPage: false });
      fs.writeFileSync(path.join(ROOT, 'test', 'output', 'dashboard-phone.png'), shot);
      if (process.env.EDGEVISION_UPDATE_SCREENSHOT === '1') fs.writeFileSync(path.join(ROOT, 'docs', 'images', 'dashboard-phone.png'), shot);

      // Event times: 24-hour, in the browser's zone (the clip at full speed crosses the line within seconds).
      const times = await until(
        () =>
          page
            .evaluate(() => [...document.querySelectorAll('table.ev-events tr td:first-child')].map((td) => td.textContent.trim()))
            .then((t) => t.length > 0 && t),
        60000,
        'a row in the event table',
      );
      const now = new Date();
      for (const t of times) {
        assert.match(t, /^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$/, `event time "${t}" is not 24-hour HH:mm:ss`);
        const [h, m] = t.split(':').map(Number);
        const zoned = new Date(now.getTime() + 330 * 60000); // UTC+05:30 as UTC fields
        const minutes = (h * 60 + m - (zoned.getUTCHours() * 60 + zoned.getUTCMinutes()) + 1440) % 1440;
        assert.ok(minutes <= 2 || minutes >= 1438, `event time ${t} is not the browser's ${ZONE} time (${zoned.toISOString().slice(11, 19)})`);
      }
    } finally {
      await ctx.close();
    }
  });

  it('the editor in German: dialog, port labels, drawing board and help come from locales/de', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'de-DE' });
    try {
      const page = await ctx.newPage();
      await page.goto(`${url}/`);
      await page.waitForFunction(() => window.RED && RED.nodes && RED.nodes.node('demo-count') && $('.red-ui-palette-node').length > 0, null, {
        timeout: 60000,
      });
      assert.match(await page.evaluate(() => RED.i18n.lang()), /^de/);

      const ports = await page.evaluate(() => {
        const n = RED.nodes.node('demo-view');
        return [n._def.inputLabels.call(n), n._def.outputLabels.call(n, 0)];
      });
      assert.deepStrictEqual(ports, ['Vision-Frame · Snapshot · Konfiguration', 'JPEG: Snapshots oder jeder kodierte Frame (JPEG senden)']);

      await page.evaluate(() => RED.editor.edit(RED.nodes.node('demo-count')));
      await page.waitForSelector('#node-dialog-ok', { state: 'visible' });
      await page.waitForSelector('#node-line-count-tools button', { timeout: 10000 }).catch(() => null);
      const dialog = await page.evaluate(() => ({
        labels: $('.red-ui-editor .form-row label')
          .map((_, e) => $(e).text().trim())
          .get(),
        buttons: $('.red-ui-editor button')
          .map((_, e) => $(e).text().trim())
          .get(),
        options: $('#node-input-mode option')
          .map((_, e) => $(e).text().trim())
          .get(),
      }));
      for (const l of ['Linien & Zonen', 'Ankerpunkt', 'Zählen', 'Sperrzeit', 'Zurücksetzen um'])
        assert.ok(dialog.labels.includes(l), `label "${l}" in ${JSON.stringify(dialog.labels)}`);
      assert.ok(!dialog.labels.includes('Anchor'), 'an English label is left');
      for (const b of ['Auswählen', 'Linie', 'Zone', 'Kamerabild'])
        assert.ok(dialog.buttons.includes(b), `board button "${b}" in ${JSON.stringify(dialog.buttons)}`);
      assert.deepStrictEqual(dialog.options, ['einmal je Track, Linie und Richtung', 'jede Überquerung']);
      await page.waitForTimeout(500);
      await page.click('#node-dialog-cancel');

      // The help sidebar shows the German panel.
      await page.evaluate(() => RED.sidebar.help.show('vision-line-count'));
      const help = await until(() => page.evaluate(() => $('.red-ui-help').text()).then((t) => t.includes('Ankerpunkt') && t), 20000, 'the German help panel');
      assert.match(help, /Zählt Personen und Objekte, die virtuelle Linien überqueren/);
      assert.match(help, /Eingänge/);
    } finally {
      await ctx.close();
    }
  });
});
