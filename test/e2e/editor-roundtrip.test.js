'use strict';
// Every vision-* node of the demo flow and of the examples, opened in the Node-RED editor (headless
// Chromium) and closed with Done, keeps its settings: a value the dialog cannot show (a ${VAR} in a
// number field) or a setting the flow predates (a checkbox whose default is on) must not come back
// changed. The flows are imported, not deployed, so nothing runs. Also opens every dialog without a
// script error. Runs on Node-RED 4 (npm test), 5 and 3.1 (npm run test:nr5, test:nr3), whose editors differ.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startGatewayChild, stopChild } = require('../helpers/gateway-child');
const { chromiumPath, launchChromium } = require('../helpers/browser');
const { waitFor } = require('../helpers/wait');

const ROOT = path.join(__dirname, '..', '..');
const FLOWS = [
  'flows/demo.json',
  ...fs
    .readdirSync(path.join(ROOT, 'examples'))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => 'examples/' + f),
];

describe('editor: every vision node of the demo and the examples survives Edit → Done unchanged', function () {
  this.timeout(120000);
  let gw, browser, page, userDir;
  const problems = [];
  const seen = new Set(); // a node the same as one already checked (the examples share their sources) is skipped

  before(async function () {
    chromiumPath(); // fails now, before any server starts, when chromium is missing
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-editor-'));
    const empty = path.join(userDir, 'empty.json');
    fs.writeFileSync(empty, '[]');
    gw = startGatewayChild({ port: 0, userDir, flowFile: empty, resetFlows: true }, {}, 'warn');
    const url = await waitFor(() => gw.url() || (gw.exitCode !== null && Promise.reject(new Error(gw.log()))), 60000, 'Node-RED to start', 200);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(url + '/');
    await page.waitForFunction(
      () => window.RED && RED.nodes && RED.nodes.getType && RED.nodes.getType('vision-detect') && $('.red-ui-palette-node').length > 0,
      null,
      { timeout: 60000 },
    );
  });

  after(async function () {
    if (browser) await browser.close();
    if (gw) await stopChild(gw);
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('the Dashboard 2.0 example imported twice as a copy: each widget is set to the nodes of its own flow', async () => {
    const flow = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', '10-dashboard-2.json'), 'utf8'));
    const fields = {
      'vision-ui-live': 'view',
      'vision-ui-tiles': 'source',
      'vision-ui-timeline': 'source',
      'vision-ui-board': 'source',
      'vision-ui-floor': 'source',
      'vision-ui-events': 'sources',
    };
    const widgets = flow.filter((/** @type {any} */ n) => n.type in fields).length;
    assert.ok(widgets >= 3, `the example has widgets (${widgets})`);
    for (let copy = 1; copy <= 2; copy++) {
      const found = await page.evaluate(
        async ({ flow, fields }) => {
          const before = new Set();
          RED.nodes.eachNode((n) => before.add(n.id));
          RED.view.importNodes(flow, { generateIds: true, addFlow: true });
          await new Promise((r) => setTimeout(r, 100)); // the widgets are set once the whole import is in
          const out = [];
          RED.nodes.eachNode((n) => {
            if (before.has(n.id) || !(n.type in fields)) return;
            const v = n[fields[n.type]];
            for (const id of Array.isArray(v) ? v : [v]) {
              const target = RED.nodes.node(id);
              out.push(`${n.type} → ${target ? (target.z === n.z ? 'its own flow' : 'another flow') : 'missing ' + id}`);
            }
          });
          return out;
        },
        { flow, fields },
      );
      assert.ok(found.length >= widgets, found.join('; '));
      assert.deepStrictEqual(
        found.filter((f) => !f.endsWith('its own flow')),
        [],
        `copy ${copy}`,
      );
    }
  });

  for (const file of FLOWS) {
    it(file, async () => {
      const flow = JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8'));
      const ids = await page.evaluate((flow) => {
        const before = new Set();
        RED.nodes.eachNode((n) => before.add(n.id));
        RED.nodes.eachConfig((n) => before.add(n.id));
        // Imported as copies (new ids) next to what earlier files left.
        RED.view.importNodes(flow, { generateIds: true, addFlow: true });
        const out = [];
        const take = (n) => {
          if (before.has(n.id) || !n.type.startsWith('vision-')) return;
          const props = {};
          for (const k of Object.keys(n._def.defaults)) if (!n._def.defaults[k].type) props[k] = n[k];
          out.push({ id: n.id, type: n.type, config: n._def.category === 'config', key: n.type + JSON.stringify(props) });
        };
        RED.nodes.eachNode(take);
        RED.nodes.eachConfig(take);
        return out;
      }, flow);
      assert.ok(ids.length > 0, `${file} has vision nodes`);
      const changed = [];
      for (const { id, type, config, key } of ids) {
        if (seen.has(key)) continue;
        seen.add(key);
        const snap = () =>
          page.evaluate((id) => {
            const n = RED.nodes.node(id);
            const o = {};
            for (const k of Object.keys(n._def.defaults)) o[k] = n[k] === undefined ? { absent: true, def: n._def.defaults[k].value } : n[k];
            return o;
          }, id);
        const pre = await snap();
        const errs = problems.length;
        await page.evaluate(({ id, type, config }) => (config ? RED.editor.editConfig('', type, id) : RED.editor.edit(RED.nodes.node(id))), {
          id,
          type,
          config,
        });
        const ok = config ? '#node-config-dialog-ok' : '#node-dialog-ok';
        await page.waitForSelector(ok, { state: 'visible' });
        // As a person would: the dialog settles before Done. (Done within milliseconds of opening races
        // the code editor's own start-up, and Monaco throws "Model is disposed!".)
        await page.waitForTimeout(500);
        await page.click(ok);
        await page.waitForSelector(ok, { state: 'detached' });
        const post = await snap();
        for (const k of Object.keys(pre)) {
          const a = pre[k];
          const b = post[k];
          const same = (x, y) => {
            if (String(x) === String(y)) return true;
            try {
              return JSON.stringify(JSON.parse(x)) === JSON.stringify(JSON.parse(y)); // reformatted JSON
            } catch {
              return false;
            }
          };
          if (a && a.absent) {
            // Not in the flow: the dialog may fill in the default (or leave a number empty, which the
            // runtime reads as the default), never another value.
            if (!(b === undefined || (b && b.absent) || same(b, a.def) || (b === '' && typeof a.def !== 'boolean')))
              changed.push(`${type}.${k}: absent (default ${JSON.stringify(a.def)}) → ${JSON.stringify(b)}`);
          } else if (!same(a, b)) {
            changed.push(`${type}.${k}: ${JSON.stringify(a)} → ${JSON.stringify(b)}`);
          }
        }
        assert.deepStrictEqual(problems.slice(errs), [], `${type}: no script error in its dialog`);
      }
      assert.deepStrictEqual(changed, [], `${file}: settings changed by Edit → Done`);
    });
  }
});
