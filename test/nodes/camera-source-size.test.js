'use strict';
// vision-camera-source with Frame size "as the nodes reading it need": a reader that asks for 320 px
// (FrameStore.want) gets 320 px frames once the need has held a second, and a file replay continues
// where it was instead of starting again (real ffmpeg, vtest.avi); frame buffers are reused.
const assert = require('assert');
const helper = require('node-red-node-test-helper');
const cameraNode = require('../../dist/nodes/camera-source/camera-source.js');
const { sharedFrameStore } = require('../../dist/nodes/lib/frame-store.js');
const { asset } = require('../helpers/assets');
const { waitFor } = require('../helpers/wait');

helper.init(require.resolve('node-red'));

/** Reads every frame's pixels (named: it paces the replay) and says it needs `side` px. */
function sizeReader(side, got) {
  const store = sharedFrameStore();
  return function (RED) {
    RED.nodes.registerType('size-reader', function (cfg) {
      RED.nodes.createNode(this, cfg);
      // One frame after the other, 4 ms of work each before its pixels are read, as a detector would
      // do: the replay is paced by this reader (≥ 1.6 s for 398 frames), so it lasts longer than the
      // one second a new need must hold, however fast this machine decodes.
      let queue = Promise.resolve();
      this.on('input', (msg, _send, done) => {
        const ref = msg.payload.frame;
        store.want(ref.camera, this.id, side);
        queue = queue
          .then(() => new Promise((r) => setTimeout(r, 4)))
          .then(() => {
            const f = store.get(ref, this.id);
            got.push({
              w: ref.width,
              h: ref.height,
              t: ref.tMs,
              seq: ref.seq,
              ok: !!f && f.data.length === ref.width * ref.height * 3,
              buf: f && f.data.buffer,
            });
            done();
          });
      });
      this.on('close', () => store.forgetReader(this.id));
    });
  };
}

describe('vision-camera-source frame size that follows its readers (real ffmpeg)', function () {
  this.timeout(60000);
  afterEach(() => helper.unload());

  it('scales to what the reader needs after a second, and the replay continues where it was', async () => {
    const got = [];
    const flow = [
      { id: 'tab', type: 'tab' },
      // 5 fps of vtest's 79.5 media seconds: 398 frames when played once through.
      {
        id: 'cam',
        z: 'tab',
        x: 1,
        y: 1,
        type: 'vision-camera-source',
        camera: 'size-cam',
        url: asset('video/vtest.avi'),
        fps: 5,
        realtime: false,
        loop: false,
        frameSize: 'readers',
        wires: [['r']],
      },
      { id: 'r', z: 'tab', x: 1, y: 1, type: 'size-reader' },
    ];
    await helper.load([cameraNode, sizeReader(320, got)], flow);
    const cam = helper.getNode('cam');
    const statuses = [];
    cam.on('call:status', (c) => statuses.push(c.args[0]));
    await waitFor(() => statuses.some((s) => /^ended/.test(s.text || '')), 50000, 'the replay to end');
    const sizes = [...new Set(got.map((g) => `${g.w}x${g.h}`))];
    assert.deepStrictEqual(sizes, ['768x576', '320x240'], 'full size first, then what the reader needs');
    assert.ok(
      got.every((g) => g.ok),
      'every frame read while in the store, with its size',
    );
    for (let i = 1; i < got.length; i++) {
      assert.ok(got[i].t > got[i - 1].t && got[i].seq > got[i - 1].seq, `frame ${i}: times and sequence keep increasing`);
    }
    // Pooled: a handful of buffers per size go round (the ring of 8, the one being decoded, a spare).
    const buffers = new Set(got.map((g) => g.buf)).size;
    assert.ok(buffers <= 24, `${buffers} distinct frame buffers for ${got.length} frames`);
    // Continued, not replayed from the start: about 398 frames in all (a restart would add hundreds).
    assert.ok(Math.abs(got.length - 398) <= 3, `${got.length} frames for 79.5 s at 5 fps`);
    const first = got.findIndex((g) => g.w === 320);
    assert.ok(Math.abs(got[first].t - got[first - 1].t - 200) <= 1, `one frame interval across the resize: ${got[first - 1].t} → ${got[first].t}`);
  });
});
