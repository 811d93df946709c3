/**
 * MOTChallenge track files (`frame,id,x,y,w,h,conf|flag,…`) as per-frame tracked detections, and a
 * replay of such a file through a Counter: the CLI's `count` and the accuracy check use it.
 */
import { Detection } from '../types';
import { Counter, DirectionCounts } from './counter';
import { CountingOptions } from './config';

export interface MotTrackFile {
  /** Frames 1..lastFrame; frames with no rows are empty arrays. Index 0 is unused. */
  frames: Detection[][];
  lastFrame: number;
  rows: number;
}

/**
 * Parses a MOT track file. With `gt`, column 7 is the ground-truth flag and rows flagged 0 (ignore)
 * are dropped. Every track is reported as a confirmed person (MOT files hold people and no states).
 */
export function parseMotTracks(text: string, opts: { gt?: boolean } = {}): MotTrackFile {
  const byFrame = new Map<number, Detection[]>();
  let lastFrame = 0;
  let rows = 0;
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line === '') continue;
    const c = line.split(/[,\s]+/).map(Number);
    if (c.length < 6 || c.slice(0, 6).some((v) => !Number.isFinite(v))) throw new Error(`MOT file line ${n + 1}: expected frame,id,x,y,w,h,…, got "${line.slice(0, 80)}"`);
    const [frame, id, bx, by, bw, bh] = c;
    if (!Number.isInteger(frame) || frame < 1) throw new Error(`MOT file line ${n + 1}: frame must be a whole number ≥ 1, got ${frame}`);
    if (opts.gt && c.length > 6 && c[6] === 0) continue;
    const det: Detection = { box: [bx, by, bx + bw, by + bh], score: c.length > 6 && c[6] > 0 ? Math.min(1, c[6]) : 1, classId: 0, label: 'person', trackId: id, trackState: 'confirmed' };
    let list = byFrame.get(frame);
    if (!list) byFrame.set(frame, (list = []));
    list.push(det);
    lastFrame = Math.max(lastFrame, frame);
    rows++;
  }
  const frames: Detection[][] = [];
  for (let f = 0; f <= lastFrame; f++) frames.push(byFrame.get(f) ?? []);
  return { frames, lastFrame, rows };
}

export interface ReplayResult {
  counts: Record<string, DirectionCounts>;
  crossings: { frame: number; line: string; direction: string; trackId: number }[];
}

/** Feeds every frame (empty ones too, so time and eviction advance) through a fresh Counter. */
export function replayMot(
  file: MotTrackFile,
  geometry: unknown,
  width: number,
  height: number,
  fps: number,
  options: Partial<Record<keyof CountingOptions, unknown>> = {},
): ReplayResult {
  if (!(fps > 0)) throw new Error(`fps must be > 0, got ${fps}`);
  const counter = new Counter(geometry, options);
  const crossings: ReplayResult['crossings'] = [];
  for (let f = 1; f <= file.lastFrame; f++) {
    const tMs = ((f - 1) * 1000) / fps;
    const r = counter.update(file.frames[f], tMs, width, height);
    for (const e of r.events) {
      if (e.event === 'line-crossing') crossings.push({ frame: f, line: String(e.line), direction: String(e.direction), trackId: Number(e.trackId) });
    }
  }
  // The file is over: its tracks end here (a crossing in the last frames is completed, not lost).
  for (const e of counter.endAll(((file.lastFrame - 1) * 1000) / fps)) {
    if (e.event === 'line-crossing') crossings.push({ frame: Math.round((Number(e.tMs) * fps) / 1000) + 1, line: String(e.line), direction: String(e.direction), trackId: Number(e.trackId) });
  }
  return { counts: counter.counts(), crossings };
}
