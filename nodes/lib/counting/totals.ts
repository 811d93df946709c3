/**
 * Line totals of one counter: per line, direction and class, since the last reset; the
 * `line_crossings` metrics deltas; the snapshot kept over a restart. Knows nothing of tracks.
 */
import { Direction } from './config';
import { InfluxPoint } from '../types';

export interface DirectionCounts {
  in: number;
  out: number;
}

export interface LineTotals extends DirectionCounts {
  /** Per class label. */
  byClass: Record<string, DirectionCounts>;
}

/** What persists across restarts: totals only; per-track state is meaningless after a restart. */
export interface CounterSnapshot {
  version: 1;
  counts: Record<string, LineTotals>;
  /** Zones whose over-capacity alarm was raised (absent in snapshots of older versions). */
  alarms?: Record<string, boolean>;
}

/** Class labels counted separately at most; crossings and dwell of labels beyond it count as "other". */
export const MAX_CLASSES = 64;

/** The labels with their own counts (crossings and dwell): the first MAX_CLASSES seen; the rest are "other". */
export class ClassKeys {
  private readonly labels = new Set<string>();

  /** The label a crossing or a dwell is counted under: its own among the first MAX_CLASSES seen, else "other". */
  key(label: string): string {
    if (this.labels.has(label)) return label;
    if (this.labels.size < MAX_CLASSES) {
      this.labels.add(label);
      return label;
    }
    return 'other';
  }

  /** A label restored from a snapshot keeps its own counts. */
  adopt(label: string): void {
    this.labels.add(label);
  }
}

function emptyTotals(): LineTotals {
  return { in: 0, out: 0, byClass: {} };
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function cloneTotals(t: LineTotals): LineTotals {
  const byClass: Record<string, DirectionCounts> = {};
  for (const [k, v] of Object.entries(t.byClass)) byClass[k] = { in: v.in, out: v.out };
  return { in: t.in, out: t.out, byClass };
}

export class Totals {
  private lines = new Map<string, LineTotals>();
  /** Per line, class and direction: the count the last metrics reported (the next delta starts there). */
  private readonly reported = new Map<string, number>();

  constructor(private readonly classes: ClassKeys) {}

  /**
   * The lines are now these: totals of lines that keep their name survive, and so does what the
   * metrics reported of them (the next delta counts only new crossings, so a sum of deltas in the
   * database does not count a kept total twice); removed lines are forgotten.
   */
  setLines(names: readonly string[]): void {
    const next = new Map<string, LineTotals>();
    for (const name of names) next.set(name, this.lines.get(name) ?? emptyTotals());
    this.lines = next;
    for (const key of [...this.reported.keys()]) if (!next.has(key.slice(0, key.indexOf('\u0000')))) this.reported.delete(key);
  }

  /** Zeroes the totals of the named lines (all when omitted). */
  reset(lines?: string[]): void {
    for (const [name] of this.lines) if (!lines || lines.includes(name)) this.lines.set(name, emptyTotals());
  }

  /** One counted crossing. */
  add(line: string, label: string, dir: Direction): void {
    const t = this.lines.get(line)!;
    t[dir]++;
    const c = (t.byClass[this.classes.key(label)] ??= { in: 0, out: 0 });
    c[dir]++;
  }

  counts(): Record<string, DirectionCounts> {
    const out: Record<string, DirectionCounts> = {};
    for (const [name, t] of this.lines) out[name] = { in: t.in, out: t.out };
    return out;
  }

  countsByClass(): Record<string, Record<string, DirectionCounts>> {
    const out: Record<string, Record<string, DirectionCounts>> = {};
    for (const [name, t] of this.lines) out[name] = cloneTotals(t).byClass;
    return out;
  }

  snapshot(): Record<string, LineTotals> {
    const counts: Record<string, LineTotals> = {};
    for (const [name, t] of this.lines) counts[name] = cloneTotals(t);
    return counts;
  }

  /** Restores totals for lines that exist now; a malformed entry is ignored rather than trusted. */
  restore(counts: Record<string, LineTotals>): void {
    for (const name of this.lines.keys()) {
      const t = counts[name];
      if (!t || !isCount(t.in) || !isCount(t.out)) continue;
      const byClass: Record<string, DirectionCounts> = {};
      if (t.byClass && typeof t.byClass === 'object') {
        for (const [k, v] of Object.entries(t.byClass)) if (v && isCount(v.in) && isCount(v.out)) byClass[k] = { in: v.in, out: v.out };
      }
      this.lines.set(name, { in: t.in, out: t.out, byClass });
      for (const cls of Object.keys(byClass)) this.classes.adopt(cls);
      // Restored totals were reported before the restart: the next metrics delta starts from them,
      // so a sum() over deltas in the database does not count them twice.
      for (const [cls, c] of Object.entries(byClass)) {
        this.reported.set(`${name}\u0000${cls}\u0000in`, c.in);
        this.reported.set(`${name}\u0000${cls}\u0000out`, c.out);
      }
    }
  }

  /** `line_crossings` per line, class and direction: count = total since reset, delta = since the last call. */
  takeMetrics(camera: string, timestampMs: number): InfluxPoint[] {
    const points: InfluxPoint[] = [];
    for (const [line, t] of this.lines) {
      for (const [cls, c] of Object.entries(t.byClass)) {
        for (const dir of ['in', 'out'] as const) {
          const key = `${line}\u0000${cls}\u0000${dir}`;
          const prev = this.reported.get(key) ?? 0;
          const delta = c[dir] >= prev ? c[dir] - prev : c[dir]; // a reset in between: all of it is new
          this.reported.set(key, c[dir]);
          points.push({
            measurement: 'line_crossings',
            tags: { camera, line, class: cls, direction: dir },
            fields: { count: c[dir], delta },
            timestamp: timestampMs,
          });
        }
      }
    }
    return points;
  }
}
