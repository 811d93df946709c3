/**
 * Shift schedules: counts reset at local wall-clock boundaries such as "06:00,14:00,22:00".
 * Pure: the caller passes the last reset time and now (epoch ms) and a function giving the local
 * UTC offset at an instant, so the rule is testable with a fixed zone and safe across DST changes:
 * each boundary of each local day maps to exactly one instant, so a reset happens once per boundary
 * even on the day a wall-clock hour is skipped or repeated.
 */

/** Minutes east of UTC at an instant (e.g. +60 for CET, +120 for CEST). */
export type OffsetFn = (epochMs: number) => number;

/** The process's own time zone (TZ): what "local time" means on the gateway. */
export const localOffset: OffsetFn = (ms) => -new Date(ms).getTimezoneOffset();

export function fixedOffset(minutes: number): OffsetFn {
  return () => minutes;
}

const DAY = 86_400_000;
const MIN = 60_000;

/** "06:00,14:00,22:00" → minutes after local midnight, sorted, unique. Empty text = no schedule. */
export function parseShifts(text: string): number[] {
  if (typeof text !== 'string') throw new Error('shift schedule must be text like "06:00,14:00,22:00"');
  const out = new Set<number>();
  for (const part of text.split(/[,;\s]+/)) {
    if (part === '') continue;
    const m = /^(\d{1,2}):(\d{2})$/.exec(part);
    if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw new Error(`shift schedule: "${part}" is not a time HH:MM (00:00..23:59)`);
    out.add(Number(m[1]) * 60 + Number(m[2]));
  }
  return [...out].sort((a, b) => a - b);
}

/** The instant a local wall-clock time (ms since the epoch, read as local) happens; in a DST gap, the instant an hour-shifted clock would show it. */
function localToUtc(localMs: number, offset: OffsetFn): number {
  const guess = localMs - offset(localMs) * MIN;
  return localMs - offset(guess) * MIN;
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
