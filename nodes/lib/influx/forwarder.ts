/**
 * Store-and-forward: every batch ends either written (2xx), spooled on disk (fsync'ed, whole), or
 * refused as malformed and kept in the dead-letter file. Nothing is held only in memory across a
 * failure, and nothing acknowledged is dropped except by the spool's size cap.
 *
 *   submit ─▶ link up? ─ yes ─▶ write ─ 2xx ─▶ written
 *                │                  ├─ 404 database not found, creation allowed ─▶ CREATE DATABASE, write again
 *                │                  ├─ 400 / 413 / 422 (malformed) ─▶ dead-letter file ─▶ rejected (output 2)
 *                │                  └─ anything else (5xx, timeout, network, 401, 403, 404…) ─▶ link down, spool ─▶ spooled
 *                └─ no (down, or too many batches waiting) ─▶ spool ─▶ spooled
 *
 * While down, a probe retries with exponential back-off: it pings the server and, when it answers,
 * writes the oldest spooled batch, so a server that answers but refuses us (a wrong token, a missing
 * database) keeps the link down with its reason instead of flapping up and down. Once a write goes
 * through, new batches go straight to the server again and the spool is replayed oldest first, one
 * batch at a time, paced to `replayPointsPerSec` so that a long backlog does not starve live writes or
 * flood the server. Replays are idempotent: InfluxDB keeps one point per measurement, tag set and
 * timestamp, so a batch written twice (a timeout after the server had in fact stored it) is stored once.
 *
 * Timers, the clock (for the dead-letter time) and randomness are injected (`timers`, `random`): the
 * engine never reads the clock.
 */
import { Precision } from './line-protocol';
import { Spool, SpoolRecord, SpoolStats } from './spool';
import { DeadLetter, ReplayResult } from './deadletter';
import { WriteTransport, TransportError } from './transport';
import { Backoff, BackoffOptions, backoffOptions, backoffDelay } from './retry';

export interface Batch {
  body: string;
  points: number;
  precision: Precision;
  /** Writer node id, kept in the spool so a rejection on replay can be routed back to it. */
  owner: string;
}

/** Where a refused batch went: into the dead-letter file, or not (why: the file's cap, a disk error). */
export interface DeadLetterFate {
  kept: boolean;
  /** Why not: no dead-letter file configured, the file at its cap, a disk error. */
  notKept?: string;
  /** Not kept because the disk failed: a spooled batch then stays in the spool, to be tried again. */
  diskError?: boolean;
}

export type Outcome = { kind: 'written' } | { kind: 'spooled'; reason: string } | ({ kind: 'rejected'; status?: number; message: string } & DeadLetterFate);

export type LinkState = 'connecting' | 'up' | 'down' | 'closed';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Epoch ms: only stamps the time a batch was refused in the dead-letter file. */
  now(): number;
}

/** What the forwarder asks of its spool: a `Spool` on disk, or a fake that fails on cue in a test. */
export type SpoolLike = Pick<Spool, 'append' | 'peek' | 'ack' | 'stats' | 'isEmpty' | 'close'> & { open(): Promise<unknown> };

export interface ForwarderOptions {
  transport: WriteTransport;
  spool: SpoolLike;
  /** Where batches refused as malformed are kept; without one they are only reported. */
  deadLetter?: DeadLetter;
  /** On "database not found", create it (transport.createDatabase) and write again. Default false. */
  createDatabase?: boolean;
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
  /** A spooled batch the server refused as malformed on replay: kept in the dead-letter file (see `fate`), removed from the spool. */
  onReplayRejected?(rec: SpoolRecord, err: TransportError, fate: DeadLetterFate): void;
  /** Points the spool's size cap dropped (oldest first). */
  onDropped?(points: number): void;
  /** A failure outside any submit (the spool's disk during replay): reported, never thrown. */
  onError?(err: Error): void;
  /** Worth a log line: a missing database created. */
  onNotice?(text: string): void;
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
  /** A short form of lastError for a node status, with what to fix where known. */
  lastHint: string;
}

export class Forwarder {
  private state: LinkState = 'connecting';
  private readonly o: Required<Omit<ForwarderOptions, 'onState' | 'onReplayRejected' | 'onDropped' | 'onError' | 'onNotice' | 'backoff' | 'deadLetter'>> &
    Pick<ForwarderOptions, 'onState' | 'onReplayRejected' | 'onDropped' | 'onError' | 'onNotice' | 'deadLetter'>;
  private readonly backoff: Backoff;
  private attempt = 0;
  private probeTimer: unknown = null;
  private probing: Promise<void> | null = null;
  private replayAttempt = 0;
  private replayTimer: unknown = null;
  private replaying = false;
  private replayAbort: AbortController | null = null;
  private inFlight = new Set<AbortController>();
  /** Settles when the submit that owns it has finished (written, spooled or rejected). */
  private settling = new Set<Promise<unknown>>();
  private waiting: (() => void)[] = [];
  /** Appends under way: a probe waits for them, so that it tests the server with the batch that failed. */
  private appending = new Set<Promise<void>>();
  private closing = false;
  private idle: Promise<void> = Promise.resolve();
  private lastError = '';
  private lastHint = '';
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
      createDatabase: false,
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
      lastHint: this.lastHint,
    };
  }

  /**
   * Never rejects for server trouble: the outcome says where the batch went. Rejects only if the disk
   * fails (the spool could not take the batch whole): then the batch is nowhere and the caller must
   * say so.
   */
  submit(batch: Batch): Promise<Outcome> {
    const p = this.submitInner(batch);
    const settled = p.catch(() => undefined).finally(() => this.settling.delete(settled));
    this.settling.add(settled);
    return p;
  }

  /**
   * Moves every batch of the dead-letter file back into the spool (after the schema or the data was
   * fixed), to be replayed like any spooled batch; one refused again returns to the dead-letter file.
   */
  async requeueDeadLetter(): Promise<ReplayResult> {
    const dl = this.o.deadLetter;
    if (!dl) return { batches: 0, points: 0, left: 0 };
    const r = await dl.replay(async (e) => {
      const dropped = await this.o.spool.append(e.body, e.points, e.precision, e.owner);
      if (dropped > 0) this.o.onDropped?.(dropped);
      return true;
    });
    if (this.state === 'up') this.kickReplay();
    return r;
  }

  private async submitInner(batch: Batch): Promise<Outcome> {
    if (this.closing) return this.toSpool(batch, 'closing');
    if (this.state === 'down') return this.toSpool(batch, `held: ${this.lastError}`);
    if (this.inFlight.size >= this.o.maxInFlight) {
      if (this.waiting.length >= this.o.maxQueued) return this.toSpool(batch, 'server slower than the input');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      if (this.closing || this.isDown()) return this.toSpool(batch, this.closing ? 'closing' : `held: ${this.lastError}`);
    }
    const ac = new AbortController();
    this.inFlight.add(ac);
    try {
      await this.write(batch.body, batch.precision, ac.signal);
      this.counters.written += batch.points;
      this.attempt = 0;
      if (this.state !== 'up' && !this.closing) this.setUp();
      return { kind: 'written' };
    } catch (err) {
      const e = asTransportError(err);
      if (e.kind === 'reject') {
        this.counters.rejected += batch.points;
        const fate = await this.toDeadLetter(batch, e);
        return { kind: 'rejected', status: e.status, message: e.message, ...fate };
      }
      if (!this.closing) this.setDown(e);
      return this.toSpool(batch, e.message);
    } finally {
      this.inFlight.delete(ac);
      this.waiting.shift()?.();
    }
  }

  /**
   * One write; a missing 1.x database is created first when that is allowed (CREATE DATABASE is
   * idempotent, so two writers racing to create it are harmless).
   */
  private async write(body: string, precision: Precision, signal: AbortSignal): Promise<void> {
    try {
      await this.o.transport.write(body, precision, signal);
    } catch (err) {
      const e = asTransportError(err);
      const create = this.o.transport.createDatabase;
      if (e.missing !== 'database' || !this.o.createDatabase || !create) throw e;
      try {
        await create.call(this.o.transport);
      } catch (cerr) {
        const c = asTransportError(cerr);
        throw new TransportError(`the database is missing and creating it failed: ${c.message}`, 'retry', c.status, {
          hint: `cannot create db: ${c.status ?? c.hint}`,
        });
      }
      this.o.onNotice?.(`created the missing database: ${this.o.transport.target}`);
      await this.o.transport.write(body, precision, signal);
    }
  }

  private isDown(): boolean {
    return this.state === 'down';
  }

  private async toSpool(batch: Batch, reason: string): Promise<Outcome> {
    const append = this.o.spool.append(batch.body, batch.points, batch.precision, batch.owner);
    const settled = append.then(
      () => undefined,
      () => undefined,
    );
    this.appending.add(settled);
    let dropped: number;
    try {
      dropped = await append;
    } finally {
      this.appending.delete(settled);
    }
    this.counters.spooled += batch.points;
    if (dropped > 0) this.o.onDropped?.(dropped);
    if (this.state === 'up') this.kickReplay();
    return { kind: 'spooled', reason };
  }

  /** Keeps a refused batch in the dead-letter file; says whether it could. Never throws. */
  private async toDeadLetter(batch: Batch, e: TransportError): Promise<DeadLetterFate> {
    const dl = this.o.deadLetter;
    if (!dl) return { kept: false, notKept: 'no dead-letter file' };
    try {
      const kept = await dl.append({
        time: new Date(this.o.timers.now()).toISOString(),
        ...(e.status !== undefined ? { status: e.status } : {}),
        reason: e.message,
        precision: batch.precision,
        points: batch.points,
        owner: batch.owner,
        body: batch.body,
      });
      return kept ? { kept: true } : { kept: false, notKept: `the dead-letter file is at its cap (${dl.maxBytes} bytes)` };
    } catch (err) {
      return { kept: false, notKept: (err as Error).message, diskError: true };
    }
  }

  private emit(state: LinkState, detail: string): void {
    this.state = state;
    this.o.onState?.(state, detail);
  }

  private setUp(): void {
    this.lastError = '';
    this.lastHint = '';
    this.emit('up', this.o.transport.target);
    this.kickReplay();
  }

  private noteError(e: TransportError): void {
    this.lastError = e.message;
    this.lastHint = e.hint;
  }

  private setDown(e: TransportError): void {
    this.noteError(e);
    if (this.state === 'down') return;
    this.emit('down', e.message);
    // Batches waiting for a slot would only time out one after another: release them to the spool.
    for (const w of this.waiting.splice(0)) w();
    this.scheduleProbe(backoffDelay(this.backoff, this.attempt++, this.o.random()));
  }

  private scheduleProbe(delayMs: number): void {
    if (this.closing || this.probeTimer !== null || this.probing) return;
    this.probeTimer = this.o.timers.setTimeout(() => {
      this.probeTimer = null;
      this.probing = this.probe().finally(() => {
        this.probing = null;
        this.afterProbe();
      });
    }, delayMs);
  }

  private probeOk = false;

  /**
   * Is the server back, and does it take our writes? A ping first (cheap, short timeout); then, if the
   * spool holds anything, the oldest spooled batch is written: a server that answers pings but refuses
   * writes (401, 403, a missing database) keeps the link down, with its reason.
   */
  private async probe(): Promise<void> {
    this.probeOk = false;
    if (this.closing) return;
    let ping: { ok: boolean; error?: string };
    try {
      ping = await this.o.transport.ping(this.o.pingTimeoutMs);
    } catch (err) {
      ping = { ok: false, error: (err as Error).message };
    }
    if (this.closing) return;
    await Promise.all(this.appending);
    if (!ping.ok) {
      const why = ping.error || 'no answer';
      this.noteError(new TransportError(`server unreachable: ${why}`, 'retry', undefined, { hint: /time/i.test(why) ? 'db timeout' : 'db unreachable' }));
      return;
    }
    if (this.o.spool.isEmpty) {
      this.probeOk = true;
      return;
    }
    try {
      await this.replayStep();
      this.probeOk = true;
    } catch (err) {
      if (err instanceof TransportError) this.noteError(err);
      // The server is fine, the spool's disk is not: live writes go straight through, and the replay
      // reports the disk error and retries it with back-off.
      else this.probeOk = true;
    }
  }

  private afterProbe(): void {
    if (this.closing) return;
    if (this.probeOk) {
      this.attempt = 0;
      this.setUp();
      return;
    }
    if (this.state !== 'down') this.emit('down', this.lastError);
    else this.o.onState?.('down', this.lastError); // same state, maybe a new reason
    this.scheduleProbe(backoffDelay(this.backoff, this.attempt++, this.o.random()));
  }

  private kickReplay(): void {
    // While a probe runs it owns the head of the spool; it kicks the replay when it is done.
    if (this.replaying || this.replayTimer !== null || this.closing || this.probing) return;
    if (this.o.spool.isEmpty) return;
    this.replaying = true;
    this.idle = this.replayOne()
      .catch((err: Error) => {
        // The disk failed under the spool or the dead-letter file: say why, and try again later.
        this.lastError = `spool: ${err.message}`;
        this.o.onError?.(err);
        if (!this.closing && this.replayTimer === null) {
          this.replayTimer = this.o.timers.setTimeout(
            () => {
              this.replayTimer = null;
              this.kickReplay();
            },
            backoffDelay(this.backoff, this.replayAttempt++, this.o.random()),
          );
        }
      })
      .finally(() => {
        this.replaying = false;
      });
  }

  /**
   * Writes the oldest spooled batch and removes it from the spool; a batch refused as malformed goes
   * to the dead-letter file first (it leaves the spool only once it is kept there, or the file is at
   * its cap). Throws a TransportError when the server did not take it (the batch stays), another
   * Error when the disk failed. Returns the record, or null when the spool is empty.
   */
  private async replayStep(): Promise<SpoolRecord | null> {
    const rec = await this.o.spool.peek();
    if (!rec) return null;
    const ac = new AbortController();
    this.replayAbort = ac;
    let refused: TransportError | null = null;
    try {
      await this.write(rec.body, rec.precision, ac.signal);
    } catch (err) {
      const e = asTransportError(err);
      if (e.kind !== 'reject') throw e;
      refused = e;
    } finally {
      this.replayAbort = null;
    }
    if (refused) {
      const fate = await this.toDeadLetter(rec, refused);
      // A disk error keeps the batch in the spool (tried again later); a full dead-letter file is its documented cap.
      if (fate.diskError) throw new Error(fate.notKept);
      this.counters.rejected += rec.points;
      await this.o.spool.ack(rec);
      this.o.onReplayRejected?.(rec, refused, fate);
    } else {
      this.counters.replayed += rec.points;
      await this.o.spool.ack(rec);
    }
    this.replayAttempt = 0;
    return rec;
  }

  private async replayOne(): Promise<void> {
    if (this.closing || this.state !== 'up') return;
    let rec: SpoolRecord | null;
    try {
      rec = await this.replayStep();
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      if (!this.closing) this.setDown(err);
      return;
    }
    if (!rec || this.closing) return;
    this.attempt = 0;
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
    await Promise.all([...this.settling, this.idle.catch(() => undefined), this.probing?.catch(() => undefined)]);
    this.o.timers.clearTimeout(grace);
    this.emit('closed', '');
    await this.o.spool.close();
  }
}

function asTransportError(err: unknown): TransportError {
  if (err instanceof TransportError) return err;
  return new TransportError((err as Error)?.message ?? String(err), 'retry');
}
