'use strict';
// Where a manifest asset, a model path and a camera source are found: EDGEVISION_ASSETS (tests, CI),
// then <userDir>/edgevision/, then the package's models/; and what a missing one's error says.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const {
  AssetNotFoundError,
  assetCandidates,
  manifestEntry,
  modelsDir,
  readLabels,
  resolveAsset,
  resolveVideoSource,
  userAssetsDir,
  userPathCandidates,
} = require('../../dist/nodes/lib/assets.js');
const { resolveModelFile } = require('../../dist/nodes/lib/model/loader.js');

describe('asset resolution', () => {
  let tmp, shared, userDir;
  /** @type {NodeJS.ProcessEnv} */
  const none = {}; // an environment without EDGEVISION_ASSETS
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-resolve-'));
    shared = path.join(tmp, 'shared');
    userDir = path.join(tmp, 'node-red');
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const put = (file, body = 'x') => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, body);
    return file;
  };

  it('looks in EDGEVISION_ASSETS (shared layout, then flat), then <userDir>/edgevision, then the package models/', () => {
    const e = manifestEntry('yolox_nano');
    assert.deepStrictEqual(assetCandidates(e, { userDir, env: { EDGEVISION_ASSETS: shared } }), [
      path.join(shared, 'models', 'yolox_nano.onnx'),
      path.join(shared, 'yolox_nano.onnx'),
      path.join(userDir, 'edgevision', 'yolox_nano.onnx'),
      path.join(modelsDir(), 'yolox_nano.onnx'),
    ]);
    assert.deepStrictEqual(assetCandidates(e, { env: none }), [path.join(modelsDir(), 'yolox_nano.onnx')], 'no user dir: the package only');
  });

  /** @type {[string, ('user' | 'shared')[], boolean, 'user' | 'shared'][]} */
  const cases = [
    // [what, files present, env has EDGEVISION_ASSETS, expected]
    ['only the user dir has it', ['user'], true, 'user'],
    ['both: EDGEVISION_ASSETS wins (tests and CI point it at the shared assets)', ['user', 'shared'], true, 'shared'],
    ['EDGEVISION_ASSETS unset: the user dir', ['user', 'shared'], false, 'user'],
  ];
  for (const [what, present, withEnv, expected] of cases) {
    it(`resolveAsset: ${what}`, () => {
      const where = { user: path.join(userAssetsDir(userDir), 'yolox_nano.onnx'), shared: path.join(shared, 'models', 'yolox_nano.onnx') };
      for (const p of present) put(where[p]);
      const got = resolveAsset('yolox_nano', { userDir, env: withEnv ? { EDGEVISION_ASSETS: shared } : none });
      assert.strictEqual(got, where[expected]);
      // By file name too (a picked file), with the same result.
      assert.strictEqual(resolveAsset('yolox_nano.onnx', { userDir, env: withEnv ? { EDGEVISION_ASSETS: shared } : none }), where[expected]);
    });
  }

  it('a missing asset names the file, how to get it (dialog, CLI with this user dir, --from offline) and where it looked', function () {
    if (fs.existsSync(path.join(modelsDir(), 'yolox_nano.onnx'))) this.skip(); // a dev checkout that fetched into models/
    const err = (() => {
      try {
        resolveAsset('yolox_nano', { userDir, env: none });
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof AssetNotFoundError, String(err));
    assert.strictEqual(err.message.slice(0, 24), 'yolox_nano.onnx missing:', 'a status shows the first 60 characters: the file comes first');
    assert.match(err.message, /Fetch button of a vision-model node's dialog/);
    assert.ok(err.message.includes(`"npx edgevision fetch-assets --user-dir ${userDir} yolox_nano"`), err.message);
    assert.match(err.message, /offline: add --from <folder holding it>/);
    assert.ok(err.message.includes(`looked in ${path.join(userDir, 'edgevision')}, ${modelsDir()}`), err.message);
  });

  it('an asset without a public download says to copy it with --from', function () {
    if (fs.existsSync(path.join(modelsDir(), 'osnet_x0_25_msmt17.onnx'))) this.skip();
    assert.throws(
      () => resolveAsset('osnet_x0_25_msmt17', { userDir, env: none }),
      /^AssetNotFoundError: osnet_x0_25_msmt17\.onnx missing: it has no public download; copy it with "npx edgevision fetch-assets --user-dir \S+ --from <folder holding it> osnet_x0_25_msmt17"/,
    );
  });

  it('a user dir with a space is quoted in the command', function () {
    if (fs.existsSync(path.join(modelsDir(), 'yolox_nano.onnx'))) this.skip();
    const spaced = path.join(tmp, 'my node red');
    assert.throws(
      () => resolveAsset('yolox_nano', { userDir: spaced, env: none }),
      (/** @type {Error} */ e) => e.message.includes(`--user-dir '${spaced}' yolox_nano`),
    );
  });

  it('the manifest labels come inline: no file is needed for them', () => {
    assert.strictEqual(readLabels('coco_classes', { userDir, env: none })[0], 'person');
  });

  it('a relative path is looked for in <userDir>/edgevision, then <userDir>; absolute paths stay', () => {
    assert.deepStrictEqual(userPathCandidates('m.onnx', userDir), [path.join(userDir, 'edgevision', 'm.onnx'), path.join(userDir, 'm.onnx')]);
    assert.deepStrictEqual(userPathCandidates('/data/m.onnx', userDir), ['/data/m.onnx']);
    assert.deepStrictEqual(userPathCandidates('m.onnx'), [path.resolve('m.onnx')], 'no user dir: the working directory');
  });

  it('resolveModelFile: a picked file name resolves in <userDir>/edgevision, an older relative path in <userDir>', () => {
    const picked = put(path.join(userDir, 'edgevision', 'yolov8n.onnx'));
    const older = put(path.join(userDir, 'models', 'old.onnx'));
    assert.strictEqual(resolveModelFile('yolov8n.onnx', userDir), picked);
    assert.strictEqual(resolveModelFile('models/old.onnx', userDir), older);
    assert.strictEqual(resolveModelFile(older, userDir), older);
    assert.throws(
      () => resolveModelFile('nope.onnx', userDir),
      (/** @type {Error} */ e) =>
        e.message ===
        `model file not found: nope.onnx (looked in ${path.join(userDir, 'edgevision')}, ${userDir}); pick or upload a model in the vision-model dialog`,
    );
    assert.throws(() => resolveModelFile('/no/such.onnx', userDir), /^Error: model file not found: \/no\/such\.onnx$/);
  });

  describe('resolveVideoSource (vision-camera-source)', () => {
    const keep = ['rtsp://user:pw@10.0.0.5/stream1', 'http://cam/mjpg', 'https://cam/x.m3u8', 'udp://239.0.0.1:1234', '/dev/video0'];
    for (const url of keep) {
      it(`keeps ${url}`, () => assert.strictEqual(resolveVideoSource(url, { userDir, env: none }), url));
    }

    it('a manifest video name or file name → the file in the user dir', () => {
      const clip = put(path.join(userDir, 'edgevision', 'vtest.avi'));
      assert.strictEqual(resolveVideoSource('vtest', { userDir, env: none }), clip);
      assert.strictEqual(resolveVideoSource('vtest.avi', { userDir, env: none }), clip);
    });

    it('a relative path → under <userDir>/edgevision; an absolute one that exists stays', () => {
      const clip = put(path.join(userDir, 'edgevision', 'line3', 'shift.mp4'));
      assert.strictEqual(resolveVideoSource('line3/shift.mp4', { userDir, env: none }), clip);
      assert.strictEqual(resolveVideoSource(clip, { userDir, env: none }), clip);
    });

    it('a missing demo clip says which file and how to get it', function () {
      if (fs.existsSync(path.join(modelsDir(), 'vtest.avi'))) this.skip();
      assert.throws(
        () => resolveVideoSource('vtest', { userDir, env: none }),
        (e) =>
          e instanceof AssetNotFoundError &&
          /^vtest\.avi missing: fetch it with the Fetch button/.test(e.message) &&
          e.message.includes(`--user-dir ${userDir} vtest`),
      );
    });

    it('missing files: relative says where it looked, absolute keeps the old wording', () => {
      assert.throws(
        () => resolveVideoSource('clip.mp4', { userDir, env: none }),
        (/** @type {Error} */ e) =>
          e.message ===
          `video file not found: clip.mp4 (looked in ${path.join(userDir, 'edgevision')}, ${userDir}); put it in ${path.join(userDir, 'edgevision')}`,
      );
      assert.throws(() => resolveVideoSource('/no/such/clip.mp4', { userDir, env: none }), /^Error: video file not found: \/no\/such\/clip\.mp4$/);
    });
  });
});
