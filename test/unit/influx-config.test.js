'use strict';
// The two influx nodes' config readers (nodes/influxdb/config.ts, nodes/influx-write/config.ts):
// editor values → engine settings, blank → default, a value the dialog refuses → an error naming the
// field (never a silently clamped setting), and the same ranges as the dialogs' validators.
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { connectionSettings, spoolDirOf } = require('../../dist/nodes/influxdb/config.js');
const { writerSettings, readTags } = require('../../dist/nodes/influx-write/config.js');

const where = { userDir: '/home/nr/.node-red', id: 'a1b2:c3' };
const ROOT = path.join(__dirname, '..', '..');

/** The `validate` functions of an editor's `defaults`, by field (one field per line in our .html). */
function validators(htmlFile) {
  const html = fs.readFileSync(path.join(ROOT, htmlFile), 'utf8');
  const out = {};
  for (const m of html.matchAll(/^\s*(\w+): \{ value: [^\n]*?validate: (function \(v\) \{[^\n]*\}) \},$/gm)) {
    out[m[1]] = new Function(`return (${m[2]});`)();
  }
  return out;
}

describe('influx config readers', function () {
  describe('vision-influxdb → connection settings', function () {
    it('takes the defaults for a connection saved with blank fields (or before the options existed)', function () {
      const s = connectionSettings({ version: '1.x', database: 'ev', timeout: '', spoolMaxMB: '', replayRate: '', maxInFlight: '', maxBackoff: '' }, {}, where);
      assert.deepStrictEqual(s, {
        server: {
          version: '1.x',
          host: '127.0.0.1',
          port: 8086,
          protocol: 'http',
          database: 'ev',
          retentionPolicy: undefined,
          username: undefined,
          password: undefined,
        },
        timeoutMs: 10000,
        tlsVerify: true,
        tlsCaFile: undefined,
        spoolDir: path.join(where.userDir, 'edgevision-spool', 'a1b2_c3'),
        spoolMaxBytes: 100 * 1024 * 1024,
        createDatabase: true,
        replayPointsPerSec: 10000,
        maxInFlight: 2,
        maxBackoffMs: 10000,
      });
    });

    it('reads every field, as the dialog (strings) or a flow file (numbers, booleans) gives it', function () {
      const dialog = connectionSettings(
        {
          version: '1.x',
          host: ' db.local ',
          port: '8087',
          protocol: 'https',
          database: 'plant a',
          retentionPolicy: 'week',
          createDatabase: 'false',
          tlsVerify: 'false',
          tlsCaFile: '/etc/ca.pem',
          timeout: '2.5',
          spoolDir: 'spool',
          spoolMaxMB: '0.5',
          replayRate: '500',
          maxInFlight: '4',
          maxBackoff: '30',
        },
        { username: 'u', password: 'p' },
        where,
      );
      assert.deepStrictEqual(dialog, {
        server: { version: '1.x', host: 'db.local', port: 8087, protocol: 'https', database: 'plant a', retentionPolicy: 'week', username: 'u', password: 'p' },
        timeoutMs: 2500,
        tlsVerify: false,
        tlsCaFile: '/etc/ca.pem',
        spoolDir: path.join(where.userDir, 'spool'),
        spoolMaxBytes: 524288,
        createDatabase: false,
        replayPointsPerSec: 500,
        maxInFlight: 4,
        maxBackoffMs: 30000,
      });
      const flowFile = connectionSettings(
        {
          version: '2.x',
          url: 'https://cloud:8086',
          org: 'o',
          bucket: 'b',
          port: 'not read for 2.x',
          timeout: 120,
          spoolDir: '/var/spool/ev',
          maxInFlight: 16,
          createDatabase: true,
        },
        { token: 't' },
        where,
      );
      assert.deepStrictEqual(flowFile.server, { version: '2.x', url: 'https://cloud:8086', org: 'o', bucket: 'b', token: 't' });
      assert.deepStrictEqual([flowFile.timeoutMs, flowFile.spoolDir, flowFile.maxInFlight, flowFile.createDatabase], [120000, '/var/spool/ev', 16, false]);
    });

    /** @type {[Record<string, unknown>, string][]} */
    const bad = [
      // nothing is clamped: each of these used to become the nearest allowed value
      [{ timeout: 500 }, 'Timeout must be a number 1–120, got "500"'],
      [{ timeout: '0' }, 'Timeout must be a number 1–120, got "0"'],
      [{ port: '70000' }, 'Port must be a whole number 1–65535, got "70000"'],
      [{ port: 8086.5 }, 'Port must be a whole number 1–65535, got "8086.5"'],
      [{ spoolMaxMB: '0.001' }, 'Spool cap must be a number ≥ 0.01, got "0.001"'],
      [{ replayRate: 0 }, 'Replay pace must be a number ≥ 1, got "0"'],
      [{ maxInFlight: '32' }, 'Writes in flight must be a whole number 1–16, got "32"'],
      [{ maxInFlight: '1.5' }, 'Writes in flight must be a whole number 1–16, got "1.5"'],
      [{ maxBackoff: '0.5' }, 'Max retry wait must be a number 1–600, got "0.5"'],
      [{ maxBackoff: 'ten' }, 'Max retry wait must be a number 1–600, got "ten"'],
      [{ version: '3.x' }, 'Version must be one of 1.x, 2.x, got "3.x"'],
      [{ protocol: 'ftp' }, 'Protocol must be one of http, https, got "ftp"'],
      [{ tlsVerify: 'yes' }, 'verify the server certificate must be true or false, got "yes"'],
    ];
    for (const [c, msg] of bad) {
      it(`refuses ${JSON.stringify(c)}: ${msg}`, function () {
        assert.throws(
          () => connectionSettings({ version: '1.x', database: 'ev', ...c }, {}, where),
          (/** @type {Error} */ e) => e.message === msg,
        );
      });
    }

    it('knows the spool folder even when the rest is wrong', function () {
      assert.strictEqual(spoolDirOf({ spoolDir: '../elsewhere' }, where), path.resolve(where.userDir, '../elsewhere'));
      assert.strictEqual(spoolDirOf({ spoolDir: '  ' }, where), path.join(where.userDir, 'edgevision-spool', 'a1b2_c3'));
    });

    it('accepts exactly what the dialog accepts (influxdb.html validators)', function () {
      const v = validators('nodes/influxdb/influxdb.html');
      const ctx = { version: '1.x', _: (k) => k };
      const fields = {
        port: 'port',
        timeout: 'timeout',
        spoolMaxMB: 'spoolMaxMB',
        replayRate: 'replayRate',
        maxInFlight: 'maxInFlight',
        maxBackoff: 'maxBackoff',
      };
      const samples = [
        '0',
        '0.001',
        '0.01',
        '0.5',
        '1',
        '1.5',
        '2',
        '16',
        '17',
        '120',
        '120.5',
        '600',
        '601',
        '65535',
        '65536',
        '1e6',
        '1e7',
        '1e9',
        '-1',
        'abc',
      ];
      for (const f of Object.keys(fields)) {
        assert.strictEqual(typeof v[f], 'function', `a validator for ${f} in influxdb.html`);
        for (const x of samples) {
          const dialog = v[f].call(ctx, x) === true;
          let runtime = true;
          try {
            connectionSettings({ version: '1.x', database: 'ev', [f]: x }, {}, where);
          } catch {
            runtime = false;
          }
          assert.strictEqual(
            runtime,
            dialog,
            `${f} = ${x}: the dialog ${dialog ? 'accepts' : 'refuses'} it, the runtime ${runtime ? 'accepts' : 'refuses'} it`,
          );
        }
      }
    });
  });

  describe('vision-influx-write → writer settings', function () {
    it('takes the defaults for blank fields', function () {
      assert.deepStrictEqual(writerSettings({ measurement: '', precision: '', integerFields: '', batchSize: '', flushInterval: '' }), {
        precision: 'ms',
        measurement: '',
        overrideMeasurement: false,
        integerFields: [],
        batchSize: 1000,
        flushMs: 1000,
        tags: {},
      });
    });

    it('reads every field', function () {
      assert.deepStrictEqual(
        writerSettings({ measurement: ' kpi ', overrideMeasurement: 'true', precision: 'us', integerFields: 'a, b ,c,', batchSize: '50', flushInterval: 20 }),
        {
          precision: 'us',
          measurement: 'kpi',
          overrideMeasurement: true,
          integerFields: ['a', 'b', 'c'],
          batchSize: 50,
          flushMs: 20,
          tags: {},
        },
      );
    });

    /** @type {[Record<string, unknown>, string][]} */
    const bad = [
      [{ batchSize: 0 }, 'Batch size must be a whole number 1–100000, got "0"'],
      [{ batchSize: '100001' }, 'Batch size must be a whole number 1–100000, got "100001"'],
      [{ batchSize: '2.5' }, 'Batch size must be a whole number 1–100000, got "2.5"'],
      [{ flushInterval: '5' }, 'Flush after must be a whole number 10–600000, got "5"'],
      [{ precision: 'xs' }, 'Precision must be one of ns, us, ms, s, got "xs"'],
      [{ overrideMeasurement: 'yes' }, 'also replace the measurement of batch points must be true or false, got "yes"'],
    ];
    for (const [c, msg] of bad) {
      it(`refuses ${JSON.stringify(c)}: ${msg}`, function () {
        assert.throws(
          () => writerSettings(c),
          (/** @type {Error} */ e) => e.message === msg,
        );
      });
    }

    it('accepts exactly what the dialog accepts (influx-write.html validators)', function () {
      const v = validators('nodes/influx-write/influx-write.html');
      const ctx = { _: (k) => k };
      const samples = ['0', '1', '2.5', '9', '10', '500', '100000', '100001', '600000', '600001', '-1', 'abc'];
      for (const [f, key] of [
        ['batchSize', 'batchSize'],
        ['flushInterval', 'flushInterval'],
      ]) {
        assert.strictEqual(typeof v[f], 'function', `a validator for ${f} in influx-write.html`);
        for (const x of samples) {
          const dialog = v[f].call(ctx, x) === true;
          let runtime = true;
          try {
            writerSettings({ [key]: x });
          } catch {
            runtime = false;
          }
          assert.strictEqual(
            runtime,
            dialog,
            `${f} = ${x}: the dialog ${dialog ? 'accepts' : 'refuses'} it, the runtime ${runtime ? 'accepts' : 'refuses'} it`,
          );
        }
      }
    });
  });

  it('influx-write Tags: key=value pairs, checked', function () {
    assert.deepStrictEqual(writerSettings({ tags: 'gateway=gw-a, site = plant 1' }).tags, { gateway: 'gw-a', site: 'plant 1' });
    assert.deepStrictEqual(writerSettings({}).tags, {});
    assert.throws(() => readTags('gateway'), /Tags must be key=value pairs separated by commas \(keys not starting with _\), got "gateway"/);
    assert.throws(() => readTags('_x=1'), /keys not starting with _/);
    assert.throws(() => readTags('a=b\\'), /key=value/);
  });
});
