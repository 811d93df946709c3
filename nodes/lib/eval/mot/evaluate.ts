/**
 * CLEAR-MOT and identity metrics for MOTChallenge results, computed the way py-motmetrics does
 * (`compare_to_groundtruth(gt, res, 'iou', distth=0.5)` then `compute_many(..., generate_overall)`),
 * so the figures can be compared with published ones:
 * - distance is 1 − IoU and a pair may match only when IoU ≥ threshold (0.5);
 * - per frame, each object's last correspondence is re-established first (if that hypothesis is
 *   present and still within the threshold), then the remaining objects and hypotheses are matched by minimum total distance
 *   (maximum number of matches first); a match whose object was last matched to another hypothesis
 *   is an identity switch;
 * - IDF1 / IDP / IDR come from one global minimum-cost bipartite matching between ground-truth and
 *   hypothesis trajectories (Ristani et al. 2016), counting every frame in which a matched pair
 *   overlaps by at least the threshold;
 * - "overall" sums the counts over sequences (FP, FN, ID switches, GT, IDTP, …) and computes the
 *   ratios from the sums; MOTP is weighted by the number of matches.
 * Ground-truth rows whose flag (column 7) is 0 are dropped before matching.
 */
import { iou } from '../../geometry';
import { solveAssignment } from '../../tracking/assignment';
import { MotRow, groupByFrame } from './io';

export interface EvalOptions {
  /** Minimum IoU for a match (py-motmetrics `distth=0.5` on 1 − IoU). */
  iouThreshold: number;
  /** Drop gt rows whose flag is below this (MOT: 0 = ignore). */
  minGtFlag: number;
}

export const DEFAULT_EVAL: Readonly<EvalOptions> = Object.freeze({ iouThreshold: 0.5, minGtFlag: 1 });

/** Raw counts for one sequence; sums of these give the overall figures. */
export interface MotCounts {
  numFrames: number;
  numObjects: number;
  numPredictions: number;
  numMatches: number;
  numSwitches: number;
  numFalsePositives: number;
  numMisses: number;
  numFragmentations: number;
  numUniqueObjects: number;
  mostlyTracked: number;
  partiallyTracked: number;
  mostlyLost: number;
  /** Sum of 1 − IoU over matches and switches. */
  distanceSum: number;
  idtp: number;
  idfp: number;
  idfn: number;
}

export interface MotMetrics extends MotCounts {
  mota: number;
  motp: number;
  idf1: number;
  idp: number;
  idr: number;
  recall: number;
  precision: number;
}

/** Accumulates one sequence, frame by frame. */
export function accumulate(gtRows: readonly MotRow[], resRows: readonly MotRow[], options: Partial<EvalOptions> = {}): MotCounts {
  const opt = { ...DEFAULT_EVAL, ...options };
  const maxDist = 1 - opt.iouThreshold;
  const gt = groupByFrame(gtRows.filter((r) => r.conf >= opt.minGtFlag));
  const res = groupByFrame(resRows);
  const frames = [...new Set([...gt.keys(), ...res.keys()])].sort((a, b) => a - b);

  const m = new Map<number, number>(); // object → hypothesis of its last match
  // Per object: its frames, in order, as tracked (1) or missed (0).
  const history = new Map<number, number[]>();
  const ocs = new Map<number, number>();
  const hcs = new Map<number, number>();
  const ex = new Map<number, Map<number, number>>(); // object → hypothesis → frames overlapping
  const c: MotCounts = {
    numFrames: frames.length,
    numObjects: 0,
    numPredictions: 0,
    numMatches: 0,
    numSwitches: 0,
    numFalsePositives: 0,
    numMisses: 0,
    numFragmentations: 0,
    numUniqueObjects: 0,
    mostlyTracked: 0,
    partiallyTracked: 0,
    mostlyLost: 0,
    distanceSum: 0,
    idtp: 0,
    idfp: 0,
    idfn: 0,
  };

  for (const f of frames) {
    const O = gt.get(f) ?? [];
    const H = res.get(f) ?? [];
    c.numObjects += O.length;
    c.numPredictions += H.length;
    const dist: number[][] = O.map((o) =>
      H.map((h) => {
        const d = 1 - iou(o.box, h.box);
        return d <= maxDist ? d : NaN;
      }),
    );
    for (const o of O) ocs.set(o.id, (ocs.get(o.id) ?? 0) + 1);
    for (const h of H) hcs.set(h.id, (hcs.get(h.id) ?? 0) + 1);
    O.forEach((o, i) =>
      H.forEach((h, j) => {
        if (Number.isNaN(dist[i][j])) return;
        let row = ex.get(o.id);
        if (!row) ex.set(o.id, (row = new Map()));
        row.set(h.id, (row.get(h.id) ?? 0) + 1);
      }),
    );

    const oTaken = new Array<boolean>(O.length).fill(false);
    const hTaken = new Array<boolean>(H.length).fill(false);
    const match = (i: number, j: number, isSwitch: boolean) => {
      oTaken[i] = true;
      hTaken[j] = true;
      if (isSwitch) c.numSwitches++;
      else c.numMatches++;
      c.distanceSum += dist[i][j];
      m.set(O[i].id, H[j].id);
    };
    // 1. Keep each object's last correspondence where it still holds, however long ago it was made
    //    (this, not "matched in the previous frame only", is what reproduces both py-motmetrics'
    //    own test figures and the shared SORT summary, fragmentations and MOTP included).
    O.forEach((o, i) => {
      if (!m.has(o.id)) return;
      const hPrev = m.get(o.id);
      const j = H.findIndex((h, jj) => !hTaken[jj] && h.id === hPrev);
      if (j >= 0 && !Number.isNaN(dist[i][j])) match(i, j, false);
    });
    // 2. Minimum-cost matching of the rest.
    const oi = O.map((_, i) => i).filter((i) => !oTaken[i]);
    const hj = H.map((_, j) => j).filter((j) => !hTaken[j]);
    if (oi.length && hj.length) {
      const sub = oi.map((i) => hj.map((j) => dist[i][j]));
      for (const [r, cc] of solveAssignment(sub).pairs) {
        const i = oi[r];
        const j = hj[cc];
        const o = O[i].id;
        match(i, j, m.has(o) && m.get(o) !== H[j].id);
      }
    }
    O.forEach((o, i) => {
      if (!oTaken[i]) c.numMisses++;
      let h = history.get(o.id);
      if (!h) history.set(o.id, (h = []));
      h.push(oTaken[i] ? 1 : 0);
    });
    for (let j = 0; j < H.length; j++) if (!hTaken[j]) c.numFalsePositives++;
  }

  for (const h of history.values()) {
    c.numUniqueObjects++;
    const tracked = h.reduce((a, b) => a + b, 0);
    const ratio = tracked / h.length;
    if (ratio >= 0.8) c.mostlyTracked++;
    else if (ratio >= 0.2) c.partiallyTracked++;
    else c.mostlyLost++;
    const first = h.indexOf(1);
    const last = h.lastIndexOf(1);
    if (first < 0) continue;
    for (let k = first + 1; k <= last; k++) if (h[k] === 0 && h[k - 1] === 1) c.numFragmentations++;
  }

  // Identity: maximise the frames in which matched trajectories overlap (min-cost form of IDF1).
  const oids = [...ocs.keys()];
  const hids = [...hcs.keys()];
  const hIndex = new Map(hids.map((h, j) => [h, j]));
  const cost: number[][] = oids.map((o) => {
    const row = new Array<number>(hids.length).fill(NaN);
    for (const [h, n] of ex.get(o) ?? []) row[hIndex.get(h) as number] = -n;
    return row;
  });
  const idRes = solveAssignment(cost, { unmatchedCost: 0 });
  c.idtp = -idRes.cost;
  c.idfp = c.numPredictions - c.idtp;
  c.idfn = c.numObjects - c.idtp;
  return c;
}

const ratio = (a: number, b: number): number => (b > 0 ? a / b : NaN);

/** Ratios from counts: MOTA = 1 − (FN + FP + IDsw) / GT, MOTP = mean (1 − IoU) of matches, IDF1, … */
export function metricsFrom(c: MotCounts): MotMetrics {
  const detections = c.numMatches + c.numSwitches;
  return {
    ...c,
    mota: 1 - ratio(c.numMisses + c.numFalsePositives + c.numSwitches, c.numObjects),
    motp: ratio(c.distanceSum, detections),
    idf1: ratio(2 * c.idtp, c.numObjects + c.numPredictions),
    idp: ratio(c.idtp, c.idtp + c.idfp),
    idr: ratio(c.idtp, c.idtp + c.idfn),
    recall: ratio(detections, c.numObjects),
    precision: ratio(detections, detections + c.numFalsePositives),
  };
}

/** Sums per-sequence counts (py-motmetrics' OVERALL row). */
export function sumCounts(list: readonly MotCounts[]): MotCounts {
  const out = { ...list[0] };
  for (const k of Object.keys(out) as Array<keyof MotCounts>) out[k] = list.reduce((a, c) => a + c[k], 0);
  return out;
}

export function evaluate(gtRows: readonly MotRow[], resRows: readonly MotRow[], options: Partial<EvalOptions> = {}): MotMetrics {
  return metricsFrom(accumulate(gtRows, resRows, options));
}
