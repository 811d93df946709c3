/**
 * The one way a node's glue reads its editor config and its `topic: "config"` messages. Editor fields
 * arrive as strings ('' when left empty) from the dialog, and as numbers, booleans or objects from a
 * flow file, an example or a message; each reader coerces once and, when the value is wrong, throws
 * with one wording everywhere: `<label> must be <rule>, got "<value>"`, the label as the dialog shows
 * it. Nothing is clamped silently: a wrong value is an error the user sees, not a different setting.
 * Ranges that are the engine's contract (a tracker threshold, a counting option) stay the engine's to
 * check: a reader here turns text into the type, and the engine says when the value is out of range.
 */
import { DEFAULT_MAX_DETECTIONS, MAX_DETECTIONS_LIMIT } from '../lib/bounds';

/** Empty: not set, so the default applies. */
export function blank(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

function shown(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The error every reader throws: `<label> must be <rule>, got "<value>"`. */
export function configError(label: string, rule: string, v: unknown): Error {
  return new Error(`${label} must be ${rule}, got "${shown(v)}"`);
}

export interface NumberRule {
  min?: number;
  max?: number;
  /** Exclusive lower bound: the number must be greater than this (a scale > 0). */
  above?: number;
  integer?: boolean;
  /** Also accept a plain fraction such as "1/255" (how people write a scale). */
  fraction?: boolean;
  /** Said after the rule, in brackets: what a special value means ("0 = from the model"). */
  note?: string;
}

function ruleText(r: NumberRule): string {
  const kind = r.integer ? 'a whole number' : 'a number';
  let text = kind;
  if (r.min !== undefined && r.max !== undefined) text = `${kind} ${r.min}–${r.max}`;
  else if (r.min !== undefined) text = `${kind} ≥ ${r.min}`;
  else if (r.above !== undefined) text = `${kind} > ${r.above}${r.max !== undefined ? ` and ≤ ${r.max}` : ''}`;
  else if (r.max !== undefined) text = `${kind} ≤ ${r.max}`;
  return r.note ? `${text} (${r.note})` : text;
}

function fits(n: number, r: NumberRule): boolean {
  return (
    Number.isFinite(n) &&
    (!r.integer || Number.isInteger(n)) &&
    (r.min === undefined || n >= r.min) &&
    (r.above === undefined || n > r.above) &&
    (r.max === undefined || n <= r.max)
  );
}

/** A number field; undefined when blank. */
export function optNumber(v: unknown, label: string, rule: NumberRule = {}): number | undefined {
  if (blank(v)) return undefined;
  const s = typeof v === 'string' ? v.trim() : v;
  const frac = rule.fraction && typeof s === 'string' ? /^(-?[\d.]+)\s*\/\s*([\d.]+)$/.exec(s) : null;
  const n = frac ? Number(frac[1]) / Number(frac[2]) : typeof s === 'number' || typeof s === 'string' ? Number(s) : NaN;
  if (!fits(n, rule)) throw configError(label, ruleText(rule), v);
  return n;
}

/** A number that must be there: blank is an error too (a count on a message, say). */
export function requiredNumber(v: unknown, label: string, rule: NumberRule = {}): number {
  const n = optNumber(v, label, rule);
  if (n === undefined) throw configError(label, ruleText(rule), v);
  return n;
}

/** A number field with a default for blank. */
export function number(v: unknown, label: string, fallback: number, rule: NumberRule = {}): number {
  return optNumber(v, label, rule) ?? fallback;
}

/** The per-frame cap on detections every node that takes them has ("Max detections"); blank = the default. */
export function maxDetections(v: unknown): number {
  return number(v, 'max detections per frame', DEFAULT_MAX_DETECTIONS, { integer: true, min: 1, max: MAX_DETECTIONS_LIMIT });
}

/** A checkbox: true/false, or "true"/"false" from a flow file or message; blank = fallback. */
export function bool(v: unknown, label: string, fallback: boolean): boolean {
  if (blank(v)) return fallback;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw configError(label, 'true or false', v);
}

/** One of a list of values; blank = fallback. */
export function choice<T extends string>(v: unknown, label: string, choices: readonly T[], fallback: T): T {
  if (blank(v)) return fallback;
  const s = String(v).trim() as T;
  if (!choices.includes(s)) throw configError(label, `one of ${choices.join(', ')}`, v);
  return s;
}

/** A text field, trimmed; blank = fallback. */
export function text(v: unknown, fallback = ''): string {
  return blank(v) ? fallback : String(v).trim();
}

/** "a, b ,c" (or an array) → ['a','b','c']; blank = []. */
export function list(v: unknown): string[] {
  if (blank(v)) return [];
  const items = Array.isArray(v) ? v.map(String) : String(v).split(',');
  return items.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** A JSON field: text from the dialog, or the value itself from a flow file; undefined when blank. */
export function optJson<T>(v: unknown, label: string): T | undefined {
  if (blank(v)) return undefined;
  if (typeof v !== 'string') return v as T;
  try {
    return JSON.parse(v) as T;
  } catch (e) {
    throw configError(label, `valid JSON (${(e as Error).message})`, v.length > 40 ? v.slice(0, 40) + '…' : v);
  }
}
