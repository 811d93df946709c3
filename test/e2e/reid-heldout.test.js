'use strict';
// The held-out re-id set (test/fixtures/vtest-reid): vtest.avi decoded by ffmpeg, hand-labelled people
// who leave the view and come back, the recording split in time into two cameras, the engine on its
// defaults. Every crop is embedded once (OSNet and the colour descriptor), then three splits are judged.
const assert = require('assert');
const { assetsDir } = require('../helpers/assets');
const { acquireEmbeddingModel, releaseModel } = require('../../dist/nodes/lib/model/loader.js');
const { OnnxEmbedder, ColourEmbedder } = require('../../dist/nodes/lib/reid/embedder.js');
const { ReidEngine, EMBEDDER_DEFAULTS } = require('../../dist/nodes/lib/reid/engine.js');
const { evalCameras, SPLITS } = require('../../dist/cli/bench/reid.js');
const { loadHeldOut, precompute, heldOutFrames } = require('../../dist/cli/bench/reid-heldout.js');

const USER = 'test-reid-heldout';

describe('reid on the held-out vtest set (e2e)', function () {
  this.timeout(300000);
  let loaded;
  let held;
  before(async () => {
    loaded = await acquireEmbeddingModel({ model: 'osnet_x0_25_msmt17', format: 'embedding', providers: ['cpu'], intraOpNumThreads: 2 }, USER);
    held = loadHeldOut();
  });
  after(async () => {
    if (loaded) await releaseModel(loaded.key, USER);
  });

  async function run(embedder) {
    const pre = await precompute(assetsDir(), held, embedder);
    const t = { handovers: 0, kept: 0, wrong: 0, splits: 0 };
    for (const at of SPLITS) {
      const r = await evalCameras(heldOutFrames(held, pre.frames, at, 3), pre.embedder, new ReidEngine(embedder.dim, { ...EMBEDDER_DEFAULTS[embedder.kind] }));
      t.handovers += r.handovers;
      t.kept += r.sameId;
      t.wrong += r.wrongJoins;
      t.splits += r.splits;
    }
    console.log(`      ${embedder.kind.padEnd(7)} kept ${t.kept}/${t.handovers} hand-overs, ${t.wrong} wrong merges, ${t.splits} splits (3 time splits)`);
    return t;
  }

  it('the labels are what the fixture README says: seven people, each in several tracks or a long one', () => {
    assert.strictEqual(held.persons.length, 7);
    assert.strictEqual(held.frames, 795);
    const labelled = [...held.rows.values()].flat().filter((r) => r.person).length;
    assert.ok(labelled > 1500, `${labelled} labelled boxes`);
  });

  it('OSNet on the defaults keeps ≥ 70 % of hand-overs with at most one wrong merge', async () => {
    const t = await run(new OnnxEmbedder(loaded.session.runner, loaded.spec, 'osnet'));
    assert.ok(t.handovers >= 9, `${t.handovers} hand-overs`);
    assert.ok(t.kept / t.handovers >= 0.7, `kept ${t.kept}/${t.handovers}`);
    assert.ok(t.wrong <= 1, `${t.wrong} wrong merges`);
  });

  it('the colour descriptor keeps more than 2 in 6 of the hand-overs with no wrong merge', async () => {
    // The striped jumper and the balding man in a dark jacket (both over jeans) score 0.90–0.94 apart;
    // a learnt threshold from a few dozen pairs fell to 0.89 and merged them. Now the fixed 0.95 holds
    // until the calibration's negatives can show its target rate (docs/nodes/reid.md).
    const t = await run(new ColourEmbedder());
    assert.ok(t.kept / t.handovers > 2 / 6, `kept ${t.kept}/${t.handovers}`);
    assert.strictEqual(t.wrong, 0, `${t.wrong} wrong merges`);
  });
});
