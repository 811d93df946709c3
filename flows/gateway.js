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
    fs.writeFileSync(
      pkg,
      JSON.stringify({ name: 'edgevision-gateway', private: true, dependencies: { '@edgevision/node-red-vision': 'file:' + ROOT } }, null, 2),
    );
  }
}

/**
 * Seeds the user dir's flow file from flowFile when it has none (or when asked to reset). With
 * realtime false, file sources in the seeded flow decode as fast as the pipeline takes them (tests,
 * benchmarks, replaying a recording) instead of at the clip's own rate.
 */
/** Node types of Dashboard 1 (node-red-dashboard: ui_*) and Dashboard 2.0 (@flowfuse/node-red-dashboard: ui-*, and our vision-ui-*). */
const isDashboard1 = (t) => /^ui_/.test(t);
const isDashboard2 = (t) => /^ui-/.test(t) || /^vision-ui-/.test(t);

/**
 * EDGEVISION_DASHBOARD: which dashboards the seeded demo has. "both" (default): Dashboard 2.0 at
 * /dashboard and Dashboard 1 at /ui; "2" or "1": only that one, for a gateway with only that
 * dashboard installed (a flow that names a node type nobody installed does not start at all).
 */
function dashboardChoice(env = process.env) {
  const v = String(env.EDGEVISION_DASHBOARD || 'both')
    .trim()
    .toLowerCase();
  if (v === 'both' || v === '') return 'both';
  if (v === '1' || v === 'ui' || v === 'dashboard1') return '1';
  if (v === '2' || v === 'dashboard' || v === 'dashboard2') return '2';
  throw new Error(`EDGEVISION_DASHBOARD must be both, 1 or 2, got "${env.EDGEVISION_DASHBOARD}"`);
}

/**
 * The flow without the other dashboard's nodes: its widgets and config nodes, the tabs that held only
 * them, the wires to them, and then the nodes that only fed them (their every output led to removed
 * nodes: the demo's formatting functions).
 */
function selectDashboards(flows, which) {
  if (which === 'both') return flows;
  const drop = which === '1' ? isDashboard2 : isDashboard1;
  const removed = new Set(flows.filter((n) => drop(n.type)).map((n) => n.id));
  let out = flows.filter((n) => !removed.has(n.id));
  for (;;) {
    const more = out.filter(
      (n) => Array.isArray(n.wires) && n.wires.some((w) => w.length) && n.wires.every((w) => w.every((t) => removed.has(t))) && !/^vision-/.test(n.type),
    );
    if (!more.length) break;
    for (const n of more) removed.add(n.id);
    out = out.filter((n) => !removed.has(n.id));
  }
  out = out.map((n) => (Array.isArray(n.wires) ? { ...n, wires: n.wires.map((w) => w.filter((t) => !removed.has(t))) } : n));
  // A tab left empty that held only the other dashboard's nodes goes too.
  const used = new Set(out.map((n) => n.z).filter(Boolean));
  const hadRemoved = new Set(flows.filter((n) => removed.has(n.id)).map((n) => n.z));
  return out.filter((n) => !(n.type === 'tab' && !used.has(n.id) && hadRemoved.has(n.id)));
}

function seedFlows(userDir, flowFile, reset, realtime) {
  const target = path.join(userDir, 'flows.json');
  if (fs.existsSync(target) && !reset) return { target, seeded: false };
  const flows = selectDashboards(JSON.parse(fs.readFileSync(flowFile, 'utf8')), dashboardChoice());
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
/** RED.start() can resolve before the flow file is loaded (getFlows answers null meanwhile). */
async function flowsLoaded(RED) {
  let loaded = null;
  for (let waited = 0; !(loaded = await RED.runtime.flows.getFlows({})) && waited < 30000; waited += 50) await sleep(50);
  return loaded;
}

async function seedInfluxSecretRefs(RED) {
  const loaded = await flowsLoaded(RED);
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

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function bcryptModule() {
  // Node-RED's own bcrypt (what `node-red admin hash-pw` uses), so no dependency of ours.
  return require(require.resolve('bcryptjs', { paths: [path.dirname(require.resolve('node-red'))] }));
}

/** A bcrypt hash as given ($2a$/$2b$/$2y$…), or the hash of a plain password. */
function bcryptHash(secret) {
  return /^\$2[aby]\$\d\d\$/.test(secret) ? secret : bcryptModule().hashSync(secret, 10);
}

/**
 * Logins from the environment: EDGEVISION_ADMIN_USER + EDGEVISION_ADMIN_PASSWORD (full access to the
 * editor), optionally EDGEVISION_VIEWER_USER + EDGEVISION_VIEWER_PASSWORD (read-only editor, and the
 * dashboard and video routes) and EDGEVISION_OPERATOR_USER + EDGEVISION_OPERATOR_PASSWORD (as the viewer,
 * and may change lines, zones and stations from the dashboard's drawing board: the permissions
 * vision-line-count.write and vision-productivity-state.write, not the right to deploy). A password may be given as a bcrypt hash (`node-red admin hash-pw`).
 * Returns the settings that turn them on: adminAuth for the editor and admin API, and a basic-auth
 * check for everything under httpNodeRoot (the dashboard, /vision-view/…, http-in endpoints).
 * Throws when the address is reachable from other machines and no admin login is set: anyone on
 * the network could otherwise deploy a flow, that is, run code on the gateway.
 */
function authSettings(env, host) {
  const pair = (who) => {
    const user = env[`EDGEVISION_${who}_USER`];
    const pass = env[`EDGEVISION_${who}_PASSWORD`];
    if (!user && !pass) return null;
    if (!user || !pass) throw new Error(`set both EDGEVISION_${who}_USER and EDGEVISION_${who}_PASSWORD, or neither`);
    return { user, hash: bcryptHash(pass) };
  };
  const admin = pair('ADMIN');
  const viewer = pair('VIEWER');
  const operator = pair('OPERATOR');
  if (viewer && !admin) throw new Error('EDGEVISION_VIEWER_USER needs EDGEVISION_ADMIN_USER and EDGEVISION_ADMIN_PASSWORD too');
  if (operator && !admin) throw new Error('EDGEVISION_OPERATOR_USER needs EDGEVISION_ADMIN_USER and EDGEVISION_ADMIN_PASSWORD too');
  if (!admin) {
    if (!LOOPBACK.has(host)) {
      throw new Error(
        `HOST=${host} makes the editor reachable from other machines, where anyone could deploy a flow and so run code on this gateway; ` +
          'set EDGEVISION_ADMIN_USER and EDGEVISION_ADMIN_PASSWORD (a password or a bcrypt hash) to turn on logins, or keep HOST=127.0.0.1',
      );
    }
    return {};
  }
  /** @type {{ username: string, password: string, permissions: string | string[] }[]} */
  const users = [{ username: admin.user, password: admin.hash, permissions: '*' }];
  if (viewer) users.push({ username: viewer.user, password: viewer.hash, permissions: 'read' });
  if (operator)
    users.push({ username: operator.user, password: operator.hash, permissions: ['read', 'vision-line-count.write', 'vision-productivity-state.write'] });
  const bcrypt = bcryptModule();
  // Basic auth on the dashboard and video routes, for either login. A hash is checked once per
  // user and password seen, so an MJPEG viewer reconnecting does not cost a bcrypt round each time.
  const known = new Map();
  const allowed = (header) => {
    const m = /^Basic\s+(.+)$/i.exec(header || '');
    if (!m) return false;
    const [u, ...rest] = Buffer.from(m[1], 'base64').toString('utf8').split(':');
    const pw = rest.join(':');
    const key = `${u}\u0000${pw}`;
    let ok = known.get(key);
    if (ok === undefined) {
      const who = users.find((x) => x.username === u);
      ok = !!who && bcrypt.compareSync(pw, who.password);
      if (known.size > 100) known.clear();
      known.set(key, ok);
    }
    return ok;
  };
  const httpNodeAuth = (req, res, next) => {
    if (allowed(req.headers.authorization)) return next();
    res.set('WWW-Authenticate', 'Basic realm="Edge Vision"').status(401).send('login required');
  };
  // The dashboard's socket.io connection does not pass through Express: check it there too.
  const ioMiddleware = (socket, next) => (allowed(socket.request.headers.authorization) ? next() : next(new Error('login required')));
  return { adminAuth: { type: 'credentials', users }, httpNodeAuth, ioMiddleware };
}

/** Resolves once a probe server could listen on host:port (and has let go of it). */
function checkPortFree(port, host) {
  return new Promise((resolve, reject) => {
    const probe = http.createServer();
    probe.once('error', reject);
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
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
  const port = opts.port !== undefined ? opts.port : Number(process.env.PORT || 1880);
  const host = opts.host || process.env.HOST || '127.0.0.1';
  const { ioMiddleware, ...auth } = authSettings(process.env, host);
  const base = require('./settings.js');
  const settings = { ...base, ...auth, userDir, flowFile, ...(opts.settings || {}) };
  // Both dashboards' socket.io connections bypass Express: Dashboard 1 reads settings.ui, 2.0 settings.dashboard.
  if (ioMiddleware) {
    settings.ui = { ...(settings.ui || {}), ioMiddleware };
    settings.dashboard = { ...(settings.dashboard || {}), ioMiddleware };
  }
  if (!LOOPBACK.has(host) && !settings.credentialSecret) {
    console.warn(
      '[edgevision] reachable from other machines without EDGEVISION_CREDENTIAL_SECRET: stored credentials are encrypted with a generated key kept in the user dir',
    );
  }
  // A port already taken fails now, before any camera or model starts.
  if (port !== 0) await checkPortFree(port, host);
  const app = express();
  const server = http.createServer(app);
  RED.init(server, settings);
  app.use(settings.httpAdminRoot || '/', RED.httpAdmin);
  // Embedded, Node-RED leaves httpNodeAuth to the host app (red.js mounts it the same way).
  if (settings.httpNodeAuth) app.use(settings.httpNodeRoot || '/', settings.httpNodeAuth);
  app.use(settings.httpNodeRoot || '/', RED.httpNode);
  // Like Node-RED's own red.js, listen only once the runtime has started and the flows are in
  // place: a browser that asks for /ui/ (a kiosk reloading every second) or reconnects a websocket
  // while Node-RED is still starting can then never reach a half-started runtime.
  await RED.start();
  if (seeded) await seedInfluxSecretRefs(RED);
  else await flowsLoaded(RED);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(null));
  }).catch(async (e) => {
    await RED.stop();
    throw e;
  });
  const actual = /** @type {import('net').AddressInfo} */ (server.address()).port;
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

module.exports = { startGateway, applyDemoDefaults, gatewayUserDir, authSettings, selectDashboards, dashboardChoice };
