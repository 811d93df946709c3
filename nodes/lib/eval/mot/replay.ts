/**
 * Runs the tracker over a MOTChallenge detection file, frame by frame, as a camera would feed it:
 * frame n (1-based) at time (n − 1) / fps, every frame fed (an empty one too), so the lost buffer
 * counts real time. Writes what a MOTChallenge result file holds: confirmed tracks matched in that
 * frame, with their current (Kalman-smoothed) box.
 */
import { Box } from '../../types';
import { Tracker, TrackerOptionsInput } from '../../tracking/tracker';
import { MotRow, groupByFrame, rowsToDetections } from './io';

export interface ReplayOptions {
  fps: number;
  /** Last frame to feed (default: the last frame holding a detection). */
  seqLength?: number;
  tracker?: TrackerOptionsInput;
}

export interface ReplayResult {
  rows: MotRow[];
  frames: number;
  tracksStarted: number;
}

export function replayMot(detRows: readonly MotRow[], options: ReplayOptions): ReplayResult {
  if (!(options.fps > 0)) throw new Error(`replayMot: fps must be a positive number, got ${String(options.fps)}`);
  const byFrame = groupByFrame(detRows);
  const last = Math.max(options.seqLength ?? 0, ...byFrame.keys(), 0);
  const tracker = new Tracker(options.tracker ?? {});
  const rows: MotRow[] = [];
  let started = 0;
  for (let f = 1; f <= last; f++) {
    const u = tracker.update(rowsToDetections(byFrame.get(f) ?? []), ((f - 1) * 1000) / options.fps);
    started += u.started.length;
    for (const t of u.tracks) {
      if (t.state === 'confirmed' && t.detectionIndex >= 0) rows.push({ frame: f, id: t.trackId, box: [...t.box] as Box, conf: t.score, cls: -1 });
    }
  }
  return { rows, frames: last, tracksStarted: started };
}
