/**
 * Turns every payload shape node-red-contrib-influxdb accepts (and the InfluxPoint arrays our own
 * nodes emit) into validated lines of line protocol. A bad point gets a clear reason of its own; the
 * good points of the same message go on. Validation and serialisation are one pass, with no
 * intermediate objects per point: this is the writer's hot path (see `edgevision bench influx`).
 *
 * Number typing rule (kept compatible with node-red-contrib-influxdb and stable between points):
 *  - a JS number is a float, unless the field is listed in `integerFields` (then it must be an integer);
 *  - a string like "42i" is an integer (node-red-contrib-influxdb's rule on its 2.x path), a bigint too;
 *  - once a measurement's field has been written with a kind, later points keep that kind: an integer
 *    field given 3 stays 3i, a float field given "3i" is written 3, and anything that cannot keep the
 *    kind (a string into a numeric field, 2.5 into an integer field) is rejected before the server
 *    sees it, because InfluxDB refuses a whole batch with a field type conflict.
 */
import { Precision, FieldKind, StampClock, msToPrecision, escapeMeasurement, escapeKey, escapeString } from './line-protocol';
import { hasControlChar } from '../control-chars';

export interface PointError {
  /** Index of the point within the message (0 for single-point shapes). */
  index: number;
  reason: string;
}

export interface NormaliseOptions {
  /** Measurement for shapes that carry none (a number, a fields object, [fields, tags]). */
  measurement?: string;
  /** When true, `measurement` replaces the measurement of batch points too. */
  overrideMeasurement?: boolean;
  precision: Precision;
  /** The time of arrival: epoch ms, passed in by the caller (the engine reads no clock). */
  nowMs: number;
  /**
   * Stamps points without a time: each gets its own, strictly increasing (see StampClock). Without
   * one they all get `nowMs`, and InfluxDB would keep only the last of them per series.
   */
  clock?: StampClock;
  /** Fields whose numbers are written as integers. */
  integerFields?: ReadonlySet<string>;
  /** Tags added to every point (a point's own tag of the same name wins). */
  defaultTags?: Record<string, string>;
}

export interface LinesResult {
  /** One line of line protocol per accepted point, tags sorted by key. */
  lines: string[];
  errors: PointError[];
}

const INT_STRING = /^-?\d+i$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** `{measurement, fields: {...}}`: a batch point (a field cannot hold an object, so this is unambiguous). */
function isBatchPoint(v: unknown): v is Obj {
  return isObj(v) && isObj(v.fields);
}

/** `[fields, tags]`; two batch points in an array are a batch, not this. */
function isFieldsTags(v: unknown): v is [Obj, Obj] {
  return Array.isArray(v) && v.length === 2 && isObj(v[0]) && isObj(v[1]) && !isBatchPoint(v[0]) && !isBatchPoint(v[1]);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  return typeof v;
}

export function checkName(what: string, name: unknown): string | null {
  if (typeof name !== 'string' || name.length === 0) return `${what} must be a non-empty string, got ${describe(name)}`;
  if (hasControlChar(name)) return `${what} ${JSON.stringify(name)} contains a control character (newline, tab…)`;
  if (name.startsWith('_')) return `${what} ${JSON.stringify(name)} starts with "_", which InfluxDB reserves`;
  if (name.endsWith('\\')) return `${what} ${JSON.stringify(name)} ends with a backslash, which would escape the separator`;
  return null;
}

/**
 * Per-writer memory: the kind each measurement's field was first written with, so a field never flips
 * type between points, and the names already validated (validation is the hot path). Bounded: when
 * `maxEntries` is reached the oldest entries go first (a schema is small; a flow inventing names
 * forever must not grow memory forever).
 */
export class FieldKinds {
  private readonly kinds = new Map<string, Map<string, FieldKind>>();
  private count = 0;
  private readonly goodNames = new Set<string>();

  constructor(private readonly maxEntries = 10000) {}

  /** The kinds known for one measurement (read-only use), or undefined. */
  of(measurement: string): ReadonlyMap<string, FieldKind> | undefined {
    return this.kinds.get(measurement);
  }

  /** Records the kinds of an accepted point's new fields (`pairs`: name, kind, name, kind…). */
  commit(measurement: string, pairs: readonly (string | FieldKind)[]): void {
    let m = this.kinds.get(measurement);
    for (let i = 0; i < pairs.length; i += 2) {
      const name = pairs[i];
      if (m?.has(name)) continue;
      if (this.count >= this.maxEntries) this.evictOne();
      if (!m || !this.kinds.has(measurement)) {
        m = new Map();
        this.kinds.set(measurement, m);
      }
      m.set(name, pairs[i + 1] as FieldKind);
      this.count++;
    }
  }

  private evictOne(): void {
    const first = this.kinds.entries().next().value;
    if (!first) return;
    const [meas, m] = first;
    const key = m.keys().next().value;
    if (key !== undefined) m.delete(key);
    if (m.size === 0) this.kinds.delete(meas);
    this.count--;
  }

  /** checkName with memory of names that passed. */
  checkName(what: string, name: unknown): string | null {
    if (typeof name === 'string' && this.goodNames.has(name)) return null;
    const e = checkName(what, name);
    if (e === null) {
      if (this.goodNames.size >= this.maxEntries) this.goodNames.clear();
      this.goodNames.add(name as string);
    }
    return e;
  }

  get size(): number {
    return this.count;
  }
}

function timeOf(t: unknown, opts: NormaliseOptions): string {
  if (t === undefined || t === null) return opts.clock ? opts.clock.next(opts.nowMs) : msToPrecision(opts.nowMs, opts.precision);
  if (typeof t === 'number') return msToPrecision(t, opts.precision);
  if (t instanceof Date) {
    const ms = t.getTime();
    if (!Number.isFinite(ms)) throw new Error('timestamp is an invalid Date');
    return msToPrecision(ms, opts.precision);
  }
  // An integer string or bigint is already in the configured precision: the exact way to give nanoseconds.
  if (typeof t === 'bigint') return t.toString();
  if (typeof t === 'string' && /^-?\d+$/.test(t)) return t;
  if (typeof t === 'string') {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return msToPrecision(ms, opts.precision);
  }
  throw new Error(`timestamp ${describe(t)} is neither epoch ms, a Date, an ISO date nor an integer string in the precision`);
}

/** An integer field value as line protocol ("42i"), or an error; int64 is InfluxDB's range. */
function intText(name: string, v: bigint): string {
  if (v < INT64_MIN || v > INT64_MAX) throw new Error(`field "${name}" is ${v}, outside InfluxDB's 64-bit integer range`);
  return v.toString() + 'i';
}

/**
 * One field as `value text` in the kind the measurement already uses, or throws the reason.
 * `pending` collects (name, kind) of fields the measurement has not seen yet.
 */
function fieldText(
  name: string,
  v: unknown,
  known: FieldKind | undefined,
  intFields: ReadonlySet<string> | undefined,
  measurement: string,
  pending: (string | FieldKind)[],
): string {
  let kind: FieldKind;
  let text: string;
  switch (typeof v) {
    case 'number':
      if (!Number.isFinite(v)) throw new Error(`field "${name}" is ${v}; InfluxDB stores only finite numbers`);
      if (intFields !== undefined && intFields.has(name)) {
        if (!Number.isSafeInteger(v)) throw new Error(`field "${name}" is listed as an integer field but got ${v}`);
        kind = 'integer';
        text = v + 'i';
      } else {
        kind = 'float';
        text = String(v);
      }
      break;
    case 'string':
      if (INT_STRING.test(v)) {
        kind = 'integer';
        text = v.length > 19 ? intText(name, BigInt(v.slice(0, -1))) : v;
      } else {
        if (intFields !== undefined && intFields.has(name)) throw new Error(`field "${name}" is listed as an integer field but got the string ${describe(v)}`);
        kind = 'string';
        text = escapeString(v);
      }
      break;
    case 'bigint':
      kind = 'integer';
      text = intText(name, v);
      break;
    case 'boolean':
      kind = 'boolean';
      text = v ? 'true' : 'false';
      break;
    default:
      throw new Error(`field "${name}" is ${describe(v)}; a field must be a number, a string or a boolean`);
  }
  if (known === undefined) {
    pending.push(name, kind);
    return text;
  }
  if (known === kind) return text;
  // Keep the kind the measurement already has where the value allows it.
  if (known === 'float' && kind === 'integer') return String(Number(text.slice(0, -1)));
  if (known === 'integer' && kind === 'float' && Number.isSafeInteger(v)) return v + 'i';
  throw new Error(`field "${name}" of measurement "${measurement}" was written as ${known}; got ${kind} ${describe(v)}`);
}

/** One point as a line, or throws the reason it cannot be written. */
function pointLine(measurement: unknown, tags: Obj, fields: Obj, time: unknown, skipTimeField: boolean, opts: NormaliseOptions, kinds: FieldKinds): string {
  const mErr = kinds.checkName('measurement', measurement);
  if (mErr) throw new Error(measurement === undefined || measurement === '' ? 'no measurement: set one on the node or in msg.measurement' : mErr);
  const m = measurement as string;

  // Tags: validated, empty values left out (InfluxDB has no empty tag value), sorted by key.
  const keys: string[] = [];
  for (const k in tags) {
    const v = tags[k];
    const e = kinds.checkName('tag name', k);
    if (e) throw new Error(e);
    if (k === 'time') throw new Error('tag name "time" is reserved by InfluxDB');
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') {
      if (typeof v !== 'number' && typeof v !== 'boolean') throw new Error(`tag "${k}" is ${describe(v)}; a tag value must be a string`);
    } else {
      if (hasControlChar(v)) throw new Error(`tag "${k}" value contains a control character`);
      if (v.endsWith('\\')) throw new Error(`tag "${k}" value ends with a backslash`);
    }
    keys.push(k);
  }
  const defaults = opts.defaultTags;
  if (defaults) for (const k in defaults) if (!(k in tags) && defaults[k] !== '') keys.push(k);
  let sorted = true;
  for (let i = 1; i < keys.length; i++) if (keys[i - 1] >= keys[i]) sorted = false;
  if (!sorted) keys.sort();
  let line = escapeMeasurement(m);
  for (const k of keys) {
    const v = k in tags ? tags[k] : defaults![k];
    line += ',' + escapeKey(k) + '=' + escapeKey(typeof v === 'string' ? v : String(v));
  }

  const known = kinds.of(m);
  const pending: (string | FieldKind)[] = [];
  let sep = ' ';
  for (const k in fields) {
    if (skipTimeField && k === 'time') continue;
    const v = fields[k];
    if (v === null || v === undefined) continue; // like an absent field
    const e = kinds.checkName('field name', k);
    if (e) throw new Error(e);
    line += sep + escapeKey(k) + '=' + fieldText(k, v, known?.get(k), opts.integerFields, m, pending);
    sep = ',';
  }
  if (sep === ' ') throw new Error(`measurement "${m}" has no fields to write (empty fields object, or all null)`);
  line += ' ' + timeOf(time, opts);
  if (pending.length > 0) kinds.commit(m, pending);
  return line;
}

/**
 * Validates and serialises one message's payload. Pure apart from `kinds`, which the caller owns
 * (one per writer) and which only learns from points that were accepted.
 */
export function payloadToLines(payload: unknown, opts: NormaliseOptions, kinds: FieldKinds, msgMeasurement?: unknown): LinesResult {
  if (opts.clock && opts.clock.precision !== opts.precision)
    throw new Error(`the stamp clock's precision (${opts.clock.precision}) differs from the writer's (${opts.precision})`);
  const lines: string[] = [];
  const errors: PointError[] = [];
  const simple = opts.measurement || msgMeasurement;
  const override = opts.overrideMeasurement && opts.measurement;
  let many = false;

  const add = (index: number, measurement: unknown, tags: Obj, fields: Obj, time: unknown, skipTimeField: boolean) => {
    try {
      lines.push(pointLine(measurement, tags, fields, time, skipTimeField, opts, kinds));
    } catch (err) {
      const reason = (err as Error).message;
      errors.push({ index, reason: many ? `point ${index}: ${reason}` : reason });
    }
  };
  // node-red-contrib-influxdb takes the time of the simple shapes from a field named `time`.
  const one = (p: unknown, index: number): boolean => {
    if (isBatchPoint(p)) {
      const tags = p.tags === undefined || p.tags === null ? {} : p.tags;
      if (!isObj(tags)) {
        errors.push({ index, reason: `${many ? `point ${index}: ` : ''}tags must be an object, got ${describe(tags)}` });
        return true;
      }
      add(index, override ? opts.measurement : p.measurement, tags, p.fields as Obj, p.timestamp ?? p.time, false);
    } else if (isFieldsTags(p)) {
      add(index, simple, p[1], p[0], p[0].time, true);
    } else if (isObj(p)) {
      add(index, simple, {}, p, p.time, true);
    } else {
      return false;
    }
    return true;
  };

  if (typeof payload === 'number' || typeof payload === 'boolean' || typeof payload === 'bigint' || typeof payload === 'string') {
    add(0, simple, {}, { value: payload }, undefined, false);
  } else if (Array.isArray(payload) && !isFieldsTags(payload)) {
    if (payload.length === 0) errors.push({ index: 0, reason: 'payload is an empty array' });
    many = payload.length > 1;
    for (let i = 0; i < payload.length; i++) {
      if (!one(payload[i], i)) errors.push({ index: i, reason: `point ${i} is ${describe(payload[i])}, not a fields object or a {measurement, fields} point` });
    }
  } else if (!one(payload, 0)) {
    errors.push({
      index: 0,
      reason: `payload must be a number, an object of fields, [fields, tags], an array of those or of {measurement, fields, tags, timestamp}; got ${describe(payload)}`,
    });
  }
  return { lines, errors };
}
