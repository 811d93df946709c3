/**
 * vision-influx-write: validates points from any payload shape node-red-contrib-influxdb accepts,
 * batches them by size and time, and hands each batch to the shared store-and-forward link of its
 * vision-influxdb config node. A message's done() is called once its points are durable: written to
 * the server or fsync'ed to the spool. Output 1: one report per batch; output 2: batches the server
 * rejected (4xx), as line protocol with the server's message.
 */
import { Red, Node, NodeMessage, SendFn, DoneFn } from '../shared/red';
import { NodeStatusReporter } from '../shared/node-status';
import { payloadToLines, FieldKinds } from '../lib/influx/points';
import { Precision, PRECISIONS } from '../lib/influx/line-protocol';
import { Batcher } from '../lib/influx/batcher';
import { Forwarder, LinkState, Outcome } from '../lib/influx/forwarder';
import type { InfluxConfigNode } from '../influxdb/influxdb-types';

interface Pending {
  done: () => void;
  fail: (err: Error) => void;
}

function fmt(n: number): string {
  return n >= 10000 ? `${(n / 1000).toFixed(0)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(Math.round(n));
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
    let connectError = 'no InfluxDB connection configured';
    let lastWritten = 0;
    // Points without a timestamp are stamped on arrival, strictly increasing by at least 1 µs, so that
    // two of them in the same millisecond stay two points at µs or ns precision (at ms precision
    // InfluxDB keeps the last one: see the help on Precision).
    let lastStampMs = 0;

    const showStatus = () => {
      if (!forwarder) return;
      const s = forwarder.stats();
      const written = s.writtenPoints + s.replayedPoints;
      const rate = written - lastWritten;
      lastWritten = written;
      const backlog = s.spool.backlog;
      const tail = `${backlog > 0 ? ` · backlog ${fmt(backlog)}` : ''}${s.spool.dropped > 0 ? ` · dropped ${fmt(s.spool.dropped)}` : ''}`;
      if (s.state === 'down') status.set('warning', `db down, spooling${tail}`);
      else if (s.state === 'connecting') status.set('connecting', `connecting${tail}`);
      else if (lastError) status.set('error', lastError);
      else status.set(rate > 0 || backlog > 0 ? 'running' : 'idle', `${fmt(rate)} pt/s${tail}`);
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
          onState: (state: LinkState, detail: string) => {
            if (state === 'down') status.set('warning', `db down: ${detail}`);
            else if (state === 'up') status.set('running', `connected ${conn.target}`);
          },
          onReplayRejected: (rec, err) => {
            const lines = rec.body.split('\n');
            node.error(`InfluxDB rejected ${rec.points} spooled points on replay: ${err.message}`, { payload: lines });
            node.send([null, { topic: 'rejected', payload: lines, error: { status: err.status, message: err.message, replay: true } }]);
          },
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
            const lines = batch.body.split('\n');
            lastError = `rejected: ${outcome.message}`;
            status.set('error', lastError);
            node.error(`InfluxDB rejected a batch of ${batch.points} points: ${outcome.message}`, { payload: lines });
            node.send([null, { topic: 'rejected', payload: lines, error: { status: outcome.status, message: outcome.message } }]);
          } else {
            if (outcome.kind === 'written') lastError = '';
            node.send([{ topic: outcome.kind, payload: { outcome: outcome.kind, points: batch.points, ...(outcome.kind === 'spooled' ? { reason: outcome.reason } : {}) } }, null]);
          }
          for (const it of batch.items) it.done();
        })
        .catch((err: Error) => {
          // Only the disk (spool) or a missing connection gets here: the messages really failed.
          lastError = err.message;
          status.force('error', err.message);
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
      const { lines, errors } = payloadToLines(
        msg.payload,
        { measurement, overrideMeasurement, precision, nowMs: (lastStampMs = Math.max(Date.now(), lastStampMs + 0.001)), integerFields },
        kinds,
        msg.measurement,
      );
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
