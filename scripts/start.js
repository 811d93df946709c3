#!/usr/bin/env node
'use strict';
// `npm start`: the gateway app (Node-RED + these nodes + the demo flow + the dashboard).
// PORT (default 1880), HOST (default 127.0.0.1; 0.0.0.0 to reach it from other machines),
// EDGEVISION_USER_DIR (default .node-red/), EDGEVISION_RESET_FLOWS=1 to reload flows/demo.json.
// The demo's model and clip are fetched on first start (EDGEVISION_ASSETS_FROM: copy from a folder).
const { startGateway } = require('../flows/gateway.js');
const { resolveAsset } = require('../dist/nodes/lib/assets.js');
const { fetchAssets } = require('../dist/nodes/lib/fetch-assets.js');

async function ensureDemoAssets() {
  if (process.env.EDGEVISION_SOURCE && process.env.EDGEVISION_MODEL) return;
  try {
    resolveAsset('vtest');
    resolveAsset('yolox_nano');
    return;
  } catch {
    console.log('[edgevision] demo assets missing: fetching them (npm run fetch-assets)…');
  }
  const results = await fetchAssets({ from: process.env.EDGEVISION_ASSETS_FROM, log: (l) => console.log('[edgevision] ' + l) });
  if (results.some((r) => r.outcome === 'failed')) {
    console.log('[edgevision] starting anyway: the camera node will show what is missing.');
  }
}

ensureDemoAssets()
  .then(() => startGateway({ resetFlows: process.env.EDGEVISION_RESET_FLOWS === '1' }))
  .then(
    (g) => {
      console.log(`\nEdge Vision gateway: editor ${g.url}/  dashboard ${g.url}/ui/\n`);
      const stop = () => g.stop().then(() => process.exit(0));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    },
    (err) => {
      console.error('gateway failed to start: ' + (err && err.stack ? err.stack : err));
      process.exit(1);
    },
  );
