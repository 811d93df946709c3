/** `edgevision frames <source>`: decode a camera or file and report frame count, size and timing. */
import { parseArgs, numArg } from '../args';
import { readFrames } from '../../nodes/lib/video/ffmpeg-source';

export const usage = [
  'usage: edgevision frames <source> [--fps N] [--max N] [--max-width W] [--realtime] [--json]',
  '',
  '  <source>  a video file, rtsp://…, http(s)://… or /dev/videoN',
  '  --fps N   output frame-rate limit        --max N   stop after N frames',
  '  --json    one JSON line per frame, then a summary line',
].join('\n');

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json', 'realtime']);
  const url = args._[0];
  if (!url) {
    console.error(usage);
    return 2;
  }
  const json = args.json === true;
  const max = args.max !== undefined ? numArg(args, 'max', 0) : undefined;
  const t0 = process.hrtime.bigint();
  let n = 0;
  let first: { width: number; height: number } | null = null;
  let lastT = 0;
  for await (const f of readFrames({
    url,
    fps: numArg(args, 'fps', 0),
    maxWidth: numArg(args, 'max-width', 0),
    realtime: args.realtime === true,
    loop: false,
    maxFrames: max,
  })) {
    if (!first) first = { width: f.width, height: f.height };
    lastT = f.tMs;
    n++;
    if (json) console.log(JSON.stringify({ frame: f.index, width: f.width, height: f.height, tMs: Math.round(f.tMs * 1000) / 1000 }));
  }
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const summary = {
    source: url,
    frames: n,
    width: first?.width ?? 0,
    height: first?.height ?? 0,
    lastFrameTMs: Math.round(lastT * 1000) / 1000,
    wallS: Math.round(wallS * 1000) / 1000,
    decodeFps: Math.round((n / wallS) * 10) / 10,
  };
  if (json) console.log(JSON.stringify(summary));
  else
    console.log(
      `${summary.frames} frames, ${summary.width}×${summary.height}, media time ${(summary.lastFrameTMs / 1000).toFixed(2)} s, decoded in ${summary.wallS} s (${summary.decodeFps} fps)`,
    );
  return 0;
}
