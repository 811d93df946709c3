'use strict';
// A file replayed at full speed (camera-source, Files: play at real speed off) through the real
// detector: the camera waits for detect, so every frame is detected, the ones sent while the model
// was still loading too, and a replay of the same file gives the same frames in every run. (Before,
// the detector kept only the newest waiting frame here too: 73 of 210 frames of a 30 s cut.)
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const helper = require('node-red-node-test-helper');
const cameraNode = require('../../dist/nodes/camera-source/camera-source.js');
const modelNode = require('../../dist/nodes/model/model.js');
const detectNode = require('../../dist/nodes/detect/detect.js');
const { asset, cutClip } = require('../helpers/assets');
const { waitFor } = require('../helpers/wait');

helper.init(require.resolve('node-red'));

describe('vision-detect behind a file replayed at full speed (real ffmpeg, real model)', function () {
  this.timeout(120000);
  let tmp = '';
  let clip = '';
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-detect-replay-'));
    // 10 s of the demo clip: 70 frames at the 7 fps below.
    clip = cutClip('video/vtest.avi', 10, path.join(tmp, 'vtest-10s.mp4'));
    return new Promise((r) => helper.startServer(r));
  });
  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
    return new Promise((r) => helper.stopServer(r));
  });
  afterEach(() => helper.unload());

  /**
   * Camera → detect → helper; resolves with the frame times detect sent and its stats once the
   * camera has ended and nothing more came for a second.
   * @param {boolean} realtime
   */
  async function replay(realtime) {
    const z = 'tab1';
    const at = { x: 100, y: 100 };
    const camera = `replay-${realtime ? 'live' : 'paced'}-${Date.now()}`;
    await helper.load(
      [cameraNode, modelNode, detectNode],
      [
        { id: z, type: 'tab' },
        { id: 'm', type: 'vision-model', model: asset('models/yolox_nano.onnx'), providers: 'cpu', threads: 1 },
        { id: 'cam', z, ...at, type: 'vision-camera-source', camera, url: clip, fps: 7, realtime, loop: false, autoStart: true, wires: [['det']] },
        { id: 'det', z, ...at, type: 'vision-detect', model: 'm', conf: 0.5, classes: 'person', wires: [['out']] },
        { id: 'out', z, ...at, type: 'helper' },
      ],
    );
    /** @type {number[]} */
    const times = [];
    helper.getNode('out').on('input', (/** @type {any} */ m) => times.push(m.payload.frame.tMs));
    const cam = helper.getNode('cam');
    /** @type {string} */
    let camStatus = '';
    cam.on('call:status', (/** @type {any} */ c) => (camStatus = (c.args[0] && c.args[0].text) || camStatus));
    await waitFor(() => /^ended/.test(camStatus), 90000, 'the camera to end the clip');
    let seen = -1;
    await waitFor(
      async () => {
        const same = times.length === seen;
        seen = times.length;
        if (!same) await new Promise((r) => setTimeout(r, 1000));
        return same;
      },
      60000,
      'detect to finish',
    );
    const frames = Number((/(\d+) frames/.exec(camStatus) || [])[1]);
    return { times, frames, stats: /** @type {any} */ (helper.getNode('det')).detectStats() };
  }

  it('every frame of a full-speed replay is detected, in order, those sent while the model loaded too', async () => {
    const r = await replay(false);
    console.log(`      full speed: ${r.times.length} of ${r.frames} frames detected, ${r.stats.dropped} dropped`);
    assert.strictEqual(r.frames, 70, `the camera sent ${r.frames} frames`);
    assert.strictEqual(r.stats.dropped, 0, 'no frame dropped');
    assert.strictEqual(r.times.length, r.frames, 'one detected frame per camera frame');
    assert.strictEqual(r.times[0], 0, 'the first frame (sent before the model was ready) was detected');
    for (let i = 1; i < r.times.length; i++) assert.ok(r.times[i] > r.times[i - 1], `frame ${i} in order`);
  });
});
