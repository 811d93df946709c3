'use strict';
// The editors' drawing board (nodes/shared/editor/geometry-board.js) in a real editor: a deployed flow decodes
// a real clip (ffmpeg) into a line-count and a productivity-state node, each serves its newest frame
// to the editor, and lines, zones and stations are drawn, moved, flipped, renamed and deleted with
// the mouse (and a finger) in headless Chromium. What the board writes is checked in the JSON editor,
// in the node after Done, and in the runtime after Deploy.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const sharp = require('sharp');
const { startGatewayChild, stopChild } = require('../helpers/gateway-child');
const { chromiumPath, launchChromium } = require('../helpers/browser');
const http = require('http');
const { asset } = require('../helpers/assets');
const { waitFor } = require('../helpers/wait');

/** GET with the reply's status, headers and bytes (and the bytes as text). */
function get(url, headers = {}) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, timeout: 5000 }, (res) => {
        const parts = [];
        res.on('data', (c) => parts.push(c));
        res.on('end', () => {
          const buffer = Buffer.concat(parts);
          resolve({ status: res.statusCode, headers: res.headers, buffer, body: buffer.toString('utf8') });
        });
      })
      .on('error', reject);
  });
}

/** Loads the editor in `p`, opens node `id`'s dialog, waits for its board; returns the dialog's JSON reader. */
async function openDialog(p, url, id, board) {
  await p.goto(url + '/');
  await p.waitForFunction((id) => window.RED && RED.nodes && RED.nodes.node && RED.nodes.node(id), id, { timeout: 60000 });
  await p.evaluate((id) => RED.editor.edit(RED.nodes.node(id)), id);
  await p.waitForSelector(board, { state: 'visible' });
  return () => p.evaluate((id) => JSON.parse(RED.nodes.node(id).editor.getValue()), id);
}

const STATIONS = {
  zones: [
    {
      name: 'bench',
      camera: 'gate',
      polygon: [
        [0.1, 0.1],
        [0.3, 0.1],
        [0.3, 0.3],
      ],
    },
  ],
};
const DOOR = { name: 'door', start: [0.2, 0.8], end: [0.8, 0.8] };

describe('drawing board of line-count and productivity-state (e2e, camera picture + mouse in Chromium)', function () {
  this.timeout(120000);
  let gw, browser, page, userDir, url;
  const problems = [];

  before(async function () {
    chromiumPath(); // fails now, before any server starts, when chromium is missing
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-board-'));
    const flowFile = path.join(userDir, 'board.json');
    fs.writeFileSync(
      flowFile,
      JSON.stringify([
        { id: 'tab', type: 'tab', label: 'board' },
        {
          id: 'cam',
          z: 'tab',
          type: 'vision-camera-source',
          name: 'clip',
          camera: 'gate',
          url: asset('video/TUD-Campus.mp4'),
          fps: 5,
          maxWidth: 0,
          realtime: true,
          loop: true,
          autoStart: true,
          reconnect: true,
          x: 120,
          y: 80,
          wires: [['lc', 'ps']],
        },
        {
          id: 'ps',
          z: 'tab',
          type: 'vision-productivity-state',
          name: 'stations',
          stations: JSON.stringify(STATIONS),
          kpiIntervalS: 0,
          x: 320,
          y: 160,
          wires: [[], [], []],
        },
        {
          id: 'lc',
          z: 'tab',
          type: 'vision-line-count',
          name: 'gate counter',
          geometry: JSON.stringify({ lines: [DOOR], zones: [] }),
          metricsInterval: 0,
          x: 320,
          y: 80,
          wires: [[], [], []],
        },
      ]),
    );
    gw = startGatewayChild({ port: 0, userDir, flowFile, resetFlows: true }, {}, 'warn');
    url = await waitFor(() => gw.url() || (gw.exitCode !== null && Promise.reject(new Error(gw.log()))), 60000, 'Node-RED to start', 200);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (e) => problems.push(e.message));
  });

  after(async function () {
    if (browser) await browser.close();
    if (gw) await stopChild(gw);
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('serves the newest frame the node counted as a JPEG, and says why when it cannot', async function () {
    const snap = await waitFor(
      async () => {
        const r = await get(`${url}/vision-line-count/lc/snapshot`);
        return r.status === 200 && r;
      },
      30000,
      'a frame to reach the line-count node',
      200,
    );
    assert.strictEqual(snap.headers['content-type'], 'image/jpeg');
    assert.strictEqual(snap.headers['x-frame-width'], '640');
    assert.strictEqual(snap.headers['x-frame-height'], '480');
    const meta = await sharp(snap.buffer).metadata();
    assert.deepStrictEqual([meta.format, meta.width, meta.height], ['jpeg', 640, 480]);
    const stats = await sharp(snap.buffer).stats();
    assert.ok(stats.channels[0].stdev > 20, `a real picture, not a flat one (stdev ${stats.channels[0].stdev})`);

    // productivity-state serves its frames the same way (its stations are drawn on them).
    const ps = await waitFor(
      async () => {
        const r = await get(`${url}/vision-productivity-state/ps/snapshot`);
        return r.status === 200 && r;
      },
      30000,
      'a frame to reach the productivity-state node',
      200,
    );
    assert.deepStrictEqual([ps.headers['content-type'], (await sharp(ps.buffer).metadata()).width], ['image/jpeg', 640]);

    const unknown = await get(`${url}/vision-line-count/nope/snapshot`);
    assert.strictEqual(unknown.status, 404);
    assert.match(JSON.parse(unknown.body).error, /not deployed/);
    const otherCamera = await get(`${url}/vision-line-count/lc/snapshot?camera=dock`);
    assert.strictEqual(otherCamera.status, 404);
    assert.match(JSON.parse(otherCamera.body).error, /camera "dock".*cameras seen: gate/);
  });

  it('draws, moves, flips, renames and deletes lines and zones by mouse, and deploys them', async function () {
    const geometry = await openDialog(page, url, 'lc', '#node-line-count-board');
    assert.deepStrictEqual(await geometry(), { lines: [DOOR], zones: [] });

    // The camera's picture under the drawing; the board takes its 4:3 shape.
    await page.click('#node-line-count-picture');
    await page.waitForFunction(() => /640×480/.test($('#node-line-count-picture-note').text()), null, { timeout: 15000 });
    const box = await page.locator('#node-line-count-board').boundingBox();
    assert.ok(Math.abs(box.height / box.width - 0.75) < 0.01, `board is 4:3, got ${box.width}×${box.height}`);
    const painted = await page.evaluate(() => {
      const c = /** @type {HTMLCanvasElement} */ (document.getElementById('node-line-count-board'));
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const grey = new Set();
      for (let i = 0; i < d.length; i += 4 * 97) grey.add(d[i] >> 4);
      return grey.size;
    });
    assert.ok(painted > 6, `the picture is drawn on the board (${painted} brightness levels)`);

    const at = (x, y) => [box.x + x * box.width, box.y + y * box.height];
    const drag = async (from, to) => {
      await page.mouse.move(...at(...from));
      await page.mouse.down();
      await page.mouse.move(...at((from[0] + to[0]) / 2, (from[1] + to[1]) / 2), { steps: 3 });
      await page.mouse.move(...at(...to), { steps: 3 });
      await page.mouse.up();
    };
    const near = (p, q, what) =>
      assert.ok(Math.abs(p[0] - q[0]) <= 0.01 && Math.abs(p[1] - q[1]) <= 0.01, `${what}: ${JSON.stringify(p)} ≈ ${JSON.stringify(q)}`);

    // A new line: press, drag, release.
    await page.click('#node-line-count-tools [data-mode="line"]');
    await drag([0.1, 0.4], [0.9, 0.4]);
    let g = await geometry();
    assert.strictEqual(g.lines.length, 2);
    assert.strictEqual(g.lines[1].name, 'line-2');
    near(g.lines[1].start, [0.1, 0.4], 'start');
    near(g.lines[1].end, [0.9, 0.4], 'end');
    assert.deepStrictEqual(g.lines[0], DOOR, 'the other line is untouched');

    // Flip swaps its in and out sides; rename; a taken name is refused.
    await page.click('#node-line-count-flip');
    g = await geometry();
    near(g.lines[1].start, [0.9, 0.4], 'flipped start');
    near(g.lines[1].end, [0.1, 0.4], 'flipped end');
    await page.fill('#node-line-count-name', 'door');
    assert.ok(await page.evaluate(() => $('#node-line-count-name').hasClass('input-error')), 'a name in use is refused');
    assert.strictEqual((await geometry()).lines[1].name, 'line-2');
    await page.fill('#node-line-count-name', 'exit');
    assert.strictEqual((await geometry()).lines[1].name, 'exit');

    // Drag one end of the selected line, then the whole door line.
    await drag([0.9, 0.4], [0.8, 0.3]);
    g = await geometry();
    near(g.lines[1].start, [0.8, 0.3], 'moved start');
    near(g.lines[1].end, [0.1, 0.4], 'end stays');
    await drag([0.5, 0.8], [0.5, 0.7]);
    g = await geometry();
    near(g.lines[0].start, [0.2, 0.7], 'door moved up');
    near(g.lines[0].end, [0.8, 0.7], 'door moved up');

    // A zone: four corners, closed by clicking the first one again.
    await page.click('#node-line-count-tools [data-mode="zone"]');
    for (const p of [
      [0.6, 0.5],
      [0.95, 0.5],
      [0.95, 0.95],
      [0.6, 0.95],
      [0.6, 0.5],
    ])
      await page.mouse.click(...at(...p));
    g = await geometry();
    assert.strictEqual(g.zones.length, 1);
    assert.strictEqual(g.zones[0].name, 'zone-1');
    assert.strictEqual(g.zones[0].polygon.length, 4);
    near(g.zones[0].polygon[2], [0.95, 0.95], 'corner');
    // Another, closed by a double-click on its last corner: three corners, not four.
    await page.click('#node-line-count-tools [data-mode="zone"]');
    for (const p of [
      [0.05, 0.05],
      [0.3, 0.05],
    ])
      await page.mouse.click(...at(...p));
    await page.mouse.dblclick(...at(0.3, 0.3));
    g = await geometry();
    assert.deepStrictEqual(
      g.zones.map((z) => [z.name, z.polygon.length]),
      [
        ['zone-1', 4],
        ['zone-2', 3],
      ],
    );

    // Esc abandons a zone half drawn, and only that: the dialog stays open.
    await page.click('#node-line-count-tools [data-mode="zone"]');
    for (const p of [
      [0.4, 0.1],
      [0.5, 0.1],
    ])
      await page.mouse.click(...at(...p));
    await page.keyboard.press('Escape');
    assert.ok(await page.isVisible('#node-line-count-board'), 'the dialog is still open');
    assert.strictEqual((await geometry()).zones.length, 2);
    assert.ok(await page.evaluate(() => $('#node-line-count-tools [data-mode="select"]').hasClass('selected')), 'back to Select');

    // Select the door line by clicking on it, and delete it with the keyboard.
    await page.mouse.click(...at(0.4, 0.7));
    assert.strictEqual(await page.inputValue('#node-line-count-name'), 'door');
    await page.keyboard.press('Delete');
    g = await geometry();
    assert.deepStrictEqual(
      g.lines.map((l) => l.name),
      ['exit'],
    );

    // Typing in the JSON redraws the board; Done stores the JSON; Deploy hands it to the runtime.
    await page.evaluate(() => {
      const ed = RED.nodes.node('lc').editor;
      const v = JSON.parse(ed.getValue());
      v.lines[0].directions = 'in';
      ed.setValue(JSON.stringify(v), 1);
    });
    await page.mouse.click(...at(0.45, 0.35)); // on the exit line: selected from the typed JSON
    assert.strictEqual(await page.inputValue('#node-line-count-name'), 'exit');
    const want = await geometry();
    assert.strictEqual(want.lines[0].directions, 'in', 'a setting the board does not draw is kept');
    await page.click('#node-dialog-ok');
    await page.waitForSelector('#node-line-count-board', { state: 'detached' });
    assert.deepStrictEqual(JSON.parse(await page.evaluate(() => RED.nodes.node('lc').geometry)), want);
    await page.click('#red-ui-header-button-deploy');
    const deployed = await waitFor(
      async () => {
        const flows = JSON.parse((await get(`${url}/flows`, { 'Node-RED-API-Version': 'v1' })).body);
        const lc = flows.find((n) => n.id === 'lc');
        return lc && JSON.parse(lc.geometry).zones.length === 2 && JSON.parse(lc.geometry);
      },
      15000,
      'the deploy to reach the runtime',
      200,
    );
    assert.deepStrictEqual(deployed, want);
    assert.deepStrictEqual(problems, []);
  });

  it('draws workstation zones for productivity-state the same way (zones only; other keys kept)', async function () {
    const stations = await openDialog(page, url, 'ps', '#node-productivity-board');
    assert.deepStrictEqual(await stations(), STATIONS);
    assert.deepStrictEqual(
      await page.evaluate(() =>
        $('#node-productivity-tools [data-mode]')
          .map((_, b) => $(b).attr('data-mode'))
          .get(),
      ),
      ['select', 'zone'],
      'no line tool',
    );
    await page.click('#node-productivity-picture');
    await page.waitForFunction(() => /640×480/.test($('#node-productivity-picture-note').text()), null, { timeout: 15000 });
    const box = await page.locator('#node-productivity-board').boundingBox();
    const at = (x, y) => [box.x + x * box.width, box.y + y * box.height];
    await page.click('#node-productivity-tools [data-mode="zone"]');
    for (const p of [
      [0.5, 0.5],
      [0.8, 0.5],
      [0.8, 0.9],
      [0.5, 0.9],
      [0.5, 0.5],
    ])
      await page.mouse.click(...at(...p));
    const g = await stations();
    assert.deepStrictEqual(g.zones[0], STATIONS.zones[0], 'the existing station, camera and all, is untouched');
    assert.strictEqual(g.zones[1].name, 'station-2');
    assert.deepStrictEqual(
      g.zones[1].polygon.map((p) => p.map((v) => Math.round(v * 10) / 10)),
      [
        [0.5, 0.5],
        [0.8, 0.5],
        [0.8, 0.9],
        [0.5, 0.9],
      ],
    );
    await page.click('#node-dialog-ok');
    await page.waitForSelector('#node-productivity-board', { state: 'detached' });
    assert.deepStrictEqual(JSON.parse(await page.evaluate(() => RED.nodes.node('ps').stations)), g);
    assert.deepStrictEqual(problems, []);
  });

  it('draws with a finger too (a touch screen on the shop floor)', async function () {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, hasTouch: true });
    const tablet = await context.newPage();
    tablet.on('pageerror', (e) => problems.push(e.message));
    const geometry = await openDialog(tablet, url, 'lc', '#node-line-count-board');
    const before = (await geometry()).lines.length;
    await tablet.tap('#node-line-count-tools [data-mode="line"]');
    const box = await tablet.locator('#node-line-count-board').boundingBox();
    const at = (x, y) => ({ x: Math.round(box.x + x * box.width), y: Math.round(box.y + y * box.height) });
    const cdp = await context.newCDPSession(tablet);
    const touch = (type, p) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: p ? [{ ...p, id: 1 }] : [] });
    await touch('touchStart', at(0.2, 0.6));
    for (let i = 1; i <= 5; i++) await touch('touchMove', at(0.2 + 0.12 * i, 0.6));
    await touch('touchEnd');
    const g = await geometry();
    assert.strictEqual(g.lines.length, before + 1, 'a line drawn by touch');
    const l = g.lines[g.lines.length - 1];
    assert.ok(Math.abs(l.start[0] - 0.2) <= 0.01 && Math.abs(l.end[0] - 0.8) <= 0.01 && Math.abs(l.end[1] - 0.6) <= 0.01, JSON.stringify(l));
    await context.close();
    assert.deepStrictEqual(problems, []);
  });
});
