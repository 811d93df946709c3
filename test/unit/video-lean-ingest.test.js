'use strict';
// Lean ingest: pooled frame buffers, the reader that writes ffmpeg's bytes straight into them, and
// the frame store's leases that keep a pooled buffer from being reused while a stage still reads it.
const assert = require('assert');
const crypto = require('crypto');
const { PooledPpmReader, PpmStreamParser } = require('../../dist/nodes/lib/video/ppm-stream.js');
const { FramePool } = require('../../dist/nodes/lib/video/frame-pool.js');
const { FrameStore } = require('../../dist/nodes/lib/frame-store.js');
const { readFrames } = require('../../dist/nodes/lib/video/ffmpeg-source.js');
const { asset } = require('../helpers/assets');
const { waitFor } = require('../helpers/wait');

function ppm(w, h, seed) {
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 7 + seed * 13) & 255;
  return Buffer.concat([Buffer.from(`P6\n${w} ${h}\n255\n`), px]);
}

/** Feeds `stream` to a PooledPpmReader the way the socket does: at most `maxRead` bytes into target(). */
function readLikeSocket(reader, stream, maxRead) {
  const frames = [];
  let pos = 0;
  while (pos < stream.length) {
    const t = reader.target();
    assert.ok(t.length > 0, 'target() is never empty');
    const n = Math.min(t.length, maxRead, stream.length - pos);
    stream.copy(t, 0, pos, pos + n);
    pos += n;
    for (const f of reader.wrote(n)) frames.push({ width: f.width, height: f.height, data: Buffer.from(f.data), buf: f.data });
  }
  return frames;
}

describe('PooledPpmReader', () => {
  // Sizes change mid-stream (a camera switching resolution), so the header guess is wrong both ways.
  const stream = Buffer.concat([ppm(4, 3, 1), ppm(4, 3, 2), ppm(1, 1, 3), ppm(123, 45, 4), ppm(123, 45, 5), ppm(2, 1, 6)]);
  const expected = new PpmStreamParser().push(stream).map((f) => ({ width: f.width, height: f.height, data: Buffer.from(f.data) }));

  for (const maxRead of [1, 3, 17, 1000, Infinity]) {
    it(`reads the same frames as the old parser, reads of at most ${maxRead} bytes`, () => {
      const pool = new FramePool();
      const got = readLikeSocket(new PooledPpmReader((n) => pool.acquire(n), pool.release), stream, maxRead);
      assert.deepStrictEqual(
        got.map(({ width, height, data }) => ({ width, height, data })),
        expected,
      );
    });
  }

  it('pipe chunks (push) give the same frames, and a frame buffer given back is reused, not reallocated', () => {
    const pool = new FramePool();
    const reader = new PooledPpmReader((n) => pool.acquire(n), pool.release);
    const same = Buffer.concat([ppm(8, 8, 1), ppm(8, 8, 2), ppm(8, 8, 3), ppm(8, 8, 4)]);
    const bufs = [];
    for (let i = 0; i < same.length; i += 50) {
      for (const f of reader.push(same.subarray(i, i + 50))) {
        bufs.push(f.data);
        pool.release(f.data); // the consumer is done with it at once
      }
    }
    assert.strictEqual(bufs.length, 4);
    // Two at most: the next frame's buffer is taken as soon as its header is read, which may be
    // before the consumer has given the last one back.
    assert.ok(new Set(bufs).size <= 2, `${new Set(bufs).size} buffers`);
    const st = pool.stats();
    assert.ok(st.allocated <= 2 && st.allocated + st.reused === 4, JSON.stringify(st));
  });

  it('never writes pixel bytes into the header area once the header length is known', () => {
    const pool = new FramePool();
    const reader = new PooledPpmReader((n) => pool.acquire(n), pool.release);
    const s = Buffer.concat([ppm(640, 480, 1), ppm(640, 480, 2), ppm(640, 480, 3)]);
    readLikeSocket(reader, s.subarray(0, ppm(640, 480, 1).length), Infinity);
    // From the second header on, target() asks for exactly the header, then exactly the pixels.
    assert.strictEqual(reader.target().length, 'P6\n640 480\n255\n'.length);
  });

  it('rejects what is not a P6 stream', () => {
    const r = new PooledPpmReader((n) => Buffer.alloc(n));
    assert.throws(() => readLikeSocket(r, Buffer.from('P5\n1 1\n255\n\0'), Infinity), /not a PPM/);
  });
});

describe('FramePool', () => {
  it('drops spare buffers of an old size and keeps at most maxFree', () => {
    const pool = new FramePool(2);
    const a = [pool.acquire(10), pool.acquire(10), pool.acquire(10)];
    a.forEach(pool.release);
    assert.strictEqual(pool.stats().free, 2);
    const b = pool.acquire(20);
    assert.strictEqual(b.length, 20);
    assert.strictEqual(pool.stats().free, 0);
    pool.release(a[0]); // the old size: not kept
    assert.strictEqual(pool.stats().free, 0);
    pool.release(b);
    assert.throws(() => pool.release(b), /twice/);
  });
});

describe('FrameStore with pooled pixels', () => {
  it('gives a frame back when it leaves the ring, not before; a lease holds it until done()', () => {
    const s = new FrameStore({ capacity: 2 });
    const back = [];
    const rel = (d) => back.push(d);
    const bufs = [0, 1, 2, 3].map((v) => new Uint8Array(3).fill(v));
    const r0 = s.put('c', bufs[0], 1, 1, 0, 'rgb24', undefined, rel);
    const r1 = s.put('c', bufs[1], 1, 1, 1, 'rgb24', undefined, rel);
    const lease = s.lease(r1);
    assert.strictEqual(lease.frame.data, bufs[1]);
    assert.deepStrictEqual(back, []);
    s.put('c', bufs[2], 1, 1, 2, 'rgb24', undefined, rel); // evicts r0: nobody holds it
    assert.deepStrictEqual(back, [bufs[0]]);
    assert.strictEqual(s.get(r0), undefined);
    s.put('c', bufs[3], 1, 1, 3, 'rgb24', undefined, rel); // evicts r1: leased, so kept
    assert.deepStrictEqual(back, [bufs[0]]);
    assert.strictEqual(s.get(r1), undefined, 'gone from the ring all the same');
    assert.strictEqual(lease.frame.data[0], 1);
    lease.done();
    lease.done(); // a second done() changes nothing
    assert.deepStrictEqual(back, [bufs[0], bufs[1]]);
    s.release('c');
    assert.deepStrictEqual(back, [bufs[0], bufs[1], bufs[2], bufs[3]]);
  });

  it('a camera forgotten for another gives its pixels back too', () => {
    const s = new FrameStore({ capacity: 2, maxCameras: 1 });
    const back = [];
    const b = new Uint8Array(3);
    s.put('a', b, 1, 1, 0, 'rgb24', undefined, (d) => back.push(d));
    s.put('b', new Uint8Array(3), 1, 1, 0);
    assert.deepStrictEqual(back, [b]);
  });
});

describe("frame size a camera's readers need", () => {
  const { scaleFilters, ffmpegArgs, parseDuration } = require('../../dist/nodes/lib/video/ffmpeg-args.js');
  it('the store keeps the largest need per camera; 0 (full size) wins; a forgotten reader takes its need along', () => {
    const s = new FrameStore();
    assert.strictEqual(s.wantedSide('c'), undefined);
    s.want('c', 'detect', 416);
    s.want('c', 'view', 960);
    s.want('d', 'detect', 416);
    assert.strictEqual(s.wantedSide('c'), 960);
    s.want('c', 'reid', 0);
    assert.strictEqual(s.wantedSide('c'), 0);
    s.forgetReader('reid');
    s.forgetReader('view');
    assert.strictEqual(s.wantedSide('c'), 416);
    assert.throws(() => s.want('c', 'x', -1), /must be ≥ 0 pixels/);
  });

  it('ffmpeg scales the long side only ever down, keeps the aspect, and a file may start part-way', () => {
    assert.deepStrictEqual(scaleFilters({ maxSide: 416 }), ["scale='if(gte(iw,ih),min(416,iw),-2)':'if(gte(iw,ih),-2,min(416,ih))'"]);
    assert.deepStrictEqual(scaleFilters({}), []);
    const args = ffmpegArgs({ url: '/v.mp4', loop: true, startS: 12.3456, maxSide: 640, fps: 5 });
    assert.deepStrictEqual(args.slice(args.indexOf('-stream_loop'), args.indexOf('-i') + 2), ['-stream_loop', '-1', '-ss', '12.346', '-i', '/v.mp4']);
    assert.strictEqual(args[args.indexOf('-vf') + 1], "fps=5,scale='if(gte(iw,ih),min(640,iw),-2)':'if(gte(iw,ih),-2,min(640,ih))'");
    assert.ok(!ffmpegArgs({ url: 'rtsp://cam/1', startS: 5 }).includes('-ss'), 'a live source cannot seek');
    assert.strictEqual(parseDuration('  Duration: 00:01:19.50, start: 0.000000, bitrate: 801 kb/s'), 79.5);
    assert.strictEqual(parseDuration('Stream #0:0: Video: mpeg4'), undefined);
  });
});

describe('FfmpegSource lean ingest (real ffmpeg)', function () {
  this.timeout(60000);
  const digest = (f) => crypto.createHash('sha1').update(f.data).digest('hex');

  async function frames(opts) {
    const out = [];
    for await (const f of readFrames({ url: asset('video/vtest.avi'), realtime: false, loop: false, maxFrames: 12, ...opts })) {
      out.push({ w: f.width, h: f.height, t: f.tMs, sha: digest(f), pooled: typeof f.release === 'function', data: f.data });
    }
    return out;
  }

  it('stop() ends ffmpeg even when the consumer pauses it at every frame (always behind), on every path', async () => {
    const { FfmpegSource } = require('../../dist/nodes/lib/video/ffmpeg-source.js');
    /** @type {Array<Partial<import('../../dist/nodes/lib/video/ffmpeg-source').FfmpegSourceOptions>>} */
    const variants = [{}, { transport: 'pipe' }, { ingest: 'legacy' }];
    for (const opts of variants) {
      const src = new FfmpegSource({ url: asset('video/vtest.avi'), realtime: false, loop: true, ...opts });
      let frames = 0;
      src.on('frame', () => {
        frames++;
        src.pause(); // a consumer that never catches up
      });
      src.start();
      await waitFor(() => frames >= 2 || (src.pause(), src.resume(), false), 10000, 'frames');
      const exited = new Promise((r) => src.once('exit', r));
      const t0 = Date.now();
      await src.stop(); // must not wait for a reader the consumer keeps pausing
      const e = await exited;
      assert.ok(e.requested, JSON.stringify(e));
      assert.ok(Date.now() - t0 < 5000, `stopped in ${Date.now() - t0} ms`);
    }
  });

  it('socket, pipe and legacy paths decode the same pixels; with reuse, the buffers go round a small pool', async () => {
    const legacy = await frames({ ingest: 'legacy' });
    const pipe = await frames({ transport: 'pipe' });
    const socket = await frames({ reuseBuffers: true });
    assert.strictEqual(legacy.length, 12);
    const strip = (fs) => fs.map(({ w, h, t, sha }) => ({ w, h, t, sha }));
    assert.deepStrictEqual(strip(pipe), strip(legacy));
    assert.deepStrictEqual(strip(socket), strip(legacy));
    assert.ok(!legacy[0].pooled && socket[0].pooled && pipe[0].pooled);
    // Without reuse every frame has its own buffer; with it, a few buffers serve all twelve.
    assert.strictEqual(new Set(pipe.map((f) => f.data)).size, 12);
    assert.ok(new Set(socket.map((f) => f.data.buffer)).size <= 6, `${new Set(socket.map((f) => f.data.buffer)).size} buffers`);
  });
});
