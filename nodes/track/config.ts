/**
 * vision-track editor config → tracker options on top of VISION_TRACK_DEFAULTS (calibrated for the
 * default detector, YOLOX-Nano), with the shared readers (nodes/shared/config). The engine
 * (resolveTrackerOptions) checks the ranges and names the option that is wrong.
 */
import { bool, choice, maxDetections, optNumber } from '../shared/config';
import { TrackEmit } from '../lib/tracking/annotate';
import { TrackerOptions, TrackerOptionsInput, VISION_TRACK_DEFAULTS, resolveTrackerOptions } from '../lib/tracking/tracker';

export interface TrackConfig {
  name?: string;
  highThreshold?: string | number;
  lowThreshold?: string | number;
  newTrackThreshold?: string | number;
  matchThreshold?: string | number;
  minHits?: string | number;
  lostBufferS?: string | number;
  classAware?: boolean | string;
  smoothBoxes?: boolean | string;
  emit?: string;
  appearance?: boolean | string;
  maxDetections?: string | number;
}

export interface TrackSettings {
  /** The tracker options the editor sets (config messages go over these). */
  tracker: TrackerOptionsInput;
  /** Which detections leave with a track: all, tracked only, confirmed only. */
  emit: TrackEmit;
  smooth: boolean;
  maxDetections: number;
}

/** Editor config → settings; throws with the field and what is wrong. */
export function readTrackConfig(c: TrackConfig): TrackSettings {
  const emit = choice(c.emit, 'emit', ['all', 'tracked', 'confirmed'] as const, 'all');
  const smooth = bool(c.smoothBoxes, 'smooth boxes', true);
  const cap = maxDetections(c.maxDetections);
  const o: TrackerOptionsInput = { ...VISION_TRACK_DEFAULTS };
  const set = <K extends keyof TrackerOptions>(k: K, v: TrackerOptions[K] | undefined) => {
    if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  };
  set('highThreshold', optNumber(c.highThreshold, 'high score threshold'));
  set('lowThreshold', optNumber(c.lowThreshold, 'low score threshold'));
  set('newTrackThreshold', optNumber(c.newTrackThreshold, 'new track threshold'));
  set('matchThreshold', optNumber(c.matchThreshold, 'match threshold'));
  set('minHits', optNumber(c.minHits, 'minimum hits'));
  set('lostBufferS', optNumber(c.lostBufferS, 'lost buffer'));
  if (c.classAware !== undefined) o.classAware = bool(c.classAware, 'class-aware', false);
  if (bool(c.appearance, 'appearance', false)) o.appearance = { enabled: true };
  resolveTrackerOptions(o);
  return { tracker: o, emit, smooth, maxDetections: cap };
}

/** A config message's patch (its `reset` already taken out): tracker options for the engine to check. */
export function readTrackPatch(patch: unknown): TrackerOptionsInput {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch))
    throw new Error('a config message needs msg.payload as an object of tracker options, e.g. {"lostBufferS": 3}');
  return patch as TrackerOptionsInput;
}
