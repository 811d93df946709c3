'use strict';
// The user's model folder as the vision-model dialog sees it: which names an upload may have, how an
// upload is streamed (size cap, temporary file, rename), and what the listing shows.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Readable } = require('stream');
const { UploadError, checkUploadName, listModelFiles, receiveFile } = require('../../dist/nodes/lib/asset-files.js');

describe('asset files (the vision-model dialog)', () => {
  let dir;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-files-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const names = [
    ['yolov8n.onnx', 'yolov8n.onnx'],
    ['  My Model (v2).ONNX ', 'My Model (v2).ONNX'],
    ['../../evil.onnx', /not a plain file name/],
    ['..\\evil.onnx', /not a plain file name/],
    ['/etc/evil.onnx', /not a plain file name/],
    ['a/b.onnx', /not a plain file name/],
    ['x..onnx', /not a plain file name/],
    ['.hidden.onnx', /must not start with "."/],
    ['bad\u0000name.onnx', /characters a file name cannot have/],
    ['con:1.onnx', /characters a file name cannot have/],
    ['model.pt', /not an \.onnx file/],
    ['', /no file name/],
    [undefined, /no file name/],
    ['a'.repeat(200) + '.onnx', /longer than 200/],
  ];
  for (const [raw, want] of names) {
    it(`name ${JSON.stringify(raw)} → ${want instanceof RegExp ? 'refused' : JSON.stringify(want)}`, () => {
      if (want instanceof RegExp)
        assert.throws(
          () => checkUploadName(raw),
          (e) => e instanceof UploadError && e.status === 400 && want.test(e.message),
        );
      else assert.strictEqual(checkUploadName(raw), want);
    });
  }

  const body = (...chunks) => Readable.from(chunks.map((c) => Buffer.from(c)));

  it('streams a body to a temporary file and renames it to its name when complete', async () => {
    const r = await receiveFile(body('abc', 'def'), path.join(dir, 'edgevision'), 'm.onnx', { maxBytes: 100, announcedBytes: 6 });
    assert.deepStrictEqual(r, { file: path.join(dir, 'edgevision', 'm.onnx'), bytes: 6 });
    assert.strictEqual(fs.readFileSync(r.file, 'utf8'), 'abcdef');
    assert.deepStrictEqual(fs.readdirSync(path.join(dir, 'edgevision')), ['m.onnx'], 'no temporary file left');
  });

  /** @type {[string, () => import('stream').Readable, string, import('../../dist/nodes/lib/asset-files').ReceiveOptions, number, RegExp][]} */
  const refusals = [
    ['an announced length over the cap', () => body('abcdef'), 'm.onnx', { maxBytes: 5, announcedBytes: 6 }, 413, /m\.onnx is 6 bytes; the limit is 5 bytes/],
    ['a body that grows past the cap (no length announced)', () => body('abc', 'def', 'ghi'), 'm.onnx', { maxBytes: 5 }, 413, /larger than the limit/],
    ['a body shorter than announced (cut off)', () => body('abc'), 'm.onnx', { maxBytes: 100, announcedBytes: 6 }, 400, /3 of 6 bytes arrived/],
    ['an empty body', () => body(), 'm.onnx', { maxBytes: 100 }, 400, /is empty/],
    ['a traversal attempt', () => body('abc'), '../m.onnx', { maxBytes: 100 }, 400, /not a plain file name/],
    ['a manifest file name', () => body('abc'), 'YOLOX_NANO.onnx', { maxBytes: 100, reserved: ['yolox_nano.onnx'] }, 409, /fetches itself/],
  ];
  for (const [what, make, name, o, status, re] of refusals) {
    it(`refuses ${what} (${status}) and leaves nothing behind`, async () => {
      await assert.rejects(receiveFile(make(), dir, name, o), (e) => e instanceof UploadError && e.status === status && re.test(e.message));
      assert.deepStrictEqual(fs.readdirSync(dir), []);
      assert.deepStrictEqual(
        fs.readdirSync(path.dirname(dir)).filter((f) => f === 'm.onnx'),
        [],
        'nothing written outside the folder',
      );
    });
  }

  it('an existing file is kept unless replace is asked for', async () => {
    fs.writeFileSync(path.join(dir, 'm.onnx'), 'old');
    await assert.rejects(
      receiveFile(body('new'), dir, 'm.onnx', { maxBytes: 100 }),
      (/** @type {InstanceType<typeof UploadError>} */ e) => e.status === 409 && /exists already/.test(e.message),
    );
    assert.strictEqual(fs.readFileSync(path.join(dir, 'm.onnx'), 'utf8'), 'old');
    await receiveFile(body('new'), dir, 'm.onnx', { maxBytes: 100, replace: true });
    assert.strictEqual(fs.readFileSync(path.join(dir, 'm.onnx'), 'utf8'), 'new');
    assert.deepStrictEqual(fs.readdirSync(dir), ['m.onnx']);
  });

  it('lists the .onnx files only (no hidden or partial files, no folders); an absent folder has none', () => {
    assert.deepStrictEqual(listModelFiles(path.join(dir, 'nope')), []);
    for (const f of ['b.onnx', 'a.ONNX', 'vtest.avi', 'coco_classes.txt', '.upload-1234.part', '.yolox_nano.onnx.ab12.part'])
      fs.writeFileSync(path.join(dir, f), 'xy');
    fs.mkdirSync(path.join(dir, 'dir.onnx'));
    const got = listModelFiles(dir);
    assert.deepStrictEqual(
      got.map((f) => [f.name, f.bytes]),
      [
        ['a.ONNX', 2],
        ['b.onnx', 2],
      ],
    );
    assert.ok(got.every((f) => Number.isFinite(f.modifiedMs)));
  });
});
