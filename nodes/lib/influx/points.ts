/**
 * Turns every payload shape node-red-contrib-influxdb accepts (and the InfluxPoint arrays our own
 * nodes emit) into validated line-protocol points. A bad point gets a clear reason of its own; the
 * good points of the same message go on.
 *
 * Number typing rule (kept compatible with node-red-contrib-influxdb and stable between points):
 *  - a JS number is a float, unless the field is listed in `integerFields` (then it must be an integer);
 *  - a string like "42i" is an integer (node-red-contrib-influxdb's rule on its 2.x path), a bigint too;
 *  - once a measurement's field has been written with a kind, later points keep that kind: an integer
 *    field given 3 stays 3i, a float field given "3i" is written 3, and anything that cannot keep the
 *    kind (a string into a numeric field, 2.5 into an integer field) is rejected before the server
 *    sees it, because InfluxDB refuses a whole batch with a field type conflict.
 */
import { LinePoint, Precision, TypedField, FieldKind, msToPrecision } from './line-protocol';

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
  /** Time stamped on points without one: epoch ms, passed in by the caller (the engine reads no clock). */
  nowMs: number;
  /** Fields whose numbers are written as integers. */
  integerFields?: ReadonlySet<string>;
  /** Tags added to every point (a point's own tag of the same name wins). */
  defaultTags?: Record<string, string>;
}

export interface NormaliseResult {
  points: LinePoint[];
  errors: PointError[];
}

const INT_STRING = /^-?\d+i$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

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

interface RawPoint {
  measurement: unknown;
  tags: Obj;
  fields: Obj;
  time: unknown;
}

/** Splits a payload into raw points; the shape decides where measurement and time come from. */
function explode(payload: unknown, opts: NormaliseOptions, msgMeasurement: unknown): RawPoint[] | string {
  const simpleMeasurement = opts.measurement || msgMeasurement;
  const fromFields = (fields: Obj, tags: Obj): RawPoint => {
    // node-red-contrib-influxdb takes the time from a field named `time`.
    const { time, ...rest } = fields;
    return { measurement: simpleMeasurement, tags, fields: rest, time };
  };
  if (typeof payload === 'number' || typeof payload === 'boolean' || typeof payload === 'bigint' || typeof payload === 'string') {
    return [{ measurement: simpleMeasurement, tags: {}, fields: { value: payload }, time: undefined }];
  }
  if (isBatchPoint(payload)) return [fromBatch(payload, opts)];
  if (isFieldsTags(payload)) return [fromFields(payload[0], payload[1])];
  if (isObj(payload)) return [fromFields(payload, {})];
  if (Array.isArray(payload)) {
    if (payload.length === 0) return 'payload is an empty array';
    return payload.map((p): RawPoint => {
      if (isBatchPoint(p)) return fromBatch(p, opts);
      if (isFieldsTags(p)) return fromFields(p[0], p[1]);
      if (isObj(p)) return fromFields(p, {});
      return { measurement: simpleMeasurement, tags: {}, fields: {}, time: undefined, bad: describe(p) } as RawPoint;
    });
  }
  return `payload must be a number, an object of fields, [fields, tags], an array of those or of {measurement, fields, tags, timestamp}; got ${describe(payload)}`;
}

function fromBatch(p: Obj, opts: NormaliseOptions): RawPoint {
  const measurement = opts.overrideMeasurement && opts.measurement ? opts.measurement : p.measurement;
  const tags = p.tags === undefined || p.tags === null ? {} : p.tags;
  return { measurement, tags: isObj(tags) ? tags : { '': tags }, fields: p.fields as Obj, time: p.timestamp ?? p.time };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  return typeof v;
}

export function checkName(what: string, name: unknown): string | null {
  if (typeof name !== 'string' || name.length === 0) return `${what} must be a non-empty string, got ${describe(name)}`;
  if (CONTROL.test(name)) return `${what} ${JSON.stringify(name)} contains a control character (newline, tab…)`;
  if (name.startsWith('_')) return `${what} ${JSON.stringify(name)} starts with "_", which InfluxDB reserves`;
  if (name.endsWith('\\')) return `${what} ${JSON.stringify(name)} ends with a backslash, which would escape the separator`;
  return null;
}

function typeField(name: string, v: unknown, integerFields: ReadonlySet<string> | undefined): TypedField | string | null {
  if (v === null || v === undefined) return null; // skipped, like an absent field
  if (typeof v === 'bigint') return { kind: 'integer', value: v };
  if (typeof v === 'boolean') return { kind: 'boolean', value: v };
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return `field "${name}" is ${v}; InfluxDB stores only finite numbers`;
    if (integerFields?.has(name)) {
      if (!Number.isSafeInteger(v)) return `field "${name}" is listed as an integer field but got ${v}`;
      return { kind: 'integer', value: BigInt(v) };
    }
    return { kind: 'float', value: v };
  }
  if (typeof v === 'string') {
    if (INT_STRING.test(v)) return { kind: 'integer', value: BigInt(v.slice(0, -1)) };
    if (integerFields?.has(name)) return `field "${name}" is listed as an integer field but got the string ${describe(v)}`;
    return { kind: 'string', value: v };
  }
  return `field "${name}" is ${describe(v)}; a field must be a number, a string or a boolean`;
}

/**
 * Remembers the kind each measurement's field was first written with, so a field never flips type
 * between points. Bounded: the oldest entries go first when `maxEntries` is reached (a schema is small;
 * a flow inventing field names forever must not grow memory forever).
 */
export class FieldKinds {
  private readonly kinds = new Map<string, FieldKind>();
  constructor(private readonly maxEntries = 10000) {}

  /** Coerces `f` to the remembered kind, or explains why it cannot. Records new fields. */
  reconcile(measurement: string, name: string, f: TypedField): TypedField | string {
    const key = measurement + '\u0000' + name;
    const known = this.kinds.get(key);
    if (known === undefined || known === f.kind) return f;
    if (known === 'float' && f.kind === 'integer') return { kind: 'float', value: Number(f.value) };
    if (known === 'integer' && f.kind === 'float' && Number.isSafeInteger(f.value)) return { kind: 'integer', value: BigInt(f.value) };
    return `field "${name}" of measurement "${measurement}" was written as ${known}; got ${f.kind} ${describe(f.value as unknown)}`;
  }

  commit(measurement: string, fields: [string, TypedField][]): void {
    for (const [name, f] of fields) {
      const key = measurement + '\u0000' + name;
      if (this.kinds.has(key)) continue;
      if (this.kinds.size >= this.maxEntries) this.kinds.delete(this.kinds.keys().next().value as string);
      this.kinds.set(key, f.kind);
    }
  }

  get size(): number {
    return this.kinds.size;
  }
}

function timeOf(t: unknown, opts: NormaliseOptions): string {
  if (t === undefined || t === null) return msToPrecision(opts.nowMs, opts.precision);
  if (t instanceof Date) {
    const ms = t.getTime();
    if (!Number.isFinite(ms)) throw new Error('timestamp is an invalid Date');
    return msToPrecision(ms, opts.precision);
  }
  if (typeof t === 'number') return msToPrecision(t, opts.precision);
  // An integer string or bigint is already in the configured precision: the exact way to give nanoseconds.
  if (typeof t === 'bigint') return t.toString();
  if (typeof t === 'string' && /^-?\d+$/.test(t)) return t;
  if (typeof t === 'string') {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return msToPrecision(ms, opts.precision);
  }
  throw new Error(`timestamp ${describe(t)} is neither epoch ms, a Date, an ISO date nor an integer string in the precision`);
}

/**
 * Validates one message's payload. Pure apart from `kinds`, which the caller owns (one per writer) and
 * which only learns from points that were accepted.
 */
export function normalisePayload(payload: unknown, opts: NormaliseOptions, kinds: FieldKinds, msgMeasurement?: unknown): NormaliseResult {
  const raw = explode(payload, opts, msgMeasurement);
  if (typeof raw === 'string') return { points: [], errors: [{ index: 0, reason: raw }] };
  const points: LinePoint[] = [];
  const errors: PointError[] = [];
  raw.forEach((r, index) => {
    const bad = (r as RawPoint & { bad?: string }).bad;
    if (bad !== undefined) {
      errors.push({ index, reason: `point ${index} is ${bad}, not a fields object or a {measurement, fields} point` });
      return;
    }
    const reason = checkPoint(r, opts, kinds, points);
    if (reason) errors.push({ index, reason: raw.length > 1 ? `point ${index}: ${reason}` : reason });
  });
  return { points, errors };
}

function checkPoint(r: RawPoint, opts: NormaliseOptions, kinds: FieldKinds, out: LinePoint[]): string | null {
  const mErr = checkName('measurement', r.measurement);
  if (mErr) return r.measurement === undefined || r.measurement === '' ? 'no measurement: set one on the node or in msg.measurement' : mErr;
  const measurement = r.measurement as string;
  const tagMap = new Map<string, string>();
  for (const [k, v] of Object.entries(opts.defaultTags ?? {})) tagMap.set(k, v);
  for (const [k, v] of Object.entries(r.tags)) {
    const e = checkName('tag name', k);
    if (e) return e;
    if (k === 'time') return 'tag name "time" is reserved by InfluxDB';
    if (v === undefined || v === null || v === '') {
      tagMap.delete(k); // InfluxDB has no empty tag values: an absent tag is what it stores anyway
      continue;
    }
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return `tag "${k}" is ${describe(v)}; a tag value must be a string`;
    const s = String(v);
    if (CONTROL.test(s)) return `tag "${k}" value contains a control character`;
    if (s.endsWith('\\')) return `tag "${k}" value ends with a backslash`;
    tagMap.set(k, s);
  }
  const fields: [string, TypedField][] = [];
  for (const [k, v] of Object.entries(r.fields)) {
    const e = checkName('field name', k);
    if (e) return e;
    const typed = typeField(k, v, opts.integerFields);
    if (typed === null) continue;
    if (typeof typed === 'string') return typed;
    const kept = kinds.reconcile(measurement, k, typed);
    if (typeof kept === 'string') return kept;
    fields.push([k, kept]);
  }
  if (fields.length === 0) return `measurement "${measurement}" has no fields to write (empty fields object, or all null)`;
  let time: string;
  try {
    time = timeOf(r.time, opts);
  } catch (err) {
    return (err as Error).message;
  }
  kinds.commit(measurement, fields);
  const tags = [...tagMap.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  out.push({ measurement, tags, fields, time });
  return null;
}
