/**
 * `edgevision run`: a recording through the whole node pipeline without Node-RED — decoding as
 * vision-camera-source does it (ffmpeg, realtime off) → vision-detect → vision-track →
 * vision-line-count (→ vision-productivity-state with --stations), each with its node's default
 * settings — and the final counts. Integrators use it to check a line on a recording before deploying it.
 */
import * as fs from 'fs';
import { assetArg, parseArgs, numArg, strArg, optionArgs } from '../args';
import { runRecording } from '../../nodes/lib/eval/pipeline';
import { VISION_TRACK_DEFAULTS } from '../../nodes/lib/tracking/tracker';
import { VisionEvent } from '../../nodes/lib/types';
import { OverlayFrame, ViewGeometry, parseViewGeometry } from '../../nodes/lib/view/overlay';
import { VideoWriter } from '../../nodes/lib/video/ffmpeg-sink';
import { overlaid } from '../../nodes/lib/view/render';
import { DEFAULT_OPTIONS } from '../../nodes/lib/counting/config';
import { resolveMotionOptions } from '../../nodes/lib/detect/motion';

export const usage = [
  'usage: edgevision run --source <video> --model <onnx|manifest name> --lines lines.json [--stations stations.json] [--fps N] [--events] [--annotate out.mp4] [--json]',
  '',
  '  --source FILE      a recording (anything ffmpeg reads), decoded frame by frame as fast as it goes; vtest: the demo clip',
  '  --model M          detection model: an .onnx file or a manifest name (yolox_nano)',
  '  --user-dir DIR     where fetch-assets put vtest and yolox_nano: DIR/edgevision (default ~/.node-red)',
  '  --lines FILE       line-count geometry {"lines":[{"name","start":[x,y],"end":[x,y]}],"zones":[…]}, normalised 0..1',
  '  --stations FILE    productivity-state stations {"zones":[{"name","polygon":[[x,y],…]}]}: adds per-station working/idle/absent',
  '  --fps N            sample at most N frames per second (default: every frame)',
  '  --providers LIST   auto (default: what this machine has) or providers in order, e.g. cuda,cpu',
  '  --threads N        ONNX Runtime intra-op threads (default 0 = one per core)',
  "  --tracker JSON     tracker options over the vision-track node's defaults, e.g. '{\"lostBufferS\":3}'",
  '  --events           list every crossing, zone enter/exit and alarm with its time in the recording and its track',
  '  --annotate FILE    write the recording with the lines, zones, stations, tracked boxes and running counts drawn',
  '                     on it (as vision-view draws them), to scrub through and check each count; format from the',
  '                     extension (.mp4, .mkv, .avi, …)',
  '  --motion [JSON]    motion-gated detection as vision-detect does it (off by default): frames where nothing moved',
  '                     since the last detection skip the detector, e.g. \'{"maxSkipS":1,"threshold":12,"minArea":0.002}\'',
  '  --json             print {"counts":{"<line>":{"in":N,"out":M}},"stations":{"<station>":{working_s,idle_s,absent_s,utilisation,units}}}',
  '                     (with --events also "events":[{"t_s","frame","event","line"|"zone","direction","trackId","class",…}])',
  "  --<option> V       any counting option over the line-count node's defaults (minFrames, minDistance, relinkS, …)",
].join('\n');

const OWN = new Set([
  '_',
  'source',
  'model',
  'user-dir',
  'lines',
  'stations',
  'fps',
  'providers',
  'threads',
  'tracker',
  'json',
  'help',
  'events',
  'annotate',
  'motion',
]);

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

/** One event as `--events` reports it: time in the recording (s), 0-based frame index, and the event's own fields. */
interface RunEvent {
  t_s: number;
  frame: number;
  [key: string]: unknown;
}

function runEvent(e: VisionEvent, frame: number, firstMs: number): RunEvent {
  const { tMs, camera: _camera, ...rest } = e;
  return { t_s: r3(((tMs as number) - firstMs) / 1000), frame, ...rest };
}

function eventLine(e: RunEvent): string {
  const where = String(e.line ?? e.zone ?? '');
  const what =
    e.event === 'line-crossing'
      ? String(e.direction)
      : e.event === 'zone-alarm'
        ? String(e.state)
        : e.event === 'zone-exit'
          ? `dwell ${r3(Number(e.dwellMs) / 1000)} s`
          : '';
  const who = e.trackId !== undefined ? `track ${e.trackId}` : `occupancy ${e.occupancy}`;
  return `${e.t_s.toFixed(3).padStart(9)} s  frame ${String(e.frame).padStart(6)}  ${String(e.event).padEnd(13)}  ${where.padEnd(16)} ${what.padEnd(14)} ${who}${e.class !== undefined ? `  ${e.class}` : ''}`;
}

/**
 * `--annotate`: each frame with vision-view's overlay, encoded with ffmpeg. The writer starts on the
 * second frame, when the recording's frame rate is known from the frame times.
 */
class Annotator {
  private writer: VideoWriter | null = null;
  private first: { rgb: Buffer; tMs: number; width: number; height: number } | null = null;
  private startMs = NaN;

  constructor(
    private readonly file: string,
    private readonly geometry: ViewGeometry,
  ) {}

  async frame(rgb: Uint8Array, width: number, height: number, tMs: number, overlay: OverlayFrame): Promise<void> {
    if (Number.isNaN(this.startMs)) this.startMs = tMs;
    const ref = { camera: '', seq: 0, tMs, width, height, format: 'rgb24' as const };
    const px = await overlaid(rgb, ref, width, height, overlay, this.geometry, { caption: `t ${((tMs - this.startMs) / 1000).toFixed(2)} s` });
    if (!this.writer && !this.first) {
      this.first = { rgb: px, tMs, width, height };
      return;
    }
    if (!this.writer) await this.open(tMs - this.first!.tMs);
    await this.writer!.write(px);
  }

  async close(): Promise<void> {
    if (!this.writer && this.first) await this.open(0); // a one-frame recording
    await this.writer?.close();
  }

  abort(): void {
    this.writer?.abort();
  }

  private async open(dtMs: number): Promise<void> {
    const f = this.first!;
    const fps = dtMs > 0 ? Math.round(100000 / dtMs) / 100 : 25;
    this.writer = new VideoWriter({ file: this.file, width: f.width, height: f.height, fps });
    await this.writer.write(f.rgb);
    this.first = null;
  }
}

export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs(argv, ['json', 'help', 'events']);
    if (args.help === true) {
      console.log(usage);
      return 0;
    }
    const sourceArg = strArg(args, 'source');
    const modelArg = strArg(args, 'model');
    const lines = strArg(args, 'lines');
    if (!sourceArg || !modelArg || !lines) {
      console.error('edgevision run: --source, --model and --lines are required\n\n' + usage);
      return 2;
    }
    const source = assetArg(sourceArg, args);
    const model = assetArg(modelArg, args);
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
    const counting = optionArgs(args, DEFAULT_OPTIONS, OWN);
    const geometry = readJson(lines, 'lines');
    const stations = stationsFile ? readJson(stationsFile, 'stations') : undefined;
    const wantEvents = args.events === true;
    const annotateFile = strArg(args, 'annotate');
    const annotator = annotateFile ? new Annotator(annotateFile, parseViewGeometry(geometry, stations)) : null;
    const events: RunEvent[] = [];
    let firstMs = NaN;
    let lastIndex = 0;
    let motionStats: { detected: number; skipped: number } | null = null;
    let r;
    try {
      r = await runRecording({
        source,
        model,
        fps: fps > 0 ? fps : undefined,
        providers: strArg(args, 'providers'),
        threads: numArg(args, 'threads', 0),
        geometry,
        counting,
        tracker: tracker ? { ...VISION_TRACK_DEFAULTS, ...tracker } : undefined,
        stations,
        motion: args.motion === undefined ? undefined : args.motion === true ? {} : resolveMotionOptions(JSON.parse(String(args.motion))),
        onMotion: (m) => {
          motionStats = m;
        },
        onFrame: async (index, tMs, step, _raw, frame, pipeline) => {
          if (Number.isNaN(firstMs)) firstMs = tMs;
          lastIndex = index;
          if (wantEvents) for (const e of step.counter.events) events.push(runEvent(e, index, firstMs));
          if (annotator) {
            const overlay = {
              camera: '',
              width: frame.width,
              height: frame.height,
              detections: step.detections,
              counts: step.counter.counts,
              zones: step.counter.zones,
              stations: pipeline.stationStates(),
            };
            await annotator.frame(frame.data, frame.width, frame.height, tMs, overlay);
          }
        },
      });
      await annotator?.close();
    } catch (e) {
      annotator?.abort();
      throw e;
    }
    if (wantEvents) for (const e of r.endEvents) events.push(runEvent(e, lastIndex, firstMs));
    const out: Record<string, unknown> = { counts: r.counts };
    if (r.stations) out.stations = r.stations;
    if (wantEvents) out.events = events;
    if (motionStats) out.motion = motionStats;
    if (args.json === true) {
      console.log(JSON.stringify(out));
      return 0;
    }
    const ms = motionStats as { detected: number; skipped: number } | null;
    console.log(`${r.frames} frames, ${r3((r.lastMs - r.firstMs) / 1000)} s${ms ? `; motion gating: ${ms.detected} detected, ${ms.skipped} skipped` : ''}`);
    for (const [name, c] of Object.entries(r.counts)) console.log(`${name.padEnd(16)} in ${String(c.in).padStart(5)}  out ${String(c.out).padStart(5)}`);
    for (const [name, s] of Object.entries(r.stations ?? {})) {
      console.log(`${name.padEnd(16)} working ${s.working_s} s  idle ${s.idle_s} s  absent ${s.absent_s} s  utilisation ${s.utilisation} %  units ${s.units}`);
    }
    if (wantEvents) {
      console.log(`\n${events.length} events:`);
      for (const e of events) console.log(eventLine(e));
    }
    if (annotateFile) console.log(`annotated video: ${annotateFile}`);
    return 0;
  } catch (e) {
    console.error(`edgevision run: ${(e as Error).message}`);
    return 1;
  }
}
