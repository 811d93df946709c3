'use strict';
// Real database servers for tests: influxd (InfluxDB 1.x API) and victoria-metrics (InfluxDB 2.x write
// API), each on 127.0.0.1 with its data in a temp folder. Starting, waiting and stopping live in the
// shipped cli/local-servers.ts (`edgevision bench influx` uses the same code); this file adds the
// queries tests read back with. Call stopAll() in an after-hook: no process is left behind.
const servers = require('../../dist/cli/local-servers');
const { freePort, request, stopAll } = servers;

/**
 * influxd 1.x on free ports in a temp dir; `auth: {username, password}` turns authentication on with
 * that admin. `stop()` and `start()` keep the data dir, so a restart keeps what was written.
 */
async function startInfluxd(opts = {}) {
  const server = await servers.startInfluxd({ auth: opts.auth });
  return Object.assign(server, {
    async query(q, db) {
      const who = opts.auth ? { u: opts.auth.username, p: opts.auth.password } : {};
      const qs = new URLSearchParams({ q, ...(db ? { db } : {}), epoch: 'ms', ...who });
      const r = await request('POST', `${server.url}/query?${qs}`);
      if (r.status >= 300) throw new Error(`query ${q}: ${r.status} ${r.body}`);
      const j = JSON.parse(r.body);
      const res = j.results && j.results[0];
      if (res && res.error) throw new Error(`query ${q}: ${res.error}`);
      return res;
    },
    async createDatabase(db) {
      await this.query(`CREATE DATABASE "${db}"`);
    },
    /** One number from a single-row aggregate (COUNT, SUM…); 0 when the measurement is empty. */
    async scalar(q, db) {
      const res = await this.query(q, db);
      const s = res.series && res.series[0];
      return s ? s.values[0][1] : 0;
    },
  });
}

/** VictoriaMetrics: accepts /api/v2/write; read back with /api/v1/export (raw samples, JSON lines). */
async function startVictoria() {
  const server = await servers.startVictoria();
  return Object.assign(server, {
    /** Every series matching `match` with its samples: [{metric: {__name__, ...labels}, values, timestamps}]. */
    async exportSeries(match) {
      await request('GET', `${server.url}/internal/force_flush`);
      const r = await request('GET', `${server.url}/api/v1/export?${new URLSearchParams({ 'match[]': match })}`);
      if (r.status >= 300) throw new Error(`export ${match}: ${r.status} ${r.body}`);
      return r.body
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    },
  });
}

module.exports = { startInfluxd, startVictoria, stopAll, freePort, request };
