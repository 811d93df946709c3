/**
 * `edgevision bench ingest`: what a decoded frame costs the JavaScript main thread on its way from
 * ffmpeg into the frame store, read path by read path, in one run (so the ratios hold on a loaded
 * machine). Each camera is an FfmpegSource on the same file at full speed, putting every frame into a
 * FrameStore of 8 frames per camera as vision-camera-source does (pooled buffers go back to their
 * pool as frames leave the ring). Per frame: main-thread busy time (event-loop utilisation), the
 * garbage collector's pause time (perf_hooks 'gc' entries) and its share of the busy time, and the
 * process's CPU (all its threads; ffmpeg's own CPU is not counted). Prints figures; asserts nothing.
 *
 * Paths: legacy (a new buffer per frame filled from the pipe's 64 KiB chunks: what ran before),
 * pipe (pooled buffers, chunks copied in), socket (pooled buffers, read straight into them: the
 * default). `socket@W` also has ffmpeg scale frames to at most W pixels wide (camera-source's
 * maximum width), what a camera that only feeds a 416-pixel detector needs.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { PerformanceObserver, performance } from 'perf_hooks';
import { parseArgs, numArg, strArg } from '../args';
import { FfmpegSource, IngestMode } from '../../nodes/lib/video/ffmpeg-source';
import { FrameStore } from '../../nodes/lib/frame-store';
import { resolveFfmpeg } from '../../nodes/lib/video/ffmpeg-args';
import { letterboxAuto } from '../../nodes/lib/detect/letterbox-wasm';
import { DEFAULT_PREPROCESS, PreprocessOptions } from '../../nodes/lib/detect/letterbox';

/** yolox_nano's preprocessing (models/manifest.json): 416×416, BGR, raw 0–255, pad 114, top-left. */
const YOLOX_PREPROCESS: PreprocessOptions = {
  ...DEFAULT_PREPROCESS,
  channelOrder: 'bgr',
  padValue: 114,
  scale: 1,
  mean: [0, 0, 0],
  std: [1, 1, 1],
  align: 'top-left',
};

export const usage = [
  'usage: edgevision bench ingest [--source FILE] [--frames N] [--cameras N] [--paths LIST] [--rounds R]',
  '',
  '  --source FILE   a video (default: an 8 s 1920×1080 testsrc2 H.264 clip made with ffmpeg in a temp folder)',
  '  --frames N      frames per camera and path (default 150)',
  '  --cameras N     sources decoding at once (default 1)',
  '  --paths LIST    read paths, in order (default legacy,pipe,socket,socket@640); @W: ffmpeg scales to ≤ W wide',
  '  --rounds R      run the list R times over (default 2), to see the noise of a busy machine',
  "  --letterbox     also letterbox every frame into yolox_nano's 416×416 input on the main thread, as vision-detect",
  '                  does before each inference: the main-thread cost of a detected frame, decode to tensor',
].join('\n');

interface PathSpec {
  name: string;
  ingest: IngestMode;
  transport: 'socket' | 'pipe';
  maxWidth: number;
}

function parsePath(p: string): PathSpec {
  const [kind, w] = p.split('@');
  const maxWidth = w === undefined ? 0 : Number(w);
  if (!Number.isFinite(maxWidth) || maxWidth < 0) throw new Error(`--paths: bad width in "${p}"`);
  if (kind === 'legacy') return { name: p, ingest: 'legacy', transport: 'pipe', maxWidth };
  if (kind === 'pipe' || kind === 'socket') return { name: p, ingest: 'pooled', transport: kind, maxWidth };
  throw new Error(`--paths: "${p}" is not legacy, pipe or socket (optionally @width)`);
}

interface Result {
  path: string;
  frames: number;
  size: string;
  wallS: number;
  busyMsPerFrame: number;
  gcMsPerFrame: number;
  gcShare: number;
  gcCount: number;
  cpuMsPerFrame: number;
  allocated: number;
}

async function runPath(spec: PathSpec, source: string, frames: number, cameras: number, letterbox: boolean): Promise<Result> {
  const store = new FrameStore({ capacity: 8 });
  const tensor = letterbox ? new Float32Array(3 * 416 * 416) : null;
  let gcMs = 0;
  let gcCount = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      gcCount++;
    }
  });
  if (global.gc) global.gc();
  await new Promise((r) => setTimeout(r, 50));
  obs.observe({ entryTypes: ['gc'] });
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let size = '';
  const sources: FfmpegSource[] = [];
  let total = 0;
  await Promise.all(
    Array.from({ length: cameras }, (_, c) => {
      return new Promise<void>((resolve, reject) => {
        const src = new FfmpegSource({ url: source, realtime: false, loop: true, ingest: spec.ingest, transport: spec.transport, maxWidth: spec.maxWidth });
        sources.push(src);
        let n = 0;
        src.on('frame', (f) => {
          if (n >= frames) return;
          size = `${f.width}×${f.height}`;
          const ref = store.put(`cam${c}`, f.data, f.width, f.height, f.tMs, 'rgb24', undefined, f.release);
          if (tensor) letterboxAuto({ data: store.get(ref)!.data, width: f.width, height: f.height, format: 'rgb24' }, 416, 416, YOLOX_PREPROCESS, tensor, 0);
          n++;
          total++;
          if (n === frames) src.stop().then(() => resolve(), reject);
        });
        src.on('spawn-error', reject);
        src.on('exit', (e) => {
          if (n < frames && !e.requested) reject(new Error(`ffmpeg ended after ${n} frames: ${e.reason}`));
        });
        src.start();
      });
    }),
  );
  const wallMs = performance.now() - t0;
  const elu = performance.eventLoopUtilization(elu0);
  const cpu = process.cpuUsage(cpu0);
  await new Promise((r) => setTimeout(r, 20)); // the last gc entries
  obs.disconnect();
  const allocated = sources.reduce((s, x) => s + x.pool.stats().allocated, 0);
  for (const c of store.cameraIds()) store.release(c);
  return {
    // A socket that could not be made falls back to the pipe: say so.
    path: spec.name + (spec.ingest === 'pooled' && sources[0].path !== spec.transport ? ` (${sources[0].path})` : ''),
    frames: total,
    size,
    wallS: wallMs / 1000,
    busyMsPerFrame: elu.active / total,
    gcMsPerFrame: gcMs / total,
    gcShare: elu.active > 0 ? gcMs / elu.active : 0,
    gcCount,
    cpuMsPerFrame: (cpu.user + cpu.system) / 1000 / total,
    allocated: spec.ingest === 'legacy' ? total : allocated,
  };
}

/** An 8 s 1080p clip, made once per run in a private temp folder. */
function makeClip(dir: string): string {
  const out = path.join(dir, 'testsrc2-1080p.mp4');
  const ff = resolveFfmpeg().path;
  const r = spawnSync(
    ff,
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=1920x1080:rate=15',
      '-t',
      '8',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      '-y',
      out,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  if (r.status !== 0) throw new Error(`cannot make the 1080p test clip: ${r.stderr?.toString().trim() || r.error?.message}`);
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['letterbox']);
  if (args.help) {
    console.log(usage);
    return 0;
  }
  const frames = numArg(args, 'frames', 150);
  const cameras = numArg(args, 'cameras', 1);
  const rounds = numArg(args, 'rounds', 2);
  const letterbox = args.letterbox === true;
  const specs = (strArg(args, 'paths') ?? 'legacy,pipe,socket,socket@640').split(',').map((s) => parsePath(s.trim()));
  let tmp: string | null = null;
  let source = strArg(args, 'source');
  try {
    if (!source) {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'edgevision-ingest-'));
      source = makeClip(tmp);
    }
    console.log(
      `bench ingest: ${source}, ${cameras} camera(s) × ${frames} frames per path, full speed; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs`,
    );
    console.log('path              frame       wall s  main-thread ms/frame  GC ms/frame  GC share  GCs  CPU ms/frame  buffers allocated');
    const all: Result[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const s of specs) {
        const x = await runPath(s, source, frames, cameras, letterbox);
        all.push(x);
        console.log(
          `${x.path.padEnd(17)} ${x.size.padEnd(10)} ${x.wallS.toFixed(1).padStart(6)}  ${x.busyMsPerFrame.toFixed(2).padStart(20)}  ${x.gcMsPerFrame
            .toFixed(2)
            .padStart(
              11,
            )}  ${(100 * x.gcShare).toFixed(0).padStart(6)} %  ${String(x.gcCount).padStart(3)}  ${x.cpuMsPerFrame.toFixed(2).padStart(12)}  ${String(x.allocated).padStart(17)}`,
        );
      }
    }
    // Ratios against the legacy path of the same run (medians over the rounds).
    const median = (v: number[]) => {
      const o = [...v].sort((a, b) => a - b);
      const m = Math.floor(o.length / 2);
      return o.length % 2 ? o[m] : (o[m - 1] + o[m]) / 2;
    };
    const by = (name: string, k: keyof Result) => median(all.filter((x) => x.path.startsWith(name + ' ') || x.path === name).map((x) => x[k] as number));
    const base = specs.find((s) => s.ingest === 'legacy');
    if (base) {
      console.log(`\nmedians, against ${base.name} in this run:`);
      for (const s of specs) {
        const busy = by(s.name, 'busyMsPerFrame');
        console.log(
          `  ${s.name.padEnd(12)} main thread ${busy.toFixed(2)} ms/frame (×${(busy / by(base.name, 'busyMsPerFrame')).toFixed(2)}), GC ${(100 * by(s.name, 'gcShare')).toFixed(0)} % of it, CPU ${by(s.name, 'cpuMsPerFrame').toFixed(2)} ms/frame (×${(by(s.name, 'cpuMsPerFrame') / by(base.name, 'cpuMsPerFrame')).toFixed(2)})`,
        );
      }
    }
    return 0;
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}
