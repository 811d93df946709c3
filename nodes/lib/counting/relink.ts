/**
 * Identity re-link: when the tracker loses an object and starts a new track for it, the new track
 * inherits the lost one's line state, so a crossing made across the identity switch counts once.
 * Here: the choice of a source (same class and size, near where it would be now), the inheritance,
 * stand-ins (a copy of a track's state left behind when the tracker may have handed it to someone
 * else), zone take-over, and the bridge check that drops a crossing made on a re-link to the wrong
 * object. Reads and writes the counter's track pools; counts nothing itself.
 */
import { Detection, Point } from '../types';
import { CountingOptions } from './config';
import { Pending, TrackRec } from './track-record';
import { ZoneState, handOverZones } from './zones';

/** Re-link only between boxes whose heights differ by less than this factor. */
const RELINK_MAX_SIZE_RATIO = 1.5;

/**
 * A lost track's smoothed velocity is predicted forward for at most this long: it was measured over
 * the few frames before the loss, often while an occluder cut the box, and does not hold for longer.
 */
const RELINK_MAX_PREDICT_S = 1;

/**
 * A track the tracker re-finds after being unseen at least this long, on a box whose height differs
 * from its own by at least STAND_IN_SIZE_RATIO, may be someone else: typically a nearer person who
 * walked in front of the hidden one, whose box covers the hidden one's predicted box.
 */
const STAND_IN_MIN_GAP_S = 0.5;
const STAND_IN_SIZE_RATIO = 1.3;

/** Re-link candidates of one frame, sorted by anchor x, so a new track looks only at those near it. */
interface RelinkIndex {
  xs: number[];
  recs: TrackRec[];
  /** Position in the old search order (live tracks, then ended ones): ties go to the earlier. */
  order: number[];
}

export class Relinker {
  private standIns = 0;
  /** This frame's candidates, built at the first new track; dropped when the pools change. */
  private index: RelinkIndex | undefined;

  /**
   * @param tracks the counter's live tracks
   * @param ended its ended tracks (and stand-ins, negative ids) kept as re-link sources
   * @param newZones zone states for a record, outside every zone
   */
  constructor(
    private readonly options: CountingOptions,
    private readonly tracks: ReadonlyMap<number, TrackRec>,
    private readonly ended: Map<number, TrackRec>,
    private readonly newZones: () => ZoneState[],
  ) {}

  /** The pools changed (a new frame, tracks ended): the next search builds its index afresh. */
  invalidate(): void {
    this.index = undefined;
  }

  /**
   * A new track: if a lost one of the same class and size was near where it would be now, the new
   * one inherits its state. True when it did.
   */
  relinkNew(rec: TrackRec, tMs: number, anchor: Point, present: ReadonlyMap<number, Detection>): boolean {
    const src = this.source(rec, tMs, anchor, present);
    if (!src) return false;
    // Identity switch: carry the line state over (hysteresis streak included: it is one
    // trajectory), and start the trajectory at the old track's last anchor so that a crossing made
    // across the switch is seen (once) with its true crossing point. Crossings the old track made
    // while tentative move over with it, so they count when the chain is confirmed, and only once.
    src.relinked = true;
    rec.inheritedFrom = src.id;
    rec.hits = src.hits;
    rec.pending = src.pending;
    src.pending = [];
    rec.lines = src.lines.map((s) => ({ ...s, bridged: false }));
    rec.anchor = src.anchor;
    if (this.options.relinkCheckFrames > 0 && src.anchor) {
      // A source still under check (a chain of short tracks) hands on its bridge and held crossings.
      const open = src.bridge && !src.bridge.verdict ? src.bridge : undefined;
      rec.bridge = open
        ? { from: open.from, to: open.to, stepped: false, frames: open.frames, held: open.held }
        : { from: src.anchor, stepped: false, frames: 0, held: [] };
      if (open) open.held = [];
    }
    return true;
  }

  /**
   * The tracker re-found a lost track on a box of another size, after a long gap: it may have handed
   * the hidden person's track to someone who walked in front of them. The track goes on as the
   * tracker says (it may well be the same object), and a copy of its state as last seen stays behind
   * as a re-link source (a stand-in), so that if the hidden person reappears as a new track within
   * relinkS of being lost, they inherit their own crossing state instead of starting afresh (a line
   * they crossed while hidden would otherwise go uncounted). Nothing is counted twice: the stand-in
   * carries the same "already counted" flags, and is inherited at most once, by a new track only.
   */
  keepStandIn(rec: TrackRec, boxH: number, tMs: number): void {
    if (this.options.relinkS <= 0 || !rec.confirmed || !rec.anchor) return;
    const gapMs = tMs - rec.lastSeenMs;
    // (A gap longer than relinkS: the stand-in would be out of the pool before anyone could inherit it.)
    if (gapMs < STAND_IN_MIN_GAP_S * 1000 || gapMs > this.options.relinkS * 1000) return;
    if (Math.max(rec.fullH, boxH) < STAND_IN_SIZE_RATIO * Math.min(rec.fullH, boxH)) return;
    const id = -++this.standIns;
    this.index = undefined; // a new re-link source
    this.ended.set(id, {
      ...rec,
      id,
      lines: rec.lines.map((l) => ({ ...l })),
      zones: this.newZones(),
      pending: [],
      relinked: false,
      bridge: undefined,
    });
  }

  /** A re-linked track takes over the zone membership of its predecessor if that one is still unseen (no exit + enter for one person). */
  takeOverZones(rec: TrackRec): void {
    if (rec.inheritedFrom === undefined) return;
    const src = this.tracks.get(rec.inheritedFrom);
    if (!src || src.lastSeenMs > rec.firstSeenMs) return;
    handOverZones(src.zones, rec.zones);
  }

  /** The nearest unseen track of the same class and size, lost within relinkS, near its predicted position. */
  private source(rec: TrackRec, tMs: number, anchor: Point, present: ReadonlyMap<number, Detection>): TrackRec | undefined {
    const o = this.options;
    if (o.relinkS <= 0) return undefined;
    const idx = (this.index ??= this.buildIndex(tMs, present));
    // A source's predicted point is at most `reach` from its last anchor, and the new anchor at most
    // `reach` from that, with reach ≤ relinkRadius × this track's height: only sources whose anchor x
    // is within twice that can qualify.
    const window = 2 * o.relinkRadius * rec.boxH * (1 + 1e-9) + 1e-9;
    let lo = 0;
    let hi = idx.xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (idx.xs[mid] < anchor[0] - window) lo = mid + 1;
      else hi = mid;
    }
    let best: TrackRec | undefined;
    let bestScore = Infinity;
    let bestOrder = Infinity;
    for (let k = lo; k < idx.xs.length && idx.xs[k] <= anchor[0] + window; k++) {
      const c = idx.recs[k];
      if (c.relinked || !c.anchor || c.label !== rec.label) continue;
      const dt = tMs - c.lastSeenMs;
      // An identity switch keeps the object's size; a box half or twice as tall is someone nearer
      // or farther away, whose state must not be inherited.
      if (Math.max(c.boxH, rec.boxH) > RELINK_MAX_SIZE_RATIO * Math.min(c.boxH, rec.boxH)) continue;
      // Predict with the smoothed velocity, for at most RELINK_MAX_PREDICT_S and never further than
      // the radius itself: a stale velocity must not carry the search area away from where the track
      // was last seen.
      const reach = o.relinkRadius * Math.min(c.boxH, rec.boxH);
      const horizon = Math.min(dt, RELINK_MAX_PREDICT_S * 1000);
      let pxp = c.vel[0] * horizon;
      let pyp = c.vel[1] * horizon;
      const m = Math.hypot(pxp, pyp);
      if (m > reach && m > 0) {
        pxp *= reach / m;
        pyp *= reach / m;
      }
      const dist = Math.hypot(anchor[0] - (c.anchor[0] + pxp), anchor[1] - (c.anchor[1] + pyp));
      const score = dist / Math.max(1e-9, reach);
      if (score <= 1 && (score < bestScore || (score === bestScore && idx.order[k] < bestOrder))) {
        best = c;
        bestScore = score;
        bestOrder = idx.order[k];
      }
    }
    return best;
  }

  /** This frame's possible re-link sources (unseen now, seen within relinkS, with an anchor), by anchor x. */
  private buildIndex(tMs: number, present: ReadonlyMap<number, Detection>): RelinkIndex {
    const relinkMs = this.options.relinkS * 1000;
    const cands: { x: number; rec: TrackRec; order: number }[] = [];
    let order = 0;
    for (const pool of [this.tracks, this.ended]) {
      for (const c of pool.values()) {
        const n = order++;
        if (present.has(c.id) || !c.anchor) continue;
        const dt = tMs - c.lastSeenMs;
        if (dt <= 0 || dt > relinkMs) continue;
        cands.push({ x: c.anchor[0], rec: c, order: n });
      }
    }
    cands.sort((a, b) => a.x - b.x || a.order - b.order);
    return { xs: cands.map((c) => c.x), recs: cands.map((c) => c.rec), order: cands.map((c) => c.order) };
  }
}

/** The bridge's first step is being made now (the track has had no whole box since the re-link). */
export function onBridge(rec: TrackRec): boolean {
  return rec.bridge !== undefined && !rec.bridge.stepped;
}

/**
 * A crossing settled on the bridge: held while the check is open, dropped after an "against"
 * verdict. True when it is not to be released now.
 */
export function withheld(rec: TrackRec, p: Pending): boolean {
  const br = rec.bridge;
  if (!br) return false;
  if (br.verdict === 'against') return true;
  if (!br.verdict) {
    br.held.push(p);
    return true;
  }
  return false;
}

/**
 * A whole-box frame of the track (its anchor already moved): true when the bridge check is due
 * (more than `checkFrames` such frames since the bridge).
 */
export function stepBridge(rec: TrackRec, anchor: Point, checkFrames: number): boolean {
  const br = rec.bridge;
  if (!br || br.verdict) return false;
  if (!br.to) br.to = anchor;
  br.stepped = true;
  return ++br.frames > checkFrames;
}

/**
 * The re-link check: has this track moved back against its bridge since it appeared? The bridge
 * of a true identity switch points the way the object was going, and it goes on that way (or
 * stands); a bridge to someone else who appeared nearby points anywhere, often against their own
 * walk (a person entering the view beside where another was lost). Only a move back drops the
 * held crossings: a standing object keeps them. Returns the held crossings to release.
 */
export function judgeBridge(rec: TrackRec): Pending[] {
  const br = rec.bridge;
  if (!br || br.verdict) return [];
  const to = br.to ?? br.from;
  const now = rec.anchor ?? to;
  const along = (to[0] - br.from[0]) * (now[0] - to[0]) + (to[1] - br.from[1]) * (now[1] - to[1]) >= 0;
  br.verdict = along ? 'along' : 'against';
  const held = br.held;
  br.held = [];
  return along ? held : [];
}
