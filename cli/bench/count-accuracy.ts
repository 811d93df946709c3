/**
 * `edgevision bench count-accuracy`: per line and overall, gt crossings vs. crossings counted from
 * a tracker's output on the shared MOT15 sequences, with the default rules. Lines come from
 * test/fixtures/lines/<SEQ>.json. Prints figures; the e2e test asserts the target.
 *
 *   --tracks-dir DIR   one <SEQ>.txt per sequence (default: SORT's output in the assets folder)
 *   --assets DIR       the shared assets folder (default: $EDGEVISION_ASSETS, else ../shared/assets)
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs, strArg } from '../args';
import { packageRoot } from '../../nodes/lib/assets';
import { compareCounts, LineAccuracy, parseMotTracks, relativeError } from '../../nodes/lib/counting';

export const usage = 'usage: edgevision bench count-accuracy [--tracks-dir DIR] [--assets DIR] [--<counting option> V]';

export function seqInfo(dir: string): { width: number; height: number; fps: number } {
  const ini = fs.readFileSync(path.join(dir, 'seqinfo.ini'), 'utf8');
  const num = (k: string) => Number(new RegExp(`^${k}=(\\S+)`, 'm').exec(ini)?.[1]);
  return { width: num('imWidth'), height: num('imHeight'), fps: num('frameRate') };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const root = packageRoot();
  const assets = strArg(args, 'assets') ?? process.env.EDGEVISION_ASSETS ?? path.resolve(root, '..', 'shared', 'assets');
  const tracksDir = strArg(args, 'tracks-dir') ?? path.join(assets, 'mot15-reference', 'sort-output');
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) if (k !== '_' && k !== 'assets' && k !== 'tracks-dir') options[k] = v;
  const linesDir = path.join(root, 'test', 'fixtures', 'lines');
  const all: LineAccuracy[] = [];
  console.log(`tracks: ${tracksDir}`);
  console.log('sequence        line      gt in/out   tracked in/out   |err|');
  for (const f of fs.readdirSync(linesDir).filter((n) => n.endsWith('.json')).sort()) {
    const seq = f.slice(0, -5);
    const seqDir = path.join(assets, 'mot15', seq);
    const trk = path.join(tracksDir, seq + '.txt');
    if (!fs.existsSync(seqDir) || !fs.existsSync(trk)) {
      console.log(`${seq.padEnd(15)} (skipped: no ${fs.existsSync(seqDir) ? trk : seqDir})`);
      continue;
    }
    const { width, height, fps } = seqInfo(seqDir);
    const gt = parseMotTracks(fs.readFileSync(path.join(seqDir, 'gt', 'gt.txt'), 'utf8'), { gt: true });
    const tr = parseMotTracks(fs.readFileSync(trk, 'utf8'));
    const rows = compareCounts(gt, tr, JSON.parse(fs.readFileSync(path.join(linesDir, f), 'utf8')), width, height, fps, options);
    for (const r of rows) {
      console.log(`${seq.padEnd(15)} ${r.line.padEnd(8)} ${String(r.gtIn).padStart(5)}/${String(r.gtOut).padEnd(5)} ${String(r.in).padStart(8)}/${String(r.out).padEnd(8)} ${String(r.absError).padStart(5)}`);
    }
    const e = rows.reduce((s, r) => s + r.absError, 0);
    const t = rows.reduce((s, r) => s + r.gtTotal, 0);
    console.log(`${seq.padEnd(15)} ${'(all)'.padEnd(8)} error ${e}/${t} = ${(100 * relativeError(rows)).toFixed(1)} %`);
    all.push(...rows);
  }
  const e = all.reduce((s, r) => s + r.absError, 0);
  const t = all.reduce((s, r) => s + r.gtTotal, 0);
  console.log(`overall: total absolute error ${e} / gt crossings ${t} = ${(100 * relativeError(all)).toFixed(1)} %`);
  return 0;
}
