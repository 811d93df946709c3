'use strict';
// The vision-model dialog in a real Node-RED (the gateway app in a child process) and headless
// Chromium: upload an .onnx file from the browser, pick a model from <userDir>/edgevision/, fetch
// the manifest model with its labels and the demo clip (copied from EDGEVISION_ASSETS_FROM, as an
// air-gapped gateway does), all into the user dir. Then the same routes behind Node-RED's adminAuth:
// a read-only user may list but not upload or fetch.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const bcrypt = require('bcryptjs');
const { startGatewayChild, stopChild } = require('../helpers/gateway-child');
const { chromiumPath, launchChromium } = require('../helpers/browser');
const { assetsDir } = require('../helpers/assets');
const { batchEchoModel } = require('../helpers/tiny-onnx');
const { waitFor } = require('../helpers/wait');

const until = (cond, ms, what) => waitFor(cond, ms, what, 100);

function start(userDir, settings) {
  const empty = path.join(userDir, 'empty.json');
  fs.writeFileSync(empty, '[]');
  // EDGEVISION_ASSETS unset: the dialog sees the user dir only. The fetch copies from the shared assets.
  return startGatewayChild(
    { port: 0, userDir, flowFile: empty, resetFlows: true, settings },
    { EDGEVISION_ASSETS: undefined, EDGEVISION_ASSETS_FROM: assetsDir() },
    'warn',
  );
}

async function urlOf(child) {
  return until(() => child.url() || (child.exitCode !== null && Promise.reject(new Error(child.log()))), 60000, 'Node-RED to start');
}

describe('vision-model dialog: upload, pick, fetch into the user dir (e2e, Node-RED + Chromium)', function () {
  this.timeout(120000);
  let tmp, child, browser;

  before(() => {
    chromiumPath(); // fails now, before any server starts, when chromium is missing
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-model-dialog-'));
  });
  afterEach(async () => {
    if (child) await stopChild(child);
    child = null;
  });
  after(async () => {
    if (browser) await browser.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('uploads, picks and fetches, each filling the model field with a name that resolves in <userDir>/edgevision', async () => {
    const userDir = path.join(tmp, 'plain');
    const assets = path.join(userDir, 'edgevision');
    fs.mkdirSync(userDir);
    child = start(userDir, { visionModelMaxUploadMB: 10 / 1024 }); // 10 KiB: the tiny model fits, 20 KiB does not
    const url = await urlOf(child);
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(url + '/');
    await page.waitForFunction(
      () => window.RED && RED.nodes && RED.nodes.getType && RED.nodes.getType('vision-model') && $('.red-ui-palette-node').length > 0,
      null,
      { timeout: 60000 },
    );
    await page.evaluate(() => RED.view.importNodes([{ id: 'm1', type: 'vision-model', model: '/data/models/yolov8n.onnx', providers: 'cpu' }]));
    await page.evaluate(() => RED.editor.editConfig('', 'vision-model', 'm1'));
    await page.waitForSelector('#node-config-input-model', { state: 'visible' });
    const status = () => page.textContent('#vision-model-assets-status');
    const model = () => page.inputValue('#node-config-input-model');
    // A plain path stays a plain text field's value.
    assert.strictEqual(await model(), '/data/models/yolov8n.onnx');
    await page.waitForFunction(() => $('#vision-model-fetch-name option').length > 0, null, { timeout: 10000 });
    const pickText = await page.textContent('#vision-model-files option');
    assert.strictEqual(pickText, `pick a model in ${assets}`);

    // Upload from the browser.
    const echo = batchEchoModel();
    await page.setInputFiles('#vision-model-upload-file', { name: 'echo.onnx', mimeType: 'application/octet-stream', buffer: echo });
    await until(async () => /stored/.test(await status()), 20000, 'the upload to be stored');
    assert.strictEqual(await status(), 'echo.onnx (308 bytes) stored; the model field now names it');
    assert.strictEqual(await model(), 'echo.onnx');
    assert.deepStrictEqual(fs.readFileSync(path.join(assets, 'echo.onnx')), echo);
    assert.deepStrictEqual(fs.readdirSync(assets), ['echo.onnx'], 'no temporary file left');

    // A file over the runtime's limit is refused in the dialog, before anything is sent.
    await page.setInputFiles('#vision-model-upload-file', { name: 'big.onnx', mimeType: 'application/octet-stream', buffer: Buffer.alloc(20480, 1) });
    await until(async () => /takes uploads up to/.test(await status()), 10000, 'the size refusal');
    assert.strictEqual(await status(), 'big.onnx is 20 KiB; this Node-RED takes uploads up to 10 KiB (setting visionModelMaxUploadMB)');
    assert.deepStrictEqual(fs.readdirSync(assets), ['echo.onnx']);

    // Uploading it again asks before replacing it.
    let asked = null;
    page.once('dialog', (d) => {
      asked = d.message();
      d.accept();
    });
    await page.setInputFiles('#vision-model-upload-file', { name: 'echo.onnx', mimeType: 'application/octet-stream', buffer: echo });
    await until(() => asked, 10000, 'the replace question');
    assert.strictEqual(asked, 'echo.onnx is there already. Replace it?');
    await until(async () => /stored/.test(await status()), 10000, 'the replacement to be stored');

    // Pick: the list holds the uploaded file; picking fills the model field.
    await page.fill('#node-config-input-model', 'something-else.onnx');
    const options = await page.$$eval('#vision-model-files option', (os) => os.map((o) => /** @type {HTMLOptionElement} */ (o).value));
    assert.deepStrictEqual(options, ['', 'echo.onnx']);
    await page.selectOption('#vision-model-files', 'echo.onnx');
    assert.strictEqual(await model(), 'echo.onnx');

    // Fetch the manifest model, its labels and the demo clip.
    await page.selectOption('#vision-model-fetch-name', 'yolox_nano');
    await page.check('#vision-model-fetch-video');
    await page.click('#vision-model-fetch');
    await until(async () => /^fetched|^fetch failed/.test(await status()), 60000, 'the fetch to end');
    assert.strictEqual(await status(), `fetched yolox_nano.onnx, coco_classes.txt, vtest.avi into ${assets}`);
    assert.strictEqual(await model(), 'yolox_nano');
    assert.deepStrictEqual(fs.readdirSync(assets).sort(), ['coco_classes.txt', 'echo.onnx', 'vtest.avi', 'yolox_nano.onnx']);
    await until(
      async () => (await page.$$eval('#vision-model-files option', (os) => os.map((o) => /** @type {HTMLOptionElement} */ (o).value))).includes('yolox_nano'),
      5000,
      'the fetched model in the list',
    );
    const fetchLabel = await page.textContent('#vision-model-fetch-name option[value="yolox_nano"]');
    assert.match(fetchLabel, /✓$/, 'marked as present');

    await page.click('#node-config-dialog-ok');
    await page.waitForSelector('#node-config-dialog-ok', { state: 'detached' }).catch(() => undefined);
    assert.strictEqual(await page.evaluate(() => RED.nodes.node('m1').model), 'yolox_nano');
    assert.deepStrictEqual(problems, []);
    await page.close();
  });

  it('behind adminAuth: a read-only user lists the models but may not upload or fetch; an admin may', async () => {
    const userDir = path.join(tmp, 'auth');
    fs.mkdirSync(userDir);
    const hash = bcrypt.hashSync('pw-for-test', 8);
    child = start(userDir, {
      adminAuth: {
        type: 'credentials',
        users: [
          { username: 'viewer', password: hash, permissions: 'read' },
          { username: 'admin', password: hash, permissions: '*' },
        ],
      },
      visionModelMaxUploadMB: 1,
    });
    const url = await urlOf(child);
    const token = async (username, scope) => {
      const r = await fetch(`${url}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: 'node-red-admin', grant_type: 'password', scope, username, password: 'pw-for-test' }),
      });
      assert.strictEqual(r.status, 200, `login of ${username}`);
      return (await r.json()).access_token;
    };
    const viewer = await token('viewer', 'read');
    const admin = await token('admin', '*');
    const call = (tok, method, p, body, type = 'application/octet-stream') =>
      fetch(url + p, { method, headers: { ...(tok ? { authorization: `Bearer ${tok}` } : {}), 'content-type': type }, body });
    assert.strictEqual((await call(null, 'GET', '/vision-model/assets')).status, 401, 'no login: refused');
    assert.strictEqual((await call(viewer, 'GET', '/vision-model/assets')).status, 200);
    assert.strictEqual((await call(viewer, 'GET', '/vision-model/assets/fetch')).status, 200);
    assert.strictEqual((await call(viewer, 'POST', '/vision-model/assets/upload?name=v.onnx', Buffer.from('m'))).status, 401);
    assert.strictEqual((await call(viewer, 'POST', '/vision-model/assets/fetch', JSON.stringify({ name: 'yolox_nano' }), 'application/json')).status, 401);
    assert.ok(!fs.existsSync(path.join(userDir, 'edgevision')), 'nothing written for the read-only user');
    assert.strictEqual((await call(admin, 'POST', '/vision-model/assets/upload?name=a.onnx', Buffer.from('m'))).status, 200);
    assert.deepStrictEqual(fs.readdirSync(path.join(userDir, 'edgevision')), ['a.onnx']);
    // The settings.js cap (1 MiB here): a 4 MiB upload is refused before it is read, and nothing is kept.
    const big = await call(admin, 'POST', '/vision-model/assets/upload?name=big.onnx', Buffer.alloc(4 * 1048576, 1));
    assert.strictEqual(big.status, 413);
    assert.match((await big.json()).error, /big\.onnx is 4\.0 MiB; the limit is 1\.0 MiB/);
    assert.deepStrictEqual(fs.readdirSync(path.join(userDir, 'edgevision')), ['a.onnx']);
  });
});
