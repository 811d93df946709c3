'use strict';
// tsc compiles nodes/<type>/<type>.ts to dist/nodes/<type>/<type>.js; Node-RED (and the Flow Library
// validator) look for <type>.html, locales/ and icons/ beside that .js, so copy them there.
const fs = require('fs');
const path = require('path');
const root = path.join(__dirname, '..');
const src = path.join(root, 'nodes');
const dst = path.join(root, 'dist', 'nodes');
for (const type of fs.readdirSync(src)) {
  const from = path.join(src, type);
  if (!fs.statSync(from).isDirectory() || type === 'lib' || type === 'shared') continue;
  const to = path.join(dst, type);
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from)) {
    if (entry.endsWith('.html') || entry === 'locales' || entry === 'icons') {
      fs.cpSync(path.join(from, entry), path.join(to, entry), { recursive: true });
    }
  }
}
