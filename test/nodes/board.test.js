'use strict';
// The dashboard drawing board's routes (nodes/shared/board.ts) on running vision-line-count and
// vision-productivity-state nodes: a change reaches the node, keeps the totals of lines that keep
// their name, is stored like a config message, is audited (log line, geometry-changed event) and can
// be undone; stale and wrong changes are refused with the reason. Node-RED's permission rule decides
// who may change (the roles are checked end to end in test/e2e/dashboard-board.test.js).
const assert = require('assert');
const helper = require('node-red-node-test-helper');
const lineCountNode = require('../../dist/nodes/line-count/line-count.js');
const productivityNode = require('../../dist/nodes/productivity-state/productivity-state.js');
const { hasPermission, revision, BoardEdits, MAX_BOARD_HISTORY } = require('../../dist/nodes/shared/board.js');
const { waitFor } = require('../helpers/wait');

helper.init(require.resolve('node-red'));

const W = 1000;
const H = 1000;
const DOOR = { name: 'door', start: [0.2, 0.5], end: [0.8, 0.5] };

function frame(seq, dets) {
  return {
    topic: 'cam',
    payload: { camera: 'cam', frame: { camera: 'cam', seq, tMs: 1000 + seq * 40, width: W, height: H, format: 'rgb24' }, detections: dets },
  };
}
function person(id, fx, fy) {
  return { box: [fx * W - 20, fy * H - 100, fx * W + 20, fy * H], score: 0.9, classId: 0, label: 'person', trackId: id, trackState: 'confirmed' };
}
/** Track `id` walking down from y0 to y1 at x, in 20 frames from seq0. */
function walk(id, x, y0, y1, seq0) {
  return Array.from({ length: 20 }, (_, i) => frame(seq0 + i, [person(id, x, y0 + ((y1 - y0) * i) / 19)]));
}

function lineCountFlow() {
  const at = { x: 100, y: 100, z: 'tab1' };
  return [
    { id: 'tab1', type: 'tab', label: 'board' },
    {
      id: 'lc',
      ...at,
      type: 'vision-line-count',
      name: 'door counter',
      geometry: JSON.stringify({ lines: [DOOR], zones: [] }),
      metricsInterval: 0,
      wires: [['frames'], ['events'], []],
    },
    { id: 'frames', ...at, type: 'helper' },
    { id: 'events', ...at, type: 'helper' },
  ];
}

function collect(id) {
  const got = [];
  helper.getNode(id).on('input', (m) => got.push(m));
  return got;
}

const board = (type, id) => `/${type}/${id}/board`;

describe('dashboard drawing board routes (node)', function () {
  afterEach(async function () {
    await helper.unload();
  });

  it('a line moved from the board counts the next crossing where it is now, keeping its total; undo puts it back', async function () {
    await helper.load([lineCountNode], lineCountFlow());
    const lc = helper.getNode('lc');
    const frames = collect('frames');
    const all = collect('events');
    const events = { get length() { return this.list().length; }, list: () => all.filter((m) => m.payload.event === 'geometry-changed') }; // prettier-ignore
    const logged = [];
    lc.log = (t) => logged.push(String(t));

    // Someone walks down across the door at x = 0.5: one "in" on door.
    let seq = 0;
    for (const m of walk(1, 0.5, 0.3, 0.7, seq)) lc.receive(m);
    seq += 20;
    await waitFor(() => frames.length === 20, 5000, '20 frames');
    assert.deepStrictEqual(frames[19].payload.counts, { door: { in: 1, out: 0 } });

    const s0 = (await helper.request().get(board('vision-line-count', 'lc')).expect(200)).body;
    assert.deepStrictEqual(s0.geometry, { lines: [DOOR], zones: [] });
    assert.strictEqual(s0.rev, revision(JSON.stringify({ lines: [DOOR], zones: [] })));
    assert.strictEqual(s0.canEdit, true, 'no adminAuth: no roles, anyone may edit (as in the editor)');
    assert.strictEqual(s0.user, 'no login');
    assert.strictEqual(s0.canUndo, false);

    // The board moves door down to y = 0.8 (same name) and adds a line "aisle".
    const moved = {
      lines: [
        { ...DOOR, start: [0.2, 0.8], end: [0.8, 0.8] },
        { name: 'aisle', start: [0.6, 0.1], end: [0.6, 0.2] },
      ],
      zones: [],
    };
    const s1 = (await helper.request().put(board('vision-line-count', 'lc')).send({ geometry: moved, rev: s0.rev }).expect(200)).body;
    assert.deepStrictEqual(s1.geometry, moved);
    assert.strictEqual(s1.canUndo, true);
    assert.deepStrictEqual(
      s1.history.map((h) => [h.action, h.by, h.undone]),
      [['edit', 'no login', false]],
    );
    assert.deepStrictEqual(JSON.parse(lc.context().get('geometry').values), moved, 'kept in context, as a config message is');

    // Audited: an event on output 2 with who, when, before and after, and a log line.
    await waitFor(() => events.length === 1, 2000, 'the geometry-changed event');
    const ev = events.list()[0];
    assert.strictEqual(ev.topic, 'geometry');
    assert.deepStrictEqual(
      [ev.payload.event, ev.payload.node, ev.payload.field, ev.payload.action, ev.payload.by],
      ['geometry-changed', 'lc', 'geometry', 'edit', 'no login'],
    );
    assert.deepStrictEqual(ev.payload.before, { lines: [DOOR], zones: [] });
    assert.deepStrictEqual(ev.payload.after, moved);
    assert.ok(Math.abs(ev.payload.tMs - Date.now()) < 60000);
    assert.ok(
      logged.some((t) => /geometry changed from a dashboard by no login: before .*"end":\[0\.8,0\.5\].* after .*"end":\[0\.8,0\.8\]/.test(t)),
      logged.join('\n'),
    );

    // A walk from 0.3 to 0.7 no longer crosses door; one from 0.6 to 0.95 does: the total goes on from 1.
    for (const m of walk(2, 0.5, 0.3, 0.7, seq)) lc.receive(m);
    seq += 20;
    for (const m of walk(3, 0.5, 0.6, 0.95, seq)) lc.receive(m);
    seq += 20;
    await waitFor(() => frames.length === 60, 5000, '60 frames');
    assert.deepStrictEqual(frames[39].payload.counts, { door: { in: 1, out: 0 }, aisle: { in: 0, out: 0 } }, 'the old place counts no more');
    assert.deepStrictEqual(frames[59].payload.counts, { door: { in: 2, out: 0 }, aisle: { in: 0, out: 0 } }, 'the new place counts, on the kept total');

    // Undo: the door goes back up, its total stays, "aisle" is gone.
    const s2 = (
      await helper
        .request()
        .post(board('vision-line-count', 'lc') + '/undo')
        .send({ rev: s1.rev })
        .expect(200)
    ).body;
    assert.deepStrictEqual(s2.geometry, { lines: [DOOR], zones: [] });
    assert.strictEqual(s2.canUndo, false);
    assert.deepStrictEqual(
      s2.history.map((h) => [h.action, h.undone]),
      [
        ['undo', false],
        ['edit', true],
      ],
    );
    await waitFor(() => events.length === 2, 2000, 'the undo event');
    const e1 = events.list()[1];
    assert.deepStrictEqual([e1.payload.action, e1.payload.before, e1.payload.after], ['undo', moved, { lines: [DOOR], zones: [] }]);
    for (const m of walk(4, 0.5, 0.3, 0.7, seq)) lc.receive(m);
    await waitFor(() => frames.length === 80, 5000, '80 frames');
    assert.deepStrictEqual(frames[79].payload.counts, { door: { in: 3, out: 0 } });
    assert.deepStrictEqual(JSON.parse(lc.context().get('geometry').values), { lines: [DOOR], zones: [] });
    const undone = (
      await helper
        .request()
        .post(board('vision-line-count', 'lc') + '/undo')
        .send({ rev: s2.rev })
        .expect(409)
    ).body;
    assert.match(undone.error, /nothing to undo/);
  });

  it('refuses a change made on an older geometry (409, with the current one) and a wrong one (400, with the reason); nothing changes', async function () {
    await helper.load([lineCountNode], lineCountFlow());
    const lc = helper.getNode('lc');
    const events = collect('events');
    const s0 = (await helper.request().get(board('vision-line-count', 'lc')).expect(200)).body;
    // A config message changes the lines meanwhile.
    const other = { lines: [{ name: 'gate', start: [0, 0.6], end: [1, 0.6] }], zones: [] };
    lc.receive({ topic: 'config', payload: other });
    await waitFor(() => JSON.parse((lc.context().get('geometry') || {}).values || '{}').lines?.[0]?.name === 'gate', 2000, 'the config message');
    const stale = (
      await helper
        .request()
        .put(board('vision-line-count', 'lc'))
        .send({ geometry: { lines: [], zones: [] }, rev: s0.rev })
        .expect(409)
    ).body;
    assert.match(stale.error, /changed since this board loaded it/);
    assert.deepStrictEqual(stale.current, other);
    const bad = (
      await helper
        .request()
        .put(board('vision-line-count', 'lc'))
        .send({ geometry: { lines: [{ name: 'x', start: [0, 0], end: [2, 0] }] }, rev: stale.rev })
        .expect(400)
    ).body;
    assert.match(bad.error, /lines\[0\]\.end x = 2 is outside 0\.\.1/);
    await helper.request().put(board('vision-line-count', 'lc')).send({ rev: stale.rev }).expect(400);
    const s1 = (await helper.request().get(board('vision-line-count', 'lc')).expect(200)).body;
    assert.deepStrictEqual(s1.geometry, other, 'unchanged');
    assert.strictEqual(events.length, 0, 'no event for a refused change');
    await helper.request().get(board('vision-line-count', 'nope')).expect(404);
    await helper.request().get(board('vision-productivity-state', 'lc')).expect(404);
  });

  it('undo is refused once the geometry changed by other means after the change', async function () {
    await helper.load([lineCountNode], lineCountFlow());
    const lc = helper.getNode('lc');
    const s0 = (await helper.request().get(board('vision-line-count', 'lc')).expect(200)).body;
    const g = { lines: [{ ...DOOR, name: 'entry' }], zones: [] };
    const s1 = (await helper.request().put(board('vision-line-count', 'lc')).send({ geometry: g, rev: s0.rev }).expect(200)).body;
    lc.receive({ topic: 'config', payload: { lines: [DOOR] } });
    await waitFor(() => JSON.parse(lc.context().get('geometry').values).lines[0].name === 'door', 2000, 'the config message');
    const s2 = (await helper.request().get(board('vision-line-count', 'lc')).expect(200)).body;
    assert.strictEqual(s2.canUndo, false);
    assert.notStrictEqual(s2.rev, s1.rev);
    const r = (
      await helper
        .request()
        .post(board('vision-line-count', 'lc') + '/undo')
        .send({ rev: s2.rev })
        .expect(409)
    ).body;
    assert.match(r.error, /nothing to undo/);
  });

  it('productivity-state: stations changed from the board reach the engine, persist with the runtime settings, and undo', async function () {
    const stations = {
      zones: [
        {
          name: 'bench',
          camera: 'cam',
          polygon: [
            [0.1, 0.1],
            [0.4, 0.1],
            [0.4, 0.4],
          ],
        },
      ],
    };
    const at = { x: 1, y: 1, z: 'tab1' };
    await helper.load(
      [productivityNode],
      [
        { id: 'tab1', type: 'tab', label: 't' },
        { id: 'ps', ...at, type: 'vision-productivity-state', stations: JSON.stringify(stations), kpiIntervalS: 0, wires: [['frames'], ['events'], []] },
        { id: 'frames', ...at, type: 'helper' },
        { id: 'events', ...at, type: 'helper' },
      ],
    );
    const ps = helper.getNode('ps');
    const frames = collect('frames');
    const events = collect('events');
    const s0 = (await helper.request().get(board('vision-productivity-state', 'ps')).expect(200)).body;
    assert.deepStrictEqual(s0.geometry, stations);
    assert.strictEqual(s0.field, 'stations');
    const next = {
      zones: [
        { ...stations.zones[0], polygon: [[0.5, 0.5], [0.9, 0.5], [0.9, 0.9]] }, // prettier-ignore
        { name: 'press', polygon: [[0, 0.6], [0.2, 0.6], [0.2, 0.9]] }, // prettier-ignore
      ],
    };
    const s1 = (await helper.request().put(board('vision-productivity-state', 'ps')).send({ geometry: next, rev: s0.rev }).expect(200)).body;
    assert.deepStrictEqual(s1.geometry, next);
    assert.deepStrictEqual(JSON.parse(ps.context().get('config').values.stations), next, 'kept like a config message {stations}');
    await waitFor(() => events.some((m) => m.payload.event === 'geometry-changed'), 2000, 'the event');
    const ev = events.find((m) => m.payload.event === 'geometry-changed');
    assert.deepStrictEqual([ev.topic, ev.payload.field, ev.payload.before, ev.payload.after], ['stations', 'stations', stations, next]);
    ps.receive({ topic: 'cam', payload: { camera: 'cam', frame: { camera: 'cam', seq: 1, tMs: 1000, width: W, height: H }, detections: [] } });
    await waitFor(() => frames.length === 1, 5000, 'a frame');
    assert.deepStrictEqual(Object.keys(frames[0].payload.stations).sort(), ['bench', 'press'], 'the engine runs on the new stations');
    const s2 = (
      await helper
        .request()
        .post(board('vision-productivity-state', 'ps') + '/undo')
        .send({ rev: s1.rev })
        .expect(200)
    ).body;
    assert.deepStrictEqual(s2.geometry, stations);
    ps.receive({ topic: 'cam', payload: { camera: 'cam', frame: { camera: 'cam', seq: 2, tMs: 1040, width: W, height: H }, detections: [] } });
    await waitFor(() => frames.length === 2, 5000, 'a frame');
    assert.deepStrictEqual(Object.keys(frames[1].payload.stations), ['bench']);
  });

  it('serves the widget code: the editor board, then the widget', async function () {
    await helper.load([lineCountNode], lineCountFlow());
    const r = await helper.request().get('/vision-board/widget.js').expect(200);
    assert.match(r.headers['content-type'], /javascript/);
    assert.ok(r.text.indexOf('window.EdgeVisionBoard = ') < r.text.indexOf('window.EdgeVisionBoardWidget = '), 'board first, then the widget');
    assert.match(r.text, /GeometryBoard: GeometryBoard/);
  });
});

describe('dashboard drawing board: roles and history (unit)', function () {
  it("Node-RED's permission rule: a read user may look, a write or * user (or one given the type's write) may change", function () {
    const w = 'vision-line-count.write';
    assert.strictEqual(hasPermission('*', w), true);
    assert.strictEqual(hasPermission('read', w), false);
    assert.strictEqual(hasPermission('read', 'vision-line-count.read'), true);
    assert.strictEqual(hasPermission(['read', w], w), true);
    assert.strictEqual(hasPermission(['read', 'vision-productivity-state.write'], w), false);
    assert.strictEqual(hasPermission('write', w), true);
    assert.strictEqual(hasPermission(undefined, w), false);
  });

  it("the gateway's operator login may change lines, zones and stations, not deploy; it needs an admin login", function () {
    const { authSettings } = require('../../flows/gateway.js');
    const env = { EDGEVISION_ADMIN_USER: 'boss', EDGEVISION_ADMIN_PASSWORD: 'a', EDGEVISION_OPERATOR_USER: 'ot', EDGEVISION_OPERATOR_PASSWORD: 'b' };
    const ot = authSettings(env, '127.0.0.1').adminAuth.users.find((u) => u.username === 'ot');
    assert.strictEqual(hasPermission(ot.permissions, 'vision-line-count.write'), true);
    assert.strictEqual(hasPermission(ot.permissions, 'vision-productivity-state.write'), true);
    assert.strictEqual(hasPermission(ot.permissions, 'vision-line-count.read'), true);
    assert.strictEqual(hasPermission(ot.permissions, 'flows.write'), false, 'no deploy');
    assert.throws(
      () => authSettings({ EDGEVISION_OPERATOR_USER: 'ot', EDGEVISION_OPERATOR_PASSWORD: 'b' }, '127.0.0.1'),
      /OPERATOR_USER needs EDGEVISION_ADMIN_USER/,
    );
  });

  it('keeps the last changes only, restores them from context, and undoes them one after another', function () {
    let text = JSON.stringify({ lines: [], zones: [] });
    let kept = [{ action: 'edit', by: 'x', tMs: 1, before: 'a', after: 'b' }, { junk: true }];
    const sent = [];
    // Only what BoardEdits uses of its node: the id and log.
    const node = /** @type {import('../../dist/nodes/shared/red').Node} */ (/** @type {unknown} */ ({ id: 'n', log: () => {} }));
    const b = new BoardEdits(
      node,
      {
        field: 'geometry',
        current: () => text,
        apply: (t) => {
          JSON.parse(t);
          text = t;
        },
        emit: (p) => sent.push(p),
        loadHistory: () => kept,
        saveHistory: (h) => (kept = h),
      },
      () => 42,
    );
    assert.strictEqual(b.state().history.length, 1, 'the malformed entry is dropped');
    const geoms = [];
    for (let i = 0; i < MAX_BOARD_HISTORY + 3; i++) {
      const g = { lines: [{ name: 'l' + i, start: [0, 0], end: [1, 1] }], zones: [] };
      geoms.push(JSON.stringify(g));
      b.edit(g, 'ann', b.state().rev);
    }
    assert.strictEqual(kept.length, MAX_BOARD_HISTORY);
    b.undo('bob', b.state().rev);
    b.undo('bob', b.state().rev);
    assert.strictEqual(text, geoms[geoms.length - 3], 'two undos: back two changes');
    assert.deepStrictEqual(
      b
        .state()
        .history.slice(0, 4)
        .map((h) => [h.action, h.by, h.undone]),
      [
        ['undo', 'bob', false],
        ['undo', 'bob', false],
        ['edit', 'ann', true],
        ['edit', 'ann', true],
      ],
    );
    assert.deepStrictEqual(
      sent.slice(-1).map((e) => [e.action, e.by, e.tMs]),
      [['undo', 'bob', 42]],
    );
    assert.throws(() => b.edit('{"lines":[]}', 'ann', 'stale'), /changed since/);
  });
});
