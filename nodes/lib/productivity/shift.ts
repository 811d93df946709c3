/**
 * Shift boundaries, in the same text format as line-count ("06:00,14:00,22:00", local wall-clock
 * times; separators , ; or space), with optional names ("early=06:00,late=14:00,night=22:00"; an
 * unnamed shift is named by its start). Empty means one shift per day from local midnight.
 * "Local" is the gateway's time zone unless a fixed UTC offset is given. Pure: time is passed in.
 */

import { DAY_MS as DAY, MINUTE_MS as MIN, OffsetFn, localOffset, localToUtc, parseClockTime } from '../local-time';

export { OffsetFn, localOffset } from '../local-time';

export interface ShiftDef {
  name: string;
  /** Minutes after local midnight. */
  startMin: number;
}

export interface Shift {
  name: string;
  startMs: number;
  endMs: number;
}

export function offsetFn(utcOffsetMin: number | 'local'): OffsetFn {
  return utcOffsetMin === 'local' ? localOffset : () => utcOffsetMin;
}

export function parseShifts(spec: string | undefined): ShiftDef[] {
  if (spec !== undefined && typeof spec !== 'string') throw new Error('shifts must be text like "06:00,14:00,22:00"');
  const defs: ShiftDef[] = [];
  for (const part of (spec ?? '').split(/[,;\s]+/).filter(Boolean)) {
    const eq = part.indexOf('=');
    const name = eq >= 0 ? part.slice(0, eq).trim() : part;
    const hhmm = eq >= 0 ? part.slice(eq + 1).trim() : part;
    const startMin = parseClockTime(hhmm);
    if (startMin === null) throw new Error(`shift start "${part}" must be HH:MM (00:00–23:59), optionally name=HH:MM`);
    if (!name) throw new Error(`shift "${part}" has an empty name`);
    defs.push({ name, startMin });
  }
  if (!defs.length) return [{ name: '00:00', startMin: 0 }];
  defs.sort((a, b) => a.startMin - b.startMin);
  for (let i = 1; i < defs.length; i++) {
    if (defs[i].startMin === defs[i - 1].startMin) throw new Error(`two shifts start at the same time (${defs[i - 1].name}, ${defs[i].name})`);
  }
  return defs;
}

/** The shift that contains time t (epoch ms). */
export function shiftAt(tMs: number, defs: readonly ShiftDef[], utcOffset: number | 'local' | OffsetFn = 0): Shift {
  const off = typeof utcOffset === 'function' ? utcOffset : offsetFn(utcOffset);
  const local = tMs + off(tMs) * MIN;
  const dayStart = Math.floor(local / DAY) * DAY;
  const minOfDay = (local - dayStart) / MIN;
  let idx = -1;
  for (let i = 0; i < defs.length; i++) if (defs[i].startMin <= minOfDay) idx = i;
  // Before the first start of the day: still yesterday's last shift.
  const cur = idx >= 0 ? defs[idx] : defs[defs.length - 1];
  const startLocal = (idx >= 0 ? dayStart : dayStart - DAY) + cur.startMin * MIN;
  const endLocal =
    idx >= 0 && idx + 1 < defs.length ? dayStart + defs[idx + 1].startMin * MIN : (idx >= 0 ? dayStart + DAY : dayStart) + defs[0].startMin * MIN;
  return { name: cur.name, startMs: localToUtc(startLocal, off), endMs: localToUtc(endLocal, off) };
}
