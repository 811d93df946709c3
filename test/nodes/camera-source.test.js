'use strict';
// vision-camera-source against real ffmpeg decoding real video (../shared/assets via EDGEVISION_ASSETS).
const assert = require('assert');
const http = require('http');
const { execFileSync } = require('child_process');
const fs = require('fs');
const helper = require('node-red-node-test-helper');
const cameraNode = [
  require('../../dist/nodes/camera-source/camera-source.js'),
  require('@node-red/nodes/core/common/25-catch.js'),
  require('@node-red/nodes/core/common/25-status.js'),
];
const { sharedFrameStore } = require('../../dist/nodes/lib/frame-store.js');
const { asset } = require('../helpers/assets');
const { waitFor } = require('../helpers/wait');

helper.init(require.resolve('node-red'));

function ffmpegChildren() {
  try {
    return execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => /ffmpeg/.test(l))
      .map((l) => Number(l.trim().split(/\s+/)[0]));
  } catch {
    return []; // ps exits 1 when there are no children
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A node type that reads frames like vision-detect: one at a time, reading the pixels (named, so it
 * paces a full-speed replay) when it starts on a frame and taking `ms` over it; later frames queue.
 * `onRead(found)` says whether the frame was still in the store; it stops reading once `more()` is false.
 */
function detectLikeReader(type, ms, onRead, more = () => true) {
  const store = sharedFrameStore();
  return function (RED) {
    RED.nodes.registerType(type, function (cfg) {
      RED.nodes.createNode(this, cfg);
      const queue = [];
      let busy = false;
      const next = () => {
        if (busy || !queue.length || !more()) return;
        busy = true;
        const { msg, d } = queue.shift();
        onRead(!!store.get(msg.payload.frame, this.id));
        setTimeout(() => {
          busy = false;
          d();
          next();
        }, ms);
      };
      this.on('input', (msg, send, d) => {
        queue.push({ msg, d });
        next();
      });
    });
  };
}

function flow(props) {
  // Every node sits on a tab: nodes without `z` are taken for config nodes.
  return [
    { id: 'f1', type: 'tab' },
    { id: 'cam', type: 'vision-camera-source', camera: props.camera || 'cam1', wires: [['out']], ...props },
    { id: 'out', type: 'helper' },
    { id: 'catcher', type: 'catch', scope: ['cam'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
    { id: 'stat', type: 'status', scope: ['cam'], wires: [['statuses']] },
    { id: 'statuses', type: 'helper' },
  ].map((n) => (n.type === 'tab' ? n : { z: 'f1', ...n }));
}


describe('vision-camera-source (real ffmpeg)', function () {
  this.timeout(60000);
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
  });

  it('sends frames of vtest.avi with the right size, sequence and media time, pixels in the store', function (done) {
    const camera = 'vtest-size';
    helper.load(cameraNode, flow({ camera, url: asset('video/vtest.avi'), realtime: false, loop: false }), function () {
      const out = helper.getNode('out');
      const seen = [];
      out.on('input', (msg) => {
        if (seen.length >= 12) return;
        seen.push(msg);
        if (seen.length < 12) return;
        try {
          seen.forEach((m, i) => {
            assert.strictEqual(m.topic, camera);
            assert.strictEqual(m.payload.camera, camera);
            assert.deepStrictEqual(m.payload.detections, []);
            const ref = m.payload.frame;
            assert.strictEqual(ref.width, 768);
            assert.strictEqual(ref.height, 576);
            assert.strictEqual(ref.format, 'rgb24');
            assert.strictEqual(ref.seq, seen[0].payload.frame.seq + i);
            // The container says 10 fps: media time advances 100 ms a frame.
            assert.ok(Math.abs(ref.tMs - seen[0].payload.frame.tMs - i * 100) < 1e-6, `tMs ${ref.tMs}`);
            assert.ok(!Buffer.isBuffer(m.payload.frame), 'no pixels on the message');
          });
          const latest = sharedFrameStore().latest(camera);
          assert.ok(latest, 'frame store holds the camera');
          assert.strictEqual(latest.data.length, 768 * 576 * 3);
          done();
        } catch (e) {
          done(e);
        }
      });
    });
  });

  it('holds the fps limit (counted in frames, not wall time) and downsizes keeping aspect', function (done) {
    // vtest.avi: 795 frames at a nominal 10 fps = 79.5 s of media; at 2 fps that is 159 frames.
    helper.load(cameraNode, flow({ camera: 'vtest-fps', url: asset('video/vtest.avi'), realtime: false, loop: false, fps: 2, maxWidth: 384 }), function () {
      const out = helper.getNode('out');
      const statuses = helper.getNode('statuses');
      let n = 0;
      let size = null;
      out.on('input', (msg) => {
        n++;
        size = [msg.payload.frame.width, msg.payload.frame.height];
      });
      statuses.on('input', (msg) => {
        if (!/^ended/.test(msg.status.text || '')) return;
        try {
          assert.ok(Math.abs(n - 159) <= 1, `expected 159±1 frames at 2 fps, got ${n}`);
          assert.deepStrictEqual(size, [384, 288]);
          done();
        } catch (e) {
          done(e);
        }
      });
    });
  });

  it('replays a file at full speed no faster than the slowest stage reading its pixels: no frame is lost', function (done) {
    // A reader that takes 15 ms a frame, far slower than ffmpeg decodes vtest.avi, named like detect.
    // Beside it a sampler that reads every frame at once, unnamed like a view wired off the camera:
    // it must not hurry the source past the slow one. Without pacing the 8-frame store would have
    // evicted most frames before the slow reader got to them.
    const store = sharedFrameStore();
    let hits = 0;
    let misses = 0;
    let sampled = 0;
    const slowReader = detectLikeReader('test-slow-reader', 15, (found) => (found ? hits++ : misses++));
    function readers(RED) {
      slowReader(RED);
      RED.nodes.registerType('test-sampler', function (cfg) {
        RED.nodes.createNode(this, cfg);
        this.on('input', (msg, send, d) => {
          if (store.get(msg.payload.frame)) sampled++;
          d();
        });
      });
    }
    const f = flow({ camera: 'paced', url: asset('video/vtest.avi'), realtime: false, loop: false });
    f.find((n) => n.id === 'cam').wires = [['reader', 'sampler']];
    f.push({ id: 'reader', z: 'f1', type: 'test-slow-reader' }, { id: 'sampler', z: 'f1', type: 'test-sampler' });
    helper.load([...cameraNode, readers], f, function () {
      const iv = setInterval(() => {
        if (hits + misses < 100) return;
        clearInterval(iv);
        try {
          assert.strictEqual(misses, 0, `${misses} of ${hits + misses} frames were evicted before the slow reader got to them`);
          assert.ok(sampled >= 100, `the sampler saw ${sampled} frames`);
          done();
        } catch (e) {
          done(e);
        }
      }, 20);
    });
  });

  it('a full-speed replay waits for a reader slower than the 2 s give-up (a large model on a small CPU)', function (done) {
    // A detect-like reader taking 2.3 s a frame, one frame at a time. It is slow, not stopped: the
    // replay must keep waiting for it instead of running ahead and evicting the frames it has queued.
    this.timeout(30000);
    let hits = 0;
    let misses = 0;
    const reader = detectLikeReader('test-very-slow-reader', 2300, (found) => (found ? hits++ : misses++), () => hits + misses < 4);
    const f = flow({ camera: 'very-slow-reader', url: asset('video/vtest.avi'), realtime: false, loop: false });
    f.find((n) => n.id === 'cam').wires = [['reader']];
    f.push({ id: 'reader', z: 'f1', type: 'test-very-slow-reader' });
    helper.load([...cameraNode, reader], f, function () {
      waitFor(() => hits + misses >= 4, 20000, 'four frames read')
        .then(() => {
          assert.strictEqual(misses, 0, `${misses} of 4 frames were evicted before the slow reader got to them`);
          done();
        })
        .catch(done);
    });
  });

  it('a reader that stops reading no longer holds a full-speed replay back', function (done) {
    // A detect-like reader that reads the first 5 frames, then stops (as a failing stage would). The
    // replay waits for it at most the 2 s give-up once, not once per frame: the clip still flows.
    this.timeout(30000);
    const store = sharedFrameStore();
    let read = 0;
    let delivered = 0;
    function reader(RED) {
      RED.nodes.registerType('test-stopping-reader', function (cfg) {
        RED.nodes.createNode(this, cfg);
        this.on('input', (msg, send, d) => {
          delivered++;
          if (read < 5 && store.get(msg.payload.frame, this.id)) read++;
          d();
        });
      });
    }
    const f = flow({ camera: 'stopped-reader', url: asset('video/vtest.avi'), realtime: false, loop: false });
    f.find((n) => n.id === 'cam').wires = [['reader']];
    f.push({ id: 'reader', z: 'f1', type: 'test-stopping-reader' });
    helper.load([...cameraNode, reader], f, function () {
      // At one frame per 2 s give-up, 200 frames would take over 6 minutes.
      waitFor(() => delivered >= 200, 20000, '200 frames delivered after the reader stopped')
        .then(() => {
          assert.strictEqual(read, 5);
          done();
        })
        .catch(done);
    });
  });

  it('reports an unreachable source in red, retries with back-off, and keeps the flow running', function (done) {
    const srv = http.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = srv.address().port;
      srv.close(); // nothing listens there now
      helper.load(cameraNode, flow({ camera: 'nowhere', url: `http://127.0.0.1:${port}/stream.mjpg` }), function () {
        const caught = helper.getNode('caught');
        const statuses = helper.getNode('statuses');
        const texts = [];
        let errors = 0;
        caught.on('input', () => errors++);
        statuses.on('input', (msg) => {
          texts.push(msg.status);
          if (!/reconnecting \(2\)/.test(msg.status.text || '')) return;
          try {
            assert.strictEqual(msg.status.fill, 'red');
            assert.ok(texts.some((s) => /reconnecting \(1\)/.test(s.text) && /refused/i.test(s.text)), JSON.stringify(texts));
            assert.ok(errors >= 1, 'errors reach Catch nodes');
            done();
          } catch (e) {
            done(e);
          }
        });
      });
    });
  });

  it('a missing file: red status with the reason, an error for Catch nodes, no crash', function (done) {
    helper.load(cameraNode, flow({ camera: 'missing', url: '/no/such/clip.mp4' }), function () {
      const caught = helper.getNode('caught');
      caught.on('input', (msg) => {
        try {
          assert.match(msg.error.message, /video file not found: \/no\/such\/clip\.mp4/);
          done();
        } catch (e) {
          done(e);
        }
      });
    });
  });

  it('an unknown command goes to Catch nodes with the reason', function (done) {
    helper.load(cameraNode, flow({ camera: 'cmd', url: asset('video/vtest.avi'), autoStart: false }), function () {
      const caught = helper.getNode('caught');
      caught.on('input', (msg) => {
        try {
          assert.match(msg.error.message, /unknown command "jump"/);
          done();
        } catch (e) {
          done(e);
        }
      });
      helper.getNode('cam').receive({ payload: 'jump' });
    });
  });

  it('an MJPEG server that stops and comes back mid-stream: frames resume', async function () {
    const jpegs = [asset('images/vtest/vtest_frame0001.jpg'), asset('images/vtest/vtest_frame0201.jpg')].map((f) => fs.readFileSync(f));
    const clients = new Set();
    let frameTimer = null;
    const handler = (req, res) => {
      res.writeHead(200, { 'Content-Type': 'multipart/x-mixed-replace; boundary=frame' });
      clients.add(res);
      let i = 0;
      const iv = setInterval(() => {
        const j = jpegs[i++ % jpegs.length];
        res.write(`--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${j.length}\r\n\r\n`);
        res.write(j);
        res.write('\r\n');
      }, 100);
      frameTimer = iv;
      res.on('close', () => {
        clearInterval(iv);
        clients.delete(res);
      });
    };
    const listen = (port) =>
      new Promise((resolve) => {
        const s = http.createServer(handler);
        s.listen(port, '127.0.0.1', () => resolve(s));
      });
    let server = await listen(0);
    const port = server.address().port;
    await new Promise((r) => helper.load(cameraNode, flow({ camera: 'mjpeg', url: `http://127.0.0.1:${port}/stream.mjpg` }), r));
    const out = helper.getNode('out');
    const statuses = helper.getNode('statuses');
    let frames = 0;
    const widths = new Set();
    const texts = [];
    // Assert after the fact: a throw inside an 'input' listener is caught by Node-RED, not mocha.
    out.on('input', (msg) => {
      frames++;
      widths.add(msg.payload.frame.width);
    });
    statuses.on('input', (msg) => texts.push(msg.status.text));
    try {
      await waitFor(() => frames >= 5, 15000, 'first frames');
      // Stop the server mid-stream: drop the connection and refuse new ones for a while.
      await new Promise((r) => {
        server.close(r);
        for (const c of clients) c.destroy();
      });
      await waitFor(() => texts.some((t) => /reconnecting/.test(t || '')), 15000, 'reconnecting status');
      const before = frames;
      server = await listen(port);
      await waitFor(() => frames >= before + 5, 20000, 'frames after the server came back');
      assert.deepStrictEqual([...widths], [768]);
    } finally {
      clearInterval(frameTimer);
      for (const c of clients) c.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('leaves no ffmpeg process behind after close and redeploy (checked by PID)', async function () {
    const f = flow({ camera: 'pids', url: asset('video/vtest.avi'), realtime: true, loop: true });
    await new Promise((r) => helper.load(cameraNode, f, r));
    const first = await waitFor(() => { const p = ffmpegChildren(); return p.length ? p : null; }, 10000, 'ffmpeg to start');
    // Redeploy: a full reload of the same flow stops the old ffmpeg and starts a new one.
    await helper.setFlows(f);
    const second = await waitFor(() => { const p = ffmpegChildren().filter((x) => !first.includes(x)); return p.length ? p : null; }, 10000, 'ffmpeg after redeploy');
    await waitFor(() => first.every((p) => !alive(p)), 5000, 'first ffmpeg to exit after redeploy');
    await helper.unload();
    await waitFor(() => second.every((p) => !alive(p)), 5000, 'ffmpeg to exit after close');
    assert.deepStrictEqual(ffmpegChildren(), []);
  });
});
