'use strict';
// The assignment solver against brute force on random small matrices.
const assert = require('assert');
const { solveAssignment } = require('../../dist/nodes/lib/tracking/assignment.js');

/** Deterministic generator so a failure can be replayed. */
function lcg(seed) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** Every partial matching; returns [bestCardinality, bestCost] under the chosen objective. */
function brute(cost, unmatchedCost) {
  const n = cost.length;
  const m = n ? cost[0].length : 0;
  const usedCol = new Array(m).fill(false);
  let best = null;
  (function rec(i, card, sum) {
    if (i === n) {
      const score = unmatchedCost === undefined ? [-card, sum] : [0, sum + unmatchedCost * (n - card)];
      if (!best || score[0] < best[0] || (score[0] === best[0] && score[1] < best[1] - 1e-9)) best = score;
      return;
    }
    rec(i + 1, card, sum); // row i unmatched
    for (let j = 0; j < m; j++) {
      if (usedCol[j] || !Number.isFinite(cost[i][j])) continue;
      usedCol[j] = true;
      rec(i + 1, card + 1, sum + cost[i][j]);
      usedCol[j] = false;
    }
  })(0, 0, 0);
  return best;
}

function randomMatrix(rnd, n, m, pForbidden, allForbiddenRow) {
  const c = [];
  for (let i = 0; i < n; i++) {
    const row = [];
    for (let j = 0; j < m; j++) {
      const r = rnd();
      row.push(r < pForbidden ? (r < pForbidden / 2 ? Infinity : NaN) : Math.round(rnd() * 100) / 10);
    }
    c.push(row);
  }
  if (allForbiddenRow && n > 0) c[Math.floor(rnd() * n)] = new Array(m).fill(Infinity);
  return c;
}

function checkValid(cost, res) {
  const seen = new Set();
  let sum = 0;
  res.rowToCol.forEach((c, r) => {
    if (c < 0) return;
    assert.ok(Number.isFinite(cost[r][c]), `row ${r} took forbidden column ${c}`);
    assert.ok(!seen.has(c), `column ${c} used twice`);
    seen.add(c);
    assert.strictEqual(res.colToRow[c], r);
    sum += cost[r][c];
  });
  assert.ok(Math.abs(sum - res.cost) < 1e-9);
  return { card: seen.size, sum };
}

describe('tracking/assignment', () => {
  const shapes = [];
  for (let n = 0; n <= 5; n++) for (let m = 0; m <= 5; m++) shapes.push([n, m]);
  const cases = [
    { name: 'dense', p: 0, allRow: false },
    { name: 'with forbidden pairs', p: 0.4, allRow: false },
    { name: 'with an all-forbidden row', p: 0.3, allRow: true },
    { name: 'mostly forbidden', p: 0.8, allRow: false },
  ];
  for (const tc of cases) {
    it(`max-cardinality min-cost matches brute force: ${tc.name}, all shapes 0..5 × 0..5`, () => {
      const rnd = lcg(42 + tc.p * 100);
      for (const [n, m] of shapes) {
        for (let rep = 0; rep < 8; rep++) {
          const cost = randomMatrix(rnd, n, m, tc.p, tc.allRow);
          const frozen = JSON.stringify(cost);
          const res = solveAssignment(cost);
          assert.strictEqual(JSON.stringify(cost), frozen, 'cost matrix was mutated');
          const { card, sum } = checkValid(cost, res);
          const [negCard, bestSum] = brute(cost);
          assert.strictEqual(card, -negCard, `cardinality for ${frozen}`);
          assert.ok(Math.abs(sum - bestSum) < 1e-9, `cost ${sum} vs brute ${bestSum} for ${frozen}`);
        }
      }
    });
    it(`with unmatchedCost (gated, any cardinality) matches brute force: ${tc.name}`, () => {
      const rnd = lcg(7 + tc.p * 100);
      for (const [n, m] of shapes) {
        for (let rep = 0; rep < 8; rep++) {
          const cost = randomMatrix(rnd, n, m, tc.p, tc.allRow);
          const L = 5;
          const res = solveAssignment(cost, { unmatchedCost: L });
          const { card, sum } = checkValid(cost, res);
          const [, best] = brute(cost, L);
          assert.ok(Math.abs(sum + L * (n - card) - best) < 1e-9, `objective ${sum + L * (n - card)} vs ${best} for ${JSON.stringify(cost)}`);
        }
      }
    });
  }

  it('a row with only forbidden pairs stays unmatched; its column goes to another row', () => {
    const res = solveAssignment([
      [Infinity, Infinity],
      [1, 2],
    ]);
    assert.deepStrictEqual(res.rowToCol, [-1, 0]);
    assert.deepStrictEqual(res.colToRow, [1, -1]);
  });

  it('prefers more matches over a cheaper single match (plain) and the reverse when gated', () => {
    const cost = [
      [0.75, 0.1],
      [Infinity, 0.75],
    ];
    assert.deepStrictEqual(solveAssignment(cost).rowToCol, [0, 1]);
    // 0.75 + 0.75 = 1.5 > 0.1 + 0.8 (one row left unmatched at 0.8)
    assert.deepStrictEqual(solveAssignment(cost, { unmatchedCost: 0.8 }).rowToCol, [1, -1]);
  });

  it('rejects ragged matrices and a non-finite unmatchedCost', () => {
    assert.throws(() => solveAssignment([[1, 2], [3]]), /row 1 has 1 columns/);
    assert.throws(() => solveAssignment([[1]], { unmatchedCost: Infinity }), /unmatchedCost/);
  });

  it('handles 200 × 300 in one call', () => {
    const rnd = lcg(1);
    const cost = randomMatrix(rnd, 200, 300, 0.5, false);
    const res = solveAssignment(cost);
    assert.strictEqual(checkValid(cost, res).card, 200);
  });
});
