'use strict';
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const crypto = require('crypto');
const { execFile } = require('child_process');
const { fetchAssets } = require('../../dist/nodes/lib/fetch-assets.js');
const { loadManifest } = require('../../dist/nodes/lib/assets.js');

const ROOT = path.join(__dirname, '..', '..');

const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

describe('fetch-assets', () => {
  let dir;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-fetch-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const body = Buffer.from('model weights');
  /** @type {(url: string | null) => import('../../dist/nodes/lib/assets').AssetManifest} */
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
    assert.deepStrictEqual(
      r1.map((r) => r.outcome),
      ['copied', 'written'],
    );
    assert.deepStrictEqual(fs.readFileSync(path.join(dest, 'm.onnx')), body);
    assert.strictEqual(fs.readFileSync(path.join(dest, 'l.txt'), 'utf8'), 'person\ncar\n');
    const r2 = await fetchAssets({ from, dest, manifest: manifest(null) });
    assert.deepStrictEqual(
      r2.map((r) => r.outcome),
      ['present', 'present'],
    );
  });

  it('refuses a file whose sha256 does not match and installs nothing', async () => {
    const from = path.join(dir, 'from');
    fs.mkdirSync(from);
    fs.writeFileSync(path.join(from, 'm.onnx'), 'tampered');
    const dest = path.join(dir, 'dest');
    const [r] = await fetchAssets({ from, dest, names: ['m'], manifest: manifest(null) });
    assert.strictEqual(r.outcome, 'failed');
    assert.match(r.detail, /sha256 mismatch/);
    assert.deepStrictEqual(fs.readdirSync(dest), [], 'neither the file nor a temporary file is left');
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
    await new Promise((r) => srv.listen(0, '127.0.0.1', () => r(null)));
    const port = /** @type {import('net').AddressInfo} */ (srv.address()).port;
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

  it('a download whose sha256 does not match is refused and leaves nothing; one that matches is installed, with progress', async () => {
    const wrong = Buffer.from('not the model weights');
    // The good file comes in two parts; the second is held back until progress has reported the first.
    let rest = null;
    const srv = http.createServer((req, res) => {
      if (req.url === '/wrong') return res.end(wrong);
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, 5));
      rest = () => res.end(body.subarray(5));
    });
    await new Promise((r) => srv.listen(0, '127.0.0.1', () => r(null)));
    const base = `http://127.0.0.1:${/** @type {import('net').AddressInfo} */ (srv.address()).port}`;
    const dest = path.join(dir, 'node-red', 'edgevision');
    try {
      const [bad] = await fetchAssets({ dest, names: ['m'], manifest: manifest(`${base}/wrong`) });
      assert.strictEqual(bad.outcome, 'failed');
      assert.match(bad.detail, /sha256 mismatch .*file not installed/);
      assert.deepStrictEqual(fs.readdirSync(dest), [], 'no file and no temporary file left');
      const seen = [];
      const [good] = await fetchAssets({
        dest,
        names: ['m'],
        manifest: manifest(`${base}/m.onnx`),
        onProgress: (p) => {
          seen.push([p.name, p.received, p.total]);
          if (p.received > 0 && p.received < p.total && rest) rest();
        },
      });
      assert.strictEqual(good.outcome, 'downloaded');
      assert.strictEqual(good.file, path.join(dest, 'm.onnx'));
      assert.deepStrictEqual(fs.readFileSync(good.file), body);
      assert.deepStrictEqual(fs.readdirSync(dest), ['m.onnx']);
      assert.deepStrictEqual(seen[0], ['m', 0, body.length], 'starts at 0');
      assert.ok(
        seen.some(([, r]) => r > 0 && r < body.length),
        `a partial figure: ${JSON.stringify(seen)}`,
      );
      assert.deepStrictEqual(seen[seen.length - 1], ['m', body.length, body.length], 'ends at the total');
    } finally {
      await new Promise((r) => srv.close(r));
    }
  });

  it("the offline message carries the caller's hint and names the host", async () => {
    const srv = http.createServer();
    await new Promise((r) => srv.listen(0, '127.0.0.1', () => r(null)));
    const port = /** @type {import('net').AddressInfo} */ (srv.address()).port;
    await new Promise((r) => srv.close(r)); // nothing listens there now
    const [r] = await fetchAssets({ dest: dir, names: ['m'], manifest: manifest(`http://127.0.0.1:${port}/m.onnx`), offlineHint: 'Upload it instead.' });
    assert.strictEqual(r.detail, `cannot reach 127.0.0.1:${port} (ECONNREFUSED): this machine looks offline. Upload it instead.`);
  });

  it('edgevision fetch-assets --user-dir DIR --from FOLDER fills DIR/edgevision with the default assets, sha256-checked', async function () {
    // The real manifest and the CLI, from a local folder holding the real files (the shared assets).
    this.timeout(30000);
    const from = process.env.EDGEVISION_ASSETS;
    if (!from) this.skip();
    const userDir = path.join(dir, 'node red'); // a space, as home folders sometimes have
    const run = (args, env = {}) =>
      new Promise((resolve) =>
        execFile(
          process.execPath,
          [path.join(ROOT, 'bin', 'edgevision.js'), 'fetch-assets', ...args],
          { env: { ...process.env, EDGEVISION_ASSETS_FROM: '', ...env } },
          (err, stdout, stderr) => resolve({ code: err ? err.code : 0, out: stdout + stderr }),
        ),
      );
    const first = await run(['--user-dir', userDir, '--from', from]);
    assert.strictEqual(first.code, 0, first.out);
    const defaults = loadManifest().assets.filter((a) => a.default);
    assert.deepStrictEqual(fs.readdirSync(path.join(userDir, 'edgevision')).sort(), defaults.map((a) => a.file).sort());
    for (const a of defaults) assert.strictEqual(sha(fs.readFileSync(path.join(userDir, 'edgevision', a.file))), a.sha256, a.file);
    assert.ok(!fs.existsSync(path.join(ROOT, 'node red')), 'nothing written beside the package');
    // EDGEVISION_ASSETS_FROM works as --from does; present files are verified, not copied again.
    const again = await run(['--user-dir', userDir], { EDGEVISION_ASSETS_FROM: from });
    assert.strictEqual(again.code, 0, again.out);
    assert.strictEqual((again.out.match(/^present /gm) || []).length, defaults.length, again.out);
  });

  it('names an unknown asset', async () => {
    await assert.rejects(fetchAssets({ dest: dir, names: ['nope'], manifest: manifest(null) }), /no asset "nope"/);
  });
});
