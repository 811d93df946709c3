/**
 * vision-line-count editor config → counting options, geometry, shifts and metrics interval, with the
 * shared readers (nodes/shared/config). Editor fields are text: each counting option is read as the
 * type of its default (number, true/false, text); the engine (resolveOptions) checks the ranges and
 * names the option that is wrong.
 */
import { blank, bool, maxDetections, number, optNumber, text } from '../shared/config';
import { CountingOptions, DEFAULT_OPTIONS, parseGeometry, parseShifts, resolveOptions } from '../lib/counting';

/** The editor's fields: the counting options (text from the form) plus these. */
export interface LineCountConfig extends Partial<Record<keyof CountingOptions, unknown>> {
  name?: string;
  geometry?: string;
  shifts?: string;
  metricsInterval?: string | number;
  maxDetections?: string | number;
}

export interface LineCountSettings {
  options: Omit<CountingOptions, 'camera'>;
  /** Reset times of day (minutes after midnight); empty = never. */
  shifts: number[];
  /** How often the metrics output sends; 0 = never. */
  metricsMs: number;
  maxDetections: number;
}

/** The editor's geometry when it has none. */
export const EMPTY_GEOMETRY = '{"lines":[],"zones":[]}';

/** The counting options as the dialog labels them (the error names the field the user sees). */
const LABELS: Partial<Record<keyof CountingOptions, string>> = {
  anchor: 'anchor',
  mode: 'count',
  minFrames: 'frames past',
  minDistance: 'dead band',
  partialBoxRatio: 'partial box below',
  cooldownS: 'cooldown',
  confirmedOnly: 'only confirmed tracks count',
  relinkS: 're-link within',
  relinkRadius: 're-link radius',
  relinkCheckFrames: 're-link check',
  completeAtEnd: 'count a crossing when the track ends past the line',
  chainConfirmHits: 'chain confirms at',
  trackTimeoutS: 'track timeout',
  zoneEnterFrames: 'zone in frames',
  zoneExitFrames: 'zone out frames',
};

/** The counting options set in the editor, each as the type of its default; blank ones are left out. */
export function readCountingOptions(c: Partial<Record<keyof CountingOptions, unknown>>): Partial<CountingOptions> {
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(DEFAULT_OPTIONS) as (keyof CountingOptions)[]) {
    const v = c[k];
    if (k === 'camera' || blank(v)) continue;
    const label = LABELS[k] ?? k;
    const d = DEFAULT_OPTIONS[k];
    o[k] = typeof d === 'number' ? optNumber(v, label) : typeof d === 'boolean' ? bool(v, label, d) : text(v);
  }
  return o as Partial<CountingOptions>;
}

/** Editor config → settings; throws with the field and what is wrong. */
export function readLineCountConfig(c: LineCountConfig): LineCountSettings {
  const cap = maxDetections(c.maxDetections);
  const options = resolveOptions(readCountingOptions(c));
  const shifts = parseShifts(text(c.shifts));
  const metricsS = number(c.metricsInterval, 'metrics interval', 60, { min: 0, note: 'seconds' });
  return { options, shifts, metricsMs: metricsS * 1000, maxDetections: cap };
}

/** A config message's geometry (a JSON text or the object) as the editor stores it, text; checked (the error says where it is wrong). */
export function geometryFromMessage(g: unknown): string {
  const t = typeof g === 'string' ? g : JSON.stringify(g ?? {});
  parseGeometry(t);
  return t;
}
