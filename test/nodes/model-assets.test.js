'use strict';
// The vision-model dialog's admin routes over <userDir>/edgevision/ (list, upload, fetch with
// progress), through real HTTP, and their permissions; and nodes whose asset is in the user dir, or
// missing from it (a red status that says which file and how to get it, an error for Catch nodes).
const assert = require('assert');
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const helper = require('node-red-node-test-helper');
const modelNode = require('../../dist/nodes/model/model.js');
const detectNode = require('../../dist/nodes/detect/detect.js');
const cameraNode = require('../../dist/nodes/camera-source/camera-source.js');
const { registerAssetRoutes } = require('../../dist/nodes/model/routes.js');
const { modelsDir } = require('../../dist/nodes/lib/assets.js');
const { assetsDir: sharedAssetsDir } = require('../helpers/assets');
const { batchEchoModel } = require('../helpers/tiny-onnx');
const { waitFor } = require('../helpers/wait');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const statusNode = require('@node-red/nodes/core/common/25-status.js');

helper.init(require.resolve('node-red'));

const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
const collect = (n) => {
  const got = [];
  n.on('input', (m) => got.push(m));
  return got;
};

/** A detect node using a vision-model, with Catch and Status nodes around the detector. */
function detectFlow(modelProps) {
  return onTab([
    { id: 'm', type: 'vision-model', providers: 'cpu', threads: 1, ...modelProps },
    ...watchers('det'), // first: nodes start in flow order, and det fails as it starts
    { id: 'det', type: 'vision-detect', model: 'm', wires: [[]] },
  ]);
}

/**
 * A node that keeps every message it gets from the moment it is created (a helper node is listened
 * to only after the flow has started, too late for a failure at start-up).
 */
function recorder(RED) {
  // A Node-RED node: the runtime's own object, untyped here.
  RED.nodes.registerType(
    'test-recorder',
    /** @this {any} */ function (c) {
      RED.nodes.createNode(this, c);
      this.got = [];
      this.on('input', (m, send, done) => {
        this.got.push(m);
        done();
      });
    },
  );
}

/** Catch and Status nodes around `id`, into recorders 'caught' and 'statuses' (see recorder). */
function watchers(id) {
  return [
    { id: 'catch', type: 'catch', scope: [id], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'test-recorder' },
    { id: 'stat', type: 'status', scope: [id], wires: [['statuses']] },
    { id: 'statuses', type: 'test-recorder' },
  ];
}

/** Puts the flow nodes on a tab at a position (Node-RED takes a node without x, y and z for a config node). */
function onTab(nodes) {
  return [{ id: 'tab1', type: 'tab' }, ...nodes.map((n) => (n.type.startsWith('vision-model') ? n : { z: 'tab1', x: 100, y: 100, ...n }))];
}

describe('vision-model assets in the user dir', function () {
  this.timeout(30000);
  let tmp, userDir, assetsDir;
  const sharedAssets = sharedAssetsDir();

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-model-assets-'));
    userDir = path.join(tmp, 'node-red');
    assetsDir = path.join(userDir, 'edgevision');
    fs.mkdirSync(userDir);
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    process.env.EDGEVISION_ASSETS = sharedAssets;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const sharedFile = (rel) => path.join(sharedAssets, rel);

  /** Tests of the user-dir path itself: the shared assets folder (EDGEVISION_ASSETS) must not answer first. */
  function withoutSharedAssets(ctx, files) {
    if (files.some((f) => fs.existsSync(path.join(modelsDir(), f)))) ctx.skip(); // a dev checkout that fetched into models/
    delete process.env.EDGEVISION_ASSETS;
  }

  describe('routes', () => {
    it('GET /vision-model/assets lists the .onnx files of <userDir>/edgevision and the manifest models', async () => {
      fs.mkdirSync(assetsDir);
      for (const f of ['yolox_nano.onnx', 'line3.onnx', 'vtest.avi', '.upload-1.part']) fs.writeFileSync(path.join(assetsDir, f), 'xy');
      await helper.load(modelNode, []);
      const r = await helper.request().get('/vision-model/assets').expect(200);
      assert.strictEqual(r.body.dir, assetsDir);
      assert.deepStrictEqual(
        r.body.files.map((f) => [f.name, f.bytes, f.manifest]),
        [
          ['line3.onnx', 2, null],
          ['yolox_nano.onnx', 2, 'yolox_nano'],
        ],
      );
      const yolox = r.body.models.find((m) => m.name === 'yolox_nano');
      assert.deepStrictEqual([yolox.present, yolox.downloadable, yolox.file], [true, true, 'yolox_nano.onnx']);
      assert.ok(r.body.models.some((m) => m.name === 'osnet_x0_25_msmt17' && !m.downloadable && !m.present));
      assert.deepStrictEqual(
        r.body.video.map((v) => v.name),
        ['vtest'],
      );
    });

    it('an empty user dir lists nothing (the folder is made on the first upload or fetch)', async () => {
      await helper.load(modelNode, []);
      const r = await helper.request().get('/vision-model/assets').expect(200);
      assert.deepStrictEqual(r.body.files, []);
      assert.ok(!fs.existsSync(assetsDir));
    });

    it('POST /vision-model/assets/upload stores the body under its name; a model picked by that name loads', async () => {
      const model = batchEchoModel();
      await helper.load(modelNode, []);
      const up = await helper
        .request()
        .post('/vision-model/assets/upload?name=echo.onnx')
        .set('Content-Type', 'application/octet-stream')
        .send(model)
        .expect(200);
      assert.deepStrictEqual(up.body, { name: 'echo.onnx', bytes: model.length, dir: assetsDir });
      assert.deepStrictEqual(fs.readdirSync(assetsDir), ['echo.onnx'], 'no temporary file left');
      assert.deepStrictEqual(fs.readFileSync(path.join(assetsDir, 'echo.onnx')), model);
      const list = await helper.request().get('/vision-model/assets').expect(200);
      assert.deepStrictEqual(
        list.body.files.map((f) => f.name),
        ['echo.onnx'],
      );
      // Again: 409 unless replace=1.
      const again = await helper
        .request()
        .post('/vision-model/assets/upload?name=echo.onnx')
        .set('Content-Type', 'application/octet-stream')
        .send(model)
        .expect(409);
      assert.match(again.body.error, /exists already/);
      await helper
        .request()
        .post('/vision-model/assets/upload?name=echo.onnx&replace=1')
        .set('Content-Type', 'application/octet-stream')
        .send(model)
        .expect(200);
      await helper.unload();

      // The dialog puts the picked file's name in the model field: it resolves in <userDir>/edgevision.
      await helper.load([modelNode, detectNode, catchNode, statusNode, recorder], detectFlow({ model: 'echo.onnx', channelOrder: 'rgb' }));
      const statuses = helper.getNode('statuses').got;
      await waitFor(() => statuses.find((s) => /^ready · cpu/.test(s.status.text || '')), 20000, 'the detector ready with the uploaded model');
    });

    /** @type {[string, string, number, RegExp][]} */
    const refused = [
      ['a traversal attempt', '../evil.onnx', 400, /not a plain file name/],
      ['an encoded traversal attempt', '..%2F..%2Fevil.onnx', 400, /not a plain file name/],
      ['an absolute path', '%2Ftmp%2Fevil.onnx', 400, /not a plain file name/],
      ['a file that is not .onnx', 'evil.sh', 400, /not an \.onnx file/],
      ['the name of a manifest model', 'yolox_nano.onnx', 409, /fetches itself/],
    ];
    for (const [what, name, status, re] of refused) {
      it(`upload refuses ${what} (${status}) and writes nothing anywhere`, async () => {
        await helper.load(modelNode, []);
        const r = await helper
          .request()
          .post(`/vision-model/assets/upload?name=${name}`)
          .set('Content-Type', 'application/octet-stream')
          .send(Buffer.from('payload'))
          .expect(status);
        assert.match(r.body.error, re);
        assert.deepStrictEqual(fs.existsSync(assetsDir) ? fs.readdirSync(assetsDir) : [], []);
        assert.deepStrictEqual(fs.readdirSync(userDir), fs.existsSync(assetsDir) ? ['edgevision'] : []);
        assert.deepStrictEqual(fs.readdirSync(tmp), ['node-red'], 'nothing beside the user dir');
      });
    }

    it('upload refuses a file over the size cap (setting visionModelMaxUploadMB) with 413', async () => {
      helper.settings({ userDir, visionModelMaxUploadMB: 1 / 1024 }); // 1 KiB
      await helper.load(modelNode, []);
      const r = await helper
        .request()
        .post('/vision-model/assets/upload?name=big.onnx')
        .set('Content-Type', 'application/octet-stream')
        .send(Buffer.alloc(4096, 1))
        .expect(413);
      assert.match(r.body.error, /big\.onnx is 4 KiB; the limit is 1 KiB/);
      assert.deepStrictEqual(fs.existsSync(assetsDir) ? fs.readdirSync(assetsDir) : [], []);
      await helper
        .request()
        .post('/vision-model/assets/upload?name=small.onnx')
        .set('Content-Type', 'application/octet-stream')
        .send(Buffer.alloc(1000, 1))
        .expect(200);
    });

    describe('fetch', () => {
      const weights = Buffer.alloc(64 * 1024, 7);
      let srv, base, hold;
      /** @type {() => import('../../dist/nodes/lib/assets').AssetManifest} */
      const manifest = () => ({
        schema: 1,
        assets: [
          { name: 'tiny', kind: 'model', file: 'tiny.onnx', url: `${base}/tiny.onnx`, sha256: sha(weights), bytes: weights.length, labels: 'tiny_labels' },
          { name: 'tiny_labels', kind: 'labels', file: 'tiny_labels.txt', inline: ['worker', 'forklift'], sha256: sha('worker\nforklift\n'), bytes: 16 },
          { name: 'offline', kind: 'model', file: 'offline.onnx', url: 'http://127.0.0.1:1/offline.onnx', sha256: sha(weights), bytes: weights.length },
          { name: 'clip', kind: 'video', file: 'clip.avi', url: `${base}/clip.avi`, sha256: sha('clip'), bytes: 4, default: true },
        ],
      });
      const routesOnly = (RED) => registerAssetRoutes(RED, { manifest });

      beforeEach(async () => {
        hold = null;
        srv = http.createServer((req, res) => {
          if (req.url === '/clip.avi') return res.end('clip');
          // Half the weights now, the rest when the test has seen partial progress.
          res.writeHead(200, { 'content-length': weights.length });
          res.write(weights.subarray(0, weights.length / 2));
          hold = () => res.end(weights.subarray(weights.length / 2));
        });
        await new Promise((r) => srv.listen(0, '127.0.0.1', r));
        base = `http://127.0.0.1:${/** @type {import('net').AddressInfo} */ (srv.address()).port}`;
      });
      afterEach(() => new Promise((r) => srv.close(r)));

      const job = async () => (await helper.request().get('/vision-model/assets/fetch').expect(200)).body;

      it('fetches a manifest model and its labels (and the demo clip) into <userDir>/edgevision, sha256-checked, showing progress', async () => {
        await helper.load(routesOnly, []);
        assert.strictEqual((await job()).state, 'idle');
        const started = await helper.request().post('/vision-model/assets/fetch').send({ name: 'tiny', video: true }).expect(202);
        assert.strictEqual(started.body.state, 'running');
        assert.deepStrictEqual(
          started.body.items.map((i) => [i.name, i.total]),
          [
            ['tiny', weights.length],
            ['tiny_labels', 16],
            ['clip', 4],
          ],
        );
        // Partial progress is visible while the server holds the second half back.
        const partial = await waitFor(
          async () => {
            const j = await job();
            const it = j.items.find((i) => i.name === 'tiny');
            return it.received > 0 && it.received < it.total ? j : null;
          },
          10000,
          'partial progress',
          20,
        );
        assert.strictEqual(partial.state, 'running');
        const busy = await helper.request().post('/vision-model/assets/fetch').send({ name: 'tiny' }).expect(409);
        assert.match(busy.body.error, /already running/);
        hold();
        const done = await waitFor(
          async () => {
            const j = await job();
            return j.state !== 'running' ? j : null;
          },
          10000,
          'the fetch to end',
          20,
        );
        assert.strictEqual(done.state, 'done', JSON.stringify(done));
        assert.deepStrictEqual(
          done.items.map((i) => [i.name, i.outcome, i.received]),
          [
            ['tiny', 'downloaded', weights.length],
            ['tiny_labels', 'written', 16],
            ['clip', 'downloaded', 4],
          ],
        );
        assert.deepStrictEqual(fs.readdirSync(assetsDir).sort(), ['clip.avi', 'tiny.onnx', 'tiny_labels.txt']);
        assert.strictEqual(sha(fs.readFileSync(path.join(assetsDir, 'tiny.onnx'))), sha(weights));
        const list = await helper.request().get('/vision-model/assets').expect(200);
        assert.deepStrictEqual(
          list.body.files.map((f) => [f.name, f.manifest]),
          [['tiny.onnx', 'tiny']],
        );
      });

      it('offline: the fetch fails with a message that says so and what to do instead', async () => {
        await helper.load(routesOnly, []);
        await helper.request().post('/vision-model/assets/fetch').send({ name: 'offline' }).expect(202);
        const done = await waitFor(
          async () => {
            const j = await job();
            return j.state !== 'running' ? j : null;
          },
          10000,
          'the fetch to end',
          20,
        );
        assert.strictEqual(done.state, 'failed');
        assert.match(
          done.error,
          /^offline\.onnx: cannot reach 127\.0\.0\.1:1 \(ECONNREFUSED\): this machine looks offline\. Upload the \.onnx file in this dialog instead, or copy the files from a machine that has them and run "npx edgevision fetch-assets --user-dir \S+ --from <folder> offline"/,
        );
        assert.deepStrictEqual(fs.readdirSync(assetsDir), [], 'nothing half-written');
      });

      it('refuses a name that is not a manifest model', async () => {
        await helper.load(routesOnly, []);
        for (const name of ['nope', 'tiny_labels', 'clip', undefined]) {
          const r = await helper.request().post('/vision-model/assets/fetch').send({ name }).expect(400);
          assert.match(r.body.error, /is not a model of the manifest \(tiny, offline\)/);
        }
      });
    });

    it('each route asks for vision-model.read or vision-model.write, and is refused without it', async () => {
      const asked = [];
      // Node-RED's needsPermission, reduced to a header that lists the caller's permissions.
      const withAuth = (RED) => {
        RED.auth = {
          needsPermission: (p) => {
            asked.push(p);
            return (req, res, next) => ((req.headers['x-perms'] || '').split(',').includes(p) ? next() : res.status(401).end());
          },
        };
        return modelNode(RED);
      };
      await helper.load(withAuth, []);
      assert.deepStrictEqual(asked.sort(), ['vision-model.read', 'vision-model.write']);
      const routes = [
        ['get', '/vision-model/assets', 'vision-model.read', 200],
        ['get', '/vision-model/assets/fetch', 'vision-model.read', 200],
        ['post', '/vision-model/assets/upload?name=p.onnx', 'vision-model.write', 200],
        ['post', '/vision-model/assets/fetch', 'vision-model.write', 400],
      ];
      for (const [method, url, perm, ok] of routes) {
        const other = perm === 'vision-model.read' ? 'vision-model.write' : 'vision-model.read';
        const send = (perms) => helper.request()[method](url).set('x-perms', perms).set('Content-Type', 'application/octet-stream').send(Buffer.from('m'));
        await send(other).expect(401);
        await send(perm).expect(ok);
      }
      assert.ok(fs.existsSync(path.join(assetsDir, 'p.onnx')), 'the permitted upload went through');
    });

    it('registers the routes once per runtime: a deploy re-creates nodes, not routes', async () => {
      const registered = [];
      const counting = (RED) => {
        for (const m of ['get', 'post']) {
          const orig = RED.httpAdmin[m].bind(RED.httpAdmin);
          RED.httpAdmin[m] = (p, ...rest) => {
            registered.push(`${m} ${p}`);
            return orig(p, ...rest);
          };
        }
        return modelNode(RED);
      };
      await helper.load(counting, [{ id: 'm', type: 'vision-model', model: 'a.onnx' }]);
      const once = ['get /vision-model/assets', 'post /vision-model/assets/upload', 'get /vision-model/assets/fetch', 'post /vision-model/assets/fetch'];
      assert.deepStrictEqual(registered, once);
      await helper.setFlows([{ id: 'm', type: 'vision-model', model: 'b.onnx' }], 'full');
      await helper.setFlows([{ id: 'm2', type: 'vision-model', model: 'c.onnx' }], 'full');
      assert.deepStrictEqual(registered, once);
    });
  });

  describe('nodes', () => {
    it('vision-model finds a manifest model in <userDir>/edgevision (EDGEVISION_ASSETS unset)', async function () {
      withoutSharedAssets(this, ['yolox_nano.onnx']);
      fs.mkdirSync(assetsDir);
      fs.copyFileSync(sharedFile('models/yolox_nano.onnx'), path.join(assetsDir, 'yolox_nano.onnx'));
      await helper.load([modelNode, detectNode, catchNode, statusNode, recorder], detectFlow({ model: 'yolox_nano' }));
      const statuses = helper.getNode('statuses').got;
      await waitFor(() => statuses.find((s) => /^ready · cpu/.test(s.status.text || '')), 20000, 'ready');
    });

    it('a missing manifest model: the user turns red saying which file and how to get it; Catch gets the whole story once', async function () {
      withoutSharedAssets(this, ['yolox_nano.onnx']);
      await helper.load([modelNode, detectNode, catchNode, statusNode, recorder], detectFlow({ model: 'yolox_nano' }));
      const statuses = helper.getNode('statuses').got;
      const caught = helper.getNode('caught').got;
      const red = await waitFor(() => statuses.find((s) => s.status.fill === 'red'), 10000, 'a red status');
      assert.strictEqual(red.status.text, 'yolox_nano.onnx missing: fetch it with the Fetch button of …');
      await waitFor(() => caught.length > 0, 5000, 'an error for Catch nodes');
      assert.strictEqual(caught.length, 1);
      const m = caught[0].error.message;
      assert.ok(m.includes(`"npx edgevision fetch-assets --user-dir ${userDir} yolox_nano"`), m);
      assert.ok(m.includes(`looked in ${assetsDir}`), m);
    });

    it('vision-camera-source plays "vtest" from <userDir>/edgevision, and says how to get it when it is missing', async function () {
      withoutSharedAssets(this, ['vtest.avi']);
      const f = onTab([
        { id: 'cam', type: 'vision-camera-source', camera: 'ud-cam', url: 'vtest', realtime: false, loop: false, wires: [['out']] },
        { id: 'out', type: 'helper' },
        ...watchers('cam'),
      ]);
      await helper.load([cameraNode, catchNode, statusNode, recorder], f);
      const statuses = helper.getNode('statuses').got;
      const caught = helper.getNode('caught').got;
      const red = await waitFor(() => statuses.find((s) => s.status.fill === 'red'), 10000, 'a red status');
      assert.strictEqual(red.status.text, 'vtest.avi missing: fetch it with the Fetch button of a visi…');
      await waitFor(() => caught.length > 0, 5000, 'an error for Catch nodes');
      assert.ok(caught[0].error.message.includes(`--user-dir ${userDir} vtest`), caught[0].error.message);
      await helper.unload();

      fs.mkdirSync(assetsDir);
      fs.copyFileSync(sharedFile('video/vtest.avi'), path.join(assetsDir, 'vtest.avi'));
      await helper.load([cameraNode, catchNode, statusNode, recorder], f);
      const frames = collect(helper.getNode('out'));
      await waitFor(() => frames.length >= 3, 20000, 'frames of vtest from the user dir');
      assert.strictEqual(frames[0].payload.frame.width, 768);
    });
  });
});
