'use strict';
// The acceptance target as a test: with its defaults (one set for all six sequences) the tracker
// beats SORT's reference output overall on MOTA and IDF1, and the CLI writes a valid result file.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { asset } = require('../helpers/assets');
const { parseMot, parseSeqInfo } = require('../../dist/nodes/lib/eval/mot/io.js');
const { accumulate, metricsFrom, sumCounts } = require('../../dist/nodes/lib/eval/mot/evaluate.js');
const { replayMot } = require('../../dist/nodes/lib/eval/mot/replay.js');

const SEQS = ['ADL-Rundle-6', 'ETH-Sunnyday', 'KITTI-13', 'KITTI-17', 'TUD-Campus', 'TUD-Stadtmitte'];
const read = (rel) => parseMot(fs.readFileSync(asset(rel), 'utf8'), rel);

describe('mot/replay (tracker on MOT15 det files)', () => {
  it('beats SORT overall on MOTA and IDF1 with the default options', () => {
    const ours = [];
    const sort = [];
    for (const s of SEQS) {
      const info = parseSeqInfo(fs.readFileSync(asset(`mot15/${s}/seqinfo.ini`), 'utf8'));
      const gt = read(`mot15/${s}/gt/gt.txt`);
      const res = replayMot(read(`mot15/${s}/det/det.txt`), { fps: info.frameRate, seqLength: info.seqLength });
      ours.push(accumulate(gt, res.rows));
      sort.push(accumulate(gt, read(`mot15-reference/sort-output/${s}.txt`)));
    }
    const o = metricsFrom(sumCounts(ours));
    const r = metricsFrom(sumCounts(sort));
    assert.ok(o.mota > r.mota, `MOTA ${o.mota} vs SORT ${r.mota}`);
    assert.ok(o.idf1 > r.idf1, `IDF1 ${o.idf1} vs SORT ${r.idf1}`);
  });

  it('edgevision track writes frame,id,x,y,w,h,score,-1,-1,-1 rows that mot-eval scores', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-track-'));
    try {
      trackAndScore(path.join(dir, 'res.txt'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** `edgevision track` into `out`, then `mot-eval` on it, then a bad option. */
function trackAndScore(out) {
  const bin = path.join(__dirname, '..', '..', 'bin', 'edgevision.js');
  execFileSync(process.execPath, [bin, 'track', '--det', asset('mot15/TUD-Campus/det/det.txt'), '--out', out]);
  const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
  assert.ok(lines.length > 100);
  for (const l of lines) assert.match(l, /^\d+,\d+,(-?[\d.]+,){4}[\d.]+,-1,-1,-1$/);
  const json = JSON.parse(
    execFileSync(process.execPath, [bin, 'mot-eval', '--gt', asset('mot15/TUD-Campus/gt/gt.txt'), '--res', out, '--json'], { encoding: 'utf8' }),
  );
  assert.ok(json.mota > 0.5 && json.idf1 > 0.5, JSON.stringify(json));
  assert.throws(
    () =>
      execFileSync(process.execPath, [bin, 'track', '--det', asset('mot15/TUD-Campus/det/det.txt'), '--out', out, '--params', '{"minHit":3}'], {
        stdio: 'pipe',
      }),
    /unknown tracker option "minHit"/,
  );
}
