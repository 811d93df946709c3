/**
 * One status convention for every node (../../STYLE.md "Nodes that feel native"): a state maps to a
 * fill and shape, the reason or figures go in the text. Pure: the caller passes the time in.
 */

export type StatusState = 'running' | 'connecting' | 'warning' | 'error' | 'stopped' | 'idle';

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

const LOOK: Record<StatusState, Pick<NodeStatus, 'fill' | 'shape'>> = {
  running: { fill: 'green', shape: 'dot' },
  connecting: { fill: 'yellow', shape: 'ring' },
  warning: { fill: 'yellow', shape: 'dot' },
  error: { fill: 'red', shape: 'ring' },
  stopped: { fill: 'grey', shape: 'ring' },
  idle: { fill: 'blue', shape: 'ring' },
};

/** Node-RED draws long status texts off the node; keep them to one short line. */
const MAX_TEXT = 60;

export function statusFor(state: StatusState, text: string): NodeStatus {
  const t = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT - 1) + '…' : text;
  return { ...LOOK[state], text: t };
}

/**
 * De-duplicates status updates and limits routine ones (counters) to one per `minIntervalMs`.
 * State changes (running → error, say) always go through at once: a red status must never wait.
 */
export class StatusThrottle {
  private lastKey = '';
  private lastState: StatusState | null = null;
  private lastAtMs = -Infinity;
  private pending: NodeStatus | null = null;

  constructor(private readonly minIntervalMs = 1000) {}

  /** Returns the status to show now, or null when it should be held back (see `flush`). */
  offer(state: StatusState, text: string, nowMs: number): NodeStatus | null {
    const s = statusFor(state, text);
    const key = `${s.fill}|${s.shape}|${s.text}`;
    if (key === this.lastKey) {
      this.pending = null;
      return null;
    }
    if (state === this.lastState && nowMs - this.lastAtMs < this.minIntervalMs) {
      this.pending = s;
      return null;
    }
    this.pending = null;
    this.lastKey = key;
    this.lastState = state;
    this.lastAtMs = nowMs;
    return s;
  }

  /**
   * A status shown without asking (a forced one: an error, a final figure): it becomes the last one
   * shown, and a held-back routine one is dropped, so neither a late flush paints over it nor is the
   * next routine status taken for a repeat of what was shown before it.
   */
  shown(state: StatusState, text: string, nowMs: number): NodeStatus {
    const s = statusFor(state, text);
    this.pending = null;
    this.lastKey = `${s.fill}|${s.shape}|${s.text}`;
    this.lastState = state;
    this.lastAtMs = nowMs;
    return s;
  }

  /** The newest held-back status, if its interval has passed (call from a timer). */
  flush(nowMs: number): NodeStatus | null {
    if (!this.pending || nowMs - this.lastAtMs < this.minIntervalMs) return null;
    const s = this.pending;
    this.pending = null;
    this.lastKey = `${s.fill}|${s.shape}|${s.text}`;
    this.lastAtMs = nowMs;
    return s;
  }
}
