/**
 * `edgevision bench reid`: re-identification on person crops cut from the TUD clips with their
 * ground-truth ids, for the ONNX re-id model and for the built-in colour descriptor (random vectors
 * are the chance baseline in the same run):
 *  1. retrieval: rank-1 and mAP, every crop a query against all others except its own near-duplicates
 *     (same person within --gap frames);
 *  2. two cameras: each clip split into two cameras by time (first half → cam-1, second half → cam-2,
 *     with a walk of --walk seconds between), gt boxes and ids as the per-camera tracks (cam-2 ids
 *     renumbered), the ReidEngine assigning global ids: purity, fragmentation, and how many people
 *     seen in cam-1 and later in cam-2 got the same global id;
 *  3. gallery search cost at 10 000 identities (ms per query, bytes), against a naive array-of-arrays
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
import { EMBEDDER_DEFAULTS, ReidEngine, ReidOptionsInput } from '../../nodes/lib/reid/engine';
import { Gallery } from '../../nodes/lib/reid/gallery';
import { dot } from '../../nodes/lib/vector';

export const usage = [
  'usage: edgevision bench reid [--assets DIR] [--every N] [--gap N] [--walk S] [--identities N]',
  '',
  '  --assets DIR      the shared assets folder (default: $EDGEVISION_ASSETS, else ../shared/assets)',
  '  --every N         crops from every N-th frame for retrieval (default 5)',
  '  --gap N           frames around a query whose crops of the same person are left out (default 10)',
  '  --walk S          seconds between the two cameras in the two-camera test (default 3)',
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
  /** People seen in cam-1 and later in cam-2. */
  handovers: number;
  /** …of whom this many got the same global id in both. */
  sameId: number;
  /** Share of labelled detections whose global id's majority person is theirs. */
  purity: number;
  /** Mean distinct global ids per person (1 = never split). */
  fragmentation: number;
  joins: number;
  wrongJoins: number;
  embeddedCrops: number;
  detections: number;
}

/**
 * One clip as two cameras split in time. gt boxes are the per-camera tracks (cam-2 track ids are
 * the gt id + 100000, so the engine cannot cheat); the engine picks the crops to embed.
 */
export async function twoCameraRun(clip: Clip, embedder: Embedder, options: ReidOptionsInput, walkS: number, splitAt = 0.5): Promise<TwoCameraResult> {
  const engine = new ReidEngine(embedder.dim, options);
  const n = clip.frames.length;
  const split = Math.floor(n * splitAt);
  const byPerson = new Map<number, { cam1: Set<string>; cam2: Set<string> }>();
  const perId = new Map<string, Map<number, number>>();
  let embedded = 0;
  let detections = 0;
  const joinsWrong: number[] = [];
  let joins = 0;
  const trackPerson = new Map<string, number>();
  for (let f = 0; f < n; f++) {
    const cam2 = f >= split;
    const camera = cam2 ? 'cam-2' : 'cam-1';
    const tMs = (f * 1000) / clip.fps + (cam2 ? walkS * 1000 : 0);
    const rows = clip.gt.get(f) ?? [];
    const dets: Detection[] = rows.map((r) => ({ box: r.box, score: 1, classId: 0, label: 'person', trackId: cam2 ? r.id + 100000 : r.id }));
    rows.forEach((r) => trackPerson.set(`${camera}:${cam2 ? r.id + 100000 : r.id}`, r.id));
    const img = clip.frames[f];
    const want = engine.select(camera, dets, img.width, img.height);
    const vecs = want.length
      ? await embedder.embed(
          img,
          want.map((i) => dets[i].box),
        )
      : [];
    embedded += vecs.length;
    const u = engine.update(camera, tMs, dets, new Map(want.map((i, k) => [i, vecs[k]])), img.width, img.height);
    for (const j of u.joins) {
      joins++;
      const person = j.trackId >= 100000 ? j.trackId - 100000 : j.trackId;
      // The gallery entry's person: whoever held that global id before.
      const before = [...(perId.get(j.globalId)?.keys() ?? [])];
      if (before.length && !before.includes(person)) joinsWrong.push(person);
    }
    rows.forEach((r, i) => {
      const g = u.globalIds[i];
      if (!g) return;
      detections++;
      const p = byPerson.get(r.id) ?? { cam1: new Set<string>(), cam2: new Set<string>() };
      (cam2 ? p.cam2 : p.cam1).add(g);
      byPerson.set(r.id, p);
      const m = perId.get(g) ?? new Map<number, number>();
      m.set(r.id, (m.get(r.id) ?? 0) + 1);
      perId.set(g, m);
    });
  }
  let handovers = 0;
  let sameId = 0;
  let ids = 0;
  for (const p of byPerson.values()) {
    ids += new Set([...p.cam1, ...p.cam2]).size;
    if (!p.cam1.size || !p.cam2.size) continue;
    handovers++;
    if ([...p.cam2].some((g) => p.cam1.has(g))) sameId++;
  }
  let majority = 0;
  let total = 0;
  for (const m of perId.values()) {
    const counts = [...m.values()];
    majority += Math.max(...counts);
    total += counts.reduce((a, b) => a + b, 0);
  }
  return {
    handovers,
    sameId,
    purity: total ? majority / total : 1,
    fragmentation: byPerson.size ? ids / byPerson.size : 1,
    joins,
    wrongJoins: joinsWrong.length,
    embeddedCrops: embedded,
    detections,
  };
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

    console.log(`\n2. two cameras: each clip split in time at 1/3, 1/2 and 2/3 (cam-1 before, cam-2 after, ${walk} s walk between); gt boxes as tracks`);
    console.log('embedder                              clip @ split         handovers same-id  purity  fragm.  joins wrong  crops embedded/detections');
    for (const plain of embedders) {
      const e = new CachingEmbedder(plain);
      let h = 0,
        same = 0,
        det = 0,
        pure = 0,
        frag = 0,
        runs = 0;
      for (const c of clips) {
        for (const at of SPLITS) {
          const r = await twoCameraRun(c, e, { ...EMBEDDER_DEFAULTS[e.kind] }, walk, at);
          h += r.handovers;
          same += r.sameId;
          det += r.detections;
          pure += r.purity * r.detections;
          frag += r.fragmentation;
          runs++;
          const name = `${c.sequence} @${at.toFixed(2)}`;
          console.log(
            `${e.description.padEnd(37)} ${name.padEnd(20)} ${String(r.handovers).padStart(9)} ${String(r.sameId).padStart(7)}  ${f3(r.purity)}  ${r.fragmentation.toFixed(2).padStart(6)}  ${String(r.joins).padStart(5)} ${String(r.wrongJoins).padStart(5)}  ${r.embeddedCrops}/${r.detections}`,
          );
        }
      }
      console.log(
        `${e.description}: a person seen in cam-1 and later in cam-2 got the same globalId in ${same} of ${h} cases (${((100 * same) / Math.max(1, h)).toFixed(0)} %); purity ${f3(pure / Math.max(1, det))}, fragmentation ${(frag / runs).toFixed(2)} global ids per person`,
      );
    }

    console.log(`\n3. gallery search at ${identities} identities (best + second best over all, one query at a time)`);
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
