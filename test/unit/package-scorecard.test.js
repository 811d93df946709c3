'use strict';
// What the Node-RED Flow Library's scorecard and a palette user check of package.json and the
// README, kept true by a test: licence, repository, scoped name, the node-red keyword and version,
// engines, an example per node, few dependencies, none that downloads at install time, and README
// links that still work when npm or the Flow Library shows the README (absolute, not relative).
const assert = require('assert');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..', '..');
const pkg = require('../../package.json');

describe('package: the Flow Library scorecard and a palette install', () => {
  it('licence, repository, bugs, homepage, scoped name, node-red keyword', () => {
    assert.strictEqual(pkg.license, 'Apache-2.0');
    assert.ok(fs.existsSync(path.join(ROOT, 'LICENSE')));
    assert.match(pkg.repository.url, /^git\+https:\/\/github\.com\/.+\.git$/);
    assert.match(pkg.bugs.url, /^https:\/\/github\.com\/.+\/issues$/);
    assert.match(pkg.homepage, /^https:\/\//);
    assert.match(pkg.name, /^@[a-z0-9-]+\/node-red-[a-z0-9-]+$/);
    assert.ok(pkg.keywords.includes('node-red'));
  });

  it('node-red.version and engines are declared', () => {
    assert.match(pkg['node-red'].version, /^>=\d/);
    assert.match(pkg.engines.node, /^>=\d/);
  });

  it('every node has its .ts glue, .html editor and help, and appears in an example', () => {
    const examples = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.json'));
    const used = new Set(examples.flatMap((f) => JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', f), 'utf8')).map((n) => n.type)));
    for (const [type, js] of Object.entries(pkg['node-red'].nodes)) {
      const src = path.join(ROOT, js.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
      assert.ok(fs.existsSync(src), src);
      const dir = path.dirname(src);
      const base = path.basename(src, '.ts');
      assert.ok(fs.existsSync(path.join(dir, `${base}.html`)), `${type}: editor`);
      assert.ok(fs.existsSync(path.join(dir, 'locales', 'en-US', `${base}.html`)), `${type}: help`);
      assert.ok(used.has(type), `${type}: an example uses it`);
    }
  });

  it('at most 6 dependencies, none with an install script that downloads', () => {
    const deps = Object.keys(pkg.dependencies);
    assert.ok(deps.length <= 6, `dependencies: ${deps.join(', ')}`);
    assert.ok(!deps.includes('onnxruntime-node'), 'onnxruntime-node downloads CUDA libraries at install: it is vendored instead');
    for (const d of deps) {
      const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', d, 'package.json'), 'utf8')).scripts || {};
      assert.deepStrictEqual(
        ['preinstall', 'install', 'postinstall'].filter((s) => scripts[s]),
        [],
        `${d} runs no install script`,
      );
    }
  });

  it('the README works outside GitHub: links and pictures are absolute', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const relative = [...readme.matchAll(/!?\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]).filter((u) => !/^(https?:|#|mailto:)/.test(u));
    assert.deepStrictEqual(relative, []);
    // Its install section starts with the palette manager, then npm in the user dir, then the gateway.
    const install = readme.indexOf('## Install');
    const order = ['Palette manager', 'npm, in your Node-RED user dir', 'Quick start: the gateway app'].map((t) => readme.indexOf(t, install));
    assert.ok(install > 0 && order.every((i, k) => i > install && (k === 0 || i > order[k - 1])), `install section order: ${order}`);
  });
});
