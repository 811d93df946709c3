'use strict';
// The demo's database secret from the environment: a real influxd with authentication on, and the
// gateway (a child process, fresh user dir) started with EDGEVISION_INFLUX_USER / _PASSWORD. Points
// arrive only if the connection really authenticates with them; the credentials file on disk holds
// the variable's name, not the password.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
require('../helpers/assets');
const { startInfluxd } = require('../helpers/influx-servers');
const { startGatewayChild, stopChild } = require('../helpers/gateway-child');
const { waitFor } = require('../helpers/wait');

describe('gateway: InfluxDB secrets from the environment', function () {
  this.timeout(180000);
  const auth = { username: 'edge', password: 'pw-' + Math.random().toString(36).slice(2) };
  let influx, gw, userDir;

  before(async () => {
    influx = await startInfluxd({ auth });
    await influx.createDatabase('edgevision');
  });
  after(async () => {
    if (gw) await stopChild(gw);
    if (influx) await influx.destroy();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it("an authenticated influxd receives the demo's points; the stored credentials are references", async () => {
    // Without credentials the server refuses writes: the check below can only pass through them.
    const probe = await fetch(`${influx.url}/write?db=edgevision`, { method: 'POST', body: 'probe v=1' });
    assert.strictEqual(probe.status, 401, 'a write without credentials is refused');
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-secrets-'));
    gw = startGatewayChild(
      { port: 0, userDir, resetFlows: true, realtime: false },
      { EDGEVISION_INFLUX_URL: influx.url, EDGEVISION_INFLUX_USER: auth.username, EDGEVISION_INFLUX_PASSWORD: auth.password },
    );
    await waitFor(
      async () => (await influx.scalar('SELECT COUNT(fps) FROM pipeline_health', 'edgevision')) > 0,
      120000,
      'pipeline_health points in the authenticated influxd',
      1000,
    ).catch((e) => {
      throw new Error(`${e.message}\ngateway log:\n${gw.log()}`);
    });
    const cred = fs.readFileSync(path.join(userDir, 'flows_cred.json'), 'utf8');
    assert.ok(!cred.includes(auth.password), 'the password itself is not stored');
    assert.match(cred, /\$\{EDGEVISION_INFLUX_PASSWORD\}/);
  });
});
