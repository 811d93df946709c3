'use strict';
/**
 * The gateway app: Node-RED embedded in an Express server, with this package's nodes, the demo flow
 * and (once installed) the dashboard. `npm start` runs it; tests and `edgevision bench app` start it
 * in-process on a free port with a temporary user dir.
 *
 * The package is made visible to Node-RED the way `npm install <folder>` in a user dir would: a
 * symbolic link <userDir>/node_modules/@edgevision/node-red-vision → the project root.
 */
const fs = require('fs');
const path = require('path');
const http = require('http');
const { setTimeout: sleep } = require('timers/promises');

const ROOT = path.join(__dirname, '..');

function linkPackage(userDir) {
  const scopeDir = path.join(userDir, 'node_modules', '@edgevision');
  const link = path.join(scopeDir, 'node-red-vision');
  fs.mkdirSync(scopeDir, { recursive: true });
  try {
    if (fs.realpathSync(link) === fs.realpathSync(ROOT)) return;
    fs.rmSync(link, { recursive: true, force: true });
  } catch {
    /* no link yet */
  }
  fs.symlinkSync(ROOT, link, 'dir');
  const pkg = path.join(userDir, 'package.json');
  if (!fs.existsSync(pkg)) {
    fs.writeFileSync(pkg, JSON.stringify({ name: 'edgevision-gateway', private: true, dependencies: { '@edgevision/node-red-vision': 'file:' + ROOT } }, null, 2));
  }
}

/**
 * Seeds the user dir's flow file from flowFile when it has none (or when asked to reset). With
 * realtime false, file sources in the seeded flow decode as fast as the pipeline takes them (tests,
 * benchmarks, replaying a recording) instead of at the clip's own rate.
 */
function seedFlows(userDir, flowFile, reset, realtime) {
  const target = path.join(userDir, 'flows.json');
  if (fs.existsSync(target) && !reset) return { target, seeded: false };
  const flows = JSON.parse(fs.readFileSync(flowFile, 'utf8'));
  if (realtime === false) {
    for (const n of flows) if (n.type === 'vision-camera-source') n.realtime = false;
  }
  fs.writeFileSync(target, JSON.stringify(flows, null, 2));
  return { target, seeded: true };
}

/** The demo's database secrets: environment variables, referenced from the connection's credentials. */
const INFLUX_SECRET_REFS = {
  username: '${EDGEVISION_INFLUX_USER}',
  password: '${EDGEVISION_INFLUX_PASSWORD}',
  token: '${EDGEVISION_INFLUX_TOKEN}',
};

/**
 * Node-RED resolves ${VAR} in a node's credentials when the node starts, but reads credentials only
 * from its credentials store, which a flow file cannot fill. So the start that seeds the demo flow
 * deploys its InfluxDB connections once more with the references above as their credentials (a
 * "nodes" deploy: only those connections and their writers restart). The store keeps the variable
 * names, never the secrets; a secret changed in the environment applies at the next start.
 */
async function seedInfluxSecretRefs(RED) {
  // RED.start() can resolve before the flow file is loaded (getFlows answers null meanwhile).
  let loaded = null;
  for (let waited = 0; !(loaded = await RED.runtime.flows.getFlows({})) && waited < 30000; waited += 50) await sleep(50);
  if (!loaded) {
    console.warn('[edgevision] flows not loaded after 30 s: the InfluxDB connections keep their stored credentials');
    return;
  }
  const { flows } = loaded;
  if (!flows.some((n) => n.type === 'vision-influxdb')) return;
  const next = flows.map((n) => (n.type === 'vision-influxdb' ? { ...n, credentials: { ...INFLUX_SECRET_REFS } } : n));
  await RED.runtime.flows.setFlows({ flows: { flows: next }, deploymentType: 'nodes' });
}

/**
 * EDGEVISION_INFLUX_URL (default http://127.0.0.1:8086) is split into the host, port and protocol the
 * 1.x connection takes; the 2.x connection takes the URL itself.
 */
function influxDefaults(env) {
  const set = (k, v) => {
    if (env[k] === undefined || env[k] === '') env[k] = v;
  };
  set('EDGEVISION_INFLUX_URL', 'http://127.0.0.1:8086');
  set('EDGEVISION_INFLUX_VERSION', '1.x');
  set('EDGEVISION_INFLUX_DB', 'edgevision');
  set('EDGEVISION_INFLUX_ORG', '');
  // Secrets: unset means none (Node-RED would otherwise leave "${EDGEVISION_INFLUX_TOKEN}" as the value).
  for (const k of ['EDGEVISION_INFLUX_USER', 'EDGEVISION_INFLUX_PASSWORD', 'EDGEVISION_INFLUX_TOKEN']) if (env[k] === undefined) env[k] = '';
  set('EDGEVISION_INFLUX_BUCKET', 'edgevision');
  let u;
  try {
    u = new URL(env.EDGEVISION_INFLUX_URL);
  } catch {
    u = null;
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
    throw new Error(`EDGEVISION_INFLUX_URL must be an http:// or https:// URL, got "${env.EDGEVISION_INFLUX_URL}"`);
  }
  set('EDGEVISION_INFLUX_HOST', u.hostname);
  set('EDGEVISION_INFLUX_PROTOCOL', u.protocol === 'https:' ? 'https' : 'http');
  set('EDGEVISION_INFLUX_PORT', u.port || (u.protocol === 'https:' ? '443' : '8086'));
}

/**
 * The demo flow reads its source, model and database from environment variables (Node-RED's ${VAR}
 * properties). With nothing set it runs the demo clip with the shipped model: their manifest names,
 * which the nodes find in the user dir's edgevision/ folder (or say how to get them).
 */
function applyDemoDefaults(env = process.env) {
  if (!env.EDGEVISION_SOURCE) env.EDGEVISION_SOURCE = 'vtest';
  if (!env.EDGEVISION_MODEL) env.EDGEVISION_MODEL = 'yolox_nano';
  if (env.EDGEVISION_FPS === undefined) env.EDGEVISION_FPS = '7';
  if (env.EDGEVISION_CAMERA === undefined) env.EDGEVISION_CAMERA = 'cam1';
  // What the gateway has: CUDA where its provider libraries are installed, else the CPU.
  if (!env.EDGEVISION_PROVIDERS) env.EDGEVISION_PROVIDERS = 'auto';
  influxDefaults(env);
}

/** The gateway's Node-RED user dir: opts.userDir, else EDGEVISION_USER_DIR, else .node-red/ in the project. */
function gatewayUserDir(userDir, env = process.env) {
  return path.resolve(userDir || env.EDGEVISION_USER_DIR || path.join(ROOT, '.node-red'));
}

/**
 * Starts the gateway. Options: port (0 = any free port), host, userDir, flowFile (default
 * flows/demo.json), resetFlows, realtime (false: seed file sources to run at full speed; also
 * EDGEVISION_REALTIME=0), settings (merged over flows/settings.js). Resolves to
 * { RED, server, port, url, userDir, stop() }.
 */
async function startGateway(opts = {}) {
  applyDemoDefaults();
  const RED = require('node-red');
  const express = require('express');
  const userDir = gatewayUserDir(opts.userDir);
  fs.mkdirSync(userDir, { recursive: true });
  linkPackage(userDir);
  const realtime = opts.realtime !== undefined ? opts.realtime : !['0', 'false', 'no'].includes(String(process.env.EDGEVISION_REALTIME || '').toLowerCase());
  const { target: flowFile, seeded } = seedFlows(userDir, opts.flowFile || path.join(__dirname, 'demo.json'), !!opts.resetFlows, realtime);
  const base = require('./settings.js');
  const settings = { ...base, userDir, flowFile, ...(opts.settings || {}) };
  const app = express();
  const server = http.createServer(app);
  RED.init(server, settings);
  app.use(settings.httpAdminRoot || '/', RED.httpAdmin);
  app.use(settings.httpNodeRoot || '/', RED.httpNode);
  const port = opts.port !== undefined ? opts.port : Number(process.env.PORT || 1880);
  const host = opts.host || process.env.HOST || '127.0.0.1';
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  await RED.start();
  if (seeded) await seedInfluxSecretRefs(RED);
  const actual = server.address().port;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actual}`;
  return {
    RED,
    server,
    port: actual,
    url,
    userDir,
    async stop() {
      await RED.stop();
      await new Promise((r) => server.close(() => r()));
    },
  };
}

module.exports = { startGateway, applyDemoDefaults, gatewayUserDir };
