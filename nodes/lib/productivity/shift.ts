/**
 * Shift boundaries: a list of daily start times, e.g. "early=06:00,late=14:00,night=22:00" (names are
 * optional; an unnamed shift is named by its start time), on a fixed UTC offset in minutes. Empty means
 * one shift per day starting at 00:00. Pure: time is passed in.
 */

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

const DAY = 86400000;

export function parseShifts(spec: string | undefined): ShiftDef[] {
  if (spec === undefined || spec.trim() === '') return [{ name: '00:00', startMin: 0 }];
  const defs: ShiftDef[] = [];
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const name = eq >= 0 ? part.slice(0, eq).trim() : part;
    const hhmm = eq >= 0 ? part.slice(eq + 1).trim() : part;
    const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm);
    if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw new Error(`shift start "${part}" must be HH:MM (00:00–23:59), optionally name=HH:MM`);
    if (!name) throw new Error(`shift "${part}" has an empty name`);
    defs.push({ name, startMin: Number(m[1]) * 60 + Number(m[2]) });
  }
  if (!defs.length) return [{ name: '00:00', startMin: 0 }];
  defs.sort((a, b) => a.startMin - b.startMin);
  for (let i = 1; i < defs.length; i++) {
    if (defs[i].startMin === defs[i - 1].startMin) throw new Error(`two shifts start at the same time (${defs[i].name}, ${defs[i - 1].name})`);
  }
  return defs;
}

/** The shift that contains time t (epoch ms). */
export function shiftAt(tMs: number, defs: readonly ShiftDef[], utcOffsetMin = 0): Shift {
  const local = tMs + utcOffsetMin * 60000;
  const dayStart = Math.floor(local / DAY) * DAY;
  const minOfDay = (local - dayStart) / 60000;
  let idx = -1;
  for (let i = 0; i < defs.length; i++) if (defs[i].startMin <= minOfDay) idx = i;
  // Before the first start of the day: still yesterday's last shift.
  const startLocal = idx >= 0 ? dayStart + defs[idx].startMin * 60000 : dayStart - DAY + defs[defs.length - 1].startMin * 60000;
  const cur = idx >= 0 ? defs[idx] : defs[defs.length - 1];
  const nextIdx = idx + 1;
  const endLocal = nextIdx < defs.length && idx >= 0 ? dayStart + defs[nextIdx].startMin * 60000 : (idx >= 0 ? dayStart + DAY : dayStart) + defs[0].startMin * 60000;
  const off = utcOffsetMin * 60000;
  return { name: cur.name, startMs: startLocal - off, endMs: endLocal - off };
}
