/**
 * vision-influxdb: the connection to one InfluxDB (1.x through `influx`, 2.x/3.x through
 * `@influxdata/influxdb-client`) and the owner of its disk spool. Writer nodes `acquire()` the shared
 * Forwarder; it is created on first use and closed when the config node closes, after the writers
 * have flushed into it (MQTT broker node pattern: register / deregister, lazy connect). The transport,
 * spool, dead-letter file and Forwarder are built by the engine (nodes/lib/influx/connection.ts).
 */
import type { Request, Response } from 'express';
import * as os from 'os';
import * as path from 'path';
import { Red } from '../shared/red';
import { Forwarder, ForwarderStats, LinkState, Timers } from '../lib/influx/forwarder';
import { ConnectionSettings, createForwarder, createTransport, deadLetterFile } from '../lib/influx/connection';
import { WriteTransport } from '../lib/influx/transport';
import { InfluxUser, InfluxConfigNode } from './influxdb-types';
import { InfluxDbConfig, connectionSettings, spoolDirOf } from './config';

const REAL_TIMERS: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  now: () => Date.now(),
};

export = function (RED: Red) {
  function VisionInfluxDbNode(this: InfluxConfigNode, config: InfluxDbConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const userDir = RED.settings.userDir || path.join(os.homedir(), '.node-red');
    const where = { userDir, id: String(node.id) };
    let settings: ConnectionSettings | null = null;
    let transport: WriteTransport | null = null;
    // A value the dialog would refuse, or settings no transport can be made from: every writer that
    // acquires this connection fails with it (red status, done(err)), and the check says it.
    let configError = '';
    try {
      settings = connectionSettings(config, node.credentials ?? {}, where);
      transport = createTransport(settings);
    } catch (err) {
      configError = (err as Error).message;
    }
    node.target = transport?.target ?? '';
    node.spoolDir = settings?.spoolDir ?? spoolDirOf(config, where);
    node.deadLetterFile = deadLetterFile(node.spoolDir);
    const timeoutMs = settings?.timeoutMs ?? 10000;

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
      if (configError || !settings || !transport) return Promise.reject(new Error(configError));
      if (closing) return Promise.reject(new Error('connection is closing'));
      users.set(user.id, user);
      if (!forwarder) {
        const spoolMaxBytes = settings.spoolMaxBytes;
        const fwd = createForwarder(
          settings,
          {
            timers: REAL_TIMERS,
            onDamaged: (d) =>
              node.warn(`spool: skipped a damaged record of about ${d.points} points (${d.file}, bytes ${d.offset}..${d.end}); the records after it are kept`),
            onState: (state, detail) => {
              link = { state, detail };
              for (const u of users.values()) u.onState(state, detail);
            },
            onReplayRejected: (rec, err, fate) => {
              const owner = users.get(rec.owner);
              if (owner) owner.onReplayRejected(rec, err, fate);
              else
                node.error(
                  `InfluxDB refused ${rec.points} spooled points on replay as malformed: ${err.message}; ${fate.kept ? `kept in ${node.deadLetterFile}` : `not kept: ${fate.notKept}`}`,
                );
            },
            onError: (err) => node.error(`spool replay failed in ${node.spoolDir}: ${err.message}`),
            onNotice: (text) => node.log(text),
            onDropped: (points) => {
              node.warn(`spool full (${Math.round(spoolMaxBytes / 1048576)} MiB): dropped the ${points} oldest points`);
              for (const u of users.values()) u.onDropped(points);
            },
          },
          transport,
        );
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
    RED.httpAdmin.get('/vision-influxdb/:id/check', perm, (req: Request, res: Response) => {
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
