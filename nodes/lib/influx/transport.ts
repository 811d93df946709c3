/**
 * Thin adapters over the two official clients: both take a body of line protocol we built ourselves
 * and post it once (no retries of their own: retrying and spooling is the forwarder's job), and turn
 * every failure into a TransportError that says whether the batch is held or refused, with the
 * server's words and a short hint for a node status (what to fix).
 *  - InfluxDB 1.x: the `influx` package's connection pool, POST /write?db=&rp=&precision=.
 *  - InfluxDB 2.x / 3.x (and VictoriaMetrics): `@influxdata/influxdb-client`'s transport,
 *    POST /api/v2/write?org=&bucket=&precision=.
 */
import { Pool, ServiceNotAvailableError } from 'influx/lib/src/pool';
import { InfluxDB, HttpError } from '@influxdata/influxdb-client';
import { Precision } from './line-protocol';
import { FailureKind, classifyStatus } from './retry';

export interface TransportErrorDetail {
  /** A short text for a node status: what is wrong and, where we know it, what to do (≤ ~38 characters). */
  hint?: string;
  /** The write's target does not exist: a 1.x database ("database not found") or a 2.x bucket. */
  missing?: 'database' | 'bucket';
}

export class TransportError extends Error {
  readonly hint: string;
  readonly missing?: 'database' | 'bucket';
  constructor(
    message: string,
    readonly kind: FailureKind,
    readonly status?: number,
    detail: TransportErrorDetail = {},
  ) {
    super(message);
    this.name = 'TransportError';
    const hint = detail.hint ?? message;
    this.hint = hint.length > 38 ? hint.slice(0, 37) + '…' : hint;
    if (detail.missing) this.missing = detail.missing;
  }
}

export interface PingResult {
  ok: boolean;
  version?: string;
  error?: string;
}

export interface WriteTransport {
  /** Resolves when the server accepted the body (2xx); rejects with a TransportError otherwise. */
  write(body: string, precision: Precision, signal?: AbortSignal): Promise<void>;
  ping(timeoutMs: number): Promise<PingResult>;
  /** Creates the target database (InfluxDB 1.x: `CREATE DATABASE`, which is idempotent). Absent where the API has none. */
  createDatabase?(): Promise<void>;
  /** For status texts and logs, without secrets. */
  readonly target: string;
}

export interface TlsOptions {
  /** Verify the server's certificate (default true). */
  rejectUnauthorized?: boolean;
  /** PEM text of extra CAs, a client certificate and its key, as Node's https options take them. */
  ca?: string;
  cert?: string;
  key?: string;
}

export interface Influx1Options {
  host: string;
  port: number;
  protocol: 'http' | 'https';
  database: string;
  retentionPolicy?: string;
  username?: string;
  password?: string;
  timeoutMs?: number;
  tls?: TlsOptions;
}

export interface Influx2Options {
  url: string;
  org: string;
  bucket: string;
  token?: string;
  timeoutMs?: number;
  tls?: TlsOptions;
}

const PRECISION_1X: Record<Precision, string> = { ns: 'n', us: 'u', ms: 'ms', s: 's' };

/** A backoff that never parks the host: the pool must not hide a server that came back. */
const NO_BACKOFF = {
  getDelay: () => 0,
  next() {
    return this;
  },
  reset() {
    return this;
  },
};

function tlsRequestOptions(tls: TlsOptions | undefined): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (!tls) return o;
  if (tls.rejectUnauthorized === false) o.rejectUnauthorized = false;
  if (tls.ca) o.ca = tls.ca;
  if (tls.cert) o.cert = tls.cert;
  if (tls.key) o.key = tls.key;
  return o;
}

/** The server's own words from an error body ({"error": "..."} for 1.x, {"message": "..."} for 2.x). */
function serverMessage(body: string | undefined, fallback: string): string {
  if (!body) return fallback;
  try {
    const j = JSON.parse(body);
    if (j && typeof j.error === 'string') return j.error;
    if (j && typeof j.message === 'string') return j.message;
  } catch {
    /* not JSON */
  }
  return body.trim().slice(0, 500) || fallback;
}

function networkError(err: unknown): TransportError {
  const e = err as { code?: string; message?: string; name?: string };
  const what = e.name === 'AbortError' ? 'aborted' : e.code ? `${e.code} ${e.message ?? ''}`.trim() : (e.message ?? String(err));
  const timedOut = /timed? ?out/i.test(what);
  return new TransportError(`server unreachable: ${what}`, 'retry', undefined, {
    hint: timedOut ? 'db timeout' : e.code ? `db unreachable (${e.code})` : e.name === 'AbortError' ? 'write aborted' : 'db unreachable',
  });
}

/** A quoted name for a status text, shortened so that the hint stays one short line. */
function q(name: string): string {
  return JSON.stringify(name.length > 16 ? name.slice(0, 15) + '…' : name);
}

/**
 * The error for an HTTP answer other than 2xx: the server's words in the message, and a hint that
 * says what to fix: the user and password for 1.x, the token for 2.x.
 */
export function httpError(status: number, serverMsg: string, api: { v: '1.x' | '2.x'; database?: string; bucket?: string }): TransportError {
  const message = `${status}: ${serverMsg}`;
  const kind = classifyStatus(status);
  if (status === 401) return new TransportError(message, kind, status, { hint: `401 unauthorized: check ${api.v === '1.x' ? 'user/password' : 'the token'}` });
  if (status === 403) return new TransportError(message, kind, status, { hint: `403 forbidden: check ${api.v === '1.x' ? 'user' : 'token'} rights` });
  if (status === 404) {
    if (api.database !== undefined && /database not found/i.test(serverMsg)) {
      return new TransportError(message, kind, status, { hint: `db ${q(api.database)} missing: create it`, missing: 'database' });
    }
    if (api.bucket !== undefined && /bucket/i.test(serverMsg)) {
      return new TransportError(message, kind, status, { hint: `bucket ${q(api.bucket)} missing: create it`, missing: 'bucket' });
    }
    return new TransportError(message, kind, status, { hint: '404 not found: check the URL' });
  }
  if (status >= 500) return new TransportError(message, kind, status, { hint: `db error ${status}` });
  if (kind === 'reject') return new TransportError(message, kind, status, { hint: `${status} refused: bad data` });
  return new TransportError(message, kind, status, { hint: `db answered ${status}` });
}

export class Influx1Transport implements WriteTransport {
  readonly target: string;
  private readonly pool: Pool;
  private readonly auth?: string;

  constructor(private readonly o: Influx1Options) {
    if (!o.host) throw new Error('influx 1.x: host is required');
    if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) throw new Error(`influx 1.x: port must be 1..65535, got ${o.port}`);
    if (!o.database) throw new Error('influx 1.x: database is required');
    this.target = `${o.protocol}://${o.host}:${o.port}/${o.database}`;
    // Pool's own retries and host parking are switched off: one try per call, we decide what next.
    this.pool = new Pool({ maxRetries: 0, requestTimeout: o.timeoutMs ?? 10000, backoff: NO_BACKOFF as never });
    this.pool.addHost(`${o.protocol}://${o.host}:${o.port}`, tlsRequestOptions(o.tls));
    this.auth = o.username ? `${o.username}:${o.password ?? ''}` : undefined;
  }

  async write(body: string, precision: Precision, signal?: AbortSignal): Promise<void> {
    const query: Record<string, string> = { db: this.o.database, precision: PRECISION_1X[precision] };
    if (this.o.retentionPolicy) query.rp = this.o.retentionPolicy;
    try {
      await this.pool.discard({ method: 'POST', path: '/write', query, body, auth: this.auth, signal } as never);
    } catch (err) {
      const e = err as { res?: { statusCode?: number }; message?: string };
      const status = e.res?.statusCode;
      if (status !== undefined) {
        // RequestError's message is "A 400 Bad Request error occurred: <body>".
        const body = /error occurred: ([\s\S]*)$/.exec(e.message ?? '')?.[1];
        throw httpError(status, serverMessage(body, e.message ?? 'error'), { v: '1.x', database: this.o.database });
      }
      // The pool reports a 5xx (status text only), a timeout and "no host" alike; all are worth a retry.
      if (err instanceof ServiceNotAvailableError) {
        const timedOut = /timed out/i.test(e.message ?? '');
        throw new TransportError(`server unavailable: ${e.message}`, 'retry', undefined, { hint: timedOut ? 'db timeout' : `db unavailable: ${e.message}` });
      }
      throw networkError(err);
    }
  }

  /** `CREATE DATABASE "<database>"`: idempotent, needs an admin user when authentication is on. */
  async createDatabase(): Promise<void> {
    const stmt = `CREATE DATABASE "${this.o.database.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    let res: { results?: { error?: string }[] };
    try {
      res = (await this.pool.json({ method: 'POST', path: '/query', query: { q: stmt }, auth: this.auth } as never)) as typeof res;
    } catch (err) {
      const e = err as { res?: { statusCode?: number }; message?: string };
      const status = e.res?.statusCode;
      if (status !== undefined) {
        const body = /error occurred: ([\s\S]*)$/.exec(e.message ?? '')?.[1];
        throw httpError(status, serverMessage(body, e.message ?? 'error'), { v: '1.x' });
      }
      if (err instanceof ServiceNotAvailableError) throw new TransportError(`server unavailable: ${e.message}`, 'retry', undefined, { hint: 'db unavailable' });
      throw networkError(err);
    }
    const stmtError = res?.results?.[0]?.error;
    if (stmtError) throw new TransportError(`${stmt}: ${stmtError}`, 'retry', undefined, { hint: 'cannot create the db' });
  }

  async ping(timeoutMs: number): Promise<PingResult> {
    const [r] = await this.pool.ping(timeoutMs, '/ping', this.auth);
    if (!r) return { ok: false, error: 'no host' };
    return r.online ? { ok: true, version: r.version ?? undefined } : { ok: false, error: `no answer from ${this.target}` };
  }
}

export class Influx2Transport implements WriteTransport {
  readonly target: string;
  private readonly client: InfluxDB;

  constructor(private readonly o: Influx2Options) {
    let u: URL;
    try {
      u = new URL(o.url);
    } catch {
      throw new Error(`influx 2.x: url must be like http://host:8086, got ${JSON.stringify(o.url)}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`influx 2.x: url must be http or https, got ${u.protocol}`);
    if (!o.bucket) throw new Error('influx 2.x: bucket is required');
    this.target = `${u.origin}/${o.bucket}`;
    this.client = new InfluxDB({ url: o.url, token: o.token || undefined, timeout: o.timeoutMs ?? 10000, transportOptions: tlsRequestOptions(o.tls) });
  }

  async write(body: string, precision: Precision, signal?: AbortSignal): Promise<void> {
    const q = new URLSearchParams({ org: this.o.org ?? '', bucket: this.o.bucket, precision });
    try {
      await this.client.transport.request(`/api/v2/write?${q}`, body, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        signal,
      });
    } catch (err) {
      if (err instanceof HttpError) {
        throw httpError(err.statusCode, serverMessage(err.body, err.message), { v: '2.x', bucket: this.o.bucket });
      }
      throw networkError(err);
    }
  }

  async ping(timeoutMs: number): Promise<PingResult> {
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), timeoutMs);
    try {
      // /health answers on InfluxDB 2.x, 3.x and VictoriaMetrics; /ping is 1.x-only on some of them.
      await this.client.transport.request('/health', undefined, { method: 'GET', signal: ac.signal });
      return { ok: true };
    } catch (err) {
      // An HTTP answer, even an error one, means the server is there; a 503 from /health means not ready.
      if (err instanceof HttpError && err.statusCode < 500) return { ok: true };
      return { ok: false, error: (err as Error).message };
    } finally {
      clearTimeout(t);
    }
  }
}
