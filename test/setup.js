'use strict';
// Tests read real models, clips and MOTChallenge data from the folder named by EDGEVISION_ASSETS
// (.ci/run sets it to ../shared/assets). When it is unset and that folder sits beside the checkout,
// use it, so that a plain `npm test` in a developer checkout finds the same data as CI.
const fs = require('fs');
const path = require('path');
if (!process.env.EDGEVISION_ASSETS) {
  const beside = path.resolve(__dirname, '..', '..', 'shared', 'assets');
  if (fs.existsSync(beside)) process.env.EDGEVISION_ASSETS = beside;
}
