/**
 * Shift schedules: counts reset at local wall-clock boundaries such as "06:00,14:00,22:00".
 * Pure: the caller passes the last reset time and now (epoch ms) and a function giving the local
 * UTC offset at an instant, so the rule is testable with a fixed zone and safe across DST changes:
 * each boundary of each local day maps to exactly one instant, so a reset happens once per boundary
 * even on the day a wall-clock hour is skipped or repeated.
 */

import { DAY_MS as DAY, MINUTE_MS as MIN, OffsetFn, localOffset, localToUtc, parseClockTime } from '../local-time';

export { OffsetFn, localOffset, fixedOffset } from '../local-time';

/** "06:00,14:00,22:00" → minutes after local midnight, sorted, unique. Empty text = no schedule. */
export function parseShifts(text: string): number[] {
  if (typeof text !== 'string') throw new Error('shift schedule must be text like "06:00,14:00,22:00"');
  const out = new Set<number>();
  for (const part of text.split(/[,;\s]+/)) {
    if (part === '') continue;
    const min = parseClockTime(part);
    if (min === null) throw new Error(`shift schedule: "${part}" is not a time HH:MM (00:00..23:59)`);
    out.add(min);
  }
  return [...out].sort((a, b) => a - b);
}

/** The latest boundary instant at or before nowMs, or undefined for an empty schedule. */
export function lastBoundary(shifts: readonly number[], nowMs: number, offset: OffsetFn = localOffset): number | undefined {
  if (shifts.length === 0) return undefined;
  const localNow = nowMs + offset(nowMs) * MIN;
  const day = Math.floor(localNow / DAY) * DAY;
  // Today's boundaries, then yesterday's, then the day before (a DST shift can push one across midnight).
  for (let d = day + DAY; d >= day - 2 * DAY; d -= DAY) {
    for (let i = shifts.length - 1; i >= 0; i--) {
      const u = localToUtc(d + shifts[i] * MIN, offset);
      if (u <= nowMs) return u;
    }
  }
  return undefined;
}

/** True when a boundary of the schedule lies in (lastResetMs, nowMs]: the counts are due a reset. */
export function shiftBoundaryCrossed(shifts: readonly number[], lastResetMs: number, nowMs: number, offset: OffsetFn = localOffset): boolean {
  if (shifts.length === 0 || !(nowMs > lastResetMs)) return false;
  const b = lastBoundary(shifts, nowMs, offset);
  return b !== undefined && b > lastResetMs;
}
