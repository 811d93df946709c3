/**
 * `edgevision bench track`: this tracker against SORT's reference output and against
 * node-moving-things-tracker (OpenDataCam's tracker) on the six shared MOT15 sequences, all from the
 * same det.txt files, scored by our py-motmetrics-equivalent evaluator (IoU ≥ 0.5, gt flag ≥ 1).
 * Prints figures; it asserts nothing.
 *
 * node-moving-things-tracker is run as its own `--mode motchallenge` does (main.js): frames holding
 * detections are fed in order, every tracked item (zombies included) is written each frame, and
 * trajectories shorter than 10 rows are dropped afterwards (an offline filter; its online figures
 * are printed too). Timing: mean wall time per fed frame of the tracker calls only (update + reading
 * the tracks), after one warm-up pass, over --repeat passes, both trackers in the same process.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs, numArg, strArg, assetsArg } from '../args';

import { MotRow, parseMot, parseSeqInfo, groupByFrame, rowsToDetections } from '../../nodes/lib/eval/mot/io';
import { accumulate, metricsFrom, sumCounts, MotCounts, MotMetrics } from '../../nodes/lib/eval/mot/evaluate';
import { Tracker, TrackerOptionsInput, resolveTrackerOptions } from '../../nodes/lib/tracking/tracker';
import { parseParams } from '../commands/track';

export const usage = [
  'usage: edgevision bench track [--assets DIR] [--params JSON] [--repeat N]',
  '',
  '  --assets DIR   the shared assets folder (default: $EDGEVISION_ASSETS, else ../shared/assets)',
  '  --params JSON  tracker options (default: the shipped defaults, the same for every sequence)',
  '  --repeat N     timed passes per tracker and sequence (default 10)',
].join('\n');

export const SEQUENCES = ['ADL-Rundle-6', 'ETH-Sunnyday', 'KITTI-13', 'KITTI-17', 'TUD-Campus', 'TUD-Stadtmitte'];

interface Run {
  rows: MotRow[];
  ms: number;
  frames: number;
}

function runOurs(det: MotRow[], fps: number, seqLength: number, params: TrackerOptionsInput): Run {
  const byFrame = groupByFrame(det);
  const inputs: Array<ReturnType<typeof rowsToDetections>> = [];
  for (let f = 1; f <= seqLength; f++) inputs.push(rowsToDetections(byFrame.get(f) ?? []));
  const tracker = new Tracker(params);
  const rows: MotRow[] = [];
  let ns = 0n;
  for (let f = 1; f <= seqLength; f++) {
    const t0 = process.hrtime.bigint();
    const u = tracker.update(inputs[f - 1], ((f - 1) * 1000) / fps);
    ns += process.hrtime.bigint() - t0;
    for (const t of u.tracks) if (t.state === 'confirmed' && t.detectionIndex >= 0) rows.push({ frame: f, id: t.trackId, box: t.box, conf: t.score, cls: -1 });
  }
  return { rows, ms: Number(ns) / 1e6, frames: seqLength };
}

interface NmttItem {
  x: number;
  y: number;
  w: number;
  h: number;
  confidence: number;
  name: string;
}
interface NmttTracker {
  reset(): void;
  updateTrackedItemsWithNewFrame(dets: NmttItem[], frame: number): void;
  getTrackedItemsInMOTFormat(frame: number): string[];
}

function runNmtt(nmtt: NmttTracker, det: MotRow[]): Run & { online: MotRow[] } {
  // As its main.js --mode motchallenge: centre-based boxes, confidence in percent, frames with detections only.
  const byFrame = groupByFrame(det);
  const frames = [...byFrame.keys()].sort((a, b) => a - b);
  const inputs = frames.map((f) =>
    (byFrame.get(f) ?? []).map((r) => ({
      x: (r.box[0] + r.box[2]) / 2,
      y: (r.box[1] + r.box[3]) / 2,
      w: r.box[2] - r.box[0],
      h: r.box[3] - r.box[1],
      confidence: r.conf * 100,
      name: '',
    })),
  );
  nmtt.reset();
  const lines: string[] = [];
  let ns = 0n;
  frames.forEach((f, i) => {
    const t0 = process.hrtime.bigint();
    nmtt.updateTrackedItemsWithNewFrame(inputs[i], f);
    const out = nmtt.getTrackedItemsInMOTFormat(f);
    ns += process.hrtime.bigint() - t0;
    for (const l of out) lines.push(l);
  });
  const online = parseMot(lines.join('\n'), 'node-moving-things-tracker output');
  const count = new Map<number, number>();
  for (const r of online) count.set(r.id, (count.get(r.id) ?? 0) + 1);
  return { rows: online.filter((r) => (count.get(r.id) ?? 0) >= 10), online, ms: Number(ns) / 1e6, frames: frames.length };
}

const pct = (v: number) => (100 * v).toFixed(1).padStart(5);

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const assets = assetsArg(args);
  const params = parseParams(strArg(args, 'params'));
  const repeat = Math.max(1, Math.round(numArg(args, 'repeat', 10)));

  const nmtt = require('node-moving-things-tracker/tracker') as NmttTracker;

  console.log(`MOT15, ${SEQUENCES.length} sequences from ${assets}`);
  console.log(`ours: defaults${Object.keys(params).length ? ' + ' + JSON.stringify(params) : ''} = ${JSON.stringify(resolveTrackerOptions(params))}`);
  console.log('');
  const head = 'sequence        |   ours: MOTA  IDF1 IDsw |   SORT: MOTA  IDF1 IDsw |   nmtt: MOTA  IDF1 IDsw | ms/frame ours   nmtt';
  console.log(head);
  console.log('-'.repeat(head.length));
  const sums: Record<'ours' | 'sort' | 'nmtt' | 'nmttOnline', MotCounts[]> = { ours: [], sort: [], nmtt: [], nmttOnline: [] };
  let oursMs = 0;
  let oursFrames = 0;
  let nmttMs = 0;
  let nmttFrames = 0;
  const cell = (m: MotMetrics) => `${pct(m.mota)} ${pct(m.idf1)} ${String(m.numSwitches).padStart(4)}`;
  for (const seq of SEQUENCES) {
    const dir = path.join(assets, 'mot15', seq);
    const info = parseSeqInfo(fs.readFileSync(path.join(dir, 'seqinfo.ini'), 'utf8'));
    const fps = info.frameRate ?? 30;
    const det = parseMot(fs.readFileSync(path.join(dir, 'det', 'det.txt'), 'utf8'), `${seq} det.txt`);
    const gt = parseMot(fs.readFileSync(path.join(dir, 'gt', 'gt.txt'), 'utf8'), `${seq} gt.txt`);
    const sortRows = parseMot(fs.readFileSync(path.join(assets, 'mot15-reference', 'sort-output', seq + '.txt'), 'utf8'));
    const seqLength = Math.max(info.seqLength ?? 0, ...det.map((r) => r.frame));

    // Warm-up (JIT) for both, then timed passes alternating the order.
    let ours = runOurs(det, fps, seqLength, params);
    let theirs = runNmtt(nmtt, det);
    let oMs = 0;
    let nMs = 0;
    for (let k = 0; k < repeat; k++) {
      if (k % 2 === 0) {
        ours = runOurs(det, fps, seqLength, params);
        theirs = runNmtt(nmtt, det);
      } else {
        theirs = runNmtt(nmtt, det);
        ours = runOurs(det, fps, seqLength, params);
      }
      oMs += ours.ms;
      nMs += theirs.ms;
    }
    oursMs += oMs;
    oursFrames += ours.frames * repeat;
    nmttMs += nMs;
    nmttFrames += theirs.frames * repeat;
    const cO = accumulate(gt, ours.rows);
    const cS = accumulate(gt, sortRows);
    const cN = accumulate(gt, theirs.rows);
    sums.ours.push(cO);
    sums.sort.push(cS);
    sums.nmtt.push(cN);
    sums.nmttOnline.push(accumulate(gt, theirs.online));
    console.log(
      `${seq.padEnd(15)} | ${cell(metricsFrom(cO)).padStart(22)} | ${cell(metricsFrom(cS)).padStart(22)} | ${cell(metricsFrom(cN)).padStart(22)} | ` +
        `${(oMs / (ours.frames * repeat)).toFixed(3).padStart(13)} ${(nMs / (theirs.frames * repeat)).toFixed(3).padStart(6)}`,
    );
  }
  console.log('-'.repeat(head.length));
  const o = metricsFrom(sumCounts(sums.ours));
  const s = metricsFrom(sumCounts(sums.sort));
  const n = metricsFrom(sumCounts(sums.nmtt));
  console.log(
    `${'OVERALL'.padEnd(15)} | ${cell(o).padStart(22)} | ${cell(s).padStart(22)} | ${cell(n).padStart(22)} | ` +
      `${(oursMs / oursFrames).toFixed(3).padStart(13)} ${(nmttMs / nmttFrames).toFixed(3).padStart(6)}`,
  );
  const on = metricsFrom(sumCounts(sums.nmttOnline));
  console.log('');
  console.log('OVERALL is computed from FP, FN, ID switches, GT and IDTP summed over the six sequences (as py-motmetrics');
  console.log('does), not by averaging the per-sequence percentages.');
  console.log(
    `nmtt without its offline "drop trajectories under 10 rows" filter: MOTA ${pct(on.mota).trim()} IDF1 ${pct(on.idf1).trim()} IDsw ${on.numSwitches}`,
  );
  console.log(
    `ours vs SORT: MOTA ${(100 * (o.mota - s.mota)).toFixed(1)} pts, IDF1 ${(100 * (o.idf1 - s.idf1)).toFixed(1)} pts; ` +
      `vs nmtt: MOTA ${(100 * (o.mota - n.mota)).toFixed(1)} pts, IDF1 ${(100 * (o.idf1 - n.idf1)).toFixed(1)} pts; ` +
      `time per frame ours/nmtt = ${(oursMs / oursFrames / (nmttMs / nmttFrames)).toFixed(2)}`,
  );
  console.log(
    `FP/FN/IDsw/GT summed — ours ${o.numFalsePositives}/${o.numMisses}/${o.numSwitches}/${o.numObjects}, SORT ${s.numFalsePositives}/${s.numMisses}/${s.numSwitches}/${s.numObjects}, nmtt ${n.numFalsePositives}/${n.numMisses}/${n.numSwitches}/${n.numObjects}`,
  );
  return 0;
}
