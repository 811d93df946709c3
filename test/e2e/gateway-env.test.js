'use strict';
// The gateway's environment defaults (flows/gateway.js applyDemoDefaults): what the demo flow's
// ${VAR} properties resolve to with nothing set, and how EDGEVISION_INFLUX_URL is split for the 1.x
// connection; and the gateway's user dir, where its assets live. Each case runs on its own env
// object; process.env is not touched.
const assert = require('assert');
require('../helpers/assets');
const path = require('path');
const { applyDemoDefaults, gatewayUserDir } = require('../../flows/gateway.js');

describe('gateway: environment defaults', () => {
  const base = () => ({ EDGEVISION_ASSETS: process.env.EDGEVISION_ASSETS });

  it('with nothing set: the demo clip, the shipped model (names the nodes find in the user dir), providers auto, a local InfluxDB 1.x', () => {
    const env = base();
    applyDemoDefaults(env);
    assert.strictEqual(env.EDGEVISION_SOURCE, 'vtest');
    assert.strictEqual(env.EDGEVISION_MODEL, 'yolox_nano');
    assert.strictEqual(env.EDGEVISION_FPS, '7');
    assert.strictEqual(env.EDGEVISION_PROVIDERS, 'auto');
    assert.deepStrictEqual(
      [
        env.EDGEVISION_INFLUX_URL,
        env.EDGEVISION_INFLUX_VERSION,
        env.EDGEVISION_INFLUX_HOST,
        env.EDGEVISION_INFLUX_PORT,
        env.EDGEVISION_INFLUX_PROTOCOL,
        env.EDGEVISION_INFLUX_DB,
        env.EDGEVISION_INFLUX_BUCKET,
      ],
      ['http://127.0.0.1:8086', '1.x', '127.0.0.1', '8086', 'http', 'edgevision', 'edgevision'],
    );
  });

  for (const [url, host, port, protocol] of [
    ['http://10.0.0.7:8086', '10.0.0.7', '8086', 'http'],
    ['https://influx.plant.example', 'influx.plant.example', '443', 'https'],
    ['http://influx.plant.example', 'influx.plant.example', '8086', 'http'],
    ['https://influx.plant.example:9443/', 'influx.plant.example', '9443', 'https'],
  ]) {
    it(`EDGEVISION_INFLUX_URL=${url} → ${protocol}://${host}:${port}`, () => {
      /** @type {NodeJS.ProcessEnv} */
      const env = { ...base(), EDGEVISION_INFLUX_URL: url };
      applyDemoDefaults(env);
      assert.deepStrictEqual([env.EDGEVISION_INFLUX_HOST, env.EDGEVISION_INFLUX_PORT, env.EDGEVISION_INFLUX_PROTOCOL], [host, port, protocol]);
    });
  }

  it('what is set is kept', () => {
    /** @type {NodeJS.ProcessEnv} */
    const env = {
      ...base(),
      EDGEVISION_SOURCE: 'rtsp://cam/1',
      EDGEVISION_MODEL: 'other.onnx',
      EDGEVISION_INFLUX_URL: 'http://a:1',
      EDGEVISION_INFLUX_HOST: 'b',
      EDGEVISION_INFLUX_DB: 'line1',
      EDGEVISION_PROVIDERS: 'cpu',
    };
    applyDemoDefaults(env);
    assert.deepStrictEqual(
      [env.EDGEVISION_SOURCE, env.EDGEVISION_MODEL, env.EDGEVISION_INFLUX_HOST, env.EDGEVISION_INFLUX_PORT, env.EDGEVISION_INFLUX_DB, env.EDGEVISION_PROVIDERS],
      ['rtsp://cam/1', 'other.onnx', 'b', '1', 'line1', 'cpu'],
    );
  });

  it('the user dir: the option, else EDGEVISION_USER_DIR, else .node-red/ in the project', () => {
    const root = path.join(__dirname, '..', '..');
    assert.strictEqual(gatewayUserDir(undefined, {}), path.join(root, '.node-red'));
    assert.strictEqual(gatewayUserDir(undefined, { EDGEVISION_USER_DIR: '/srv/nr' }), '/srv/nr');
    assert.strictEqual(gatewayUserDir('/tmp/u', { EDGEVISION_USER_DIR: '/srv/nr' }), '/tmp/u');
  });

  for (const bad of ['influx:8086 db', '127.0.0.1:8086', 'not a url']) {
    it(`refuses EDGEVISION_INFLUX_URL="${bad}" and says what it got`, () => {
      assert.throws(
        () => applyDemoDefaults({ ...base(), EDGEVISION_INFLUX_URL: bad }),
        new RegExp(`EDGEVISION_INFLUX_URL must be an http:// or https:// URL, got "${bad}"`),
      );
    });
  }
});
