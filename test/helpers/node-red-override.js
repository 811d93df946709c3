'use strict';
// Runs the tests against another Node-RED than the devDependency (`npm run test:nr5`,
// `test:nr4-node22`, `test:nr3`: test/helpers/other-node-red.sh). With EDGEVISION_NODE_RED set to an
// npm prefix (a folder whose node_modules holds node-red), `node-red`, `node-red/…` and `@node-red/…`
// resolve from that prefix, wherever they are required or require.resolve'd:
// helper.init(require.resolve('node-red')), the core nodes the tests wire in, the gateway app
// (flows/gateway.js) and the child processes the tests start (NODE_OPTIONS carries this file).
// Without the variable it does nothing, so `npm test` is unchanged.
const path = require('path');

const prefix = process.env.EDGEVISION_NODE_RED;
if (prefix) {
  // Module._resolveFilename is Node's internal resolver, absent from its published types.
  const Module = /** @type {any} */ (require('module'));
  const modules = path.resolve(prefix, 'node_modules');
  const from = path.join(modules, 'node-red', 'package.json');
  try {
    require.resolve(from);
  } catch {
    throw new Error(`EDGEVISION_NODE_RED=${prefix}: no node-red there (${from}); install one: npm i --prefix ${prefix} node-red@5`);
  }
  const ours = (s) => s === 'node-red' || s.startsWith('node-red/') || s.startsWith('@node-red/');
  // Node-RED's own requires are left alone: they already resolve inside the prefix.
  const outside = (parent) => !(parent && parent.filename && parent.filename.startsWith(modules + path.sep));
  // Module._resolveFilename is what both require() and require.resolve() go through (also on Node 22,
  // where module.registerHooks does not see require.resolve).
  const original = Module._resolveFilename;
  Module._resolveFilename = function (request, parent, isMain, options) {
    if (ours(request) && outside(parent)) return original.call(this, request, parent, isMain, { ...(options || {}), paths: [modules] });
    return original.call(this, request, parent, isMain, options);
  };
}
