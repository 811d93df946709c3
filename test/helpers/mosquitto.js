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
      const { port } = s.address();
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

/** `users`: {name: password}; none = anonymous access. Resolves to {url, port, log(), start(), stop(), destroy()}. */
async function startMosquitto({ users } = {}) {
  const bin = which('mosquitto') || (fs.existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : null);
  if (!bin) throw new Error('mosquitto not found (apt package mosquitto)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-mosquitto-'));
  const port = await freePort();
  const conf = [`listener ${port} 127.0.0.1`, 'persistence false', 'log_dest stdout', 'log_type error', 'log_type warning'];
  if (users) {
    const pw = path.join(dir, 'passwd');
    fs.writeFileSync(pw, '');
    const passwd = which('mosquitto_passwd') || '/usr/bin/mosquitto_passwd';
    for (const [u, p] of Object.entries(users)) execFileSync(passwd, ['-b', pw, u, p]);
    conf.push('allow_anonymous false', `password_file ${pw}`);
    // Started as root, mosquitto drops to the user "mosquitto", which must be able to read the file.
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(pw, 0o644);
  } else conf.push('allow_anonymous true');
  const confFile = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(confFile, conf.join('\n') + '\n');
  let child = null;
  let out = '';
  const broker = {
    port,
    url: `mqtt://127.0.0.1:${port}`,
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
