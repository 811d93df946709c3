'use strict';
// The dead-letter file: batches the server refused as malformed, kept with the reason and the time,
// replayable after the fix; torn lines never swallow an entry; its cap; the replay command's core.
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { DeadLetter, sendDeadLetter, DEAD_LETTER_FILE } = require('../../dist/nodes/lib/influx/deadletter.js');
const { TransportError } = require('../../dist/nodes/lib/influx/transport.js');

/** @type {(i: number, extra?: Partial<import('../../dist/nodes/lib/influx/deadletter').DeadLetterEntry>) => import('../../dist/nodes/lib/influx/deadletter').DeadLetterEntry} */
const entry = (i, extra = {}) => ({
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  status: 400,
  reason: `400: unable to parse 'm v= ${i}'`,
  precision: 'ms',
  points: 2,
  owner: 'w1',
  body: `m v=${i} ${i}\nm v=${i + 0.5} ${i + 1}`,
  ...extra,
});

/** A server stand-in: refuses bodies containing "bad", fails all writes while `down`. */
function fakeServer() {
  const t = {
    written: [],
    down: false,
    async write(body, precision) {
      if (t.down) throw new TransportError('server unreachable: ECONNREFUSED', 'retry');
      if (body.includes('bad')) throw new TransportError('400: field type conflict', 'reject', 400);
      t.written.push([body, precision]);
    },
  };
  return t;
}

describe('influx dead-letter file', function () {
  let dir;
  let file;
  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-dl-'));
    file = path.join(dir, DEAD_LETTER_FILE);
  });
  afterEach(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps one JSON line per refused batch, with the reason and the time, and reads them back', async function () {
    const dl = new DeadLetter({ dir });
    assert.deepStrictEqual(await dl.read(), { entries: [], damaged: 0, bytes: 0 });
    assert.strictEqual(await dl.append(entry(1)), true);
    assert.strictEqual(await dl.append(entry(2, { status: 413 })), true);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    assert.strictEqual(lines.length, 3);
    assert.deepStrictEqual(JSON.parse(lines[0]), entry(1));
    const r = await dl.read();
    assert.deepStrictEqual(r.entries, [entry(1), entry(2, { status: 413 })]);
    assert.strictEqual(r.damaged, 0);
  });

  it('a torn last line (a crash mid-append) is kept and counted, and does not swallow the next entry', async function () {
    const dl = new DeadLetter({ dir });
    await dl.append(entry(1));
    fs.appendFileSync(file, JSON.stringify(entry(2)).slice(0, 25)); // torn: no newline
    await dl.append(entry(3));
    const r = await dl.read();
    assert.deepStrictEqual(
      r.entries.map((e) => e.body),
      [entry(1).body, entry(3).body],
    );
    assert.strictEqual(r.damaged, 1);
  });

  it('refuses a new entry beyond its cap, keeping the older ones', async function () {
    const dl = new DeadLetter({ dir, maxBytes: 1024 });
    let kept = 0;
    for (let i = 0; i < 20; i++) if (await dl.append(entry(i))) kept++;
    assert.ok(kept > 0 && kept < 20, `${kept} kept`);
    assert.ok(fs.statSync(file).size <= 1024);
    assert.deepStrictEqual(
      (await dl.read()).entries.map((e) => e.time),
      Array.from({ length: kept }, (_, i) => entry(i).time),
    );
  });

  it('replay: entries sent leave the file, refused ones stay, a throw stops there; damaged lines stay', async function () {
    const dl = new DeadLetter({ dir });
    for (let i = 0; i < 5; i++) await dl.append(entry(i));
    fs.appendFileSync(file, 'not json\n');
    const seen = [];
    const r = await dl.replay(async (e) => {
      seen.push(e.time);
      if (e.time === entry(1).time) return false; // refused again
      if (e.time === entry(3).time) throw new Error('server away');
      return true;
    });
    assert.deepStrictEqual(r, { batches: 2, points: 4, left: 4, error: 'server away' });
    assert.deepStrictEqual(
      seen,
      [0, 1, 2, 3].map((i) => entry(i).time),
    );
    const left = await dl.read();
    assert.deepStrictEqual(
      left.entries.map((e) => e.time),
      [1, 3, 4].map((i) => entry(i).time),
    );
    assert.strictEqual(left.damaged, 1);
    assert.ok(!fs.existsSync(file + '.tmp'));
  });

  it('replay keeps what another process appended while it ran', async function () {
    const dl = new DeadLetter({ dir });
    await dl.append(entry(0));
    const other = new DeadLetter({ dir }); // e.g. Node-RED appending while the command replays
    const r = await dl.replay(async () => {
      fs.appendFileSync(file, JSON.stringify(entry(9)) + '\n');
      return true;
    });
    assert.strictEqual(r.batches, 1);
    assert.deepStrictEqual((await other.read()).entries, [entry(9)]);
  });

  describe('sendDeadLetter (the influx-replay-deadletter command)', function () {
    it('writes each entry once, keeps those refused again, and says what happened', async function () {
      const dl = new DeadLetter({ dir });
      await dl.append(entry(1));
      await dl.append(entry(2, { body: 'm v=bad 1' }));
      await dl.append(entry(3, { precision: 'us' }));
      const t = fakeServer();
      const log = [];
      const r = await sendDeadLetter(dl, t, { log: (l) => log.push(l) });
      assert.deepStrictEqual(r, { batches: 2, points: 4, left: 1, refused: 1 });
      assert.deepStrictEqual(t.written, [
        [entry(1).body, 'ms'],
        [entry(3).body, 'us'],
      ]);
      assert.deepStrictEqual(
        (await dl.read()).entries.map((e) => e.body),
        ['m v=bad 1'],
      );
      assert.match(log[1], /entry 2: 2 points refused again, kept: 400: field type conflict/);
    });

    it('splits an entry into writes of at most maxLines lines (a batch refused as too large)', async function () {
      const dl = new DeadLetter({ dir });
      const body = Array.from({ length: 7 }, (_, i) => `m v=${i} ${i}`).join('\n');
      await dl.append(entry(1, { body, points: 7, status: 413 }));
      const t = fakeServer();
      const r = await sendDeadLetter(dl, t, { maxLines: 3 });
      assert.strictEqual(r.batches, 1);
      assert.deepStrictEqual(
        t.written.map(([b]) => b.split('\n').length),
        [3, 3, 1],
      );
      assert.strictEqual(t.written.map(([b]) => b).join('\n'), body);
    });

    it('stops at a server that is away, keeping that entry and the rest', async function () {
      const dl = new DeadLetter({ dir });
      for (let i = 0; i < 3; i++) await dl.append(entry(i));
      const t = fakeServer();
      t.down = true;
      const r = await sendDeadLetter(dl, t);
      assert.strictEqual(r.batches, 0);
      assert.strictEqual(r.left, 3);
      assert.match(r.error, /entry 1 .*ECONNREFUSED/);
      assert.strictEqual((await dl.read()).entries.length, 3);
    });
  });
});
