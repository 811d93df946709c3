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

/**
 * Time stamps for points that carry none, one per point, strictly increasing at the writer's
 * precision: the clock's reading, or one tick after the previous stamp when the clock has not moved
 * on (several points in one message, two messages in the same tick) or went back (an NTP step).
 * InfluxDB keeps one point per series and time stamp, so two points stamped alike would be one.
 * One per writer; the caller passes the time in (the engine reads no clock).
 * At a coarse precision a burst runs ahead of the clock by one tick per point (10 points in one
 * message at "s" are stamped over 10 seconds): `aheadMs` says by how much.
 */
export class StampClock {
  private last: bigint | null = null;
  private readonly perMs: number;

  constructor(readonly precision: Precision) {
    if (!PRECISIONS.includes(precision)) throw new Error(`stamp clock: precision must be one of ${PRECISIONS.join(', ')}, got ${precision}`);
    this.perMs = Number(NS_PER.ms) / Number(NS_PER[precision]);
  }

  /** The stamp for the next point without a time, as an integer string in the precision. */
  next(nowMs: number): string {
    let t = BigInt(msToPrecision(nowMs, this.precision));
    if (this.last !== null && t <= this.last) t = this.last + 1n;
    this.last = t;
    return t.toString();
  }

  /** How far the last stamp is ahead of `nowMs`, in ms (0 when it is not). */
  aheadMs(nowMs: number): number {
    if (this.last === null) return 0;
    const now = BigInt(msToPrecision(nowMs, this.precision));
    return this.last > now ? Number(this.last - now) / this.perMs : 0;
  }
}
