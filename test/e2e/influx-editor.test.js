'use strict';
// The two nodes installed as a package into a real Node-RED, their edit dialogs opened in headless
// Chromium: help and labels load, the 1.x / 2.x rows switch, validators answer, no script errors.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { freePort, request } = require('../helpers/influx-servers');
const { chromiumPath, launchChromium } = require('../helpers/browser');
const { sleep } = require('../helpers/wait');

const ROOT = path.join(__dirname, '..', '..');

describe('vision-influxdb / vision-influx-write editor (e2e, Node-RED + Chromium)', function () {
  this.timeout(90000);
  let dir;
  let red;
  let browser;
  let url;

  before(async function () {
    chromiumPath(); // fails now, before any server starts, when chromium is missing
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-nr-'));
    const pkg = path.join(dir, 'node_modules', 'ev-influx-under-test');
    fs.mkdirSync(pkg, { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'dist'), path.join(pkg, 'dist'));
    fs.writeFileSync(
      path.join(pkg, 'package.json'),
      JSON.stringify({
        name: 'ev-influx-under-test',
        version: '0.0.0',
        'node-red': { nodes: { 'vision-influxdb': 'dist/nodes/influxdb/influxdb.js', 'vision-influx-write': 'dist/nodes/influx-write/influx-write.js' } },
      }),
    );
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    fs.writeFileSync(
      path.join(dir, 'settings.js'),
      `module.exports = { uiPort: ${port}, uiHost: '127.0.0.1', userDir: ${JSON.stringify(dir)}, credentialSecret: 'test', logging: { console: { level: 'warn' } }, editorTheme: { tours: false } };`,
    );
    red = spawn(process.execPath, [require.resolve('node-red/red.js'), '-s', path.join(dir, 'settings.js')], { stdio: 'ignore' });
    for (let i = 0; i < 300; i++) {
      const r = await request('GET', `${url}/settings`).catch(() => null);
      if (r && r.status === 200) break;
      await sleep(100);
    }
    browser = await launchChromium();
  });

  after(async function () {
    if (browser) await browser.close();
    if (red && red.exitCode === null) {
      const gone = new Promise((r) => red.once('exit', r));
      red.kill('SIGTERM');
      const t = setTimeout(() => red.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('registers both nodes with help, and their dialogs work', async function () {
    const nodes = JSON.parse((await request('GET', `${url}/nodes`, undefined, { Accept: 'application/json' })).body);
    const ours = nodes.filter((n) => n.module === 'ev-influx-under-test');
    assert.deepStrictEqual(ours.map((n) => [n.types[0], n.enabled, n.err || null]).sort(), [
      ['vision-influx-write', true, null],
      ['vision-influxdb', true, null],
    ]);

    const page = await browser.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => window.RED && RED.nodes && RED.nodes.getType && RED.nodes.getType('vision-influx-write'), null, { timeout: 30000 });
    const help = await page.evaluate(() => $('script[data-help-name="vision-influx-write"]').length + $('script[data-help-name="vision-influxdb"]').length);
    assert.strictEqual(help, 2, 'both help texts are served');

    await page.evaluate(() => {
      RED.view.importNodes([
        { id: 'cfg1', type: 'vision-influxdb', version: '1.x', host: '127.0.0.1', port: 8086, database: 'factory' },
        { id: 'w1', type: 'vision-influx-write', influxdb: 'cfg1', measurement: 'kpi', x: 200, y: 100, wires: [[], []] },
      ]);
    });
    const labels = await page.evaluate(() => {
      const w = RED.nodes.node('w1');
      const t = RED.nodes.getType('vision-influx-write');
      return { label: t.label.call(w), outputs: t.outputs, outputLabels: [0, 1].map((i) => t.outputLabels.call(w, i)), category: t.category };
    });
    assert.deepStrictEqual(labels, {
      label: 'influx kpi',
      outputs: 2,
      outputLabels: ['batch written / spooled', 'refused as malformed (dead letter)'],
      category: 'vision',
    });

    await page.evaluate(() => RED.editor.edit(RED.nodes.node('w1')));
    await page.waitForSelector('#node-input-batchSize', { state: 'visible' });
    assert.strictEqual(await page.inputValue('#node-input-measurement'), 'kpi');
    assert.strictEqual(await page.inputValue('#node-input-influxdb'), 'cfg1');
    const writerVerdicts = await page.evaluate(() => {
      const d = RED.nodes.getType('vision-influx-write').defaults;
      const ctx = { _: (k) => k };
      return [
        d.batchSize.validate.call(ctx, 0),
        d.batchSize.validate.call(ctx, 500),
        d.measurement.validate.call(ctx, '_x'),
        d.integerFields.validate.call(ctx, 'a, b'),
      ];
    });
    assert.deepStrictEqual(writerVerdicts, ['vision-influx-write.errors.batchSize', true, 'vision-influx-write.errors.measurement', true]);
    await page.evaluate(() => RED.tray.close());
    await sleep(500);

    await page.evaluate(() => RED.editor.editConfig('', 'vision-influxdb', 'cfg1'));
    await page.waitForSelector('#node-config-input-version', { state: 'visible' });
    const rows = () =>
      page.evaluate(() => [
        $('#node-config-input-database').is(':visible'),
        $('#node-config-input-createDatabase').is(':visible'),
        $('#node-config-input-bucket').is(':visible'),
      ]);
    assert.deepStrictEqual(await rows(), [true, true, false], '1.x rows shown');
    assert.strictEqual(await page.isChecked('#node-config-input-createDatabase'), true, 'creating a missing database is on by default');
    await page.selectOption('#node-config-input-version', '2.x');
    assert.deepStrictEqual(await rows(), [false, false, true], '2.x rows shown');

    const verdicts = await page.evaluate(() => {
      const d = RED.nodes.getType('vision-influxdb').defaults;
      const ctx = { version: '2.x', _: (k) => k };
      return [d.url.validate.call(ctx, 'ftp://x'), d.url.validate.call(ctx, 'http://db:8086'), d.port.validate.call({ version: '1.x', _: (k) => k }, 70000)];
    });
    assert.deepStrictEqual(verdicts, ['vision-influxdb.errors.url', true, 'vision-influxdb.errors.port']);
    assert.deepStrictEqual(problems, []);
    await page.close();
  });
});
