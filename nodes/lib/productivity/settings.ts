/**
 * Settings as people write them (the editor, `topic: "config"` messages): seconds and minutes, text
 * fields. Mapped here onto the engine's options (ms, typed) so both places share one vocabulary.
 */
import { ProductivityOptions } from './options';

export type Patch = Partial<Record<keyof ProductivityOptions, unknown>>;

/** Editor and config-message keys in seconds/minutes → engine keys in ms. */
const SCALED: Record<string, [keyof ProductivityOptions, number]> = {
  presenceOnS: ['presenceOnMs', 1000],
  presenceOffS: ['presenceOffMs', 1000],
  idleDelayS: ['idleDelayMs', 1000],
  absenceTimeoutS: ['absenceTimeoutMs', 1000],
  motionTauS: ['motionTauMs', 1000],
  maxFrameGapS: ['maxFrameGapMs', 1000],
  windowMin: ['windowMs', 60000],
  kpiIntervalS: ['kpiIntervalMs', 1000],
  healthWindowS: ['healthWindowMs', 1000],
  driftSustainMin: ['driftSustainMs', 60000],
};
const PLAIN: (keyof ProductivityOptions)[] = [
  'stations', 'minConfidence', 'labels', 'requireConfirmed', 'anchor', 'activitySource', 'activityThreshold',
  'motionStep', 'motionPixelThreshold', 'shifts', 'utcOffsetMin', 'unitsLine', 'unitsStation', 'driftThreshold', 'maxWorkers',
];
const NUMERIC = new Set(['minConfidence', 'activityThreshold', 'motionStep', 'motionPixelThreshold', 'driftThreshold', 'maxWorkers']);

export function num(v: unknown, key: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new Error(`${key} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

/**
 * Maps editor config or a config message (seconds, text fields) onto engine options (ms, typed).
 * Unknown keys are errors in a config message (a typo must not pass silently) and ignored in the
 * editor config (which carries name, wires and the like).
 */
export function toOptions(src: Record<string, unknown>, strict: boolean): Patch {
  const out: Patch = {};
  for (const [k, v] of Object.entries(src)) {
    if (v === undefined || (v === '' && k !== 'shifts' && k !== 'unitsLine' && k !== 'unitsStation')) continue;
    if (k in SCALED) {
      const [key, f] = SCALED[k];
      out[key] = num(v, k) * f;
    } else if ((PLAIN as string[]).includes(k)) {
      const key = k as keyof ProductivityOptions;
      if (NUMERIC.has(k)) out[key] = num(v, k);
      else if (k === 'labels') out[key] = Array.isArray(v) ? v : String(v).split(',').map((s) => s.trim()).filter(Boolean);
      else if (k === 'requireConfirmed') out[key] = v === true || v === 'true';
      else if (k === 'utcOffsetMin') out[key] = v === 'local' ? 'local' : num(v, k);
      else out[key] = v;
    } else if (strict) {
      throw new Error(`unknown setting "${k}" (settings: ${[...Object.keys(SCALED), ...PLAIN].join(', ')})`);
    }
  }
  return out;
}

