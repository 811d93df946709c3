/**
 * Optimal assignment (linear sum assignment) for rectangular cost matrices with forbidden pairs.
 *
 * Shortest-augmenting-path Hungarian algorithm with potentials (the Jonker–Volgenant family):
 * O(n² m) for n rows ≤ m columns. Forbidden pairs are non-finite entries (Infinity or NaN).
 *
 * Two problems are solved:
 * - plain (no `unmatchedCost`): a matching of maximum cardinality among the allowed pairs, and of
 *   minimum total cost among those (what scipy's linear_sum_assignment and py-motmetrics compute);
 * - with `unmatchedCost` L: any matching, minimising Σ matched costs + L × unmatched rows, so a pair is
 *   only worth taking when its cost is below L (lap.lapjv's `extend_cost` with `cost_limit`, which is
 *   what ByteTrack uses to gate its associations).
 */

export interface AssignmentOptions {
  /** Cost of leaving a row unmatched; pairs costing more than this are never taken. */
  unmatchedCost?: number;
}

export interface AssignmentResult {
  /** For each row, its column, or -1 when unmatched. */
  rowToCol: number[];
  /** For each column, its row, or -1 when unmatched. */
  colToRow: number[];
  /** Matched (row, col) pairs in row order. */
  pairs: Array<[number, number]>;
  /** Sum of the costs of the matched pairs. */
  cost: number;
}

/**
 * Solves the assignment problem for `cost` (rows × columns; rows may be of any equal length, zero
 * included). Never mutates `cost`.
 */
export function solveAssignment(cost: ReadonlyArray<ArrayLike<number>>, options: AssignmentOptions = {}): AssignmentResult {
  const n = cost.length;
  const m = n > 0 ? cost[0].length : 0;
  for (let i = 1; i < n; i++) {
    if (cost[i].length !== m) throw new Error(`solveAssignment: row ${i} has ${cost[i].length} columns, row 0 has ${m}`);
  }
  const limit = options.unmatchedCost;
  if (limit !== undefined && !Number.isFinite(limit)) throw new Error('solveAssignment: unmatchedCost must be a finite number');
  const rowToCol = new Array<number>(n).fill(-1);
  const colToRow = new Array<number>(m).fill(-1);
  const result: AssignmentResult = { rowToCol, colToRow, pairs: [], cost: 0 };
  if (n === 0 || m === 0) return result;

  // Dense working matrix a (R × C, R ≤ C). With unmatchedCost, each row i gets a private dummy
  // column m + i at cost L, so every row can always be assigned at finite cost.
  const extended = limit !== undefined;
  const transpose = !extended && n > m;
  const R = transpose ? m : n;
  const C = extended ? m + n : transpose ? n : m;
  const get = (r: number, c: number): number => (transpose ? cost[c][r] : cost[r][c]);

  // Forbidden pairs become a cost so large that one forbidden pair is worse than any combination of
  // allowed ones (py-motmetrics' add_expensive_edges: l = 2·r·c + 1 with c > every |finite cost|).
  let maxAbs = extended ? Math.abs(limit as number) : 0;
  let anyFinite = extended;
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < (transpose ? n : m); c++) {
      const v = get(r, c);
      if (Number.isFinite(v)) {
        anyFinite = true;
        if (Math.abs(v) > maxAbs) maxAbs = Math.abs(v);
      }
    }
  }
  if (!anyFinite) return result;
  const big = 2 * R * (maxAbs + 1) + 1;
  const a = new Float64Array(R * C);
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) {
      let v: number;
      if (c < (transpose ? n : m)) v = get(r, c);
      else v = c - m === r ? (limit as number) : Infinity;
      a[r * C + c] = Number.isFinite(v) ? v : big;
    }
  }

  // e-maxx formulation, 1-based: p[j] = row assigned to column j (0 = none), u/v potentials.
  const u = new Float64Array(R + 1);
  const v = new Float64Array(C + 1);
  const p = new Int32Array(C + 1);
  const way = new Int32Array(C + 1);
  const minv = new Float64Array(C + 1);
  const used = new Uint8Array(C + 1);
  for (let i = 1; i <= R; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = Infinity;
      let j1 = 0;
      const rowOff = (i0 - 1) * C - 1;
      for (let j = 1; j <= C; j++) {
        if (used[j]) continue;
        const cur = a[rowOff + j] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= C; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }

  for (let j = 1; j <= C; j++) {
    if (p[j] === 0) continue;
    const r = transpose ? j - 1 : p[j] - 1;
    const c = transpose ? p[j] - 1 : j - 1;
    if (c >= m) continue; // a dummy column: the row stays unmatched
    const v0 = cost[r][c];
    if (!Number.isFinite(v0)) continue; // only taken when the row had no allowed pair left
    rowToCol[r] = c;
    colToRow[c] = r;
  }
  for (let r = 0; r < n; r++) {
    const c = rowToCol[r];
    if (c >= 0) {
      result.pairs.push([r, c]);
      result.cost += cost[r][c];
    }
  }
  return result;
}
