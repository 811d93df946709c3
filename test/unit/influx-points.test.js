'use strict';
const assert = require('assert');
const { payloadToLines, FieldKinds, checkName } = require('../../dist/nodes/lib/influx/points.js');
const { msToPrecision, escapeMeasurement, escapeKey, escapeString, StampClock } = require('../../dist/nodes/lib/influx/line-protocol.js');

/** @typedef {import('../../dist/nodes/lib/influx/line-protocol').Precision} Precision */
/** @typedef {import('../../dist/nodes/lib/influx/points').NormaliseOptions} NormaliseOptions */

const T0 = Date.UTC(2026, 0, 1); // 1767225600000
/** @type {NormaliseOptions} */
const base = { precision: 'ms', nowMs: T0 + 999 };

/**
 * @param {unknown} payload
 * @param {Partial<NormaliseOptions>} [opts]
 * @param {unknown} [msgMeasurement]
 */
function lines(payload, opts = {}, msgMeasurement, kinds = new FieldKinds()) {
  const r = payloadToLines(payload, { ...base, ...opts }, kinds, msgMeasurement);
  return { lines: r.lines, errors: r.errors.map((e) => e.reason) };
}

describe('influx line protocol', function () {
  /** @type {[(s: string) => string, string, string][]} */
  const escapes = [
    [escapeMeasurement, 'a b,c=d', 'a\\ b\\,c=d'],
    [escapeKey, 'a b,c=d', 'a\\ b\\,c\\=d'],
    [escapeString, 'say "hi" \\ bye', '"say \\"hi\\" \\\\ bye"'],
  ];
  for (const [fn, input, want] of escapes) {
    it(`${fn.name}(${JSON.stringify(input)}) → ${want}`, function () {
      assert.strictEqual(fn(input), want);
    });
  }

  /** @type {[number, Precision, string][]} */
  const times = [
    [T0 + 1.5, 'ns', '1767225600001500000'],
    [T0 + 1.5, 'us', '1767225600001500'],
    [T0 + 1.5, 'ms', '1767225600001'],
    [T0 + 1999, 's', '1767225601'],
    [-1.5, 'ms', '-2'], // floor, never rounds into the future
    [0, 'ns', '0'],
  ];
  for (const [ms, p, want] of times) {
    it(`msToPrecision(${ms}, ${p}) = ${want} exactly`, function () {
      assert.strictEqual(msToPrecision(ms, p), want);
    });
  }
  it('refuses a non-finite time', function () {
    assert.throws(() => msToPrecision(NaN, 'ms'), /not a finite number/);
  });
});

describe('influx point normalisation (payload shapes)', function () {
  /** @type {[string, unknown, Partial<NormaliseOptions>, string[]][]} */
  const shapes = [
    ['a number', 3.5, { measurement: 'm' }, [`m value=3.5 ${T0 + 999}`]],
    ['a boolean', true, { measurement: 'm' }, [`m value=true ${T0 + 999}`]],
    ['a string', 'on', { measurement: 'm' }, [`m value="on" ${T0 + 999}`]],
    ['an integer string', '42i', { measurement: 'm' }, [`m value=42i ${T0 + 999}`]],
    ['a fields object with time', { a: 1, b: 'x', time: T0 }, { measurement: 'm' }, [`m a=1,b="x" ${T0}`]],
    ['[fields, tags]', [{ a: 1 }, { z: 'q', c: 2 }], { measurement: 'm' }, [`m,c=2,z=q a=1 ${T0 + 999}`]],
    [
      'an array of [fields, tags]',
      [
        [{ a: 1, time: T0 }, { t: 'x' }],
        [{ a: 2, time: T0 + 1 }, { t: 'y' }],
      ],
      { measurement: 'm' },
      [`m,t=x a=1 ${T0}`, `m,t=y a=2 ${T0 + 1}`],
    ],
    // Two plain objects are [fields, tags] (node-red-contrib-influxdb's reading); other lengths are points.
    [
      'an array of fields objects',
      [
        { a: 1, time: T0 },
        { a: 2, time: T0 + 1 },
        { a: 3, time: T0 + 2 },
      ],
      { measurement: 'm' },
      [`m a=1 ${T0}`, `m a=2 ${T0 + 1}`, `m a=3 ${T0 + 2}`],
    ],
    [
      'a batch array',
      [
        { measurement: 'p', tags: { k: 'v' }, fields: { a: 1 }, timestamp: T0 },
        { measurement: 'q', fields: { b: false }, timestamp: new Date(T0 + 5) },
      ],
      {},
      [`p,k=v a=1 ${T0}`, `q b=false ${T0 + 5}`],
    ],
    ['one batch point', { measurement: 'p', fields: { a: 1 }, timestamp: T0 }, {}, [`p a=1 ${T0}`]],
    [
      'a batch point, measurement overridden',
      { measurement: 'p', fields: { a: 1 }, timestamp: T0 },
      { measurement: 'o', overrideMeasurement: true },
      [`o a=1 ${T0}`],
    ],
    ['a batch point, override off', { measurement: 'p', fields: { a: 1 }, timestamp: T0 }, { measurement: 'o' }, [`p a=1 ${T0}`]],
    ['a bigint field', { n: 1234567890123456789n, time: T0 }, { measurement: 'm' }, [`m n=1234567890123456789i ${T0}`]],
    [
      'int64 extremes as strings',
      { a: '-9223372036854775808i', b: '9223372036854775807i', time: T0 },
      { measurement: 'm' },
      [`m a=-9223372036854775808i,b=9223372036854775807i ${T0}`],
    ],
    ['an integer-listed field', { n: 7, f: 7, time: T0 }, { measurement: 'm', integerFields: new Set(['n']) }, [`m n=7i,f=7 ${T0}`]],
    ['null fields skipped', { a: null, b: 1, time: T0 }, { measurement: 'm' }, [`m b=1 ${T0}`]],
    [
      'empty tag values skipped',
      [
        { a: 1, time: T0 },
        { t: '', u: null, v: 'x' },
      ],
      { measurement: 'm' },
      [`m,v=x a=1 ${T0}`],
    ],
    [
      'default tags, the point wins',
      [{ a: 1, time: T0 }, { site: 'own' }],
      { measurement: 'm', defaultTags: { site: 'd', gw: 'g1' } },
      [`m,gw=g1,site=own a=1 ${T0}`],
    ],
    ['an ISO time string', { a: 1, time: '2026-01-01T00:00:00.002Z' }, { measurement: 'm' }, [`m a=1 ${T0 + 2}`]],
    ['an integer time string is in the precision', { a: 1, time: '1767225600000000123' }, { measurement: 'm', precision: 'ns' }, ['m a=1 1767225600000000123']],
  ];
  for (const [name, payload, opts, want] of shapes) {
    it(name, function () {
      const r = lines(payload, opts);
      assert.deepStrictEqual(r.errors, []);
      assert.deepStrictEqual(r.lines, want);
    });
  }

  it('takes msg.measurement when the node sets none, the node setting when it does', function () {
    assert.deepStrictEqual(lines(1, {}, 'from_msg').lines, [`from_msg value=1 ${T0 + 999}`]);
    assert.deepStrictEqual(lines(1, { measurement: 'node' }, 'from_msg').lines, [`node value=1 ${T0 + 999}`]);
  });

  it('serialises the same point identically whatever the key order (idempotent replays)', function () {
    const a = lines({ measurement: 'm', tags: { b: '1', a: '2' }, fields: { v: 1 }, timestamp: T0 }).lines;
    const b = lines({ measurement: 'm', tags: { a: '2', b: '1' }, fields: { v: 1 }, timestamp: T0 }).lines;
    assert.deepStrictEqual(a, b);
  });
});

describe('influx point normalisation (bad input)', function () {
  /** @type {[string, unknown, RegExp][]} */
  const bad = [
    ['NaN', { v: NaN }, /field "v" is NaN/],
    ['Infinity', { v: Infinity }, /field "v" is Infinity/],
    ['-Infinity', { v: -Infinity }, /field "v" is -Infinity/],
    ['an object field', { v: { a: 1 } }, /field "v" is object/],
    ['an array field', { v: [1] }, /field "v" is an array/],
    ['empty fields', {}, /no fields to write/],
    ['only null fields', { v: null }, /no fields to write/],
    ['a non-integer in an integer field', { n: 1.5 }, /listed as an integer field but got 1.5/],
    ['a string in an integer field', { n: 'x' }, /listed as an integer field but got the string/],
    ['a field name with "_"', { _v: 1 }, /field name "_v" starts with "_"/],
    ['a field name with a newline', { 'a\nb': 1 }, /contains a control character/],
    ['a bad time', { v: 1, time: 'yesterday' }, /timestamp "yesterday"/],
    ['a bigint beyond int64', { v: 2n ** 63n }, /outside InfluxDB's 64-bit integer range/],
    ['an integer string beyond int64', { v: '9223372036854775808i' }, /outside InfluxDB's 64-bit integer range/],
  ];
  for (const [name, fields, re] of bad) {
    it(`rejects ${name} with a clear reason`, function () {
      const r = lines(fields, { measurement: 'm', integerFields: new Set(['n']) });
      assert.deepStrictEqual(r.lines, []);
      assert.strictEqual(r.errors.length, 1);
      assert.match(r.errors[0], re);
    });
  }

  /** @type {[string, unknown, RegExp][]} */
  const badBatch = [
    ['no measurement', { fields: { v: 1 } }, /no measurement/],
    ['a numeric measurement', { measurement: 5, fields: { v: 1 } }, /measurement must be a non-empty string, got 5/],
    ['a "_" measurement', { measurement: '_m', fields: { v: 1 } }, /measurement "_m" starts with "_"/],
    ['a tag named time', { measurement: 'm', tags: { time: 'x' }, fields: { v: 1 } }, /tag name "time" is reserved/],
    ['an object tag value', { measurement: 'm', tags: { t: {} }, fields: { v: 1 } }, /tag "t" is object/],
    ['a tag value with a newline', { measurement: 'm', tags: { t: 'a\nb' }, fields: { v: 1 } }, /tag "t" value contains a control character/],
    ['a trailing backslash', { measurement: 'm', tags: { t: 'a\\' }, fields: { v: 1 } }, /ends with a backslash/],
  ];
  for (const [name, point, re] of badBatch) {
    it(`rejects a batch point with ${name}; the rest is written`, function () {
      const good = { measurement: 'ok', fields: { v: 1 }, timestamp: T0 };
      const r = lines([good, point, good]);
      assert.strictEqual(r.lines.length, 2);
      assert.strictEqual(r.errors.length, 1);
      assert.match(r.errors[0], /^point 1: /);
      assert.match(r.errors[0], re);
    });
  }

  it('rejects payloads of no known shape', function () {
    for (const p of [null, undefined, [], [1, 2]]) {
      const r = lines(p, { measurement: 'm' });
      assert.deepStrictEqual(r.lines, []);
      assert.ok(r.errors.length >= 1, `errors for ${JSON.stringify(p)}`);
    }
  });
});

describe('influx field kinds never flip', function () {
  /** @type {[string, object[], string[], RegExp[]][]} */
  const cases = [
    ['float then "5i" → float', [{ v: 1.5 }, { v: '5i' }], ['v=1.5', 'v=5'], []],
    ['"5i" then 6 → integer', [{ v: '5i' }, { v: 6 }], ['v=5i', 'v=6i'], []],
    ['"5i" then 6.5 → refused', [{ v: '5i' }, { v: 6.5 }], ['v=5i'], [/was written as integer; got float 6.5/]],
    ['float then string → refused', [{ v: 1 }, { v: 'x' }], ['v=1'], [/was written as float; got string/]],
    ['bool then number → refused', [{ v: true }, { v: 1 }], ['v=true'], [/was written as boolean; got float/]],
  ];
  for (const [name, payloads, want, wantErr] of cases) {
    it(name, function () {
      const kinds = new FieldKinds();
      const got = [];
      const errs = [];
      for (const p of payloads) {
        const r = lines({ ...p, time: T0 }, { measurement: 'm' }, undefined, kinds);
        got.push(...r.lines.map((l) => l.split(' ')[1]));
        errs.push(...r.errors);
      }
      assert.deepStrictEqual(got, want);
      assert.strictEqual(errs.length, wantErr.length);
      errs.forEach((e, i) => assert.match(e, wantErr[i]));
    });
  }

  it('is per measurement, and a refused point teaches nothing', function () {
    const kinds = new FieldKinds();
    lines({ v: 'x', time: T0 }, { measurement: 'a' }, undefined, kinds);
    assert.deepStrictEqual(lines({ v: 1, time: T0 }, { measurement: 'b' }, undefined, kinds).errors, []);
    lines({ w: 'x', v: NaN, time: T0 }, { measurement: 'c' }, undefined, kinds); // refused after w was read: w not learnt
    assert.deepStrictEqual(lines({ w: 2, time: T0 }, { measurement: 'c' }, undefined, kinds).errors, []);
  });

  it('is bounded', function () {
    const kinds = new FieldKinds(3);
    for (let i = 0; i < 10; i++) lines({ ['f' + i]: 1, time: T0 }, { measurement: 'm' }, undefined, kinds);
    assert.strictEqual(kinds.size, 3);
  });
});

describe('influx names', function () {
  /** @type {[string, RegExp | null][]} */
  const names = [
    ['plain', null],
    ['with space, comma=equals', null],
    ['', /non-empty/],
    ['_internal', /reserves/],
    ['tab\there', /control character/],
  ];
  for (const [n, re] of names) {
    it(`checkName(${JSON.stringify(n)})`, function () {
      const r = checkName('tag name', n);
      if (re === null) assert.strictEqual(r, null);
      else assert.match(r, re);
    });
  }
});

describe('influx time stamps for points without a time (one each, strictly increasing)', function () {
  // [precision, arrival times (ms) of successive points, stamps expected]
  /** @type {[Precision, number[], (number | string)[]][]} */
  const table = [
    ['ms', [T0, T0, T0, T0 + 5], [T0, T0 + 1, T0 + 2, T0 + 5]],
    ['ms', [T0 + 0.4, T0 + 0.9], [T0, T0 + 1]], // two in one ms
    ['us', [T0, T0, T0 + 0.0005], [`${T0}000`, `${T0}001`, `${T0}002`]],
    ['us', [T0 + 0.25, T0 + 0.25], [`${T0}250`, `${T0}251`]],
    ['ns', [T0, T0, T0], [`${T0}000000`, `${T0}000001`, `${T0}000002`]],
    ['s', [T0, T0 + 10, T0 + 2000], [T0 / 1000, T0 / 1000 + 1, T0 / 1000 + 2]],
    ['ms', [T0 + 50, T0 + 10, T0 + 60], [T0 + 50, T0 + 51, T0 + 60]], // the wall clock stepped back
  ];
  for (const [precision, arrivals, want] of table) {
    it(`${precision}: arrivals ${arrivals.map((a) => +(a - T0).toFixed(4)).join(', ')} (ms after T0) → ${want.map((w) => String(w).slice(-4)).join(', ')}`, function () {
      const c = new StampClock(precision);
      assert.deepStrictEqual(
        arrivals.map((a) => c.next(a)),
        want.map(String),
      );
    });
  }

  it('says how far a burst runs ahead of the clock at a coarse precision', function () {
    const c = new StampClock('s');
    for (let i = 0; i < 10; i++) c.next(T0);
    assert.strictEqual(c.aheadMs(T0), 9000);
    assert.strictEqual(c.aheadMs(T0 + 20000), 0);
    assert.throws(() => new StampClock(/** @type {any} */ ('m')), /precision must be one of ns, us, ms, s/);
  });

  it('stamps every point of one message without a time apart (10 points into one series stay 10)', function () {
    const c = new StampClock('ms');
    const payload = Array.from({ length: 10 }, (_, i) => ({ measurement: 'm', fields: { v: i } }));
    const r = lines(payload, { clock: c });
    assert.deepStrictEqual(r.errors, []);
    const stamps = r.lines.map((l) => l.split(' ')[2]);
    assert.deepStrictEqual(
      stamps,
      Array.from({ length: 10 }, (_, i) => String(T0 + 999 + i)),
    );
  });

  it('continues across messages, and leaves points that carry a time alone', function () {
    const c = new StampClock('us');
    const a = lines({ v: 1 }, { clock: c, measurement: 'm', precision: 'us' });
    const b = lines([{ v: 2 }, { v: 3, time: T0 }, { v: 4 }], { clock: c, measurement: 'm', precision: 'us' });
    assert.deepStrictEqual([...a.lines, ...b.lines], [`m v=1 ${T0 + 999}000`, `m v=2 ${T0 + 999}001`, `m v=3 ${T0}000`, `m v=4 ${T0 + 999}002`]);
  });

  it('a bad point spends no stamp', function () {
    const c = new StampClock('ms');
    const r = lines(
      [
        { measurement: 'm', fields: { v: NaN } },
        { measurement: 'm', fields: { v: 1 } },
      ],
      { clock: c },
    );
    assert.deepStrictEqual(r.lines, [`m v=1 ${T0 + 999}`]);
  });

  it('refuses a clock of another precision', function () {
    assert.throws(() => lines({ v: 1 }, { clock: new StampClock('us'), measurement: 'm' }), /precision \(us\) differs from the writer's \(ms\)/);
  });
});
