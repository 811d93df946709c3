'use strict';
// tsc compiles nodes/<type>/<type>.ts to dist/nodes/<type>/<type>.js; Node-RED (and the Flow Library
// validator) look for <type>.html, locales/ and icons/ beside that .js, so copy them there.
const fs = require('fs');
const path = require('path');
const root = path.join(__dirname, '..');
const src = path.join(root, 'nodes');
const dst = path.join(root, 'dist', 'nodes');
// Editor code shared by several nodes' dialogs (nodes/shared/editor/*.js) is written into each
// dialog's HTML where it says <script type="text/javascript" data-inline="NAME.js"></script>, so
// every node's HTML stands alone: no extra request that could fail (Node-RED waits for a <script src>
// that never loads, and the module's nodes never register).
const SHARED_EDITOR = path.join(src, 'shared', 'editor');
const INLINE = /<script type="text\/javascript" data-inline="([\w.-]+)"><\/script>/g;
function inlineShared(html, file) {
  return html.replace(INLINE, (_, name) => {
    const code = fs.readFileSync(path.join(SHARED_EDITOR, name), 'utf8');
    if (code.includes('</script')) throw new Error(`${name} (inlined into ${file}) must not contain "</script"`);
    return `<script type="text/javascript">\n${code}</script>`;
  });
}

for (const type of fs.readdirSync(src)) {
  const from = path.join(src, type);
  if (!fs.statSync(from).isDirectory() || type === 'lib' || type === 'shared') continue;
  const to = path.join(dst, type);
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from)) {
    if (entry.endsWith('.html')) {
      fs.writeFileSync(path.join(to, entry), inlineShared(fs.readFileSync(path.join(from, entry), 'utf8'), entry));
    } else if (entry === 'locales' || entry === 'icons') {
      fs.cpSync(path.join(from, entry), path.join(to, entry), { recursive: true });
    }
  }
}

// The dashboard drawing board (nodes/shared/board.ts) serves the editor's board and the widget around
// it from beside its own .js: dist/nodes/shared/{editor,dashboard}/*.js.
for (const dir of ['editor', 'dashboard']) {
  const from = path.join(src, 'shared', dir);
  if (!fs.existsSync(from)) continue;
  const to = path.join(dst, 'shared', dir);
  fs.mkdirSync(to, { recursive: true });
  for (const f of fs.readdirSync(from)) if (f.endsWith('.js')) fs.copyFileSync(path.join(from, f), path.join(to, f));
}

// The label font (and its licence) that nodes/lib/view/glyphs.ts reads beside its .js.
fs.cpSync(path.join(src, 'lib', 'view', 'fonts'), path.join(dst, 'lib', 'view', 'fonts'), { recursive: true });
