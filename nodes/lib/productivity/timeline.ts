/**
 * Event logs ordered by event time: the source of truth the KPIs are integrated from. An event that
 * arrives late is placed by its event time (and the figures come out as if it had been on time); a
 * duplicate (same time and value, or same source id) is dropped. Logs are pruned to what the open
 * periods (shift, rolling window) still need, keeping the one event that gives the state at the cut.
 */

export interface LogEntry<V> {
  tMs: number;
  value: V;
  /** Receive time: when the event was handled (the caller's clock). */
  rxMs: number;
}

/** Index of the first entry with tMs > t (entries sorted by tMs). */
function upperBound(a: readonly { tMs: number }[], t: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid].tMs <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class Timeline<V extends string | boolean> {
  private readonly entries: LogEntry<V>[] = [];

  get length(): number {
    return this.entries.length;
  }

  /** Copies of the entries, oldest first. */
  list(): LogEntry<V>[] {
    return this.entries.map((e) => ({ ...e }));
  }

  /** A timeline holding `entries` (a list() saved before a restart), each checked by insert(). */
  static from<V extends string | boolean>(entries: readonly LogEntry<V>[], valid: (v: unknown) => v is V): Timeline<V> {
    const t = new Timeline<V>();
    for (const e of entries) {
      if (!e || !valid(e.value) || !Number.isFinite(e.rxMs)) throw new Error('malformed timeline entry');
      t.insert(e.tMs, e.value, e.rxMs);
    }
    return t;
  }

  /**
   * Inserts by event time; entries at the same time keep arrival order (the later one wins).
   * Returns false for a duplicate (same time and value as an entry already there).
   */
  insert(tMs: number, value: V, rxMs: number): boolean {
    if (!Number.isFinite(tMs)) throw new Error(`event time must be a finite number, got ${tMs}`);
    const at = upperBound(this.entries, tMs);
    for (let i = at - 1; i >= 0 && this.entries[i].tMs === tMs; i--) {
      if (this.entries[i].value === value) return false;
    }
    this.entries.splice(at, 0, { tMs, value, rxMs });
    return true;
  }

  /** Time of the first entry (start of observation), or null. */
  firstMs(): number | null {
    return this.entries.length ? this.entries[0].tMs : null;
  }

  /** Time of the last entry, or null. */
  lastMs(): number | null {
    return this.entries.length ? this.entries[this.entries.length - 1].tMs : null;
  }

  /** The value in force at time t (the last entry at or before t), or undefined before the first. */
  valueAt(t: number): V | undefined {
    const i = upperBound(this.entries, t) - 1;
    return i >= 0 ? this.entries[i].value : undefined;
  }

  /**
   * Milliseconds spent in each value over [from, to]. Time before the first entry is not observed and
   * is not counted, so the values sum to to − max(from, first entry).
   */
  integrate(from: number, to: number): Map<V, number> {
    const out = new Map<V, number>();
    const e = this.entries;
    if (!e.length || to <= from) return out;
    let i = Math.max(0, upperBound(e, from) - 1);
    for (; i < e.length; i++) {
      const start = Math.max(from, e[i].tMs);
      const end = Math.min(to, i + 1 < e.length ? e[i + 1].tMs : Infinity);
      if (start >= to) break;
      if (end > start) out.set(e[i].value, (out.get(e[i].value) ?? 0) + (end - start));
    }
    return out;
  }

  /** Drops entries before `t`, keeping the last one at or before t (the state at the cut). */
  prune(t: number): void {
    const keepFrom = upperBound(this.entries, t) - 1;
    if (keepFrom > 0) this.entries.splice(0, keepFrom);
  }
}

export interface UnitEntry {
  tMs: number;
  count: number;
  rxMs: number;
  sourceId?: string;
}

/** Production units by event time. */
export class UnitLog {
  private readonly entries: UnitEntry[] = [];
  private readonly ids = new Set<string>();

  get length(): number {
    return this.entries.length;
  }

  list(): UnitEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  /** A log holding `entries` (a list() saved before a restart), each checked by add(). */
  static from(entries: readonly UnitEntry[]): UnitLog {
    const u = new UnitLog();
    for (const e of entries) {
      if (!e || !Number.isFinite(e.rxMs)) throw new Error('malformed unit entry');
      u.add(e.tMs, e.count, e.rxMs, typeof e.sourceId === 'string' ? e.sourceId : undefined);
    }
    return u;
  }

  /** Returns false for a duplicate (an entry with the same source id was seen). */
  add(tMs: number, count: number, rxMs: number, sourceId?: string): boolean {
    if (!Number.isFinite(tMs)) throw new Error(`unit time must be a finite number, got ${tMs}`);
    if (!Number.isFinite(count)) throw new Error(`unit count must be a finite number, got ${count}`);
    if (sourceId !== undefined) {
      if (this.ids.has(sourceId)) return false;
      this.ids.add(sourceId);
    }
    const e: UnitEntry = { tMs, count, rxMs };
    if (sourceId !== undefined) e.sourceId = sourceId;
    this.entries.splice(upperBound(this.entries, tMs), 0, e);
    return true;
  }

  /**
   * Units with from ≤ t < to (a unit exactly at a shift boundary belongs to the new shift), or
   * from ≤ t ≤ to with `toInclusive` (a report "up to now" includes a unit made now).
   */
  sum(from: number, to: number, toInclusive = false): number {
    let s = 0;
    for (const e of this.entries) {
      if (toInclusive ? e.tMs > to : e.tMs >= to) break;
      if (e.tMs >= from) s += e.count;
    }
    return s;
  }

  /** Drops units before t (and forgets their source ids). */
  prune(t: number): void {
    let n = 0;
    while (n < this.entries.length && this.entries[n].tMs < t) {
      const id = this.entries[n].sourceId;
      if (id !== undefined) this.ids.delete(id);
      n++;
    }
    if (n) this.entries.splice(0, n);
  }
}
