#!/usr/bin/env node
'use strict';
// `npm start`: the gateway app (Node-RED + these nodes + the demo flow + the dashboard).
// PORT (default 1880), HOST (default 127.0.0.1; 0.0.0.0 to reach it from other machines),
// EDGEVISION_USER_DIR (default .node-red/), EDGEVISION_RESET_FLOWS=1 to reload flows/demo.json,
// EDGEVISION_DASHBOARD (both, 1 or 2: which dashboards a newly seeded demo has).
// The demo's model and clip are fetched on first start into <user dir>/edgevision/, where the nodes
// look for them (EDGEVISION_ASSETS_FROM: copy them from a folder instead of downloading).
const { startGateway, gatewayUserDir, dashboardChoice } = require('../flows/gateway.js');
const { fetchCommand, manifestEntry, resolveAsset, userAssetsDir } = require('../dist/nodes/lib/assets.js');
const { fetchAssets } = require('../dist/nodes/lib/fetch-assets.js');

async function ensureDemoAssets() {
  const userDir = gatewayUserDir();
  // Only what the demo will use: a source or model set to a path or URL needs no fetch.
  const wanted = [process.env.EDGEVISION_SOURCE || 'vtest', process.env.EDGEVISION_MODEL || 'yolox_nano'].filter((n) => manifestEntry(n));
  const missing = wanted.filter((n) => {
    try {
      resolveAsset(n, { userDir });
      return false;
    } catch {
      return true;
    }
  });
  if (!missing.length) return;
  console.log(`[edgevision] demo assets missing (${missing.join(', ')}): fetching them into ${userAssetsDir(userDir)}…`);
  const results = await fetchAssets({
    from: process.env.EDGEVISION_ASSETS_FROM,
    dest: userAssetsDir(userDir),
    log: (l) => console.log('[edgevision] ' + l),
    offlineHint: `Copy them from a machine that has them and run "${fetchCommand([], userDir, '<folder>')}", or start with EDGEVISION_ASSETS_FROM=<folder>.`,
  });
  if (results.some((r) => r.outcome === 'failed')) {
    console.log('[edgevision] starting anyway: the camera and detect nodes will show what is missing.');
  }
}

ensureDemoAssets()
  .then(() => startGateway({ resetFlows: process.env.EDGEVISION_RESET_FLOWS === '1' }))
  .then(
    (g) => {
      const which = dashboardChoice();
      const boards = [which !== '1' ? `Dashboard 2.0 ${g.url}/dashboard` : '', which !== '2' ? `Dashboard 1 ${g.url}/ui/` : ''].filter(Boolean);
      console.log(`\nEdge Vision gateway: editor ${g.url}/  ${boards.join('  ')}\n`);
      const stop = () => g.stop().then(() => process.exit(0));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    },
    (err) => {
      console.error('gateway failed to start: ' + (err && err.stack ? err.stack : err));
      process.exit(1);
    },
  );
