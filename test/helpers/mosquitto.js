'use strict';
// A real MQTT broker for tests: Debian's mosquitto on 127.0.0.1 at a free port, with a temp config
// (and a password file when users are given), stopped by PID. stop() and start() again keep the
// port, so a test can take the broker away and bring it back.
const fs = require('fs');
const os = require('os');
const net = require('net');
const path = require('path');
const { spawn, execFileSync } = require('child_process');
const { which } = require('../../dist/cli/local-servers');
const { waitFor } = require('./wait');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('net').AddressInfo} */ (s.address());
      s.close(() => resolve(port));
    });
  });
}

function accepts(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/**
 * A throwaway CA and a server certificate for 127.0.0.1 (EC P-256, one day), made with openssl in
 * `dir`: {ca, cert, key} file paths, readable by the broker's user.
 */
function makeCertificates(dir) {
  const openssl = which('openssl') || '/usr/bin/openssl';
  const f = (n) => path.join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const run = (args) => execFileSync(openssl, args, { stdio: 'pipe' });
  run(['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '1', '-subj', '/CN=edgevision test CA']);
  run(['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1']);
  fs.writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  run([
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.crt'),
    '-days',
    '1',
    '-extfile',
    f('ext.cnf'),
  ]);
  for (const n of ['ca.crt', 'server.crt', 'server.key']) fs.chmodSync(f(n), 0o644);
  return { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key') };
}

/**
 * `users`: {name: password}; none = anonymous access. `tls`: true for a TLS listener with a fresh
 * CA (broker.ca is its certificate). Resolves to {url, port, ca, log(), start(), stop(), destroy()}.
 */
async function startMosquitto(/** @type {{ users?: Record<string, string>, tls?: boolean }} */ { users, tls } = {}) {
  const bin = which('mosquitto') || (fs.existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : null);
  if (!bin) throw new Error('mosquitto not found (apt package mosquitto)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-mosquitto-'));
  const port = await freePort();
  const conf = [`listener ${port} 127.0.0.1`, 'persistence false', 'log_dest stdout', 'log_type error', 'log_type warning'];
  // Started as root, mosquitto drops to the user "mosquitto", which must be able to read its files.
  fs.chmodSync(dir, 0o755);
  const certs = tls ? makeCertificates(dir) : null;
  if (certs) conf.push(`cafile ${certs.ca}`, `certfile ${certs.cert}`, `keyfile ${certs.key}`);
  if (users) {
    const pw = path.join(dir, 'passwd');
    fs.writeFileSync(pw, '');
    const passwd = which('mosquitto_passwd') || '/usr/bin/mosquitto_passwd';
    for (const [u, p] of Object.entries(users)) execFileSync(passwd, ['-b', pw, u, p]);
    conf.push('allow_anonymous false', `password_file ${pw}`);
    fs.chmodSync(pw, 0o644);
  } else conf.push('allow_anonymous true');
  const confFile = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(confFile, conf.join('\n') + '\n');
  let child = null;
  let out = '';
  const broker = {
    port,
    url: `${certs ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    ca: certs && certs.ca,
    log: () => out,
    get pid() {
      return child && child.pid;
    },
    async start() {
      child = spawn(bin, ['-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (out += c));
      const me = child;
      await waitFor(() => (me.exitCode !== null ? Promise.reject(new Error(`mosquitto exited: ${out}`)) : accepts(port)), 10000, 'mosquitto to listen', 50);
    },
    stop() {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        const kill = setTimeout(() => c.kill('SIGKILL'), 5000);
        c.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        c.kill('SIGTERM');
      });
    },
    async destroy() {
      await broker.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await broker.start();
  return broker;
}

module.exports = { startMosquitto, freePort };
