/**
 * The rows of the vision-ui-events widget: the newest `max` events of the picked node (line
 * crossings, zone enter/exit, state changes, drift warnings), newest first, each reduced to what a
 * table shows. KPI reports are not events here (the tiles show them).
 */
export interface EventRow {
  tMs: number;
  event: string;
  camera: string;
  /** The line, zone or station. */
  where: string;
  /** Direction, new state or dwell time. */
  detail: string;
  track: string;
}

export class EventLog {
  private readonly rowsNewestFirst: EventRow[] = [];

  constructor(private readonly max = 12) {
    if (!(Number.isInteger(max) && max >= 1 && max <= 1000)) throw new RangeError(`max must be a whole number from 1 to 1000, got ${max}`);
  }

  /** Takes one event payload; returns false for what is not a table event (a KPI report, not an event). */
  add(e: unknown): boolean {
    if (!e || typeof e !== 'object') return false;
    const ev = e as Record<string, unknown>;
    if (typeof ev.event !== 'string' || ev.event === 'kpi') return false;
    const dwell = typeof ev.dwellMs === 'number' ? `${(ev.dwellMs / 1000).toFixed(1)} s` : '';
    const row: EventRow = {
      tMs: typeof ev.tMs === 'number' ? ev.tMs : 0,
      event: ev.event,
      camera: String(ev.camera ?? ''),
      where: String(ev.line ?? ev.zone ?? ev.station ?? ''),
      detail: String(ev.direction ?? ev.state ?? (dwell || (typeof ev.meanConfidence === 'number' ? `confidence ${ev.meanConfidence.toFixed(2)}` : ''))),
      track: ev.trackId === undefined || ev.trackId === null ? '' : String(ev.trackId),
    };
    this.rowsNewestFirst.unshift(row);
    if (this.rowsNewestFirst.length > this.max) this.rowsNewestFirst.length = this.max;
    return true;
  }

  rows(): EventRow[] {
    return this.rowsNewestFirst.slice();
  }
}
