'use strict';
// Motion-gated detection in Node-RED: vision-detect (real yolox_nano) skips frames in which nothing
// moved since its last detection, and vision-track carries its tracks through them on their Kalman
// prediction. Frames arrive at 10 fps while the detector is busy, so still frames must wait behind
// the frame in the detector: every camera's frames leave in order and every message is completed.
const assert = require('assert');
const sharp = require('sharp');
const helper = require('node-red-node-test-helper');
const modelNode = require('../../dist/nodes/model/model.js');
const detectNode = require('../../dist/nodes/detect/detect.js');
const trackNode = require('../../dist/nodes/track/track.js');
const { sharedFrameStore } = require('../../dist/nodes/lib/frame-store.js');
const { asset } = require('../helpers/assets');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const completeNode = require('@node-red/nodes/core/common/24-complete.js');
const { waitFor } = require('../helpers/wait');

helper.init(require.resolve('node-red'));

function flow(detectProps) {
  const z = 'tab1';
  const at = { x: 100, y: 100 };
  return [
    { id: z, type: 'tab', label: 'motion' },
    { id: 'm', type: 'vision-model', model: asset('models/yolox_nano.onnx'), providers: 'cpu', threads: 1 },
    { id: 'det', z, ...at, type: 'vision-detect', model: 'm', wires: [['trk']], ...detectProps },
    { id: 'trk', z, ...at, type: 'vision-track', minHits: 2, wires: [['out'], []] },
    { id: 'out', z, ...at, type: 'helper' },
    { id: 'catch', z, ...at, type: 'catch', scope: ['det', 'trk'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z, ...at, type: 'helper' },
    { id: 'comp', z, ...at, type: 'complete', scope: ['det'], wires: [['completed']] },
    { id: 'completed', z, ...at, type: 'helper' },
  ];
}

const collect = (node) => {
  const got = [];
  node.on('input', (m) => got.push(m));
  return got;
};

describe('vision-detect motion gating → vision-track (real model)', function () {
  this.timeout(60000);
  const store = sharedFrameStore();
  let still;
  let moved;
  before(async () => {
    const read = async (f) => {
      const { data, info } = await sharp(asset(f)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      return { data: new Uint8Array(data), width: info.width, height: info.height };
    };
    still = await read('images/tud/TUD-Campus_frame0001.jpg');
    moved = await read('images/tud/TUD-Campus_frame0036.jpg');
  });
  afterEach(() => helper.unload());

  async function run(detectProps, frames) {
    await helper.load([modelNode, detectNode, trackNode, catchNode, completeNode], flow(detectProps));
    const outs = collect(helper.getNode('out'));
    const caught = collect(helper.getNode('caught'));
    const completed = collect(helper.getNode('completed'));
    const det = helper.getNode('det');
    await waitFor(() => det.detectStats().loaded, 30000, 'the model');
    for (let k = 0; k < frames.length; k++) {
      const img = frames[k];
      const ref = store.put('motion-cam', img.data.slice(), img.width, img.height, k * 100, 'rgb24');
      det.receive({ topic: 'motion-cam', payload: { camera: 'motion-cam', frame: ref, detections: [] } });
      await new Promise((r) => setTimeout(r, 100)); // a 10 fps camera
    }
    await waitFor(() => completed.length === frames.length, 30000, `every message completed (${completed.length}/${frames.length})`);
    return { outs, caught, stats: det.detectStats() };
  }

  it('skips still frames, keeps each camera in order, and carries the tracks through them', async () => {
    // 1.5 s still, then the scene changes (people have walked), then still again.
    const frames = [...Array(15).fill(still), ...Array(10).fill(moved)];
    const { outs, caught, stats } = await run({ motionGate: true, motionMaxSkipS: 0.5 }, frames);
    assert.deepStrictEqual(
      caught.map((m) => m.error.message),
      [],
    );
    const times = outs.map((m) => m.payload.frame.tMs);
    assert.deepStrictEqual(
      times,
      [...times].sort((a, b) => a - b),
      'frames leave in order',
    );
    assert.strictEqual(new Set(times).size, times.length);
    const skipped = outs.filter((m) => m.payload.motion.skipped);
    const detected = outs.filter((m) => !m.payload.motion.skipped);
    assert.ok(skipped.length >= 5, `${skipped.length} still frames skipped`);
    assert.strictEqual(stats.skippedStill, skipped.length);
    // The change of scene at 1.5 s is detected as motion, at once.
    const at15 = outs.find((m) => m.payload.frame.tMs >= 1500);
    assert.ok(at15 && at15.payload.frame.tMs === 1500 && at15.payload.motion.reason === 'motion', JSON.stringify(at15?.payload.motion));
    // Still frames re-detected at most 0.5 s apart (frame time).
    const detTimes = detected.map((m) => m.payload.frame.tMs);
    for (let i = 1; i < detTimes.length; i++) assert.ok(detTimes[i] - detTimes[i - 1] <= 600, `detections at ${detTimes.join(', ')}`);
    // Skipped frames carry the confirmed tracks of the detected ones, on predicted boxes.
    const ids = new Set(detected.flatMap((m) => m.payload.detections.filter((d) => d.trackState === 'confirmed').map((d) => d.trackId)));
    const carried = skipped.filter((m) => m.payload.detections.length > 0);
    assert.ok(carried.length > 0, 'some still frames carry tracks');
    for (const m of carried) {
      for (const d of m.payload.detections) {
        assert.strictEqual(d.predicted, true);
        assert.ok(ids.has(d.trackId), `track ${d.trackId} was seen on a detected frame`);
      }
    }
  });

  it('off by default: every frame is detected and none carries motion', async () => {
    const { outs } = await run({}, Array(4).fill(still));
    assert.ok(outs.length >= 1);
    for (const m of outs) assert.strictEqual(m.payload.motion, undefined);
  });
});
