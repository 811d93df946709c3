/**
 * One InfluxDB connection as vision-influxdb (and `edgevision bench influx`) builds it: the transport
 * for the server's API (1.x through `influx`, 2.x/3.x through `@influxdata/influxdb-client`), and the
 * store-and-forward link over it: the disk spool, the dead-letter file and the Forwarder. Settings
 * arrive validated (nodes/influxdb/config.ts reads them from the editor); timers are injected.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Forwarder, ForwarderOptions, Timers } from './forwarder';
import { Spool, DamageReport } from './spool';
import { DeadLetter, DEAD_LETTER_FILE } from './deadletter';
import { Influx1Options, Influx1Transport, Influx2Options, Influx2Transport, TlsOptions, WriteTransport } from './transport';

/** The server and its API: what the transport needs besides the timeout and TLS. */
export type ServerSettings =
  ({ version: '1.x' } & Omit<Influx1Options, 'timeoutMs' | 'tls'>) | ({ version: '2.x' } & Omit<Influx2Options, 'timeoutMs' | 'tls'>);

export interface ConnectionSettings {
  server: ServerSettings;
  /** Per request, ms. */
  timeoutMs: number;
  /** Verify the server's certificate. */
  tlsVerify: boolean;
  /** A PEM file of extra CAs, read when the transport is built. */
  tlsCaFile?: string;
  /** The spool's folder; the dead-letter file lives in it too. */
  spoolDir: string;
  /** The spool's cap, and the dead-letter file's, bytes. */
  spoolMaxBytes: number;
  /** 1.x: create the database when the server says it is missing. */
  createDatabase: boolean;
  replayPointsPerSec: number;
  /** Live batches written concurrently. */
  maxInFlight: number;
  /** The probe's back-off ceiling while the server is away, ms. */
  maxBackoffMs: number;
}

/** The first probe waits this long after a failure, doubling up to `maxBackoffMs`. */
const INITIAL_BACKOFF_MS = 500;

/** `<spoolDir>/deadletter.jsonl`: where batches refused as malformed are kept. */
export function deadLetterFile(spoolDir: string): string {
  return path.join(spoolDir, DEAD_LETTER_FILE);
}

/** The transport for the settings' server. Throws when they cannot make one (a bad URL, an unreadable CA file). */
export function createTransport(s: ConnectionSettings): WriteTransport {
  const tls: TlsOptions = { rejectUnauthorized: s.tlsVerify };
  if (s.tlsCaFile) tls.ca = fs.readFileSync(s.tlsCaFile, 'utf8');
  if (s.server.version === '1.x') {
    const { version: _v, ...o } = s.server;
    return new Influx1Transport({ ...o, timeoutMs: s.timeoutMs, tls });
  }
  const { version: _v, ...o } = s.server;
  return new Influx2Transport({ ...o, timeoutMs: s.timeoutMs, tls });
}

/** What the owner of a connection hears: the Forwarder's callbacks, and a damaged spool record skipped. */
export type ConnectionHooks = Pick<ForwarderOptions, 'onState' | 'onReplayRejected' | 'onDropped' | 'onError' | 'onNotice'> & {
  timers: Timers;
  onDamaged?(d: DamageReport): void;
};

/**
 * The store-and-forward link for one connection: spool, dead-letter file and Forwarder over
 * `transport` (built from the settings when not given). Not started: call `start()` to open the spool.
 */
export function createForwarder(s: ConnectionSettings, hooks: ConnectionHooks, transport: WriteTransport = createTransport(s)): Forwarder {
  const { timers, onDamaged, ...callbacks } = hooks;
  return new Forwarder({
    transport,
    spool: new Spool({ dir: s.spoolDir, maxBytes: s.spoolMaxBytes, onDamaged }),
    deadLetter: new DeadLetter({ dir: s.spoolDir, maxBytes: s.spoolMaxBytes }),
    createDatabase: s.server.version === '1.x' && s.createDatabase,
    timers,
    replayPointsPerSec: s.replayPointsPerSec,
    maxInFlight: s.maxInFlight,
    backoff: { initialMs: INITIAL_BACKOFF_MS, maxMs: s.maxBackoffMs },
    ...callbacks,
  });
}
