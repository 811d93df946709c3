/** vision-reid editor config → engine options, with validation that names the field. */
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
}



function blank(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

function num(v: unknown, what: string): number | undefined {
  if (blank(v)) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${what} must be a number, got "${String(v)}"`);
  return n;
}

function json<T>(v: unknown, what: string): T | undefined {
  if (blank(v)) return undefined;
  try {
    return JSON.parse(String(v)) as T;
  } catch (e) {
    throw new Error(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Editor config → engine options (validated by the engine, which names what is wrong). */
export function parseReidConfig(c: ReidConfig, kind: 'onnx' | 'colour'): ReidOptionsInput {
  const o: ReidOptionsInput = { ...EMBEDDER_DEFAULTS[kind] };
  const set = (k: keyof ReidOptionsInput, v: unknown) => {
    if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  };
  set('sampleEvery', num(c.sampleEvery, 'sample every'));
  set('minSamples', num(c.minSamples, 'samples before matching'));
  set('threshold', num(c.threshold, 'match threshold'));
  set('margin', num(c.margin, 'margin'));
  const timeout = num(c.trackTimeoutS, 'track timeout');
  set('trackTimeoutMs', timeout === undefined ? undefined : timeout * 1000);
  const ttl = num(c.galleryTtlS, 'gallery time-to-live');
  set('galleryTtlMs', ttl === undefined ? undefined : ttl * 1000);
  set('galleryCapacity', num(c.galleryCapacity, 'gallery size'));
  set('maxSpeed', num(c.maxSpeed, 'walking speed'));
  if (!blank(c.unlisted)) set('unlistedTransitions', c.unlisted);
  const quality: Record<string, number> = {};
  for (const [k, label] of [['minHeight', 'minimum height'], ['maxOverlap', 'maximum overlap'], ['edgeMargin', 'edge margin']] as const) {
    const v = num(c[k], label);
    if (v !== undefined) quality[k] = v;
  }
  if (Object.keys(quality).length) o.quality = quality;
  set('transitions', json<TransitionWindow[]>(c.transitions, 'camera transitions'));
  set('calibrations', json<Record<string, CameraCalibration>>(c.calibrations, 'floor calibration'));
  resolveReidOptions(o);
  return o;
}

