/**
 * `edgevision count`: counts line crossings in a MOTChallenge track file with the line-count
 * node's engine and default rules — for checking a line on a recorded tracker output.
 */
import * as fs from 'fs';
import { parseArgs, numArg, strArg, optionArgs } from '../args';
import { parseMotTracks, countMotTracks } from '../../nodes/lib/eval';
import { DEFAULT_OPTIONS } from '../../nodes/lib/counting/config';

export const usage = [
  'usage: edgevision count --tracks res.txt --lines lines.json --width W --height H [--fps N] [--gt] [--json]',
  '',
  '  --tracks FILE   MOTChallenge track file: frame,id,x,y,w,h,conf,… (tracker output or gt)',
  '  --lines FILE    geometry JSON {"lines":[{"name","start":[x,y],"end":[x,y]}]}, normalised 0..1',
  '  --width W, --height H   frame size in pixels',
  '  --fps N         frame rate, for the time-based rules (cooldown, re-link, timeout); default 25',
  '  --gt            the file is ground truth: skip rows flagged 0 and turn re-link off (gt ids do not switch)',
  '  --json          print {"counts":{"<line>":{"in":N,"out":M}}}',
  '  --<option> V    any counting option (anchor, mode, minFrames, minDistance, cooldownS, relinkS, …)',
].join('\n');

const OWN = new Set(['tracks', 'lines', 'width', 'height', 'fps', 'gt', 'json', '_']);

export async function run(argv: string[]): Promise<number> {
  try {
    const args = parseArgs(argv, ['gt', 'json']);
    const tracks = strArg(args, 'tracks');
    const lines = strArg(args, 'lines');
    if (!tracks || !lines) {
      console.error('edgevision count: --tracks and --lines are required\n\n' + usage);
      return 2;
    }
    const width = numArg(args, 'width', NaN);
    const height = numArg(args, 'height', NaN);
    if (!(width > 0) || !(height > 0)) {
      console.error('edgevision count: --width and --height (frame size in pixels) are required');
      return 2;
    }
    const fps = numArg(args, 'fps', 25);
    const gt = args.gt === true;
    const options = optionArgs(args, DEFAULT_OPTIONS, OWN);
    if (gt && options.relinkS === undefined) options.relinkS = 0;
    const file = parseMotTracks(fs.readFileSync(tracks, 'utf8'), { gt });
    const geometry = JSON.parse(fs.readFileSync(lines, 'utf8'));
    const r = countMotTracks(file, { geometry, width, height, fps, counting: options });
    if (args.json === true) {
      console.log(JSON.stringify({ counts: r.counts }));
    } else {
      console.log(`${file.rows} rows, ${file.lastFrame} frames`);
      for (const [name, c] of Object.entries(r.counts)) console.log(`${name.padEnd(16)} in ${String(c.in).padStart(5)}  out ${String(c.out).padStart(5)}`);
    }
    return 0;
  } catch (e) {
    console.error(`edgevision count: ${(e as Error).message}`);
    return 1;
  }
}
