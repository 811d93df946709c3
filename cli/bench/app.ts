/**
 * `edgevision bench app`: does the dashboard stay responsive while the line runs? Starts the gateway
 * app in-process (a free port, a temp user dir, the demo flow with its file source at full speed and
 * looping), lets the model load, then measures Node-RED's event-loop delay with
 * perf_hooks.monitorEventLoopDelay over a fixed time — first with nobody watching, then with one
 * browser-like MJPEG viewer on /vision-view/cam1.mjpg — and counts frames through the pipeline
 * (delivered by vision-productivity-state, the last stage) and decoded by the source. Then it times
 * the view's frame → JPEG path against the SVG-composite alternative on the same frame. Target:
 * p99 ≤ 50 ms. Prints figures; asserts nothing.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { monitorEventLoopDelay } from 'perf_hooks';
import { setTimeout as sleep } from 'timers/promises';
import sharp from 'sharp';
import { parseArgs, numArg, assetsArg } from '../args';
import { overlaySvg, parseViewGeometry } from '../../nodes/lib/view/overlay';
import { VIEW_DEFAULTS, ViewSettings, renderView } from '../../nodes/lib/view/render';

export const usage = [
  'usage: edgevision bench app [--seconds N] [--warmup S] [--realtime]',
  '',
  '  Needs the dev dependencies (node-red, node-red-dashboard) and the demo assets (npm run fetch-assets:',
  "  the gateway user dir's edgevision/, or $EDGEVISION_ASSETS).",
  '  --seconds N  measuring time per phase (default 20)',
  '  --warmup S   seconds between start and measuring: model load, first frames (default 10)',
  '  --realtime   run the clip at its own rate instead of full speed',
  "  --spin       the demo's vision-model with spin-wait on (ONNX Runtime's default; the demo has it off)",
  "  --resolution MS  sampling period of the event-loop delay histogram (default 10, Node's default;",
  '               a finer period adds samples from quiet moments and lowers the percentiles)',
  '  --assets DIR the shared assets folder, for the still the view encode comparison draws on',
  '               (default: $EDGEVISION_ASSETS, else ../shared/assets)',
  '  InfluxDB: as the demo (EDGEVISION_INFLUX_URL …); with none reachable the points are spooled.',
].join('\n');

const ROOT = path.join(__dirname, '..', '..', '..');

/** A node of an exported flow (flows/demo.json): its id and type, and the type's own properties. */
interface FlowNode {
  id: string;
  type: string;
  [prop: string]: unknown;
}

/** What Node-RED's `postDeliver` hook is told about a delivered message. */
interface DeliveryEvent {
  source?: { id: string };
  destination?: { id: string };
}

interface Phase {
  name: string;
  p50: number;
  p99: number;
  max: number;
  mean: number;
  pipelineFps: number;
  decodeFps: number;
  viewFps: number;
}

let RESOLUTION_MS = 10;

function ms(ns: number): number {
  return Math.max(0, ns / 1e6 - RESOLUTION_MS);
}

async function phase(name: string, seconds: number, counters: { pipeline: number; decoded: number }, viewParts: () => number): Promise<Phase> {
  // The histogram records the time between ticks of a timer of this period: lag = that − the period.
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  const p0 = counters.pipeline;
  const d0 = counters.decoded;
  const v0 = viewParts();
  const t0 = performance.now();
  h.enable();
  await sleep(seconds * 1000);
  h.disable();
  const s = (performance.now() - t0) / 1000;
  return {
    name,
    p50: ms(h.percentile(50)),
    p99: ms(h.percentile(99)),
    max: ms(h.max),
    mean: ms(h.mean),
    pipelineFps: (counters.pipeline - p0) / s,
    decodeFps: (counters.decoded - d0) / s,
    viewFps: (viewParts() - v0) / s,
  };
}

/** Frame → JPEG per frame: our canvas path (what vision-view runs) and an SVG composited by sharp. */
async function encodeComparison(assets: string): Promise<string[]> {
  const { resolveAsset } = require('../../nodes/lib/assets');
  const still = path.join('images', 'vtest', 'vtest_frame0201.jpg');
  // The shared assets folder holds the still; a fetched clip in models/ has none beside it.
  const candidates = [path.join(assets, still)];
  try {
    candidates.push(path.join(path.dirname(resolveAsset('vtest')), '..', still));
  } catch {
    // no demo clip either: only the assets folder can have it
  }
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) return [`(view encode comparison skipped: ${still} not found in ${candidates.join(' or ')})`];
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const demo = JSON.parse(fs.readFileSync(path.join(ROOT, 'flows', 'demo.json'), 'utf8')) as FlowNode[];
  const view = demo.find((n) => n.type === 'vision-view');
  if (!view) throw new Error('flows/demo.json has no vision-view node');
  const s: ViewSettings = { ...VIEW_DEFAULTS, maxWidth: 960, geometry: parseViewGeometry(view.geometry, view.stations) };
  const detections = Array.from({ length: 12 }, (_, i) => ({
    box: [20 + i * 55, 150, 62 + i * 55, 290] as [number, number, number, number],
    score: 0.8,
    classId: 0,
    label: 'person',
    trackId: i + 1,
    trackState: 'confirmed' as const,
  }));
  const frame = {
    camera: 'cam1',
    width: info.width,
    height: info.height,
    detections,
    counts: { crossing: { in: 12, out: 9 } },
    zones: { 'path-west': { occupancy: 2 } },
    stations: { 'station-1': { state: 'working' }, 'station-2': { state: 'idle' } },
  };
  const ref = { camera: 'cam1', seq: 0, tMs: 0, width: info.width, height: info.height, format: 'rgb24' as const };
  const g = parseViewGeometry(view.geometry, view.stations);
  const raw = { raw: { width: info.width, height: info.height, channels: 3 as const } };
  const variants: [string, () => Promise<unknown>][] = [
    ['JPEG only (no overlay)', () => sharp(data, raw).jpeg({ quality: 75 }).toBuffer()],
    ['canvas overlay + JPEG (vision-view)', () => renderView(data, ref, frame, s, 'cam1 · 5.0 fps')],
    [
      'SVG overlay composited by sharp',
      () =>
        sharp(data, raw)
          .composite([{ input: Buffer.from(overlaySvg(frame, g, { outWidth: info.width, outHeight: info.height, caption: 'cam1 · 5.0 fps' })) }])
          .jpeg({ quality: 75 })
          .toBuffer(),
    ],
  ];
  const out = [`view encode, ${info.width}×${info.height}, 12 boxes, 1 line, 1 zone, 2 stations (median of 30):`];
  let base = 0;
  for (const [name, f] of variants) {
    await f();
    const t: number[] = [];
    for (let i = 0; i < 30; i++) {
      const a = performance.now();
      await f();
      t.push(performance.now() - a);
    }
    t.sort((x, y) => x - y);
    const med = t[15];
    if (!base) base = med;
    out.push(`  ${name.padEnd(38)}${med.toFixed(1).padStart(7)} ms   ×${(med / base).toFixed(2)}`);
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['realtime', 'spin']);
  const seconds = numArg(args, 'seconds', 20);
  const warmup = numArg(args, 'warmup', 10);
  RESOLUTION_MS = numArg(args, 'resolution', 10);
  if (!(RESOLUTION_MS >= 1)) throw new Error(`--resolution must be ≥ 1 ms, got ${RESOLUTION_MS}`);
  const { startGateway, gatewayUserDir } = require(path.join(ROOT, 'flows', 'gateway.js'));
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-bench-app-'));
  // The demo's clip and model from where npm run fetch-assets put them (the gateway's user dir), not
  // from the empty temporary user dir the benchmark runs in.
  const { resolveAsset } = require('../../nodes/lib/assets');
  for (const [k, name] of [
    ['EDGEVISION_SOURCE', 'vtest'],
    ['EDGEVISION_MODEL', 'yolox_nano'],
  ]) {
    if (!process.env[k]) process.env[k] = resolveAsset(name, { userDir: gatewayUserDir() });
  }
  const listed = require(path.join(ROOT, 'package.json'))['node-red'].nodes['vision-view'];
  const extra = listed ? {} : { nodesDir: [path.join(ROOT, 'dist', 'nodes', 'view')] };
  let flowFile: string | undefined;
  if (args.spin) {
    const demo = JSON.parse(fs.readFileSync(path.join(ROOT, 'flows', 'demo.json'), 'utf8')) as FlowNode[];
    for (const n of demo) if (n.type === 'vision-model') n.spinWait = true;
    flowFile = path.join(userDir, 'demo-spin.json');
    fs.writeFileSync(flowFile, JSON.stringify(demo));
  }
  const gw = await startGateway({
    port: 0,
    userDir,
    flowFile,
    resetFlows: true,
    realtime: !!args.realtime,
    settings: { ...extra, logging: { console: { level: 'error', metrics: false, audit: false } } },
  });
  const counters = { pipeline: 0, decoded: 0 };
  gw.RED.hooks.add('postDeliver.bench-app', (ev: DeliveryEvent) => {
    const src = ev.source && ev.source.id;
    const dst = ev.destination && ev.destination.id;
    if (src === 'demo-stations' && dst === 'demo-view') counters.pipeline++;
    else if (src === 'demo-camera') counters.decoded++;
  });
  let parts = 0;
  let viewer: http.ClientRequest | null = null;
  try {
    console.log(
      `gateway ${gw.url}, demo flow ${args.realtime ? 'in real time' : 'at full speed (realtime off, loop on)'}, spin-wait ${args.spin ? 'on' : 'off'}, ${os.cpus().length} CPUs; warm-up ${warmup} s, ${seconds} s per phase; lag sampled every ${RESOLUTION_MS} ms`,
    );
    await sleep(warmup * 1000);
    const phases: Phase[] = [];
    phases.push(await phase('no viewer', seconds, counters, () => parts));
    viewer = http.get(`${gw.url}/vision-view/cam1.mjpg`, (res) => {
      res.on('data', (c: Buffer) => {
        // Count parts by their boundary line.
        let i = -1;
        while ((i = c.indexOf('--edgevisionframe', i + 1)) >= 0) parts++;
      });
    });
    await sleep(1000);
    phases.push(await phase('one MJPEG viewer', seconds, counters, () => parts));
    console.log('phase               event-loop lag p50     p99     max    mean (ms)   pipeline fps   decoded fps   view fps');
    for (const p of phases) {
      console.log(
        `${p.name.padEnd(20)}${p.p50.toFixed(1).padStart(17)}${p.p99.toFixed(1).padStart(8)}${p.max.toFixed(1).padStart(8)}${p.mean.toFixed(1).padStart(8)}${p.pipelineFps.toFixed(1).padStart(17)}${p.decodeFps.toFixed(1).padStart(14)}${p.viewFps.toFixed(1).padStart(11)}`,
      );
    }
    const worst = Math.max(...phases.map((p) => p.p99));
    console.log(`target p99 ≤ 50 ms: ${worst <= 50 ? 'met' : 'MISSED'} (worst p99 ${worst.toFixed(1)} ms)`);
  } finally {
    if (viewer) viewer.destroy();
    gw.RED.hooks.remove('*.bench-app');
    await gw.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
  for (const line of await encodeComparison(assetsArg(args))) console.log(line);
  return 0;
}
