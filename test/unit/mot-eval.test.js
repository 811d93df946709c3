'use strict';
// The MOT evaluator reproduces py-motmetrics: its own test figures and the shared SORT summary.
const assert = require('assert');
const fs = require('fs');
const { asset } = require('../helpers/assets');
const { parseMot, parseSeqInfo, formatResultRow, groupByFrame } = require('../../dist/nodes/lib/eval/mot/io.js');
const { accumulate, metricsFrom, sumCounts, evaluate } = require('../../dist/nodes/lib/eval/mot/evaluate.js');

const read = (rel) => parseMot(fs.readFileSync(asset(rel), 'utf8'), rel);

// csv column → our metric name
const COLS = {
  idf1: 'idf1',
  idp: 'idp',
  idr: 'idr',
  recall: 'recall',
  precision: 'precision',
  num_unique_objects: 'numUniqueObjects',
  mostly_tracked: 'mostlyTracked',
  partially_tracked: 'partiallyTracked',
  mostly_lost: 'mostlyLost',
  num_false_positives: 'numFalsePositives',
  num_misses: 'numMisses',
  num_switches: 'numSwitches',
  num_fragmentations: 'numFragmentations',
  mota: 'mota',
  motp: 'motp',
};

function readCsv(rel) {
  const [head, ...lines] = fs.readFileSync(asset(rel), 'utf8').trim().split(/\r?\n/);
  const cols = head.split(',');
  return lines.map((l) => {
    const f = l.split(',');
    const row = { name: f[0] };
    cols.forEach((c, i) => i > 0 && (row[c] = Number(f[i])));
    return row;
  });
}

function compare(name, got, want, digits) {
  for (const [col, key] of Object.entries(COLS)) {
    if (!(col in want)) continue;
    const tol = digits ? 0.5 * 10 ** -digits + 1e-12 : 1e-9;
    assert.ok(Math.abs(got[key] - want[col]) <= tol, `${name} ${col}: got ${got[key]}, py-motmetrics ${want[col]}`);
  }
}

describe('mot/evaluate', () => {
  it('reproduces py-motmetrics test_motchallenge_files (expected.csv), per sequence and OVERALL', () => {
    const want = readCsv('mot15-reference/pymotmetrics-test/expected.csv');
    const counts = [];
    for (const seq of ['TUD-Campus', 'TUD-Stadtmitte']) {
      const c = accumulate(read(`mot15/${seq}/gt/gt.txt`), read(`mot15-reference/pymotmetrics-test/${seq}.test.txt`));
      counts.push(c);
      compare(
        seq,
        metricsFrom(c),
        want.find((r) => r.name === seq),
        6,
      );
    }
    compare(
      'OVERALL',
      metricsFrom(sumCounts(counts)),
      want.find((r) => r.name === 'OVERALL'),
      6,
    );
  });

  it('reproduces the shared SORT summary (sort-summary.csv) on all six sequences, every column', () => {
    const want = readCsv('mot15-reference/sort-summary.csv');
    assert.strictEqual(want.length, 6);
    for (const w of want) {
      const got = evaluate(read(`mot15/${w.name}/gt/gt.txt`), read(`mot15-reference/sort-output/${w.name}.txt`));
      compare(w.name, got, w, 0);
    }
  });

  // Hand-made cases: one frame per row of the table; boxes are MOT left,top,width,height.
  const cases = [
    {
      name: 'perfect tracking',
      gt: ['1,1,0,0,10,10,1', '2,1,1,0,10,10,1'],
      res: ['1,7,0,0,10,10,1', '2,7,0,0,10,10,1'],
      want: { mota: 1, idf1: 1, numSwitches: 0, numFalsePositives: 0, numMisses: 0, motp: 0.5 * (1 - 90 / 110) },
    },
    {
      name: 'an identity switch, then a miss and a false positive',
      gt: ['1,1,0,0,10,10,1', '2,1,0,0,10,10,1', '3,1,0,0,10,10,1'],
      res: ['1,7,0,0,10,10,1', '2,8,0,0,10,10,1', '3,8,50,50,10,10,1'],
      want: { numSwitches: 1, numMisses: 1, numFalsePositives: 1, mota: 1 - 3 / 3, numFragmentations: 0, idf1: (2 * 1) / 6 },
    },
    {
      name: 'IoU exactly 0.5 matches (distance ≤ 0.5)',
      gt: ['1,1,0,0,10,10,1'],
      res: ['1,7,0,0,10,5,1'],
      want: { numMatches: 1, numMisses: 0 },
    },
    {
      name: 'IoU just below 0.5 does not match',
      gt: ['1,1,0,0,10,10,1'],
      res: ['1,7,0,0,10,4.99,1'],
      want: { numMatches: 0, numMisses: 1, numFalsePositives: 1 },
    },
    {
      name: 'gt rows flagged 0 are ignored (neither missed nor matched)',
      gt: ['1,1,0,0,10,10,0', '1,2,100,100,10,10,1'],
      res: ['1,7,100,100,10,10,1'],
      want: { numObjects: 1, numMisses: 0, mota: 1 },
    },
    {
      name: 'a fragmentation: tracked, missed, tracked again',
      gt: ['1,1,0,0,10,10,1', '2,1,0,0,10,10,1', '3,1,0,0,10,10,1'],
      res: ['1,7,0,0,10,10,1', '3,7,0,0,10,10,1'],
      want: { numFragmentations: 1, numSwitches: 0, numMisses: 1, mostlyTracked: 0, partiallyTracked: 1 },
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const m = evaluate(parseMot(tc.gt.join('\n')), parseMot(tc.res.join('\n')));
      for (const [k, v] of Object.entries(tc.want)) assert.ok(Math.abs(m[k] - v) < 1e-9, `${k}: got ${m[k]}, want ${v}`);
    });
  }
});

describe('mot/io', () => {
  it('parses rows into [x1, y1, x2, y2] and groups them by frame', () => {
    const rows = parseMot('1,-1,10,20,30,40,0.9,-1,-1,-1\n\n2 3 1 2 3 4 1\n');
    assert.deepStrictEqual(rows[0], { frame: 1, id: -1, box: [10, 20, 40, 60], conf: 0.9, cls: -1 });
    assert.deepStrictEqual(rows[1].box, [1, 2, 4, 6]);
    assert.deepStrictEqual([...groupByFrame(rows).keys()], [1, 2]);
  });
  it('says which line is wrong', () => {
    assert.throws(() => parseMot('1,2,3,4,5,6\n1,2,x,4,5,6', 'det.txt'), /det.txt line 2/);
  });
  it('formats result rows as frame,id,left,top,width,height,score,-1,-1,-1', () => {
    assert.strictEqual(formatResultRow(3, 7, [10.5, 20, 40.25, 60], 0.91234), '3,7,10.5,20,29.75,40,0.912,-1,-1,-1');
  });
  it('reads seqinfo.ini', () => {
    const info = parseSeqInfo(fs.readFileSync(asset('mot15/KITTI-13/seqinfo.ini'), 'utf8'));
    assert.deepStrictEqual(info, { name: 'KITTI-13', frameRate: 10, seqLength: 340, imWidth: 1242, imHeight: 375 });
  });
});
