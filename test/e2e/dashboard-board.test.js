'use strict';
// The drawing board in a dashboard (issue 25, item 3), end to end: the gateway with logins (admin,
// viewer, operator) runs a real clip (TUD-Campus, ffmpeg) → the real yolox_nano → tracker → a
// line-count node whose line "door" lies where nobody walks; the board widget sits in a Dashboard 1
// ui_template, opened in headless Chromium. A viewer sees the line and cannot change it; the operator
// drags the line's ends across the path and applies, and the next crossings count on "door" where it
// is now; the change is in the node's events (who, before, after); undo puts the line back and keeps
// the total. Screenshots go to test/output/ (and with EDGEVISION_UPDATE_SCREENSHOT=1 to docs/images/).
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { startGatewayChild, stopChild, ROOT } = require('../helpers/gateway-child');
const { chromiumPath, launchChromium } = require('../helpers/browser');
const { asset } = require('../helpers/assets');
const { waitFor } = require('../helpers/wait');

const until = (cond, ms, what) => waitFor(cond, ms, what, 200);
const USERS = { admin: ['boss', 'b0ss-pw'], viewer: ['shift', 'look-only'], operator: ['ot', 'm0ve-lines'] };
const basic = (/** @type {string[]} */ [u, p]) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');
// Nobody walks at the top of the picture (feet are at y 0.7–0.96 in this clip); everybody walks
// left↔right across x = 0.5 low in the picture.
const DOOR = { name: 'door', start: [0.1, 0.1], end: [0.9, 0.1] };

function get(url, headers = {}) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, timeout: 5000 }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve({ status: res.statusCode, body: b }));
      })
      .on('error', reject);
  });
}

/** The Dashboard 1 template that mounts the board on the counter (as in the demo flow). */
const TEMPLATE = `<div id="ev-board"></div>
<script>
(function () {
  function go() { EdgeVisionBoardWidget.mount(document.getElementById('ev-board'), { type: 'vision-line-count', node: 'lc', adminRoot: '/' }); }
  if (window.EdgeVisionBoardWidget) go();
  else { var s = document.createElement('script'); s.src = '/vision-board/widget.js'; s.onload = go; document.head.appendChild(s); }
})();
</script>`;

/** The same in a Dashboard 2.0 ui-template (a Vue component: the element is a ref, the code in mounted()). */
const TEMPLATE_D2 = `<template><div ref="board" id="ev-board"></div></template>
<script>
export default {
  mounted() {
    const el = this.$refs.board;
    const go = () => window.EdgeVisionBoardWidget.mount(el, { type: 'vision-line-count', node: 'lc', adminRoot: '/' });
    if (window.EdgeVisionBoardWidget) go();
    else { const s = document.createElement('script'); s.src = '/vision-board/widget.js'; s.onload = go; document.head.appendChild(s); }
  },
};
</script>`;

function flow() {
  const z = 'tab';
  return [
    { id: z, type: 'tab', label: 'board' },
    { id: 'model', type: 'vision-model', name: 'm', model: 'yolox_nano', providers: 'cpu', threads: 1 },
    {
      id: 'cam',
      z,
      type: 'vision-camera-source',
      camera: 'gate',
      url: asset('video/TUD-Campus.mp4'),
      fps: 10,
      maxWidth: 0,
      realtime: true,
      loop: true,
      autoStart: true,
      reconnect: true,
      wires: [['det']],
    },
    { id: 'det', z, type: 'vision-detect', model: 'model', conf: 0.4, iou: 0.45, classes: 'person', wires: [['trk']] },
    { id: 'trk', z, type: 'vision-track', highThreshold: 0.5, newTrackThreshold: 0.5, minHits: 2, lostBufferS: 1, emit: 'all', wires: [['lc'], ['lc']] },
    {
      id: 'lc',
      z,
      type: 'vision-line-count',
      name: 'gate counter',
      geometry: JSON.stringify({ lines: [DOOR], zones: [] }),
      metricsInterval: 0,
      wires: [['keep'], ['keep'], []],
    },
    {
      id: 'keep',
      z,
      type: 'function',
      name: 'keep counts and board events',
      func: "const s = global.get('seen') || { frames: 0, counts: {}, changes: [] };\nif (msg.payload && msg.payload.counts) { s.frames++; s.counts = msg.payload.counts; }\nif (msg.payload && msg.payload.event === 'geometry-changed') s.changes.push(msg.payload);\nglobal.set('seen', s);\nreturn null;",
      outputs: 1,
      wires: [[]],
    },
    { id: 'in', z, type: 'http in', url: '/seen', method: 'get', wires: [['read']] },
    { id: 'read', z, type: 'function', func: "msg.payload = global.get('seen') || {};\nreturn msg;", outputs: 1, wires: [['out']] },
    { id: 'out', z, type: 'http response', wires: [] },
    {
      id: 'ui-base',
      type: 'ui_base',
      theme: { name: 'theme-light' },
      site: { name: 'Board', hideToolbar: 'false', sizes: { sx: 48, sy: 48, gx: 6, gy: 6, cx: 6, cy: 6, px: 0, py: 0 } },
    },
    { id: 'ui-tab', type: 'ui_tab', name: 'Lines', order: 1 },
    { id: 'ui-group', type: 'ui_group', name: 'Counting lines', tab: 'ui-tab', order: 1, disp: true, width: '12' },
    {
      id: 'ui-board',
      z,
      type: 'ui_template',
      group: 'ui-group',
      name: 'drawing board',
      order: 1,
      width: 12,
      height: 12,
      format: TEMPLATE,
      templateScope: 'local',
      wires: [[]],
    },
    // Dashboard 2.0 at /dashboard.
    {
      id: 'd2-base',
      type: 'ui-base',
      name: 'D2',
      path: '/dashboard',
      includeClientData: true,
      acceptsClientConfig: [],
      headerContent: 'page',
      navigationStyle: 'default',
      titleBarStyle: 'default',
    },
    {
      id: 'd2-theme',
      type: 'ui-theme',
      name: 'T',
      colors: { surface: '#37474f', primary: '#0094ce', bgPage: '#eeeeee', groupBg: '#ffffff', groupOutline: '#cccccc' },
      sizes: { density: 'default', pagePadding: '12px', groupGap: '12px', groupBorderRadius: '4px', widgetGap: '12px' },
    },
    {
      id: 'd2-page',
      type: 'ui-page',
      name: 'Lines',
      ui: 'd2-base',
      path: '/lines',
      layout: 'grid',
      theme: 'd2-theme',
      order: 1,
      visible: 'true',
      disabled: 'false',
      breakpoints: [
        { name: 'Default', px: '0', cols: '3' },
        { name: 'Desktop', px: '1024', cols: '12' },
      ],
    },
    {
      id: 'd2-group',
      type: 'ui-group',
      name: 'Counting lines',
      page: 'd2-page',
      width: '12',
      height: '1',
      order: 1,
      showTitle: true,
      visible: 'true',
      disabled: 'false',
      groupType: 'default',
    },
    {
      id: 'd2-board',
      z,
      type: 'ui-template',
      group: 'd2-group',
      page: '',
      ui: '',
      name: 'drawing board',
      order: 1,
      width: '0',
      height: '0',
      head: '',
      format: TEMPLATE_D2,
      storeOutMessages: true,
      passthru: true,
      resendOnRefresh: true,
      templateScope: 'local',
      className: '',
      wires: [[]],
    },
    // The package's own Dashboard 2.0 widget, set to the counter (no wires), on a page of its own.
    {
      id: 'd2-page2',
      type: 'ui-page',
      name: 'Board',
      ui: 'd2-base',
      path: '/board',
      layout: 'grid',
      theme: 'd2-theme',
      order: 2,
      visible: 'true',
      disabled: 'false',
      breakpoints: [
        { name: 'Default', px: '0', cols: '3' },
        { name: 'Desktop', px: '1024', cols: '12' },
      ],
    },
    {
      id: 'd2-group2',
      type: 'ui-group',
      name: 'Counting lines',
      page: 'd2-page2',
      width: '12',
      height: '1',
      order: 1,
      showTitle: true,
      visible: 'true',
      disabled: 'false',
      groupType: 'default',
    },
    { id: 'd2-vboard', z, type: 'vision-ui-board', group: 'd2-group2', order: 1, width: 0, height: 0, source: 'lc', pictureEveryS: 0, label: '' },
  ];
}

describe('drawing board in the dashboard: roles, a dragged line counts, undo (e2e, Chromium)', function () {
  this.timeout(180000);
  let gw, url, browser, userDir;
  const problems = [];

  before(async function () {
    chromiumPath();
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-dash-board-'));
    const flowFile = path.join(userDir, 'seed.json');
    fs.writeFileSync(flowFile, JSON.stringify(flow()));
    const env = { EDGEVISION_PROVIDERS: 'cpu' };
    for (const [role, [u, p]] of Object.entries(USERS)) {
      env[`EDGEVISION_${role.toUpperCase()}_USER`] = u;
      env[`EDGEVISION_${role.toUpperCase()}_PASSWORD`] = p;
    }
    gw = startGatewayChild({ port: 0, userDir, flowFile, resetFlows: true }, env, 'warn');
    url = await until(() => gw.url() || (gw.exitCode !== null && Promise.reject(new Error(gw.log()))), 60000, 'the gateway to start');
    browser = await launchChromium();
  });

  after(async function () {
    if (browser) await browser.close();
    if (gw) await stopChild(gw);
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  const seen = async () => JSON.parse((await get(`${url}/seen`, { authorization: basic(USERS.viewer) })).body || '{}');

  /** A dashboard page signed in (basic auth) as `role`, the board signed in through its own form. */
  async function openBoard(role, viewport = { width: 1200, height: 1000 }, dashboard = '/ui/', root = '#ev-board') {
    const [username, password] = USERS[role];
    const context = await browser.newContext({ viewport, httpCredentials: { username, password } });
    const page = await context.newPage();
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(url + dashboard, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector(root + ' .evb canvas', { timeout: 60000 });
    // No editor token in this browser yet: the board asks for a login.
    await page.waitForFunction((r) => /sign in to see this board/.test(document.querySelector(r).textContent), root, { timeout: 20000 });
    await page.fill(root + ' input[autocomplete=username]', username);
    await page.fill(root + ' input[type=password]', password);
    await page.click(root + ' button.evb-primary >> text=Sign in');
    await page.waitForFunction(
      (a) => document.querySelector(a.r + ' .evb-note').textContent.startsWith(a.u + ' · '),
      { r: root, u: username },
      { timeout: 20000 },
    );
    // The camera's newest frame under the drawing.
    await page.waitForFunction((r) => document.querySelector(r + ' canvas').getAttribute('data-picture') === '640x480', root, { timeout: 30000 });
    return { context, page };
  }

  /** The node's geometry as the board route answers it (with this page's token). */
  const nodeGeometry = (page) =>
    page.evaluate(async () => {
      const t = JSON.parse(localStorage.getItem('auth-tokens')).access_token;
      const r = await fetch('/vision-line-count/lc/board', { headers: { Authorization: 'Bearer ' + t } });
      return (await r.json()).geometry;
    });

  async function dragOnBoard(page, from, to) {
    const box = await page.locator('#ev-board canvas').boundingBox();
    const at = (p) => [box.x + p[0] * box.width, box.y + p[1] * box.height];
    await page.mouse.move(...at(from));
    await page.mouse.down();
    await page.mouse.move(...at([(from[0] + to[0]) / 2, (from[1] + to[1]) / 2]), { steps: 4 });
    await page.mouse.move(...at(to), { steps: 4 });
    await page.mouse.up();
  }

  function shot(page, name, toDocs = true) {
    const out = path.join(ROOT, 'test', 'output');
    fs.mkdirSync(out, { recursive: true });
    const file = path.join(out, name);
    return page.screenshot({ path: file, fullPage: true }).then(() => {
      if (toDocs && process.env.EDGEVISION_UPDATE_SCREENSHOT === '1') fs.copyFileSync(file, path.join(ROOT, 'docs', 'images', name));
    });
  }

  it('a viewer sees the line on the camera picture but cannot change it', async function () {
    const { context, page } = await openBoard('viewer');
    assert.match(await page.textContent('#ev-board .evb-note'), /^shift · view only/);
    assert.strictEqual(await page.isVisible('#ev-board button >> text=Apply'), false, 'no Apply for a viewer');
    assert.strictEqual(await page.isVisible('#ev-board button[data-mode=line]'), false, 'no tools for a viewer');
    await dragOnBoard(page, DOOR.start, [0.5, 0.5]);
    assert.deepStrictEqual(await nodeGeometry(page), { lines: [DOOR], zones: [] }, 'a drag changes nothing');
    // And the route itself refuses the viewer's token.
    const status = await page.evaluate(async () => {
      const t = JSON.parse(localStorage.getItem('auth-tokens')).access_token;
      const r = await fetch('/vision-line-count/lc/board', {
        method: 'PUT',
        headers: { Authorization: 'Bearer ' + t, 'Content-Type': 'application/json' },
        body: JSON.stringify({ geometry: { lines: [] }, rev: 'x' }),
      });
      return r.status;
    });
    assert.strictEqual(status, 401);
    await context.close();
  });

  it('the operator drags the line across the path and applies: the next crossings count on it; undo puts it back, the total kept', async function () {
    const { context, page } = await openBoard('operator');
    assert.match(await page.textContent('#ev-board .evb-note'), /^ot · can edit/);
    // The line where nobody walks: frames are counted, "door" stays at 0.
    const before = await until(
      async () => {
        const s = await seen();
        return s.frames >= 40 && s;
      },
      60000,
      '40 counted frames',
    );
    assert.deepStrictEqual(before.counts, { door: { in: 0, out: 0 } });

    // Its ends dragged down to a vertical line across the path, then applied.
    await dragOnBoard(page, DOOR.start, [0.5, 0.45]);
    await dragOnBoard(page, DOOR.end, [0.5, 0.99]);
    await shot(page, 'dashboard-board.png');
    await page.click('#ev-board button >> text=Apply');
    await page.waitForFunction(() => /applied/.test(document.querySelector('#ev-board [role=status]').textContent), null, { timeout: 10000 });
    const g = await nodeGeometry(page);
    assert.strictEqual(g.lines.length, 1);
    assert.strictEqual(g.lines[0].name, 'door');
    for (const [got, want] of [
      [g.lines[0].start, [0.5, 0.45]],
      [g.lines[0].end, [0.5, 0.99]],
    ])
      assert.ok(Math.abs(got[0] - want[0]) < 0.02 && Math.abs(got[1] - want[1]) < 0.02, `${JSON.stringify(got)} ≈ ${JSON.stringify(want)}`);

    // The next people who walk across x = 0.5 count on "door".
    const after = await until(
      async () => {
        const s = await seen();
        const d = s.counts && s.counts.door;
        return d && d.in + d.out >= 2 && s;
      },
      60000,
      'crossings on the moved line',
    );
    const change = after.changes.find((c) => c.action === 'edit');
    assert.ok(change, 'a geometry-changed event on the events output');
    assert.strictEqual(change.by, 'ot');
    assert.deepStrictEqual(change.before, { lines: [DOOR], zones: [] });
    assert.deepStrictEqual(change.after, g);

    // Undo: the line is back where it was, its total kept.
    const total = after.counts.door.in + after.counts.door.out;
    await page.click('#ev-board button >> text=Undo last change');
    await page.waitForFunction(() => /undone/.test(document.querySelector('#ev-board [role=status]').textContent), null, { timeout: 10000 });
    assert.deepStrictEqual(await nodeGeometry(page), { lines: [DOOR], zones: [] });
    const s = await until(
      async () => {
        const x = await seen();
        return x.changes.some((c) => c.action === 'undo') && x;
      },
      10000,
      'the undo event',
    );
    assert.ok(s.counts.door.in + s.counts.door.out >= total, 'the total is kept across the edit and the undo');
    assert.strictEqual(s.changes.find((c) => c.action === 'undo').by, 'ot');
    assert.match(await page.textContent('#ev-board .evb-history'), /ot · undid a change/);

    await context.close();

    // On a phone: the board fits the screen (Dashboard 1 keeps the card at its configured width, wider
    // than a phone: the board does not follow it), the picture whole.
    const phone = await openBoard('operator', { width: 390, height: 844 });
    const fit = await phone.page.evaluate(() => {
      const c = document.querySelector('#ev-board canvas').getBoundingClientRect();
      const r = document.querySelector('#ev-board').getBoundingClientRect();
      return { canvas: c.width, card: r.width, ratio: c.height / c.width, right: c.right };
    });
    assert.ok(fit.canvas <= fit.card + 1 && fit.right <= 390, `the board fits its card and the screen: ${JSON.stringify(fit)}`);
    assert.ok(Math.abs(fit.ratio - 0.75) < 0.02, `the whole 4:3 picture: ${JSON.stringify(fit)}`);
    await shot(phone.page, 'dashboard-board-phone.png');
    await phone.context.close();
    assert.deepStrictEqual(problems, [], 'no errors in the page');
  });

  it('the same board in a Dashboard 2.0 ui-template: the operator moves the line there and applies', async function () {
    const { context, page } = await openBoard('operator', { width: 1200, height: 1000 }, '/dashboard/lines');
    assert.match(await page.textContent('#ev-board .evb-note'), /^ot · can edit/);
    await dragOnBoard(page, DOOR.end, [0.9, 0.3]);
    await page.click('#ev-board button >> text=Apply');
    await page.waitForFunction(() => /applied/.test(document.querySelector('#ev-board [role=status]').textContent), null, { timeout: 10000 });
    const g = await nodeGeometry(page);
    assert.ok(Math.abs(g.lines[0].end[1] - 0.3) < 0.02 && Math.abs(g.lines[0].start[1] - 0.1) < 0.001, JSON.stringify(g));
    await shot(page, 'dashboard2-board.png', false);
    await context.close();
    assert.deepStrictEqual(problems, [], 'no errors in the page');
  });

  it("the package's Dashboard 2.0 widget (vision-ui-board, set to the counter): view-only for the viewer, the operator applies and undoes", async function () {
    const root = '.ev-board-d2-board';
    const viewer = await openBoard('viewer', { width: 1200, height: 1000 }, '/dashboard/board', root);
    assert.match(await viewer.page.textContent(root + ' .evb-note'), /^shift · view only/);
    assert.strictEqual(await viewer.page.isVisible(root + ' button >> text=Apply'), false);
    await viewer.context.close();
    const { context, page } = await openBoard('operator', { width: 1200, height: 1000 }, '/dashboard/board', root);
    const g0 = await nodeGeometry(page);
    const end = g0.lines[0].end;
    const box = await page.locator(root + ' canvas').boundingBox();
    await page.mouse.move(box.x + end[0] * box.width, box.y + end[1] * box.height);
    await page.mouse.down();
    await page.mouse.move(box.x + 0.7 * box.width, box.y + 0.5 * box.height, { steps: 6 });
    await page.mouse.up();
    await page.click(root + ' button >> text=Apply');
    await page.waitForFunction((r) => /applied/.test(document.querySelector(r + ' [role=status]').textContent), root, { timeout: 10000 });
    const g1 = await nodeGeometry(page);
    assert.ok(Math.abs(g1.lines[0].end[0] - 0.7) < 0.02 && Math.abs(g1.lines[0].end[1] - 0.5) < 0.02, JSON.stringify(g1));
    await page.click(root + ' button >> text=Undo last change');
    await page.waitForFunction((r) => /undone/.test(document.querySelector(r + ' [role=status]').textContent), root, { timeout: 10000 });
    assert.deepStrictEqual(await nodeGeometry(page), g0);
    await shot(page, 'dashboard2-widget-board.png');
    await context.close();
    assert.deepStrictEqual(problems, [], 'no errors in the page');
  });
});
