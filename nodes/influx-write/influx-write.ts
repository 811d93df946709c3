/**
 * vision-influx-write: validates points from any payload shape node-red-contrib-influxdb accepts,
 * stamps those without a time (one stamp each, strictly increasing), batches them by size and time,
 * and hands each batch to the shared store-and-forward link of its vision-influxdb config node. A
 * message's done() is called once its points are durable: written to the server or fsync'ed whole to
 * the spool; done(err) when the spool's disk failed. Output 1: one report per batch; output 2: batches
 * the server refused as malformed (400, 413, 422), as line protocol with the server's message, also
 * kept in the dead-letter file. `topic: "replay-deadletter"` requeues that file into the spool.
 * The work is the engine's InfluxWriter (nodes/lib/influx/writer.ts); this is its glue.
 */
import { Red, Node, NodeMessage, SendFn, DoneFn } from '../shared/red';
import { NodeStatusReporter } from '../shared/node-status';
import { InfluxWriter, Refusal, WriterLink, WriterSettings } from '../lib/influx/writer';
import { InfluxWriteConfig, writerSettings } from './config';
import type { InfluxConfigNode } from '../influxdb/influxdb-types';

const TIMERS = {
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
};

export = function (RED: Red) {
  function VisionInfluxWriteNode(this: Node, config: InfluxWriteConfig & { influxdb?: string }) {
    RED.nodes.createNode(this, config);
    const node = this;
    const status = new NodeStatusReporter(node);
    const conn = RED.nodes.getNode(config.influxdb ?? '') as InfluxConfigNode | null;
    let writer: InfluxWriter | null = null;
    let configError = '';

    const showStatus = () => {
      const s = writer?.status();
      if (s) status.set(s.state, s.text);
    };

    /** Output 2 and an error for a batch the server refused as malformed (live or on replay). */
    const refused = (r: Refusal) => {
      const { fate } = r;
      const where = fate.kept ? `kept in ${conn?.deadLetterFile}` : `NOT kept: ${fate.notKept}`;
      status.set('error', `refused: ${r.message}`);
      node.error(
        `InfluxDB refused ${r.replay ? `${r.points} spooled points on replay` : `a batch of ${r.points} points`} as malformed: ${r.message}; ${where}`,
        { payload: r.lines },
      );
      node.send([
        null,
        {
          topic: 'rejected',
          payload: r.lines,
          error: {
            status: r.status,
            message: r.message,
            ...(r.replay ? { replay: true } : {}),
            kept: fate.kept,
            ...(fate.kept ? { deadLetter: conn?.deadLetterFile } : { notKept: fate.notKept }),
          },
        },
      ]);
    };

    let settings: WriterSettings | undefined;
    try {
      settings = writerSettings(config);
    } catch (err) {
      configError = (err as Error).message;
    }
    const statusTimer = setInterval(showStatus, 1000);
    statusTimer.unref();

    if (!settings) {
      status.force('error', configError);
    } else {
      let link: Promise<WriterLink>;
      if (!conn || typeof conn.acquire !== 'function') {
        link = Promise.reject(new Error('no InfluxDB connection configured'));
        status.force('error', 'no InfluxDB connection configured');
      } else {
        status.force('connecting', conn.target || 'connecting');
        link = conn.acquire({
          id: node.id,
          onState: (state) => {
            if (state === 'down') showStatus();
            else if (state === 'up' && !writer?.diskError) status.set('running', `connected ${conn.target}`);
          },
          onReplayRejected: (rec, err, fate) => writer?.replayRejected(rec, err, fate),
          onDropped: () => showStatus(),
        });
        link.catch((err: Error) => {
          status.force('error', err.message);
          node.error(`InfluxDB connection unusable: ${err.message}`);
        });
      }
      writer = new InfluxWriter(settings, {
        owner: node.id,
        link,
        timers: TIMERS,
        hooks: {
          onBadPoints: (first) => status.set('error', first),
          onBatch: (report) => node.send([{ topic: report.outcome, payload: report }, null]),
          onRefused: refused,
          // The points are nowhere, so the messages fail (done(err): a Catch node sees each).
          onFailed: (_err, text) => status.force('error', text),
        },
      });
    }

    node.on('input', (msg: NodeMessage, _send: SendFn, done: DoneFn) => {
      if (!writer) {
        done(new Error(configError));
        return;
      }
      if (writer.closing) {
        done(new Error('node is closing'));
        return;
      }
      if (msg.topic === 'replay-deadletter') {
        writer
          .requeueDeadLetter()
          .then((r) => {
            node.send([{ topic: 'replay-deadletter', payload: r }, null]);
            if (r.error) done(new Error(`replay-deadletter stopped after ${r.batches} batches: ${r.error}`));
            else done();
          })
          .catch((err: Error) => done(err));
        return;
      }
      writer.add(msg.payload, msg.measurement, Date.now(), done);
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      (writer ? writer.close() : Promise.resolve()).then(() => {
        clearInterval(statusTimer);
        status.close();
        conn?.release?.(node.id);
        done();
      });
    });
  }

  RED.nodes.registerType('vision-influx-write', VisionInfluxWriteNode);
};
