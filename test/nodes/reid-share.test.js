'use strict';
// vision-reid's MQTT settings in a real Node-RED runtime (node-red-node-test-helper) against a real
// mosquitto with a password file: bad settings are red with the field named and fail frames to
// Catch; the login comes from the node's credentials; a wrong one is refused by the broker and shown
// on the status while frames keep flowing with ids; calibrated cameras put floor points on detections.
const assert = require('assert');
const helper = require('node-red-node-test-helper');
const reidNode = require('../../dist/nodes/reid/reid.js');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const statusNode = require('@node-red/nodes/core/common/25-status.js');
const tlsNode = require('@node-red/nodes/core/network/05-tls.js');
const { startMosquitto } = require('../helpers/mosquitto');
const { waitFor } = require('../helpers/wait');

helper.init(require.resolve('node-red'));
const NODES = [reidNode, catchNode, statusNode, tlsNode];

function flow(props, extra = []) {
  const z = 'tab1';
  // Nodes without a position would be taken for config nodes.
  const at = { x: 100, y: 100 };
  return [
    { id: z, type: 'tab', label: 'reid share' },
    { id: 'reid', z, ...at, type: 'vision-reid', embedder: 'colour', wires: [['out'], []], ...props },
    { id: 'out', z, ...at, type: 'helper' },
    { id: 'catch', z, ...at, type: 'catch', scope: ['reid'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z, ...at, type: 'helper' },
    { id: 'stat', z, ...at, type: 'status', scope: ['reid'], wires: [['statuses']] },
    { id: 'statuses', z, ...at, type: 'helper' },
    ...extra,
  ];
}

async function load(props, credentials, extra) {
  await helper.load(NODES, flow(props, extra), credentials ? { reid: credentials } : undefined);
  const got = { out: [], caught: [], statuses: [] };
  for (const k of Object.keys(got)) helper.getNode(k).on('input', (m) => got[k].push(m));
  return { reid: helper.getNode('reid'), got };
}

const frame = (tMs, trackId = 1) => ({
  topic: 'cam-1',
  payload: {
    camera: 'cam-1',
    frame: { camera: 'cam-1', seq: 0, tMs, width: 640, height: 480 },
    detections: [{ box: [100, 100, 150, 300], score: 1, classId: 0, label: 'person', trackId }],
  },
});

describe('vision-reid: sharing settings, credentials, floor positions (mosquitto)', function () {
  this.timeout(30000);
  let broker;
  before(async () => {
    broker = await startMosquitto({ users: { edge: 'pw-1' } });
    await helper.startServer();
  });
  afterEach(() => helper.unload());
  after(async () => {
    await helper.stopServer();
    if (broker) await broker.destroy();
  });

  /** @type {[Record<string, unknown>, RegExp][]} */
  const bad = [
    [{ share: true, broker: 'http://x', gateway: 'gw' }, /broker must be an mqtt:\/\/, mqtts:\/\/, ws:\/\/ or wss:\/\/ URL, got "http:\/\/x"/],
    [{ share: true, broker: 'mqtt://127.0.0.1:1', gateway: 'a b' }, /gateway id must be 1–64 letters/],
    [{ share: true, broker: 'mqtt://127.0.0.1:1', gateway: 'gw', topicRoot: 'a/#' }, /topic root must be a topic without wildcards/],
    [{ share: true, broker: 'mqtt://127.0.0.1:1', gateway: 'gw', shareQueue: 0 }, /queue while offline must be a whole number 1–100000/],
    [{ share: true, broker: 'mqtt://127.0.0.1:1', gateway: 'gw', shareLiveS: 61 }, /live updates every must be a number 0–60/],
    [{ share: true, broker: 'mqtt://127.0.0.1:1', gateway: 'gw', mqttTls: 'nope' }, /TLS configuration chosen for MQTT is not deployed/],
  ];
  for (const [props, reason] of bad) {
    it(`refuses ${JSON.stringify(props)}: red status, frames fail to Catch`, async () => {
      const h = await load(props);
      h.reid.receive(frame(0));
      await waitFor(() => h.got.caught.length === 1, 3000, 'catch');
      assert.match(h.got.caught[0].error.message, reason);
      assert.ok(h.got.statuses.some((m) => m.status.fill === 'red' && reason.test(m.status.text)) || reason.test(h.got.caught[0].error.message));
    });
  }

  it('logs in with the credentials; a wrong password is refused by the broker and shown, frames keep their ids', async () => {
    let h = await load({ share: true, broker: broker.url, gateway: 'gw-1' }, { mqttUser: 'edge', mqttPassword: 'pw-1' });
    await waitFor(() => h.reid.reidShare() && h.reid.reidShare().state === 'connected', 10000, 'connected');
    await helper.unload();
    h = await load({ share: true, broker: broker.url, gateway: 'gw-1' }, { mqttUser: 'edge', mqttPassword: 'wrong' });
    await waitFor(() => h.reid.reidShare() && /Not authorized|Bad user/i.test(h.reid.reidShare().lastError || ''), 10000, 'refused login');
    for (let k = 0; k < 60; k++) h.reid.receive(frame(k * 40));
    await waitFor(() => h.got.out.length === 60, 5000, 'frames out');
    assert.strictEqual(h.got.out[59].payload.detections[0].globalId, 'gw-1:p1', 'ids keep flowing, gateway-prefixed');
    await waitFor(() => h.got.statuses.some((m) => m.status.fill === 'yellow' && /mqtt/.test(m.status.text)), 3000, 'yellow mqtt status').catch((e) => {
      throw new Error(`${e.message}: ${JSON.stringify(h.got.statuses.map((m) => m.status))}`);
    });
    assert.strictEqual(h.got.caught.length, 0);
  });

  it('TLS through a tls-config node: the broker is verified against the CA; without the CA it is refused', async () => {
    const tlsBroker = await startMosquitto({ users: { edge: 'pw-1' }, tls: true });
    try {
      const creds = { mqttUser: 'edge', mqttPassword: 'pw-1' };
      const conf = (ca) => [{ id: 'tls', type: 'tls-config', name: 'plant CA', cert: '', key: '', ca, verifyservercert: true }];
      let h = await load({ share: true, broker: tlsBroker.url, gateway: 'gw-tls', mqttTls: 'tls' }, creds, conf(tlsBroker.ca));
      await waitFor(() => h.reid.reidShare() && h.reid.reidShare().state === 'connected', 10000, 'connected over TLS');
      await helper.unload();
      h = await load({ share: true, broker: tlsBroker.url, gateway: 'gw-tls', mqttTls: 'tls' }, creds, conf(''));
      await waitFor(
        () => h.reid.reidShare() && /self[- ]signed|unable to verify|certificate/i.test(h.reid.reidShare().lastError || ''),
        10000,
        'certificate refused',
      );
      assert.notStrictEqual(h.reid.reidShare().state, 'connected');
    } finally {
      await helper.unload();
      await tlsBroker.destroy();
    }
  });

  it('a calibrated camera: floor positions on the detections', async () => {
    const calibrations = JSON.stringify({
      'cam-1': {
        image: [
          [0, 0],
          [640, 0],
          [640, 480],
          [0, 480],
        ],
        floor: [
          [0, 0],
          [64, 0],
          [64, 48],
          [0, 48],
        ],
      },
    });
    const h = await load({ calibrations, name: 'floor-reid' });
    for (let k = 0; k < 60; k++) h.reid.receive(frame(k * 40, 7));
    await waitFor(() => h.got.out.length === 60, 5000, 'frames out');
    assert.deepStrictEqual(h.got.out[59].payload.detections[0].floor, [12.5, 30]);
    // The route itself (on httpNode, which the test helper does not serve) is read in test/e2e/reid-gateways.test.js.
  });
});
