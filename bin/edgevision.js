#!/usr/bin/env node
'use strict';
// The CLI is compiled TypeScript; `npm run build` (part of npm test and npm start) makes dist/.
let main;
try {
  ({ main } = require('../dist/cli/main.js'));
} catch (e) {
  console.error('edgevision: dist/ is missing or stale — run "npm run build" first.\n' + e.message);
  process.exit(2);
}
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error('edgevision: ' + (err && err.message ? err.message : String(err)));
    process.exit(1);
  },
);
