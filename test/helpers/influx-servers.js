'use strict';
// Starts real database servers for tests: Debian's influxd (InfluxDB 1.x API) and victoria-metrics
// (accepts the InfluxDB 2.x write API). Each runs on 127.0.0.1 on free ports with its data under a
// temp folder, is waited for until it answers, and is stopped by PID (SIGTERM, then SIGKILL).
// Call stopAll() in an after-hook: no process is left behind.
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const http = require('http');
const { sleep } = require('./wait');

const running = new Set();

function which(bin) {
  try {
    return execFileSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function request(method, url, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, timeout: 5000 }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode, body: data }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

async function waitUntilUp(url, proc, ms = 30000) {
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

function spawnServer(bin, args) {
  const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  proc.stderr.on('data', (c) => {
    tail = (tail + c.toString()).slice(-2000);
  });
  proc.stderrTail = () => tail;
  running.add(proc);
  proc.on('exit', () => running.delete(proc));
  return proc;
}

function stopProc(proc) {
  return new Promise((resolve) => {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return resolve();
    const kill = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

/**
 * influxd 1.x on free ports in a temp dir; `auth: {username, password}` turns authentication on with
 * that admin. `stop()` and `start()` keep the data dir, so a restart keeps what was written.
 */
async function startInfluxd(opts = {}) {
  const bin = which('influxd');
  if (!bin) throw new Error('influxd not found on PATH (apt package influxdb)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-influxd-'));
  const port = await freePort();
  const rpcPort = await freePort();
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
      ...(opts.auth ? ['  auth-enabled = true'] : []),
      '[monitor]',
      '  store-enabled = false',
      '[continuous_queries]',
      '  enabled = false',
      '',
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${port}`;
  let proc = null;
  const server = {
    kind: 'influxd',
    port,
    url,
    dir,
    async start() {
      if (proc && proc.exitCode === null) return;
      proc = spawnServer(bin, ['run', '-config', conf]);
      await waitUntilUp(`${url}/ping`, proc);
    },
    async stop() {
      await stopProc(proc);
      proc = null;
    },
    get pid() {
      return proc ? proc.pid : null;
    },
    async query(q, db) {
      const who = opts.auth ? { u: opts.auth.username, p: opts.auth.password } : {};
      const qs = new URLSearchParams({ q, ...(db ? { db } : {}), epoch: 'ms', ...who });
      const r = await request('POST', `${url}/query?${qs}`);
      if (r.status >= 300) throw new Error(`query ${q}: ${r.status} ${r.body}`);
      const j = JSON.parse(r.body);
      const res = j.results && j.results[0];
      if (res && res.error) throw new Error(`query ${q}: ${res.error}`);
      return res;
    },
    async createDatabase(db) {
      await this.query(`CREATE DATABASE "${db}"`);
    },
    /** One number from a single-row aggregate (COUNT, SUM…); 0 when the measurement is empty. */
    async scalar(q, db) {
      const res = await this.query(q, db);
      const s = res.series && res.series[0];
      return s ? s.values[0][1] : 0;
    },
    async destroy() {
      await this.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  if (opts.auth) {
    // With authentication on and no users yet, influxd takes this one statement without credentials.
    const q = `CREATE USER "${opts.auth.username}" WITH PASSWORD '${opts.auth.password}' WITH ALL PRIVILEGES`;
    const r = await request('POST', `${url}/query?${new URLSearchParams({ q })}`);
    if (r.status >= 300) throw new Error(`creating the admin user: ${r.status} ${r.body}`);
  }
  return server;
}

/** VictoriaMetrics: accepts /api/v2/write; read back with /api/v1/export (raw samples, JSON lines). */
async function startVictoria() {
  const bin = which('victoria-metrics');
  if (!bin) throw new Error('victoria-metrics not found on PATH (apt package victoria-metrics)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-vm-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let proc = null;
  const server = {
    kind: 'victoria-metrics',
    port,
    url,
    dir,
    async start() {
      if (proc && proc.exitCode === null) return;
      proc = spawnServer(bin, [
        `-storageDataPath=${dir}/data`,
        `-httpListenAddr=127.0.0.1:${port}`,
        '-loggerLevel=ERROR',
        '-retentionPeriod=100y',
      ]);
      await waitUntilUp(`${url}/health`, proc);
    },
    async stop() {
      await stopProc(proc);
      proc = null;
    },
    /** Every series matching `match` with its samples: [{metric: {__name__, ...labels}, values, timestamps}]. */
    async exportSeries(match) {
      await request('GET', `${url}/internal/force_flush`);
      const r = await request('GET', `${url}/api/v1/export?${new URLSearchParams({ 'match[]': match })}`);
      if (r.status >= 300) throw new Error(`export ${match}: ${r.status} ${r.body}`);
      return r.body
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    },
    async destroy() {
      await this.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

async function stopAll() {
  await Promise.all([...running].map(stopProc));
}

module.exports = { startInfluxd, startVictoria, stopAll, freePort, request, sleep, which };
