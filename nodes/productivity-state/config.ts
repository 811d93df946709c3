/**
 * vision-productivity-state settings as people write them (the editor, `topic: "config"` messages):
 * seconds and minutes, text fields. Read here with the shared readers (nodes/shared/config) onto the
 * engine's options (ms, typed), so both places share one vocabulary; the engine (resolveOptions)
 * checks the ranges and names the option that is wrong.
 */
import { blank, bool, list, maxDetections, requiredNumber } from '../shared/config';
import { ProductivityOptions } from '../lib/productivity/options';

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
  'stations',
  'minConfidence',
  'labels',
  'requireConfirmed',
  'anchor',
  'activitySource',
  'activityThreshold',
  'motionStep',
  'motionPixelThreshold',
  'shifts',
  'utcOffsetMin',
  'unitsLine',
  'unitsStation',
  'driftThreshold',
  'maxWorkers',
];
const NUMERIC = new Set(['minConfidence', 'activityThreshold', 'motionStep', 'motionPixelThreshold', 'driftThreshold', 'maxWorkers']);

/**
 * Maps editor config or a config message (seconds, text fields) onto engine options (ms, typed); a
 * number setting's error names its key, as a config message writes it.
 * Unknown keys are errors in a config message (a typo must not pass silently) and ignored in the
 * editor config (which carries name, wires and the like).
 */
export function toOptions(src: Record<string, unknown>, strict: boolean): Patch {
  const out: Patch = {};
  for (const [k, v] of Object.entries(src)) {
    // Blank is "not set" (the default applies), except in the text fields, where it is a value.
    if (v === undefined || (blank(v) && k !== 'shifts' && k !== 'unitsLine' && k !== 'unitsStation')) continue;
    if (k in SCALED) {
      const [key, f] = SCALED[k];
      out[key] = requiredNumber(v, k) * f;
    } else if ((PLAIN as string[]).includes(k)) {
      const key = k as keyof ProductivityOptions;
      if (NUMERIC.has(k)) out[key] = requiredNumber(v, k);
      // An array from a message goes to the engine as it is (it checks the items are labels).
      else if (k === 'labels') out[key] = Array.isArray(v) ? v : list(v);
      else if (k === 'requireConfirmed') out[key] = bool(v, k, true);
      else if (k === 'utcOffsetMin') out[key] = v === 'local' ? 'local' : requiredNumber(v, k);
      else out[key] = v;
    } else if (strict) {
      throw new Error(`unknown setting "${k}" (settings: ${[...Object.keys(SCALED), ...PLAIN].join(', ')})`);
    }
  }
  return out;
}

/** Editor config → the editor's options (over the engine's defaults) and the per-frame cap. */
export function readProductivityConfig(c: Record<string, unknown>): { options: Patch; maxDetections: number } {
  const cap = maxDetections(c.maxDetections);
  const { maxDetections: _cap, ...engineConfig } = c;
  return { options: toOptions(engineConfig, false), maxDetections: cap };
}

/** A config message's patch (its `reset` already taken out): settings over the earlier ones; unknown keys are errors. */
export function readProductivityPatch(patch: unknown): Patch {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) throw new Error('a config message needs payload = { setting: value, … } or "reset"');
  return toOptions(patch as Record<string, unknown>, true);
}
