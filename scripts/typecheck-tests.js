#!/usr/bin/env node
'use strict';
// Type-checks the JavaScript tests (tsconfig.test.json: allowJs + checkJs over test/**/*.js) against
// the types the TypeScript sources declare. The tests require the compiled files
// (`require('../../dist/nodes/lib/…')`, which is what mocha runs). This script compiles the sources
// with their own options (tsconfig.json, strict) into declarations held in memory, and shows the
// test program those declarations at dist/**/*.d.ts in place of whatever a build left there.
// Why declarations and not the .ts files themselves: the sources are only correct under their own
// strict options, and the tests are checked under looser ones (strict is off for JavaScript that
// was never annotated), so the engine's types are fixed by its own compilation and then read.
// Why not the build's dist/**/*.d.ts: they exist only after `npm run build` and go stale without
// one; this needs no build and cannot read an old one. Prints the diagnostics (the sources' own
// first, then the tests') and exits 1 when there are any; `npm run lint` runs it.
const path = require('path');
const ts = require('typescript');

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist') + path.sep;

function parse(name, overrides) {
  const file = path.join(ROOT, name);
  const read = ts.readConfigFile(file, ts.sys.readFile);
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  return ts.parseJsonConfigFileContent(read.config, ts.sys, ROOT, overrides, file);
}

/** The sources' declarations, as the build would write them under dist/, kept in memory. */
function declarations() {
  const config = parse('tsconfig.json', { declaration: true, emitDeclarationOnly: true, noEmit: false });
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
  const files = new Map();
  const emitted = program.emit(undefined, (file, text) => files.set(path.normalize(file), text));
  const diagnostics = [...config.errors, ...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
  return { files, diagnostics };
}

function main() {
  const decl = declarations();
  const dirs = new Set();
  for (const f of decl.files.keys()) {
    for (let d = path.dirname(f); d.startsWith(ROOT) && !dirs.has(d); d = path.dirname(d)) dirs.add(d);
  }
  const config = parse('tsconfig.test.json');
  const host = ts.createCompilerHost(config.options);
  const inDist = (f) => path.normalize(f).startsWith(DIST);
  const isDecl = (f) => f.endsWith('.d.ts');
  const { fileExists, readFile, directoryExists, getSourceFile } = host;
  host.fileExists = (f) => (inDist(f) && isDecl(f) ? decl.files.has(path.normalize(f)) : fileExists.call(host, f));
  host.readFile = (f) => (inDist(f) && isDecl(f) ? decl.files.get(path.normalize(f)) : readFile.call(host, f));
  host.directoryExists = (d) => dirs.has(path.normalize(d)) || directoryExists.call(host, d);
  host.getSourceFile = (f, lang, onError, create) => {
    if (!(inDist(f) && isDecl(f))) return getSourceFile.call(host, f, lang, onError, create);
    const text = decl.files.get(path.normalize(f));
    return text === undefined ? undefined : ts.createSourceFile(f, text, lang);
  };
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options, host });
  return report([...decl.diagnostics, ...config.errors, ...ts.getPreEmitDiagnostics(program)]);
}

function report(diagnostics) {
  if (diagnostics.length === 0) return 0;
  const format = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => ROOT,
    getNewLine: () => ts.sys.newLine,
  };
  process.stdout.write(ts.formatDiagnostics(diagnostics, format));
  process.stdout.write(`\n${diagnostics.length} type error(s)\n`);
  return 1;
}

process.exitCode = main();
