/**
 * `edgevision track`: runs the tracker on a MOTChallenge detection file and writes a MOTChallenge
 * result file (`frame,id,x,y,w,h,score,-1,-1,-1`, confirmed tracks only, their current box).
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs, numArg, strArg } from '../args';
import { parseMot, parseSeqInfo, formatResultRow } from '../../nodes/lib/eval/mot/io';
import { replayMot } from '../../nodes/lib/eval/mot/replay';
import { resolveTrackerOptions, TrackerOptionsInput } from '../../nodes/lib/tracking/tracker';

export const usage = [
  'usage: edgevision track --det det.txt --out res.txt [--fps N] [--params JSON]',
  '',
  '  --det FILE     MOTChallenge detections (frame,-1,left,top,width,height,score,...)',
  '  --out FILE     result file to write (frame,id,left,top,width,height,score,-1,-1,-1)',
  '  --fps N        frame rate; default: frameRate from seqinfo.ini beside det/, else 30',
  '  --params JSON  tracker options, e.g. \'{"lostBufferS":2,"minHits":3}\' (see docs/nodes/track.md)',
].join('\n');

/** Frame rate and length from <seq>/seqinfo.ini when det.txt sits in <seq>/det/. */
export function seqInfoFor(detFile: string): { fps?: number; seqLength?: number } {
  const ini = path.join(path.dirname(path.resolve(detFile)), '..', 'seqinfo.ini');
  if (!fs.existsSync(ini)) return {};
  const info = parseSeqInfo(fs.readFileSync(ini, 'utf8'));
  return { fps: info.frameRate, seqLength: info.seqLength };
}

export function parseParams(text: string | undefined): TrackerOptionsInput {
  if (text === undefined) return {};
  let p: unknown;
  try {
    p = JSON.parse(text);
  } catch (e) {
    throw new Error(`--params is not JSON: ${(e as Error).message}`);
  }
  if (!p || typeof p !== 'object' || Array.isArray(p)) throw new Error('--params must be a JSON object of tracker options');
  resolveTrackerOptions(p as TrackerOptionsInput); // fail early, naming the bad option
  return p as TrackerOptionsInput;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const det = strArg(args, 'det');
  const out = strArg(args, 'out');
  if (!det || !out) {
    console.error(usage);
    return 2;
  }
  if (!fs.existsSync(det)) throw new Error(`--det ${det}: no such file`);
  const info = seqInfoFor(det);
  const fps = numArg(args, 'fps', info.fps ?? 30);
  if (!(fps > 0)) throw new Error(`--fps must be positive, got ${fps}`);
  if (args.fps === undefined && info.fps === undefined) console.error('edgevision track: no --fps and no seqinfo.ini beside det/; assuming 30 fps');
  const params = parseParams(strArg(args, 'params'));
  const rows = parseMot(fs.readFileSync(det, 'utf8'), det);
  const res = replayMot(rows, { fps, seqLength: info.seqLength, tracker: params });
  const text = res.rows.map((r) => formatResultRow(r.frame, r.id, r.box, r.conf)).join('\n');
  fs.writeFileSync(out, text ? text + '\n' : '');
  console.log(`${res.frames} frames, ${res.tracksStarted} tracks, ${res.rows.length} rows → ${out}`);
  return 0;
}
