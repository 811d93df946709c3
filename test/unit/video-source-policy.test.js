'use strict';
// Which sources a message may switch a camera to: the node's Allowed sources, the allowed folders,
// ffmpeg's pseudo-protocols never, no `..`. Table-driven over source-policy.ts.
const assert = require('assert');
const path = require('path');
const sp = require('../../dist/nodes/lib/video/source-policy.js');

describe('source policy: parsing the Allowed sources setting', () => {
  it('the default: rtsp, rtsps, http, https and V4L2 devices, plus the folders passed in', () => {
    for (const text of [undefined, '', '  ', sp.DEFAULT_ALLOWED_SOURCES]) {
      assert.deepStrictEqual(sp.parseAllowedSources(text, ['/u/.node-red/edgevision']), {
        schemes: ['rtsp', 'rtsps', 'http', 'https'],
        devices: true,
        folders: ['/u/.node-red/edgevision'],
      });
    }
  });

  it('schemes (any case, with or without ://), devices and folders; duplicates once', () => {
    assert.deepStrictEqual(sp.parseAllowedSources('RTSP, udp://, srt:, /data/clips, /data/clips/, /mnt/cam\n', ['/data/clips']), {
      schemes: ['rtsp', 'udp', 'srt'],
      devices: false,
      folders: ['/data/clips', '/mnt/cam'],
    });
  });

  /** @type {[string, RegExp][]} */
  const bad = [
    ['concat', /"concat" can never be allowed/],
    ['rtsp, pipe', /"pipe" can never be allowed/],
    ['crypto+file', /list folders .* not "file"/],
    ['hls+http', /"hls\+http" can never be allowed/],
    ['file', /list folders/],
    ['/data/../etc', /must not contain "\.\."/],
    ['rt sp', /neither a scheme/],
    ['*.mp4', /neither a scheme/],
  ];
  for (const [text, re] of bad) it(`refuses "${text}"`, () => assert.throws(() => sp.parseAllowedSources(text), re));
});

describe('source policy: a URL that came on a message', () => {
  const policy = sp.parseAllowedSources(undefined, ['/u/.node-red/edgevision', '/data/clips']);
  const ok = (kind, extra = {}) => ({ ok: true, kind, ...extra });
  /** @type {[string, RegExp | { ok: boolean, kind: string }, RegExp?][]} */
  const table = [
    // url, expected kind, or a regex of the refusal reason, and of its hint
    ['rtsp://10.0.0.5/s1', ok('url')],
    ['RTSPS://10.0.0.5/s1', ok('url')],
    ['http://cam/v.mjpg', ok('url')],
    ['https://op:pw@cam/v.mjpg', ok('url')],
    ['/dev/video0', ok('device')],
    ['/dev/video12', ok('device')],
    ['/data/clips/line1.mp4', ok('file', { path: '/data/clips/line1.mp4' })],
    ['/data/clips/sub/line1.mp4', ok('file', { path: '/data/clips/sub/line1.mp4' })],
    ['file:///data/clips/line1.mp4', ok('file', { path: '/data/clips/line1.mp4' })],
    ['file:/data/clips/line1.mp4', ok('file', { path: '/data/clips/line1.mp4' })],
    ['vtest', ok('file', { path: 'vtest' })],
    ['line3/shift.mp4', ok('file', { path: 'line3/shift.mp4' })],
    // Refused: ffmpeg's pseudo-protocols, whatever the list says.
    ['concat:/data/clips/a.mp4|/etc/passwd', /scheme "concat" is never allowed/, /rtsp/],
    ['subfile,,start,0,end,100,,:/etc/passwd', /scheme "subfile" is never allowed/],
    ['pipe:0', /scheme "pipe" is never allowed/],
    ['data:text/plain;base64,AAAA', /scheme "data" is never allowed/],
    ['crypto+file:///etc/passwd', /scheme "crypto\+file" is never allowed/],
    ['hls+http://cam/x.m3u8', /scheme "hls\+http" is never allowed/],
    ['fd:3', /scheme "fd" is never allowed/],
    // Refused: schemes not listed (with the list and where to add it).
    ['tcp://10.0.0.1:9000', /scheme "tcp" is not allowed \(allowed: rtsp, rtsps, http, https, \/dev\/video\*\)/, /add tcp to the node's Allowed sources/],
    ['udp://239.0.0.1:1234', /scheme "udp" is not allowed/],
    ['gopher://internal/', /scheme "gopher" is not allowed/],
    ['ftp://files/a.mp4', /scheme "ftp" is not allowed/],
    // Refused: files outside the folders, traversal, devices that are not cameras.
    ['/etc/passwd', /\/etc\/passwd is outside the allowed folders \(\/u\/\.node-red\/edgevision, \/data\/clips\)/, /visionAllowedFileDirs/],
    ['file:///etc/passwd', /\/etc\/passwd is outside the allowed folders/],
    ['file://host/etc/passwd', /outside the allowed folders/],
    ['file:relative.mp4', /not a file: URL with an absolute path/],
    ['/data/clips/../../etc/passwd', /contains "\.\."/],
    ['../settings.js', /contains "\.\."/],
    ['line3/../../flows_cred.json', /contains "\.\."/],
    ['/data/clipsX/a.mp4', /outside the allowed folders/],
    ['/dev/sda', /not a V4L2 camera/],
    ['http://cam/x\nfile /etc/passwd', /control character/],
  ];
  for (const [url, want, hint] of table) {
    it(`${JSON.stringify(url)} → ${want instanceof RegExp ? 'refused' : want.kind}`, () => {
      const r = sp.checkSourceUrl(url, policy);
      if (want instanceof RegExp) {
        assert.strictEqual(r.ok, false, JSON.stringify(r));
        assert.match(r.reason, want);
        if (hint) assert.match(r.hint, hint);
      } else {
        assert.deepStrictEqual(r, want);
      }
    });
  }

  it('devices and other schemes once the list allows them; devices not when it does not', () => {
    const p = sp.parseAllowedSources('rtsp, udp', []);
    assert.deepStrictEqual(sp.checkSourceUrl('udp://239.0.0.1:1234', p), { ok: true, kind: 'url' });
    assert.match(sp.checkSourceUrl('/dev/video0', p).reason, /devices are not allowed \(allowed: rtsp, udp\)/);
    assert.match(sp.checkSourceUrl('http://cam/x', p).reason, /scheme "http" is not allowed/);
    assert.match(sp.checkSourceUrl('/data/a.mp4', p).reason, /outside the allowed folders \(none\)/);
  });

  it('a resolved file (links followed by the caller) is checked against the folders, path by path', () => {
    const folders = ['/data/clips'];
    assert.deepStrictEqual(sp.fileAllowed('/data/clips/a.mp4', folders), { ok: true, kind: 'file', path: '/data/clips/a.mp4' });
    assert.strictEqual(sp.fileAllowed('/data/clips', folders).ok, true);
    assert.strictEqual(sp.fileAllowed('/data/clips-old/a.mp4', folders).ok, false);
    assert.match(sp.fileAllowed('/etc/shadow', folders).reason, /\/etc\/shadow is outside the allowed folders \(\/data\/clips\)/);
    assert.strictEqual(sp.isInside(path.join('/data/clips', 'x', '..', 'y.mp4'), '/data/clips'), true);
  });

  it('the ffmpeg scheme of an input, as ffmpeg reads it', () => {
    const t = [
      ['rtsp://a', 'rtsp'],
      ['concat:a|b', 'concat'],
      ['subfile,,start,1,end,2,,:x', 'subfile'],
      ['/a/b.mp4', 'file'],
      ['b.mp4', 'file'],
      ['C:\\clips\\a.mp4', 'file'],
      ['crypto+http://x', 'crypto+http'],
      ['Pipe:1', 'pipe'],
    ];
    for (const [u, s] of t) assert.strictEqual(sp.ffmpegScheme(u), s, u);
  });
});

describe("source policy: where the node's user and password may go", () => {
  /** @type {[string, string, boolean][]} */
  const table = [
    ['rtsp://10.0.0.5/s1', 'rtsp://10.0.0.5/s2', true],
    ['rtsp://10.0.0.5/s1', 'RTSP://10.0.0.5/s2', true],
    ['rtsp://old:x@10.0.0.5/s1', 'rtsp://10.0.0.5/s2', true],
    ['rtsp://10.0.0.5/s1', 'rtsp://10.0.0.6/s1', false],
    ['rtsp://10.0.0.5/s1', 'rtsp://10.0.0.5:8554/s1', false],
    ['rtsp://10.0.0.5/s1', 'rtsps://10.0.0.5/s1', false],
    ['rtsp://10.0.0.5/s1', 'rtsp://evil@10.0.0.5.evil.net/s1', false],
    ['http://cam/v.mjpg', 'http://cam/w.mjpg?x=1', true],
    ['/data/a.mp4', 'rtsp://10.0.0.5/s1', false],
  ];
  for (const [configured, url, want] of table) {
    it(`${configured} → ${url}: ${want}`, () => assert.strictEqual(sp.credentialsApply(configured, url), want));
  }
});
