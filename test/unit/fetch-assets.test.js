'use strict';
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const crypto = require('crypto');
const { fetchAssets } = require('../../dist/nodes/lib/fetch-assets.js');

const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

describe('fetch-assets', () => {
  let dir;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-fetch-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const body = Buffer.from('model weights');
  const manifest = (url) => ({
    schema: 1,
    assets: [
      { name: 'm', kind: 'model', file: 'm.onnx', sharedPath: 'models/m.onnx', url, sha256: sha(body), bytes: body.length, default: true },
      { name: 'l', kind: 'labels', file: 'l.txt', inline: ['person', 'car'], sha256: sha('person\ncar\n'), bytes: 11, default: true },
    ],
  });

  it('copies from a local folder (shared layout) and verifies, then reports it present', async () => {
    const from = path.join(dir, 'from');
    fs.mkdirSync(path.join(from, 'models'), { recursive: true });
    fs.writeFileSync(path.join(from, 'models', 'm.onnx'), body);
    const dest = path.join(dir, 'dest');
    const r1 = await fetchAssets({ from, dest, manifest: manifest(null) });
    assert.deepStrictEqual(r1.map((r) => r.outcome), ['copied', 'written']);
    assert.deepStrictEqual(fs.readFileSync(path.join(dest, 'm.onnx')), body);
    assert.strictEqual(fs.readFileSync(path.join(dest, 'l.txt'), 'utf8'), 'person\ncar\n');
    const r2 = await fetchAssets({ from, dest, manifest: manifest(null) });
    assert.deepStrictEqual(r2.map((r) => r.outcome), ['present', 'present']);
  });

  it('refuses a file whose sha256 does not match and installs nothing', async () => {
    const from = path.join(dir, 'from');
    fs.mkdirSync(from);
    fs.writeFileSync(path.join(from, 'm.onnx'), 'tampered');
    const dest = path.join(dir, 'dest');
    const [r] = await fetchAssets({ from, dest, names: ['m'], manifest: manifest(null) });
    assert.strictEqual(r.outcome, 'failed');
    assert.match(r.detail, /sha256 mismatch/);
    assert.ok(!fs.existsSync(path.join(dest, 'm.onnx')));
    assert.ok(!fs.existsSync(path.join(dest, 'm.onnx.part')));
  });

  it('downloads over HTTP following a redirect, and says "offline" when the server cannot be reached', async () => {
    const srv = http.createServer((req, res) => {
      if (req.url === '/old') {
        res.writeHead(302, { location: '/m.onnx' });
        return res.end();
      }
      res.writeHead(200);
      res.end(body);
    });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    const port = srv.address().port;
    const dest = path.join(dir, 'dest');
    try {
      const [r] = await fetchAssets({ dest, names: ['m'], manifest: manifest(`http://127.0.0.1:${port}/old`) });
      assert.strictEqual(r.outcome, 'downloaded');
    } finally {
      await new Promise((r) => srv.close(r));
    }
    const [off] = await fetchAssets({ dest: path.join(dir, 'd2'), names: ['m'], manifest: manifest(`http://127.0.0.1:${port}/m.onnx`) });
    assert.strictEqual(off.outcome, 'failed');
    assert.match(off.detail, /looks offline.*--from/);
  });

  it('names an unknown asset', async () => {
    await assert.rejects(fetchAssets({ dest: dir, names: ['nope'], manifest: manifest(null) }), /no asset "nope"/);
  });
});
