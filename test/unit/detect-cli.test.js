'use strict';
// `edgevision detect --json` end to end on real images with the real model: one JSON line per image.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { asset } = require('../helpers/assets');

const bin = path.join(__dirname, '..', '..', 'bin', 'edgevision.js');

describe('edgevision detect (CLI)', function () {
  this.timeout(60000);
  it('prints one JSON line per image with person boxes in source pixels', () => {
    const tud = asset('images/tud/TUD-Campus_frame0001.jpg');
    const bear = asset('images/coco/000000000285.jpg');
    const out = execFileSync(
      process.execPath,
      [
        bin,
        'detect',
        '--model',
        asset('models/yolox_nano.onnx'),
        '--labels',
        asset('models/coco_classes.txt'),
        '--conf',
        '0.3',
        '--classes',
        'person',
        '--json',
        tud,
        bear,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.strictEqual(lines.length, 2);
    assert.deepStrictEqual(Object.keys(lines[0]), ['source', 'frame', 'detections']);
    assert.strictEqual(lines[0].source, tud);
    assert.strictEqual(lines[0].frame, 0);
    assert.ok(lines[0].detections.length >= 5, `TUD frame 1 has six walkers: ${lines[0].detections.length}`);
    for (const d of lines[0].detections) {
      assert.deepStrictEqual(Object.keys(d), ['box', 'score', 'label']);
      assert.strictEqual(d.label, 'person');
      assert.ok(d.score >= 0.3);
      assert.ok(d.box[0] >= 0 && d.box[2] <= 640 && d.box[1] >= 0 && d.box[3] <= 480 && d.box[0] < d.box[2]);
    }
    assert.deepStrictEqual(lines[1].detections, []);
  });

  it('reads video frames through ffmpeg', () => {
    const out = execFileSync(
      process.execPath,
      [bin, 'detect', '--model', asset('models/yolox_nano.onnx'), '--max-frames', '2', '--json', asset('video/TUD-Campus.mp4')],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepStrictEqual(
      lines.map((l) => l.frame),
      [0, 1],
    );
    assert.ok(lines.every((l) => l.detections.length > 0));
  });

  it('finds a manifest model where fetch-assets put it: --user-dir DIR → DIR/edgevision, and says how to get it when it is not there', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-detect-cli-'));
    const env = { ...process.env };
    delete env.EDGEVISION_ASSETS; // the user dir only
    try {
      const args = [bin, 'detect', '--model', 'yolox_nano', '--user-dir', dir, '--json', asset('images/tud/TUD-Campus_frame0001.jpg')];
      assert.throws(
        () => execFileSync(process.execPath, args, { env, stdio: 'pipe' }),
        (/** @type {Error & { status: number | null, stderr: Buffer }} */ e) =>
          e.status === 1 && String(e.stderr).includes(`yolox_nano.onnx missing`) && String(e.stderr).includes(`fetch-assets --user-dir ${dir} yolox_nano`),
      );
      fs.mkdirSync(path.join(dir, 'edgevision'));
      fs.copyFileSync(asset('models/yolox_nano.onnx'), path.join(dir, 'edgevision', 'yolox_nano.onnx'));
      const out = execFileSync(process.execPath, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      assert.ok(
        JSON.parse(out.trim()).detections.some((d) => d.label === 'person'),
        'the manifest labels and preprocessing apply',
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 with the usage when the model or the input is missing', () => {
    assert.throws(
      () => execFileSync(process.execPath, [bin, 'detect', '--json'], { stdio: 'pipe' }),
      (/** @type {Error & { status: number | null, stderr: Buffer }} */ e) => e.status === 2 && /usage: edgevision detect/.test(String(e.stderr)),
    );
  });
});
