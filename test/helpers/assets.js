'use strict';
// Where tests find real data: the folder named by EDGEVISION_ASSETS (see test/setup.js).
const fs = require('fs');
const path = require('path');

function assetsDir() {
  const dir = process.env.EDGEVISION_ASSETS;
  if (!dir || !fs.existsSync(dir)) {
    throw new Error('EDGEVISION_ASSETS must name the shared assets folder (models, video, mot15); .ci/run sets it');
  }
  return dir;
}

/** Absolute path of a file under the assets folder, e.g. asset('video/vtest.avi'). */
function asset(rel) {
  const p = path.join(assetsDir(), rel);
  if (!fs.existsSync(p)) throw new Error(`test asset missing: ${p}`);
  return p;
}

module.exports = { assetsDir, asset };
