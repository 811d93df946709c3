/**
 * Local wall-clock time for shift schedules, shared by line-count (count resets) and
 * productivity-state (shift KPIs). Pure: "local" is a function giving the UTC offset at an instant,
 * so rules are testable with a fixed zone and safe across DST changes.
 */

/** Minutes east of UTC at an instant (e.g. +60 for CET, +120 for CEST). */
export type OffsetFn = (epochMs: number) => number;

/** The process's own time zone (TZ): what "local time" means on the gateway. */
export const localOffset: OffsetFn = (ms) => -new Date(ms).getTimezoneOffset();

export function fixedOffset(minutes: number): OffsetFn {
  return () => minutes;
}

export const DAY_MS = 86_400_000;
export const MINUTE_MS = 60_000;

/**
 * The instant a local wall-clock time (ms since the epoch, read as local) happens; in a DST gap, the
 * instant an hour-shifted clock would show it.
 */
export function localToUtc(localMs: number, offset: OffsetFn): number {
  const guess = localMs - offset(localMs) * MINUTE_MS;
  return localMs - offset(guess) * MINUTE_MS;
}

/** "HH:MM" → minutes after local midnight, or null when it is not a time 00:00..23:59. */
export function parseClockTime(text: string): number | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) return null;
  return Number(m[1]) * 60 + Number(m[2]);
}
