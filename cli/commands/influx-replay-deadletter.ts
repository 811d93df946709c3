/**
 * `edgevision influx-replay-deadletter`: writes the batches a vision-influxdb connection kept in its
 * dead-letter file (refused by the server as malformed) to a server, once the schema or the data is
 * fixed. Written entries leave the file; those refused again stay, with the reason printed.
 */
import { parseArgs, numArg, strArg } from '../args';
import { DeadLetter, sendDeadLetter } from '../../nodes/lib/influx/deadletter';
import { Influx1Transport, Influx2Transport, WriteTransport } from '../../nodes/lib/influx/transport';

export const usage = `usage: edgevision influx-replay-deadletter --dir SPOOL_DIR --url URL [options]

Writes the batches kept in SPOOL_DIR/deadletter.jsonl (those InfluxDB refused as
malformed: 400, 413, 422) to the server, oldest first. A batch written leaves the
file; one refused again stays, and its new reason is printed. The replay stops at
the first other failure (server away, wrong credentials). While Node-RED runs,
prefer sending the writer a message with topic "replay-deadletter".

  --dir DIR        the connection's spool folder (default <user dir>/edgevision-spool/<id>)
  --url URL        the server, e.g. http://127.0.0.1:8086
  --version V      1.x (default) or 2.x (also 3.x and VictoriaMetrics)
  --db NAME        1.x: the database        --rp NAME   1.x: retention policy
  --user NAME      1.x: user; the password from $EDGEVISION_INFLUX_PASSWORD
  --create-db      1.x: create the database first (CREATE DATABASE is idempotent)
  --org NAME       2.x: organisation        --bucket NAME  2.x: bucket
                   2.x: the token from $EDGEVISION_INFLUX_TOKEN
  --batch N        lines per write (default 5000): splits a batch refused as too large
  --timeout S      seconds per write (default 10)
  --dry-run        list the entries, write nothing

Exit status: 0 when the file is empty afterwards, 1 when entries are left, 2 on bad options.`;

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['dry-run', 'create-db']);
  const dir = strArg(args, 'dir');
  const url = strArg(args, 'url');
  const version = strArg(args, 'version') ?? '1.x';
  if (!dir || (!url && args['dry-run'] !== true) || (version !== '1.x' && version !== '2.x')) {
    console.error(usage);
    return 2;
  }
  const dl = new DeadLetter({ dir, maxBytes: Number.MAX_SAFE_INTEGER });
  if (args['dry-run'] === true) {
    const c = await dl.read();
    c.entries.forEach((e, i) => console.log(`entry ${i + 1}: ${e.points} points (${e.precision}) from ${e.owner}, refused ${e.time}: ${e.reason}`));
    console.log(
      `${c.entries.length} entries, ${c.entries.reduce((n, e) => n + e.points, 0)} points${c.damaged ? `, ${c.damaged} damaged lines` : ''} in ${dl.file}`,
    );
    return 0;
  }
  const timeoutMs = numArg(args, 'timeout', 10) * 1000;
  let transport: WriteTransport;
  try {
    if (version === '1.x') {
      const u = new URL(url!);
      const db = strArg(args, 'db');
      if (!db) throw new Error('--db is required for 1.x');
      transport = new Influx1Transport({
        host: u.hostname,
        port: Number(u.port || (u.protocol === 'https:' ? 443 : 8086)),
        protocol: u.protocol === 'https:' ? 'https' : 'http',
        database: db,
        retentionPolicy: strArg(args, 'rp'),
        username: strArg(args, 'user'),
        password: process.env.EDGEVISION_INFLUX_PASSWORD,
        timeoutMs,
      });
    } else {
      transport = new Influx2Transport({
        url: url!,
        org: strArg(args, 'org') ?? '',
        bucket: strArg(args, 'bucket') ?? '',
        token: process.env.EDGEVISION_INFLUX_TOKEN,
        timeoutMs,
      });
    }
  } catch (err) {
    console.error(`influx-replay-deadletter: ${(err as Error).message}`);
    return 2;
  }
  if (args['create-db'] === true && transport.createDatabase) await transport.createDatabase();
  const r = await sendDeadLetter(dl, transport, { maxLines: numArg(args, 'batch', 5000), log: (l) => console.log(l) });
  console.log(
    `${r.batches} batches (${r.points} points) written to ${transport.target}; ${r.left} left in ${dl.file}${r.refused ? ` (${r.refused} refused again)` : ''}`,
  );
  if (r.error) console.error(`stopped: ${r.error}`);
  return r.left === 0 && !r.error ? 0 : 1;
}
