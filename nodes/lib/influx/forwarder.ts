/**
 * Store-and-forward: every batch ends either written (2xx), spooled on disk (fsync'ed), or rejected
 * (4xx, bad data: never retried). Nothing is held only in memory across a failure.
 *
 *   submit ─▶ server up? ─ yes ─▶ write ─ 2xx ─▶ written
 *                │                   ├─ 5xx / network ─▶ mark down, spool ─▶ spooled
 *                │                   └─ 4xx ─▶ rejected (the caller routes it to output 2)
 *                └─ no (down, or too many batches waiting) ─▶ spool ─▶ spooled
 *
 * While down, a probe pings the server with exponential back-off. When it answers, new batches go
 * straight to the server again and the spool is replayed oldest first, one batch at a time, paced to
 * `replayPointsPerSec` so that a long backlog does not starve live writes or flood the server.
 * Replays are idempotent: InfluxDB keeps one point per measurement, tag set and timestamp, so a batch
 * written twice (a timeout after the server had in fact stored it) is stored once.
 *
 * Timers and randomness are injected (`timers`, `random`): the engine never reads the clock.
 */
import { Precision } from './line-protocol';
import { Spool, SpoolRecord, SpoolStats } from './spool';
import { WriteTransport, TransportError } from './transport';
import { Backoff, BackoffOptions, backoffOptions, backoffDelay } from './retry';

export interface Batch {
  body: string;
  points: number;
  precision: Precision;
  /** Writer node id, kept in the spool so a rejection on replay can be routed back to it. */
  owner: string;
}

export type Outcome =
  | { kind: 'written' }
  | { kind: 'spooled'; reason: string }
  | { kind: 'rejected'; status?: number; message: string };

export type LinkState = 'connecting' | 'up' | 'down' | 'closed';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ForwarderOptions {
  transport: WriteTransport;
  spool: Spool;
  timers: Timers;
  random?: () => number;
  /** Live batches written concurrently. Default 2. */
  maxInFlight?: number;
  /** Live batches waiting for a slot; beyond this they are spooled instead of held in memory. Default 32. */
  maxQueued?: number;
  /** Replay pace. Default 10 000 points/s. */
  replayPointsPerSec?: number;
  backoff?: BackoffOptions;
  /** Ping timeout while probing, ms. Default 2000. */
  pingTimeoutMs?: number;
  /** On close, in-flight writes get this long before they are aborted and spooled. Default 1000. */
  closeGraceMs?: number;
  onState?(state: LinkState, detail: string): void;
  /** A spooled batch the server rejected on replay (4xx): it is removed from the spool. */
  onReplayRejected?(rec: SpoolRecord, err: TransportError): void;
  /** Points the spool's size cap dropped (oldest first). */
  onDropped?(points: number): void;
  /** A failure outside any submit (the spool's disk during replay): reported, never thrown. */
  onError?(err: Error): void;
}

export interface ForwarderStats {
  state: LinkState;
  inFlight: number;
  queued: number;
  writtenPoints: number;
  spooledPoints: number;
  replayedPoints: number;
  rejectedPoints: number;
  spool: SpoolStats;
  lastError: string;
}

export class Forwarder {
  private state: LinkState = 'connecting';
  private readonly o: Required<Omit<ForwarderOptions, 'onState' | 'onReplayRejected' | 'onDropped' | 'onError' | 'backoff'>> &
    Pick<ForwarderOptions, 'onState' | 'onReplayRejected' | 'onDropped' | 'onError'>;
  private readonly backoff: Backoff;
  private attempt = 0;
  private probeTimer: unknown = null;
  private probing = false;
  private replayTimer: unknown = null;
  private replaying = false;
  private replayAbort: AbortController | null = null;
  private inFlight = new Set<AbortController>();
  /** Settles when the submit that owns it has finished (written, spooled or rejected). */
  private settling = new Set<Promise<unknown>>();
  private waiting: (() => void)[] = [];
  private closing = false;
  private idle: Promise<void> = Promise.resolve();
  private lastError = '';
  private counters = { written: 0, spooled: 0, replayed: 0, rejected: 0 };

  constructor(opts: ForwarderOptions) {
    if (!opts?.transport || !opts.spool || !opts.timers) throw new Error('forwarder: transport, spool and timers are required');
    const o = {
      random: Math.random,
      maxInFlight: 2,
      maxQueued: 32,
      replayPointsPerSec: 10000,
      pingTimeoutMs: 2000,
      closeGraceMs: 1000,
      ...opts,
    };
    if (!Number.isInteger(o.maxInFlight) || o.maxInFlight < 1) throw new Error(`forwarder: maxInFlight must be an integer >= 1, got ${o.maxInFlight}`);
    if (!Number.isInteger(o.maxQueued) || o.maxQueued < 0) throw new Error(`forwarder: maxQueued must be an integer >= 0, got ${o.maxQueued}`);
    if (!(o.replayPointsPerSec > 0)) throw new Error(`forwarder: replayPointsPerSec must be > 0, got ${o.replayPointsPerSec}`);
    this.o = o;
    this.backoff = backoffOptions(opts.backoff);
  }

  /** Opens the spool; if it holds batches from a previous run, probing starts and replay follows. */
  async start(): Promise<void> {
    await this.o.spool.open();
    this.emit('connecting', this.o.transport.target);
    this.scheduleProbe(0);
  }

  stats(): ForwarderStats {
    return {
      state: this.state,
      inFlight: this.inFlight.size,
      queued: this.waiting.length,
      writtenPoints: this.counters.written,
      spooledPoints: this.counters.spooled,
      replayedPoints: this.counters.replayed,
      rejectedPoints: this.counters.rejected,
      spool: this.o.spool.stats(),
      lastError: this.lastError,
    };
  }

  /** Never rejects for server trouble: the outcome says where the batch went. Rejects only if the disk fails. */
  submit(batch: Batch): Promise<Outcome> {
    const p = this.submitInner(batch);
    const settled = p.catch(() => undefined).finally(() => this.settling.delete(settled));
    this.settling.add(settled);
    return p;
  }

  private async submitInner(batch: Batch): Promise<Outcome> {
    if (this.closing) return this.toSpool(batch, 'closing');
    if (this.state === 'down') return this.toSpool(batch, `server down: ${this.lastError}`);
    if (this.inFlight.size >= this.o.maxInFlight) {
      if (this.waiting.length >= this.o.maxQueued) return this.toSpool(batch, 'server slower than the input');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      if (this.closing || this.isDown()) return this.toSpool(batch, this.closing ? 'closing' : `server down: ${this.lastError}`);
    }
    const ac = new AbortController();
    this.inFlight.add(ac);
    try {
      await this.o.transport.write(batch.body, batch.precision, ac.signal);
      this.counters.written += batch.points;
      this.attempt = 0;
      if (this.state !== 'up' && !this.closing) this.setUp();
      return { kind: 'written' };
    } catch (err) {
      const e = asTransportError(err);
      if (e.kind === 'reject') {
        this.counters.rejected += batch.points;
        return { kind: 'rejected', status: e.status, message: e.message };
      }
      this.lastError = e.message;
      if (!this.closing) this.setDown(e.message);
      return this.toSpool(batch, e.message);
    } finally {
      this.inFlight.delete(ac);
      this.waiting.shift()?.();
    }
  }

  private isDown(): boolean {
    return this.state === 'down';
  }

  private async toSpool(batch: Batch, reason: string): Promise<Outcome> {
    const dropped = await this.o.spool.append(batch.body, batch.points, batch.precision, batch.owner);
    this.counters.spooled += batch.points;
    if (dropped > 0) this.o.onDropped?.(dropped);
    if (this.state === 'up') this.kickReplay();
    return { kind: 'spooled', reason };
  }

  private emit(state: LinkState, detail: string): void {
    this.state = state;
    this.o.onState?.(state, detail);
  }

  private setUp(): void {
    this.emit('up', this.o.transport.target);
    this.kickReplay();
  }

  private setDown(reason: string): void {
    if (this.state === 'down') return;
    this.emit('down', reason);
    // Batches waiting for a slot would only time out one after another: release them to the spool.
    for (const w of this.waiting.splice(0)) w();
    this.scheduleProbe(backoffDelay(this.backoff, this.attempt++, this.o.random()));
  }

  private scheduleProbe(delayMs: number): void {
    if (this.closing || this.probeTimer !== null || this.probing) return;
    this.probeTimer = this.o.timers.setTimeout(() => {
      this.probeTimer = null;
      void this.probe();
    }, delayMs);
  }

  private async probe(): Promise<void> {
    if (this.closing) return;
    this.probing = true;
    let ok = false;
    let why = '';
    try {
      const r = await this.o.transport.ping(this.o.pingTimeoutMs);
      ok = r.ok;
      why = r.error ?? '';
    } catch (err) {
      why = (err as Error).message;
    }
    this.probing = false;
    if (this.closing) return;
    if (ok) {
      this.setUp();
      return;
    }
    this.lastError = why || this.lastError;
    if (this.state !== 'down') this.emit('down', this.lastError);
    this.scheduleProbe(backoffDelay(this.backoff, this.attempt++, this.o.random()));
  }

  private kickReplay(): void {
    if (this.replaying || this.replayTimer !== null || this.closing) return;
    if (this.o.spool.isEmpty) return;
    this.replaying = true;
    this.idle = this.replayOne()
      .catch((err: Error) => {
        // The disk failed under the spool: stop replaying until the next reconnect, say why.
        this.lastError = `spool: ${err.message}`;
        this.o.onError?.(err);
      })
      .finally(() => {
        this.replaying = false;
      });
  }

  private async replayOne(): Promise<void> {
    if (this.closing || this.state !== 'up') return;
    const rec = await this.o.spool.peek();
    if (!rec) return;
    const ac = new AbortController();
    this.replayAbort = ac;
    try {
      await this.o.transport.write(rec.body, rec.precision, ac.signal);
      this.counters.replayed += rec.points;
      this.attempt = 0;
      await this.o.spool.ack(rec);
    } catch (err) {
      const e = asTransportError(err);
      if (e.kind === 'reject') {
        this.counters.rejected += rec.points;
        await this.o.spool.ack(rec);
        this.o.onReplayRejected?.(rec, e);
      } else {
        this.lastError = e.message;
        if (!this.closing) this.setDown(e.message);
        return;
      }
    } finally {
      this.replayAbort = null;
    }
    if (this.closing) return;
    // Pace: the next batch waits as long as this one "costs" at the configured rate.
    const waitMs = (rec.points / this.o.replayPointsPerSec) * 1000;
    this.replayTimer = this.o.timers.setTimeout(() => {
      this.replayTimer = null;
      this.kickReplay();
    }, waitMs);
  }

  /**
   * Stops probing and replay, gives in-flight writes `closeGraceMs` and then aborts them (an aborted
   * batch is spooled, to be replayed on the next start), and closes the spool.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.probeTimer !== null) this.o.timers.clearTimeout(this.probeTimer);
    if (this.replayTimer !== null) this.o.timers.clearTimeout(this.replayTimer);
    this.probeTimer = this.replayTimer = null;
    for (const w of this.waiting.splice(0)) w();
    const grace = this.o.timers.setTimeout(() => {
      for (const ac of this.inFlight) ac.abort();
      this.replayAbort?.abort();
    }, this.o.closeGraceMs);
    await Promise.all([...this.settling, this.idle.catch(() => undefined)]);
    this.o.timers.clearTimeout(grace);
    this.emit('closed', '');
    await this.o.spool.close();
  }
}

function asTransportError(err: unknown): TransportError {
  if (err instanceof TransportError) return err;
  return new TransportError((err as Error)?.message ?? String(err), 'retry');
}
