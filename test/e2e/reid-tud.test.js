'use strict';
// Re-identification on real person crops: the TUD clips decoded by ffmpeg, gt boxes and ids, the
// shared OSNet model through the vision-model loader, and the built-in colour descriptor.
const assert = require('assert');
const { assetsDir } = require('../helpers/assets');
const { acquireEmbeddingModel, acquireModel, releaseModel } = require('../../dist/nodes/lib/model/loader.js');
const { OnnxEmbedder, ColourEmbedder } = require('../../dist/nodes/lib/reid/embedder.js');
const { retrieval, randomEmbeddings } = require('../../dist/nodes/lib/reid/eval.js');
const { EMBEDDER_DEFAULTS } = require('../../dist/nodes/lib/reid/engine.js');
const { loadClip, cropSet, embedCrops, twoCameraRun, CachingEmbedder, SPLITS, TUD } = require('../../dist/cli/bench/reid.js');

const USER = 'test-reid-e2e';

describe('reid on TUD person crops (e2e)', function () {
  this.timeout(600000);
  let loaded;
  let clips;
  let onnx;
  let colour;

  before(async () => {
    loaded = await acquireEmbeddingModel({ model: 'osnet_x0_25_msmt17', format: 'embedding', providers: ['cpu'], intraOpNumThreads: 2 }, USER);
    clips = [];
    for (const s of TUD) clips.push(await loadClip(assetsDir(), s));
    // One cache per embedder for the whole file: a crop is embedded once.
    onnx = new CachingEmbedder(new OnnxEmbedder(loaded.session.runner, loaded.spec, 'osnet'));
    colour = new CachingEmbedder(new ColourEmbedder());
  });
  after(async () => {
    if (loaded) await releaseModel(loaded.key, USER);
  });

  it('the model is read as a 256×128 → 512 embedding model with ImageNet normalisation', () => {
    assert.deepStrictEqual(
      { w: loaded.spec.inputWidth, h: loaded.spec.inputHeight, dim: loaded.spec.dim, norm: loaded.spec.normalisation },
      { w: 128, h: 256, dim: 512, norm: { channelOrder: 'rgb', scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } },
    );
  });

  it('the detector path refuses the embedding model with a reason', async () => {
    await assert.rejects(
      acquireModel({ model: 'osnet_x0_25_msmt17', providers: ['cpu'] }, USER + '-detect'),
      /embedding \(re-identification\) model: use it in vision-reid/,
    );
  });

  it('rank-1 and mAP: the ONNX model beats the colour descriptor, and both beat chance', async () => {
    const set = cropSet(clips, 5);
    const people = new Set(set.crops.map((c) => c.identity)).size;
    assert.ok(set.crops.length >= 100 && people >= 10, `${set.crops.length} crops of ${people} people`);
    const r = {
      chance: retrieval(set.crops, randomEmbeddings(set.crops.length, 512, 3), 10),
      onnx: retrieval(set.crops, await embedCrops(set, onnx), 10),
      colour: retrieval(set.crops, await embedCrops(set, colour), 10),
    };
    for (const [k, v] of Object.entries(r)) console.log(`      ${k.padEnd(7)} rank-1 ${v.rank1.toFixed(3)}  mAP ${v.mAP.toFixed(3)}  (${v.queries} queries)`);
    assert.ok(r.onnx.rank1 > r.colour.rank1 && r.onnx.mAP > r.colour.mAP, 'onnx beats colour');
    assert.ok(r.colour.rank1 > 2 * r.chance.rank1 && r.colour.mAP > 2 * r.chance.mAP, 'colour beats chance by 2×');
    assert.ok(r.onnx.rank1 >= 0.9 && r.onnx.mAP >= 0.8, 'onnx is a working re-id model');
  });

  it('two cameras (each clip split in time): a person seen in cam-1 and later in cam-2 keeps the globalId', async () => {
    const totals = {};
    for (const [name, e] of [
      ['onnx', onnx],
      ['colour', colour],
    ]) {
      const t = { handovers: 0, same: 0, matchable: 0, matchableSame: 0, det: 0, pure: 0, frag: 0, runs: 0, wrong: 0 };
      for (const c of clips) {
        for (const at of SPLITS) {
          const r = await twoCameraRun(c, e, { ...EMBEDDER_DEFAULTS[e.kind] }, 3, at);
          t.handovers += r.handovers;
          t.same += r.sameId;
          t.matchable += r.matchable;
          t.matchableSame += r.matchableSame;
          t.det += r.detections;
          t.pure += r.purity * r.detections;
          t.frag += r.fragmentation;
          t.wrong += r.wrongJoins;
          t.runs++;
        }
      }
      totals[name] = t;
      console.log(
        `      ${name.padEnd(7)} same globalId in ${t.same}/${t.handovers} handovers, ${t.matchableSame}/${t.matchable} of those with 2+ good crops in each camera, purity ${(t.pure / t.det).toFixed(3)}, fragmentation ${(t.frag / t.runs).toFixed(2)}, wrong joins ${t.wrong}`,
      );
    }
    const o = totals.onnx;
    // Judged on final ids; people who never show two good crops in a camera keep a provisional id
    // there and cannot be matched by appearance, so the rates are over those who do.
    assert.ok(o.matchable >= 20, `only ${o.matchable} handovers to judge`);
    assert.ok(o.matchableSame / o.matchable >= 0.9, 'onnx: ≥ 90 % of handovers keep their id');
    assert.strictEqual(o.wrong, 0, 'onnx: no two people share an id');
    assert.ok(o.pure / o.det >= 0.95, 'onnx: purity ≥ 0.95');
    assert.ok(o.frag / o.runs <= 1.2, 'onnx: fragmentation ≤ 1.2');
    const c = totals.colour;
    // The colour default (fixed 0.95 until calibrated) trades hand-overs for no wrong merge: 17/27 on
    // these runs (0.9 kept 22/27 with 2 wrong merges).
    assert.ok(c.matchableSame / c.matchable >= 0.6, 'colour: ≥ 60 % of handovers keep their id');
    assert.strictEqual(c.wrong, 0, 'colour: no two people share an id');
  });
});
