'use strict';
// examples/09-http-detect.json in a real Node-RED (the gateway app in a child process): a photo
// POSTed to /detect comes back as JSON with the same objects that `edgevision detect` finds in that
// file; PNG and WebP work too; requests sent together are all answered; a body that is not a usable
// image is answered 400 with the reason, and the next good one still 200.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const sharp = require('sharp');
const { execFileSync } = require('child_process');
const { startGatewayChild, stopChild, ROOT } = require('../helpers/gateway-child');
const { asset } = require('../helpers/assets');
const { waitFor } = require('../helpers/wait');

const PHOTO = 'images/coco/000000001000.jpg'; // a team photo, 640×480, 12 people

function iou(a, b) {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const i = w * h;
  return i / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i);
}

describe('HTTP detect example: POST a picture, get the objects back', function () {
  this.timeout(120000);
  let child, url, userDir, jpeg;

  before(async function () {
    jpeg = fs.readFileSync(asset(PHOTO));
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-http-detect-'));
    child = startGatewayChild({ port: 0, userDir, flowFile: path.join(ROOT, 'examples', '09-http-detect.json'), resetFlows: true }, {}, 'warn');
    url = await waitFor(() => child.url() || (child.exitCode !== null && Promise.reject(new Error(child.log()))), 60000, 'Node-RED to start', 200);
  });

  after(async function () {
    if (child) await stopChild(child, 10000);
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  async function post(body, contentType = 'image/jpeg') {
    const headers = contentType ? { 'Content-Type': contentType } : {};
    const r = await fetch(`${url}/detect`, { method: 'POST', headers, body });
    const text = await r.text();
    return { status: r.status, type: r.headers.get('content-type'), text, json: r.status === 200 ? JSON.parse(text) : undefined };
  }

  it('answers a JPEG with the objects `edgevision detect` finds in the same file', async () => {
    const r = await post(jpeg);
    assert.strictEqual(r.status, 200, r.text);
    assert.match(r.type, /^application\/json/);
    assert.deepStrictEqual([r.json.width, r.json.height], [640, 480]);
    const cli = JSON.parse(
      execFileSync(process.execPath, [path.join(ROOT, 'bin', 'edgevision.js'), 'detect', '--model', 'yolox_nano', '--conf', '0.5', '--json', asset(PHOTO)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    );
    const people = r.json.detections.filter((d) => d.label === 'person');
    assert.ok(people.length >= 8, `people in the photo (12 there): ${people.length}`);
    // The same decoder, letterbox and model: the same boxes (rounded to 0.1 px), up to float noise of a different thread count.
    assert.strictEqual(r.json.detections.length, cli.detections.length, `node ${r.text}\ncli ${JSON.stringify(cli.detections)}`);
    for (const d of cli.detections) {
      const m = r.json.detections.find((n) => n.label === d.label && iou(n.box, d.box) > 0.99);
      assert.ok(m, `the CLI's ${d.label} ${d.box} is in the answer: ${r.text}`);
      assert.ok(Math.abs(m.score - d.score) <= 0.002, `score ${m.score} vs ${d.score}`);
      m.box.forEach((v, i) => assert.ok(Math.abs(v - d.box[i]) <= 0.5, `box ${m.box} vs ${d.box}`));
    }
  });

  it('answers PNG (the same pixels: the same answer) and WebP (lossy: the same people, near enough)', async () => {
    const ref = (await post(jpeg)).json;
    const png = await post(await sharp(jpeg).png().toBuffer(), 'image/png');
    assert.strictEqual(png.status, 200, png.text);
    assert.deepStrictEqual(png.json, ref);
    const webp = await post(await sharp(jpeg).webp({ quality: 90 }).toBuffer(), 'application/octet-stream');
    assert.strictEqual(webp.status, 200, webp.text);
    const count = (a) => a.detections.filter((d) => d.label === 'person').length;
    assert.ok(Math.abs(count(webp.json) - count(ref)) <= 1, `people: WebP ${count(webp.json)}, JPEG ${count(ref)}`);
  });

  it('answers every one of several requests sent together', async () => {
    const all = await Promise.all([0, 1, 2, 3].map(() => post(jpeg)));
    assert.deepStrictEqual(
      all.map((r) => r.status),
      [200, 200, 200, 200],
      all.map((r) => r.text).join('\n'),
    );
    for (const r of all) assert.deepStrictEqual(r.json, all[0].json);
  });

  it('answers 400 with the reason for a body that is not a usable image, and goes on', async () => {
    const cases = [
      [Buffer.from('<html>not a picture</html>'), 'image/jpeg', /not a JPEG, PNG or WebP image \(26 bytes starting 3c 68 74 6d \("<htm"\)\)/],
      [jpeg.subarray(0, 20000), 'image/jpeg', /cannot use the JPEG image \(20000 bytes\): .*premature end of JPEG image/],
      // curl's default content type: http in parses the body as a form, so an object reaches detect.
      // (A real photo sent so does not even get that far: Node-RED's form parser answers 413.)
      [Buffer.from('photo=none'), 'application/x-www-form-urlencoded', /msg.payload must be a vision frame .* or a JPEG, PNG or WebP image Buffer/],
    ];
    for (const [body, type, want] of cases) {
      const r = await post(body, type);
      assert.strictEqual(r.status, 400, `${type}: ${r.text}`);
      assert.match(r.text, want);
    }
    const ok = await post(jpeg);
    assert.strictEqual(ok.status, 200, ok.text);
  });
});
