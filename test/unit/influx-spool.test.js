'use strict';
const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Spool, SpoolWriteError, encodeRecord, decodeRecords, scanRecords, crc32 } = require('../../dist/nodes/lib/influx/spool.js');

/**
 * fs.promises with faults on demand: `faults.write` is a list of what the next writes do, in turn:
 * 'enospc' throws ENOSPC, a number writes only that many bytes (a short write), 'ok' writes all.
 * `faults.datasync`, `faults.truncate`, `faults.writeFile` throw the given code when set.
 */
function faultyFs() {
  const faults = { write: [], datasync: null, truncate: null, writeFile: null };
  const fail = (code) => Object.assign(new Error(`${code}: injected`), { code });
  const wrap = (fh) => ({
    async write(buf, off, len) {
      const f = faults.write.length ? faults.write.shift() : 'ok';
      if (f === 'enospc') throw fail('ENOSPC');
      return fh.write(buf, off, typeof f === 'number' ? Math.min(f, len) : len);
    },
    read: (...a) => fh.read(...a),
    async datasync() {
      if (faults.datasync) throw fail(faults.datasync);
      return fh.datasync();
    },
    async truncate(n) {
      if (faults.truncate) throw fail(faults.truncate);
      return fh.truncate(n);
    },
    stat: () => fh.stat(),
    close: () => fh.close(),
  });
  const p = fs.promises;
  return {
    faults,
    fs: {
      mkdir: (d, o) => p.mkdir(d, o),
      readdir: (d) => p.readdir(d),
      readFile: (f) => p.readFile(f),
      async writeFile(f, d) {
        if (faults.writeFile) throw fail(faults.writeFile);
        return p.writeFile(f, d);
      },
      rename: (a, b) => p.rename(a, b),
      truncate: (f, n) => p.truncate(f, n),
      unlink: (f) => p.unlink(f),
      open: async (f, flags) => wrap(await p.open(f, flags)),
    },
  };
}
const { Batcher } = require('../../dist/nodes/lib/influx/batcher.js');
const { backoffOptions, backoffDelay, classifyStatus } = require('../../dist/nodes/lib/influx/retry.js');

const segs = (dir) =>
  fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.evs'))
    .sort();
const body = (i, n = 3) => Array.from({ length: n }, (_, k) => `m seq=${i * n + k}i ${1000 + i * n + k}`).join('\n');

async function drain(spool) {
  const out = [];
  for (;;) {
    const r = await spool.peek();
    if (!r) return out;
    out.push(r.body);
    await spool.ack(r);
  }
}

describe('influx spool', function () {
  let dir;
  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ev-spool-unit-'));
  });
  afterEach(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('crc32 matches the IEEE check value', function () {
    assert.strictEqual(crc32(Buffer.from('123456789')), 0xcbf43926);
  });

  it('encodes and decodes records, stopping at a torn one', function () {
    const a = encodeRecord('m v=1 1', 1, 'ms', 'node.1');
    const b = encodeRecord('m v=2 2\nm v=3 3', 2, 'ns', 'n/2');
    const whole = Buffer.concat([a, b]);
    const r = decodeRecords(whole, 7);
    assert.deepStrictEqual(
      r.records.map((x) => [x.body, x.points, x.precision, x.owner, x.seq]),
      [
        ['m v=1 1', 1, 'ms', 'node.1', 7],
        ['m v=2 2\nm v=3 3', 2, 'ns', 'n_2', 7],
      ],
    );
    assert.strictEqual(r.validEnd, whole.length);
    for (const cut of [a.length + 3, whole.length - 1]) {
      const t = decodeRecords(whole.subarray(0, cut), 7);
      assert.strictEqual(t.records.length, 1, `cut at ${cut}`);
      assert.strictEqual(t.validEnd, a.length);
    }
    const flipped = Buffer.from(whole);
    flipped[whole.length - 3] ^= 1; // body byte of b: crc mismatch
    assert.strictEqual(decodeRecords(flipped, 7).records.length, 1);
  });

  it('replays oldest first across segments and deletes consumed segments', async function () {
    const s = new Spool({ dir, maxBytes: 1 << 20, segmentBytes: 256 });
    await s.open();
    for (let i = 0; i < 10; i++) await s.append(body(i), 3, 'ms', 'w');
    assert.ok(segs(dir).length > 2, 'several segments');
    assert.deepStrictEqual(s.stats().backlog, 30);
    assert.deepStrictEqual(
      await drain(s),
      Array.from({ length: 10 }, (_, i) => body(i)),
    );
    assert.deepStrictEqual(segs(dir), []);
    assert.strictEqual(s.stats().backlog, 0);
    await s.append(body(10), 3, 'ms', 'w'); // usable after being emptied
    assert.deepStrictEqual(await drain(s), [body(10)]);
    await s.close();
  });

  it('survives a restart: records and the replay cursor persist', async function () {
    const s = new Spool({ dir, maxBytes: 1 << 20, segmentBytes: 300 });
    await s.open();
    for (let i = 0; i < 6; i++) await s.append(body(i), 3, 'ms', 'w');
    for (let i = 0; i < 2; i++) await s.ack(await s.peek());
    await s.close();
    const t = new Spool({ dir, maxBytes: 1 << 20, segmentBytes: 300 });
    await t.open();
    assert.strictEqual(t.stats().backlog, 12);
    await t.append(body(6), 3, 'ms', 'w');
    assert.deepStrictEqual(
      await drain(t),
      [2, 3, 4, 5, 6].map((i) => body(i)),
    );
    await t.close();
  });

  it('cuts off a torn tail on open (a crash mid-append is never acknowledged)', async function () {
    const s = new Spool({ dir });
    await s.open();
    for (let i = 0; i < 3; i++) await s.append(body(i), 3, 'ms', 'w');
    await s.close();
    const file = path.join(dir, segs(dir)[0]);
    const size = fs.statSync(file).size;
    fs.appendFileSync(file, 'EVS1 999 3 ms 0 w\nm seq=');
    const t = new Spool({ dir });
    await t.open();
    assert.strictEqual(fs.statSync(file).size, size);
    assert.deepStrictEqual(
      await drain(t),
      [0, 1, 2].map((i) => body(i)),
    );
    await t.close();
  });

  it('drops the oldest segments beyond the cap and counts exactly the points lost', async function () {
    const s = new Spool({ dir, maxBytes: 4096, segmentBytes: 512 });
    await s.open();
    let dropped = 0;
    const n = 200;
    for (let i = 0; i < n; i++) dropped += await s.append(body(i), 3, 'ms', 'w');
    const st = s.stats();
    assert.ok(dropped > 0);
    assert.strictEqual(st.dropped, dropped);
    assert.ok(st.bytes <= 4096, `${st.bytes} bytes`);
    assert.strictEqual(st.backlog + dropped, n * 3);
    const left = await drain(s);
    const first = n - left.length;
    assert.strictEqual(first * 3, dropped, 'the missing ones are the oldest');
    assert.deepStrictEqual(
      left,
      Array.from({ length: left.length }, (_, k) => body(first + k)),
    );
    await s.close();
    const t = new Spool({ dir, maxBytes: 4096, segmentBytes: 512 });
    await t.open();
    assert.strictEqual(t.stats().dropped, dropped, 'the drop counter persists');
    await t.close();
  });

  it('counts only unreplayed points when a partly replayed segment is dropped', async function () {
    const s = new Spool({ dir, maxBytes: 4096, segmentBytes: 1024 });
    await s.open();
    for (let i = 0; i < 5; i++) await s.append(body(i), 3, 'ms', 'w');
    await s.ack(await s.peek()); // 3 points replayed from the oldest segment
    let dropped = 0;
    for (let i = 5; i < 80; i++) dropped += await s.append(body(i), 3, 'ms', 'w');
    assert.strictEqual(s.stats().backlog + dropped, 80 * 3 - 3);
    await s.close();
  });

  it('ignores an ack for a record the cap dropped meanwhile', async function () {
    const s = new Spool({ dir, maxBytes: 4096, segmentBytes: 512 });
    await s.open();
    await s.append(body(0), 3, 'ms', 'w');
    const stale = await s.peek();
    for (let i = 1; i < 100; i++) await s.append(body(i), 3, 'ms', 'w');
    const before = s.stats().backlog;
    await s.ack(stale);
    assert.strictEqual(s.stats().backlog, before);
    await s.close();
  });

  describe('a full disk (injected ENOSPC and short writes)', function () {
    // Each case: what the writes of the failing append do. The append must reject, leave the spool
    // replayable with exactly the acknowledged batches, and let the next append (space back) succeed.
    const cases = [
      ['ENOSPC at once', ['enospc']],
      ['a short write, then ENOSPC', [20, 'enospc']],
      ['a short write of 0 bytes', [0]],
      ['two short writes, then ENOSPC', [5, 7, 'enospc']],
    ];
    for (const [name, writes] of cases) {
      it(`${name}: the append fails, nothing torn stays, later batches are kept`, async function () {
        const { fs: ffs, faults } = faultyFs();
        const s = new Spool({ dir, fs: ffs });
        await s.open();
        for (let i = 0; i < 3; i++) await s.append(body(i), 3, 'ms', 'w');
        const size = fs.statSync(path.join(dir, segs(dir)[0])).size;
        faults.write = [...writes];
        const err = await s.append(body(3), 3, 'ms', 'w').then(
          () => null,
          (e) => e,
        );
        assert.ok(err instanceof SpoolWriteError, `got ${err}`);
        assert.match(err.message, /3 points not spooled/);
        assert.strictEqual(fs.statSync(path.join(dir, segs(dir)[0])).size, size, 'cut back to the last whole record');
        assert.strictEqual(s.stats().backlog, 9);
        for (let i = 4; i < 6; i++) await s.append(body(i), 3, 'ms', 'w'); // space is back
        await s.close();
        const t = new Spool({ dir });
        assert.deepStrictEqual(await t.open(), [], 'nothing damaged on open');
        assert.deepStrictEqual(
          await drain(t),
          [0, 1, 2, 4, 5].map((i) => body(i)),
        );
        assert.strictEqual(t.stats().corrupt, 0);
        await t.close();
      });
    }

    it('a short write that goes on writing is not an error', async function () {
      const { fs: ffs, faults } = faultyFs();
      const s = new Spool({ dir, fs: ffs });
      await s.open();
      faults.write = [4, 9, 'ok'];
      await s.append(body(0), 3, 'ms', 'w');
      assert.deepStrictEqual(await drain(s), [body(0)]);
      await s.close();
    });

    it('a failed fsync is a failed append', async function () {
      const { fs: ffs, faults } = faultyFs();
      const s = new Spool({ dir, fs: ffs });
      await s.open();
      await s.append(body(0), 3, 'ms', 'w');
      faults.datasync = 'EIO';
      await assert.rejects(s.append(body(1), 3, 'ms', 'w'), (/** @type {NodeJS.ErrnoException} */ e) => e.code === 'EIO' && /write failed/.test(e.message));
      faults.datasync = null;
      await s.append(body(2), 3, 'ms', 'w');
      assert.deepStrictEqual(await drain(s), [body(0), body(2)]);
      await s.close();
    });

    it('when even the cut fails, the next append starts a new segment and the torn tail is cut on open', async function () {
      const { fs: ffs, faults } = faultyFs();
      const s = new Spool({ dir, fs: ffs });
      await s.open();
      await s.append(body(0), 3, 'ms', 'w');
      faults.write = [11, 'enospc'];
      faults.truncate = 'EIO';
      await assert.rejects(s.append(body(1), 3, 'ms', 'w'), /disk full or failing|disk full/);
      faults.truncate = null;
      await s.append(body(2), 3, 'ms', 'w');
      assert.strictEqual(segs(dir).length, 2, 'a new segment after the torn one');
      await s.close();
      const t = new Spool({ dir });
      assert.deepStrictEqual(await t.open(), []);
      assert.deepStrictEqual(await drain(t), [body(0), body(2)]);
      await t.close();
    });

    it('a failed first append to a new segment leaves no empty segment behind', async function () {
      const { fs: ffs, faults } = faultyFs();
      const s = new Spool({ dir, fs: ffs });
      await s.open();
      faults.write = ['enospc'];
      await assert.rejects(s.append(body(0), 3, 'ms', 'w'), SpoolWriteError);
      assert.deepStrictEqual(segs(dir), []);
      assert.deepStrictEqual(s.stats(), { segments: 0, bytes: 0, backlog: 0, dropped: 0, corrupt: 0 });
      await s.append(body(1), 3, 'ms', 'w');
      assert.deepStrictEqual(await drain(s), [body(1)]);
      await s.close();
    });

    it('a cursor or counter file that cannot be written fails neither the append nor the ack', async function () {
      const { fs: ffs, faults } = faultyFs();
      const s = new Spool({ dir, fs: ffs, maxBytes: 4096, segmentBytes: 512 });
      await s.open();
      faults.writeFile = 'ENOSPC';
      let dropped = 0;
      for (let i = 0; i < 100; i++) dropped += await s.append(body(i), 3, 'ms', 'w');
      assert.ok(dropped > 0, 'the cap dropped (meta.json not writable)');
      await s.ack(await s.peek());
      assert.strictEqual(s.stats().dropped, dropped);
      assert.ok(!fs.readdirSync(dir).some((f) => f.endsWith('.tmp')), 'no temp file left');
      await s.close();
    });
  });

  describe('damaged records in the middle of a segment (never cut what follows)', function () {
    /** Three whole records with `damage` between the first and the second. */
    function segment(damage) {
      const recs = [0, 1, 2].map((i) => encodeRecord(body(i), 3, 'ms', 'w'));
      return { buf: Buffer.concat([recs[0], damage, recs[1], recs[2]]), recs };
    }
    const torn = encodeRecord(body(9), 3, 'ms', 'w').subarray(0, 30); // what an old version acknowledged on a full disk
    const flipped = Buffer.from(encodeRecord(body(9), 3, 'ms', 'w'));
    flipped[flipped.length - 4] ^= 1;
    const garbage = Buffer.from('zz\nm x=1 1\nm x=2 2\n');
    /** @type {[string, Buffer, number][]} */
    const cases = [
      ['a torn record (header readable)', torn, 3],
      ['a record with a flipped bit', flipped, 3],
      ['garbage without a header', garbage, 2],
    ];
    for (const [name, damage, lost] of cases) {
      it(`${name}: skipped and counted (${lost} points), the records after it kept`, async function () {
        const { buf, recs } = segment(damage);
        const r = scanRecords(buf, 1);
        assert.deepStrictEqual(
          r.records.map((x) => x.body),
          [body(0), body(1), body(2)],
        );
        assert.deepStrictEqual(r.skipped, [{ offset: recs[0].length, end: recs[0].length + damage.length, points: lost }]);
        assert.strictEqual(r.validEnd, buf.length);
        fs.writeFileSync(path.join(dir, 'seg-000000000001.evs'), buf);
        const damaged = [];
        const s = new Spool({ dir, onDamaged: (d) => damaged.push(d) });
        const report = await s.open();
        assert.deepStrictEqual(report, [{ file: 'seg-000000000001.evs', offset: recs[0].length, end: recs[0].length + damage.length, points: lost }]);
        assert.deepStrictEqual(damaged, report);
        assert.strictEqual(fs.statSync(path.join(dir, 'seg-000000000001.evs')).size, buf.length, 'nothing cut');
        assert.deepStrictEqual(s.stats(), { segments: 1, bytes: buf.length, backlog: 9, dropped: 0, corrupt: lost });
        await s.ack(await s.peek());
        await s.close();
        const t = new Spool({ dir });
        assert.deepStrictEqual(await t.open(), [], 'counted once, not again on the next start');
        assert.strictEqual(t.stats().corrupt, lost);
        assert.deepStrictEqual(await drain(t), [body(1), body(2)]);
        await t.close();
      });
    }

    it('a torn tail after a damaged record is cut, the damage before it skipped', async function () {
      const { buf, recs } = segment(torn);
      const withTail = Buffer.concat([buf, torn]);
      const r = scanRecords(withTail, 1);
      assert.strictEqual(r.validEnd, buf.length);
      assert.strictEqual(r.skipped.length, 1);
      assert.strictEqual(r.records.length, 3);
      assert.ok(recs.length === 3);
    });

    it('a record damaged after it was written is skipped on replay and counted', async function () {
      const damaged = [];
      const s = new Spool({ dir, onDamaged: (d) => damaged.push(d) });
      await s.open();
      for (let i = 0; i < 3; i++) await s.append(body(i), 3, 'ms', 'w');
      const file = path.join(dir, segs(dir)[0]);
      const b = fs.readFileSync(file);
      const second = encodeRecord(body(0), 3, 'ms', 'w').length;
      b[second + 30] ^= 0x20; // a bit rots inside the second record's body
      fs.writeFileSync(file, b);
      assert.deepStrictEqual(await drain(s), [body(0), body(2)]);
      assert.strictEqual(s.stats().corrupt, 3);
      assert.deepStrictEqual(
        damaged.map((d) => [d.offset, d.points]),
        [[second, 3]],
      );
      await s.close();
    });
  });

  /** @type {[object, RegExp][]} */
  const badOptions = [
    [{}, /dir must be a folder path/],
    [{ dir: '/tmp/x', maxBytes: 10 }, /maxBytes must be at least 4096/],
    [{ dir: '/tmp/x', maxBytes: 8192, segmentBytes: 10000 }, /segmentBytes must be between 256 and maxBytes/],
  ];
  for (const [o, re] of badOptions) {
    it(`refuses options ${JSON.stringify(o)}`, function () {
      assert.throws(() => new Spool(/** @type {any} */ (o)), re);
    });
  }

  it('refuses to work before open and after close', async function () {
    const s = new Spool({ dir });
    await assert.rejects(s.append('m v=1 1', 1, 'ms', 'w'), /open\(\) it first/);
    await s.open();
    await s.close();
    await assert.rejects(s.peek(), /closed/);
  });
});

describe('influx batcher', function () {
  it('flags a full batch and hands out everything with its tokens', function () {
    const b = new Batcher({ maxPoints: 5 });
    assert.strictEqual(b.add(['a', 'b'], 1), false);
    assert.strictEqual(b.add(['c', 'd', 'e', 'f'], 2), true);
    assert.deepStrictEqual(b.take(), { body: 'a\nb\nc\nd\ne\nf', points: 6, items: [1, 2] });
    assert.strictEqual(b.take(), null);
    assert.ok(b.isEmpty);
  });
  it('refuses a bad size', function () {
    assert.throws(() => new Batcher({ maxPoints: 0 }), /maxPoints must be an integer >= 1/);
  });
});

describe('influx retry policy', function () {
  const b = backoffOptions({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 });
  const delays = [
    [0, 0, 100],
    [1, 0, 200],
    [3, 0, 800],
    [4, 0, 1000],
    [20, 0, 1000],
    [1, 0.999, 100],
  ];
  for (const [attempt, rnd, want] of delays) {
    it(`attempt ${attempt}, random ${rnd} → ${want} ms`, function () {
      assert.strictEqual(backoffDelay(b, attempt, rnd), want);
    });
  }
  /** @type {[number, string][]} */
  const statuses = [
    [undefined, 'retry'],
    [500, 'retry'],
    [503, 'retry'],
    [429, 'retry'],
    [408, 'retry'],
    [400, 'reject'],
    [413, 'reject'],
    [422, 'reject'],
    // Held: fixing these needs no change to the data (a token, a database, a URL).
    [401, 'retry'],
    [403, 'retry'],
    [404, 'retry'],
    [405, 'retry'],
    [204, 'retry'],
  ];
  for (const [st, want] of statuses) {
    it(`status ${st} → ${want}`, function () {
      assert.strictEqual(classifyStatus(st), want);
    });
  }
  it('refuses bad options', function () {
    assert.throws(() => backoffOptions({ initialMs: 0 }), /initialMs must be > 0/);
    assert.throws(() => backoffOptions({ initialMs: 10, maxMs: 5 }), /maxMs must be >= initialMs/);
    assert.throws(() => backoffOptions({ jitter: 2 }), /jitter must be within 0..1/);
  });
});
