'use strict';
// vision-model: one shared session, lazily created, released by the last user; clear red statuses.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const helper = require('node-red-node-test-helper');
const modelNode = require('../../dist/nodes/model/model.js');
const detectNode = require('../../dist/nodes/detect/detect.js');
const { sharedSessions } = require('../../dist/nodes/lib/model/loader.js');
const { sharedFrameStore } = require('../../dist/nodes/lib/frame-store.js');
const { asset } = require('../helpers/assets');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const statusNode = require('@node-red/nodes/core/common/25-status.js');
const { waitFor } = require('../helpers/wait');
const { reduceMeanModel, batchEchoModel } = require('../helpers/tiny-onnx');
const NODES = [modelNode, detectNode, catchNode, statusNode];
// Tests that expect CUDA to be missing are skipped where its provider library is installed.
const ortBin = require('../../dist/nodes/lib/onnx/runtime.js').findOrtRuntime().binDir;
const HAS_CUDA_LIBS = fs.existsSync(path.join(ortBin, 'libonnxruntime_providers_cuda.so'));

helper.init(require.resolve('node-red'));

const collect = (n) => {
  const got = [];
  n.on('input', (m) => got.push(m));
  return got;
};

function flow(modelProps, detectors = ['det']) {
  const z = 'tab1';
  const at = { x: 100, y: 100 };
  return [
    { id: z, type: 'tab', label: 'model' },
    { id: 'm', type: 'vision-model', providers: 'cpu', threads: 1, ...modelProps },
    ...detectors.map((id) => ({ id, z, ...at, type: 'vision-detect', model: 'm', wires: [['out']] })),
    { id: 'out', z, ...at, type: 'helper' },
    { id: 'catch', z, ...at, type: 'catch', scope: detectors, uncaught: false, wires: [['caught']] },
    { id: 'caught', z, ...at, type: 'helper' },
    { id: 'stat', z, ...at, type: 'status', scope: detectors, wires: [['statuses']] },
    { id: 'statuses', z, ...at, type: 'helper' },
  ];
}

describe('vision-model node', function () {
  let tmp;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'edgevision-model-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  afterEach(async () => {
    await helper.unload();
  });

  const frameMsg = () => {
    const ref = sharedFrameStore().put('model-cam', new Uint8Array(32 * 24 * 3), 32, 24, 0, 'rgb24');
    return { topic: 'model-cam', payload: { camera: 'model-cam', frame: ref, detections: [] } };
  };

  it('shares one session among its users, by manifest name, and releases it when the last one closes', async () => {
    await helper.load(NODES, flow({ model: 'yolox_nano' }, ['det1', 'det2']));
    const statuses = collect(helper.getNode('statuses'));
    await waitFor(() => statuses.filter((s) => /^ready · cpu/.test(s.status.text || '')).length === 2, 20000, 'both detectors ready');
    const keys = sharedSessions().keys();
    assert.strictEqual(keys.length, 1, 'one session for two users');
    assert.strictEqual(sharedSessions().users(keys[0]), 2);
    // The manifest entry supplies the labels and preprocessing of yolox_nano.
    const stats = helper.getNode('det1').detectStats();
    assert.strictEqual(stats.provider, 'cpu');
    await helper.unload();
    assert.deepStrictEqual(sharedSessions().keys(), [], 'released after the last user closed');
  });

  it('a user stopped while its model is still loading does not leak the session', async () => {
    await helper.load(NODES, flow({ model: 'yolox_nano' }));
    await helper.unload(); // at once: the session is still being created
    assert.deepStrictEqual(sharedSessions().keys(), []);
  });

  it('batches waiting frames of several cameras when the batch dimension is dynamic, and gives each its own detections', async () => {
    const f = path.join(tmp, 'batch-echo.onnx');
    fs.writeFileSync(f, batchEchoModel());
    await helper.load(NODES, flow({ model: f, labels: '', channelOrder: 'rgb', maxBatch: 4 }));
    const outs = collect(helper.getNode('out'));
    const det = helper.getNode('det');
    const store = sharedFrameStore();
    const boxes = { 'batch-a': [5, 6, 20, 30], 'batch-b': [30, 10, 50, 60], 'batch-c': [1, 2, 3, 4] };
    // Sent before the model has loaded, so all three wait and go in one run.
    for (const [cam, b] of Object.entries(boxes)) {
      const px = new Uint8Array(64 * 64 * 3);
      [...b, 200, 0].forEach((v, i) => (px[i * 3] = v)); // red channel of the first six pixels
      const ref = store.put(cam, px, 64, 64, 0, 'rgb24');
      det.receive({ topic: cam, payload: { camera: cam, frame: ref, detections: [] } });
    }
    await waitFor(() => outs.length === 3, 20000, 'three frames');
    for (const m of outs) {
      assert.strictEqual(m.payload.timing.batch, 3, 'one run for the three cameras');
      assert.deepStrictEqual(
        m.payload.detections.map((d) => d.box),
        [boxes[m.topic]],
      );
      assert.strictEqual(m.payload.detections[0].label, 'class0');
    }
  });

  it('is lazy: no session exists until a user asks for one', async () => {
    await helper.load(NODES, [{ id: 'm', type: 'vision-model', model: 'yolox_nano', providers: 'cpu' }]);
    assert.deepStrictEqual(sharedSessions().keys(), []);
  });

  // Node-RED's log levels: warn 30, info 40.
  const logged = (level) =>
    helper
      .log()
      .args.map((a) => a[0])
      .filter((e) => e && e.level === level)
      .map((e) => String(e.msg));

  it('falls back from a listed cuda to cpu and shows it, as a log line, not a warning (no GPU libraries here)', async function () {
    if (HAS_CUDA_LIBS) this.skip();
    await helper.load(NODES, flow({ model: asset('models/yolox_nano.onnx'), providers: 'cuda,cpu' }));
    const statuses = collect(helper.getNode('statuses'));
    const s = await waitFor(() => statuses.find((x) => /^ready/.test(x.status.text || '')), 20000, 'ready');
    assert.match(s.status.text, /ready · cpu \(cuda unavailable\)/);
    assert.ok(
      logged(40).some((m) => /cuda provider libraries are not installed/.test(m)),
      'the reason is logged',
    );
    assert.deepStrictEqual(
      logged(30).filter((m) => /cuda|provider/.test(m)),
      [],
      'no warning: the machine simply has no GPU libraries',
    );
    assert.ok(
      statuses.every((x) => x.status.fill !== 'red'),
      'never red',
    );
  });

  it('providers "auto" (the default) runs on what the machine has and says nothing about cuda', async function () {
    await helper.load(NODES, flow({ model: 'yolox_nano', providers: 'auto' }));
    const statuses = collect(helper.getNode('statuses'));
    const s = await waitFor(() => statuses.find((x) => /^ready/.test(x.status.text || '')), 20000, 'ready');
    assert.match(s.status.text, HAS_CUDA_LIBS ? /^ready · (cuda|cpu \(cuda unavailable\))/ : /^ready · cpu · /);
    if (!HAS_CUDA_LIBS) {
      assert.deepStrictEqual(
        [...logged(30), ...logged(40)].filter((m) => /cuda|fell back/.test(m)),
        [],
        'auto asked for nothing that is missing',
      );
    }
    assert.strictEqual(helper.getNode('m').describe(), 'yolox_nano (auto)');
  });

  /** @type {[string, () => Record<string, unknown>, RegExp][]} */
  const failures = [
    ['a missing file', () => ({ model: path.join(tmp, 'nope.onnx') }), /model file not found: .*nope\.onnx/],
    [
      'a corrupt file',
      () => {
        const f = path.join(tmp, 'corrupt.onnx');
        fs.writeFileSync(f, Buffer.from('this is not an onnx model, just text'));
        return { model: f };
      },
      /cannot load corrupt\.onnx: no execution provider could load the model \(cpu: /,
    ],
    [
      'an output that matches no decoder',
      () => {
        const f = path.join(tmp, 'reduce.onnx');
        fs.writeFileSync(f, reduceMeanModel());
        return { model: f };
      },
      /reduce\.onnx: output \[1,64,64\] matches no decoder/,
    ],
    [
      'a provider list whose only provider cannot load (cuda without its libraries)',
      () => ({ model: 'yolox_nano', providers: 'cuda' }),
      /no execution provider could load the model \(cuda: cuda provider libraries are not installed/,
    ],
    ['an unknown execution provider', () => ({ model: 'yolox_nano', providers: 'cuda,gpu' }), /unknown execution provider "gpu"/],
    ['no model at all', () => ({ model: '' }), /no model/],
    ['a labels file that is not there', () => ({ model: 'yolox_nano', labels: path.join(tmp, 'labels.txt') }), /labels file not found/],
  ];
  for (const [what, props, re] of failures) {
    it(`${what} gives the user a red status with the reason and done(err) for its frames`, async function () {
      if (/cuda/.test(what) && HAS_CUDA_LIBS) this.skip();
      await helper.load(NODES, flow(props()));
      const statuses = collect(helper.getNode('statuses'));
      const caught = collect(helper.getNode('caught'));
      // A failure may come before this test listens; every frame then repeats the red status.
      const send = () => helper.getNode('det').receive(frameMsg());
      await waitFor(() => statuses.find((s) => s.status.fill === 'red') || (send(), false), 20000, 'a red status');
      const red = statuses.find((s) => s.status.fill === 'red');
      assert.strictEqual(red.status.shape, 'ring');
      assert.match(red.status.text, new RegExp(re.source.slice(0, 12).replace(/\\$/, '')));
      send();
      const isFrameErr = (c) => c.error.source && c.error.source.id === 'det' && c.payload && c.payload.frame;
      const msgErr = await waitFor(() => caught.find(isFrameErr), 5000, 'the frame message failing with done(err)');
      assert.match(msgErr.error.message, re);
      assert.deepStrictEqual(sharedSessions().keys(), [], 'a failed load holds no session');
    });
  }

  it('a labels file replaces the manifest class names', async () => {
    const labels = path.join(tmp, 'coco.txt');
    fs.writeFileSync(labels, fs.readFileSync(asset('models/coco_classes.txt'), 'utf8').replace(/^person$/m, 'worker'));
    await helper.load(NODES, flow({ model: asset('models/yolox_nano.onnx'), labels }));
    const outs = collect(helper.getNode('out'));
    const sharp = require('sharp');
    const { data, info } = await sharp(asset('images/tud/TUD-Campus_frame0001.jpg')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const ref = sharedFrameStore().put('model-labels', new Uint8Array(data), info.width, info.height, 0, 'rgb24');
    helper.getNode('det').receive({ topic: 'model-labels', payload: { camera: 'model-labels', frame: ref, detections: [] } });
    await waitFor(() => outs.length === 1, 20000, 'a frame');
    assert.ok(outs[0].payload.detections.some((d) => d.label === 'worker'));
    assert.ok(!outs[0].payload.detections.some((d) => d.label === 'person'));
  });
});
