/**
 * The held-out re-id set: vtest.avi (people leaving the view and coming back), tracks from
 * YOLOX-Nano + vision-track, person identities labelled by hand from contact sheets of crops
 * (test/fixtures/vtest-reid/README.md says how). Only the labelled people are judged; every other
 * track still runs through the engine as a distractor.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Box } from '../../nodes/lib/types';
import { SourceImage } from '../../nodes/lib/detect/letterbox';
import { Embedder } from '../../nodes/lib/reid/embedder';
import { DEFAULT_QUALITY, QualityOptions, judgeQuality } from '../../nodes/lib/reid/quality';

/** One frame of one camera for evalCameras(): per box its camera-local track and (when labelled) its person. */
export interface CameraFrame {
  camera: string;
  tMs: number;
  img: SourceImage;
  rows: { box: Box; track: number; person?: string }[];
}

export interface HeldOut {
  fps: number;
  width: number;
  height: number;
  frames: number;
  /** Rows by frame: box, tracker track id, labelled person (undefined: not judged). */
  rows: Map<number, { box: Box; track: number; person?: string }[]>;
  persons: string[];
}

export const HELD_OUT_DIR = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'vtest-reid');

export function loadHeldOut(dir = HELD_OUT_DIR): HeldOut {
  const labels = JSON.parse(fs.readFileSync(path.join(dir, 'labels.json'), 'utf8')) as {
    fps: number;
    width: number;
    height: number;
    frames: number;
    persons: Record<string, [number, number, number][]>;
  };
  const personOf = new Map<number, { person: string; from: number; to: number }>();
  for (const [person, segs] of Object.entries(labels.persons)) for (const [track, from, to] of segs) personOf.set(track, { person, from, to });
  const rows = new Map<number, { box: Box; track: number; person?: string }[]>();
  const lines = fs.readFileSync(path.join(dir, 'tracks.csv'), 'utf8').trim().split('\n').slice(1);
  for (const line of lines) {
    const [frame, track, x1, y1, x2, y2] = line.split(',').map(Number);
    const p = personOf.get(track);
    const list = rows.get(frame) ?? [];
    list.push({ box: [x1, y1, x2, y2], track, person: p && frame >= p.from && frame <= p.to ? p.person : undefined });
    rows.set(frame, list);
  }
  return { fps: labels.fps, width: labels.width, height: labels.height, frames: labels.frames, rows, persons: Object.keys(labels.persons) };
}

/** Stand-in frames: the held-out runs use embeddings computed once (precompute), not pixels. */
export interface HeldOutEmbeddings {
  frames: SourceImage[];
  embedder: Embedder;
}

/** Decodes vtest once, embeds every fixture box, and returns an embedder that looks them up. */
export async function precompute(assets: string, h: HeldOut, inner: Embedder, quality: QualityOptions = DEFAULT_QUALITY): Promise<HeldOutEmbeddings> {
  const { readFrames } = require('../../nodes/lib/video/ffmpeg-source');
  const cache = new Map<string, Float32Array>();
  for await (const f of readFrames({ url: path.join(assets, 'video', 'vtest.avi'), realtime: false, loop: false })) {
    const all = h.rows.get(f.index) ?? [];
    // Only crops the engine can ask for: those that pass its (default) quality gate.
    const ok = judgeQuality(
      all.map((r) => r.box),
      f.width,
      f.height,
      quality,
    );
    const rows = all.filter((_, i) => ok[i] === 'ok');
    if (!rows.length) continue;
    const img: SourceImage = { data: f.data, width: f.width, height: f.height, format: 'rgb24' };
    const vs = await inner.embed(
      img,
      rows.map((r) => r.box),
    );
    rows.forEach((r, i) => cache.set(`${f.index}:${r.box.join(',')}`, vs[i]));
  }
  const frames: SourceImage[] = Array.from({ length: h.frames }, () => ({ data: new Uint8Array(1), width: h.width, height: h.height, format: 'rgb24' }));
  const index = new Map<object, number>(frames.map((f, i) => [f.data, i]));
  const embedder: Embedder = {
    kind: inner.kind,
    dim: inner.dim,
    description: inner.description,
    async embed(img: SourceImage, boxes: readonly Box[]): Promise<Float32Array[]> {
      const i = index.get(img.data);
      return boxes.map((b) => {
        const v = cache.get(`${i}:${b.join(',')}`);
        if (!v) throw new Error(`held-out set: no embedding for frame ${i} box ${b.join(',')}`);
        return v;
      });
    },
  };
  return { frames, embedder };
}

/** The recording split in time into two cameras (cam-2 track ids + 100000, `walkS` later). */
export function* heldOutFrames(h: HeldOut, frames: SourceImage[], splitAt: number, walkS: number): Generator<CameraFrame> {
  const split = Math.floor(h.frames * splitAt);
  for (let f = 0; f < h.frames; f++) {
    const cam2 = f >= split;
    const rows = h.rows.get(f) ?? [];
    yield {
      camera: cam2 ? 'cam-2' : 'cam-1',
      tMs: (f * 1000) / h.fps + (cam2 ? walkS * 1000 : 0),
      img: frames[f],
      rows: rows.map((r) => ({ ...r, track: cam2 ? r.track + 100000 : r.track })),
    };
  }
}
