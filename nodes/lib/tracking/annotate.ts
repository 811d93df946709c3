/**
 * A frame's detections as vision-track sends them on: each detection matched to a live track gets
 * trackId, trackState, velocity and ageMs (and the Kalman-smoothed box unless `smooth` is off);
 * the rest pass through unmarked or are dropped, as `emit` says. The same function serves
 * `edgevision run`, the counting benchmark and `trackAndCount`, so they count what the nodes count.
 */
import { Box, Detection } from '../types';
import { TrackOutput } from './tracker';

export type TrackEmit = 'all' | 'tracked' | 'confirmed';

export interface AnnotateOptions {
  /** 'all' (default): every detection; 'tracked': tentative and confirmed; 'confirmed': confirmed only. */
  emit?: TrackEmit;
  /** Replace each tracked box by the track's smoothed box (default true): steadier line-crossing anchors. */
  smooth?: boolean;
}

const r1 = (v: number) => Math.round(v * 10) / 10;

/** Never mutates its arguments; returns fresh detection objects for the tracked ones. */
export function annotateDetections(detections: readonly Detection[], tracks: readonly TrackOutput[], options: AnnotateOptions = {}): Detection[] {
  const emit = options.emit ?? 'all';
  const smooth = options.smooth !== false;
  const byDet = new Map<number, TrackOutput>();
  for (const t of tracks) if (t.detectionIndex >= 0) byDet.set(t.detectionIndex, t);
  const out: Detection[] = [];
  detections.forEach((d, i) => {
    const t = byDet.get(i);
    if (!t || t.state === 'lost') {
      if (emit === 'all') out.push(d);
      return;
    }
    if (t.state === 'tentative' && emit === 'confirmed') return;
    out.push({
      ...d,
      box: smooth ? (t.box.map(r1) as Box) : d.box,
      trackId: t.trackId,
      trackState: t.state,
      velocity: [r1(t.velocity[0]), r1(t.velocity[1])],
      ageMs: t.ageMs,
    });
  });
  return out;
}

/**
 * The detections of a frame the detector skipped (motion-gated): one per confirmed track, on its
 * predicted box (Tracker.coast), marked `predicted`. Tentative and lost tracks are left out, as a
 * frame with no detections would leave them.
 */
export function coastedDetections(tracks: readonly TrackOutput[]): Detection[] {
  const out: Detection[] = [];
  for (const t of tracks) {
    if (t.state !== 'confirmed') continue;
    out.push({
      box: t.box.map(r1) as Box,
      score: t.score,
      classId: t.classId,
      label: t.label,
      trackId: t.trackId,
      trackState: t.state,
      velocity: [r1(t.velocity[0]), r1(t.velocity[1])],
      ageMs: t.ageMs,
      predicted: true,
    });
  }
  return out;
}
