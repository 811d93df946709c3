'use strict';
// vision-detect with the real yolox_nano (../shared/assets) on real frames put in the frame store.
const assert = require('assert');
const fs = require('fs');
const sharp = require('sharp');
const helper = require('node-red-node-test-helper');
const modelNode = require('../../dist/nodes/model/model.js');
const detectNode = require('../../dist/nodes/detect/detect.js');
const { sharedFrameStore } = require('../../dist/nodes/lib/frame-store.js');
const { asset } = require('../helpers/assets');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const statusNode = require('@node-red/nodes/core/common/25-status.js');
const completeNode = require('@node-red/nodes/core/common/24-complete.js');
const { waitFor } = require('../helpers/wait');
const NODES = [modelNode, detectNode, catchNode, statusNode, completeNode];

helper.init(require.resolve('node-red'));

function flow(detectProps = {}, modelProps = {}) {
  // Flow nodes sit on a tab with a position (Node-RED treats nodes without x/y as config nodes);
  // the config node is global (no z), as the editor saves them.
  const z = 'tab1';
  const at = { x: 100, y: 100 };
  return [
    { id: z, type: 'tab', label: 'detect' },
    { id: 'm', type: 'vision-model', model: asset('models/yolox_nano.onnx'), providers: 'cpu', threads: 1, ...modelProps },
    { id: 'det', z, ...at, type: 'vision-detect', model: 'm', wires: [['out']], ...detectProps },
    { id: 'out', z, ...at, type: 'helper' },
    { id: 'catch', z, ...at, type: 'catch', scope: ['det'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z, ...at, type: 'helper' },
    { id: 'stat', z, ...at, type: 'status', scope: ['det'], wires: [['statuses']] },
    { id: 'statuses', z, ...at, type: 'helper' },
    { id: 'comp', z, ...at, type: 'complete', scope: ['det'], wires: [['completed']] },
    { id: 'completed', z, ...at, type: 'helper' },
  ];
}

function collect(node) {
  const got = [];
  node.on('input', (m) => got.push(m));
  return got;
}

describe('vision-detect node', function () {
  let tud;
  const store = sharedFrameStore();
  before(async () => {
    const { data, info } = await sharp(asset('images/tud/TUD-Campus_frame0001.jpg')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    tud = { data: new Uint8Array(data), width: info.width, height: info.height };
  });
  afterEach(async () => {
    await helper.unload();
  });

  function put(camera) {
    return store.put(camera, tud.data.slice(), tud.width, tud.height, 0, 'rgb24');
  }
  const frameMsg = (ref, extra = {}) => ({ topic: ref.camera, payload: { camera: ref.camera, frame: ref, detections: [] }, ...extra });

  it('adds detections in source pixels to the vision frame and keeps other properties', async () => {
    await helper.load(NODES, flow());
    const outs = collect(helper.getNode('out'));
    const statuses = collect(helper.getNode('statuses'));
    const ref = put('det-cam1');
    helper.getNode('det').receive(frameMsg(ref, { line: 'A' }));
    await waitFor(() => outs.length === 1, 20000, 'a detected frame');
    const m = outs[0];
    assert.strictEqual(m.topic, 'det-cam1');
    assert.strictEqual(m.line, 'A');
    assert.deepStrictEqual(m.payload.frame, ref);
    const people = m.payload.detections.filter((d) => d.label === 'person');
    assert.ok(people.length >= 4, `expected the walkers of TUD frame 1, got ${people.length}`);
    for (const d of m.payload.detections) {
      assert.ok(d.box[0] >= 0 && d.box[2] <= tud.width && d.box[1] >= 0 && d.box[3] <= tud.height, `box inside the frame: ${d.box}`);
      assert.ok(d.score >= 0.5, 'default threshold applied');
    }
    assert.ok(m.payload.timing.inferenceMs > 0);
    await waitFor(
      () => statuses.some((s) => /^cpu \d+ms .*fps.*conf \.5/.test(s.status.text || '')),
      3000,
      'a running status with provider, ms, fps and thresholds',
    );
  });

  it('counts a frame evicted before its turn as a drop, not an error, and completes its message', async () => {
    await helper.load(NODES, flow());
    const outs = collect(helper.getNode('out'));
    const caught = collect(helper.getNode('caught'));
    const completed = collect(helper.getNode('completed'));
    const old = put('det-evict');
    for (let i = 0; i < 12; i++) put('det-evict'); // ring capacity is 8: `old` is gone
    helper.getNode('det').receive(frameMsg(old));
    await waitFor(() => completed.length === 1, 20000, 'done() for the evicted frame');
    await new Promise((r) => setTimeout(r, 50));
    assert.strictEqual(outs.length, 0);
    assert.strictEqual(caught.length, 0);
    assert.strictEqual(helper.getNode('det').detectStats().dropped, 1);
  });

  it('newest frame wins per camera: older waiting frames are dropped and completed; other cameras are kept', async () => {
    await helper.load(NODES, flow());
    const outs = collect(helper.getNode('out'));
    const completed = collect(helper.getNode('completed'));
    const det = helper.getNode('det');
    // Sent at once, before the model has loaded: all wait, so only the newest of camera A runs.
    const a = [put('det-A'), put('det-A'), put('det-A')];
    const b = put('det-B');
    for (const r of a) det.receive(frameMsg(r));
    det.receive(frameMsg(b));
    await waitFor(() => completed.length === 4 && outs.length === 2, 20000, 'two outputs and four completions');
    assert.deepStrictEqual(
      outs.map((m) => [m.topic, m.payload.frame.seq]).sort(),
      [
        ['det-A', a[2].seq],
        ['det-B', b.seq],
      ].sort(),
    );
    assert.strictEqual(det.detectStats().dropped, 2);
  });

  it('vision-model Batch + Batch wait: frames of three cameras run as one batch, with the detections they get alone', async () => {
    // Alone first (yolox_nano as shipped: batch 1), then batched (made dynamic as it loads).
    await helper.load(NODES, flow());
    const alone = collect(helper.getNode('out'));
    helper.getNode('det').receive(frameMsg(put('bw-0')));
    await waitFor(() => alone.length === 1, 20000, 'the unbatched frame');
    await helper.unload();
    await helper.load(NODES, flow({ batchWait: 200 }, { dynamicBatch: true, maxBatch: 4 }));
    const outs = collect(helper.getNode('out'));
    const det = helper.getNode('det');
    await waitFor(() => det.detectStats().loaded, 20000, 'the model');
    // One camera's frame waits (the batch holds 4): the other two arrive within the wait and join it.
    det.receive(frameMsg(put('bw-1')));
    det.receive(frameMsg(put('bw-2')));
    det.receive(frameMsg(put('bw-3')));
    await waitFor(() => outs.length === 3, 20000, 'three frames');
    assert.deepStrictEqual(
      outs.map((m) => m.payload.timing.batch),
      [3, 3, 3],
    );
    const boxes = (m) => m.payload.detections.map((d) => d.box.map((v) => Math.round(v * 10) / 10));
    assert.ok(alone[0].payload.detections.length > 0);
    for (const m of outs) assert.deepStrictEqual(boxes(m), boxes(alone[0]));
  });

  it('a config message changes thresholds live and shows them in the status', async () => {
    await helper.load(NODES, flow());
    const det = helper.getNode('det');
    const statuses = collect(helper.getNode('statuses'));
    const completed = collect(helper.getNode('completed'));
    det.receive({ topic: 'config', payload: { conf: 0.99, classConf: { person: 0.97 }, classes: ['person'] } });
    await waitFor(() => completed.length === 1, 5000, 'config done');
    assert.ok(
      statuses.some((s) => /conf \.99 person≥\.97 person/.test(s.status.text)),
      JSON.stringify(statuses.map((s) => s.status.text)),
    );
    const outs = collect(helper.getNode('out'));
    det.receive(frameMsg(put('det-cfg')));
    await waitFor(() => outs.length === 1, 20000, 'a frame');
    assert.deepStrictEqual(outs[0].payload.detections, [], 'no person scores 0.97 on this frame');
    // Settings merge: a later message changes one field and keeps the others.
    det.receive({ topic: 'config', payload: { conf: 0.2 } });
    await waitFor(() => completed.length === 3, 5000, 'second config done');
    assert.strictEqual(det.detectStats().filters.conf, 0.2);
    assert.deepStrictEqual(det.detectStats().filters.classes, ['person']);
  });

  describe('with a configured context store (as a gateway that keeps context sets contextStorage)', () => {
    let origLoadFlows;
    before(() => {
      helper.settings({ contextStorage: { default: { module: 'memory' } } });
      // The real runtime loads the context stores before the flows; the test helper skips that step.
      origLoadFlows = helper._redNodes.loadFlows;
      helper._redNodes.loadFlows = async function (...args) {
        await helper._redNodes.loadContextsPlugin();
        return origLoadFlows.apply(this, args);
      };
    });
    after(() => {
      helper._redNodes.loadFlows = origLoadFlows;
      helper.settings({ contextStorage: undefined });
    });

    it('config-message settings are read back when the node restarts; reset returns to the editor settings', async () => {
      const f = flow();
      await helper.load(NODES, f);
      const det = helper.getNode('det');
      let completed = collect(helper.getNode('completed'));
      det.receive({ topic: 'config', payload: { conf: 0.99, classes: ['person'] } });
      await waitFor(() => completed.length === 1, 5000, 'config done');
      assert.deepStrictEqual(det.context().get('detectConfig').values, { conf: 0.99, classes: ['person'] });

      // A full deploy stops every node and creates it again from the flow: a restart of the node.
      await helper.setFlows(f, 'full');
      const det2 = helper.getNode('det');
      assert.notStrictEqual(det2, det);
      assert.strictEqual(det2.detectStats().filters.conf, 0.99);
      assert.deepStrictEqual(det2.detectStats().filters.classes, ['person']);
      completed = collect(helper.getNode('completed'));
      det2.receive({ topic: 'config', payload: { reset: true } });
      await waitFor(() => completed.length === 1, 5000, 'reset done');
      assert.strictEqual(det2.detectStats().filters.conf, 0.5);
      assert.deepStrictEqual(det2.detectStats().filters.classes, []);
    });
  });

  it('refuses a bad config message with done(err) and keeps the old settings', async () => {
    await helper.load(NODES, flow({ conf: 0.4 }));
    const det = helper.getNode('det');
    const caught = collect(helper.getNode('caught'));
    det.receive({ topic: 'config', payload: { conf: 7 } });
    det.receive({ topic: 'config', payload: { confidence: 0.3 } });
    await waitFor(() => caught.length === 2, 5000, 'two caught errors');
    assert.match(caught[0].error.message, /conf must be a number 0–1/);
    assert.match(caught[1].error.message, /unknown detection setting "confidence"/);
    assert.strictEqual(det.detectStats().filters.conf, 0.4);
  });

  it('a message without a frame reference fails with done(err) and the flow keeps going', async () => {
    await helper.load(NODES, flow());
    const caught = collect(helper.getNode('caught'));
    const outs = collect(helper.getNode('out'));
    const det = helper.getNode('det');
    det.receive({ topic: 'x', payload: 'hello' });
    await waitFor(() => caught.length === 1, 5000, 'a caught error');
    assert.match(caught[0].error.message, /msg.payload must be a vision frame .* or a JPEG, PNG or WebP image Buffer/);
    det.receive(frameMsg(put('det-after')));
    await waitFor(() => outs.length === 1, 20000, 'the next frame still detected');
  });

  describe('with an image Buffer as msg.payload (MQTT, HTTP, a file node)', () => {
    // COCO val2017 image 1000: a tennis team photo, 640×480, 12 people.
    let jpeg, png, webp;
    before(async () => {
      jpeg = fs.readFileSync(asset('images/coco/000000001000.jpg'));
      png = await sharp(jpeg).png().toBuffer();
      webp = await sharp(jpeg).webp({ quality: 90 }).toBuffer();
    });

    /** A PNG whose header claims width × height, with almost no pixel data behind it (a decompression bomb's shape). */
    function claimedPng(width, height) {
      const crc32 = (buf) => {
        let crc = 0xffffffff;
        for (const b of buf) {
          let c = (crc ^ b) & 0xff;
          for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
          crc = (crc >>> 8) ^ c;
        }
        return (crc ^ 0xffffffff) >>> 0;
      };
      const chunk = (type, data) => {
        const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
        const out = Buffer.alloc(12 + data.length);
        out.writeUInt32BE(data.length, 0);
        td.copy(out, 4);
        out.writeUInt32BE(crc32(td), 8 + data.length);
        return out;
      };
      const ihdr = Buffer.alloc(13);
      ihdr.writeUInt32BE(width, 0);
      ihdr.writeUInt32BE(height, 4);
      ihdr[8] = 8; // bit depth
      ihdr[9] = 2; // RGB
      return Buffer.concat([
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        chunk('IHDR', ihdr),
        chunk('IDAT', require('zlib').deflateSync(Buffer.alloc(64))),
        chunk('IEND', Buffer.alloc(0)),
      ]);
    }

    const people = (m) => m.payload.detections.filter((d) => d.label === 'person').length;

    for (const [kind, bytes] of /** @type {[string, () => Uint8Array][]} */ ([
      ['JPEG', () => jpeg],
      ['PNG', () => png],
      ['WebP', () => webp],
      ['JPEG as a plain Uint8Array', () => new Uint8Array(jpeg)],
    ])) {
      it(`${kind}: decoded into the frame store under msg.topic and sent on as a vision frame, other properties kept`, async () => {
        await helper.load(NODES, flow());
        const outs = collect(helper.getNode('out'));
        const completed = collect(helper.getNode('completed'));
        const req = { headers: { 'content-type': 'image/jpeg' } };
        helper.getNode('det').receive({ topic: 'dock-photo', payload: bytes(), req, filename: 'team.jpg' });
        await waitFor(() => outs.length === 1, 20000, 'the detected image');
        const m = outs[0];
        assert.strictEqual(m.topic, 'dock-photo');
        assert.strictEqual(m.filename, 'team.jpg');
        assert.deepStrictEqual(m.req, req);
        assert.strictEqual(m.payload.camera, 'dock-photo');
        const ref = m.payload.frame;
        assert.deepStrictEqual([ref.camera, ref.width, ref.height, ref.format], ['dock-photo', 640, 480, 'rgb24']);
        const stored = store.get(ref);
        assert.ok(stored, 'the pixels are in the frame store');
        // The stored pixels are the image: the JPEG decoded by sharp directly (the WebP was re-encoded, so only close).
        const direct = await sharp(jpeg).raw().toBuffer();
        const diff = stored.data.reduce((a, v, i) => a + Math.abs(v - direct[i]), 0) / direct.length;
        assert.ok(kind === 'WebP' ? diff < 8 : diff === 0, `mean pixel difference ${diff}`);
        assert.ok(people(m) >= 8, `expected most of the 12 people of COCO 1000, got ${people(m)}`);
        assert.ok(m.payload.timing.decodeMs > 0 && m.payload.timing.inferenceMs > 0, JSON.stringify(m.payload.timing));
        await waitFor(() => completed.length === 1, 5000, 'done()');
      });
    }

    it('without msg.topic the camera id is "image"; a topic named "config" is still an image', async () => {
      await helper.load(NODES, flow());
      const outs = collect(helper.getNode('out'));
      const caught = collect(helper.getNode('caught'));
      const det = helper.getNode('det');
      det.receive({ payload: jpeg });
      det.receive({ topic: 'config', payload: png });
      await waitFor(() => outs.length === 2, 20000, 'two detected images');
      assert.deepStrictEqual(outs.map((m) => [m.topic, m.payload.frame.camera]).sort(), [
        ['config', 'config'],
        ['image', 'image'],
      ]);
      assert.strictEqual(caught.length, 0);
    });

    it('not an image, a truncated JPEG, an oversized picture: each fails with the reason and a red status; the next image is still answered', async () => {
      await helper.load(NODES, flow());
      const outs = collect(helper.getNode('out'));
      const caught = collect(helper.getNode('caught'));
      const statuses = collect(helper.getNode('statuses'));
      const completed = collect(helper.getNode('completed'));
      const det = helper.getNode('det');
      det.receive({ topic: 'bad', payload: Buffer.from('<html>Service unavailable</html>') });
      det.receive({ topic: 'bad', payload: jpeg.subarray(0, jpeg.length >> 1) });
      det.receive({ topic: 'bad', payload: claimedPng(20000, 20000) });
      det.receive({ topic: 'bad', payload: Buffer.alloc(0) });
      await waitFor(() => caught.length === 4, 20000, 'four caught errors');
      const why = caught.map((m) => m.error.message).sort();
      assert.match(why[0], /cannot use the JPEG image \(\d+ bytes\): .*premature end of JPEG/);
      assert.match(why[1], /cannot use the PNG image \(\d+ bytes\): the image is 20000×20000 \(400 MP\), more than the 50 MP limit/);
      assert.match(why[2], /msg.payload is an empty Buffer/);
      assert.match(why[3], /msg.payload is not a JPEG, PNG or WebP image \(32 bytes starting 3c 68 74 6d \("<htm"\)\)/);
      assert.ok(
        statuses.some((s) => s.status.fill === 'red' && /not a JPEG, PNG or WebP/.test(s.status.text)),
        JSON.stringify(statuses.map((s) => s.status)),
      );
      assert.strictEqual(outs.length, 0);
      det.receive({ topic: 'bad', payload: jpeg });
      await waitFor(() => outs.length === 1, 20000, 'the good image after the bad ones');
      await waitFor(() => completed.length === 1, 5000, 'done() for the good one (the failed ones went to Catch)');
    });

    it('several images at once are all answered, in arrival order, beside a camera stream', async () => {
      await helper.load(NODES, flow());
      const outs = collect(helper.getNode('out'));
      const completed = collect(helper.getNode('completed'));
      const det = helper.getNode('det');
      const sent = [jpeg, png, webp, jpeg];
      sent.forEach((b, i) => det.receive({ topic: 'burst', payload: b, n: i }));
      const cam = [put('burst-cam'), put('burst-cam')];
      for (const r of cam) det.receive(frameMsg(r));
      await waitFor(
        () => outs.filter((m) => m.topic === 'burst').length === 4 && outs.some((m) => m.topic === 'burst-cam'),
        30000,
        'four images and the newest camera frame',
      );
      const imgs = outs.filter((m) => m.topic === 'burst');
      assert.deepStrictEqual(
        imgs.map((m) => m.n),
        [0, 1, 2, 3],
        'arrival order',
      );
      const seqs = imgs.map((m) => m.payload.frame.seq);
      assert.deepStrictEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
        'frame-store sequence follows arrival',
      );
      for (const m of imgs) assert.ok(people(m) >= 8, `people in image ${m.n}: ${people(m)}`);
      assert.deepStrictEqual(
        outs.filter((m) => m.topic === 'burst-cam').map((m) => m.payload.frame.seq),
        [cam[1].seq],
        'the camera keeps newest-wins',
      );
      await waitFor(() => completed.length === 6, 5000, 'done() for all six messages');
      assert.strictEqual(det.detectStats().dropped, 1, 'only the older camera frame was dropped');
    });

    it('beyond the queue bound an image is refused with done(err) and a red status saying why', async () => {
      await helper.load(NODES, flow({ imageQueue: 2 }));
      const outs = collect(helper.getNode('out'));
      const caught = collect(helper.getNode('caught'));
      const statuses = collect(helper.getNode('statuses'));
      const det = helper.getNode('det');
      // Sent in one go: nothing is decoded (let alone detected) before the third arrives.
      for (let i = 0; i < 3; i++) det.receive({ topic: 'q', payload: jpeg, n: i });
      det.receive({ topic: 'other', payload: jpeg, n: 9 }); // another topic has its own room
      await waitFor(() => caught.length === 1, 5000, 'the refusal');
      assert.strictEqual(caught[0].n, 2);
      assert.match(caught[0].error.message, /image refused: 2 images of "q" are already waiting for the model/);
      assert.ok(statuses.some((s) => s.status.fill === 'red' && /image refused/.test(s.status.text)));
      await waitFor(() => outs.length === 3, 30000, 'the three accepted images');
      assert.deepStrictEqual(outs.map((m) => m.n).sort(), [0, 1, 9]);
      // Room again once they are done.
      det.receive({ topic: 'q', payload: jpeg, n: 3 });
      await waitFor(() => outs.length === 4, 20000, 'the next image');
      assert.strictEqual(caught.length, 1);
    });

    it('a bad image-queue setting is a red status, and images fail with it', async () => {
      await helper.load(NODES, flow({ imageQueue: 0 }));
      const caught = collect(helper.getNode('caught'));
      helper.getNode('det').receive({ topic: 'q', payload: jpeg });
      await waitFor(() => caught.length === 1, 5000, 'the error');
      assert.match(caught[0].error.message, /images waiting per topic must be a whole number 1–64, got "0"/);
    });
  });

  it('applies editor filters: include polygon and class filter', async () => {
    // Only the left half of the frame counts; TUD frame 1 has people on both sides.
    await helper.load(NODES, flow({ classes: 'person', include: '[[[0,0],[0.5,0],[0.5,1],[0,1]]]' }));
    const outs = collect(helper.getNode('out'));
    helper.getNode('det').receive(frameMsg(put('det-poly')));
    await waitFor(() => outs.length === 1, 20000, 'a frame');
    const dets = outs[0].payload.detections;
    assert.ok(dets.length >= 1);
    for (const d of dets) {
      assert.strictEqual(d.label, 'person');
      assert.ok((d.box[0] + d.box[2]) / 2 < tud.width / 2, `feet in the left half: ${d.box}`);
    }
  });

  it('a bad editor setting gives a red status and done(err) for every frame', async () => {
    await helper.load(NODES, flow({ include: '[[0,0]' }));
    const caught = collect(helper.getNode('caught'));
    const statuses = collect(helper.getNode('statuses'));
    helper.getNode('det').receive(frameMsg(put('det-bad')));
    await waitFor(() => caught.length === 1, 5000, 'a caught error');
    assert.match(caught[0].error.message, /include polygons must be valid JSON/);
    assert.ok(statuses.some((s) => s.status.fill === 'red'));
  });
});
