#!/usr/bin/env bash
# The node tests and the end-to-end tests that load our nodes into Node-RED, on another Node-RED and
# Node.js than the devDependency (Node-RED 4) and this machine's Node 20, which `npm test` uses:
#   npm run test:nr5 [-- mocha files…]          Node-RED 5 on Node 22 (Node-RED 5 refuses Node 20)
#   npm run test:nr4-node22 [-- mocha files…]   Node-RED 4 on Node 22
#   npm run test:nr3 [-- mocha files…]          Node-RED 3.1 on Node 20 (the oldest package.json claims)
# EDGEVISION_TEST_NODE_RED and EDGEVISION_TEST_NODE pick the versions (npm ranges). Node.js, Node-RED
# and the dashboard are installed from the npm registry into a prefix (EDGEVISION_TEST_PREFIX, default
# $TMPDIR/edgevision-node-red-<range>-node-<range>) and reused for a week while it was installed for
# the same ranges, so a new release in the range is tested within a week.
# test/helpers/node-red-override.js makes `node-red` and `@node-red/*` resolve from that prefix.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

NODE_RANGE=${EDGEVISION_TEST_NODE:?set EDGEVISION_TEST_NODE (e.g. 22), or use npm run test:nr5 / test:nr4-node22 / test:nr3}
RED_RANGE=${EDGEVISION_TEST_NODE_RED:?set EDGEVISION_TEST_NODE_RED (e.g. 5)}
PREFIX=${EDGEVISION_TEST_PREFIX:-${TMPDIR:-/tmp}/edgevision-node-red-$RED_RANGE-node-$NODE_RANGE}
TAG="node-red $RED_RANGE / node $NODE_RANGE"
# The dashboards are devDependencies too: the gateway app finds them beside node-red (the demo flow
# has both: Dashboard 1 at /ui, Dashboard 2.0 at /dashboard).
DASH_RANGE=$(node -p "require('./package.json').devDependencies['node-red-dashboard']")
DASH2_RANGE=$(node -p "require('./package.json').devDependencies['@flowfuse/node-red-dashboard']")

mkdir -p "$PREFIX"
want="node@$NODE_RANGE node-red@$RED_RANGE node-red-dashboard@$DASH_RANGE @flowfuse/node-red-dashboard@$DASH2_RANGE"
if [ "$(cat "$PREFIX/.wanted" 2>/dev/null)" != "$want" ] || [ -z "$(find "$PREFIX/.wanted" -mtime -7 2>/dev/null)" ] || [ ! -x "$PREFIX/node_modules/node/bin/node" ] || [ ! -f "$PREFIX/node_modules/node-red/package.json" ]; then
  echo "$TAG: installing $want into $PREFIX"
  rm -rf "$PREFIX/node_modules" "$PREFIX/package.json" "$PREFIX/package-lock.json" "$PREFIX/.wanted"
  # shellcheck disable=SC2086
  npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error $want
  echo "$want" >"$PREFIX/.wanted"
fi

# EDGEVISION_SKIP_BUILD=1 (set by .ci/run after `npm test` built this tree) runs the dist/ there is.
if [ "${EDGEVISION_SKIP_BUILD:-}" != 1 ] || [ ! -f dist/nodes/lib/index.js ]; then
  npm run build --silent
fi

NODE_BIN="$PREFIX/node_modules/node/bin/node"
export PATH="$(dirname "$NODE_BIN"):$PATH"
export EDGEVISION_NODE_RED="$PREFIX"
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--require $ROOT/test/helpers/node-red-override.js"

# What the tests will load, checked before they run: a silent fall-back to the devDependency or to
# this machine's Node would pass for the wrong reason.
node -e "
  const major = (r) => String(r).replace(/^\D*/, '').split('.')[0];
  const v = require('node-red/package.json').version;
  const ok = major(v) === major('$RED_RANGE') && major(process.versions.node) === major('$NODE_RANGE');
  const from = require.resolve('node-red');
  if (!ok || !from.startsWith('$PREFIX/')) { console.error('$TAG: expected node-red $RED_RANGE on Node $NODE_RANGE from $PREFIX, got ' + v + ' (' + from + ') on ' + process.version); process.exit(1); }
  console.log('$TAG: node-red ' + v + ' (' + from + ') on Node.js ' + process.version);
"

if [ $# -eq 0 ]; then
  # Each node in the runtime, every example flow, the editor's dialogs, and the gateway app with the
  # dashboard in Chromium across a restart. The Dashboard 2.0 widgets are in the node tests, the
  # examples and the dialogs; their browser test (dashboard2.test.js, ~1 min) and gateway-dashboard.test.js
  # (the 75 s demo) run on request: npm run test:nr5 -- test/e2e/dashboard2.test.js
  # Left to the main run: hostile-input's 20 000-topic floods, which check our own per-camera bounds
  # (CameraTable) and take ~90 % of that file's time; every other hostile input still runs here.
  set -- 'test/nodes/**/*.test.js' test/e2e/examples.test.js test/e2e/influx-editor.test.js test/e2e/editor-roundtrip.test.js test/e2e/drawing-board.test.js test/e2e/gateway-restart.test.js \
    --grep '^hostile input: .* 20 000 distinct (topics|cameras)' --invert
fi
exec node node_modules/mocha/bin/mocha.js "$@"
