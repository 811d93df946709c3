'use strict';
// Both transport adapters against a scripted HTTP server: what each answer means (retry or reject),
// the server's own message in the error, the request they send, and the ping.
const assert = require('assert');
const http = require('http');
const { Influx1Transport, Influx2Transport, TransportError } = require('../../dist/nodes/lib/influx/transport.js');
const { freePort } = require('../helpers/influx-servers');

describe('influx transports (scripted server)', function () {
  let server;
  let port;
  let answer; // (req, body) => [status, body, headers?]
  const seen = [];

  before(async function () {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, body, auth: req.headers.authorization });
        const [status, text, headers] = answer(req, body);
        res.writeHead(status, { 'content-type': 'application/json', ...(headers || {}) });
        res.end(text || '');
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    port = /** @type {import('net').AddressInfo} */ (server.address()).port;
  });
  after(function () {
    server.close();
  });
  beforeEach(function () {
    seen.length = 0;
  });

  /** @type {Record<string, () => import('../../dist/nodes/lib/influx/transport').WriteTransport>} */
  const transports = {
    '1.x': () =>
      new Influx1Transport({
        host: '127.0.0.1',
        port,
        protocol: 'http',
        database: 'db one',
        retentionPolicy: 'rp',
        username: 'u',
        password: 'p',
        timeoutMs: 2000,
      }),
    '2.x': () => new Influx2Transport({ url: `http://127.0.0.1:${port}`, org: 'plant', bucket: 'vision', token: 'tok', timeoutMs: 2000 }),
  };

  // [status, body, null (written) or [kind, status, message, hint 1.x, hint 2.x, missing]]
  /** @type {[number, string, any[] | null][]} */
  const cases = [
    [204, '', null],
    // The influx pool keeps only the status text of a 5xx: the 1.x message says "Internal Server Error".
    [500, '{"error":"engine: cache full"}', ['retry', 500, /500|Internal Server Error/, /^db unavailable: Internal Server Error$/, /^db error 500$/]],
    [503, '', ['retry', 503, /503|Service Unavailable/, /^db unavailable/, /^db error 503$/]],
    [429, '{"message":"slow down"}', ['retry', 429, /slow down/, /^db answered 429$/, /^db answered 429$/]],
    [
      400,
      '{"error":"unable to parse \'m v=\': missing field value"}',
      ['reject', 400, /^400: unable to parse 'm v=': missing field value$/, /^400 refused: bad data$/, /^400 refused: bad data$/],
    ],
    [422, '{"message":"partial write: field type conflict"}', ['reject', 422, /field type conflict/, /bad data/, /bad data/]],
    [413, '{"error":"Request Entity Too Large"}', ['reject', 413, /Too Large/, /bad data/, /bad data/]],
    // Held, not refused: the fix is a token, a database, a URL; the hint says which.
    [
      404,
      '{"error":"database not found: \\"x\\""}',
      ['retry', 404, /^404: database not found/, /^db "db one" missing: create it$/, /^404 not found: check the URL$/, ['database', undefined]],
    ],
    [
      404,
      '{"code":"not found","message":"bucket \\"vision\\" not found"}',
      ['retry', 404, /^404: bucket/, /^404 not found: check the URL$/, /^bucket "vision" missing: create it$/, [undefined, 'bucket']],
    ],
    [401, '{"message":"unauthorized access"}', ['retry', 401, /^401: /, /^401 unauthorized: check user\/password$/, /^401 unauthorized: check the token$/]],
    [403, '{"error":"not authorized to write"}', ['retry', 403, /^403: /, /^403 forbidden: check user rights$/, /^403 forbidden: check token rights$/]],
  ];

  for (const [version, make] of Object.entries(transports)) {
    for (const [status, body, want] of cases) {
      it(`${version}: HTTP ${status}${want && want[5] ? ` (${body.slice(0, 30)}…)` : ''} → ${want ? want[0] : 'written'}`, async function () {
        answer = () => [status, body];
        const t = make();
        if (!want) {
          await t.write('m v=1 1', 'ms');
          return;
        }
        const err = await t.write('m v=1 1', 'ms').then(
          () => null,
          (e) => e,
        );
        assert.ok(err instanceof TransportError, `got ${err}`);
        assert.strictEqual(err.kind, want[0]);
        if (want[1] !== undefined && !(version === '1.x' && status >= 500)) assert.strictEqual(err.status, want[1]);
        assert.match(err.message, want[2]);
        assert.match(err.hint, version === '1.x' ? want[3] : want[4]);
        assert.ok(err.hint.length <= 38, `hint fits a status line: ${err.hint}`);
        assert.strictEqual(err.missing, want[5] ? want[5][version === '1.x' ? 0 : 1] : undefined);
      });
    }

    it(`${version}: an unreachable server is worth a retry, and the ping says so`, async function () {
      const dead = await freePort();
      const t =
        version === '1.x'
          ? new Influx1Transport({ host: '127.0.0.1', port: dead, protocol: 'http', database: 'x' })
          : new Influx2Transport({ url: `http://127.0.0.1:${dead}`, org: 'o', bucket: 'b' });
      const err = await t.write('m v=1 1', 'ms').then(
        () => null,
        (e) => e,
      );
      assert.strictEqual(err.kind, 'retry');
      assert.match(err.message, /ECONNREFUSED/);
      assert.strictEqual(err.hint, 'db unreachable (ECONNREFUSED)');
      assert.strictEqual((await t.ping(500)).ok, false);
    });
  }

  it('1.x: posts to /write with db, rp, precision and basic auth', async function () {
    answer = () => [204, ''];
    await transports['1.x']().write('m v=1 1', 'ns');
    const r = seen[0];
    assert.strictEqual(r.method, 'POST');
    const u = new URL(r.url, 'http://x');
    assert.strictEqual(u.pathname, '/write');
    assert.deepStrictEqual(Object.fromEntries(u.searchParams), { db: 'db one', precision: 'n', rp: 'rp' });
    assert.strictEqual(r.body, 'm v=1 1');
    assert.strictEqual(r.auth, 'Basic ' + Buffer.from('u:p').toString('base64'));
  });

  it('1.x: creates the database with an idempotent CREATE DATABASE, with basic auth; a refusal is held with a reason', async function () {
    answer = () => [200, '{"results":[{"statement_id":0}]}'];
    await transports['1.x']().createDatabase();
    const u = new URL(seen[0].url, 'http://x');
    assert.deepStrictEqual([seen[0].method, u.pathname, u.searchParams.get('q')], ['POST', '/query', 'CREATE DATABASE "db one"']);
    assert.strictEqual(seen[0].auth, 'Basic ' + Buffer.from('u:p').toString('base64'));
    answer = () => [403, '{"error":"requires admin privilege"}'];
    const err = await transports['1.x']()
      .createDatabase()
      .then(
        () => null,
        (e) => e,
      );
    assert.deepStrictEqual([err.kind, err.status, err.message], ['retry', 403, '403: requires admin privilege']);
    answer = () => [200, '{"results":[{"statement_id":0,"error":"boom"}]}'];
    await assert.rejects(transports['1.x']().createDatabase(), /CREATE DATABASE "db one": boom/);
    assert.strictEqual(transports['2.x']().createDatabase, undefined, '2.x buckets are not created');
  });

  it('2.x: posts to /api/v2/write with org, bucket, precision and the token', async function () {
    answer = () => [204, ''];
    await transports['2.x']().write('m v=1 1', 'us');
    const r = seen[0];
    const u = new URL(r.url, 'http://x');
    assert.strictEqual(u.pathname, '/api/v2/write');
    assert.deepStrictEqual(Object.fromEntries(u.searchParams), { org: 'plant', bucket: 'vision', precision: 'us' });
    assert.strictEqual(r.body, 'm v=1 1');
    assert.strictEqual(r.auth, 'Token tok');
  });

  it('pings: 1.x /ping with its version header, 2.x /health', async function () {
    answer = (req) => (req.url.startsWith('/ping') ? [204, '', { 'x-influxdb-version': '1.6.7' }] : [200, '{"status":"pass"}']);
    assert.deepStrictEqual(await transports['1.x']().ping(1000), { ok: true, version: '1.6.7' });
    assert.deepStrictEqual(await transports['2.x']().ping(1000), { ok: true });
    assert.deepStrictEqual(
      seen.map((s) => s.url.split('?')[0]),
      ['/ping', '/health'],
    );
    answer = () => [503, '{"status":"fail"}'];
    assert.strictEqual((await transports['2.x']().ping(1000)).ok, false);
  });

  /** @type {[() => unknown, RegExp][]} */
  const badConfigs = [
    [() => new Influx1Transport({ host: '', port: 8086, protocol: 'http', database: 'x' }), /host is required/],
    [() => new Influx1Transport({ host: 'h', port: 0, protocol: 'http', database: 'x' }), /port must be 1..65535/],
    [() => new Influx1Transport({ host: 'h', port: 8086, protocol: 'http', database: '' }), /database is required/],
    [() => new Influx2Transport({ url: 'db:8086', org: 'o', bucket: 'b' }), /url must be http or https|url must be like/],
    [() => new Influx2Transport({ url: 'http://db:8086', org: 'o', bucket: '' }), /bucket is required/],
  ];
  badConfigs.forEach(([make, re], i) => {
    it(`refuses bad configuration ${i + 1} with a reason`, function () {
      assert.throws(make, re);
    });
  });
});
