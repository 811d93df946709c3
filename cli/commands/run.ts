/**
 * `edgevision run`: a recording through the whole node pipeline without Node-RED — decoding as
 * vision-camera-source does it (ffmpeg, realtime off) → vision-detect → vision-track →
 * vision-line-count (→ vision-productivity-state with --stations), each with its node's default
 * settings — and the final counts. Integrators use it to check a line on a recording before deploying it.
 */
import * as fs from 'fs';
import { parseArgs, numArg, strArg } from '../args';
import { runRecording } from '../../nodes/lib/pipeline';
import { VISION_TRACK_DEFAULTS } from '../../nodes/lib/tracking/tracker';

export const usage = [
  'usage: edgevision run --source <video> --model <onnx|manifest name> --lines lines.json [--stations stations.json] [--fps N] [--json]',
  '',
  '  --source FILE      a recording (anything ffmpeg reads), decoded frame by frame as fast as it goes',
  '  --model M          detection model: an .onnx file or a manifest name (yolox_nano)',
  '  --lines FILE       line-count geometry {"lines":[{"name","start":[x,y],"end":[x,y]}],"zones":[…]}, normalised 0..1',
  '  --stations FILE    productivity-state stations {"zones":[{"name","polygon":[[x,y],…]}]}: adds per-station working/idle/absent',
  '  --fps N            sample at most N frames per second (default: every frame)',
  '  --providers LIST   execution providers in order, e.g. cuda,cpu (default cpu)',
  '  --threads N        ONNX Runtime intra-op threads (default 0 = one per core)',
  '  --tracker JSON     tracker options over the vision-track node\'s defaults, e.g. \'{"lostBufferS":3}\'',
  '  --json             print {"counts":{"<line>":{"in":N,"out":M}},"stations":{"<station>":{working_s,idle_s,absent_s,utilisation,units}}}',
  '  --<option> V       any counting option over the line-count node\'s defaults (minFrames, minDistance, relinkS, …)',
].join('\n');

const OWN = new Set(['_', 'source', 'model', 'lines', 'stations', 'fps', 'providers', 'threads', 'tracker', 'json', 'help']);

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the ${what} file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`the ${what} file ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;

export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs(argv, ['json', 'help']);
    if (args.help === true) {
      console.log(usage);
      return 0;
    }
    const source = strArg(args, 'source');
    const model = strArg(args, 'model');
    const lines = strArg(args, 'lines');
    if (!source || !model || !lines) {
      console.error('edgevision run: --source, --model and --lines are required\n\n' + usage);
      return 2;
    }
    if (!fs.existsSync(source)) throw new Error(`no such source file: ${source}`);
    const stationsFile = strArg(args, 'stations');
    const fps = numArg(args, 'fps', 0);
    if (fps < 0) throw new Error(`--fps must be > 0, got ${fps}`);
    const trackerText = strArg(args, 'tracker');
    let tracker: Record<string, unknown> | undefined;
    if (trackerText) {
      try {
        tracker = JSON.parse(trackerText);
      } catch (e) {
        throw new Error(`--tracker is not valid JSON: ${(e as Error).message}`);
      }
    }
    const counting: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(args)) if (!OWN.has(k)) counting[k] = v;
    const r = await runRecording({
      source,
      model,
      fps: fps > 0 ? fps : undefined,
      providers: strArg(args, 'providers'),
      threads: numArg(args, 'threads', 0),
      geometry: readJson(lines, 'lines'),
      counting,
      tracker: tracker ? { ...VISION_TRACK_DEFAULTS, ...tracker } : undefined,
      stations: stationsFile ? readJson(stationsFile, 'stations') : undefined,
    });
    const out: Record<string, unknown> = { counts: r.counts };
    if (r.stations) out.stations = r.stations;
    if (args.json === true) {
      console.log(JSON.stringify(out));
      return 0;
    }
    console.log(`${r.frames} frames, ${r3((r.lastMs - r.firstMs) / 1000)} s`);
    for (const [name, c] of Object.entries(r.counts)) console.log(`${name.padEnd(16)} in ${String(c.in).padStart(5)}  out ${String(c.out).padStart(5)}`);
    for (const [name, s] of Object.entries(r.stations ?? {})) {
      console.log(`${name.padEnd(16)} working ${s.working_s} s  idle ${s.idle_s} s  absent ${s.absent_s} s  utilisation ${s.utilisation} %  units ${s.units}`);
    }
    return 0;
  } catch (e) {
    console.error(`edgevision run: ${(e as Error).message}`);
    return 1;
  }
}
