/**
 * vision-influxdb: the connection to one InfluxDB (1.x through `influx`, 2.x/3.x through
 * `@influxdata/influxdb-client`) and the owner of its disk spool. Writer nodes `acquire()` the shared
 * Forwarder; it is created on first use and closed when the config node closes, after the writers
 * have flushed into it (MQTT broker node pattern: register / deregister, lazy connect).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Red } from '../shared/red';
import { Forwarder, ForwarderStats, LinkState, Timers } from '../lib/influx/forwarder';
import { Spool } from '../lib/influx/spool';
import { DeadLetter, DEAD_LETTER_FILE } from '../lib/influx/deadletter';
import { Influx1Transport, Influx2Transport, WriteTransport, TlsOptions } from '../lib/influx/transport';
import { InfluxUser, InfluxConfigNode } from './influxdb-types';

const REAL_TIMERS: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  now: () => Date.now(),
};

function num(v: unknown, fallback: number, min: number, max: number): number {
  const n = v === '' || v === undefined || v === null ? NaN : Number(v);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
}

export = function (RED: Red) {
  function VisionInfluxDbNode(this: InfluxConfigNode, config: any) {
    RED.nodes.createNode(this, config);
    const node = this;
    const creds = node.credentials ?? {};
    const version: '1.x' | '2.x' = config.version === '2.x' ? '2.x' : '1.x';
    const timeoutMs = num(config.timeout, 10, 1, 120) * 1000;
    const tls: TlsOptions = { rejectUnauthorized: config.tlsVerify !== false && config.tlsVerify !== 'false' };
    let transport: WriteTransport | null = null;
    let configError = '';
    try {
      if (config.tlsCaFile) tls.ca = fs.readFileSync(String(config.tlsCaFile), 'utf8');
      transport =
        version === '1.x'
          ? new Influx1Transport({
              host: String(config.host || '127.0.0.1'),
              port: Math.round(num(config.port, 8086, 1, 65535)),
              protocol: config.protocol === 'https' ? 'https' : 'http',
              database: String(config.database || ''),
              retentionPolicy: config.retentionPolicy ? String(config.retentionPolicy) : undefined,
              username: creds.username || undefined,
              password: creds.password || undefined,
              timeoutMs,
              tls,
            })
          : new Influx2Transport({
              url: String(config.url || ''),
              org: String(config.org || ''),
              bucket: String(config.bucket || ''),
              token: creds.token || undefined,
              timeoutMs,
              tls,
            });
    } catch (err) {
      configError = (err as Error).message;
    }
    node.target = transport?.target ?? '';
    const userDir = RED.settings.userDir || path.join(os.homedir(), '.node-red');
    node.spoolDir = config.spoolDir
      ? path.resolve(userDir, String(config.spoolDir))
      : path.join(userDir, 'edgevision-spool', String(node.id).replace(/[^A-Za-z0-9._-]/g, '_'));
    node.deadLetterFile = path.join(node.spoolDir, DEAD_LETTER_FILE);
    const spoolMaxBytes = Math.round(num(config.spoolMaxMB, 100, 0.01, 1e6) * 1024 * 1024);
    // Like Telegraf: on by default, since CREATE DATABASE is idempotent (flows from before the option have none).
    const createDatabase = version === '1.x' && config.createDatabase !== false && config.createDatabase !== 'false';
    const replayPointsPerSec = num(config.replayRate, 10000, 1, 1e7);

    const users = new Map<string, InfluxUser>();
    let forwarder: Promise<Forwarder> | null = null;
    let current: Forwarder | null = null;
    let link: { state: LinkState; detail: string } = { state: 'connecting', detail: node.target };
    let closing = false;

    node.linkState = () => link;
    node.check = async () => {
      if (!transport) return { ok: false, target: '', error: configError };
      const r = await transport.ping(Math.min(timeoutMs, 5000)).catch((err: Error) => ({ ok: false, error: err.message, version: undefined }));
      return { ok: r.ok, target: transport.target, version: r.version, error: r.error, spool: current?.stats().spool ?? null };
    };
    node.stats = (): ForwarderStats | null => current?.stats() ?? null;

    node.acquire = (user: InfluxUser): Promise<Forwarder> => {
      if (configError) return Promise.reject(new Error(configError));
      if (closing) return Promise.reject(new Error('connection is closing'));
      users.set(user.id, user);
      if (!forwarder) {
        const fwd = new Forwarder({
          transport: transport!,
          spool: new Spool({
            dir: node.spoolDir,
            maxBytes: spoolMaxBytes,
            onDamaged: (d) => node.warn(`spool: skipped a damaged record of about ${d.points} points (${d.file}, bytes ${d.offset}..${d.end}); the records after it are kept`),
          }),
          deadLetter: new DeadLetter({ dir: node.spoolDir, maxBytes: spoolMaxBytes }),
          createDatabase,
          timers: REAL_TIMERS,
          replayPointsPerSec,
          maxInFlight: Math.round(num(config.maxInFlight, 2, 1, 16)),
          backoff: { initialMs: 500, maxMs: num(config.maxBackoff, 10, 1, 600) * 1000 },
          onState: (state, detail) => {
            link = { state, detail };
            for (const u of users.values()) u.onState(state, detail);
          },
          onReplayRejected: (rec, err, fate) => {
            const owner = users.get(rec.owner);
            if (owner) owner.onReplayRejected(rec, err, fate);
            else node.error(`InfluxDB refused ${rec.points} spooled points on replay as malformed: ${err.message}; ${fate.kept ? `kept in ${node.deadLetterFile}` : `not kept: ${fate.notKept}`}`);
          },
          onError: (err) => node.error(`spool replay failed in ${node.spoolDir}: ${err.message}`),
          onNotice: (text) => node.log(text),
          onDropped: (points) => {
            node.warn(`spool full (${Math.round(spoolMaxBytes / 1048576)} MiB): dropped the ${points} oldest points`);
            for (const u of users.values()) u.onDropped(points);
          },
        });
        forwarder = fwd.start().then(() => (current = fwd));
        forwarder.catch((err) => node.error(`cannot open the spool in ${node.spoolDir}: ${(err as Error).message}`));
      }
      return forwarder;
    };

    node.release = (id: string): void => {
      users.delete(id);
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      // Writers flush into the forwarder on their own close; give them the time to, then close it.
      const started = Date.now();
      const finish = () => {
        if (users.size > 0 && Date.now() - started < 5000) {
          setTimeout(finish, 20);
          return;
        }
        const f = forwarder;
        forwarder = null;
        if (!f) return done();
        f.then((fwd) => fwd.close())
          .catch((err) => node.error(`closing the InfluxDB link: ${(err as Error).message}`))
          .then(() => done());
      };
      finish();
    });
  }

  // Connection check for the editor: pings a deployed connection and says what answered.
  if (RED.httpAdmin) {
    const perm = RED.auth?.needsPermission ? RED.auth.needsPermission('vision-influxdb.read') : (_q: unknown, _s: unknown, next: () => void) => next();
    RED.httpAdmin.get('/vision-influxdb/:id/check', perm, (req: any, res: any) => {
      const n = RED.nodes.getNode(req.params.id) as InfluxConfigNode | null;
      if (!n || typeof n.check !== 'function') {
        res.status(404).json({ ok: false, error: 'deploy the connection first' });
        return;
      }
      n.check().then((r) => res.json(r));
    });
  }

  RED.nodes.registerType('vision-influxdb', VisionInfluxDbNode, {
    credentials: {
      username: { type: 'text' },
      password: { type: 'password' },
      token: { type: 'password' },
    },
  });
};
