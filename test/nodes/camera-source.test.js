'use strict';
// vision-camera-source against real ffmpeg decoding real video (../shared/assets via EDGEVISION_ASSETS).
const assert = require('assert');
const http = require('http');
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const helper = require('node-red-node-test-helper');
const cameraNode = [
  require('../../dist/nodes/camera-source/camera-source.js'),
  require('@node-red/nodes/core/common/25-catch.js'),
  require('@node-red/nodes/core/common/25-status.js'),
];
const { sharedFrameStore } = require('../../dist/nodes/lib/frame-store.js');
const { asset } = require('../helpers/assets');
const { waitFor, sleep } = require('../helpers/wait');

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

/** ffmpeg's command line as every local user can read it (what `ps` shows). */
function cmdline(pid) {
  return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

/** Every form of a secret that must not show: as typed, percent-encoded, and each part around @ : /. */
function secretForms(...secrets) {
  const out = new Set();
  for (const s of secrets) {
    out.add(s);
    out.add(encodeURIComponent(s));
    for (const part of s.split(/[@:/]/)) if (part.length >= 4) out.add(part);
  }
  return [...out];
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

  it('hardware decoding asked for on a machine without it: decodes in software, the status says why', async function () {
    // The same probe the node runs; on a machine whose ffmpeg can use CUDA this test has nothing to show.
    const { decideHwaccel, spawnProbe } = require('../../dist/nodes/lib/video/hwaccel.js');
    const probe = await decideHwaccel('cuda', spawnProbe('ffmpeg'));
    if (probe.kind) this.skip();
    await new Promise((r) =>
      helper.load(cameraNode, flow({ camera: 'hw', url: asset('video/vtest.avi'), realtime: false, loop: false, hwaccel: 'cuda', maxWidth: 384 }), r),
    );
    const warnings = [];
    helper.getNode('cam').on('call:warn', (c) => warnings.push(String(c.args[0])));
    const texts = [];
    helper.getNode('statuses').on('input', (m) => texts.push(m.status.text));
    const sizes = [];
    helper.getNode('out').on('input', (m) => sizes.push([m.payload.frame.width, m.payload.frame.height]));
    await waitFor(() => sizes.length >= 5 && texts.some((t) => / sw: /.test(t)), 30000, 'software frames and the fallback in the status');
    // Software decoding, with the size still capped (by the software scaler).
    assert.deepStrictEqual(sizes[0], [384, 288]);
    const t = texts.find((x) => / sw: /.test(x));
    assert.match(t, /^[\d.]+ fps · \d+ drop · sw: cuda: \w+/);
    assert.match(warnings.join('\n'), /cuda hardware decoding unavailable, decoding in software \(cuda: /);
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
    const reader = detectLikeReader(
      'test-very-slow-reader',
      2300,
      (found) => (found ? hits++ : misses++),
      () => hits + misses < 4,
    );
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
      const port = /** @type {import('net').AddressInfo} */ (srv.address()).port;
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
            assert.ok(
              texts.some((s) => /reconnecting \(1\)/.test(s.text) && /refused/i.test(s.text)),
              JSON.stringify(texts),
            );
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
    const first = await waitFor(
      () => {
        const p = ffmpegChildren();
        return p.length ? p : null;
      },
      10000,
      'ffmpeg to start',
    );
    // Redeploy: a full reload of the same flow stops the old ffmpeg and starts a new one.
    await helper.setFlows(f);
    const second = await waitFor(
      () => {
        const p = ffmpegChildren().filter((x) => !first.includes(x));
        return p.length ? p : null;
      },
      10000,
      'ffmpeg after redeploy',
    );
    await waitFor(() => first.every((p) => !alive(p)), 5000, 'first ffmpeg to exit after redeploy');
    await helper.unload();
    await waitFor(() => second.every((p) => !alive(p)), 5000, 'ffmpeg to exit after close');
    assert.deepStrictEqual(ffmpegChildren(), []);
  });
});

describe('vision-camera-source: camera secrets never on the command line (real servers)', function () {
  this.timeout(60000);
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
  });

  const USER = 'cam-operator';
  const PASSWORD = 'Pr1v@te:Cam/7';

  /** An MJPEG server on 127.0.0.1 that wants HTTP basic authentication; counts good and bad tries. */
  async function mjpegWithAuth() {
    const jpeg = fs.readFileSync(asset('images/vtest/vtest_frame0001.jpg'));
    const want = 'Basic ' + Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    const tries = { ok: 0, refused: 0 };
    const timers = new Set();
    const srv = http.createServer((req, res) => {
      if (req.headers.authorization !== want) {
        tries.refused++;
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' });
        res.end();
        return;
      }
      tries.ok++;
      res.writeHead(200, { 'Content-Type': 'multipart/x-mixed-replace; boundary=frame' });
      const iv = setInterval(() => {
        res.write(`--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
        res.write(jpeg);
        res.write('\r\n');
      }, 100);
      timers.add(iv);
      res.on('close', () => {
        clearInterval(iv);
        timers.delete(iv);
      });
    });
    await new Promise((r) => srv.listen(0, '127.0.0.1', () => r(null)));
    const close = () =>
      new Promise((r) => {
        for (const iv of timers) clearInterval(iv);
        srv.closeAllConnections();
        srv.close(r);
      });
    return { port: /** @type {import('net').AddressInfo} */ (srv.address()).port, tries, close };
  }

  /** Frames, statuses and caught errors of the flow's camera. */
  function watch() {
    const got = { frames: [], statuses: [], errors: [] };
    helper.getNode('out').on('input', (m) => got.frames.push(m));
    helper.getNode('statuses').on('input', (m) => got.statuses.push(m.status));
    helper.getNode('caught').on('input', (m) => got.errors.push(m.error.message));
    return got;
  }

  /** The camera's ffmpeg, its argv, and the list file it was given (checked while it runs). */
  async function ffmpegOfCamera(exclude = []) {
    const pid = await waitFor(() => ffmpegChildren().find((p) => !exclude.includes(p)), 10000, "the camera's ffmpeg");
    const argv = cmdline(pid);
    return { pid, argv, input: argv[argv.indexOf('-i') + 1] };
  }

  function assertNoSecret(texts, what) {
    const all = texts.join('\n');
    for (const s of secretForms(USER, PASSWORD)) assert.ok(!all.includes(s), `${what} shows "${s}": ${all}`);
  }

  it('HTTP with basic auth: user and password from credentials reach the server, never argv; the list file is deleted', async () => {
    const server = await mjpegWithAuth();
    try {
      const f = flow({ camera: 'http-auth', url: `http://127.0.0.1:${server.port}/stream.mjpg` });
      await new Promise((r) => helper.load(cameraNode, f, { cam: { username: USER, password: PASSWORD } }, r));
      const got = watch();
      const cam = await ffmpegOfCamera();
      await waitFor(() => got.frames.length >= 3, 20000, 'frames from the MJPEG server');
      assert.ok(server.tries.ok >= 1, 'the server saw the right user and password');
      assertNoSecret(cam.argv, `/proc/${cam.pid}/cmdline`);
      assert.ok(cam.argv.includes('concat'), `read through an ffconcat list: ${cam.argv.join(' ')}`);
      assert.ok(cam.input.startsWith(fs.realpathSync(os.tmpdir())) || cam.input.startsWith(os.tmpdir()), cam.input);
      // ffmpeg has opened the stream: its list, and the private folder, are gone.
      assert.ok(!fs.existsSync(cam.input), `${cam.input} still exists`);
      assert.ok(!fs.existsSync(path.dirname(cam.input)), `${path.dirname(cam.input)} still exists`);
      assert.strictEqual(got.frames[0].payload.frame.width, 768);
      assertNoSecret(
        got.statuses.map((s) => s.text || ''),
        'the status',
      );
    } finally {
      await helper.unload();
      await server.close();
    }
  });

  it('HTTP with a wrong password: a red status with the 401, the password nowhere, the list file deleted', async () => {
    const server = await mjpegWithAuth();
    try {
      const f = flow({ camera: 'http-bad-auth', url: `http://127.0.0.1:${server.port}/stream.mjpg` });
      await new Promise((r) => helper.load(cameraNode, f, { cam: { username: USER, password: 'Pr1v@te:Cam/8' } }, r));
      const got = watch();
      const cam = await ffmpegOfCamera();
      assertNoSecret(cam.argv, `/proc/${cam.pid}/cmdline`);
      const red = await waitFor(() => got.statuses.find((s) => s.fill === 'red' && /401/.test(s.text)), 15000, 'a red status with the 401');
      assert.match(red.text, /reconnecting \(1\): Server returned 401 Unauthorized/);
      await waitFor(() => got.errors.length >= 1, 5000, 'the error at Catch');
      assert.match(got.errors[0], /401 Unauthorized/);
      assert.ok(server.tries.refused >= 1 && server.tries.ok === 0);
      for (const texts of [got.statuses.map((s) => s.text || ''), got.errors]) {
        for (const s of secretForms('Pr1v@te:Cam/8')) assert.ok(!texts.join('\n').includes(s), `"${s}" shown: ${texts.join(' | ')}`);
      }
      assert.ok(!fs.existsSync(path.dirname(cam.input)), 'the list is deleted when ffmpeg exits');
    } finally {
      await helper.unload();
      await server.close();
    }
  });

  it('RTSP with auth (rtsp-streaming-server fed by ffmpeg): frames arrive, user and password not in argv', async function () {
    this.timeout(90000);
    const rtpPort = 20000 + 2 * Math.floor(Math.random() * 15000);
    const server = spawn(process.execPath, [require.resolve('../helpers/rtsp-server-child.js')], {
      env: { ...process.env, RTSP_USER: USER, RTSP_PASSWORD: PASSWORD, RTSP_RTP_PORT: String(rtpPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const said = [];
    let lineBuf = '';
    server.stdout.on('data', (d) => {
      lineBuf += d;
      const lines = lineBuf.split('\n');
      lineBuf = lines.pop();
      for (const l of lines) if (l.trim()) said.push(JSON.parse(l));
    });
    let publisher = null;
    try {
      const ports = (await waitFor(() => said.find((m) => m.listening || m.error), 10000, 'the RTSP server')).listening;
      assert.ok(ports, JSON.stringify(said));
      // A camera: ffmpeg publishing a shared clip, in a loop, at its own pace.
      publisher = spawn(
        'ffmpeg',
        [
          '-hide_banner',
          '-loglevel',
          'error',
          '-re',
          '-stream_loop',
          '-1',
          '-i',
          asset('video/TUD-Campus.mp4'),
          '-an',
          '-c:v',
          'copy',
          '-f',
          'rtsp',
          '-rtsp_transport',
          'udp',
          `rtsp://127.0.0.1:${ports.publish}/cam1`,
        ],
        { stdio: 'ignore' },
      );
      await waitFor(() => said.some((m) => m.publish), 10000, 'the publisher');
      const f = flow({ camera: 'rtsp-auth', url: `rtsp://127.0.0.1:${ports.client}/cam1`, rtspTransport: 'udp' });
      await new Promise((r) => helper.load(cameraNode, f, { cam: { username: USER, password: PASSWORD } }, r));
      const got = watch();
      const cam = await ffmpegOfCamera([publisher.pid]);
      assertNoSecret(cam.argv, `/proc/${cam.pid}/cmdline`);
      assert.ok(cam.argv.includes('concat') && cam.argv.join(' ').includes('rtsp,rtsps,rtp,srtp,tcp,udp,tls'), cam.argv.join(' '));
      await waitFor(() => got.frames.length >= 3, 30000, 'frames over RTSP');
      assert.ok(
        said.some((m) => m.auth === 'ok'),
        `the server accepted the user and password: ${JSON.stringify(said)}`,
      );
      assert.deepStrictEqual([got.frames[0].payload.frame.width, got.frames[0].payload.frame.height], [640, 480]);
      assert.ok(!fs.existsSync(path.dirname(cam.input)), 'the list is deleted once frames flow');
      assertNoSecret(
        got.statuses.map((s) => s.text || ''),
        'the status',
      );
    } finally {
      await helper.unload();
      if (publisher) publisher.kill('SIGKILL');
      server.kill('SIGKILL');
    }
  });
});

describe('vision-camera-source: sources a message may switch to', function () {
  this.timeout(60000);
  let tmp;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-allowed-'));
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function watch() {
    const got = { frames: [], statuses: [], errors: [] };
    helper.getNode('out').on('input', (m) => got.frames.push(m));
    helper.getNode('statuses').on('input', (m) => got.statuses.push(m.status));
    helper.getNode('caught').on('input', (m) => got.errors.push(m.error.message));
    return got;
  }

  it('refuses pseudo-protocols, files outside the folders and .. with a red status saying where to allow it; the camera keeps running', async () => {
    const f = flow({ camera: 'allow-list', url: asset('video/vtest.avi'), realtime: true, loop: true });
    await new Promise((r) => helper.load(cameraNode, f, r));
    const got = watch();
    const cam = helper.getNode('cam');
    await waitFor(() => got.frames.length >= 2, 10000, 'frames from the configured file');
    const dir = path.dirname(asset('video/vtest.avi'));
    /** @type {[string, RegExp][]} */
    const refusals = [
      ['concat:/etc/passwd|/etc/hosts', /msg\.url refused: scheme "concat" is never allowed/],
      ['subfile,,start,0,end,100,,:/etc/passwd', /scheme "subfile" is never allowed/],
      ['tcp://127.0.0.1:1', /scheme "tcp" is not allowed \(allowed: rtsp, rtsps, http, https, \/dev\/video\*\); add tcp to the node's Allowed sources/],
      [
        '/etc/passwd',
        /\/etc\/passwd is outside the allowed folders \(.*\); add its folder to the node's Allowed sources or to visionAllowedFileDirs in settings\.js/,
      ],
      ['file:///etc/passwd', /outside the allowed folders/],
      [`${dir}/../../etc/passwd`, /contains "\.\."/],
    ];
    for (const [url, re] of refusals) {
      const before = got.errors.length;
      cam.receive({ payload: 'restart', url });
      await waitFor(() => got.errors.length > before, 5000, `the refusal of ${url}`);
      assert.match(got.errors[got.errors.length - 1], re);
      const last = got.statuses[got.statuses.length - 1];
      assert.strictEqual(last.fill, 'red');
      assert.match(last.text, /^msg\.url refused/);
    }
    // Refused, not switched: the configured clip is still playing.
    const n = got.frames.length;
    await waitFor(() => got.frames.length >= n + 3, 10000, 'frames after the refusals');
    assert.ok(got.frames.every((m) => m.payload.frame.width === 768));
  });

  it("allows a file in the configured file's folder and in visionAllowedFileDirs, not a link out of it", async () => {
    // A short clip of our own in a folder settings.js allows, and a link there to a file elsewhere.
    const allowed = path.join(tmp, 'clips');
    fs.mkdirSync(allowed);
    const own = path.join(allowed, 'own.mkv');
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10:duration=2', '-c:v', 'mpeg4', own]);
    fs.mkdirSync(path.join(tmp, 'elsewhere'));
    const outside = path.join(tmp, 'elsewhere', 'secret.mkv');
    fs.copyFileSync(own, outside);
    fs.symlinkSync(outside, path.join(allowed, 'link.mkv'));
    helper.settings({ visionAllowedFileDirs: [allowed] });
    const f = flow({ camera: 'allow-files', url: asset('video/vtest.avi'), realtime: true, loop: true, autoStart: false });
    await new Promise((r) => helper.load(cameraNode, f, r));
    const got = watch();
    const cam = helper.getNode('cam');
    const sizes = () => got.frames.map((m) => m.payload.frame.width);

    cam.receive({ payload: 'start', url: path.join(allowed, 'link.mkv') });
    await waitFor(() => got.errors.length >= 1, 5000, 'the refusal of a link out of the folder');
    assert.match(got.errors[0], new RegExp(`${outside.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is outside the allowed folders`));

    cam.receive({ payload: 'start', url: own });
    await waitFor(() => sizes().includes(320), 10000, 'frames from the file in visionAllowedFileDirs');
    // The folder of the node's own file: the other shared clip beside vtest.avi.
    cam.receive({ payload: 'restart', url: asset('video/TUD-Campus.mp4') });
    await waitFor(() => sizes().includes(640), 10000, 'frames from the clip beside the configured one');
    assert.strictEqual(got.errors.length, 1, got.errors.join(' | '));
  });

  it('a bad Allowed sources setting is a configuration error that names the entry', async () => {
    const f = flow({ camera: 'allow-bad', url: asset('video/vtest.avi'), allowedSources: 'rtsp, pipe' });
    await new Promise((r) => helper.load(cameraNode, f, r));
    const got = watch();
    await waitFor(() => got.errors.length >= 1, 5000, 'the configuration error');
    assert.match(got.errors[0], /allowed sources: "pipe" can never be allowed/);
  });
});

describe('vision-camera-source: frame time and frame rate', function () {
  this.timeout(60000);
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
  });

  /** Frame times of the flow's `out` node, kept across reloads (call collect() after each). */
  function timeline() {
    const times = [];
    const marks = [];
    return {
      times,
      marks,
      collect() {
        marks.push(times.length);
        helper.getNode('out').on('input', (m) => times.push(m.payload.frame.tMs));
      },
      async more(n, what) {
        const from = times.length;
        await waitFor(() => times.length >= from + n, 15000, what);
      },
      assertIncreasing() {
        for (let i = 1; i < times.length; i++) {
          assert.ok(times[i] > times[i - 1], `time ran backwards at frame ${i}: ${times.slice(Math.max(0, i - 3), i + 2)} (runs start at ${marks})`);
        }
      },
    };
  }

  it("a file's frame times keep increasing over a restart command, a redeploy and a stop + start of the flows", async () => {
    const f = flow({ camera: 'clock', url: asset('video/vtest.avi'), realtime: true, loop: true });
    const t = timeline();
    await new Promise((r) => helper.load(cameraNode, f, r));
    t.collect();
    await t.more(3, 'the first frames');
    helper.getNode('cam').receive({ payload: 'restart' });
    t.marks.push(t.times.length);
    await t.more(3, 'frames after the restart command');
    // A full redeploy: the node is closed and created again (Node-RED empties its memory context).
    await helper.setFlows(f);
    t.collect();
    await t.more(3, 'frames after the redeploy');
    // Every node closed, then created again from the same flows.
    await helper._redNodes.stopFlows();
    await helper._redNodes.startFlows();
    t.collect();
    await t.more(3, 'frames after stop and start');
    // Without a kept timeline each run would start at 0 again: time would run backwards.
    t.assertIncreasing();
    assert.strictEqual(t.marks.length, 4);
  });

  it("over a Node-RED restart (a persistent context store, a new process's frame store) the times continue", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-context-'));
    const ctxModule = helper._context;
    const KEY = Symbol.for('edgevision.frameStore');
    // Other test files hold the process's store (captured when they load): put it back afterwards.
    const processStore = globalThis[KEY];
    try {
      helper.settings({ contextStorage: { default: { module: 'localfilesystem', config: { dir, flushInterval: 1 } } } });
      const f = flow({ camera: 'restart-clock', url: asset('video/vtest.avi'), realtime: true, loop: true });
      const t = timeline();
      await new Promise((r) => helper.load(cameraNode, f, r));
      // The helper starts Node-RED with the memory store only; open the file store as a start would.
      await helper._redNodes.stopFlows();
      await ctxModule.load();
      await helper._redNodes.startFlows();
      t.collect();
      await t.more(5, 'frames before the restart');
      // Stop as Node-RED does: close every node, flush the context store to disk.
      await helper._redNodes.stopFlows();
      await ctxModule.close();
      const saved = JSON.parse(fs.readFileSync(path.join(dir, 'context', 'f1', 'cam.json'), 'utf8'));
      assert.ok(saved.mediaClock['restart-clock'].lastTMs >= t.times[t.times.length - 1], JSON.stringify(saved));
      // A new process: context read back from disk, and an empty frame store.
      delete globalThis[KEY];
      ctxModule.init(helper._settings);
      await ctxModule.load();
      await helper._redNodes.startFlows();
      t.collect();
      await t.more(3, 'frames after the restart');
      // The restored clock goes on one frame (100 ms at vtest.avi's 10 fps) after the last saved time.
      t.assertIncreasing();
      assert.strictEqual(t.times[t.marks[1]], saved.mediaClock['restart-clock'].lastTMs + 100);
    } finally {
      await helper.unload();
      globalThis[KEY] = processStore;
      helper.settings({});
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a file at a 7 fps limit in real time: the camera status, the view caption and the demo health tile all show 7 ± 0.5', async function () {
    this.timeout(60000);
    const viewNode = require('../../dist/nodes/view/view.js');
    const functionNode = require('@node-red/nodes/core/function/10-function.js');
    const demo = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'flows', 'demo.json'), 'utf8'));
    const health = demo.find((n) => n.id === 'demo-health');
    const f = flow({ camera: 'rate7', url: asset('video/vtest.avi'), realtime: true, loop: true, fps: 7 });
    f.find((n) => n.id === 'cam').wires = [['out', 'view', 'health']];
    f.push(
      {
        id: 'view',
        z: 'f1',
        type: 'vision-view',
        camera: 'rate7',
        maxWidth: 320,
        maxFps: 5,
        quality: 50,
        caption: true,
        sendJpeg: 'every',
        geometry: '',
        stations: '',
        wires: [['pictures']],
      },
      { id: 'pictures', z: 'f1', type: 'helper' },
      { ...health, id: 'health', z: 'f1', wires: [['fpsTile'], [], [], [], []] },
      { id: 'fpsTile', z: 'f1', type: 'helper' },
    );
    await new Promise((r) => helper.load([...cameraNode, viewNode, functionNode], f, r));
    const statuses = [];
    const captions = [];
    const tiles = [];
    helper.getNode('statuses').on('input', (m) => statuses.push(m.status.text || ''));
    helper.getNode('pictures').on('input', (m) => captions.push(m.caption));
    helper.getNode('fpsTile').on('input', (m) => tiles.push(m.payload));
    // Wait past the 5 s window, then take the newest figure of each. The view encodes at most 5 pictures
    // a second: its caption must still show the camera's 7, not its own rate.
    await sleep(7500);
    const fromStatus = statuses
      .map((t) => /^([\d.]+) fps · /.exec(t))
      .filter(Boolean)
      .map((m) => Number(m[1]));
    const fromCaption = captions
      .map((c) => /^rate7 · ([\d.]+) fps$/.exec(c || ''))
      .filter(Boolean)
      .map((m) => Number(m[1]));
    const figures = { status: fromStatus.pop(), caption: fromCaption.pop(), health: tiles.pop() };
    for (const [where, v] of Object.entries(figures))
      assert.ok(typeof v === 'number' && Math.abs(v - 7) <= 0.5, `${where} shows ${v} fps (all: ${JSON.stringify(figures)})`);
  });
});
