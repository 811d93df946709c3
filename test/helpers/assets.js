'use strict';
// Where tests find real data: the folder named by EDGEVISION_ASSETS (see test/setup.js). Files the
// manifest names (models, the demo clip) are found by the same resolver the nodes and the CLI use;
// data sets that no user downloads (MOTChallenge, test images) are read from the folder directly.
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { loadManifest, resolveAsset } = require('../../dist/nodes/lib/assets.js');

function assetsDir() {
  const dir = process.env.EDGEVISION_ASSETS;
  if (!dir || !fs.existsSync(dir)) {
    throw new Error('EDGEVISION_ASSETS must name the shared assets folder (models, video, mot15); .ci/run sets it');
  }
  return dir;
}

/** Absolute path of a file under the assets folder, e.g. asset('video/vtest.avi'). */
function asset(rel) {
  const dir = assetsDir();
  const entry = loadManifest().assets.find((a) => a.sharedPath === rel);
  if (entry) return resolveAsset(entry.name);
  const p = path.join(dir, rel);
  if (!fs.existsSync(p)) throw new Error(`test asset missing: ${p}`);
  return p;
}

/**
 * The first `seconds` of an assets clip (e.g. 'video/vtest.avi'), cut with ffmpeg into `out` (H.264,
 * no audio): a short replay for a test.
 * @param {string} rel
 * @param {number} seconds
 * @param {string} out
 */
function cutClip(rel, seconds, out) {
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-i',
    asset(rel),
    '-t',
    String(seconds),
    '-an',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-crf',
    '18',
    out,
  ];
  execFileSync('ffmpeg', args);
  return out;
}

module.exports = { assetsDir, asset, cutClip };
