'use strict';
// Cameras sharded over two Node-RED processes (README, "Scaling"): two gateway processes, each with
// its own camera — both called cam1, as every gateway's first camera is — run the real pipeline
// (ffmpeg → yolox_nano → track → line-count) on the TUD-Campus recording and write line_crossings to ONE real InfluxDB, each tagging
// its points with its gateway name from its environment (influx-write Tags = ${EDGEVISION_INFLUX_TAGS}).
// The database keeps the two gateways' series apart although their camera ids are the same, and the
// roll-up is right: per series SUM(delta) equals LAST(count) (no delta lost or doubled), each
// gateway's series add up to its roll-up, and the plant total is the sum of the gateways'.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startInfluxd, stopAll } = require('../helpers/influx-servers');
const { startGatewayChild, stopChild } = require('../helpers/gateway-child');
const { asset } = require('../helpers/assets');
const { waitFor, sleep } = require('../helpers/wait');

const LINES = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'lines', 'TUD-Campus.json'), 'utf8'));

function shardFlow(dbPort, spoolDir) {
  const z = 'shard';
  return [
    { id: z, type: 'tab', label: 'shard' },
    { id: 'm', type: 'vision-model', model: asset('models/yolox_nano.onnx'), format: 'auto', providers: 'cpu', threads: 1 },
    { id: 'db', type: 'vision-influxdb', version: '1.x', host: '127.0.0.1', port: dbPort, database: 'plant', spoolDir },
    { id: 'cam', type: 'vision-camera-source', z, camera: 'cam1', url: asset('video/TUD-Campus.mp4'), realtime: false, loop: false, wires: [['det']] },
    { id: 'det', type: 'vision-detect', z, model: 'm', conf: 0.5, classes: 'person', wires: [['trk']] },
    { id: 'trk', type: 'vision-track', z, wires: [['cnt'], ['cnt']] },
    { id: 'cnt', type: 'vision-line-count', z, geometry: JSON.stringify(LINES), metricsInterval: 1, wires: [[], [], ['w']] },
    { id: 'w', type: 'vision-influx-write', z, influxdb: 'db', tags: '${EDGEVISION_INFLUX_TAGS}', batchSize: 100, flushInterval: 100, wires: [[], []] },
  ];
}

describe('sharding: two Node-RED processes, one InfluxDB (e2e)', function () {
  this.timeout(240000);
  let db;
  const children = [];
  let tmp;

  before(async function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-shard-'));
    db = await startInfluxd();
    await db.createDatabase('plant');
  });
  after(async function () {
    await Promise.all(children.map((c) => stopChild(c)));
    if (db) await db.destroy();
    await stopAll();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('each gateway keeps its own series; the plant roll-up is the sum of the gateways', async function () {
    for (const gw of ['gw-a', 'gw-b']) {
      const dir = path.join(tmp, gw);
      fs.mkdirSync(dir);
      const flowFile = path.join(dir, 'shard.json');
      fs.writeFileSync(flowFile, JSON.stringify(shardFlow(db.port, path.join(dir, 'spool'))));
      children.push(
        startGatewayChild({ port: 0, userDir: dir, flowFile, resetFlows: true, realtime: false }, { EDGEVISION_INFLUX_TAGS: `gateway=${gw}, site=plant-1` }),
      );
    }
    await waitFor(() => children.every((c) => c.url()), 60000, 'both gateways listening');

    // The recording ends; the last metrics tick carries the final totals. Settled = unchanged for 4 s.
    const perGateway = async () => {
      const r = await db.query('SELECT SUM("delta") FROM "line_crossings" GROUP BY "gateway"', 'plant');
      return Object.fromEntries((r.series || []).map((s) => [s.tags.gateway, s.values[0][1]]));
    };
    let last = '';
    let stable = 0;
    await waitFor(
      async () => {
        const now = JSON.stringify(await perGateway());
        stable = now === last && now !== '{}' ? stable + 1 : 0;
        last = now;
        if (stable < 5) await sleep(1000);
        return stable >= 5;
      },
      200000,
      'both gateways done counting',
      0,
    );
    const sums = await perGateway();
    assert.deepStrictEqual(Object.keys(sums).sort(), ['gw-a', 'gw-b'], `two gateways' series: ${JSON.stringify(sums)}`);
    // Each gateway counted people on its own (how many depends on the frames its detector kept up
    // with while two processes share two cores: a full-speed replay drops frames while a model loads).
    assert.ok(sums['gw-a'] > 0 && sums['gw-b'] > 0, `people crossed the lines on both: ${JSON.stringify(sums)}`);

    // Per gateway, line and direction: the deltas add up to the cumulative count (nothing lost, nothing twice).
    const series = async (agg) => {
      const r = await db.query(`SELECT ${agg} FROM "line_crossings" GROUP BY "gateway","camera","line","direction"`, 'plant');
      return Object.fromEntries(r.series.map((s) => [`${s.tags.gateway}/${s.tags.camera}/${s.tags.line}/${s.tags.direction}`, s.values[0][1]]));
    };
    const deltas = await series('SUM("delta")');
    const counts = await series('LAST("count")');
    assert.deepStrictEqual(deltas, counts);
    for (const k of Object.keys(counts)) assert.match(k, /^gw-[ab]\/cam1\/x(25|50|75)\/(in|out)$/);
    for (const gw of ['gw-a', 'gw-b']) {
      const mine = Object.entries(counts).filter(([k]) => k.startsWith(`${gw}/`));
      assert.strictEqual(
        mine.reduce((a, [, v]) => a + v, 0),
        sums[gw],
        `${gw}: its series add up to its roll-up`,
      );
    }

    // The plant view: one number over every gateway, and the site tag on every point.
    const total = await db.scalar('SELECT SUM("delta") FROM "line_crossings" WHERE "site" = \'plant-1\'', 'plant');
    assert.strictEqual(total, sums['gw-a'] + sums['gw-b']);
  });
});
