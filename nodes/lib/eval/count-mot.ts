/**
 * MOTChallenge track files (`frame,id,x,y,w,h,conf|flag,…`) as per-frame tracked detections, and a
 * count of the crossings in such a file: the CLI's `count` and the accuracy check use it.
 */
import { Detection } from '../types';
import { parseMot } from './mot/io';
import { Counter, DirectionCounts } from '../counting/counter';
import { CountingOptions } from '../counting/config';

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

/** One camera's counting setup, as a recording or MOT sequence is counted: lines, frame size and rate, rules. */
export interface CountingScene {
  /** The node's geometry JSON (lines, zones), normalised 0..1. */
  geometry: unknown;
  /** Frame size in pixels. */
  width: number;
  height: number;
  /** Frame n (1-based) is at (n − 1) / fps seconds. */
  fps: number;
  /** Counting options; unset ones take the defaults. */
  counting?: Partial<Record<keyof CountingOptions, unknown>>;
}

export interface TrackCountResult {
  counts: Record<string, DirectionCounts>;
  crossings: { frame: number; line: string; direction: string; trackId: number }[];
}

/**
 * Counts the crossings in a MOT track file: every frame (empty ones too, so time and eviction
 * advance) through a fresh Counter, then every track ends at the last frame.
 */
export function countMotTracks(file: MotTrackFile, scene: CountingScene): TrackCountResult {
  const { geometry, width, height, fps } = scene;
  if (!(fps > 0)) throw new Error(`fps must be > 0, got ${fps}`);
  const counter = new Counter(geometry, scene.counting ?? {});
  const crossings: TrackCountResult['crossings'] = [];
  for (let f = 1; f <= file.lastFrame; f++) {
    const tMs = ((f - 1) * 1000) / fps;
    const r = counter.update(file.frames[f], tMs, width, height);
    for (const e of r.events) {
      if (e.event === 'line-crossing') crossings.push({ frame: f, line: String(e.line), direction: String(e.direction), trackId: Number(e.trackId) });
    }
  }
  // The file is over: its tracks end here (a crossing in the last frames is completed, not lost).
  for (const e of counter.endAll(((file.lastFrame - 1) * 1000) / fps)) {
    if (e.event === 'line-crossing')
      crossings.push({ frame: Math.round((Number(e.tMs) * fps) / 1000) + 1, line: String(e.line), direction: String(e.direction), trackId: Number(e.trackId) });
  }
  return { counts: counter.counts(), crossings };
}
