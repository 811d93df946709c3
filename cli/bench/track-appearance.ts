/**
 * `edgevision bench track-appearance`: within one camera, does appearance help the tracker? The TUD
 * clips are run through the real detector (yolox_nano, as vision-detect) and the tracker with the
 * vision-track node's defaults, once on IoU alone and once with appearance embeddings on the
 * detections (as a vision-reid node wired before vision-track puts them there: quality-gated crops,
 * the ONNX re-id model or the colour descriptor), scored against gt (IoU ≥ 0.5, gt flag ≥ 1).
 * Detections and embeddings are computed once per clip and kept in memory; every tracker
 * configuration replays them. Prints; asserts nothing.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs, assetsArg } from '../args';
import { MotRow, parseMot, parseSeqInfo } from '../../nodes/lib/eval/mot/io';
import { accumulate, metricsFrom, sumCounts, MotCounts } from '../../nodes/lib/eval/mot/evaluate';
import { Tracker, TrackerOptionsInput, VISION_TRACK_DEFAULTS } from '../../nodes/lib/tracking/tracker';
import { Detection } from '../../nodes/lib/types';
import { ColourEmbedder, Embedder, OnnxEmbedder } from '../../nodes/lib/reid/embedder';
import { judgeQuality } from '../../nodes/lib/reid/quality';
import { TUD } from './reid';
import { EMBEDDER_DEFAULTS, ReidEngine, ReidOptionsInput } from '../../nodes/lib/reid/engine';

export const usage = [
  'usage: edgevision bench track-appearance [--assets DIR] [--all-boxes]',
  '',
  '  --assets DIR   the shared assets folder (default: $EDGEVISION_ASSETS, else ../shared/assets)',
  '  --all-boxes    embed every person box ≥ the high score, not only the quality-gated ones',
].join('\n');

/** vision-track's node defaults for the YOLOX-Nano detector (VISION_TRACK_DEFAULTS, nodes/lib/tracking/tracker.ts). */
const NODE_DEFAULTS: TrackerOptionsInput = VISION_TRACK_DEFAULTS;

interface Prepared {
  sequence: string;
  fps: number;
  frames: Detection[][];
  /** Per embedder kind: frames of detections with `embedding` set where computed. */
  embedded: Record<string, Detection[][]>;
  gt: MotRow[];
}

/**
 * Tracker rows. With `reid`, a ReidEngine on the same camera re-links tracks by appearance (a track
 * that ends and a new one that looks like it share a globalId) and the rows carry the globalId: the
 * id vision-reid adds after vision-track. Tracks not yet decided keep their own id (offset, unique).
 */
function track(
  frames: Detection[][],
  fps: number,
  options: TrackerOptionsInput,
  reid?: { dim: number; options: ReidOptionsInput; mode: 'online' | 'resolved' },
): MotRow[] {
  const tracker = new Tracker(options);
  const firstGlobal = new Map<number, number>();
  const engine = reid ? new ReidEngine(reid.dim, reid.options) : undefined;
  const rows: MotRow[] = [];
  frames.forEach((dets, i) => {
    const tMs = (i * 1000) / fps;
    const u = tracker.update(dets, tMs);
    const out = u.tracks.filter((t) => t.state === 'confirmed' && t.detectionIndex >= 0);
    let ids = out.map((t) => t.trackId);
    if (engine) {
      const tracked = out.map((t) => ({ ...dets[t.detectionIndex], box: t.box, trackId: t.trackId }));
      const r = engine.update('cam', tMs, tracked, new Map(), 640, 480);
      ids = out.map((t, k) => {
        const g = r.globalIds[k];
        if (g) firstGlobal.set(t.trackId, firstGlobal.get(t.trackId) ?? Number(g.slice(1)));
        return g ? Number(g.slice(1)) : -t.trackId;
      });
    }
    out.forEach((t, k) => rows.push({ frame: i + 1, id: ids[k], box: t.box, conf: t.score, cls: -1 }));
  });
  if (!reid) return rows;
  // online: what a consumer sees frame by frame (rows before the id is decided are left out);
  // resolved: a track's first globalId applies to its whole life (identity consistency only).
  if (reid.mode === 'online') return rows.filter((r) => r.id > 0);
  return rows.map((r) => (r.id > 0 ? r : { ...r, id: firstGlobal.get(-r.id) ?? 1e6 - r.id }));
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['all-boxes']);
  const assets = assetsArg(args);
  // The model loader finds manifest models through EDGEVISION_ASSETS.
  process.env.EDGEVISION_ASSETS = assets;
  const allBoxes = args['all-boxes'] === true;

  const { acquireModel, acquireEmbeddingModel, releaseModel } = require('../../nodes/lib/model/loader');
  const { Detector } = require('../../nodes/lib/detect/detector');
  const { readFrames } = require('../../nodes/lib/video/ffmpeg-source');

  const user = `bench-track-appearance-${process.pid}`;
  const det = await acquireModel({ model: 'yolox_nano', format: 'auto', providers: ['cpu'], intraOpNumThreads: 2 }, user);
  const emb = await acquireEmbeddingModel({ model: 'osnet_x0_25_msmt17', format: 'embedding', providers: ['cpu'], intraOpNumThreads: 2 }, user);
  const embedders: Embedder[] = [new OnnxEmbedder(emb.session.runner, emb.spec, 'osnet_x0_25_msmt17'), new ColourEmbedder()];
  const prepared: Prepared[] = [];
  let crops = 0;
  let boxes = 0;
  try {
    const detector = new Detector(det.session.runner, det.spec, { filters: { classes: ['person'] } });
    for (const seq of TUD) {
      const fps = parseSeqInfo(fs.readFileSync(path.join(assets, 'mot15', seq, 'seqinfo.ini'), 'utf8')).frameRate ?? 25;
      const p: Prepared = {
        sequence: seq,
        fps,
        frames: [],
        embedded: {},
        gt: parseMot(fs.readFileSync(path.join(assets, 'mot15', seq, 'gt', 'gt.txt'), 'utf8')),
      };
      for (const e of embedders) p.embedded[e.kind] = [];
      for await (const f of readFrames({ url: path.join(assets, 'video', seq + '.mp4'), realtime: false, loop: false })) {
        const img = { data: f.data, width: f.width, height: f.height, format: 'rgb24' as const };
        const dets: Detection[] = (await detector.detect([img])).detections[0];
        p.frames[f.index] = dets;
        const q = judgeQuality(
          dets.map((d) => d.box),
          f.width,
          f.height,
        );
        const pick = dets.map((d, i) => i).filter((i) => dets[i].score >= 0.6 && (allBoxes || q[i] === 'ok'));
        boxes += dets.filter((d) => d.score >= 0.6).length;
        crops += pick.length;
        for (const e of embedders) {
          const vs = pick.length
            ? await e.embed(
                img,
                pick.map((i) => dets[i].box),
              )
            : [];
          const withEmb = dets.map((d) => ({ ...d }));
          pick.forEach((i, k) => (withEmb[i].embedding = Array.from(vs[k])));
          p.embedded[e.kind][f.index] = withEmb;
        }
      }
      prepared.push(p);
    }
  } finally {
    await releaseModel(det.key, user);
    await releaseModel(emb.key, user);
  }
  console.log(`TUD clips through yolox_nano (persons) and the tracker with vision-track's defaults ${JSON.stringify(NODE_DEFAULTS)}`);
  console.log(`embeddings on ${crops} of ${boxes} person boxes with score ≥ 0.6 (${allBoxes ? 'all of them' : 'quality-gated as vision-reid does'})`);
  // The colour descriptor's similarities sit high (different people ≈ 0.70 on these crops), so its
  // appearance gate must be stricter: cosine ≥ 0.8 ⇔ distance/2 ≤ 0.1.
  const dims: Record<string, number> = Object.fromEntries(embedders.map((e) => [e.kind, e.dim]));
  const reidFor = (kind: 'onnx' | 'colour', mode: 'online' | 'resolved') => ({
    dim: dims[kind],
    mode,
    options: { ...EMBEDDER_DEFAULTS[kind], galleryTtlMs: 60000 },
  });
  const configs: { name: string; kind?: 'onnx' | 'colour'; options: TrackerOptionsInput; reid?: 'online' | 'resolved' }[] = [
    { name: 'IoU only (no appearance)', options: NODE_DEFAULTS },
    { name: 'track appearance: osnet', kind: 'onnx', options: { ...NODE_DEFAULTS, appearance: { enabled: true } } },
    { name: 'track appearance: colour (thr 0.1)', kind: 'colour', options: { ...NODE_DEFAULTS, appearance: { enabled: true, threshold: 0.1 } } },
    { name: 'track appearance: osnet, prox 0.9', kind: 'onnx', options: { ...NODE_DEFAULTS, appearance: { enabled: true, proximity: 0.9 } } },
    { name: 'IoU + reid globalId osnet, online', kind: 'onnx', options: NODE_DEFAULTS, reid: 'online' },
    { name: 'IoU + reid globalId osnet, resolved', kind: 'onnx', options: NODE_DEFAULTS, reid: 'resolved' },
    { name: 'IoU + reid globalId colour, resolved', kind: 'colour', options: NODE_DEFAULTS, reid: 'resolved' },
  ];
  const pct = (v: number) => (100 * v).toFixed(1).padStart(5);
  console.log('');
  console.log('tracker                               | ' + TUD.map((s) => `${s.padEnd(14)} IDF1  MOTA IDsw`).join(' | ') + ' | overall IDF1  MOTA IDsw');
  let baseIdf1 = 0;
  for (const c of configs) {
    const counts: MotCounts[] = [];
    const cells = prepared.map((p) => {
      const frames = c.kind ? p.embedded[c.kind] : p.frames;
      const k = accumulate(p.gt, track(frames, p.fps, c.options, c.reid && c.kind ? reidFor(c.kind, c.reid) : undefined));
      counts.push(k);
      const m = metricsFrom(k);
      return `${''.padEnd(14)} ${pct(m.idf1)} ${pct(m.mota)} ${String(m.numSwitches).padStart(4)}`;
    });
    const all = metricsFrom(sumCounts(counts));
    if (!c.kind) baseIdf1 = all.idf1;
    const ratio = c.kind ? `  (IDF1 ×${(all.idf1 / baseIdf1).toFixed(3)} vs IoU only)` : '';
    console.log(`${c.name.padEnd(37)} | ${cells.join(' | ')} |        ${pct(all.idf1)} ${pct(all.mota)} ${String(all.numSwitches).padStart(4)}${ratio}`);
  }
  return 0;
}
