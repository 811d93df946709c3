/**
 * Thin adapters over the two official clients: both take a body of line protocol we built ourselves
 * and post it once (no retries of their own: retrying and spooling is the forwarder's job), and turn
 * every failure into a TransportError that says whether it is worth retrying.
 *  - InfluxDB 1.x: the `influx` package's connection pool, POST /write?db=&rp=&precision=.
 *  - InfluxDB 2.x / 3.x (and VictoriaMetrics): `@influxdata/influxdb-client`'s transport,
 *    POST /api/v2/write?org=&bucket=&precision=.
 */
import { Pool, ServiceNotAvailableError } from 'influx/lib/src/pool';
import { InfluxDB, HttpError } from '@influxdata/influxdb-client';
import { Precision } from './line-protocol';
import { FailureKind, classifyStatus } from './retry';

export class TransportError extends Error {
  constructor(message: string, readonly kind: FailureKind, readonly status?: number) {
    super(message);
    this.name = 'TransportError';
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
const NO_BACKOFF = { getDelay: () => 0, next() { return this; }, reset() { return this; } };

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
  const what = e.name === 'AbortError' ? 'aborted' : e.code ? `${e.code} ${e.message ?? ''}`.trim() : e.message ?? String(err);
  return new TransportError(`server unreachable: ${what}`, 'retry');
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
        throw new TransportError(`${status}: ${serverMessage(body, e.message ?? 'error')}`, classifyStatus(status), status);
      }
      // The pool reports a 5xx (status text only), a timeout and "no host" alike; all are worth a retry.
      if (err instanceof ServiceNotAvailableError) throw new TransportError(`server unavailable: ${e.message}`, 'retry');
      throw networkError(err);
    }
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
        throw new TransportError(`${err.statusCode}: ${serverMessage(err.body, err.message)}`, classifyStatus(err.statusCode), err.statusCode);
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
