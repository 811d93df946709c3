/**
 * The station timeline of the vision-ui-timeline widget: each station's states over the last
 * `windowMs` of stream time, from vision-productivity-state's state-change events (and its frames,
 * which move "now" on). Times are the frames' own (tMs), so a replayed recording draws as it ran.
 * Segments that end before the window are dropped as time moves on; stations are bounded.
 */
export interface TimelineSegment {
  state: string;
  /** Start and end, ms (the end of the last segment is `now`). */
  from: number;
  to: number;
}

export interface TimelineView {
  now: number;
  windowMs: number;
  stations: Record<string, TimelineSegment[]>;
}

export interface TimelineOptions {
  windowMs: number;
  maxStations: number;
}

export class StationTimeline {
  private readonly opts: TimelineOptions;
  /** Per station: state changes, oldest first ({state, from}). */
  private readonly changes = new Map<string, { state: string; from: number }[]>();
  private now = 0;

  constructor(opts: Partial<TimelineOptions> = {}) {
    const windowMs = opts.windowMs ?? 10 * 60 * 1000;
    const maxStations = opts.maxStations ?? 32;
    if (!(windowMs >= 1000 && windowMs <= 24 * 3600 * 1000)) throw new RangeError(`windowMs must be 1000 to 86400000 ms, got ${windowMs}`);
    if (!(Number.isInteger(maxStations) && maxStations >= 1)) throw new RangeError(`maxStations must be a whole number ≥ 1, got ${maxStations}`);
    this.opts = { windowMs, maxStations };
  }

  /** A station changed state at tMs. Returns false when it was not taken (too many stations, bad input). */
  change(station: string, state: string, tMs: number): boolean {
    if (!station || !state || !Number.isFinite(tMs)) return false;
    let list = this.changes.get(station);
    if (!list) {
      if (this.changes.size >= this.opts.maxStations) return false;
      list = [];
      this.changes.set(station, list);
    }
    const last = list[list.length - 1];
    if (last && tMs < last.from) return false; // out of order: the timeline only moves forward
    if (last && last.state === state) return true;
    list.push({ state, from: tMs });
    this.advance(tMs);
    return true;
  }

  /** Stream time moved on (a frame at tMs); segments that ended before the window go. */
  advance(tMs: number): void {
    if (!Number.isFinite(tMs) || tMs <= this.now) return;
    this.now = tMs;
    const start = tMs - this.opts.windowMs;
    for (const list of this.changes.values()) {
      // Keep the last change that started before the window: it is the state at the window's start.
      let drop = 0;
      while (drop + 1 < list.length && list[drop + 1].from <= start) drop++;
      if (drop) list.splice(0, drop);
    }
  }

  /** The stations' segments within the window, oldest first, clipped to it. */
  view(): TimelineView {
    const start = this.now - this.opts.windowMs;
    const stations: Record<string, TimelineSegment[]> = {};
    for (const [name, list] of this.changes) {
      stations[name] = list
        .map((c, i) => ({ state: c.state, from: Math.max(c.from, start), to: i + 1 < list.length ? list[i + 1].from : this.now }))
        .filter((s) => s.to > s.from || list.length === 1);
    }
    return { now: this.now, windowMs: this.opts.windowMs, stations };
  }
}
