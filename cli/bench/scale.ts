/**
 * `edgevision bench scale`: how many cameras does this machine hold? For each camera count N it
 * starts a fresh Node-RED (a child process, so each N is measured alone) with N vision-camera-source
 * nodes replaying a clip in real time into one vision-detect → vision-track → vision-line-count (or
 * into nothing: --decode-only), lets it settle, then counts for a fixed time: frames each camera
 * decoded and frames that left the last stage, per camera. Prints per-camera fps, drops, the
 * process's CPU (Node-RED and its ffmpeg children, in % of one core), RSS, GPU utilisation where
 * `nvidia-smi` exists, and the largest N whose slowest camera holds the target rate. Prints figures;
 * asserts nothing.
 */
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { setTimeout as sleep } from 'timers/promises';
import { ParsedArgs, parseArgs, numArg, strArg } from '../args';

export const usage = [
  'usage: edgevision bench scale [--cameras 4,6,8] [--fps 7] [--source vtest|1080p|FILE] [--decode-only] [options]',
  '',
  '  Needs the dev dependencies (node-red) and the demo assets (npm run fetch-assets, or $EDGEVISION_ASSETS).',
  '  --cameras LIST   camera counts to try, each in a fresh Node-RED (default 4,6,8)',
  '  --fps F          target rate per camera: the sources are limited to it (default 7; 15 for 1080p)',
  '  --source S       vtest (the demo clip, 768×576), 1080p (a generated 1920×1080 H.264 clip), or a video file',
  '  --decode-only    cameras only, no detection: what decoding alone costs',
  '  --seconds N      measuring time per camera count (default 20); --warmup S before it (default 10)',
  '  --hold R         a camera holds the target when it delivers ≥ R × fps (default 0.93: 6.5 of 7)',
  '  --max-batch N --dynamic-batch --sessions N --batch-wait MS --threads N --providers P',
  '                   vision-model / vision-detect settings (defaults: as a new node: 4, off, 1, 0, 0, auto)',
  '  --hwaccel H      camera-source decoding: none (default), auto, cuda, vaapi, qsv',
].join('\n');

const ROOT = path.join(__dirname, '..', '..', '..');

/** A node of the flow the benchmark deploys: its id and type, and the type's own properties. */
interface FlowNode {
  id: string;
  type: string;
  [prop: string]: unknown;
}

/** What Node-RED's `postDeliver` hook is told about a delivered message (the parts read here). */
interface DeliveryEvent {
  source?: { id: string };
  destination?: { id: string };
  msg?: { topic?: unknown; payload?: { timing?: { batch?: unknown } } };
}

export interface Settings {
  cameras: number;
  fps: number;
  source: string;
  decodeOnly: boolean;
  seconds: number;
  warmup: number;
  maxBatch: number;
  dynamicBatch: boolean;
  sessions: number;
  batchWait: number;
  threads: number;
  providers: string;
  hwaccel: string;
}

export interface PhaseResult {
  cameras: number;
  /** Per camera: frames decoded and frames out of the last stage, per second. */
  decodedFps: number[];
  outFps: number[];
  /** Frames decoded that never left the last stage, in % of the decoded. */
  dropPct: number[];
  /** CPU of Node-RED + its ffmpeg children, % of one core. */
  cpuPct: number;
  cpuNodePct: number;
  rssMiB: number;
  gpuUtilPct: number | null;
  gpuMemMiB: number | null;
  /** Frames per inference run (1 without batching). */
  meanBatch: number;
  provider: string;
}

/** The flow: N sources → detect → track → line-count → a silent debug node (or sources → debug). */
export function scaleFlow(s: Settings, model: string, clip: string): FlowNode[] {
  const z = 'scale-tab';
  const nodes: FlowNode[] = [{ id: z, type: 'tab', label: 'bench scale' }];
  const first = s.decodeOnly ? 'scale-sink' : 'scale-detect';
  for (let i = 0; i < s.cameras; i++) {
    nodes.push({
      id: `scale-cam-${i}`,
      type: 'vision-camera-source',
      z,
      camera: `cam${i + 1}`,
      url: clip,
      fps: s.fps,
      maxWidth: 0,
      realtime: true,
      loop: true,
      autoStart: true,
      reconnect: true,
      hwaccel: s.hwaccel,
      wires: [[first]],
    });
  }
  nodes.push({ id: 'scale-sink', type: 'debug', z, active: false, tosidebar: false, console: false, complete: 'false', wires: [] });
  if (s.decodeOnly) return nodes;
  nodes.push(
    {
      id: 'scale-model',
      type: 'vision-model',
      model,
      format: 'auto',
      providers: s.providers,
      threads: s.threads,
      spinWait: false,
      maxBatch: s.maxBatch,
      dynamicBatch: s.dynamicBatch,
      sessions: s.sessions,
    },
    { id: 'scale-detect', type: 'vision-detect', z, model: 'scale-model', conf: 0.5, classes: 'person', batchWait: s.batchWait, wires: [['scale-track']] },
    { id: 'scale-track', type: 'vision-track', z, minHits: 2, lostBufferS: 2, emit: 'all', wires: [['scale-count'], ['scale-count']] },
    {
      id: 'scale-count',
      type: 'vision-line-count',
      z,
      geometry: JSON.stringify({ lines: [{ name: 'crossing', start: [0.5, 0.3], end: [0.5, 0.85], directions: 'both', classes: ['person'] }] }),
      wires: [['scale-sink'], []],
    },
  );
  return nodes;
}

/** CPU ticks (utime + stime) and RSS (KiB) of a process, from /proc; null when it is gone. */
function procStat(pid: number): { ticks: number; rssKiB: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    const rss = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { ticks, rssKiB: rss ? Number(rss[1]) : 0 };
  } catch {
    return null;
  }
}

function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Ticks of this process and its children now (children by PID, so one that exits mid-way is dropped from both ends). */
function cpuSnapshot(): Map<number, number> {
  const m = new Map<number, number>();
  for (const pid of [process.pid, ...childPids(process.pid)]) {
    const s = procStat(pid);
    if (s) m.set(pid, s.ticks);
  }
  return m;
}

function hasNvidiaSmi(): boolean {
  try {
    execFileSync('nvidia-smi', ['-L'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

function gpuSample(): { util: number; mem: number } | null {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=utilization.gpu,memory.used', '--format=csv,noheader,nounits'], { encoding: 'utf8', timeout: 5000 });
    const [u, m] = out
      .split('\n')[0]
      .split(',')
      .map((x) => Number(x.trim()));
    return Number.isFinite(u) ? { util: u, mem: m } : null;
  } catch {
    return null;
  }
}

/** One camera count, in this process: start Node-RED, settle, measure, stop. */
async function runOne(s: Settings, clip: string, model: string): Promise<PhaseResult> {
  const { startGateway } = require(path.join(ROOT, 'flows', 'gateway.js'));
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-bench-scale-'));
  const flowFile = path.join(userDir, 'scale.json');
  fs.writeFileSync(flowFile, JSON.stringify(scaleFlow(s, model, clip)));
  const gw = await startGateway({
    port: 0,
    userDir,
    flowFile,
    resetFlows: true,
    realtime: true,
    settings: { logging: { console: { level: 'error', metrics: false, audit: false } } },
  });
  const decoded = new Map<string, number>();
  const out = new Map<string, number>();
  let batches = 0;
  let batchFrames = 0;
  const last = s.decodeOnly ? null : 'scale-count';
  gw.RED.hooks.add('postDeliver.bench-scale', (ev: DeliveryEvent) => {
    const src = ev.source?.id;
    const topic = String(ev.msg?.topic ?? '');
    if (src && src.startsWith('scale-cam-')) decoded.set(topic, (decoded.get(topic) ?? 0) + 1);
    if (ev.destination?.id === 'scale-sink' && (last === null || src === last)) out.set(topic, (out.get(topic) ?? 0) + 1);
    if (src === 'scale-detect') {
      const b = ev.msg?.payload?.timing?.batch;
      if (typeof b === 'number') {
        batches += 1 / b;
        batchFrames++;
      }
    }
  });
  const gpu = hasNvidiaSmi();
  try {
    await sleep(s.warmup * 1000);
    const d0 = new Map(decoded);
    const o0 = new Map(out);
    const b0 = [batches, batchFrames];
    const c0 = cpuSnapshot();
    const self0 = procStat(process.pid)!.ticks;
    const t0 = performance.now();
    const gpuSamples: { util: number; mem: number }[] = [];
    const end = t0 + s.seconds * 1000;
    while (performance.now() < end) {
      await sleep(Math.min(1000, end - performance.now()));
      if (gpu) {
        const g = gpuSample();
        if (g) gpuSamples.push(g);
      }
    }
    const secs = (performance.now() - t0) / 1000;
    const c1 = cpuSnapshot();
    let ticks = 0;
    let rssKiB = 0;
    for (const [pid, t] of c1) {
      ticks += t - (c0.get(pid) ?? t);
      rssKiB += procStat(pid)?.rssKiB ?? 0;
    }
    const hz = 100; // USER_HZ on Linux
    const cams = Array.from({ length: s.cameras }, (_, i) => `cam${i + 1}`);
    const decodedFps = cams.map((c) => ((decoded.get(c) ?? 0) - (d0.get(c) ?? 0)) / secs);
    const outFps = cams.map((c) => ((out.get(c) ?? 0) - (o0.get(c) ?? 0)) / secs);
    const dropPct = cams.map((_, i) => (decodedFps[i] > 0 ? Math.max(0, (100 * (decodedFps[i] - outFps[i])) / decodedFps[i]) : 0));
    const detect = gw.RED.nodes.getNode('scale-detect');
    const runs = batches - b0[0];
    return {
      cameras: s.cameras,
      decodedFps,
      outFps,
      dropPct,
      cpuPct: (100 * ticks) / hz / secs,
      cpuNodePct: (100 * (procStat(process.pid)!.ticks - self0)) / hz / secs,
      rssMiB: rssKiB / 1024,
      gpuUtilPct: gpuSamples.length ? gpuSamples.reduce((a, g) => a + g.util, 0) / gpuSamples.length : null,
      gpuMemMiB: gpuSamples.length ? Math.max(...gpuSamples.map((g) => g.mem)) : null,
      meanBatch: runs > 0 ? (batchFrames - b0[1]) / runs : 0,
      provider: detect?.detectStats ? String(detect.detectStats().provider) : '',
    };
  } finally {
    gw.RED.hooks.remove('*.bench-scale');
    await gw.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

/** A 1920×1080 H.264 clip (testsrc2, 10 s at `fps`), made once into the temp folder. */
function make1080p(fps: number): string {
  const file = path.join(os.tmpdir(), `edgevision-bench-1080p-${fps}.mp4`);
  if (fs.existsSync(file) && fs.statSync(file).size > 0) return file;
  const { resolveFfmpeg } = require('../../nodes/lib/video/ffmpeg-args');
  const tmp = `${file}.${process.pid}.mp4`;
  execFileSync(
    resolveFfmpeg().path,
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=1920x1080:rate=${fps}`,
      '-t',
      '10',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-g',
      String(2 * fps),
      '-pix_fmt',
      'yuv420p',
      '-y',
      tmp,
    ],
    { stdio: 'inherit' },
  );
  fs.renameSync(tmp, file);
  return file;
}

function str(args: ParsedArgs, key: string, fallback: string): string {
  return strArg(args, key) ?? fallback;
}

/** argv without `--cameras LIST` (the child is told its one count). */
function withoutCameras(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--cameras') i++;
    else if (!argv[i].startsWith('--cameras=')) out.push(argv[i]);
  }
  return out;
}

function settingsFrom(args: ParsedArgs, cameras: number): Settings {
  const source = str(args, 'source', 'vtest');
  return {
    cameras,
    fps: numArg(args, 'fps', source === '1080p' ? 15 : 7),
    source,
    decodeOnly: !!args['decode-only'],
    seconds: numArg(args, 'seconds', 20),
    warmup: numArg(args, 'warmup', 10),
    maxBatch: numArg(args, 'max-batch', 4),
    dynamicBatch: !!args['dynamic-batch'],
    sessions: numArg(args, 'sessions', 1),
    batchWait: numArg(args, 'batch-wait', 0),
    threads: numArg(args, 'threads', 0),
    providers: str(args, 'providers', 'auto'),
    hwaccel: str(args, 'hwaccel', 'none'),
  };
}

function resolveInputs(s: Settings): { clip: string; model: string } {
  const { resolveAsset } = require('../../nodes/lib/assets');
  const { gatewayUserDir } = require(path.join(ROOT, 'flows', 'gateway.js'));
  const lookup = { userDir: gatewayUserDir() };
  const clip = s.source === 'vtest' ? resolveAsset('vtest', lookup) : s.source === '1080p' ? make1080p(s.fps) : path.resolve(s.source);
  if (!fs.existsSync(clip)) throw new Error(`no such video: ${clip}`);
  return { clip, model: s.decodeOnly ? '' : resolveAsset('yolox_nano', lookup) };
}

const f1 = (v: number) => v.toFixed(1);

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['decode-only', 'dynamic-batch']);
  if (args['run-one']) {
    // The child: one camera count, its result as the last line of stdout.
    const s = settingsFrom(args, numArg(args, 'run-one', 1));
    const { clip, model } = resolveInputs(s);
    const r = await runOne(s, clip, model);
    process.stdout.write(`\nRESULT ${JSON.stringify(r)}\n`);
    return 0;
  }
  const counts = str(args, 'cameras', '4,6,8')
    .split(',')
    .map((x) => Number(x.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
  if (!counts.length) throw new Error('--cameras must list camera counts, e.g. 4,6,8');
  const hold = numArg(args, 'hold', 0.93);
  const s0 = settingsFrom(args, counts[0]);
  const { clip } = resolveInputs(s0); // makes the 1080p clip once, before the phases
  console.log(
    `bench scale: ${s0.decodeOnly ? 'decode only' : 'detect → track → line-count'}, ${path.basename(clip)} at ${s0.fps} fps per camera, ` +
      `${os.cpus().length} CPUs, ${s0.warmup} s warm-up + ${s0.seconds} s per count` +
      (s0.decodeOnly
        ? ''
        : `; model: max batch ${s0.maxBatch}${s0.dynamicBatch ? ' (made dynamic)' : ''}, ${s0.sessions} session(s), batch wait ${s0.batchWait} ms, threads ${s0.threads}, ${s0.providers}`) +
      `; decode: ${s0.hwaccel}`,
  );
  console.log(`load before: ${os.loadavg().map(f1).join(' ')}`);
  const results: PhaseResult[] = [];
  for (const n of counts) {
    const childArgs = [path.join(ROOT, 'bin', 'edgevision.js'), 'bench', 'scale', ...withoutCameras(argv), '--run-one', String(n)];
    const r = await new Promise<PhaseResult>((resolve, reject) => {
      const child = spawn(process.execPath, childArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
      let outText = '';
      child.stdout.on('data', (c: Buffer) => (outText += c.toString('utf8')));
      child.on('error', reject);
      child.on('close', (code) => {
        const line = outText.split('\n').find((l) => l.startsWith('RESULT '));
        if (code !== 0 || !line) reject(new Error(`the run with ${n} cameras failed (exit ${code}): ${outText.slice(-400)}`));
        else resolve(JSON.parse(line.slice(7)) as PhaseResult);
      });
    });
    results.push(r);
    const min = Math.min(...r.outFps);
    const mean = r.outFps.reduce((a, b) => a + b, 0) / r.outFps.length;
    const drop = r.dropPct.reduce((a, b) => a + b, 0) / r.dropPct.length;
    console.log(
      `${String(n).padStart(3)} cameras: out fps per camera min ${f1(min)} mean ${f1(mean)} [${r.outFps.map(f1).join(' ')}], decoded mean ${f1(r.decodedFps.reduce((a, b) => a + b, 0) / n)}, ` +
        `dropped ${f1(drop)} %, CPU ${Math.round(r.cpuPct)} % (node ${Math.round(r.cpuNodePct)} %), ` +
        // On a machine shared with other work the CPU a run gets varies: frames per CPU-second compares runs.
        `${f1((mean * n) / Math.max(0.01, r.cpuPct / 100))} frames per CPU-second, RSS ${Math.round(r.rssMiB)} MiB` +
        (r.meanBatch ? `, ${f1(r.meanBatch)} frames/run on ${r.provider}` : '') +
        (r.gpuUtilPct !== null ? `, GPU ${Math.round(r.gpuUtilPct)} % ${Math.round(r.gpuMemMiB ?? 0)} MiB` : ', GPU: no nvidia-smi'),
    );
  }
  const target = hold * s0.fps;
  const held = results.filter((r) => Math.min(...r.outFps) >= target).map((r) => r.cameras);
  console.log(
    `largest count holding ${f1(target)} fps (${hold} × ${s0.fps}) on every camera: ${held.length ? Math.max(...held) : 'none of ' + counts.join(', ')}; load after: ${os.loadavg().map(f1).join(' ')}`,
  );
  return 0;
}
