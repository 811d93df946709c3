#!/usr/bin/env bash
# `npm run test:nr5 [-- mocha files…]`: the node tests and the end-to-end tests that load our nodes into
# Node-RED, run on Node-RED 5 and Node 22 (Node-RED 5 refuses Node 20). The devDependency stays
# Node-RED 4, so `npm test` (Node 20) is unchanged. Node 22, Node-RED 5 and the dashboard are installed
# from the npm registry into a prefix beside the checkout (EDGEVISION_NR5_PREFIX, default
# $TMPDIR/edgevision-nr5), and reused for a week while it was installed for the same ranges (so a
# new 5.x release is tested within a week). Other versions: EDGEVISION_NR5_NODE_RED and
# EDGEVISION_NR5_NODE (`npm run test:nr3` sets 3 and 20, with its own prefix).
# test/helpers/node-red-override.js makes `node-red` and `@node-red/*` resolve from that prefix.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

NODE_RANGE=${EDGEVISION_NR5_NODE:-22}
RED_RANGE=${EDGEVISION_NR5_NODE_RED:-5}
PREFIX=${EDGEVISION_NR5_PREFIX:-${TMPDIR:-/tmp}/edgevision-nr5}
# The dashboard is a devDependency too: the gateway app finds it beside node-red.
DASH_RANGE=$(node -p "require('./package.json').devDependencies['node-red-dashboard']")

mkdir -p "$PREFIX"
want="node@$NODE_RANGE node-red@$RED_RANGE node-red-dashboard@$DASH_RANGE"
if [ "$(cat "$PREFIX/.wanted" 2>/dev/null)" != "$want" ] || [ -z "$(find "$PREFIX/.wanted" -mtime -7 2>/dev/null)" ] || [ ! -x "$PREFIX/node_modules/node/bin/node" ] || [ ! -f "$PREFIX/node_modules/node-red/package.json" ]; then
  echo "nr5: installing $want into $PREFIX"
  rm -rf "$PREFIX/node_modules" "$PREFIX/package.json" "$PREFIX/package-lock.json" "$PREFIX/.wanted"
  # shellcheck disable=SC2086
  npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error $want
  echo "$want" >"$PREFIX/.wanted"
fi

npm run build --silent

NODE22="$PREFIX/node_modules/node/bin/node"
export PATH="$(dirname "$NODE22"):$PATH"
export EDGEVISION_NODE_RED="$PREFIX"
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--require $ROOT/test/helpers/node-red-override.js"

# What the tests will load, checked before they run: a silent fall-back to Node-RED 4 would pass.
node -e "
  const major = (r) => String(r).replace(/^\D*/, '').split('.')[0];
  const v = require('node-red/package.json').version;
  const ok = major(v) === major('$RED_RANGE') && major(process.versions.node) === major('$NODE_RANGE');
  if (!ok) { console.error('nr5: expected node-red $RED_RANGE on Node $NODE_RANGE, got ' + v + ' on ' + process.version); process.exit(1); }
  console.log('nr5: node-red ' + v + ' (' + require.resolve('node-red') + ') on Node.js ' + process.version);
"

if [ $# -eq 0 ]; then
  # Each node in the runtime, every example flow, the editor's dialogs, and the gateway app with the
  # dashboard in Chromium across a restart. (gateway-dashboard.test.js, the 75 s demo, on request.)
  set -- 'test/nodes/**/*.test.js' test/e2e/examples.test.js test/e2e/influx-editor.test.js test/e2e/editor-roundtrip.test.js test/e2e/gateway-restart.test.js
fi
exec node node_modules/mocha/bin/mocha.js "$@"
