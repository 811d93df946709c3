'use strict';
// vision-view in a real Node-RED runtime: a real vtest.avi frame in the shared frame store, the
// annotated JPEG fetched over HTTP (snapshot and MJPEG stream), decoded with sharp and checked where
// the overlay must be; errors go to Catch with a red status; encoding happens only while watched.
const assert = require('assert');
const http = require('http');
const sharp = require('sharp');
const helper = require('node-red-node-test-helper');
const fs = require('fs');
const viewNode = require('../../dist/nodes/view/view.js');
const modelNode = require('../../dist/nodes/model/model.js');
const detectNode = require('../../dist/nodes/detect/detect.js');
const { sharedFrameStore } = require('../../dist/nodes/lib/frame-store.js');
const { asset } = require('../helpers/assets');
const { trackColour } = require('../../dist/nodes/lib/view/overlay.js');
const { parseColour } = require('../../dist/nodes/lib/view/raster.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const statusNode = require('@node-red/nodes/core/common/25-status.js');
const { waitFor, sleep } = require('../helpers/wait');
// Polls servers and browsers: every 200 ms is plenty.
const until = (cond, ms, what) => waitFor(cond, ms, what, 200);

helper.init(require.resolve('node-red'));

// Captures the runtime's httpNode app, so the test can serve it on a real port.
let httpNode = null;
function captureNode(RED) {
  httpNode = RED.httpNode;
  RED.nodes.registerType('capture-http', function (n) {
    RED.nodes.createNode(this, n);
  });
}
const NODES = [viewNode, catchNode, statusNode, captureNode, modelNode, detectNode];

const GEOMETRY = JSON.stringify({ lines: [{ name: 'door', start: [0.1, 0.75], end: [0.9, 0.75] }], zones: [] });
const STATIONS = JSON.stringify({
  zones: [
    {
      name: 'bench',
      polygon: [
        [0.0, 0.0],
        [0.2, 0.0],
        [0.2, 0.2],
        [0.0, 0.2],
      ],
    },
  ],
});

function flow(props = {}) {
  const z = 'tab1';
  const at = { x: 100, y: 100 };
  return [
    { id: z, type: 'tab', label: 'view' },
    {
      id: 'v',
      z,
      ...at,
      type: 'vision-view',
      camera: 'vcam',
      geometry: GEOMETRY,
      stations: STATIONS,
      maxWidth: 960,
      maxFps: 0,
      quality: 80,
      wires: [['out']],
      ...props,
    },
    { id: 'out', z, ...at, type: 'helper' },
    { id: 'cap', z, ...at, type: 'capture-http' },
    { id: 'catch', z, ...at, type: 'catch', scope: ['v'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z, ...at, type: 'helper' },
    { id: 'stat', z, ...at, type: 'status', scope: ['v'], wires: [['statuses']] },
    { id: 'statuses', z, ...at, type: 'helper' },
  ];
}

const collect = (node) => {
  const got = [];
  node.on('input', (m) => got.push(m));
  return got;
};

function get(port, path) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

let pixels;
let seq = 0;
function putFrame(camera = 'vcam') {
  return sharedFrameStore().put(camera, new Uint8Array(pixels.data), pixels.info.width, pixels.info.height, 1000 + seq++ * 100, 'rgb24');
}
const frameMsg = (ref, extra = {}) => ({
  topic: ref.camera,
  payload: {
    camera: ref.camera,
    frame: ref,
    detections: [{ box: [300, 100, 360, 260], score: 0.9, classId: 0, label: 'person', trackId: 7, trackState: 'confirmed' }],
    counts: { door: { in: 4, out: 2 } },
    stations: { bench: { state: 'working' } },
    ...extra,
  },
});

describe('vision-view node', function () {
  this.timeout(20000);
  let server, port;

  before(async () => {
    const { data, info } = await sharp(asset('images/vtest/vtest_frame0201.jpg')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    pixels = { data, info };
  });

  async function load(props, extraNodes = []) {
    await helper.load(NODES, [...flow(props), ...extraNodes]);
    server = http.createServer(httpNode);
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    port = /** @type {import('net').AddressInfo} */ (server.address()).port;
  }

  afterEach(async () => {
    await helper.unload();
    if (server) await new Promise((r) => server.close(r));
    server = null;
  });

  it('serves the annotated frame as a JPEG: source size up to max width, line, station and box drawn', async () => {
    await load();
    helper.getNode('v').receive(frameMsg(putFrame()));
    const r = await until(
      async () => {
        const x = await get(port, '/vision-view/vcam.jpg');
        return x.status === 200 ? x : null;
      },
      5000,
      'a snapshot',
    );
    assert.strictEqual(r.type, 'image/jpeg');
    const { data, info } = await sharp(r.body).raw().toBuffer({ resolveWithObject: true });
    assert.deepStrictEqual([info.width, info.height], [768, 576]);
    const at = (x, y) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
    const [lr, lg, lb] = at(384, 432); // on the door line (y = 0.75 × 576): yellow
    assert.ok(lr > 200 && lg > 200 && lb < 120, `line pixel ${[lr, lg, lb]}`);
    const raw = (x, y) => [...pixels.data.subarray((y * 768 + x) * 3, (y * 768 + x) * 3 + 3)];
    const [sr, sg] = at(40, 100); // inside the working station: greener than the clip there
    assert.ok(sg - sr > raw(40, 100)[1] - raw(40, 100)[0] + 15, `station pixel ${at(40, 100)} vs ${raw(40, 100)}`);
    const want = parseColour(trackColour(7)); // the left edge of track 7's box
    const got = at(301, 180);
    assert.ok(
      got.every((c, i) => Math.abs(c - want[i]) < 50),
      `box pixel ${got} vs ${want}`,
    );
  });

  it('scales to max width', async () => {
    await load({ maxWidth: 384 });
    helper.getNode('v').receive(frameMsg(putFrame()));
    const r = await until(
      async () => {
        const x = await get(port, '/vision-view/vcam.jpg');
        return x.status === 200 ? x : null;
      },
      5000,
      'a snapshot',
    );
    const meta = await sharp(r.body).metadata();
    assert.deepStrictEqual([meta.width, meta.height], [384, 288]);
  });

  it('streams MJPEG to a viewer, and encodes nothing while nobody watches', async () => {
    await load({ maxFps: 0 });
    const statuses = collect(helper.getNode('statuses'));
    const v = helper.getNode('v');
    for (let i = 0; i < 5; i++) v.receive(frameMsg(putFrame()));
    await until(() => statuses.some((m) => /no viewers/.test(m.status.text)), 5000, 'the idle status');
    const parts = [];
    let contentType;
    const req = http.get({ host: '127.0.0.1', port, path: '/vision-view/vcam.mjpg' }, (res) => {
      contentType = res.headers['content-type'];
      let buf = Buffer.alloc(0);
      res.on('data', (c) => {
        buf = Buffer.concat([buf, c]);
        for (;;) {
          const h = buf.indexOf('\r\n\r\n');
          if (h < 0) break;
          const len = Number(/Content-Length: (\d+)/.exec(buf.subarray(0, h).toString())[1]);
          if (buf.length < h + 4 + len + 2) break;
          parts.push(buf.subarray(h + 4, h + 4 + len));
          buf = buf.subarray(h + 4 + len + 2);
        }
      });
    });
    try {
      // Nothing was encoded before the viewer came: the first part comes from a frame sent now.
      await sleep(100);
      assert.strictEqual(parts.length, 0, 'no picture encoded before anyone watched');
      for (let i = 0; i < 3; i++) {
        v.receive(frameMsg(putFrame()));
        await until(() => parts.length > i, 5000, `part ${i + 1}`);
      }
      assert.match(contentType, /^multipart\/x-mixed-replace; boundary=/);
      for (const p of parts) assert.strictEqual((await sharp(p).metadata()).format, 'jpeg');
      await until(() => statuses.some((m) => /1 viewer/.test(m.status.text)), 5000, 'the viewer in the status');
    } finally {
      req.destroy();
    }
  });

  it('answers 404 for a camera no view serves', async () => {
    await load();
    const r = await get(port, '/vision-view/nope.mjpg');
    assert.strictEqual(r.status, 404);
    assert.match(r.body.toString(), /no vision-view node serves camera "nope"/);
  });

  it('sends a JPEG on topic "snapshot"', async () => {
    await load();
    const out = collect(helper.getNode('out'));
    const v = helper.getNode('v');
    v.receive(frameMsg(putFrame()));
    v.receive({ topic: 'snapshot' });
    await until(() => out.length === 1, 5000, 'the snapshot');
    assert.strictEqual(out[0].topic, 'vcam');
    assert.ok(Buffer.isBuffer(out[0].payload));
    assert.strictEqual((await sharp(out[0].payload).metadata()).width, 768);
  });

  describe('Send JPEG', () => {
    it('never (the default): frames leave nothing on the output', async () => {
      await load();
      const out = collect(helper.getNode('out'));
      const v = helper.getNode('v');
      for (let i = 0; i < 3; i++) v.receive(frameMsg(putFrame()));
      await sleep(300);
      assert.strictEqual(out.length, 0);
      assert.strictEqual(v.context().get('viewConfig'), undefined);
    });

    it('every frame: each encoded frame leaves as a JPEG with topic, contentType and frame, with nobody watching; newest wins', async () => {
      await load({ sendJpeg: 'every', maxFps: 0 });
      const out = collect(helper.getNode('out'));
      const statuses = collect(helper.getNode('statuses'));
      const v = helper.getNode('v');
      // Five frames at once: the first is encoded, the four others arrive during it and only the newest is encoded next.
      const refs = [];
      for (let i = 0; i < 5; i++) {
        const ref = putFrame();
        refs.push(ref);
        v.receive(frameMsg(ref, { n: i }));
      }
      // The frame message's other properties go along.
      await until(() => out.length === 2, 5000, 'two JPEG messages');
      await sleep(300);
      assert.strictEqual(out.length, 2, 'frames that arrived during an encoding are skipped, not queued');
      assert.deepStrictEqual(
        out.map((m) => m.frame),
        [refs[0], refs[4]],
      );
      for (const m of out) {
        assert.strictEqual(m.topic, 'vcam');
        assert.strictEqual(m.contentType, 'image/jpeg');
        assert.ok(Buffer.isBuffer(m.payload));
        const meta = await sharp(m.payload).metadata();
        assert.deepStrictEqual([meta.format, meta.width, meta.height], ['jpeg', 768, 576]);
      }
      await until(() => statuses.some((m) => /^sending JPEG · .* · 0 viewers/.test(m.status.text)), 5000, 'the sending status');
    });

    it("the caption shows the camera's own fps from the frame (payload.fps), drawn in the corner and on msg.caption", async () => {
      await load({ sendJpeg: 'every', maxFps: 0, maxWidth: 768 });
      const out = collect(helper.getNode('out'));
      const v = helper.getNode('v');
      for (const fps of [7, 25.3]) {
        const n = out.length;
        v.receive(frameMsg(putFrame(), { fps }));
        await until(() => out.length > n, 5000, `the picture of a frame at ${fps} fps`);
      }
      assert.deepStrictEqual(
        out.map((m) => m.caption),
        ['vcam · 7.0 fps', 'vcam · 25.3 fps'],
      );
      // Same pixels, boxes and lines: the pictures differ in the caption's corner only.
      const raw = await Promise.all(out.map((m) => sharp(m.payload).raw().toBuffer({ resolveWithObject: true })));
      const { width } = raw[0].info;
      const meanDiff = (x0, y0, x1, y1) => {
        let sum = 0;
        let n = 0;
        for (let y = y0; y < y1; y++)
          for (let x = x0; x < x1; x++)
            for (let c = 0; c < 3; c++, n++) sum += Math.abs(raw[0].data[(y * width + x) * 3 + c] - raw[1].data[(y * width + x) * 3 + c]);
        return sum / n;
      };
      const corner = meanDiff(0, 0, 220, 30);
      const elsewhere = meanDiff(400, 300, 700, 500);
      assert.ok(corner > 5 * Math.max(elsewhere, 0.5), `caption corner differs by ${corner.toFixed(2)}, elsewhere by ${elsewhere.toFixed(2)}`);
    });

    it('a frame without payload.fps (not from a camera source) is captioned with the camera alone', async () => {
      await load({ sendJpeg: 'every', maxFps: 0 });
      const out = collect(helper.getNode('out'));
      helper.getNode('v').receive(frameMsg(putFrame()));
      await until(() => out.length === 1, 5000, 'the picture');
      assert.strictEqual(out[0].caption, 'vcam');
    });

    it('every frame is rate-limited to max fps, and a frame held back by the limit is sent once, later', async () => {
      await load({ sendJpeg: 'every', maxFps: 4 });
      const out = collect(helper.getNode('out'));
      const v = helper.getNode('v');
      const a = putFrame();
      v.receive(frameMsg(a));
      await until(() => out.length === 1, 5000, 'the first JPEG');
      const b = putFrame();
      v.receive(frameMsg(b)); // within 250 ms of the first: waits for the gate
      await until(() => out.length === 2, 5000, 'the held-back frame');
      await sleep(600);
      assert.deepStrictEqual(
        out.map((m) => m.frame.seq),
        [a.seq, b.seq],
        'each frame sent once',
      );
    });

    it('a config message turns it on and off; a bad value is refused', async () => {
      await load();
      const out = collect(helper.getNode('out'));
      const caught = collect(helper.getNode('caught'));
      const v = helper.getNode('v');
      v.receive({ topic: 'config', payload: { sendJpeg: 'every' } });
      v.receive(frameMsg(putFrame()));
      await until(() => out.length === 1, 5000, 'a JPEG after turning it on');
      v.receive({ topic: 'config', payload: { sendJpeg: 'sometimes' } });
      await until(() => caught.length === 1, 5000, 'the refusal');
      assert.match(caught[0].error.message, /send JPEG must be "never" or "every", got "sometimes"/);
      v.receive({ topic: 'config', payload: { sendJpeg: 'never' } });
      v.receive(frameMsg(putFrame()));
      await sleep(300);
      assert.strictEqual(out.length, 1);
    });

    it('draws an image Buffer that came through vision-detect: its own pixels, its boxes', async function () {
      this.timeout(60000);
      const at = { z: 'tab1', x: 100, y: 100 };
      await load({ camera: '', sendJpeg: 'every', maxFps: 0, caption: false, geometry: '', stations: '' }, [
        { id: 'm', type: 'vision-model', model: asset('models/yolox_nano.onnx'), providers: 'cpu', threads: 1 },
        { id: 'det', ...at, type: 'vision-detect', model: 'm', classes: 'person', wires: [['v', 'dets']] },
        { id: 'dets', ...at, type: 'helper' },
      ]);
      const dets = collect(helper.getNode('dets'));
      const out = collect(helper.getNode('out'));
      const jpeg = fs.readFileSync(asset('images/coco/000000001000.jpg'));
      helper.getNode('det').receive({ topic: 'upload', payload: jpeg });
      await until(() => out.length === 1, 30000, 'the annotated JPEG');
      assert.strictEqual(out[0].topic, 'upload');
      const boxes = dets[0].payload.detections.map((d) => d.box.map(Math.round));
      assert.ok(boxes.length >= 8, `people found: ${boxes.length}`);
      const { data, info } = await sharp(out[0].payload).raw().toBuffer({ resolveWithObject: true });
      assert.deepStrictEqual([info.width, info.height], [640, 480], 'drawn at the image size');
      const src = await sharp(jpeg).raw().toBuffer();
      // On the box outlines: white (untracked detections are drawn in thin white).
      let onEdge = 0;
      let white = 0;
      const edge = new Uint8Array(640 * 480);
      for (const [x1, y1, x2, y2] of boxes) {
        for (let y = Math.max(0, y1); y < Math.min(480, y2); y++) for (const x of [x1, x2 - 1]) if (x >= 0 && x < 640) edge[y * 640 + x] = 1;
        for (let x = Math.max(0, x1); x < Math.min(640, x2); x++) for (const y of [y1, y2 - 1]) if (y >= 0 && y < 480) edge[y * 640 + x] = 1;
      }
      // Away from them (4 px or more): the image itself, up to JPEG noise.
      let far = 0;
      let diff = 0;
      for (let y = 0; y < 480; y++) {
        for (let x = 0; x < 640; x++) {
          const i = (y * 640 + x) * 3;
          if (edge[y * 640 + x]) {
            onEdge++;
            if (data[i] > 200 && data[i + 1] > 200 && data[i + 2] > 200) white++;
            continue;
          }
          let near = false;
          for (let dy = -3; dy <= 3 && !near; dy++)
            for (let dx = -3; dx <= 3 && !near; dx++) near = edge[Math.min(479, Math.max(0, y + dy)) * 640 + Math.min(639, Math.max(0, x + dx))] === 1;
          if (near) continue;
          far++;
          diff += Math.abs(data[i] - src[i]) + Math.abs(data[i + 1] - src[i + 1]) + Math.abs(data[i + 2] - src[i + 2]);
        }
      }
      assert.ok(white / onEdge > 0.8, `box outlines white: ${white}/${onEdge}`);
      // Re-encoding at the view's JPEG quality (75) alone accounts for about 7 here; another picture differs by tens.
      assert.ok(diff / far / 3 < 12, `mean difference from the image away from the boxes: ${(diff / far / 3).toFixed(2)}`);
    });
  });

  it('a bad message and a bad config go to Catch with a red status; a good config is kept in context', async () => {
    await load();
    const caught = collect(helper.getNode('caught'));
    const statuses = collect(helper.getNode('statuses'));
    const v = helper.getNode('v');
    v.receive({ topic: 'vcam', payload: { detections: [] } });
    v.receive({ topic: 'config', payload: { geometry: { lines: [{ name: 'd', start: [0, 0], end: [2, 0] }] } } });
    v.receive({ topic: 'config', payload: { colour: 'red' } });
    await until(() => caught.length === 3, 5000, 'three errors');
    assert.match(caught[0].error.message, /expected a vision frame/);
    assert.match(caught[1].error.message, /lines\[0\]\.end x = 2 is outside 0\.\.1/);
    assert.match(caught[2].error.message, /unknown view setting "colour"/);
    assert.ok(statuses.some((m) => m.status.fill === 'red'));
    v.receive({ topic: 'config', payload: { maxFps: 2 } });
    await until(() => v.context().get('viewConfig') && v.context().get('viewConfig').values.maxFps === 2, 5000, 'the saved config');
  });

  it('with no camera set it serves every camera it is sent (msg.topic), and ignores none', async () => {
    await load({ camera: '' });
    const v = helper.getNode('v');
    v.receive(frameMsg(putFrame('dock-a')));
    v.receive(frameMsg(putFrame('dock-b')));
    for (const cam of ['dock-a', 'dock-b']) {
      const r = await until(
        async () => {
          const x = await get(port, `/vision-view/${cam}.jpg`);
          return x.status === 200 ? x : null;
        },
        5000,
        `a snapshot of ${cam}`,
      );
      assert.strictEqual(r.type, 'image/jpeg');
    }
  });

  it('a camera other than the one set is not served; closing the node ends its viewers and its route', async () => {
    await load();
    const v = helper.getNode('v');
    v.receive(frameMsg(putFrame('other-cam')));
    v.receive(frameMsg(putFrame()));
    assert.strictEqual((await get(port, '/vision-view/other-cam.jpg')).status, 404);
    let ended = false;
    const req = http.get({ host: '127.0.0.1', port, path: '/vision-view/vcam.mjpg' }, (res) => {
      res.resume();
      res.on('end', () => (ended = true));
    });
    await sleep(200);
    await helper.unload();
    await until(() => ended, 5000, 'the stream to end when the node closes');
    req.destroy();
    assert.strictEqual((await get(port, '/vision-view/vcam.jpg')).status, 404);
  });
});
