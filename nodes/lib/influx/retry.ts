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

/** What a failed write means for the batch: hold it (spool, retry with back-off) or refuse it as malformed. */
export type FailureKind = 'retry' | 'reject';

/**
 * Only an answer that says the data itself is malformed rejects a batch: 400 (unable to parse, a
 * field type conflict, a partial write), 413 (too large) and 422 (unprocessable). Retrying those would
 * fail forever; they go to the dead-letter file. Everything else is held and retried, because fixing
 * it does not need the data to change: 5xx, 408, 429 and network errors (the server's trouble), 401 and
 * 403 (a token or password to fix), 404 (a database or bucket to create, a URL to fix), and any other
 * status.
 */
export function classifyStatus(status: number | undefined): FailureKind {
  return status === 400 || status === 413 || status === 422 ? 'reject' : 'retry';
}
