#!/usr/bin/env node
'use strict';
// The architecture, checked: nodes/lib/ is the engine and imports nothing outside it; cli/ imports
// the engine (and itself), never a node's glue; nodes/shared/ is glue shared by the nodes and may use
// the engine; and no file takes part in an import loop. Reads the TypeScript sources' relative
// imports (import … from, export … from, require(), import()), nothing else. `npm run check:imports`
// prints the verdict; test/unit/import-graph.test.js runs the same check in `npm test`.
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const SPEC = /(?:\bfrom\s*|\brequire\s*\(\s*|\bimport\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

function sources(dir) {
  const out = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(rel));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

function resolve(from, spec) {
  const base = path.normalize(path.join(path.dirname(from), spec));
  for (const c of [base + '.ts', path.join(base, 'index.ts'), base.replace(/\.js$/, '.ts')]) {
    if (fs.existsSync(path.join(ROOT, c))) return c;
  }
  return null; // a .js/.json/.html asset or a generated file: not a source edge
}

/** Every file's imports, as repository-relative paths. */
function graph() {
  const files = [...sources('nodes'), ...sources('cli')];
  const edges = new Map();
  for (const f of files) {
    const text = fs.readFileSync(path.join(ROOT, f), 'utf8');
    const to = new Set();
    for (const m of text.matchAll(SPEC)) {
      const r = resolve(f, m[1]);
      if (r) to.add(r);
    }
    edges.set(f, [...to].sort());
  }
  return edges;
}

const area = (f) => (f.startsWith('nodes/lib/') ? 'lib' : f.startsWith('cli/') ? 'cli' : f.startsWith('nodes/shared/') ? 'shared' : 'node');

/** Imports that break the layering, as "from -> to" lines. */
function layerViolations(edges) {
  const allowed = { lib: ['lib'], cli: ['cli', 'lib'], shared: ['shared', 'lib'], node: ['node', 'shared', 'lib'] };
  const out = [];
  for (const [from, tos] of edges) for (const to of tos) if (!allowed[area(from)].includes(area(to))) out.push(`${from} -> ${to}`);
  return out;
}

/** Import loops (strongly connected components of more than one file, or a file importing itself). */
function cycles(edges) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const out = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) || []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (edges.get(v) || []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return out;
}

function check() {
  const edges = graph();
  return { files: edges.size, layers: layerViolations(edges), cycles: cycles(edges) };
}

module.exports = { check, graph };

if (require.main === module) {
  const r = check();
  for (const l of r.layers) console.log(`layering: ${l}`);
  for (const c of r.cycles) console.log(`import loop: ${c.join(' <-> ')}`);
  console.log(`${r.files} files: ${r.layers.length} layering violations, ${r.cycles.length} import loops`);
  process.exit(r.layers.length || r.cycles.length ? 1 : 0);
}
