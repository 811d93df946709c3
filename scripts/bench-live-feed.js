'use strict';
// What the dashboard widgets' in-process feed (nodes/shared/live-feed.ts) costs a vision node per
// frame: publishLive() with no widget subscribed, and with one (whose handler only counts). A figure,
// not a test: `npm run build && node scripts/bench-live-feed.js`.
const { publishLive, subscribeLive } = require('../dist/nodes/shared/live-feed.js');

const item = { frame: { camera: 'cam1' } };
function perCall(n) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) publishLive('bench-node', item);
  return Number(process.hrtime.bigint() - t) / n;
}

perCall(1e6); // warm-up
const none = perCall(2e6);
let delivered = 0;
const stop = subscribeLive('bench-node', () => delivered++);
perCall(1e6);
const one = perCall(2e6);
stop();
console.log(`publishLive per frame (mean of 2e6 calls, ${process.version}):`);
console.log(`  no widget subscribed    ${none.toFixed(0)} ns   ×1.00`);
console.log(`  one widget subscribed   ${one.toFixed(0)} ns   ×${(one / none).toFixed(2)}   (${delivered} deliveries)`);
