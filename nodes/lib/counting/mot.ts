/**
 * MOTChallenge track files (`frame,id,x,y,w,h,conf|flag,…`) as per-frame tracked detections, and a
 * replay of such a file through a Counter: the CLI's `count` and the accuracy check use it.
 */
import { Detection } from '../types';
import { parseMot } from '../mot/io';
import { Counter, DirectionCounts } from './counter';
import { CountingOptions } from './config';

export interface MotTrackFile {
  /** Frames 1..lastFrame; frames with no rows are empty arrays. Index 0 is unused. */
  frames: Detection[][];
  lastFrame: number;
  rows: number;
}

/**
 * Parses a MOT track file into per-frame tracked detections. With `gt`, column 7 is the
 * ground-truth flag and rows flagged 0 (ignore) are dropped. Every track is reported as a confirmed
 * person (MOT files hold people and no states); column 7 above 0 is its score (capped at 1), else 1.
 */
export function parseMotTracks(text: string, opts: { gt?: boolean } = {}): MotTrackFile {
  const rows = parseMot(text).filter((r) => !(opts.gt && r.conf === 0));
  let lastFrame = 0;
  for (const r of rows) lastFrame = Math.max(lastFrame, r.frame);
  const frames: Detection[][] = Array.from({ length: lastFrame + 1 }, () => []);
  for (const r of rows) {
    frames[r.frame].push({ box: r.box, score: r.conf > 0 ? Math.min(1, r.conf) : 1, classId: 0, label: 'person', trackId: r.id, trackState: 'confirmed' });
  }
  return { frames, lastFrame, rows: rows.length };
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
