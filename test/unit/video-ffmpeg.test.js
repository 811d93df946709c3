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
      assert.deepStrictEqual(frames.map((f) => [f.width, f.height, f.data.length, f.data[0]]), [[3, 2, 18, 1], [3, 2, 18, 2], [4, 1, 12, 3]], `chunk ${size}`);
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

  it('rtsp: TCP by default, UDP on request, credentials percent-encoded into the URL', () => {
    const args = a.ffmpegArgs({ url: 'rtsp://10.0.0.5/s1', username: 'op', password: 'p@ss:w/rd' });
    assert.strictEqual(args[args.indexOf('-rtsp_transport') + 1], 'tcp');
    assert.strictEqual(args[args.indexOf('-i') + 1], 'rtsp://op:p%40ss%3Aw%2Frd@10.0.0.5/s1');
    const udp = a.ffmpegArgs({ url: 'rtsp://10.0.0.5/s1', rtspTransport: 'udp' });
    assert.strictEqual(udp[udp.indexOf('-rtsp_transport') + 1], 'udp');
    assert.strictEqual(a.redactUrl('rtsp://op:secret@10.0.0.5/s1'), 'rtsp://***@10.0.0.5/s1');
  });

  it('resolves ffmpeg: node setting, FFMPEG_PATH, ffmpeg-static, PATH', () => {
    const none = () => undefined;
    assert.deepStrictEqual(a.resolveFfmpeg({ configured: '/opt/ff', env: { FFMPEG_PATH: '/x' } }), { path: '/opt/ff', from: 'node setting' });
    assert.deepStrictEqual(a.resolveFfmpeg({ env: { FFMPEG_PATH: '/x' }, requireOptional: none }), { path: '/x', from: 'FFMPEG_PATH' });
    assert.deepStrictEqual(a.resolveFfmpeg({ env: {}, requireOptional: () => '/static/ffmpeg', exists: () => true }), { path: '/static/ffmpeg', from: 'ffmpeg-static' });
    assert.deepStrictEqual(a.resolveFfmpeg({ env: {}, requireOptional: () => '/static/ffmpeg', exists: () => false }), { path: 'ffmpeg', from: 'PATH' });
  });

  it('reads the stream rate and the failure reason from stderr, hiding credentials', () => {
    assert.strictEqual(a.parseStreamFps('  Stream #0:0: Video: mpeg4 (XVID), yuv420p, 768x576, 10 fps, 10 tbr, 10 tbn'), 10);
    assert.strictEqual(a.parseStreamFps('  Stream #0:0(und): Video: h264, yuv420p, 640x480, 29.97 tbr, 90k tbn'), 29.97);
    assert.strictEqual(a.parseStreamFps('  Stream #0:1: Audio: aac, 44100 Hz'), undefined);
    const url = 'rtsp://op:pw@cam/1';
    assert.strictEqual(a.errorReason(['Input #0', `${url}: Connection refused`, 'exiting'], url), 'Connection refused');
    assert.strictEqual(a.errorReason(['[tcp] error at rtsp://op:pw@cam/1']), '[tcp] error at rtsp://***@cam/1');
  });

  it('backs off exponentially up to a cap', () => {
    assert.deepStrictEqual([1, 2, 3, 4, 5, 6, 7].map((n) => a.backoffDelayMs(n)), [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
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
    assert.deepStrictEqual(mp4.slice(mp4.indexOf('-f'), mp4.indexOf('-i') + 2), ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '641x481', '-framerate', '12.5', '-i', '-']);
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
      assert.deepStrictEqual(back.map((f) => [f.width, f.height]), Array(5).fill([64, 48]));
      // Lossy, but grey stays grey: dark, light, dark, light, dark.
      assert.deepStrictEqual(back.map((f) => f.data[64 * 24 * 3 + 96] > 115), [false, true, false, true, false]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
