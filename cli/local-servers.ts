/**
 * Private database servers for the benchmarks and the tests: Debian's influxd (InfluxDB 1.x API) and
 * victoria-metrics (accepts the InfluxDB 2.x write API). Each runs on 127.0.0.1 on free ports with its
 * data under a temp folder, is waited for until it answers, and is stopped by PID (SIGTERM, then
 * SIGKILL after 5 s). `edgevision bench influx` and test/helpers/influx-servers.js both start servers
 * through here, so there is one way to run them.
 */
import { spawn, execFileSync, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { setTimeout as sleep } from 'timers/promises';

/** A child process with the last 2000 characters of its stderr, for the error when it dies early. */
type ServerProc = ChildProcess & { stderrTail(): string };

// The server processes this Node process has running: they are the process's own, so one set per
// process is the right scope; stopAll() stops them from a test's after-hook.
const running = new Set<ServerProc>();
// If this process dies without stopping them (an uncaught error, EPIPE on a closed stdout), its
// servers must not outlive it. 'exit' handlers run synchronously, so only a signal can be sent.
process.once('exit', () => {
  for (const p of running) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

/** The path of `bin` as the shell finds it, or null (for skipping a test or naming the apt package). */
export function which(bin: string): string | null {
  try {
    // bin is passed as $1, never pasted into the script: a path with spaces or quotes stays one word.
    return execFileSync('sh', ['-c', 'command -v "$1"', 'sh', bin], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** A TCP port free on 127.0.0.1 now (the OS picks it; another process could take it before we bind). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface HttpReply {
  status: number;
  body: string;
}

/** One HTTP request with the whole body as text; rejects on a network error or after 5 s. */
export function request(method: string, url: string, body?: string, headers: http.OutgoingHttpHeaders = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, timeout: 5000 }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function spawnServer(bin: string, args: string[]): ServerProc {
  const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] }) as ServerProc;
  let tail = '';
  proc.stderr!.on('data', (c: Buffer) => {
    tail = (tail + c.toString()).slice(-2000);
  });
  // A binary that cannot be started (ENOENT, EACCES) emits 'error', which would otherwise be thrown
  // as an uncaught exception; its exitCode is set too, so waitUntilUp reports it with this text.
  proc.on('error', (e) => {
    tail = (tail + e.message).slice(-2000);
  });
  proc.stderrTail = () => tail;
  running.add(proc);
  proc.on('exit', () => running.delete(proc));
  return proc;
}

async function waitUntilUp(url: string, proc: ServerProc, ms = 30000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`${proc.spawnargs[0]} exited with ${proc.exitCode}: ${proc.stderrTail()}`);
    try {
      const r = await request('GET', url);
      if (r.status < 300) return;
    } catch {
      /* not up yet */
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer within ${ms} ms: ${proc.stderrTail()}`);
}

// A process killed by a signal keeps exitCode null, so both are checked.
const alive = (proc: ChildProcess) => proc.exitCode === null && proc.signalCode === null;

function stopProc(proc: ChildProcess | null): Promise<void> {
  return new Promise((resolve) => {
    if (!proc || !alive(proc)) return resolve();
    const kill = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

/** Stops every server process started through this module. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map(stopProc));
}

/**
 * One server: `start()` runs `bin args` and waits until `url + healthPath` answers; `stop()` and `start()`
 * keep the data dir, so a restart keeps what was written; `destroy()` stops it and removes the dir.
 */
export class LocalServer {
  readonly url: string;
  private proc: ServerProc | null = null;

  constructor(
    readonly kind: string,
    readonly port: number,
    readonly dir: string,
    private readonly bin: string,
    private readonly args: string[],
    private readonly healthPath: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  async start(): Promise<void> {
    if (this.proc && alive(this.proc)) return;
    this.proc = spawnServer(this.bin, this.args);
    await waitUntilUp(`${this.url}${this.healthPath}`, this.proc);
  }

  async stop(): Promise<void> {
    await stopProc(this.proc);
    this.proc = null;
  }

  async destroy(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Finds the binary, makes the data dir and starts the server with `make(found bin, dir, port)`, then
 * `ready` (if any). A server that fails on the way is stopped and its dir removed before the error
 * is thrown: the caller never got it, so nobody else would clean up.
 */
async function launch(
  bin: string,
  aptPackage: string,
  prefix: string,
  make: (found: string, dir: string, port: number) => Promise<LocalServer>,
  ready?: (server: LocalServer) => Promise<void>,
): Promise<LocalServer> {
  const found = which(bin);
  if (!found) throw new Error(`${bin} not found${bin.includes('/') ? '' : ' on PATH'} (apt package ${aptPackage})`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  let server: LocalServer | null = null;
  try {
    server = await make(found, dir, await freePort());
    await server.start();
    await ready?.(server);
    return server;
  } catch (e) {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export interface InfluxdOptions {
  /** influxd binary; default: influxd on PATH. */
  bin?: string;
  /** Turns authentication on, with this admin user created before the server is handed out. */
  auth?: { username: string; password: string };
}

function writeInfluxdConfig(dir: string, port: number, rpcPort: number, auth: boolean): string {
  const conf = path.join(dir, 'influxd.conf');
  fs.writeFileSync(
    conf,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${dir}/meta"`,
      '[data]',
      `  dir = "${dir}/data"`,
      `  wal-dir = "${dir}/wal"`,
      '  query-log-enabled = false',
      '[http]',
      `  bind-address = "127.0.0.1:${port}"`,
      '  log-enabled = false',
      ...(auth ? ['  auth-enabled = true'] : []),
      '[monitor]',
      '  store-enabled = false',
      '[continuous_queries]',
      '  enabled = false',
      '',
    ].join('\n'),
  );
  return conf;
}

/** influxd 1.x on free ports (HTTP and the backup RPC) in a temp dir, started and answering /ping. */
export function startInfluxd(opts: InfluxdOptions = {}): Promise<LocalServer> {
  const { auth } = opts;
  const make = async (bin: string, dir: string, port: number) => {
    const conf = writeInfluxdConfig(dir, port, await freePort(), !!auth);
    return new LocalServer('influxd', port, dir, bin, ['run', '-config', conf], '/ping');
  };
  const createAdmin = async (server: LocalServer) => {
    if (!auth) return;
    // With authentication on and no users yet, influxd takes this one statement without credentials.
    const q = `CREATE USER "${auth.username}" WITH PASSWORD '${auth.password}' WITH ALL PRIVILEGES`;
    const r = await request('POST', `${server.url}/query?${new URLSearchParams({ q })}`);
    if (r.status >= 300) throw new Error(`creating the admin user: ${r.status} ${r.body}`);
  };
  return launch(opts.bin ?? 'influxd', 'influxdb', 'ev-influxd-', make, createAdmin);
}

/** VictoriaMetrics on a free port in a temp dir, started and answering /health. */
export function startVictoria(bin = 'victoria-metrics'): Promise<LocalServer> {
  return launch(bin, 'victoria-metrics', 'ev-vm-', async (found, dir, port) => {
    const args = [`-storageDataPath=${dir}/data`, `-httpListenAddr=127.0.0.1:${port}`, '-loggerLevel=ERROR', '-retentionPeriod=100y'];
    return new LocalServer('victoria-metrics', port, dir, found, args, '/health');
  });
}
