'use strict';
// Identities across two gateways: one mosquitto broker (user/password) and two Node-RED gateways
// (flows/gateway.js in child processes), each with camera-source → ground-truth boxes → vision-reid
// sharing over MQTT. The TUD-Campus clip is split in time: gateway A's camera sees the first half,
// gateway B's camera the second (the same people walked over). A person that left A's camera must
// keep A's global id at B. B's dashboard (Dashboard 1, a ui_template with the floor-map widget) is
// opened in headless Chromium and must show the people as dots labelled with those ids; so must B's
// Dashboard 2.0 floor widget (vision-ui-floor), on a phone's width. Last, both gateways are redeployed
// with an overlapping split (A: the first 3/4 of the clip, B: the last 3/4, same clock): both see the
// same people at once, and each person must carry one global id on both while both tracks are live.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const mqtt = require('mqtt');
const { startMosquitto } = require('../helpers/mosquitto');
const { chromiumPath, launchChromium } = require('../helpers/browser');
const { startGatewayChild, stopChild, ROOT } = require('../helpers/gateway-child');
const { assetsDir } = require('../helpers/assets');
const { waitFor } = require('../helpers/wait');

const until = (cond, ms, what) => waitFor(cond, ms, what, 100);
const ROOT_TOPIC = 'edgevision-test/reid';
const USER = 'edge';
const PASSWORD = 'not-a-real-secret-7';
const SEQ = 'TUD-Campus';
const FPS = 25;

/** MOT ground truth → per 0-based frame: [[id, x1, y1, x2, y2], …] (flag-0 rows left out). */
function readGt(file) {
  const byFrame = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const f = line.split(',').map(Number);
    if (f.length < 7 || f[6] === 0) continue;
    (byFrame[f[0] - 1] = byFrame[f[0] - 1] || []).push([f[1], f[2], f[3], f[2] + f[4], f[3] + f[5]]);
  }
  return byFrame;
}

// Ground truth as the tracker: each gateway's camera shows the people of its half only (track ids
// of B are gt + 100000, so nothing but appearance can link them); the other half is an empty room.
// The frame's pixels are found by camera and sequence number, so shifting its time is safe.
const GT_FUNCTION = `const c = global.get('clip');
// A replay continues the camera's clock: frame index within the clip.
const n = Math.round((msg.payload.frame.tMs * c.fps) / 1000) % c.frames;
// Overlapping views: A sees frames [0, 3/4), B sees [1/4, end): the middle half is seen by both at once.
const overlap = OVERLAP;
const mine = overlap ? (c.part === 'first' ? n < Math.round((c.frames * 3) / 4) : n >= Math.round(c.frames / 4)) : c.part === 'first' ? n < c.split : n >= c.split;
const rows = mine ? c.gt[n] || [] : [];
// B's clock reads 3 s later: the walk from A's area to B's (as in edgevision bench reid).
msg.payload.frame = { ...msg.payload.frame, tMs: msg.payload.frame.tMs + (overlap ? 0 : c.shiftMs) };
msg.payload.detections = rows.map((r) => ({ box: [r[1], r[2], r[3], r[4]], score: 1, classId: 0, label: 'person', trackId: c.part === 'first' ? r[0] : r[0] + 100000 }));
return msg;`;

// The floor: the image's lower part mapped onto a 10 m × 6 m area (any homography serves the test).
const CALIBRATION = (camera) =>
  JSON.stringify({
    [camera]: {
      image: [
        [0, 480],
        [640, 480],
        [640, 150],
        [0, 150],
      ],
      floor: [
        [0, 6],
        [10, 6],
        [10, 0],
        [0, 0],
      ],
    },
  });

const FLOOR_TEMPLATE = `<div id="ev-floor-map"></div>
<script>
(function () {
  function go() { window.EdgeVisionFloorMap(document.getElementById('ev-floor-map'), { url: '/vision-reid/floor' }); }
  if (window.EdgeVisionFloorMap) return go();
  var s = document.createElement('script');
  s.src = '/vision-reid/floor-map.js';
  s.onload = go;
  document.head.appendChild(s);
})();
</script>`;

// Dashboard 2.0 at /dashboard/floor with the vision-ui-floor widget set to the gateway's reid node.
function dashboard2(gw, z) {
  return [
    {
      id: `d2-base-${gw}`,
      type: 'ui-base',
      name: 'Edge Vision',
      path: '/dashboard',
      includeClientData: true,
      acceptsClientConfig: [],
      showPathInSidebar: false,
      navigationStyle: 'none',
      titleBarStyle: 'default',
    },
    {
      id: `d2-theme-${gw}`,
      type: 'ui-theme',
      name: 'Edge Vision',
      colors: { surface: '#37474f', primary: '#0094ce', bgPage: '#eeeeee', groupBg: '#ffffff', groupOutline: '#cccccc' },
      sizes: { density: 'default', pagePadding: '12px', groupGap: '12px', groupBorderRadius: '4px', widgetGap: '12px' },
    },
    {
      id: `d2-page-${gw}`,
      type: 'ui-page',
      name: 'Floor',
      ui: `d2-base-${gw}`,
      path: '/floor',
      icon: 'map',
      layout: 'grid',
      theme: `d2-theme-${gw}`,
      order: 1,
      visible: 'true',
      disabled: 'false',
      breakpoints: [
        { name: 'Default', px: '0', cols: '3' },
        { name: 'Tablet', px: '576', cols: '6' },
        { name: 'Small Desktop', px: '768', cols: '9' },
        { name: 'Desktop', px: '1024', cols: '12' },
      ],
    },
    {
      id: `d2-group-${gw}`,
      type: 'ui-group',
      name: 'Floor',
      page: `d2-page-${gw}`,
      width: '6',
      height: '1',
      order: 1,
      showTitle: true,
      visible: 'true',
      disabled: 'false',
      groupType: 'default',
    },
    {
      id: `d2-floor-${gw}`,
      type: 'vision-ui-floor',
      z,
      name: '',
      group: `d2-group-${gw}`,
      order: 1,
      width: 0,
      height: 0,
      label: 'Who is where',
      source: `reid-${gw}`,
      showAreas: true,
      wires: [],
    },
  ];
}

function gatewayFlow(gw, camera, broker, clip, overlap = false) {
  const z = `tab-${gw}`;
  return [
    ...(gw === 'gw-b' && !overlap ? dashboard2(gw, z) : []),
    { id: z, type: 'tab', label: gw },
    {
      id: `start-${gw}`,
      type: 'inject',
      z,
      name: 'start camera',
      props: [{ p: 'payload' }],
      payload: 'start',
      payloadType: 'str',
      repeat: '',
      once: false,
      wires: [[`cam-${gw}`]],
    },
    {
      id: `cam-${gw}`,
      type: 'vision-camera-source',
      z,
      name: camera,
      camera,
      url: clip,
      fps: 0,
      maxWidth: 0,
      realtime: true,
      loop: false,
      autoStart: false,
      reconnect: false,
      wires: [[`gt-${gw}`]],
    },
    {
      id: `gt-${gw}`,
      type: 'function',
      z,
      name: 'ground truth as tracks',
      func: GT_FUNCTION.replace('OVERLAP', String(overlap)),
      outputs: 1,
      wires: [[`reid-${gw}`]],
    },
    {
      id: `reid-${gw}`,
      type: 'vision-reid',
      z,
      name: 'reid',
      embedder: 'colour',
      calibrations: CALIBRATION(camera),
      share: true,
      broker,
      gateway: gw,
      topicRoot: ROOT_TOPIC,
      shareQueue: 100,
      // Node-RED's credentials mechanism: sent with the deploy, stored encrypted, never in the flow file.
      credentials: { mqttUser: USER, mqttPassword: PASSWORD },
      wires: [[], []],
    },
    { id: `ui-tab-${gw}`, type: 'ui_tab', name: 'Floor', icon: 'dashboard', order: 1, disabled: false, hidden: false },
    { id: `ui-group-${gw}`, type: 'ui_group', name: 'Floor map', tab: `ui-tab-${gw}`, order: 1, disp: true, width: 12, collapse: false },
    {
      id: `ui-map-${gw}`,
      type: 'ui_template',
      z,
      group: `ui-group-${gw}`,
      name: 'floor map',
      order: 1,
      width: 12,
      height: 8,
      format: FLOOR_TEMPLATE,
      storeOutMessages: false,
      fwdInMessages: false,
      resendOnRefresh: false,
      templateScope: 'local',
      wires: [[]],
    },
  ];
}

async function deploy(url, flows) {
  const r = await fetch(`${url}/flows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify(flows),
  });
  assert.strictEqual(r.status, 204, `deploy: HTTP ${r.status} ${await r.text()}`);
}

describe('reid across two gateways over MQTT (mosquitto, two Node-RED, dashboard floor map in Chromium)', function () {
  this.timeout(180000);
  const t0 = Date.now();
  let broker, client, browser, page;
  const gws = {};
  const dirs = [];
  const records = [];
  const live = [];
  const presence = {};
  let gt, split, frames, handovers;

  before(async () => {
    chromiumPath();
    gt = readGt(path.join(assetsDir(), 'mot15', SEQ, 'gt', 'gt.txt'));
    frames = Math.max(...Object.keys(gt).map(Number)) + 1;
    split = Math.floor(frames / 2);
    const first = new Set();
    const second = new Set();
    for (const [n, rows] of Object.entries(gt)) for (const r of rows) (Number(n) < split ? first : second).add(r[0]);
    handovers = [...first].filter((p) => second.has(p));
    broker = await startMosquitto({ users: { [USER]: PASSWORD } });
    client = mqtt.connect(broker.url, { username: USER, password: PASSWORD, reconnectPeriod: 0 });
    await new Promise((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
    });
    client.on('message', (topic, payload) => {
      const m = JSON.parse(payload.toString());
      if (topic.startsWith(`${ROOT_TOPIC}/_gateways/`)) presence[m.gateway] = m.online;
      // Live records (a fifth topic level) apart from the ended ones.
      else (topic.endsWith('/live') ? live : records).push({ topic, ...m });
    });
    await new Promise((resolve, reject) => client.subscribe(`${ROOT_TOPIC}/#`, { qos: 1 }, (e) => (e ? reject(e) : resolve())));
    const clip = path.join(assetsDir(), 'video', `${SEQ}.mp4`);
    for (const [gw, part] of [
      ['gw-a', 'first'],
      ['gw-b', 'second'],
    ]) {
      const userDir = fs.mkdtempSync(path.join(os.tmpdir(), `ev-${gw}-`));
      dirs.push(userDir);
      const flowFile = path.join(userDir, 'seed.json');
      fs.writeFileSync(flowFile, '[]');
      const settings = {
        functionGlobalContext: { clip: { gt, split, frames, part, fps: FPS, shiftMs: part === 'first' ? 0 : 3000 } },
        visionAllowedFileDirs: [path.dirname(clip)],
        credentialSecret: 'test-only-secret',
      };
      gws[gw] = startGatewayChild({ port: 0, userDir, flowFile, resetFlows: true, settings }, { EDGEVISION_PROVIDERS: 'cpu' });
    }
    for (const [gw, child] of Object.entries(gws)) {
      child.base = await until(() => child.url() || (child.exitCode !== null && Promise.reject(new Error(child.log()))), 60000, `${gw} to start`);
      await deploy(child.base, gatewayFlow(gw, gw === 'gw-a' ? 'cam-a' : 'cam-b', broker.url, clip));
    }
    // Presence comes after the subscription: once both say online, both hear every record.
    await until(() => presence['gw-a'] && presence['gw-b'], 30000, 'both gateways online on the broker');
  });

  after(async () => {
    if (browser) await browser.close();
    for (const c of Object.values(gws)) await stopChild(c);
    if (client) client.end(true);
    if (broker) await broker.destroy();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    console.log(`      (file took ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  });

  it('the credentials were stored by Node-RED, not in the flow file; a wrong password is refused by the broker', async () => {
    const stored = fs.readFileSync(path.join(dirs[0], 'flows.json'), 'utf8');
    assert.ok(!stored.includes(PASSWORD) && !stored.includes('mqttPassword'), 'password in flows.json');
    assert.ok(fs.existsSync(path.join(dirs[0], 'flows_cred.json')), 'no credentials file');
    const bad = mqtt.connect(broker.url, { username: USER, password: 'wrong', reconnectPeriod: 0 });
    const err = await new Promise((resolve) => bad.once('error', resolve));
    bad.end(true);
    assert.match(err.message, /Not authorized|Bad username or password/i);
  });

  it('gateway A publishes the ended tracks of its half: model id, camera, gateway, time, global id, embedding', async () => {
    await fetch(`${gws['gw-a'].base}/inject/start-gw-a`, { method: 'POST' });
    await until(() => handovers.every((p) => records.some((r) => r.gateway === 'gw-a' && r.trackId === p)), 30000, `gw-a records of people ${handovers}`);
    const r = records.find((x) => x.gateway === 'gw-a');
    assert.strictEqual(r.topic, `${ROOT_TOPIC}/colour:v1:168/gw-a/cam-a`);
    assert.deepStrictEqual(
      [r.v, r.modelId, r.camera, r.embedding.length, typeof r.endMs, Array.isArray(r.floor)],
      [1, 'colour:v1:168', 'cam-a', 168, 'number', true],
    );
    assert.match(r.globalId, /^gw-a:p\d+$/);
    // While in view, confirmed tracks went out as live records too (version 2, rate-limited per track).
    const l = live.find((x) => x.gateway === 'gw-a');
    assert.ok(l, 'no live record from gw-a');
    assert.deepStrictEqual([l.topic, l.v, l.state, l.embedding.length], [`${ROOT_TOPIC}/colour:v1:168/gw-a/cam-a/live`, 2, 'live', 168]);
    const perTrack = new Map();
    for (const x of live.filter((y) => y.gateway === 'gw-a')) perTrack.set(x.trackId, (perTrack.get(x.trackId) || 0) + 1);
    // A track in view for the whole half (1.4 s) is sent at most every 250 ms (when its average moves).
    assert.ok(Math.max(...perTrack.values()) <= 8, `live records per track: ${JSON.stringify([...perTrack])}`);
  });

  it('gateway B: each person keeps the global id A gave them; the floor map shows them as labelled dots', async () => {
    const fromA = new Map(records.filter((r) => r.gateway === 'gw-a').map((r) => [r.trackId, r.globalId]));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    page.on('pageerror', (e) => console.log(`      page error: ${e.message}`));
    await page.goto(`${gws['gw-b'].base}/ui/`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#ev-floor-map svg.ev-floor-map', { timeout: 30000 });
    // The Dashboard 2.0 widget, on a phone's width.
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    phone.on('pageerror', (e) => console.log(`      page error (Dashboard 2.0): ${e.message}`));
    await phone.goto(`${gws['gw-b'].base}/dashboard/floor`, { waitUntil: 'domcontentloaded' });
    await phone.waitForSelector('.ev-floor', { timeout: 30000 });
    await fetch(`${gws['gw-b'].base}/inject/start-gw-b`, { method: 'POST' });
    const startedB = Date.now();
    // B's people, by ground-truth person, as B's floor route reports them while the clip plays.
    const atB = new Map();
    const onMap = new Set();
    const onWidget = new Set();
    /** @type {any} what the phone page measured */
    let widgetFit = null;
    await until(
      async () => {
        const f = await (await fetch(`${gws['gw-b'].base}/vision-reid/floor`)).json();
        for (const p of f.people) atB.set(p.trackId - 100000, p.globalId);
        const shown = await page.$$eval('#ev-floor-map g.ev-floor-person', (gs) =>
          gs.map((g) => [g.getAttribute('data-global-id'), g.querySelector('text').textContent, !!g.querySelector('circle')]),
        );
        for (const [id, label, dot] of shown) if (dot && id === label) onMap.add(id);
        const shown2 = await phone.$$eval('.ev-floor svg g.ev-floor-person', (gs) =>
          gs.map((g) => [g.getAttribute('data-global-id'), g.querySelector('text').textContent, !!g.querySelector('circle')]),
        );
        for (const [id, label, dot] of shown2) if (dot && id === label) onWidget.add(id);
        if (!widgetFit && shown2.length)
          widgetFit = await phone.evaluate(() => {
            const r = document.querySelector('.ev-floor svg').getBoundingClientRect();
            return {
              left: r.left,
              right: r.right,
              width: r.width,
              height: r.height,
              page: document.documentElement.clientWidth,
              scroll: document.documentElement.scrollWidth,
            };
          });
        // An engine may show an id of B's own until a track has enough crops to match: poll on until
        // every handed-over person carries A's id, or B's half of the clip (1.4 s) has long played.
        const settled = handovers.every((p) => atB.get(p) === fromA.get(p)) || Date.now() - startedB > 8000;
        const widget = [...fromA.values()].some((id) => onWidget.has(id));
        return handovers.every((p) => atB.has(p)) && [...fromA.values()].some((id) => onMap.has(id)) && widget && settled;
      },
      30000,
      'B to see every handed-over person, and both maps to show one of A’s ids',
    );
    const kept = handovers.filter((p) => atB.get(p) === fromA.get(p));
    // A wrong merge: B gave someone an id that A had given to a different person.
    const wrong = [...atB].filter(([p, id]) => [...fromA].some(([q, aid]) => aid === id && q !== p));
    console.log(
      `      ${kept.length}/${handovers.length} people kept their global id across gateways, ${wrong.length} wrong merges; on the map: ${[...onMap].join(', ')}`,
    );
    fs.mkdirSync(path.join(ROOT, 'test', 'output'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'test', 'output', 'reid-floor-map.png') });
    await phone.screenshot({ path: path.join(ROOT, 'test', 'output', 'reid-floor-widget-phone.png'), fullPage: true });
    console.log(
      `      Dashboard 2.0 floor widget at 390 px: ${[...onWidget].join(', ')}; svg ${Math.round(widgetFit.width)}×${Math.round(widgetFit.height)} px`,
    );
    // Fits a phone: the drawing is within the screen and the page does not scroll sideways.
    assert.ok(widgetFit.left >= -1 && widgetFit.right <= widgetFit.page + 1 && widgetFit.scroll <= widgetFit.page + 1, JSON.stringify(widgetFit));
    assert.ok(
      [...onWidget].some((id) => id.startsWith('gw-a:')),
      `widget ids: ${[...onWidget]}`,
    );
    // The colour default (fixed 0.95 until the calibration can show its target rate) merges nobody
    // but keeps fewer hand-overs on this clip than 0.9 did (3/5 against 5/5): the exchange is under
    // test here, so more than half, each with A's id, and no wrong merge.
    assert.ok(
      kept.length > handovers.length / 2,
      `only ${kept.length}/${handovers.length} kept their id: A ${JSON.stringify([...fromA])} B ${JSON.stringify([...atB])}`,
    );
    assert.deepStrictEqual(wrong, []);
    // The stored dots are the live ones: B's people, with ids from A.
    assert.ok(
      [...onMap].some((id) => id.startsWith('gw-a:')),
      `map ids: ${[...onMap]}`,
    );
  });

  it('a record B cannot use (wrong size, wrong model) is refused and counted, B keeps running', async () => {
    const wrong = {
      v: 1,
      gateway: 'gw-x',
      camera: 'cam-x',
      trackId: 1,
      globalId: 'gw-x:p1',
      modelId: 'colour:v1:168',
      firstMs: 0,
      endMs: 1,
      samples: 1,
      embedding: [1, 0],
    };
    await new Promise((resolve) => client.publish(`${ROOT_TOPIC}/colour:v1:168/gw-x/cam-x`, JSON.stringify(wrong), { qos: 1 }, resolve));
    const s = await until(
      async () => {
        const x = await (await fetch(`${gws['gw-b'].base}/vision-reid/reid-gw-b/share`)).json();
        return x.refused >= 1 && x;
      },
      10000,
      'B to refuse the record',
    );
    assert.match(s.lastRefused, /embedding must be 168 numbers/);
    assert.strictEqual(gws['gw-b'].exitCode, null);
  });

  it('broker down: gateway A keeps running and queues its records (bounded); back up, it sends them', async () => {
    const share = async () => (await fetch(`${gws['gw-a'].base}/vision-reid/reid-gw-a/share`)).json();
    const before = await share();
    assert.deepStrictEqual([before.state, before.queued], ['connected', 0]);
    await broker.stop();
    await until(async () => (await share()).state !== 'connected', 15000, 'A to notice the broker is gone');
    // A's camera plays its half again: its people end and their records wait in the queue.
    await fetch(`${gws['gw-a'].base}/inject/start-gw-a`, { method: 'POST' });
    const down = await until(
      async () => {
        const s = await share();
        return s.queued >= 3 && s; // most of the 6 people end with enough crops to be published
      },
      30000,
      'records queued while the broker is down',
    );
    assert.ok(down.queued <= 100, `queue over its bound: ${down.queued}`);
    assert.strictEqual(gws['gw-a'].exitCode, null, 'gateway A exited');
    await broker.start();
    const up = await until(
      async () => {
        const s = await share();
        return s.state === 'connected' && s.queued === 0 && s.inFlight === 0 && s;
      },
      30000,
      'A to reconnect and flush its queue',
    );
    assert.ok(up.sent >= before.sent + down.queued, `sent ${up.sent}, before ${before.sent}, queued ${down.queued}`);
    console.log(`      broker down: ${down.queued} records queued (bound 100, ${down.dropped} dropped), all sent after it came back`);
  });
  it('overlapping views on two gateways: a person both see at once has one global id while both tracks are live', async () => {
    const t1 = Date.now();
    const share = async (gw) => (await fetch(`${gws[gw].base}/vision-reid/reid-${gw}/share`)).json();
    // Fresh engines and fresh camera clocks (new camera names), A and B on the same clock.
    for (const [gw, camera] of [
      ['gw-a', 'cam-a2'],
      ['gw-b', 'cam-b2'],
    ])
      await deploy(gws[gw].base, gatewayFlow(gw, camera, broker.url, path.join(assetsDir(), 'video', `${SEQ}.mp4`), true));
    await until(
      async () => (await share('gw-a')).state === 'connected' && (await share('gw-b')).state === 'connected',
      30000,
      'both gateways back on the broker',
    );
    const quarter = Math.round(frames / 4);
    const both = new Set();
    for (const [n, rows] of Object.entries(gt)) if (Number(n) >= quarter && Number(n) < frames - quarter) for (const r of rows) both.add(r[0]);
    // The live records on the broker (the first client went away with the broker restart above).
    const watcher = mqtt.connect(broker.url, { username: USER, password: PASSWORD, reconnectPeriod: 0 });
    const heard = [];
    watcher.on('message', (_t, payload) => heard.push(JSON.parse(payload.toString())));
    await new Promise((resolve, reject) =>
      watcher.once('connect', () => watcher.subscribe(`${ROOT_TOPIC}/+/+/+/live`, { qos: 0 }, (e) => (e ? reject(e) : resolve()))),
    );
    await Promise.all(['gw-a', 'gw-b'].map((gw) => fetch(`${gws[gw].base}/inject/start-${gw}`, { method: 'POST' })));
    // Per ground-truth person: the ids the two gateways showed in the same poll (newest sighting per track).
    const seen = async (gw, off) => {
      const f = await (await fetch(`${gws[gw].base}/vision-reid/floor`)).json();
      const m = new Map();
      for (const p of f.people) {
        const had = m.get(p.trackId - off);
        if (!had || had.tMs < p.tMs) m.set(p.trackId - off, p);
      }
      return m;
    };
    const joint = new Map();
    const moved = new Map();
    // Poll until B's camera (the later part) has shown its last frame a second ago.
    let newestB = -1;
    let changed = Date.now();
    await until(
      async () => {
        const [a, b] = await Promise.all([seen('gw-a', 0), seen('gw-b', 100000)]);
        // Both live: each gateway's sighting moved on within the last 300 ms of wall time (the maps hold a
        // person after the last sighting, and after the clip; the two ffmpeg runs may start apart).
        const now = Date.now();
        const fresh = (gw, p, x) => {
          const k = `${gw}/${p}`;
          const had = moved.get(k);
          if (!had || had.tMs !== x.tMs) moved.set(k, { tMs: x.tMs, wall: now });
          return now - moved.get(k).wall <= 300;
        };
        for (const [p, pa] of a) {
          const pb = b.get(p);
          const fa = fresh('a', p, pa);
          if (pb && fresh('b', p, pb) && fa) joint.set(p, [...(joint.get(p) || []), [pa.globalId, pb.globalId, pb.tMs]]);
        }
        for (const [p, pb] of b) fresh('b', p, pb);
        const tB = Math.max(-1, ...[...b.values()].map((x) => x.tMs));
        if (tB > newestB) [newestB, changed] = [tB, Date.now()];
        return newestB >= ((frames - 1) * 1000) / FPS - 200 && Date.now() - changed > 1000;
      },
      20000,
      'the overlapping clip to play on both gateways',
    );
    watcher.end(true);
    // Only a person A confirmed (enough good crops, so A sent live records) can be joined at B.
    const confirmedAtA = new Set(heard.filter((x) => x.camera === 'cam-a2').map((x) => x.trackId));
    // A new track at B is provisional for its first crops and then joins: judge the last joint sighting.
    const last = [...joint].filter(([p]) => confirmedAtA.has(p)).map(([p, pairs]) => [p, pairs[pairs.length - 1]]);
    const kept = last.filter(([, [ida, idb]]) => ida === idb);
    // A wrong merge: one gateway's id for one person is the other gateway's id for someone else.
    const wrong = [];
    for (const [p, [ida, idb]] of last) for (const [q, [qa, qb]] of last) if (p !== q && (idb === qa || ida === qb)) wrong.push([p, q]);
    const [sa, sb] = [await share('gw-a'), await share('gw-b')];
    // How long (frame time) from the first joint sighting until both showed one id.
    const waits = [...joint.values()]
      .map((pairs) => {
        const one = pairs.find(([a, b]) => a === b);
        return one ? one[2] - pairs[0][2] : undefined;
      })
      .filter((x) => x !== undefined)
      .sort((a, b) => a - b);
    console.log(
      `      overlapping views: ${kept.length}/${last.length} people seen by both at once had one global id (${joint.size} seen by both, ${both.size} in the overlap by ground truth, ${last.length} of them confirmed at A), ${wrong.length} wrong merges; one id after ${waits.join(', ')} ms of frame time; live records A ${sa.liveSent}↑ B ${sb.liveAccepted}↓; ${((Date.now() - t1) / 1000).toFixed(1)} s`,
    );
    assert.ok(last.length >= Math.min(3, both.size), `only ${last.length} people seen by both at once: ${JSON.stringify([...joint])}`);
    if (kept.length < last.length)
      console.log(
        `      A sent live records of people ${[...confirmedAtA].sort((x, y) => x - y)}; not kept: ${JSON.stringify(last.filter(([, [a, b]]) => a !== b))}; sightings ${JSON.stringify([...joint].filter(([p]) => last.some(([q, [a, b]]) => q === p && a !== b)))}`,
      );
    assert.ok(kept.length >= last.length - 1, `${kept.length}/${last.length} kept one id: ${JSON.stringify(last)}`);
    assert.deepStrictEqual(wrong, []);
    assert.ok(sa.liveSent > 0 && sb.liveAccepted > 0, JSON.stringify({ sa, sb }));
    assert.ok(heard.length && heard.every((x) => x.v === 2 && x.state === 'live'));
  });
});
