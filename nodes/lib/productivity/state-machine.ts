/**
 * The working / idle / absent state machine with presence inertia. Pure: the caller passes event time
 * (the frame's time) in with every observation and gets back the changes it caused.
 *
 * Timing rules ("longer than" is strict everywhere, so a value exactly at a threshold does not fire):
 * - Presence inertia: sightings less than `presenceOffMs` apart form one visit; a visit counts as
 *   presence once it has lasted at least `presenceOnMs`; presence ends `presenceOffMs` after the last
 *   sighting. A passer-by quicker than `presenceOnMs` never counts; a detector that drops a few frames
 *   does not end a presence.
 * - working: present and active (activity above threshold). Entered at the tick that shows it.
 * - idle: present but not active for longer than `idleDelayMs` (from working), present and not active
 *   (from absent), or nobody present for at most `absenceTimeoutMs` (a short break is idle time).
 * - absent: nobody present for longer than `absenceTimeoutMs`.
 * Timeouts fire at the exact instant the threshold is passed (e.g. last presence + timeout), not at the
 * next frame, so figures do not depend on the frame rate; that instant is the event's time.
 */

export type StationState = 'working' | 'idle' | 'absent';

export const STATE_CODE: Record<StationState, number> = { absent: 0, idle: 1, working: 2 };

export interface TimingOptions {
  presenceOnMs: number;
  presenceOffMs: number;
  idleDelayMs: number;
  absenceTimeoutMs: number;
}

export const DEFAULT_TIMING: TimingOptions = {
  presenceOnMs: 1000,
  presenceOffMs: 2000,
  idleDelayMs: 30000,
  absenceTimeoutMs: 300000,
};

export function validateTiming(t: Partial<TimingOptions>): TimingOptions {
  const out = { ...DEFAULT_TIMING, ...t };
  for (const k of Object.keys(DEFAULT_TIMING) as (keyof TimingOptions)[]) {
    const v = out[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${k} must be a number ≥ 0 (ms), got ${String(v)}`);
  }
  return out;
}

export interface Inputs {
  present: boolean;
  active: boolean;
  /** ms the activity has been below threshold (or presence gone) while working; null when active. */
  inactiveForMs: number | null;
  /** ms since presence ended; null while present (or never present). */
  absentForMs: number | null;
}

/** The transition table (see the module comment); tested row by row. */
export function nextState(state: StationState, i: Inputs, t: Pick<TimingOptions, 'idleDelayMs' | 'absenceTimeoutMs'>): StationState {
  if (i.present && i.active) return 'working';
  if (!i.present && i.absentForMs !== null && i.absentForMs > t.absenceTimeoutMs) return 'absent';
  if (state === 'working') return i.inactiveForMs !== null && i.inactiveForMs > t.idleDelayMs ? 'idle' : 'working';
  if (state === 'absent') return i.present ? 'idle' : 'absent';
  return 'idle';
}

export interface Observation {
  /** A qualifying detection is in the zone in this frame. */
  raw: boolean;
  /** Activity above threshold in this frame; undefined = no reading (keeps the last one). */
  active?: boolean;
}

export interface StateChange {
  tMs: number;
  from: StationState;
  to: StationState;
}

export interface PresenceChange {
  tMs: number;
  present: boolean;
}

export interface StepResult {
  changes: StateChange[];
  presence: PresenceChange[];
  /** The observation was older than the last one and was ignored. */
  late: boolean;
}

/** Everything a machine needs to carry on after a restart (plain JSON). */
export interface MachineSnapshot {
  state: StationState;
  present: boolean;
  active: boolean;
  lastT: number;
  lastSeen: number | null;
  visitStart: number | null;
  inactiveSince: number | null;
  absentSince: number | null;
  presentSince: number | null;
}

const STATES: readonly StationState[] = ['working', 'idle', 'absent'];
const optTime = (v: unknown): v is number | null => v === null || (typeof v === 'number' && Number.isFinite(v));

export class StateMachine {
  private timing: TimingOptions;
  private st: StationState;
  private isPresent = false;
  private isActive = false;
  private lastT: number;
  private lastSeen: number | null = null;
  private visitStart: number | null = null;
  private inactiveSince: number | null = null;
  private absentSince: number | null = null;
  private presentSince: number | null = null;

  constructor(timing: Partial<TimingOptions>, startMs: number, initial: StationState = 'absent') {
    this.timing = validateTiming(timing);
    this.st = initial;
    this.lastT = startMs;
  }

  get state(): StationState {
    return this.st;
  }
  get present(): boolean {
    return this.isPresent;
  }
  get active(): boolean {
    return this.isActive;
  }
  /** Start of the current presence (for crediting units to the longest-present worker). */
  get presentSinceMs(): number | null {
    return this.presentSince;
  }
  get timeMs(): number {
    return this.lastT;
  }

  configure(timing: Partial<TimingOptions>): void {
    this.timing = validateTiming({ ...this.timing, ...timing });
  }

  snapshot(): MachineSnapshot {
    return {
      state: this.st,
      present: this.isPresent,
      active: this.isActive,
      lastT: this.lastT,
      lastSeen: this.lastSeen,
      visitStart: this.visitStart,
      inactiveSince: this.inactiveSince,
      absentSince: this.absentSince,
      presentSince: this.presentSince,
    };
  }

  /** A machine in the state `snap` recorded; throws when the snapshot is malformed. */
  static fromSnapshot(timing: Partial<TimingOptions>, snap: MachineSnapshot): StateMachine {
    const ok =
      !!snap &&
      STATES.includes(snap.state) &&
      typeof snap.present === 'boolean' &&
      typeof snap.active === 'boolean' &&
      Number.isFinite(snap.lastT) &&
      [snap.lastSeen, snap.visitStart, snap.inactiveSince, snap.absentSince, snap.presentSince].every(optTime);
    if (!ok) throw new Error('malformed state-machine snapshot');
    const m = new StateMachine(timing, snap.lastT, snap.state);
    m.isPresent = snap.present;
    m.isActive = snap.active;
    m.lastSeen = snap.lastSeen;
    m.visitStart = snap.visitStart;
    m.inactiveSince = snap.inactiveSince;
    m.absentSince = snap.absentSince;
    m.presentSince = snap.presentSince;
    return m;
  }

  step(tMs: number, obs: Observation): StepResult {
    const res: StepResult = { changes: [], presence: [], late: false };
    if (tMs < this.lastT) {
      res.late = true;
      return res;
    }
    this.elapse(tMs, res);
    const tm = this.timing;
    if (obs.raw) {
      if (this.lastSeen === null || tMs - this.lastSeen > tm.presenceOffMs) this.visitStart = tMs;
      this.lastSeen = tMs;
      if (!this.isPresent && this.visitStart !== null && tMs - this.visitStart >= tm.presenceOnMs) {
        this.isPresent = true;
        this.isActive = false;
        this.presentSince = tMs;
        this.absentSince = null;
        res.presence.push({ tMs, present: true });
      }
    }
    if (this.isPresent && obs.active !== undefined) this.isActive = obs.active;
    if (this.isActive) this.inactiveSince = null;
    else if (this.st === 'working' && this.inactiveSince === null) this.inactiveSince = tMs;
    const to = nextState(this.st, this.inputsAt(tMs), tm);
    this.move(tMs, to, res);
    this.lastT = tMs;
    return res;
  }

  /** Advances time with no observation (no frame came): only timeouts can fire. */
  advance(tMs: number): StepResult {
    const res: StepResult = { changes: [], presence: [], late: tMs < this.lastT };
    if (res.late) return res;
    this.elapse(tMs, res);
    this.lastT = tMs;
    return res;
  }

  private inputsAt(t: number): Inputs {
    return {
      present: this.isPresent,
      active: this.isPresent && this.isActive,
      inactiveForMs: this.inactiveSince === null ? null : t - this.inactiveSince,
      absentForMs: this.absentSince === null ? null : t - this.absentSince,
    };
  }

  private move(t: number, to: StationState, res: StepResult): void {
    if (to === this.st) return;
    res.changes.push({ tMs: t, from: this.st, to });
    this.st = to;
    if (to !== 'working') this.inactiveSince = null;
  }

  /** Fires, in time order, every timeout whose instant lies strictly before `t`. */
  private elapse(t: number, res: StepResult): void {
    const tm = this.timing;
    for (;;) {
      // Ties at one instant resolve in this order: presence ends, then absence, then idle.
      let due = Infinity;
      let what: 'drop' | 'absent' | 'idle' | null = null;
      if (this.isPresent && this.lastSeen !== null && this.lastSeen + tm.presenceOffMs < t) {
        due = this.lastSeen + tm.presenceOffMs;
        what = 'drop';
      }
      if (!this.isPresent && this.st !== 'absent' && this.absentSince !== null) {
        const at = this.absentSince + tm.absenceTimeoutMs;
        if (at < t && at < due) {
          due = at;
          what = 'absent';
        }
      }
      if (this.st === 'working' && this.inactiveSince !== null) {
        const at = this.inactiveSince + tm.idleDelayMs;
        if (at < t && at < due) {
          due = at;
          what = 'idle';
        }
      }
      if (what === null) return;
      if (what === 'drop') {
        this.isPresent = false;
        this.isActive = false;
        this.presentSince = null;
        this.visitStart = null;
        this.absentSince = due;
        if (this.st === 'working' && this.inactiveSince === null) this.inactiveSince = due;
        res.presence.push({ tMs: due, present: false });
      } else if (what === 'absent') {
        this.move(due, 'absent', res);
      } else {
        this.move(due, 'idle', res);
      }
    }
  }
}
