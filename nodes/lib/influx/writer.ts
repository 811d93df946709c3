/**
 * The writer behind vision-influx-write (and `edgevision bench influx`): validates points from any
 * payload shape node-red-contrib-influxdb accepts, stamps those without a time (one stamp each,
 * strictly increasing at the writer's precision), batches them by size and time, and hands each
 * batch to a store-and-forward link (a Forwarder). A message is settled once its points are durable:
 * written to the server or fsync'ed whole to the spool; settled with an error when the spool's disk
 * failed or there is no usable link.
 *
 *   add(payload, nowMs, settle) ─▶ payloadToLines (bad points: onBadPoints) ─▶ Batcher
 *        full? ─ yes ─▶ flush                 no ─▶ flush timer (flushMs, started by the first lines)
 *   flush ─▶ link.submit ─▶ written / spooled ─▶ onBatch, every message settled
 *                          ├ rejected (malformed) ─▶ onRefused (output 2), every message settled
 *                          └ throws (spool disk, no link) ─▶ onFailed, every message settled with the error
 *
 * Timers are injected and the time of arrival is passed in: the writer reads no clock. What the glue
 * shows (status), sends (outputs) and settles (done) it learns from the hooks and `status()`.
 */
import { payloadToLines, FieldKinds } from './points';
import { Precision, PRECISIONS, StampClock } from './line-protocol';
import { Batcher } from './batcher';
import { Batch, Outcome, DeadLetterFate, ForwarderStats, Timers } from './forwarder';
import { ReplayResult } from './deadletter';
import { SpoolRecord, SpoolWriteError } from './spool';
import { TransportError } from './transport';
import { StatusState } from '../status';

export interface WriterSettings {
  /** Precision of the line protocol written and of the stamps given to points without a time. */
  precision: Precision;
  /** Measurement for the shapes that carry none; '' = from msg.measurement. */
  measurement: string;
  /** `measurement` also replaces the measurement of batch points. */
  overrideMeasurement: boolean;
  /** Fields whose numbers are written as integers. */
  integerFields: readonly string[];
  /** Flush once this many points are waiting. */
  batchSize: number;
  /** Flush this long after the first lines of a batch arrived, ms. */
  flushMs: number;
  /**
   * Tags added to every point that lacks them (a point's own tag wins): `gateway` and `site` when
   * several gateways write to one database, so their series stay apart and roll up by tag.
   */
  tags?: Readonly<Record<string, string>>;
}

export const WRITER_DEFAULTS: WriterSettings = {
  precision: 'ms',
  measurement: '',
  overrideMeasurement: false,
  integerFields: [],
  batchSize: 1000,
  flushMs: 1000,
};

/** What the writer needs of the store-and-forward link: a Forwarder, or a test's stand-in. */
export interface WriterLink {
  submit(batch: Batch): Promise<Outcome>;
  stats(): ForwarderStats;
  requeueDeadLetter(): Promise<ReplayResult>;
}

/** A batch that went somewhere safe: to the server, or to the spool (with the reason). */
export interface BatchReport {
  outcome: 'written' | 'spooled';
  points: number;
  reason?: string;
}

/** A batch the server refused as malformed, live or on replay, and where it went. */
export interface Refusal {
  lines: string[];
  points: number;
  /** The HTTP status, where there was one. */
  status?: number;
  message: string;
  fate: DeadLetterFate;
  replay: boolean;
}

export interface WriterHooks {
  /** Some points of a message were refused before batching: the first reason, and the message's error. */
  onBadPoints?(first: string, err: Error): void;
  /** A batch written or spooled (before its messages are settled). */
  onBatch?(report: BatchReport): void;
  /** A batch refused as malformed (before its messages are settled, when live). */
  onRefused?(r: Refusal): void;
  /** A batch that is nowhere (the spool's disk failed, or no usable link); `status` says it short. */
  onFailed?(err: Error, status: string): void;
}

export interface WriterOptions {
  /** Written with every batch (the writer node's id): a rejection on replay is routed back by it. */
  owner: string;
  /** The link; a rejection means there is none, and every batch fails with its reason. */
  link: Promise<WriterLink>;
  timers: Pick<Timers, 'setTimeout' | 'clearTimeout'>;
  hooks?: WriterHooks;
}

export interface WriterStatus {
  state: StatusState;
  text: string;
}

interface Pending {
  done: () => void;
  fail: (err: Error) => void;
}

/** 1234 → "1.2k", 12345 → "12k": a rate or a backlog, short. */
export function shortCount(n: number): string {
  return n >= 10000 ? `${(n / 1000).toFixed(0)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(Math.round(n));
}

/** 1234567 → "1 234 567": an exact count, grouped, for "points held". */
export function groupedCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

/** A short status for a failed spool append (the full reason goes to the messages' error). */
function diskStatus(err: SpoolWriteError): string {
  const code = err.code;
  return code === 'ENOSPC' || code === 'SHORT_WRITE' ? 'spool disk full: points refused' : `spool ${code ?? 'error'}: points refused`;
}

export function resolveWriterSettings(s: Partial<WriterSettings> = {}): WriterSettings {
  const o = { ...WRITER_DEFAULTS, ...s };
  if (!PRECISIONS.includes(o.precision)) throw new Error(`influx writer: precision must be one of ${PRECISIONS.join(', ')}, got ${o.precision}`);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) throw new Error(`influx writer: batchSize must be an integer >= 1, got ${o.batchSize}`);
  if (!(Number.isFinite(o.flushMs) && o.flushMs >= 0)) throw new Error(`influx writer: flushMs must be a number >= 0, got ${o.flushMs}`);
  return o;
}

export class InfluxWriter {
  readonly settings: WriterSettings;
  private readonly owner: string;
  private readonly timers: WriterOptions['timers'];
  private readonly hooks: WriterHooks;
  private readonly kinds = new FieldKinds();
  private readonly batcher: Batcher<Pending>;
  private readonly integerFields: ReadonlySet<string>;
  // Points without a time are stamped on arrival, one stamp each, strictly increasing at the writer's
  // precision across messages and within one (InfluxDB keeps one point per series and time stamp).
  private readonly clock: StampClock;
  private readonly ready: Promise<WriterLink | null>;
  private link: WriterLink | null = null;
  private connectError = '';
  private flushTimer: unknown = null;
  private readonly inflight = new Set<Promise<void>>();
  private closed = false;
  private lastError = '';
  /** Set while the spool's disk refuses batches; cleared by the next batch that is durable. */
  private disk = '';
  private lastWritten = 0;

  constructor(settings: Partial<WriterSettings>, opts: WriterOptions) {
    this.settings = resolveWriterSettings(settings);
    this.owner = opts.owner;
    this.timers = opts.timers;
    this.hooks = opts.hooks ?? {};
    this.batcher = new Batcher<Pending>({ maxPoints: this.settings.batchSize });
    this.integerFields = new Set(this.settings.integerFields);
    this.clock = new StampClock(this.settings.precision);
    this.ready = opts.link.then(
      (l) => (this.link = l),
      (err: Error) => {
        this.connectError = err.message;
        return null;
      },
    );
  }

  /** True once close() was called: the writer takes no more messages. */
  get closing(): boolean {
    return this.closed;
  }

  /** The short reason while the spool's disk refuses batches, '' otherwise. */
  get diskError(): string {
    return this.disk;
  }

  /**
   * One message's payload, arrived at `nowMs`. `settle` is called once: when its points are durable
   * (with the bad points' error, if some were refused), with the failure when they are nowhere, or at
   * once when nothing in it could be written.
   */
  add(payload: unknown, msgMeasurement: unknown, nowMs: number, settle: (err?: Error) => void): void {
    if (this.closed) {
      settle(new Error('node is closing'));
      return;
    }
    const s = this.settings;
    const { lines, errors } = payloadToLines(
      payload,
      {
        measurement: s.measurement,
        overrideMeasurement: s.overrideMeasurement,
        precision: s.precision,
        nowMs,
        clock: this.clock,
        integerFields: this.integerFields,
        defaultTags: s.tags && Object.keys(s.tags).length ? { ...s.tags } : undefined,
      },
      this.kinds,
      msgMeasurement,
    );
    let err: Error | undefined;
    if (errors.length > 0) {
      const shown = errors.slice(0, 5).map((e) => e.reason);
      const more = errors.length > 5 ? `; and ${errors.length - 5} more` : '';
      err = new Error(`${errors.length} bad point${errors.length > 1 ? 's' : ''} not written: ${shown.join('; ')}${more}`);
      this.lastError = shown[0];
      this.hooks.onBadPoints?.(shown[0], err);
    }
    if (lines.length === 0) {
      settle(err);
      return;
    }
    const full = this.batcher.add(lines, { done: () => settle(err), fail: (e: Error) => settle(e) });
    if (full) this.flush();
    else if (this.flushTimer === null) this.flushTimer = this.timers.setTimeout(() => this.flush(), s.flushMs);
  }

  /** Hands everything waiting to the link now, as one batch. */
  flush(): void {
    if (this.flushTimer !== null) this.timers.clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const batch = this.batcher.take();
    if (!batch) return;
    const p = this.ready
      .then((link) => {
        if (!link) throw new Error(`no usable InfluxDB connection: ${this.connectError}`);
        return link.submit({ body: batch.body, points: batch.points, precision: this.settings.precision, owner: this.owner });
      })
      .then((outcome: Outcome) => {
        if (outcome.kind === 'rejected') {
          this.refused({ lines: batch.body.split('\n'), points: batch.points, status: outcome.status, message: outcome.message, fate: outcome, replay: false });
        } else {
          this.disk = '';
          if (outcome.kind === 'written') this.lastError = '';
          this.hooks.onBatch?.({ outcome: outcome.kind, points: batch.points, ...(outcome.kind === 'spooled' ? { reason: outcome.reason } : {}) });
        }
        for (const it of batch.items) it.done();
      })
      .catch((err: Error) => {
        // Only the disk (the spool could not take the batch whole) or a missing link gets here: the
        // points are nowhere, so the messages fail.
        if (err instanceof SpoolWriteError) this.disk = diskStatus(err);
        else this.lastError = err.message;
        this.hooks.onFailed?.(err, this.disk || err.message);
        for (const it of batch.items) it.fail(err);
      })
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  /** Moves the link's dead-letter file back into its spool; rejects when there is no usable link. */
  requeueDeadLetter(): Promise<ReplayResult> {
    return this.ready.then((link) => {
      if (!link) throw new Error(`no usable InfluxDB connection: ${this.connectError}`);
      return link.requeueDeadLetter();
    });
  }

  /** A batch of this writer's, spooled earlier, that the server refused as malformed on replay. */
  replayRejected(rec: SpoolRecord, err: TransportError, fate: DeadLetterFate): void {
    this.refused({ lines: rec.body.split('\n'), points: rec.points, status: err.status, message: err.message, fate, replay: true });
  }

  /**
   * What the node's status should say now, from the link's figures: the rate is the points written
   * (or replayed) since the previous call. Null until the link is there.
   */
  status(): WriterStatus | null {
    if (!this.link) return null;
    const s = this.link.stats();
    const written = s.writtenPoints + s.replayedPoints;
    const rate = written - this.lastWritten;
    this.lastWritten = written;
    const backlog = s.spool.backlog;
    const lost = s.spool.dropped + s.spool.corrupt;
    const tail = `${backlog > 0 ? ` · backlog ${shortCount(backlog)}` : ''}${lost > 0 ? ` · dropped ${shortCount(lost)}` : ''}`;
    if (this.disk) return { state: 'error', text: this.disk };
    if (s.state === 'down') return { state: 'error', text: `${s.lastHint || 'db down'} — ${groupedCount(backlog)} points held` };
    if (s.state === 'connecting') return { state: 'connecting', text: `connecting${tail}` };
    if (this.lastError) return { state: 'error', text: this.lastError };
    return { state: rate > 0 || backlog > 0 ? 'running' : 'idle', text: `${shortCount(rate)} pt/s${tail}` };
  }

  /** Flushes what is waiting and resolves once every batch handed to the link has an outcome. */
  close(): Promise<void> {
    this.closed = true;
    this.flush();
    return Promise.all([...this.inflight]).then(
      () => undefined,
      () => undefined,
    );
  }

  private refused(r: Refusal): void {
    this.lastError = `refused: ${r.message}`;
    this.hooks.onRefused?.(r);
  }
}
