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

/** Seeds the user dir's flow file from flows/<flowName> when it has none (or when asked to reset). */
function seedFlows(userDir, flowFile, reset) {
  const target = path.join(userDir, 'flows.json');
  if (fs.existsSync(target) && !reset) return target;
  fs.copyFileSync(flowFile, target);
  return target;
}

/**
 * The demo flow reads its source, model and database from environment variables (Node-RED's ${VAR}
 * properties). With nothing set it runs the demo clip with the shipped model.
 */
function applyDemoDefaults(env = process.env) {
  const { resolveAsset } = require('../dist/nodes/lib/assets.js');
  const orMissing = (name) => {
    try {
      return resolveAsset(name);
    } catch (e) {
      console.warn(`[edgevision] ${e.message}`);
      return `models/${name} (missing: run npm run fetch-assets)`;
    }
  };
  if (!env.EDGEVISION_SOURCE) env.EDGEVISION_SOURCE = orMissing('vtest');
  if (!env.EDGEVISION_MODEL) env.EDGEVISION_MODEL = orMissing('yolox_nano');
  if (env.EDGEVISION_FPS === undefined) env.EDGEVISION_FPS = '7';
  if (env.EDGEVISION_CAMERA === undefined) env.EDGEVISION_CAMERA = 'cam1';
}

/**
 * Starts the gateway. Options: port (0 = any free port), host, userDir, flowFile (default
 * flows/demo.json), resetFlows, settings (merged over flows/settings.js). Resolves to
 * { RED, server, port, url, stop() }.
 */
async function startGateway(opts = {}) {
  applyDemoDefaults();
  const RED = require('node-red');
  const express = require('express');
  const userDir = path.resolve(opts.userDir || process.env.EDGEVISION_USER_DIR || path.join(ROOT, '.node-red'));
  fs.mkdirSync(userDir, { recursive: true });
  linkPackage(userDir);
  const flowFile = seedFlows(userDir, opts.flowFile || path.join(__dirname, 'demo.json'), !!opts.resetFlows);
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
  const actual = server.address().port;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actual}`;
  return {
    RED,
    server,
    port: actual,
    url,
    async stop() {
      await RED.stop();
      await new Promise((r) => server.close(() => r()));
    },
  };
}

module.exports = { startGateway, linkPackage, applyDemoDefaults };
