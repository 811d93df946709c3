/**
 * Glue between the pure StatusThrottle and a Node-RED node: one instance per node. Routine updates
 * are limited to 1 Hz; the last held-back one is shown by a timer so the final figures always appear.
 */
import { StatusThrottle, StatusState } from '../lib/status';

interface StatusTarget {
  status(s: object): void;
}

export class NodeStatusReporter {
  private readonly throttle: StatusThrottle;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly node: StatusTarget,
    minIntervalMs = 1000,
  ) {
    this.throttle = new StatusThrottle(minIntervalMs);
    this.timer = setInterval(() => {
      const s = this.throttle.flush(Date.now());
      if (s) this.node.status(s);
    }, minIntervalMs);
    this.timer.unref();
  }

  set(state: StatusState, text: string): void {
    const s = this.throttle.offer(state, text, Date.now());
    if (s) this.node.status(s);
  }

  /** Bypasses the throttle: for the final status on close. */
  force(state: StatusState, text: string): void {
    this.node.status(this.throttle.shown(state, text, Date.now()));
  }

  clear(): void {
    this.node.status({});
  }

  close(): void {
    clearInterval(this.timer);
  }
}
