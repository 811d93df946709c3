/**
 * `edgevision bench influx`: starts its own InfluxDB 1.x (influxd on 127.0.0.1, data in a temp
 * folder), then measures in the same run
 *  1. points/s through the node path (vision-influx-write → vision-influxdb: validation, line
 *     protocol, batching, store-and-forward) against the raw `influx` client writing the same batches
 *     with the same concurrency; the ratio node / raw is the figure to watch (target ≥ 0.9);
 *  2. the spool replay rate after an outage: the server is stopped, points are spooled, the server
 *     comes back, and the time to drain the spool is measured.
 * The node modules run under a minimal stand-in for the Node-RED runtime (no editor, no flows file),
 * so the figures are the node's own cost.
 */
import { EventEmitter } from 'events';
import * as path from 'path';
import { setTimeout as sleep } from 'timers/promises';
import { InfluxDB, IPoint } from 'influx';
import { parseArgs, numArg, strArg } from '../args';
import { startInfluxd } from '../local-servers';

export const usage = `usage: edgevision bench influx [options]

Starts influxd on a free port with its data in a temp folder, and prints
points/s through vision-influx-write vs the raw influx client (same batches,
same run) and the spool replay rate after an outage.

  --points N        points per throughput run (default 200000)
  --per-msg N       points per input message (default 10)
  --batch N         points per batch / write (default 1000)
  --in-flight N     concurrent writes, node and raw alike (default 2)
  --rounds N        alternating raw/node rounds (default 3)
  --replay N        points spooled during the outage (default 100000)
  --replay-rate N   replay pace limit, points/s (default 1000000: measure capacity)
  --influxd PATH    influxd binary (default: influxd on PATH)`;

/** Just enough of the Node-RED runtime for our two nodes: createNode, registerType, getNode, send. */
function fakeRed(userDir: string) {
  const types = new Map<string, any>();
  const nodes = new Map<string, any>();
  const RED: any = {
    settings: { userDir },
    util: { cloneMessage: (m: any) => m },
    log: { info() {}, warn: (t: string) => console.error(t), error: (t: string) => console.error(t) },
    nodes: {
      registerType: (t: string, ctor: any) => types.set(t, ctor),
      getNode: (id: string) => nodes.get(id) ?? null,
      createNode(node: any, config: any) {
        Object.setPrototypeOf(node, EventEmitter.prototype);
        EventEmitter.call(node);
        node.id = config.id;
        node.name = config.name;
        node.credentials = config.credentials ?? {};
        node.status = () => undefined;
        node.send = () => undefined;
        node.error = (e: unknown) => console.error(`node error: ${e instanceof Error ? e.message : e}`);
        node.warn = (e: unknown) => console.error(`node warn: ${e}`);
        node.log = () => undefined;
        nodes.set(config.id, node);
      },
    },
  };
  const create = (type: string, config: any) => {
    const ctor = types.get(type);
    const n: any = {};
    ctor.call(n, config);
    return n;
  };
  const close = (n: any) => new Promise<void>((resolve) => n.emit('close', false, resolve));
  return { RED, create, close };
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
 * Time from the first message until every point is in the server: all messages completed and, when
 * the server is up, nothing left in flight or in the spool (an input faster than the server overflows
 * to the spool by design; those points count only once replayed).
 */
async function nodeRun(writer: any, cfg: any, s: Setup, run: string, t0: number, serverUp = true): Promise<number> {
  const msgs: any[] = [];
  for (let i = 0; i < s.points; i += s.perMsg) {
    const pts = makePoints(run, i, Math.min(s.perMsg, s.points - i), t0).map((p) => ({ ...p, timestamp: (p.timestamp as Date).getTime() }));
    msgs.push({ payload: pts });
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
      for (; i < end; i++) writer.emit('input', msgs[i], () => undefined, finish);
      if (i < msgs.length) setImmediate(feed);
    };
    feed();
  });
  if (failed) throw new Error(`${failed} messages failed in the node run`);
  while (serverUp) {
    const st = cfg.stats();
    if (st && st.inFlight === 0 && st.queued === 0 && st.spool.backlog === 0) break;
    await sleep(1);
  }
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function count(client: InfluxDB, run: string): Promise<number> {
  const r: any = await client.query(`SELECT COUNT(seq) FROM bench WHERE run = '${run}'`);
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
    const { RED, create, close } = fakeRed(dir);
    require('../../nodes/influxdb/influxdb.js')(RED);
    require('../../nodes/influx-write/influx-write.js')(RED);
    const cfgConf = {
      id: 'cfg',
      version: '1.x',
      host: '127.0.0.1',
      port,
      database: 'bench',
      spoolDir: path.join(dir, 'spool'),
      spoolMaxMB: 1024,
      replayRate,
      maxInFlight: s.inFlight,
      maxBackoff: 1,
    };
    let cfg = create('vision-influxdb', cfgConf);
    const wConf = { id: 'w', influxdb: 'cfg', precision: 'ms', batchSize: s.batch, flushInterval: 100 };
    let writer = create('vision-influx-write', wConf);

    console.log(`influxd ${server.url}; ${s.points} points per run, ${s.perMsg} per message, batches of ${s.batch}, ${s.inFlight} in flight`);
    // Warm-up: JIT, connections, the database's first shard.
    await rawRun(client, { ...s, points: Math.min(20000, s.points) }, 'warm-raw', Date.UTC(2025, 0, 1));
    await nodeRun(writer, cfg, { ...s, points: Math.min(20000, s.points) }, 'warm-node', Date.UTC(2025, 1, 1));

    const rawRates: number[] = [];
    const nodeRates: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = Date.UTC(2026, 0, 1 + r * 2);
      const rs = await rawRun(client, s, `raw${r}`, t0);
      const spooledBefore = cfg.stats().spooledPoints;
      const ns = await nodeRun(writer, cfg, s, `node${r}`, t0 + 86400000);
      const viaSpool = cfg.stats().spooledPoints - spooledBefore;
      rawRates.push(s.points / rs);
      nodeRates.push(s.points / ns);
      console.log(
        `round ${r + 1}: raw client ${Math.round(s.points / rs)} points/s, node ${Math.round(s.points / ns)} points/s, ratio ${(rs / ns).toFixed(3)}` +
          (viaSpool ? ` (${viaSpool} points overflowed to the spool and were replayed)` : ''),
      );
    }
    const [rc, nc] = [await count(client, 'raw0'), await count(client, 'node0')];
    if (rc !== s.points || nc !== s.points) throw new Error(`count check failed: raw ${rc}, node ${nc}, expected ${s.points}`);
    const med = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];
    console.log(`throughput: raw client ${Math.round(med(rawRates))} points/s, node ${Math.round(med(nodeRates))} points/s, ratio node/raw ${(med(nodeRates) / med(rawRates)).toFixed(3)} (median of ${rounds}; target >= 0.9)`);

    // Outage: the server goes away, the node spools, the server comes back, the spool drains.
    await server.stop();
    const outT0 = Date.UTC(2026, 2, 1);
    const spoolStart = process.hrtime.bigint();
    await nodeRun(writer, cfg, { ...s, points: replayN }, 'replay', outT0, false);
    const spoolSecs = Number(process.hrtime.bigint() - spoolStart) / 1e9;
    const backlog = cfg.stats().spool.backlog;
    // Restart Node-RED too, as a gateway reboot would: the replay starts from the spool on disk.
    await close(writer);
    await close(cfg);
    cfg = create('vision-influxdb', cfgConf);
    writer = create('vision-influx-write', wConf);
    writer.emit('input', { payload: { measurement: 'bench_probe', fields: { v: 1 } } }, () => undefined, () => undefined);
    await server.start();
    const back = process.hrtime.bigint();
    let up: bigint | null = null;
    for (;;) {
      const st = cfg.stats();
      if (up === null && st?.state === 'up') up = process.hrtime.bigint();
      if (st && st.state === 'up' && st.spool.backlog === 0) break;
      await sleep(5);
    }
    const drained = process.hrtime.bigint();
    const reconnectSecs = Number((up ?? drained) - back) / 1e9;
    const replaySecs = Number(drained - (up ?? back)) / 1e9;
    const replayed = await count(client, 'replay');
    console.log(`outage: ${replayN} points spooled to disk at ${Math.round(replayN / spoolSecs)} points/s (fsync per batch), backlog ${backlog}`);
    console.log(`reconnect after the server came back: ${reconnectSecs.toFixed(2)} s (probe back-off)`);
    console.log(`replay after the outage and a Node-RED restart: ${replayed} points in ${replaySecs.toFixed(2)} s = ${Math.round(backlog / replaySecs)} points/s (pace limit ${replayRate} points/s)`);
    if (replayed !== replayN) throw new Error(`replay check failed: ${replayed} of ${replayN} points in the database`);
    await close(writer);
    await close(cfg);
    return 0;
  } finally {
    process.removeListener('SIGINT', onSignal);
    await server.destroy();
  }
}
