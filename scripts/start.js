#!/usr/bin/env node
'use strict';
// `npm start`: the gateway app (Node-RED + these nodes + the demo flow + the dashboard).
// PORT (default 1880), HOST (default 127.0.0.1; 0.0.0.0 to reach it from other machines),
// EDGEVISION_USER_DIR (default .node-red/), EDGEVISION_RESET_FLOWS=1 to reload flows/demo.json.
const { startGateway } = require('../flows/gateway.js');

startGateway({ resetFlows: process.env.EDGEVISION_RESET_FLOWS === '1' }).then(
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
