'use strict';
// Making a batch-1 model batch-capable in JavaScript (batch-model.ts): the real yolox_nano, whose
// head reshapes to [1, 85, -1], takes 4 frames a run after the rewrite and gives each frame the
// outputs a batch-1 run gives it (to 1e-4); the original refuses a batch of 2, so the rewrite is
// what makes the difference. Then the loader path: dynamicBatch + two sessions behind one pool.
const assert = require('assert');
const fs = require('fs');
const sharp = require('sharp');
const { loadOrt } = require('../../dist/nodes/lib/onnx/runtime');
const { makeBatchDynamic, maxAbsDiff } = require('../../dist/nodes/lib/onnx/batch-model');
const { createSession } = require('../../dist/nodes/lib/onnx/session');
const { Detector } = require('../../dist/nodes/lib/detect/detector');
const { acquireModel, releaseModel } = require('../../dist/nodes/lib/model/loader');
const { batchEchoModel, reduceMeanModel } = require('../helpers/tiny-onnx');
const { asset } = require('../helpers/assets');
const { spawnSync } = require('child_process');
const os = require('os');
const path = require('path');

const ort = loadOrt();
const SIZE = 416;
const PER = 3 * SIZE * SIZE;

/** Four real vtest frames, letterboxed by the project's own detector into one [4,3,416,416] tensor. */
/** @returns {Promise<import('../../dist/nodes/lib/detect/letterbox').SourceImage[]>} */
async function frames() {
  /** @type {import('../../dist/nodes/lib/detect/letterbox').SourceImage[]} */
  const out = [];
  for (const f of fs
    .readdirSync(asset('images/vtest'))
    .filter((n) => n.endsWith('.jpg'))
    .slice(0, 4)) {
    const { data, info } = await sharp(`${asset('images/vtest')}/${f}`)
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    out.push({ data: new Uint8Array(data), width: info.width, height: info.height, format: 'rgb24' });
  }
  assert.strictEqual(out.length, 4);
  return out;
}

describe('ONNX batch rewrite (batch-model.ts)', function () {
  this.timeout(120000);
  const original = fs.readFileSync(asset('models/yolox_nano.onnx'));

  it('makes yolox_nano batch-capable and says what it changed', () => {
    const r = makeBatchDynamic(original);
    assert.deepStrictEqual(r.madeDynamic, ['images', 'output']);
    assert.deepStrictEqual(r.inputsMadeDynamic, ['images']);
    assert.strictEqual(r.reshapesFixed.length, 3);
    for (const line of r.reshapesFixed) assert.match(line, /\[1,85,-1\] → \[0,85,-1\]/);
    assert.deepStrictEqual(r.suspects, []);
    assert.ok(r.hintsDropped > 0);
    // The source buffer is untouched.
    assert.strictEqual(fs.readFileSync(asset('models/yolox_nano.onnx')).equals(original), true);
  });

  it("the rewritten model's batch of 4 matches four batch-1 runs of the original to 1e-4", async () => {
    const imgs = await frames();
    const s1 = await createSession(ort, original, { intraOpNumThreads: 1 });
    const sN = await createSession(ort, makeBatchDynamic(original).bytes, { intraOpNumThreads: 1 });
    try {
      assert.deepStrictEqual(sN.runner.inputs[0].shape, ['batch', 3, SIZE, SIZE]);
      const spec = { inputWidth: SIZE, inputHeight: SIZE };
      const { resolveSpec } = require('../../dist/nodes/lib/detect/spec');
      const full = resolveSpec(sN.runner, { ...spec, format: 'yolox', preprocess: { channelOrder: 'bgr', padValue: 114, align: 'top-left' }, maxBatch: 4 });
      assert.strictEqual(full.dynamicBatch, true);
      const det = new Detector(sN.runner, full);
      const p = det.prepare(imgs);
      assert.deepStrictEqual(p.dims, [4, 3, SIZE, SIZE]);
      const batched = await sN.runner.run(p.tensor, p.dims);
      const out = batched.output;
      assert.deepStrictEqual(out.dims, [4, 3549, 85]);
      const n = 3549 * 85;
      let worst = 0;
      for (let b = 0; b < 4; b++) {
        const single = await s1.runner.run(p.tensor.slice(b * PER, (b + 1) * PER), [1, 3, SIZE, SIZE]);
        worst = Math.max(worst, maxAbsDiff(single.output.data, out.data.subarray(b * n, (b + 1) * n)));
      }
      assert.ok(worst <= 1e-4, `largest difference ${worst}`);
      // The frames differ, so a batch that repeated one frame would not pass.
      assert.ok(maxAbsDiff(out.data.subarray(0, n), out.data.subarray(n, 2 * n)) > 1e-2);
      // Without the rewrite the model refuses a batch of 2.
      await assert.rejects(s1.runner.run(p.tensor.slice(0, 2 * PER), [2, 3, SIZE, SIZE]));
    } finally {
      await s1.runner.release();
      await sN.runner.release();
    }
  });

  it('leaves a model whose batch is dynamic already as it is, and refuses what is not a model', () => {
    const echo = batchEchoModel();
    const r = makeBatchDynamic(echo);
    assert.strictEqual(r.bytes, echo);
    assert.deepStrictEqual(r.alreadyDynamic, ['images']);
    assert.deepStrictEqual(r.reshapesFixed, []);
    assert.throws(() => makeBatchDynamic(Buffer.from('not a model at all')), /protobuf|not an ONNX model/);
    // A batch-1 model with no reshape: input and output become dynamic, and it runs a batch of 3.
    const rm = makeBatchDynamic(reduceMeanModel());
    assert.deepStrictEqual(rm.madeDynamic, ['images', 'output']);
    return createSession(ort, rm.bytes).then(async ({ runner }) => {
      const out = await runner.run(new Float32Array(3 * 3 * 64 * 64).fill(2), [3, 3, 64, 64]);
      assert.deepStrictEqual(out.output.dims, [3, 64, 64]);
      await runner.release();
    });
  });

  it('the loader makes the batch dynamic and runs two sessions behind one pool (dynamicBatch, sessions)', async () => {
    const m = await acquireModel({ model: asset('models/yolox_nano.onnx'), format: 'yolox', dynamicBatch: true, sessions: 2, maxBatch: 4 }, 'batch-test');
    try {
      assert.strictEqual(m.spec.dynamicBatch, true);
      assert.strictEqual(m.spec.maxBatch, 4);
      assert.strictEqual(m.session.runner.parallel, 2);
      assert.match(m.key, /batchN\|s2$/);
      const det = new Detector(m.session.runner, m.spec);
      const imgs = await frames();
      // Two batches in flight at once, one per session; each frame gets its own people back.
      const [a, b] = await Promise.all([det.detect(imgs.slice(0, 2)), det.detect(imgs.slice(2, 4))]);
      const single = await Promise.all(imgs.map((f) => det.detect([f])));
      const all = [...a.detections, ...b.detections];
      assert.strictEqual(all.length, 4);
      all.forEach((d, i) => {
        assert.ok(d.length > 0, `frame ${i} has people`);
        assert.deepStrictEqual(
          d.map((x) => x.box.map((v) => Math.round(v))),
          single[i].detections[0].map((x) => x.box.map((v) => Math.round(v))),
        );
      });
    } finally {
      await releaseModel(m.key, 'batch-test');
    }
  });

  it('edgevision model-batch writes the batch-capable file and checks it against batch-1 runs', async () => {
    const out = path.join(os.tmpdir(), `ev-batch-${process.pid}.onnx`);
    try {
      const r = spawnSync(
        process.execPath,
        [path.join(__dirname, '..', '..', 'bin', 'edgevision.js'), 'model-batch', asset('models/yolox_nano.onnx'), '--out', out, '--check', '--json'],
        {
          encoding: 'utf8',
        },
      );
      assert.strictEqual(r.status, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.deepStrictEqual(j.madeDynamic, ['images', 'output']);
      assert.strictEqual(j.check.batch, 4);
      assert.ok(j.check.maxDiff <= 1e-4, String(j.check.maxDiff));
      const { runner } = await createSession(ort, fs.readFileSync(out));
      assert.deepStrictEqual(runner.inputs[0].shape, ['batch', 3, SIZE, SIZE]);
      await runner.release();
      const bad = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'edgevision.js'), 'model-batch', '/no/such.onnx'], { encoding: 'utf8' });
      assert.strictEqual(bad.status, 1);
      assert.match(bad.stderr, /model file not found: \/no\/such.onnx/);
    } finally {
      fs.rmSync(out, { force: true });
    }
  });
});
