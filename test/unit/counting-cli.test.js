'use strict';
// `edgevision count`: a MOTChallenge track file and a lines file in, counts out (--json shape as
// the issue specifies), clear errors and exit codes for bad input.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const BIN = path.join(__dirname, '..', '..', 'bin', 'edgevision.js');

function cli(args) {
  const r = spawnSync(process.execPath, [BIN, 'count', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('edgevision count (CLI)', function () {
  let dir;
  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-count-'));
    // Track 1 walks down across y = 240 (in), track 2 walks up across it (out), track 3 stays above.
    const rows = [];
    for (let f = 1; f <= 30; f++) {
      rows.push(`${f},1,300,${100 + f * 10 - 80},40,80,1,-1,-1,-1`);
      rows.push(`${f},2,400,${400 - f * 10 - 80},40,80,1,-1,-1,-1`);
      rows.push(`${f},3,500,${60},40,80,0,-1,-1,-1`);
    }
    fs.writeFileSync(path.join(dir, 'res.txt'), rows.join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'lines.json'), JSON.stringify({ lines: [{ name: 'door', start: [0, 0.5], end: [1, 0.5] }] }));
    fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ lines: [{ name: 'door', start: [0, 0.5], end: [640, 0.5] }] }));
  });
  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('--json prints {"counts":{"door":{"in":N,"out":M}}}', function () {
    const r = cli(['--tracks', path.join(dir, 'res.txt'), '--lines', path.join(dir, 'lines.json'), '--width', '640', '--height', '480', '--json']);
    assert.strictEqual(r.code, 0, r.err);
    assert.deepStrictEqual(JSON.parse(r.out), { counts: { door: { in: 1, out: 1 } } });
  });

  it('prints a table without --json', function () {
    const r = cli(['--tracks', path.join(dir, 'res.txt'), '--lines', path.join(dir, 'lines.json'), '--width', '640', '--height', '480']);
    assert.strictEqual(r.code, 0, r.err);
    assert.match(r.out, /door\s+in\s+1\s+out\s+1/);
  });

  it('passes counting options through (--minFrames 100: nothing stays past the line that long)', function () {
    const r = cli([
      '--tracks',
      path.join(dir, 'res.txt'),
      '--lines',
      path.join(dir, 'lines.json'),
      '--width',
      '640',
      '--height',
      '480',
      '--json',
      '--minFrames',
      '100',
      '--completeAtEnd',
      'false',
    ]);
    assert.strictEqual(r.code, 0, r.err);
    assert.deepStrictEqual(JSON.parse(r.out), { counts: { door: { in: 0, out: 0 } } });
  });

  it('the end of the file ends its tracks: a crossing still in its hysteresis frames is completed (completeAtEnd)', function () {
    const r = cli([
      '--tracks',
      path.join(dir, 'res.txt'),
      '--lines',
      path.join(dir, 'lines.json'),
      '--width',
      '640',
      '--height',
      '480',
      '--json',
      '--minFrames',
      '100',
    ]);
    assert.strictEqual(r.code, 0, r.err);
    assert.deepStrictEqual(JSON.parse(r.out), { counts: { door: { in: 1, out: 1 } } });
  });

  it('exit 2 with usage when an argument is missing; exit 1 with the reason for bad geometry', function () {
    const a = cli(['--tracks', path.join(dir, 'res.txt'), '--width', '640', '--height', '480']);
    assert.strictEqual(a.code, 2);
    assert.match(a.err, /--tracks and --lines are required/);
    const b = cli(['--tracks', path.join(dir, 'res.txt'), '--lines', path.join(dir, 'lines.json')]);
    assert.strictEqual(b.code, 2);
    assert.match(b.err, /--width and --height/);
    const c = cli(['--tracks', path.join(dir, 'res.txt'), '--lines', path.join(dir, 'bad.json'), '--width', '640', '--height', '480']);
    assert.strictEqual(c.code, 1);
    assert.match(c.err, /lines\[0\]\.end x = 640 is outside 0\.\.1/);
  });
});
