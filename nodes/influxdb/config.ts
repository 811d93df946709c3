/**
 * vision-influxdb editor config → the engine's ConnectionSettings, read with the shared readers
 * (nodes/shared/config.ts): blank takes the default (connections saved before an option existed), a
 * value outside what the dialog accepts is an error that names the field. The ranges are the dialog's
 * validators' (influxdb.html); nothing is clamped.
 */
import * as path from 'path';
import { blank, bool, choice, number, text } from '../shared/config';
import { ConnectionSettings, ServerSettings } from '../lib/influx/connection';

export interface InfluxDbConfig {
  id?: string;
  version?: string;
  host?: string;
  port?: string | number;
  protocol?: string;
  database?: string;
  retentionPolicy?: string;
  createDatabase?: boolean | string;
  url?: string;
  org?: string;
  bucket?: string;
  tlsVerify?: boolean | string;
  tlsCaFile?: string;
  timeout?: string | number;
  spoolDir?: string;
  spoolMaxMB?: string | number;
  replayRate?: string | number;
  maxInFlight?: string | number;
  maxBackoff?: string | number;
}

export interface InfluxDbCredentials {
  username?: string;
  password?: string;
  token?: string;
}

/** Names as the user typed them: a database, bucket or policy name is taken verbatim (not trimmed). */
function name(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

/** The spool folder: relative to `userDir`, or by default `<userDir>/edgevision-spool/<connection id>`. */
export function spoolDirOf(c: InfluxDbConfig, where: { userDir: string; id: string }): string {
  if (!blank(c.spoolDir)) return path.resolve(where.userDir, String(c.spoolDir));
  return path.join(where.userDir, 'edgevision-spool', String(where.id).replace(/[^A-Za-z0-9._-]/g, '_'));
}

/**
 * Editor config and credentials → connection settings. `userDir` resolves a relative spool folder and
 * holds the default one. Throws `<label> must be <rule>, got "<value>"` for a value the dialog refuses.
 */
export function connectionSettings(c: InfluxDbConfig, creds: InfluxDbCredentials, where: { userDir: string; id: string }): ConnectionSettings {
  const version = choice(c.version, 'Version', ['1.x', '2.x'] as const, '1.x');
  const server: ServerSettings =
    version === '1.x'
      ? {
          version,
          host: text(c.host, '127.0.0.1'),
          port: number(c.port, 'Port', 8086, { integer: true, min: 1, max: 65535 }),
          protocol: choice(c.protocol, 'Protocol', ['http', 'https'] as const, 'http'),
          database: name(c.database),
          retentionPolicy: blank(c.retentionPolicy) ? undefined : name(c.retentionPolicy),
          username: creds.username || undefined,
          password: creds.password || undefined,
        }
      : {
          version,
          url: text(c.url),
          org: name(c.org),
          bucket: name(c.bucket),
          token: creds.token || undefined,
        };
  return {
    server,
    timeoutMs: number(c.timeout, 'Timeout', 10, { min: 1, max: 120 }) * 1000,
    tlsVerify: bool(c.tlsVerify, 'verify the server certificate', true),
    tlsCaFile: blank(c.tlsCaFile) ? undefined : String(c.tlsCaFile),
    spoolDir: spoolDirOf(c, where),
    spoolMaxBytes: Math.round(number(c.spoolMaxMB, 'Spool cap', 100, { min: 0.01 }) * 1024 * 1024),
    // Like Telegraf: on by default, since CREATE DATABASE is idempotent (flows from before the option have none).
    createDatabase: version === '1.x' && bool(c.createDatabase, 'create the database if it is missing', true),
    replayPointsPerSec: number(c.replayRate, 'Replay pace', 10000, { min: 1 }),
    maxInFlight: number(c.maxInFlight, 'Writes in flight', 2, { integer: true, min: 1, max: 16 }),
    maxBackoffMs: number(c.maxBackoff, 'Max retry wait', 10, { min: 1, max: 600 }) * 1000,
  };
}
