'use strict';
// The gateway app (flows/gateway.js) in a child process, for end-to-end tests: a crash or an abort
// inside Node-RED fails the test instead of killing mocha, and the process is stopped by PID.
const path = require('path');
const { spawn } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Starts the gateway with startGateway(opts) in a child process, with this process's environment
 * plus `env` (a key set to undefined is left out: e.g. EDGEVISION_ASSETS, to make the child find its
 * assets in its user dir). `logLevel` is Node-RED's console level. The child gets url() once it
 * listens, and log() with everything it printed.
 */
/**
 * @typedef {import('child_process').ChildProcessByStdio<null, import('stream').Readable, import('stream').Readable>
 *   & { url(): string | undefined, log(): string }} GatewayChild
 * @param {Record<string, any>} opts the gateway's options (flows/gateway.js startGateway)
 * @param {Record<string, string | undefined>} [env]
 * @returns {GatewayChild}
 */
function startGatewayChild(opts, env = {}, logLevel = 'warn') {
  const o = { ...opts, settings: { ...(opts.settings || {}), logging: { console: { level: logLevel, metrics: false, audit: false } } } };
  const script = `require(${JSON.stringify(path.join(ROOT, 'flows', 'gateway.js'))}).startGateway(${JSON.stringify(o)}).then((g) => {
    console.log('URL ' + g.url);
    process.on('SIGTERM', () => g.stop().then(() => process.exit(0)));
  }, (e) => { console.error(e); process.exit(1); });`;
  const child = /** @type {GatewayChild} */ (spawn(process.execPath, ['-e', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  child.url = () => (/URL (\S+)/.exec(out) || [])[1];
  child.log = () => out;
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
function stopChild(child, graceMs = 15000) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

module.exports = { startGatewayChild, stopChild, ROOT };
