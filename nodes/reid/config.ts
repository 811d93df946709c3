/** vision-reid editor config → engine options, with validation that names the field. */
import { blank, optJson, optNumber } from '../shared/config-fields';
import { CameraCalibration, EMBEDDER_DEFAULTS, ReidOptionsInput, TransitionWindow, resolveReidOptions } from '../lib/reid/engine';

export interface ReidConfig {
  name?: string;
  embedder?: string;
  model?: string;
  sampleEvery?: string | number;
  minSamples?: string | number;
  threshold?: string | number;
  margin?: string | number;
  trackTimeoutS?: string | number;
  galleryTtlS?: string | number;
  galleryCapacity?: string | number;
  minHeight?: string | number;
  maxOverlap?: string | number;
  edgeMargin?: string | number;
  transitions?: string;
  calibrations?: string;
  maxSpeed?: string | number;
  unlisted?: string;
  embedUntracked?: boolean;
  outputEmbeddings?: boolean;
  maxDetections?: string | number;
}

/** Editor config → engine options (validated by the engine, which names what is wrong). */
export function parseReidConfig(c: ReidConfig, kind: 'onnx' | 'colour'): ReidOptionsInput {
  const o: ReidOptionsInput = { ...EMBEDDER_DEFAULTS[kind] };
  const set = (k: keyof ReidOptionsInput, v: unknown) => {
    if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  };
  set('sampleEvery', optNumber(c.sampleEvery, 'sample every'));
  set('minSamples', optNumber(c.minSamples, 'samples before matching'));
  set('threshold', optNumber(c.threshold, 'match threshold'));
  set('margin', optNumber(c.margin, 'margin'));
  const timeout = optNumber(c.trackTimeoutS, 'track timeout');
  set('trackTimeoutMs', timeout === undefined ? undefined : timeout * 1000);
  const ttl = optNumber(c.galleryTtlS, 'gallery time-to-live');
  set('galleryTtlMs', ttl === undefined ? undefined : ttl * 1000);
  set('galleryCapacity', optNumber(c.galleryCapacity, 'gallery size'));
  set('maxSpeed', optNumber(c.maxSpeed, 'walking speed'));
  if (!blank(c.unlisted)) set('unlistedTransitions', c.unlisted);
  const quality: Record<string, number> = {};
  for (const [k, label] of [['minHeight', 'minimum height'], ['maxOverlap', 'maximum overlap'], ['edgeMargin', 'edge margin']] as const) {
    const v = optNumber(c[k], label);
    if (v !== undefined) quality[k] = v;
  }
  if (Object.keys(quality).length) o.quality = quality;
  set('transitions', optJson<TransitionWindow[]>(c.transitions, 'camera transitions'));
  set('calibrations', optJson<Record<string, CameraCalibration>>(c.calibrations, 'floor calibration'));
  resolveReidOptions(o);
  return o;
}

