#!/usr/bin/env node
'use strict';
// Puts ONNX Runtime's Node.js binding into vendor/onnxruntime-node/, from the npm registry's
// onnxruntime-node tarball (version and sha512 pinned in package.json "edgevision.onnxruntime"),
// without its install script.
//
// Why: onnxruntime-node's postinstall downloads CUDA libraries from NuGet on every Linux x64
// install, whether the machine has a GPU or not. Offline (only the npm registry reachable) that
// fails the whole `npm install`; online it costs hundreds of MB that CPU users never use. A
// dependency cannot turn that off for its users (npm reads no .npmrc from a dependency), so the
// package carries the binding itself: the same files as the registry's tarball (the JS, every
// platform's prebuilt binary), minus script/ (the downloader) and lib/ (TypeScript sources). The GPU
// provider libraries stay an opt-in step (README, "GPU gateways").
//
// Runs as part of `prepare` (npm install in a checkout, git installs) and `prepack`. Idempotent: a
// vendored copy of the pinned version is left alone.
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { execFileSync } = require('child_process');

const ROOT = path.join(__dirname, '..');
const DEST = path.join(ROOT, 'vendor', 'onnxruntime-node');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const { version, integrity } = (pkg.edgevision && pkg.edgevision.onnxruntime) || {};
if (!version || !integrity) throw new Error('package.json: "edgevision.onnxruntime" needs {version, integrity}');
// Bumped when what is kept changes, so an older vendored copy is redone.
const LAYOUT = 2;
const common = pkg.dependencies && pkg.dependencies['onnxruntime-common'];
if (common !== version) {
  throw new Error(`package.json: dependency onnxruntime-common must be exactly ${version} (the vendored binding's own), is ${common}`);
}

function present() {
  try {
    const p = JSON.parse(fs.readFileSync(path.join(DEST, 'package.json'), 'utf8'));
    const bin = path.join(DEST, 'bin', 'napi-v6');
    return p.version === version && p.edgevision && p.edgevision.integrity === integrity && p.edgevision.layout === LAYOUT && fs.existsSync(bin);
  } catch {
    return false;
  }
}

function npm(args, cwd) {
  // Inside an npm script, npm_execpath is the npm that runs us (same registry, cache and proxy).
  const cli = process.env.npm_execpath;
  const [cmd, pre] = cli && /\.c?js$/.test(cli) ? [process.execPath, [cli]] : [process.platform === 'win32' ? 'npm.cmd' : 'npm', []];
  return execFileSync(cmd, [...pre, ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    shell: process.platform === 'win32' && !pre.length,
  });
}

function sri(file) {
  return 'sha512-' + crypto.createHash('sha512').update(fs.readFileSync(file)).digest('base64');
}

async function main() {
  if (present()) return;
  const tar = require('tar');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-ort-'));
  try {
    console.log(`[vendor-onnxruntime] fetching onnxruntime-node@${version} from the npm registry (no install script)…`);
    const out = JSON.parse(npm(['pack', `onnxruntime-node@${version}`, '--json', '--pack-destination', tmp, '--ignore-scripts'], tmp));
    const tgz = path.join(tmp, out[0].filename);
    const got = sri(tgz);
    if (got !== integrity) throw new Error(`onnxruntime-node@${version}: sha512 ${got} does not match package.json's ${integrity}`);
    const x = path.join(tmp, 'x');
    fs.mkdirSync(x);
    // Only what runs: the JS and the prebuilt binaries. script/ is the CUDA downloader, lib/ the TS
    // sources (so the source maps, which point there, go too).
    await tar.x({ file: tgz, cwd: x, strip: 1, filter: (p) => /^package\/(package\.json|README\.md|dist\/|bin\/)/.test(p) && !p.endsWith('.map') });
    const orig = JSON.parse(fs.readFileSync(path.join(x, 'package.json'), 'utf8'));
    const slim = {
      name: orig.name,
      version: orig.version,
      description: orig.description,
      license: orig.license,
      repository: orig.repository,
      main: orig.main,
      types: orig.types,
      // The binding needs only onnxruntime-common, which is our own dependency at the same version.
      dependencies: { 'onnxruntime-common': orig.dependencies['onnxruntime-common'] },
      edgevision: {
        integrity,
        layout: LAYOUT,
        note: 'Vendored by @edgevision/node-red-vision (scripts/vendor-onnxruntime.js) from the npm registry tarball; script/ (the CUDA downloader) and lib/ (sources) left out.',
      },
    };
    fs.writeFileSync(path.join(x, 'package.json'), JSON.stringify(slim, null, 2) + '\n');
    fs.writeFileSync(
      path.join(x, 'LICENSE'),
      'ONNX Runtime (onnxruntime-node) — MIT License\n\nCopyright (c) Microsoft Corporation\n\n' +
        'Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the "Software"), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:\n\n' +
        'The above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.\n\n' +
        'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.\n',
    );
    // A GPU user's provider libraries beside the old binary belong to the old version: they go too.
    fs.mkdirSync(path.dirname(DEST), { recursive: true });
    const old = DEST + '.old-' + process.pid;
    if (fs.existsSync(DEST)) fs.renameSync(DEST, old);
    fs.renameSync(x, DEST);
    fs.rmSync(old, { recursive: true, force: true });
    console.log(`[vendor-onnxruntime] onnxruntime-node@${version} → ${path.relative(ROOT, DEST)}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`[vendor-onnxruntime] ${e.message}`);
  process.exit(1);
});
