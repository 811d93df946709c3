'use strict';
// The architecture, checked on the sources: nodes/lib/ imports nothing outside the engine, cli/ never
// a node's glue, nodes/shared/ only the engine, and no file takes part in an import loop.
const assert = require('assert');
const { check } = require('../../scripts/check-imports.js');

describe('import graph (scripts/check-imports.js)', function () {
  const r = check();

  it('reads the sources of nodes/ and cli/', function () {
    assert.ok(r.files > 50, `only ${r.files} files read`);
  });

  it('has no layering violations', function () {
    assert.deepStrictEqual(r.layers, []);
  });

  it('has no import loops', function () {
    assert.deepStrictEqual(r.cycles, []);
  });
});
