/**
 * vision-influx-write: validates points from any payload shape node-red-contrib-influxdb accepts,
 * stamps those without a time (one stamp each, strictly increasing), batches them by size and time,
 * and hands each batch to the shared store-and-forward link of its vision-influxdb config node. A
 * message's done() is called once its points are durable: written to the server or fsync'ed whole to
 * the spool; done(err) when the spool's disk failed. Output 1: one report per batch; output 2: batches
 * the server refused as malformed (400, 413, 422), as line protocol with the server's message, also
 * kept in the dead-letter file. `topic: "replay-deadletter"` requeues that file into the spool.
 */
import { Red, Node, NodeMessage, SendFn, DoneFn } from '../shared/red';
import { NodeStatusReporter } from '../shared/node-status';
import { payloadToLines, FieldKinds } from '../lib/influx/points';
import { Precision, PRECISIONS, StampClock } from '../lib/influx/line-protocol';
import { Batcher } from '../lib/influx/batcher';
import { Forwarder, Outcome, DeadLetterFate } from '../lib/influx/forwarder';
import { SpoolWriteError } from '../lib/influx/spool';
import type { InfluxConfigNode } from '../influxdb/influxdb-types';

interface Pending {
  done: () => void;
  fail: (err: Error) => void;
}

function fmt(n: number): string {
  return n >= 10000 ? `${(n / 1000).toFixed(0)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(Math.round(n));
}

/** 1234567 → "1 234 567": an exact count, grouped, for "points held". */
function grouped(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

/** A short status for a failed spool append (the full reason goes to done(err)). */
function diskStatus(err: Error): string {
  const code = (err as SpoolWriteError).code;
  return code === 'ENOSPC' || code === 'SHORT_WRITE' ? 'spool disk full: points refused' : `spool ${code ?? 'error'}: points refused`;
}

export = function (RED: Red) {
  function VisionInfluxWriteNode(this: Node, config: any) {
    RED.nodes.createNode(this, config);
    const node = this;
    const status = new NodeStatusReporter(node);
    const precision: Precision = PRECISIONS.includes(config.precision) ? config.precision : 'ms';
    const measurement = typeof config.measurement === 'string' ? config.measurement.trim() : '';
    const overrideMeasurement = config.overrideMeasurement === true || config.overrideMeasurement === 'true';
    const integerFields = new Set<string>(
      String(config.integerFields ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
    const batchSize = Math.max(1, Math.round(Number(config.batchSize) || 1000));
    const flushMs = Math.max(10, Math.round(Number(config.flushInterval) || 1000));
    const kinds = new FieldKinds();
    const batcher = new Batcher<Pending>({ maxPoints: batchSize });
    const conn = RED.nodes.getNode(config.influxdb) as InfluxConfigNode | null;
    let forwarder: Forwarder | null = null;
    let ready: Promise<Forwarder | null>;
    let flushTimer: NodeJS.Timeout | null = null;
    const inflight = new Set<Promise<void>>();
    let closing = false;
    let lastError = '';
    /** Set while the spool's disk refuses batches; cleared by the next batch that is durable. */
    let diskError = '';
    let connectError = 'no InfluxDB connection configured';
    let lastWritten = 0;
    // Points without a time are stamped on arrival, one stamp each, strictly increasing at the node's
    // precision across messages and within one (InfluxDB keeps one point per series and time stamp).
    const clock = new StampClock(precision);

    const showStatus = () => {
      if (!forwarder) return;
      const s = forwarder.stats();
      const written = s.writtenPoints + s.replayedPoints;
      const rate = written - lastWritten;
      lastWritten = written;
      const backlog = s.spool.backlog;
      const lost = s.spool.dropped + s.spool.corrupt;
      const tail = `${backlog > 0 ? ` · backlog ${fmt(backlog)}` : ''}${lost > 0 ? ` · dropped ${fmt(lost)}` : ''}`;
      if (diskError) status.set('error', diskError);
      else if (s.state === 'down') status.set('error', `${s.lastHint || 'db down'} — ${grouped(backlog)} points held`);
      else if (s.state === 'connecting') status.set('connecting', `connecting${tail}`);
      else if (lastError) status.set('error', lastError);
      else status.set(rate > 0 || backlog > 0 ? 'running' : 'idle', `${fmt(rate)} pt/s${tail}`);
    };

    /** Output 2 and an error for a batch the server refused as malformed (live or on replay). */
    const refused = (lines: string[], points: number, httpStatus: number | undefined, message: string, fate: DeadLetterFate, replay: boolean) => {
      const where = fate.kept ? `kept in ${conn?.deadLetterFile}` : `NOT kept: ${fate.notKept}`;
      lastError = `refused: ${message}`;
      status.set('error', lastError);
      node.error(`InfluxDB refused ${replay ? `${points} spooled points on replay` : `a batch of ${points} points`} as malformed: ${message}; ${where}`, { payload: lines });
      node.send([
        null,
        {
          topic: 'rejected',
          payload: lines,
          error: { status: httpStatus, message, ...(replay ? { replay: true } : {}), kept: fate.kept, ...(fate.kept ? { deadLetter: conn?.deadLetterFile } : { notKept: fate.notKept }) },
        },
      ]);
    };
    const statusTimer = setInterval(showStatus, 1000);
    statusTimer.unref();

    if (!conn || typeof conn.acquire !== 'function') {
      ready = Promise.resolve(null);
      status.force('error', 'no InfluxDB connection configured');
    } else {
      status.force('connecting', conn.target || 'connecting');
      ready = conn
        .acquire({
          id: node.id,
          onState: (state) => {
            if (state === 'down') showStatus();
            else if (state === 'up' && !diskError) status.set('running', `connected ${conn.target}`);
          },
          onReplayRejected: (rec, err, fate) => refused(rec.body.split('\n'), rec.points, err.status, err.message, fate, true),
          onDropped: () => showStatus(),
        })
        .then((f) => (forwarder = f))
        .catch((err: Error) => {
          connectError = err.message;
          status.force('error', err.message);
          node.error(`InfluxDB connection unusable: ${err.message}`);
          return null;
        });
    }

    const flush = (): void => {
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = null;
      const batch = batcher.take();
      if (!batch) return;
      const p = ready
        .then((fwd) => {
          if (!fwd) throw new Error(`no usable InfluxDB connection: ${connectError}`);
          return fwd.submit({ body: batch.body, points: batch.points, precision, owner: node.id });
        })
        .then((outcome: Outcome) => {
          if (outcome.kind === 'rejected') {
            refused(batch.body.split('\n'), batch.points, outcome.status, outcome.message, outcome, false);
          } else {
            diskError = '';
            if (outcome.kind === 'written') lastError = '';
            node.send([{ topic: outcome.kind, payload: { outcome: outcome.kind, points: batch.points, ...(outcome.kind === 'spooled' ? { reason: outcome.reason } : {}) } }, null]);
          }
          for (const it of batch.items) it.done();
        })
        .catch((err: Error) => {
          // Only the disk (the spool could not take the batch whole) or a missing connection gets here:
          // the points are nowhere, so the messages fail (done(err): a Catch node sees each).
          if (err instanceof SpoolWriteError) diskError = diskStatus(err);
          else lastError = err.message;
          status.force('error', diskError || err.message);
          for (const it of batch.items) it.fail(err);
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
    };

    node.on('input', (msg: NodeMessage, _send: SendFn, done: DoneFn) => {
      if (closing) {
        done(new Error('node is closing'));
        return;
      }
      if (msg.topic === 'replay-deadletter') {
        ready
          .then((fwd) => {
            if (!fwd) throw new Error(`no usable InfluxDB connection: ${connectError}`);
            return fwd.requeueDeadLetter();
          })
          .then((r) => {
            node.send([{ topic: 'replay-deadletter', payload: r }, null]);
            if (r.error) done(new Error(`replay-deadletter stopped after ${r.batches} batches: ${r.error}`));
            else done();
          })
          .catch((err: Error) => done(err));
        return;
      }
      const { lines, errors } = payloadToLines(msg.payload, { measurement, overrideMeasurement, precision, nowMs: Date.now(), clock, integerFields }, kinds, msg.measurement);
      let err: Error | undefined;
      if (errors.length > 0) {
        const shown = errors.slice(0, 5).map((e) => e.reason);
        const more = errors.length > 5 ? `; and ${errors.length - 5} more` : '';
        err = new Error(`${errors.length} bad point${errors.length > 1 ? 's' : ''} not written: ${shown.join('; ')}${more}`);
        lastError = shown[0];
        status.set('error', shown[0]);
      }
      if (lines.length === 0) {
        done(err);
        return;
      }
      const full = batcher.add(lines, { done: () => done(err), fail: (e: Error) => done(e) });
      if (full) flush();
      else if (!flushTimer) flushTimer = setTimeout(flush, flushMs);
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      flush();
      Promise.all([...inflight])
        .catch(() => undefined)
        .then(() => {
          clearInterval(statusTimer);
          status.close();
          conn?.release?.(node.id);
          done();
        });
    });
  }

  RED.nodes.registerType('vision-influx-write', VisionInfluxWriteNode);
};
