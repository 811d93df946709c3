'use strict';
const assert = require('assert');
const { PpmStreamParser } = require('../../dist/nodes/lib/video/ppm-stream.js');
const a = require('../../dist/nodes/lib/video/ffmpeg-args.js');

function ppm(w, h, fill) {
  return Buffer.concat([Buffer.from(`P6\n${w} ${h}\n255\n`), Buffer.alloc(w * h * 3, fill)]);
}

describe('PpmStreamParser', () => {
  it('splits a stream into frames however the chunks fall (byte by byte included)', () => {
    const stream = Buffer.concat([ppm(3, 2, 1), ppm(3, 2, 2), ppm(4, 1, 3)]);
    for (const size of [1, 2, 7, 17, 64, stream.length]) {
      const p = new PpmStreamParser();
      const frames = [];
      for (let i = 0; i < stream.length; i += size) frames.push(...p.push(stream.subarray(i, i + size)));
      assert.deepStrictEqual(
        frames.map((f) => [f.width, f.height, f.data.length, f.data[0]]),
        [
          [3, 2, 18, 1],
          [3, 2, 18, 2],
          [4, 1, 12, 3],
        ],
        `chunk ${size}`,
      );
    }
  });
  it('rejects what is not a P6 stream', () => {
    assert.throws(() => new PpmStreamParser().push(Buffer.from('GIF89a....')), /not a PPM/);
    assert.throws(() => new PpmStreamParser().push(Buffer.from('P6\n2 2\n65535\n')), /maxval 65535/);
  });
});

describe('ffmpeg arguments and helpers', () => {
  const table = [
    ['/data/a.mp4', 'file'],
    ['rtsp://cam/1', 'rtsp'],
    ['RTSPS://cam/1', 'rtsp'],
    ['https://cam/video.mjpg', 'http'],
    ['/dev/video0', 'v4l2'],
    ['udp://239.0.0.1:1234', 'url'],
  ];
  for (const [url, kind] of table) it(`sourceKind(${url}) = ${kind}`, () => assert.strictEqual(a.sourceKind(url), kind));

  it('builds an argument array: realtime loop file, fps and shrink-only scale, PPM to stdout', () => {
    const args = a.ffmpegArgs({ url: 'clip.mp4', realtime: true, loop: true, fps: 5, maxWidth: 640 });
    assert.deepStrictEqual(args.slice(args.indexOf('-re'), args.indexOf('-re') + 5), ['-re', '-stream_loop', '-1', '-i', 'clip.mp4']);
    assert.strictEqual(args[args.indexOf('-vf') + 1], "fps=5,scale='min(640,iw)':-2");
    assert.deepStrictEqual(args.slice(-7), ['-pix_fmt', 'rgb24', '-f', 'image2pipe', '-vcodec', 'ppm', 'pipe:1']);
    assert.ok(!a.ffmpegArgs({ url: 'clip.mp4' }).includes('-vf'));
  });

  it('rtsp: TCP by default, UDP on request, a stall timeout, and only RTSP protocols', () => {
    const args = a.ffmpegArgs({ url: 'rtsp://10.0.0.5/s1' });
    assert.deepStrictEqual(args.slice(args.indexOf('-rtsp_transport'), args.indexOf('-i') + 2), [
      '-rtsp_transport',
      'tcp',
      '-timeout',
      '10000000',
      '-protocol_whitelist',
      'rtsp,rtsps,rtp,srtp,tcp,udp,tls',
      '-i',
      'rtsp://10.0.0.5/s1',
    ]);
    const udp = a.ffmpegArgs({ url: 'rtsp://10.0.0.5/s1', rtspTransport: 'udp' });
    assert.strictEqual(udp[udp.indexOf('-rtsp_transport') + 1], 'udp');
    const web = a.ffmpegArgs({ url: 'https://cam/v.mjpg', stallTimeoutS: 5 });
    assert.deepStrictEqual(web.slice(web.indexOf('-rw_timeout'), web.indexOf('-i') + 2), [
      '-rw_timeout',
      '5000000',
      '-protocol_whitelist',
      'http,https,tcp,tls,crypto,httpproxy',
      '-i',
      'https://cam/v.mjpg',
    ]);
    assert.ok(!a.ffmpegArgs({ url: '/data/a.mp4' }).includes('-protocol_whitelist'), 'a file opens no protocol list');
    assert.ok(!a.ffmpegArgs({ url: 'rtmpt://cam/live' }).includes('-protocol_whitelist'), "another scheme keeps ffmpeg's own rules");
    const listed = a.ffmpegArgs({ url: 'rtmp://op:pw@cam/live' }, '/l');
    assert.strictEqual(listed[listed.indexOf('-protocol_whitelist') + 1], 'file,rtmp,tcp,udp,tls,crypto', 'through a list it names itself and its transports');
  });

  // Where a secret comes from → whether ffmpeg must read the URL from a list file.
  /** @type {[{ url: string, username?: string }, boolean][]} */
  const secretTable = [
    [{ url: 'rtsp://10.0.0.5/s1' }, false],
    [{ url: 'rtsp://10.0.0.5/s1', username: 'op' }, true],
    [{ url: 'rtsp://op:pw@10.0.0.5/s1' }, true],
    [{ url: 'http://op@cam/x.mjpg' }, true],
    [{ url: 'http://cam/img@2x.mjpg' }, false],
    [{ url: '/data/a.mp4', username: 'op' }, false],
    [{ url: '/dev/video0', username: 'op' }, false],
  ];
  for (const [o, want] of secretTable) it(`hasCredentials(${JSON.stringify(o)}) = ${want}`, () => assert.strictEqual(a.hasCredentials(o), want));

  it('credentials never reach argv: the input is an ffconcat list, the URL and its options are in it', () => {
    /** @type {import('../../dist/nodes/lib/video/ffmpeg-args').VideoSourceOptions} */
    const o = { url: 'rtsp://10.0.0.5/s1', username: 'cam-op-7', password: "p@ss:w/rd'x", rtspTransport: 'udp', stallTimeoutS: 5 };
    assert.throws(() => a.ffmpegArgs(o), /ffconcat list file/);
    const args = a.ffmpegArgs(o, '/tmp/x/input.ffconcat');
    assert.deepStrictEqual(args.slice(5, args.indexOf('-i') + 2), [
      '-f',
      'concat',
      '-safe',
      '0',
      '-protocol_whitelist',
      'file,rtsp,rtsps,rtp,srtp,tcp,udp,tls',
      '-i',
      '/tmp/x/input.ffconcat',
    ]);
    const argv = args.join(' ');
    for (const secret of ['cam-op-7', 'p@ss', 'p%40ss', 'w/rd', 'rtsp://']) assert.ok(!argv.includes(secret), `argv holds "${secret}": ${argv}`);
    assert.strictEqual(
      a.concatList(o),
      "ffconcat version 1.0\nfile 'rtsp://cam-op-7:p%40ss%3Aw%2Frd%27x@10.0.0.5/s1'\noption rtsp_transport 'udp'\noption timeout '5000000'\n",
    );
    // User info typed into the URL goes through the list as well; HTTP's stall option with it.
    assert.strictEqual(
      a.concatList({ url: 'http://me:se%40cret@cam/v.mjpg' }),
      "ffconcat version 1.0\nfile 'http://me:se%40cret@cam/v.mjpg'\noption rw_timeout '10000000'\n",
    );
    assert.ok(a.ffmpegArgs({ url: 'http://me:pw@cam/v.mjpg' }, '/l').includes('file,http,https,tcp,tls,crypto,httpproxy'));
  });

  it('an ffconcat list cannot be given extra directives: quotes are escaped, line breaks refused', () => {
    assert.strictEqual(a.concatList({ url: "http://me:pw@cam/it's.mjpg" }).split('\n')[1], "file 'http://me:pw@cam/it'\\''s.mjpg'");
    assert.throws(() => a.concatList({ url: "http://me:pw@cam/x.mjpg'\nfile '/etc/passwd" }), /line break/);
  });

  // withCredentials: the node's user and password replace any user info, up to the last @ of the authority.
  const credTable = [
    ['rtsp://10.0.0.5/s1', 'op', 'pw', 'rtsp://op:pw@10.0.0.5/s1'],
    ['rtsp://old:x@10.0.0.5/s1', 'op', 'pw', 'rtsp://op:pw@10.0.0.5/s1'],
    ['rtsp://old:Pr1v@te@10.0.0.5/s1', 'op', 'pw', 'rtsp://op:pw@10.0.0.5/s1'],
    ['rtsp://10.0.0.5/a@b', 'op', 'pw', 'rtsp://op:pw@10.0.0.5/a@b'],
    ['http://cam:8080/v.mjpg', 'o p', 'a@b:c/d?e#f', 'http://o%20p:a%40b%3Ac%2Fd%3Fe%23f@cam:8080/v.mjpg'],
    ['rtsp://10.0.0.5/s1', 'op', '', 'rtsp://op@10.0.0.5/s1'],
    ['/data/a.mp4', 'op', 'pw', '/data/a.mp4'],
  ];
  for (const [url, user, pw, want] of credTable) {
    it(`withCredentials(${url}, ${user}, ${pw})`, () => assert.strictEqual(a.withCredentials(url, user, pw), want));
  }

  // Redaction hides the whole user info, whatever the password holds.
  const redactTable = [
    ['rtsp://op:secret@10.0.0.5/s1', 'rtsp://***@10.0.0.5/s1'],
    ['rtsp://admin:Pr1v@te-Cam@10.0.0.5:554/s1', 'rtsp://***@10.0.0.5:554/s1'],
    ['rtsp://admin:a:b:c@cam/s1', 'rtsp://***@cam/s1'],
    ['http://op:p%40ss%3Aw%2Frd@cam/v.mjpg', 'http://***@cam/v.mjpg'],
    ['http://op:pa/ss@cam/v.mjpg', 'http://***@cam/v.mjpg'],
    ['rtsp://10.0.0.5/s1', 'rtsp://10.0.0.5/s1'],
    ['http://cam/v.mjpg?user=a@b', 'http://cam/v.mjpg?user=a@b'],
    ['/data/a@b.mp4', '/data/a@b.mp4'],
  ];
  for (const [url, want] of redactTable) it(`redactUrl(${url}) = ${want}`, () => assert.strictEqual(a.redactUrl(url), want));

  it('resolves ffmpeg: node setting, FFMPEG_PATH, ffmpeg-static, PATH', () => {
    const none = () => undefined;
    assert.deepStrictEqual(a.resolveFfmpeg({ configured: '/opt/ff', env: { FFMPEG_PATH: '/x' } }), { path: '/opt/ff', from: 'node setting' });
    assert.deepStrictEqual(a.resolveFfmpeg({ env: { FFMPEG_PATH: '/x' }, requireOptional: none }), { path: '/x', from: 'FFMPEG_PATH' });
    assert.deepStrictEqual(a.resolveFfmpeg({ env: {}, requireOptional: () => '/static/ffmpeg', exists: () => true }), {
      path: '/static/ffmpeg',
      from: 'ffmpeg-static',
    });
    assert.deepStrictEqual(a.resolveFfmpeg({ env: {}, requireOptional: () => '/static/ffmpeg', exists: () => false }), { path: 'ffmpeg', from: 'PATH' });
  });

  it('reads the stream rate and the failure reason from stderr, hiding credentials', () => {
    assert.strictEqual(a.parseStreamFps('  Stream #0:0: Video: mpeg4 (XVID), yuv420p, 768x576, 10 fps, 10 tbr, 10 tbn'), 10);
    assert.strictEqual(a.parseStreamFps('  Stream #0:0(und): Video: h264, yuv420p, 640x480, 29.97 tbr, 90k tbn'), 29.97);
    assert.strictEqual(a.parseStreamFps('  Stream #0:1: Audio: aac, 44100 Hz'), undefined);
    const url = 'rtsp://cam/1';
    assert.strictEqual(a.errorReason(['Input #0', `${url}: Connection refused`, 'exiting'], url), 'Connection refused');
    const list = '/tmp/edgevision-src-x/input.ffconcat';
    assert.strictEqual(
      a.errorReason([`${list}: Server returned 401 Unauthorized (authorization failed)`], list),
      'Server returned 401 Unauthorized (authorization failed)',
    );
  });

  // errorReason's stderr cleaning: every URL in the line loses its whole user info.
  const stderrTable = [
    ['[tcp] error at rtsp://op:pw@cam/1', '[tcp] error at rtsp://***@cam/1'],
    ["[concat @ 0x55d] Impossible to open 'rtsp://admin:Pr1v@te-Cam@10.0.0.5/s1'", "[concat @ 0x55d] Impossible to open 'rtsp://***@10.0.0.5/s1'"],
    [
      '[http @ 0x1] HTTP error 401 for http://op:a:b@cam/x and http://u:p%40q@other/y',
      '[http @ 0x1] HTTP error 401 for http://***@cam/x and http://***@other/y',
    ],
    ['Failed: rtsp://op:pa/ss@cam/1 refused', 'Failed: rtsp://***@cam/1 refused'],
  ];
  for (const [line, want] of stderrTable) it(`errorReason hides credentials: ${want}`, () => assert.strictEqual(a.errorReason([line]), want));

  it('backs off exponentially up to a cap', () => {
    assert.deepStrictEqual(
      [1, 2, 3, 4, 5, 6, 7].map((n) => a.backoffDelayMs(n)),
      [1000, 2000, 4000, 8000, 16000, 30000, 30000],
    );
  });
});

describe('FfmpegSource with credentials (real ffmpeg)', () => {
  const fs = require('fs');
  const os = require('os');
  const path = require('path');
  const { readFrames } = require('../../dist/nodes/lib/video/ffmpeg-source.js');

  it('a refused connection: the error hides the password, and the private list folder is gone', async function () {
    this.timeout(20000);
    const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-list-'));
    try {
      let err = null;
      try {
        for await (const f of readFrames({ url: 'http://op:Pr1v@te-Cam@127.0.0.1:1/x.mjpg', tmpDir })) void f;
      } catch (e) {
        err = e;
      }
      assert.ok(err, 'reading a refused URL fails');
      assert.strictEqual(err.message, 'ffmpeg could not read http://***@127.0.0.1:1/x.mjpg: Connection refused');
      assert.deepStrictEqual(fs.readdirSync(tmpDir), [], 'the list and its folder are deleted when ffmpeg exits');
    } finally {
      fs.rmSync(tmpDir, { recursive: true, force: true });
    }
  });

  it('while ffmpeg connects the list is private (folder 0700, file 0600) and holds the URL; stop() deletes it', async function () {
    this.timeout(20000);
    const net = require('net');
    const { FfmpegSource } = require('../../dist/nodes/lib/video/ffmpeg-source.js');
    // A server that accepts and never answers: ffmpeg waits on it with the list already read.
    const sockets = new Set();
    const srv = net.createServer((s) => sockets.add(s));
    await new Promise((r) => srv.listen(0, '127.0.0.1', () => r(null)));
    const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-list-'));
    const src = new FfmpegSource({
      url: `http://127.0.0.1:${/** @type {import('net').AddressInfo} */ (srv.address()).port}/x.mjpg`,
      username: 'op',
      password: 'se:cr@t',
      tmpDir,
    });
    try {
      src.start();
      const dir = src.listFolder;
      assert.ok(dir && path.dirname(dir) === tmpDir, String(dir));
      assert.strictEqual(fs.statSync(dir).mode & 0o777, 0o700);
      const file = path.join(dir, 'input.ffconcat');
      assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
      assert.match(fs.readFileSync(file, 'utf8'), /^file 'http:\/\/op:se%3Acr%40t@127\.0\.0\.1:\d+\/x\.mjpg'$/m);
      await src.stop();
      assert.strictEqual(src.listFolder, null);
      assert.deepStrictEqual(fs.readdirSync(tmpDir), []);
    } finally {
      await src.stop();
      for (const s of sockets) s.destroy();
      srv.close();
      fs.rmSync(tmpDir, { recursive: true, force: true });
    }
  });
});

describe('VideoWriter (ffmpeg sink)', () => {
  const { VideoWriter, sinkArgs } = require('../../dist/nodes/lib/video/ffmpeg-sink.js');
  const fs = require('fs');
  const os = require('os');
  const path = require('path');
  const { readFrames } = require('../../dist/nodes/lib/video/ffmpeg-source.js');

  it('raw rgb24 on stdin; 4:2:0 with even sides for video files, not for GIF', () => {
    const mp4 = sinkArgs({ file: 'a.mp4', width: 641, height: 481, fps: 12.5 });
    assert.deepStrictEqual(mp4.slice(mp4.indexOf('-f'), mp4.indexOf('-i') + 2), [
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-s',
      '641x481',
      '-framerate',
      '12.5',
      '-i',
      '-',
    ]);
    assert.ok(mp4.includes('yuv420p') && mp4.includes('pad=ceil(iw/2)*2:ceil(ih/2)*2'));
    assert.strictEqual(mp4[mp4.length - 1], 'a.mp4');
    assert.ok(!sinkArgs({ file: 'a.GIF', width: 4, height: 4, fps: 5 }).includes('yuv420p'));
  });

  it('writes frames that read back with their size, count and colours; refuses a frame of the wrong size', async function () {
    this.timeout(20000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-sink-'));
    try {
      const file = path.join(dir, 'out.mkv');
      const w = new VideoWriter({ file, width: 64, height: 48, fps: 10 });
      for (let i = 0; i < 5; i++) await w.write(Buffer.alloc(64 * 48 * 3, i % 2 ? 200 : 30));
      await assert.rejects(w.write(Buffer.alloc(10)), /frame has 10 bytes, expected 9216 \(64×48 rgb24\)/);
      await w.close();
      const back = [];
      for await (const f of readFrames({ url: file, realtime: false, loop: false })) back.push(f);
      assert.deepStrictEqual(
        back.map((f) => [f.width, f.height]),
        Array(5).fill([64, 48]),
      );
      // Lossy, but grey stays grey: dark, light, dark, light, dark.
      assert.deepStrictEqual(
        back.map((f) => f.data[64 * 24 * 3 + 96] > 115),
        [false, true, false, true, false],
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
