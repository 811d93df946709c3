/**
 * `edgevision bench influx`: starts its own InfluxDB 1.x (influxd on 127.0.0.1, data in a temp
 * folder), then measures in the same run
 *  1. points/s through the engine's writer (the InfluxWriter and the connection's Forwarder that
 *     vision-influx-write and vision-influxdb are glue over: validation, line protocol, batching,
 *     store-and-forward) against the raw `influx` client writing the same batches with the same
 *     concurrency; the ratio engine / raw is the figure to watch (target >= 0.9);
 *  2. the spool replay rate after an outage: the server is stopped, points are spooled, the server
 *     comes back, and the time to drain the spool is measured.
 * No Node-RED runtime: the figures are the engine's own cost.
 */
import * as path from 'path';
import { setTimeout as sleep } from 'timers/promises';
import { InfluxDB, IPoint } from 'influx';
import { parseArgs, numArg, strArg } from '../args';
import { startInfluxd } from '../local-servers';
import { ConnectionSettings, createForwarder } from '../../nodes/lib/influx/connection';
import { Forwarder, Timers } from '../../nodes/lib/influx/forwarder';
import { InfluxWriter, WriterSettings } from '../../nodes/lib/influx/writer';

export const usage = `usage: edgevision bench influx [options]

Starts influxd on a free port with its data in a temp folder, and prints
points/s through the engine's writer (what vision-influx-write runs) vs the raw
influx client (same batches, same run) and the spool replay rate after an outage.

  --points N        points per throughput run (default 200000)
  --per-msg N       points per input message (default 10)
  --batch N         points per batch / write (default 1000)
  --in-flight N     concurrent writes, engine and raw alike (default 2)
  --rounds N        alternating raw/engine rounds (default 3)
  --replay N        points spooled during the outage (default 100000)
  --replay-rate N   replay pace limit, points/s (default 1000000: measure capacity)
  --influxd PATH    influxd binary (default: influxd on PATH)`;

const TIMERS: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  now: () => Date.now(),
};

/** A connection and a writer on it, as a vision-influxdb node and one vision-influx-write build them. */
interface Link {
  forwarder: Forwarder;
  writer: InfluxWriter;
}

async function openLink(conn: ConnectionSettings, w: WriterSettings): Promise<Link> {
  const forwarder = createForwarder(conn, {
    timers: TIMERS,
    onError: (err) => console.error(`spool replay failed: ${err.message}`),
    onReplayRejected: (rec, err) => console.error(`refused ${rec.points} spooled points on replay: ${err.message}`),
  });
  await forwarder.start();
  const writer = new InfluxWriter(w, {
    owner: 'bench',
    link: Promise.resolve(forwarder),
    timers: TIMERS,
    hooks: { onRefused: (r) => console.error(`refused a batch of ${r.points} points: ${r.message}`) },
  });
  return { forwarder, writer };
}

/** Writer first (it flushes into the forwarder), then the forwarder: as the nodes close. */
async function closeLink(l: Link): Promise<void> {
  await l.writer.close();
  await l.forwarder.close();
}

interface Setup {
  points: number;
  perMsg: number;
  batch: number;
  inFlight: number;
}

function makePoints(run: string, from: number, n: number, t0: number): IPoint[] {
  const out: IPoint[] = [];
  for (let i = from; i < from + n; i++) {
    out.push({ measurement: 'bench', tags: { run, camera: `cam${i % 8}` }, fields: { seq: i, util: (i % 1000) / 1000 }, timestamp: new Date(t0 + i) });
  }
  return out;
}

async function rawRun(client: InfluxDB, s: Setup, run: string, t0: number): Promise<number> {
  const batches: IPoint[][] = [];
  for (let i = 0; i < s.points; i += s.batch) batches.push(makePoints(run, i, Math.min(s.batch, s.points - i), t0));
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: s.inFlight }, async () => {
      while (next < batches.length) await client.writePoints(batches[next++], { precision: 'ms' });
    }),
  );
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/**
 * Time from the first message until every point is in the server: all messages settled and, when
 * the server is up, nothing left in flight or in the spool (an input faster than the server overflows
 * to the spool by design; those points count only once replayed).
 */
async function engineRun(link: Link, s: Setup, run: string, t0: number, serverUp = true): Promise<number> {
  const msgs: unknown[] = [];
  for (let i = 0; i < s.points; i += s.perMsg) {
    msgs.push(makePoints(run, i, Math.min(s.perMsg, s.points - i), t0).map((p) => ({ ...p, timestamp: (p.timestamp as Date).getTime() })));
  }
  let done = 0;
  let failed = 0;
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    const finish = (err?: Error) => {
      if (err) failed++;
      if (++done === msgs.length) resolve();
    };
    // Feed in slices so the event loop keeps turning (as a flow's messages would arrive).
    let i = 0;
    const feed = () => {
      const end = Math.min(msgs.length, i + 200);
      for (; i < end; i++) link.writer.add(msgs[i], undefined, Date.now(), finish);
      if (i < msgs.length) setImmediate(feed);
    };
    feed();
  });
  if (failed) throw new Error(`${failed} messages failed in the engine run`);
  while (serverUp) {
    const st = link.forwarder.stats();
    if (st.inFlight === 0 && st.queued === 0 && st.spool.backlog === 0) break;
    await sleep(1);
  }
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function count(client: InfluxDB, run: string): Promise<number> {
  const r = (await client.query(`SELECT COUNT(seq) FROM bench WHERE run = '${run}'`)) as unknown as { count?: number }[];
  return r[0]?.count ?? 0;
}

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs(argv);
  const s: Setup = {
    points: numArg(a, 'points', 200000),
    perMsg: numArg(a, 'per-msg', 10),
    batch: numArg(a, 'batch', 1000),
    inFlight: numArg(a, 'in-flight', 2),
  };
  const rounds = numArg(a, 'rounds', 3);
  const replayN = numArg(a, 'replay', 100000);
  const replayRate = numArg(a, 'replay-rate', 1000000);
  const server = await startInfluxd({ bin: strArg(a, 'influxd') });
  const { dir, port } = server;
  const onSignal = () => {
    void server.destroy().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  try {
    const client = new InfluxDB({ host: '127.0.0.1', port, database: 'bench' });
    await client.createDatabase('bench');
    // What a vision-influxdb node and a vision-influx-write node with these editor values would build.
    const conn: ConnectionSettings = {
      server: { version: '1.x', host: '127.0.0.1', port, protocol: 'http', database: 'bench' },
      timeoutMs: 10000,
      tlsVerify: true,
      spoolDir: path.join(dir, 'spool'),
      spoolMaxBytes: 1024 * 1024 * 1024,
      createDatabase: true,
      replayPointsPerSec: replayRate,
      maxInFlight: s.inFlight,
      maxBackoffMs: 1000,
    };
    const w: WriterSettings = { precision: 'ms', measurement: '', overrideMeasurement: false, integerFields: [], batchSize: s.batch, flushMs: 100 };
    let link = await openLink(conn, w);

    console.log(`influxd ${server.url}; ${s.points} points per run, ${s.perMsg} per message, batches of ${s.batch}, ${s.inFlight} in flight`);
    // Warm-up: JIT, connections, the database's first shard.
    await rawRun(client, { ...s, points: Math.min(20000, s.points) }, 'warm-raw', Date.UTC(2025, 0, 1));
    await engineRun(link, { ...s, points: Math.min(20000, s.points) }, 'warm-engine', Date.UTC(2025, 1, 1));

    const rawRates: number[] = [];
    const engineRates: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = Date.UTC(2026, 0, 1 + r * 2);
      const rs = await rawRun(client, s, `raw${r}`, t0);
      const spooledBefore = link.forwarder.stats().spooledPoints;
      const es = await engineRun(link, s, `engine${r}`, t0 + 86400000);
      const viaSpool = link.forwarder.stats().spooledPoints - spooledBefore;
      rawRates.push(s.points / rs);
      engineRates.push(s.points / es);
      console.log(
        `round ${r + 1}: raw client ${Math.round(s.points / rs)} points/s, engine ${Math.round(s.points / es)} points/s, ratio ${(rs / es).toFixed(3)}` +
          (viaSpool ? ` (${viaSpool} points overflowed to the spool and were replayed)` : ''),
      );
    }
    const [rc, ec] = [await count(client, 'raw0'), await count(client, 'engine0')];
    if (rc !== s.points || ec !== s.points) throw new Error(`count check failed: raw ${rc}, engine ${ec}, expected ${s.points}`);
    const med = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];
    console.log(
      `throughput: raw client ${Math.round(med(rawRates))} points/s, engine ${Math.round(med(engineRates))} points/s, ratio engine/raw ${(med(engineRates) / med(rawRates)).toFixed(3)} (median of ${rounds}; target >= 0.9)`,
    );

    // Outage: the server goes away, the writer spools, the server comes back, the spool drains.
    await server.stop();
    const outT0 = Date.UTC(2026, 2, 1);
    const spoolStart = process.hrtime.bigint();
    await engineRun(link, { ...s, points: replayN }, 'replay', outT0, false);
    const spoolSecs = Number(process.hrtime.bigint() - spoolStart) / 1e9;
    const backlog = link.forwarder.stats().spool.backlog;
    // Restart as a gateway reboot would: a new writer and forwarder, the replay starts from the spool on disk.
    await closeLink(link);
    link = await openLink(conn, w);
    link.writer.add({ measurement: 'bench_probe', fields: { v: 1 } }, undefined, Date.now(), () => undefined);
    await server.start();
    const back = process.hrtime.bigint();
    let up: bigint | null = null;
    for (;;) {
      const st = link.forwarder.stats();
      if (up === null && st.state === 'up') up = process.hrtime.bigint();
      if (st.state === 'up' && st.spool.backlog === 0) break;
      await sleep(5);
    }
    const drained = process.hrtime.bigint();
    const reconnectSecs = Number((up ?? drained) - back) / 1e9;
    const replaySecs = Number(drained - (up ?? back)) / 1e9;
    const replayed = await count(client, 'replay');
    console.log(`outage: ${replayN} points spooled to disk at ${Math.round(replayN / spoolSecs)} points/s (fsync per batch), backlog ${backlog}`);
    console.log(`reconnect after the server came back: ${reconnectSecs.toFixed(2)} s (probe back-off)`);
    console.log(
      `replay after the outage and a restart: ${replayed} points in ${replaySecs.toFixed(2)} s = ${Math.round(backlog / replaySecs)} points/s (pace limit ${replayRate} points/s)`,
    );
    if (replayed !== replayN) throw new Error(`replay check failed: ${replayed} of ${replayN} points in the database`);
    await closeLink(link);
    return 0;
  } finally {
    process.removeListener('SIGINT', onSignal);
    await server.destroy();
  }
}
