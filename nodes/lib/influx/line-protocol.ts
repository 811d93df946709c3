/**
 * InfluxDB line protocol: escaping and timestamp conversion (points.ts builds the lines). Pure and exact: a
 * nanosecond timestamp does not fit a double, so conversions go through BigInt.
 * Reference: https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/
 */

export type Precision = 'ns' | 'us' | 'ms' | 's';
export const PRECISIONS: readonly Precision[] = ['ns', 'us', 'ms', 's'];

/** The four field types of line protocol; a field keeps one type per measurement. */
export type FieldKind = 'float' | 'integer' | 'string' | 'boolean';

const M_SPECIAL = /[\\, ]/;
const K_SPECIAL = /[\\,= ]/;

// The test first: most names need no escaping, and a failed test is cheaper than a replace.
export function escapeMeasurement(s: string): string {
  return M_SPECIAL.test(s) ? s.replace(/[\\, ]/g, (c) => '\\' + c) : s;
}

/** Tag keys, tag values and field keys escape commas, equals signs and spaces. */
export function escapeKey(s: string): string {
  return K_SPECIAL.test(s) ? s.replace(/[\\,= ]/g, (c) => '\\' + c) : s;
}

export function escapeString(s: string): string {
  return '"' + s.replace(/[\\"]/g, (c) => '\\' + c) + '"';
}

const NS_PER: Record<Precision, bigint> = { ns: 1n, us: 1000n, ms: 1000000n, s: 1000000000n };

/**
 * Epoch milliseconds (fractions allowed, down to the nanosecond) → an integer string in `precision`,
 * truncated towards minus infinity so that a coarser precision never moves a point into the future.
 */
export function msToPrecision(ms: number, precision: Precision): string {
  if (!Number.isFinite(ms)) throw new Error(`timestamp ${ms} is not a finite number`);
  // Fast path for whole, non-negative milliseconds (the usual case): exact without BigInt.
  if (Number.isSafeInteger(ms) && ms >= 0) {
    switch (precision) {
      case 'ms':
        return String(ms);
      case 'us':
        return ms === 0 ? '0' : ms + '000';
      case 'ns':
        return ms === 0 ? '0' : ms + '000000';
      case 's':
        return String(Math.floor(ms / 1000));
    }
  }
  const whole = Math.floor(ms);
  const fracNs = Math.round((ms - whole) * 1e6);
  const ns = BigInt(whole) * 1000000n + BigInt(fracNs);
  return floorDiv(ns, NS_PER[precision]).toString();
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}
