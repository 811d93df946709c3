'use strict';
// vision-influxdb + vision-influx-write in a Node-RED runtime (node-red-node-test-helper) in a child
// process, so that a test can SIGKILL it mid-spool and start it again on the same spool. Driven over
// IPC:
//   parent → child  {send: {measurement, from, count, per, everyMs}}  messages of `per` points
//                   without a time, field seq = from, from+1, …
//   child → parent  {ready}                   flow loaded
//                   {acked: [seq, …]}         a message completed (its points are durable)
//                   {failed: [seq, …], error} a message failed (done(err))
//                   {stats}                   the connection's counters, every 100 ms
// argv[2]: a JSON object {port, database, spoolDir, precision}.
/**
 * What the child sends its parent.
 * @typedef {{ ready?: true, acked?: number[], failed?: number[], error?: string,
 *   stats?: import('../../dist/nodes/lib/influx/forwarder').ForwarderStats }} WriterChildMessage
 */
const path = require('path');
const helper = require('node-red-node-test-helper');
const influxdbNode = require('../../dist/nodes/influxdb/influxdb.js');
const writeNode = require('../../dist/nodes/influx-write/influx-write.js');

helper.init(require.resolve('node-red'));
const opts = JSON.parse(process.argv[2]);

const flow = [
  {
    id: 'cfg',
    type: 'vision-influxdb',
    version: '1.x',
    host: '127.0.0.1',
    port: opts.port,
    database: opts.database,
    spoolDir: opts.spoolDir,
    spoolMaxMB: 50,
    replayRate: 100000,
    maxBackoff: 1,
    timeout: 2,
  },
  {
    id: 'w',
    type: 'vision-influx-write',
    influxdb: 'cfg',
    precision: opts.precision || 'us',
    batchSize: 50,
    flushInterval: 20,
    integerFields: 'seq',
    wires: [[], []],
  },
  { id: 'done', type: 'complete', scope: ['w'], uncaught: false, wires: [['completed']] },
  { id: 'completed', type: 'helper' },
  { id: 'c', type: 'catch', scope: ['w'], uncaught: false, wires: [['caught']] },
  { id: 'caught', type: 'helper' },
];

const seqs = (msg) => (Array.isArray(msg.payload) ? msg.payload.map((p) => p.fields.seq) : []);

helper.load([influxdbNode, writeNode], flow).then(() => {
  helper.getNode('completed').on('input', (m) => process.send({ acked: seqs(m) }));
  helper.getNode('caught').on('input', (m) => process.send({ failed: seqs(m), error: m.error && m.error.message }));
  setInterval(() => {
    const s = helper.getNode('cfg').stats();
    if (s) process.send({ stats: s });
  }, 100);
  process.on('message', (/** @type {{ send?: { measurement: string, from: number, count: number, per: number, everyMs: number } }} */ m) => {
    if (!m.send) return;
    const { measurement, from, count, per, everyMs } = m.send;
    let seq = from;
    const end = from + count;
    const tick = setInterval(() => {
      if (seq >= end) return clearInterval(tick);
      const payload = [];
      for (let k = 0; k < per && seq < end; k++) payload.push({ measurement, fields: { seq: seq++ } });
      helper.getNode('w').receive({ payload });
    }, everyMs);
  });
  process.send({ ready: true, pid: process.pid, dir: path.basename(opts.spoolDir) });
});
