/**
 * `edgevision bench reid`: re-identification on person crops cut from the TUD clips with their
 * ground-truth ids, for the ONNX re-id model and for the built-in colour descriptor (random vectors
 * are the chance baseline in the same run):
 *  1. retrieval: rank-1 and mAP, every crop a query against all others except its own near-duplicates
 *     (same person within --gap frames);
 *  2. two cameras: each clip split into two cameras by time, gt boxes and ids as the per-camera tracks
 *     (cam-2 ids renumbered), the ReidEngine assigning global ids, each track judged by its final id
 *     (after every join and split): without overlap (cam-2 after cam-1, --walk seconds later) and with
 *     --overlap seconds both cameras see at the same time (cam-2 mirrored), with the fixed threshold,
 *     the defaults (calibration learning in the run) and a calibration learnt beforehand;
 *  3. the learnt threshold (each clip as one camera, no labels) against a sweep of fixed ones;
 *  4. the held-out set: vtest.avi with hand-labelled people (test/fixtures/vtest-reid), split in time;
 *  5. gallery search cost at 10 000 identities (ms per query, bytes), against a naive array-of-arrays
 *     scan measured in the same run.
 * Frames are decoded once per clip (ffmpeg) and kept in memory for the run. Prints; asserts nothing.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs, numArg, assetsArg } from '../args';
import { parseMot, parseSeqInfo, MotRow } from '../../nodes/lib/eval/mot/io';
import { Box, Detection } from '../../nodes/lib/types';
import { SourceImage } from '../../nodes/lib/detect/letterbox';
import { ColourEmbedder, Embedder, OnnxEmbedder } from '../../nodes/lib/reid/embedder';
import { judgeQuality } from '../../nodes/lib/reid/quality';
import { LabelledCrop, randomEmbeddings, retrieval, RetrievalResult } from '../../nodes/lib/reid/eval';
import { DEFAULT_REID, EMBEDDER_DEFAULTS, ReidEngine, ReidOptionsInput } from '../../nodes/lib/reid/engine';
import { CameraFrame, heldOutFrames, loadHeldOut, precompute } from './reid-heldout';

export type { CameraFrame };
import { Gallery } from '../../nodes/lib/reid/gallery';
import { dot } from '../../nodes/lib/vector';

export const usage = [
  'usage: edgevision bench reid [--assets DIR] [--every N] [--gap N] [--walk S] [--overlap S] [--identities N]',
  '',
  '  --assets DIR      the shared assets folder (default: $EDGEVISION_ASSETS, else ../shared/assets)',
  '  --every N         crops from every N-th frame for retrieval (default 5)',
  '  --gap N           frames around a query whose crops of the same person are left out (default 10)',
  '  --walk S          seconds between the two cameras in the two-camera test (default 3)',
  '  --overlap S       seconds both cameras see at the same time in the overlapping test (default 1)',
  '  --identities N    gallery size for the search cost (default 10000)',
].join('\n');

export const TUD = ['TUD-Campus', 'TUD-Stadtmitte'];

export interface Clip {
  sequence: string;
  /** Decoded rgb24 frames, index = video frame = MOT frame − 1. */
  frames: SourceImage[];
  /** gt rows (flag ≥ 1) by 0-based video frame. */
  gt: Map<number, MotRow[]>;
  fps: number;
}

/** Decodes a TUD clip once and reads its gt (boxes kept as they are; flag 0 rows dropped). */
export async function loadClip(assets: string, sequence: string): Promise<Clip> {
  const { readFrames } = require('../../nodes/lib/video/ffmpeg-source');
  const frames: SourceImage[] = [];
  for await (const f of readFrames({ url: path.join(assets, 'video', sequence + '.mp4'), realtime: false, loop: false })) {
    frames[f.index] = { data: f.data, width: f.width, height: f.height, format: 'rgb24' };
  }
  const rows = parseMot(fs.readFileSync(path.join(assets, 'mot15', sequence, 'gt', 'gt.txt'), 'utf8'), `${sequence} gt`);
  const gt = new Map<number, MotRow[]>();
  for (const r of rows) {
    if (r.conf < 1 || r.frame - 1 >= frames.length) continue;
    const list = gt.get(r.frame - 1) ?? [];
    list.push(r);
    gt.set(r.frame - 1, list);
  }
  const fps = parseSeqInfo(fs.readFileSync(path.join(assets, 'mot15', sequence, 'seqinfo.ini'), 'utf8')).frameRate ?? 25;
  return { sequence, frames, gt, fps };
}

export interface CropSet {
  crops: (LabelledCrop & { box: Box })[];
  /** The frame each crop is cut from. */
  images: SourceImage[];
}

/** Person crops from every `every`-th frame that pass the default quality gate (size, overlap, edge). */
export function cropSet(clips: readonly Clip[], every: number): CropSet {
  const out: CropSet = { crops: [], images: [] };
  for (const c of clips) {
    for (let f = 0; f < c.frames.length; f += every) {
      const rows = c.gt.get(f) ?? [];
      const img = c.frames[f];
      const ok = judgeQuality(
        rows.map((r) => r.box),
        img.width,
        img.height,
      );
      rows.forEach((r, i) => {
        if (ok[i] !== 'ok') return;
        out.crops.push({ identity: `${c.sequence}:${r.id}`, sequence: c.sequence, frame: f, box: r.box });
        out.images.push(img);
      });
    }
  }
  return out;
}

/** Embeds every crop, batching crops of one frame together. */
export async function embedCrops(set: CropSet, embedder: Embedder): Promise<Float32Array[]> {
  const out: Float32Array[] = new Array(set.crops.length);
  let i = 0;
  while (i < set.crops.length) {
    let j = i;
    while (j < set.crops.length && set.images[j] === set.images[i]) j++;
    const vs = await embedder.embed(
      set.images[i],
      set.crops.slice(i, j).map((c) => c.box),
    );
    vs.forEach((v, k) => (out[i + k] = v));
    i = j;
  }
  return out;
}

export interface TwoCameraResult {
  /** People seen in cam-1 and in cam-2. */
  handovers: number;
  /** …of whom this many ended with the same global id in both (final ids: after every join and split). */
  sameId: number;
  /** Handovers where the person showed at least two good crops in each camera (the rest cannot be matched by appearance). */
  matchable: number;
  /** …of whom this many ended with the same id. */
  matchableSame: number;
  /** Share of labelled detections whose track's final global id's majority person is theirs. */
  purity: number;
  /** Mean distinct final global ids per person (1 = never split). */
  fragmentation: number;
  joins: number;
  splits: number;
  /** Wrong merges: Σ over final global ids of (labelled people carrying it − 1). */
  wrongJoins: number;
  embeddedCrops: number;
  detections: number;
  /** The join threshold in use at the end of the run, and whether it was learnt. */
  threshold: number;
  calibrated: boolean;
}

/** Engine-like: what evalCameras() needs (today's ReidEngine, or an older one for comparison). */
export interface ReidLike {
  select(camera: string, d: readonly Detection[], w: number, h: number): number[];
  update(
    camera: string,
    tMs: number,
    d: readonly Detection[],
    e: ReadonlyMap<number, ArrayLike<number>>,
    w: number,
    h: number,
  ): { globalIds: (string | undefined)[]; joins: unknown[]; splits?: unknown[] };
  stats(): { threshold?: number; calibrated?: boolean };
}

/**
 * Runs frames of several cameras through an engine; judges each track by its final global id (the
 * id at its last frame, after every join and split), as a consumer that follows join and split
 * events would see it.
 */
export async function evalCameras(frames: Iterable<CameraFrame>, embedder: Embedder, engine: ReidLike): Promise<TwoCameraResult> {
  const finalId = new Map<string, string>();
  const trackPeople = new Map<string, Map<string, number>>();
  const samples = new Map<string, number>();
  let embedded = 0;
  let detections = 0;
  let joins = 0;
  let splits = 0;
  for (const fr of frames) {
    const dets: Detection[] = fr.rows.map((r) => ({ box: r.box, score: 1, classId: 0, label: 'person', trackId: r.track }));
    const want = engine.select(fr.camera, dets, fr.img.width, fr.img.height);
    const vecs = want.length
      ? await embedder.embed(
          fr.img,
          want.map((i) => dets[i].box),
        )
      : [];
    embedded += vecs.length;
    for (const i of want) samples.set(`${fr.camera}:${fr.rows[i].track}`, (samples.get(`${fr.camera}:${fr.rows[i].track}`) ?? 0) + 1);
    const u = engine.update(fr.camera, fr.tMs, dets, new Map(want.map((i, k) => [i, vecs[k]])), fr.img.width, fr.img.height);
    joins += u.joins.length;
    splits += u.splits?.length ?? 0;
    fr.rows.forEach((r, i) => {
      const g = u.globalIds[i];
      const key = `${fr.camera}:${r.track}`;
      if (g) finalId.set(key, g);
      if (r.person === undefined) return;
      const m = trackPeople.get(key) ?? new Map<string, number>();
      m.set(r.person, (m.get(r.person) ?? 0) + 1);
      trackPeople.set(key, m);
    });
  }
  // Per person: final ids by camera; per final id: labelled detections by person.
  const byPerson = new Map<string, Map<string, Set<string>>>();
  const seenWell = new Map<string, Set<string>>();
  const perId = new Map<string, Map<string, number>>();
  for (const [key, people] of trackPeople) {
    const g = finalId.get(key);
    if (!g) continue;
    const camera = key.slice(0, key.lastIndexOf(':'));
    for (const [person, n] of people) {
      if ((samples.get(key) ?? 0) >= 2) seenWell.set(person, (seenWell.get(person) ?? new Set<string>()).add(camera));
      detections += n;
      const cams = byPerson.get(person) ?? new Map<string, Set<string>>();
      cams.set(camera, (cams.get(camera) ?? new Set<string>()).add(g));
      byPerson.set(person, cams);
      const m = perId.get(g) ?? new Map<string, number>();
      m.set(person, (m.get(person) ?? 0) + n);
      perId.set(g, m);
    }
  }
  let handovers = 0;
  let sameId = 0;
  let matchable = 0;
  let matchableSame = 0;
  let ids = 0;
  for (const [person, cams] of byPerson) {
    const all = [...cams.values()];
    ids += new Set(all.flatMap((s) => [...s])).size;
    if (cams.size < 2) continue;
    handovers++;
    const [first, ...rest] = all;
    const kept = rest.every((s) => [...s].some((g) => first.has(g)));
    if (kept) sameId++;
    if ((seenWell.get(person)?.size ?? 0) >= cams.size) {
      matchable++;
      if (kept) matchableSame++;
    }
  }
  let majority = 0;
  let total = 0;
  let wrong = 0;
  for (const m of perId.values()) {
    const counts = [...m.values()];
    majority += Math.max(...counts);
    total += counts.reduce((a, b) => a + b, 0);
    wrong += m.size - 1;
  }
  const st = engine.stats();
  return {
    handovers,
    sameId,
    matchable,
    matchableSame,
    purity: total ? majority / total : 1,
    fragmentation: byPerson.size ? ids / byPerson.size : 1,
    joins,
    splits,
    wrongJoins: wrong,
    embeddedCrops: embedded,
    detections,
    threshold: st.threshold ?? NaN,
    calibrated: !!st.calibrated,
  };
}

/** A frame mirrored left to right (rgb24), for a second camera that sees the scene from the other side. */
export function mirrorImage(img: SourceImage): SourceImage {
  const { width: w, height: h } = img;
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * 3;
      const d = (y * w + (w - 1 - x)) * 3;
      out[d] = img.data[s];
      out[d + 1] = img.data[s + 1];
      out[d + 2] = img.data[s + 2];
    }
  return { ...img, data: out };
}

const mirrored = new WeakMap<object, SourceImage>();
function mirrorOnce(img: SourceImage): SourceImage {
  let m = mirrored.get(img.data);
  if (!m) mirrored.set(img.data, (m = mirrorImage(img)));
  return m;
}

export interface SplitOptions {
  /** Seconds both cameras see the same time span (0: cam-2 starts after cam-1 ends, `walkS` later). */
  overlapS?: number;
  /** A different engine (an older one, a restored calibration). */
  engine?: ReidLike;
}

/**
 * One clip as two cameras split in time. gt boxes are the per-camera tracks (cam-2 track ids are
 * the gt id + 100000, so the engine cannot cheat); the engine picks the crops to embed. Without
 * overlap, cam-2 starts at the split, `walkS` seconds after cam-1's last frame. With `overlapS`, both
 * cameras see the `overlapS` seconds around the split at the same times, cam-2 mirrored left to right
 * (another viewpoint of the same place), and nobody has to walk.
 */
export async function twoCameraRun(
  clip: Clip,
  embedder: Embedder,
  options: ReidOptionsInput,
  walkS: number,
  splitAt = 0.5,
  more: SplitOptions = {},
): Promise<TwoCameraResult> {
  const engine = more.engine ?? new ReidEngine(embedder.dim, options);
  return evalCameras(splitFrames(clip, walkS, splitAt, more.overlapS ?? 0), embedder, engine);
}

export function* splitFrames(clip: Clip, walkS: number, splitAt: number, overlapS: number): Generator<CameraFrame> {
  const n = clip.frames.length;
  const split = Math.floor(n * splitAt);
  const half = Math.round((overlapS * clip.fps) / 2);
  for (let f = 0; f < n; f++) {
    const rows = clip.gt.get(f) ?? [];
    const t = (f * 1000) / clip.fps;
    if (overlapS > 0) {
      if (f < split + half) yield { camera: 'cam-1', tMs: t, img: clip.frames[f], rows: rows.map((r) => ({ box: r.box, track: r.id, person: String(r.id) })) };
      if (f >= split - half) {
        const img = mirrorOnce(clip.frames[f]);
        const w = img.width;
        yield {
          camera: 'cam-2',
          tMs: t,
          img,
          rows: rows.map((r) => ({ box: [w - r.box[2], r.box[1], w - r.box[0], r.box[3]] as Box, track: r.id + 100000, person: String(r.id) })),
        };
      }
    } else {
      const cam2 = f >= split;
      yield {
        camera: cam2 ? 'cam-2' : 'cam-1',
        tMs: t + (cam2 ? walkS * 1000 : 0),
        img: clip.frames[f],
        rows: rows.map((r) => ({ box: r.box, track: cam2 ? r.id + 100000 : r.id, person: String(r.id) })),
      };
    }
  }
}

/** Every frame of a clip as one camera: what a deployment's calibration would see. */
export function* oneCameraFrames(clip: Clip, camera: string): Generator<CameraFrame> {
  for (let f = 0; f < clip.frames.length; f++) {
    const rows = clip.gt.get(f) ?? [];
    yield { camera, tMs: (f * 1000) / clip.fps, img: clip.frames[f], rows: rows.map((r) => ({ box: r.box, track: r.id })) };
  }
}

/**
 * Remembers each (frame, box) embedding for the run, so repeated experiments on the same clip
 * (several split points) do not run the model on the same crop again.
 */
export class CachingEmbedder implements Embedder {
  readonly kind: Embedder['kind'];
  readonly dim: number;
  readonly description: string;
  private readonly cache = new Map<string, Float32Array>();
  private readonly frameIds = new WeakMap<object, number>();
  private nextFrame = 0;
  constructor(private readonly inner: Embedder) {
    this.kind = inner.kind;
    this.dim = inner.dim;
    this.description = inner.description;
  }
  async embed(img: SourceImage, boxes: readonly Box[]): Promise<Float32Array[]> {
    let id = this.frameIds.get(img.data);
    if (id === undefined) {
      id = this.nextFrame++;
      this.frameIds.set(img.data, id);
    }
    const keys = boxes.map((b) => `${id}:${b.join(',')}`);
    const missing = boxes.filter((_, i) => !this.cache.has(keys[i]));
    const fresh = missing.length ? await this.inner.embed(img, missing) : [];
    let k = 0;
    boxes.forEach((_, i) => {
      if (!this.cache.has(keys[i])) this.cache.set(keys[i], fresh[k++]);
    });
    return keys.map((key) => this.cache.get(key)!);
  }
}

export const SPLITS = [1 / 3, 1 / 2, 2 / 3];
export const FIXED_SWEEP = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.92, 0.94, 0.95, 0.96];

const f3 = (v: number) => v.toFixed(3);

function similarityStats(set: CropSet, vs: Float32Array[]): string {
  let same = 0,
    ns = 0,
    diff = 0,
    nd = 0;
  for (let a = 0; a < vs.length; a++)
    for (let b = a + 1; b < vs.length; b++) {
      const s = dot(vs[a], vs[b]);
      if (set.crops[a].identity === set.crops[b].identity) {
        same += s;
        ns++;
      } else {
        diff += s;
        nd++;
      }
    }
  return `mean cosine same person ${f3(same / ns)}, different ${f3(diff / nd)}`;
}

function searchCost(dim: number, identities: number, queries: number): { ms: number; naiveMs: number; bytes: number; heapMB: number } {
  const vecs = randomEmbeddings(identities, dim, 7);
  const q = randomEmbeddings(queries, dim, 8);
  const g = new Gallery(dim, { capacity: identities, ttlMs: 3600e3 });
  vecs.forEach((v, i) => g.add({ globalId: `p${i}`, camera: 'cam', endMs: i }, v));
  const heap = process.memoryUsage();
  for (let i = 0; i < 5; i++) g.search(q[i]);
  let t0 = process.hrtime.bigint();
  let sink = 0;
  for (const v of q) sink += g.search(v)!.similarity;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6 / queries;
  // Naive baseline: plain number[][] and a sort of all scores.
  const plain = vecs.map((v) => Array.from(v));
  const qp = q.map((v) => Array.from(v));
  t0 = process.hrtime.bigint();
  for (const v of qp) {
    const s = plain.map((e) => e.reduce((acc, x, i) => acc + x * v[i], 0));
    sink += s.sort((a, b) => b - a)[0];
  }
  const naiveMs = Number(process.hrtime.bigint() - t0) / 1e6 / queries;
  if (Number.isNaN(sink)) console.log('');
  return { ms, naiveMs, bytes: g.bytes(), heapMB: (heap.heapUsed + heap.arrayBuffers) / 1048576 };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const assets = assetsArg(args);
  // The model loader finds manifest models through EDGEVISION_ASSETS.
  process.env.EDGEVISION_ASSETS = assets;
  const every = numArg(args, 'every', 5);
  const gap = numArg(args, 'gap', 10);
  const walk = numArg(args, 'walk', 3);
  const overlapS = numArg(args, 'overlap', 1);
  const identities = numArg(args, 'identities', 10000);

  const { acquireEmbeddingModel, releaseModel } = require('../../nodes/lib/model/loader');

  const user = `bench-reid-${process.pid}`;
  const loaded = await acquireEmbeddingModel({ model: 'osnet_x0_25_msmt17', format: 'embedding', providers: ['cpu'], intraOpNumThreads: 2 }, user);
  try {
    const clips: Clip[] = [];
    for (const s of TUD) clips.push(await loadClip(assets, s));
    const set = cropSet(clips, every);
    const people = new Set(set.crops.map((c) => c.identity)).size;
    console.log(
      `crops: ${set.crops.length} of ${people} people from ${TUD.join(', ')} (every ${every}th frame, quality-gated gt boxes); near-duplicates within ${gap} frames left out`,
    );
    const onnx = new OnnxEmbedder(loaded.session.runner, loaded.spec, 'osnet_x0_25_msmt17');
    const colour = new ColourEmbedder();
    const embedders: Embedder[] = [onnx, colour];
    console.log('\n1. retrieval (rank-1 / mAP over all queries with a true match)');
    console.log('embedder                              queries  rank-1    mAP   ms/crop');
    const rnd = retrieval(set.crops, randomEmbeddings(set.crops.length, 512, 3), gap);
    console.log(`${'chance (random vectors)'.padEnd(37)} ${String(rnd.queries).padStart(7)}  ${f3(rnd.rank1)}  ${f3(rnd.mAP)}`);
    const results: Record<string, RetrievalResult> = {};
    for (const e of embedders) {
      const t0 = process.hrtime.bigint();
      const vs = await embedCrops(set, e);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6 / set.crops.length;
      const r = retrieval(set.crops, vs, gap);
      results[e.kind] = r;
      console.log(
        `${e.description.padEnd(37)} ${String(r.queries).padStart(7)}  ${f3(r.rank1)}  ${f3(r.mAP)}  ${ms.toFixed(2).padStart(7)}   (${similarityStats(set, vs)})`,
      );
    }
    console.log(
      `onnx / colour: rank-1 ×${(results.onnx.rank1 / results.colour.rank1).toFixed(2)}, mAP ×${(results.onnx.mAP / results.colour.mAP).toFixed(2)}; colour / chance mAP ×${(results.colour.mAP / rnd.mAP).toFixed(2)}`,
    );

    const cached = embedders.map((x) => new CachingEmbedder(x));
    const line = (name: string, r: TwoCameraResult) =>
      `${name.padEnd(48)} ${`${r.sameId}/${r.handovers}`.padStart(7)} ${`${r.matchableSame}/${r.matchable}`.padStart(7)} ${String(r.wrongJoins).padStart(6)}  ${f3(r.purity)}  ${r.fragmentation.toFixed(2).padStart(6)} ${String(r.joins).padStart(6)} ${String(r.splits).padStart(6)}  ${r.threshold.toFixed(3)}${r.calibrated ? ' learnt' : ' fixed '}`;
    const header = `${'run'.padEnd(48)}    kept 2+crops  wrong  purity  fragm.  joins splits  threshold`;
    const sum = (rs: TwoCameraResult[]): TwoCameraResult => ({
      handovers: rs.reduce((a, r) => a + r.handovers, 0),
      sameId: rs.reduce((a, r) => a + r.sameId, 0),
      matchable: rs.reduce((a, r) => a + r.matchable, 0),
      matchableSame: rs.reduce((a, r) => a + r.matchableSame, 0),
      purity:
        rs.reduce((a, r) => a + r.purity * r.detections, 0) /
        Math.max(
          1,
          rs.reduce((a, r) => a + r.detections, 0),
        ),
      fragmentation: rs.reduce((a, r) => a + r.fragmentation, 0) / Math.max(1, rs.length),
      joins: rs.reduce((a, r) => a + r.joins, 0),
      splits: rs.reduce((a, r) => a + r.splits, 0),
      wrongJoins: rs.reduce((a, r) => a + r.wrongJoins, 0),
      embeddedCrops: rs.reduce((a, r) => a + r.embeddedCrops, 0),
      detections: rs.reduce((a, r) => a + r.detections, 0),
      threshold: rs.length ? rs[rs.length - 1].threshold : NaN,
      calibrated: rs.some((r) => r.calibrated),
    });

    // Calibration as a deployment would learn it: each TUD clip as one camera, no labels used.
    const learnt: Record<string, { snapshot: unknown; threshold: number; state: string }> = {};
    for (const e of cached) {
      const eng = new ReidEngine(e.dim, { ...EMBEDDER_DEFAULTS[e.kind] });
      for (const c of clips) await evalCameras(oneCameraFrames(c, c.sequence), e, eng);
      const st = eng.calibration.state();
      learnt[e.kind] = {
        snapshot: eng.calibration.snapshot(),
        threshold: eng.calibration.learnt(),
        state: `${st.negatives} negative / ${st.positives} positive pairs, ${st.mode}; negatives' median ${st.negativeMedian}, positives' ${st.positiveMedian}`,
      };
    }
    const restored = (kind: string, dim: number, o: ReidOptionsInput) => {
      const eng = new ReidEngine(dim, { ...o, calibrationMinNegatives: 1, calibrationMinPositives: 1 });
      eng.calibration.restore(learnt[kind].snapshot);
      return eng;
    };

    console.log(
      `\n2. two cameras: each TUD clip split in time at 1/3, 1/2 and 2/3, gt boxes as tracks, final ids judged (after every join and split).` +
        `\n   no overlap: cam-1 before the split, cam-2 after it, ${walk} s walk between; overlap: both cameras see the ${overlapS} s around the split at the same time, cam-2 mirrored.` +
        `\n   kept = people seen in both cameras who end with one id; wrong = ids shared by two people; threshold at the end of the run`,
    );
    console.log(header);
    for (const e of cached) {
      const d = EMBEDDER_DEFAULTS[e.kind];
      for (const overlap of [0, overlapS]) {
        const mode = overlap ? 'overlap' : 'no overlap';
        const variants: [string, (c: Clip, at: number) => Promise<TwoCameraResult>][] = [
          [`fixed ${d.threshold} (calibrate off)`, (c, at) => twoCameraRun(c, e, { ...d, calibrate: 'off' }, walk, at, { overlapS: overlap })],
          ['defaults (learns in the run)', (c, at) => twoCameraRun(c, e, { ...d }, walk, at, { overlapS: overlap })],
          ['calibrated on both clips', (c, at) => twoCameraRun(c, e, d, walk, at, { overlapS: overlap, engine: restored(e.kind, e.dim, d) })],
        ];
        for (const [name, fn] of variants) {
          const rs: TwoCameraResult[] = [];
          for (const c of clips) for (const at of SPLITS) rs.push(await fn(c, at));
          console.log(line(`${e.kind} ${mode}: ${name}`, sum(rs)));
        }
      }
    }

    console.log(
      '\n3. calibration: the learnt threshold (TUD clips as one camera each, no labels) vs fixed thresholds, no overlap (overlapping runs beside each fixed one), all splits',
    );
    for (const e of cached) {
      console.log(
        `${e.kind}: learnt ${learnt[e.kind].threshold.toFixed(3)} for a ${DEFAULT_REID.targetFalseJoinRate * 100} % false-join rate (${learnt[e.kind].state})`,
      );
      console.log(header);
      let best: [number, TwoCameraResult] | undefined;
      let clean: number | undefined;
      for (const t of FIXED_SWEEP) {
        const rs: TwoCameraResult[] = [];
        const overlapping: TwoCameraResult[] = [];
        for (const c of clips)
          for (const at of SPLITS) {
            rs.push(await twoCameraRun(c, e, { ...EMBEDDER_DEFAULTS[e.kind], threshold: t, calibrate: 'off' }, walk, at));
            overlapping.push(await twoCameraRun(c, e, { ...EMBEDDER_DEFAULTS[e.kind], threshold: t, calibrate: 'off' }, walk, at, { overlapS }));
          }
        const r = sum(rs);
        const ro = sum(overlapping);
        console.log(`${line(`${e.kind} fixed ${t.toFixed(2)}`, r)}   overlap ${ro.sameId}/${ro.handovers}, ${ro.wrongJoins} wrong`);
        if (!best || r.sameId - r.wrongJoins > best[1].sameId - best[1].wrongJoins) best = [t, r];
        if (clean === undefined && r.wrongJoins === 0 && ro.wrongJoins === 0) clean = t;
      }
      const rs: TwoCameraResult[] = [];
      for (const c of clips)
        for (const at of SPLITS) rs.push(await twoCameraRun(c, e, {}, walk, at, { engine: restored(e.kind, e.dim, EMBEDDER_DEFAULTS[e.kind]) }));
      const r = sum(rs);
      console.log(line(`${e.kind} learnt ${learnt[e.kind].threshold.toFixed(3)}`, r));
      console.log(
        `${e.kind}: best fixed ${best![0].toFixed(2)} (kept − wrong ${best![1].sameId - best![1].wrongJoins}), lowest with no wrong merge ${clean === undefined ? 'none' : clean.toFixed(2)}, vs learnt ${learnt[e.kind].threshold.toFixed(3)} (kept − wrong ${r.sameId - r.wrongJoins})`,
      );
    }

    console.log(
      '\n4. held-out: vtest.avi (people leave the view and come back), YOLOX-Nano + vision-track tracks, 7 people labelled by hand' +
        '\n   (test/fixtures/vtest-reid), split in time at 1/3, 1/2 and 2/3 into two cameras with a ' +
        `${walk} s walk; unlabelled tracks run as distractors and are not judged`,
    );
    const held = loadHeldOut();
    console.log(header);
    for (const plain of embedders) {
      const pre = await precompute(assets, held, plain);
      const d = EMBEDDER_DEFAULTS[plain.kind];
      const variants: [string, () => ReidEngine][] = [
        [`fixed ${d.threshold} (calibrate off)`, () => new ReidEngine(plain.dim, { ...d, calibrate: 'off' })],
        ['defaults (learns in the run)', () => new ReidEngine(plain.dim, { ...d })],
        ['calibrated on TUD', () => restored(plain.kind, plain.dim, d)],
      ];
      for (const [name, make] of variants) {
        const rs: TwoCameraResult[] = [];
        for (const at of SPLITS) rs.push(await evalCameras(heldOutFrames(held, pre.frames, at, walk), pre.embedder, make()));
        console.log(line(`${plain.kind} vtest: ${name}`, sum(rs)));
        if (name.startsWith('defaults')) rs.forEach((r, i) => console.log(line(`   @${SPLITS[i].toFixed(2)}`, r)));
      }
    }

    console.log(`\n5. gallery search at ${identities} identities (best + second best over all, one query at a time)`);
    console.log('dim   ms/query  naive ms/query  ×faster  gallery bytes (matrix + ~160 B/entry)  process heap+arrayBuffers MB');
    for (const dim of [onnx.dim, colour.dim]) {
      const c = searchCost(dim, identities, 200);
      console.log(
        `${String(dim).padEnd(5)} ${c.ms.toFixed(3).padStart(8)}  ${c.naiveMs.toFixed(3).padStart(14)}  ${(c.naiveMs / c.ms).toFixed(1).padStart(7)}  ${String(c.bytes).padStart(13)} (${(c.bytes / 1048576).toFixed(1)} MB)                  ${c.heapMB.toFixed(0).padStart(5)}`,
      );
    }
  } finally {
    await releaseModel(loaded.key, user);
  }
  return 0;
}
