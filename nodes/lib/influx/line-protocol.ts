/**
 * InfluxDB line protocol: escaping, field formatting and timestamp conversion. Pure and exact: a
 * nanosecond timestamp does not fit a double, so conversions go through BigInt.
 * Reference: https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/
 */

export type Precision = 'ns' | 'us' | 'ms' | 's';
export const PRECISIONS: readonly Precision[] = ['ns', 'us', 'ms', 's'];

/** A field value after normalisation: the kind decides the line-protocol spelling. */
export type TypedField =
  | { kind: 'float'; value: number }
  | { kind: 'integer'; value: bigint }
  | { kind: 'string'; value: string }
  | { kind: 'boolean'; value: boolean };

export type FieldKind = TypedField['kind'];

/** A validated point, ready to serialise. `time` is in the batch's precision (a decimal integer string). */
export interface LinePoint {
  measurement: string;
  /** Sorted by key (InfluxDB's preferred order; it also makes identical points serialise identically). */
  tags: [string, string][];
  fields: [string, TypedField][];
  time: string;
}

export function escapeMeasurement(s: string): string {
  return s.replace(/[\\, ]/g, (c) => '\\' + c);
}

/** Tag keys, tag values and field keys escape commas, equals signs and spaces. */
export function escapeKey(s: string): string {
  return s.replace(/[\\,= ]/g, (c) => '\\' + c);
}

export function escapeString(s: string): string {
  return '"' + s.replace(/[\\"]/g, (c) => '\\' + c) + '"';
}

export function formatField(f: TypedField): string {
  switch (f.kind) {
    case 'float':
      // String() gives the shortest exact round-trip spelling; InfluxDB parses exponents too.
      return String(f.value);
    case 'integer':
      return f.value.toString() + 'i';
    case 'string':
      return escapeString(f.value);
    case 'boolean':
      return f.value ? 'true' : 'false';
  }
}

export function formatLine(p: LinePoint): string {
  let s = escapeMeasurement(p.measurement);
  for (const [k, v] of p.tags) s += ',' + escapeKey(k) + '=' + escapeKey(v);
  let sep = ' ';
  for (const [k, f] of p.fields) {
    s += sep + escapeKey(k) + '=' + formatField(f);
    sep = ',';
  }
  return s + ' ' + p.time;
}

const NS_PER: Record<Precision, bigint> = { ns: 1n, us: 1000n, ms: 1000000n, s: 1000000000n };

/**
 * Epoch milliseconds (fractions allowed, down to the nanosecond) → an integer string in `precision`,
 * truncated towards minus infinity so that a coarser precision never moves a point into the future.
 */
export function msToPrecision(ms: number, precision: Precision): string {
  if (!Number.isFinite(ms)) throw new Error(`timestamp ${ms} is not a finite number`);
  const whole = Math.floor(ms);
  const fracNs = Math.round((ms - whole) * 1e6);
  const ns = BigInt(whole) * 1000000n + BigInt(fracNs);
  return floorDiv(ns, NS_PER[precision]).toString();
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}
