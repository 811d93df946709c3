/**
 * `edgevision mot-eval`: CLEAR-MOT and identity metrics of a MOTChallenge result file against its
 * ground truth, computed as py-motmetrics does (IoU ≥ 0.5, gt rows flagged 0 ignored).
 */
import * as fs from 'fs';
import { parseArgs, numArg, strArg } from '../args';
import { parseMot } from '../../nodes/lib/eval/mot/io';
import { evaluate, MotMetrics } from '../../nodes/lib/eval/mot/evaluate';

export const usage = [
  'usage: edgevision mot-eval --gt gt.txt --res res.txt [--json] [--iou 0.5]',
  '',
  '  --gt FILE    ground truth (frame,id,left,top,width,height,flag,...); rows with flag 0 are ignored',
  '  --res FILE   tracker result (frame,id,left,top,width,height,...)',
  '  --json       print all figures as one JSON object',
  '  --iou X      minimum IoU for a match (default 0.5)',
].join('\n');

const pct = (v: number) => (Number.isFinite(v) ? (100 * v).toFixed(1) + '%' : '-');

export function formatMetrics(name: string, m: MotMetrics, header = true): string {
  const cols: Array<[string, string]> = [
    ['MOTA', pct(m.mota)],
    ['MOTP', Number.isFinite(m.motp) ? m.motp.toFixed(3) : '-'],
    ['IDF1', pct(m.idf1)],
    ['IDP', pct(m.idp)],
    ['IDR', pct(m.idr)],
    ['Rcll', pct(m.recall)],
    ['Prcn', pct(m.precision)],
    ['FP', String(m.numFalsePositives)],
    ['FN', String(m.numMisses)],
    ['IDsw', String(m.numSwitches)],
    ['FM', String(m.numFragmentations)],
    ['GT', String(m.numUniqueObjects)],
    ['MT', String(m.mostlyTracked)],
    ['PT', String(m.partiallyTracked)],
    ['ML', String(m.mostlyLost)],
  ];
  const w = cols.map(([h, v]) => Math.max(h.length, v.length));
  const line = (xs: string[]) => xs.map((x, i) => x.padStart(w[i])).join(' ');
  const rows = [];
  if (header) rows.push(''.padEnd(16) + ' ' + line(cols.map((c) => c[0])));
  rows.push(name.padEnd(16) + ' ' + line(cols.map((c) => c[1])));
  return rows.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  const gt = strArg(args, 'gt');
  const res = strArg(args, 'res');
  if (!gt || !res) {
    console.error(usage);
    return 2;
  }
  const iouThreshold = numArg(args, 'iou', 0.5);
  if (!(iouThreshold > 0 && iouThreshold <= 1)) throw new Error(`--iou must be in (0, 1], got ${iouThreshold}`);
  const m = evaluate(parseMot(fs.readFileSync(gt, 'utf8'), gt), parseMot(fs.readFileSync(res, 'utf8'), res), { iouThreshold });
  if (args.json) console.log(JSON.stringify(m, null, 2));
  else console.log(formatMetrics(res.replace(/^.*[\\/]/, ''), m));
  return 0;
}
