'use strict';
// Headless Chromium for the editor and dashboard tests: Debian's chromium driven by playwright-core,
// always with the same flags (headless, no sandbox as root, no GPU, no background network traffic).
const { which } = require('../../dist/cli/local-servers');

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/** The chromium binary; throws with the package to install when there is none (call it before starting servers). */
function chromiumPath() {
  const found = which('chromium') || which('chromium-browser');
  if (!found) throw new Error('chromium not found on PATH (apt package chromium)');
  return found;
}

/** A playwright-core Browser; the caller closes it. */
function launchChromium() {
  const { chromium } = require('playwright-core');
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_FLAGS });
}

module.exports = { chromiumPath, launchChromium, CHROMIUM_FLAGS };
