/**
 * Retry policy: which failures are worth retrying, and how long to wait before the next try.
 * Pure: the caller passes the attempt number and a random number in [0, 1).
 */

export interface BackoffOptions {
  /** First delay, ms. Default 500. */
  initialMs?: number;
  /** Upper bound, ms. Default 30 000. */
  maxMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Fraction of the delay that is randomised (0..1), so many gateways do not retry in step. Default 0.2. */
  jitter?: number;
}

export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
  jitter: number;
}

export function backoffOptions(o: BackoffOptions = {}): Backoff {
  const b = { initialMs: o.initialMs ?? 500, maxMs: o.maxMs ?? 30000, factor: o.factor ?? 2, jitter: o.jitter ?? 0.2 };
  if (!(b.initialMs > 0)) throw new Error(`backoff: initialMs must be > 0, got ${b.initialMs}`);
  if (!(b.maxMs >= b.initialMs)) throw new Error(`backoff: maxMs must be >= initialMs (${b.initialMs}), got ${b.maxMs}`);
  if (!(b.factor >= 1)) throw new Error(`backoff: factor must be >= 1, got ${b.factor}`);
  if (!(b.jitter >= 0 && b.jitter <= 1)) throw new Error(`backoff: jitter must be within 0..1, got ${b.jitter}`);
  return b;
}

/** Delay before retry number `attempt` (0 = first retry): initial·factor^attempt, capped, jittered down. */
export function backoffDelay(b: Backoff, attempt: number, random: number): number {
  const raw = Math.min(b.maxMs, b.initialMs * Math.pow(b.factor, Math.max(0, attempt)));
  return Math.round(raw * (1 - b.jitter * random));
}

/** What a failed write means for the batch. */
export type FailureKind = 'retry' | 'reject';

/**
 * 5xx, 408 (timeout), 429 (too many requests) and network errors are the server's problem: keep the
 * batch and retry. Any other 4xx is the data's problem: retrying would fail forever.
 */
export function classifyStatus(status: number | undefined): FailureKind {
  if (status === undefined || status === 0) return 'retry';
  if (status >= 500 || status === 408 || status === 429) return 'retry';
  if (status >= 400) return 'reject';
  return 'retry';
}
