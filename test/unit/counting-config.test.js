'use strict';
// Geometry JSON and options validation (errors say what is wrong), and the shift schedule
// (local-time boundaries, DST-safe, tested with fixed and switching UTC offsets).
const assert = require('assert');
const { parseGeometry, resolveOptions, parseShifts, shiftBoundaryCrossed, lastBoundary, fixedOffset, Counter } = require('../../dist/nodes/lib/counting');
// Editor text is read by the node's glue (nodes/line-count/config.ts); the engine takes typed options.
const { readCountingOptions } = require('../../dist/nodes/line-count/config');

describe('counting: geometry config', function () {
  it('parses the documented shape (string or object) and fills defaults', function () {
    const text = '{"lines":[{"name":"door","start":[0.1,0.5],"end":[0.9,0.5]}],"zones":[{"name":"station-1","polygon":[[0,0],[1,0],[1,1]]}]}';
    const g = parseGeometry(text);
    assert.deepStrictEqual(g, {
      lines: [{ name: 'door', start: [0.1, 0.5], end: [0.9, 0.5], directions: 'both', classes: [] }],
      zones: [
        {
          name: 'station-1',
          polygon: [
            [0, 0],
            [1, 0],
            [1, 1],
          ],
          classes: [],
          capacity: undefined,
        },
      ],
    });
    assert.deepStrictEqual(parseGeometry(JSON.parse(text)), g);
    assert.deepStrictEqual(parseGeometry(''), { lines: [], zones: [] });
  });

  /** @type {[string, unknown, RegExp][]} */
  const bad = [
    ['not JSON', '{lines:', /not valid JSON/],
    ['an array', '[]', /must be an object/],
    ['an unknown field', { lines: [], areas: [] }, /areas is not a geometry field/],
    ['a point outside 0..1', { lines: [{ name: 'a', start: [0, 0], end: [640, 0.5] }] }, /lines\[0\]\.end x = 640 is outside 0\.\.1/],
    ['a point that is not a pair', { lines: [{ name: 'a', start: [0], end: [1, 1] }] }, /lines\[0\]\.start must be \[x, y\]/],
    ['a zero-length line', { lines: [{ name: 'a', start: [0.5, 0.5], end: [0.5, 0.5] }] }, /start and end at the same place/],
    [
      'a duplicate name',
      {
        lines: [
          { name: 'a', start: [0, 0], end: [1, 1] },
          { name: 'a', start: [0, 1], end: [1, 0] },
        ],
      },
      /"a" is used twice/,
    ],
    ['no name', { lines: [{ start: [0, 0], end: [1, 1] }] }, /lines\[0\]\.name must be a non-empty name/],
    ['a bad direction', { lines: [{ name: 'a', start: [0, 0], end: [1, 1], directions: 'up' }] }, /directions must be "in", "out" or "both"/],
    ['a bad class', { lines: [{ name: 'a', start: [0, 0], end: [1, 1], classes: [''] }] }, /classes\[0\] must be a class label or a class id/],
    [
      'a two-point polygon',
      {
        zones: [
          {
            name: 'z',
            polygon: [
              [0, 0],
              [1, 1],
            ],
          },
        ],
      },
      /zones\[0\]\.polygon must have at least 3 points/,
    ],
    [
      'a flat polygon',
      {
        zones: [
          {
            name: 'z',
            polygon: [
              [0, 0],
              [0.5, 0.5],
              [1, 1],
            ],
          },
        ],
      },
      /has no area/,
    ],
    [
      'a bad capacity',
      {
        zones: [
          {
            name: 'z',
            polygon: [
              [0, 0],
              [1, 0],
              [1, 1],
            ],
            capacity: 1.5,
          },
        ],
      },
      /capacity must be a whole number/,
    ],
  ];
  for (const [name, input, re] of bad) {
    it(`rejects ${name} with a message that says what is wrong`, function () {
      assert.throws(() => parseGeometry(input), re);
    });
  }

  it('does not mutate its argument', function () {
    const g = { lines: [{ name: 'a', start: [0, 0], end: [1, 1] }] };
    const copy = JSON.parse(JSON.stringify(g));
    const out = parseGeometry(g);
    out.lines[0].start[0] = 0.5;
    assert.deepStrictEqual(g, copy);
  });
});

describe('counting: options', function () {
  it('defaults', function () {
    const o = resolveOptions();
    assert.deepStrictEqual(
      [
        o.anchor,
        o.mode,
        o.minFrames,
        o.minDistance,
        o.cooldownS,
        o.confirmedOnly,
        o.relinkS,
        o.relinkRadius,
        o.trackTimeoutS,
        o.zoneEnterFrames,
        o.zoneExitFrames,
      ],
      ['bottom-center', 'once', 2, 0.05, 1, true, 1.5, 0.75, 2, 3, 3],
    );
  });
  it('coerces editor strings', function () {
    const o = resolveOptions(readCountingOptions({ minFrames: '4', cooldownS: '0.5', confirmedOnly: 'false', anchor: 'center', relinkS: '' }));
    assert.deepStrictEqual([o.minFrames, o.cooldownS, o.confirmedOnly, o.anchor, o.relinkS], [4, 0.5, false, 'center', 1.5]);
  });
  /** @type {[object, RegExp][]} */
  const bad = [
    [{ minFrames: 0 }, /minFrames must be a whole number in 1\.\.1000, got 0/],
    [{ minFrames: 1.5 }, /minFrames must be a whole number/],
    [{ cooldownS: -1 }, /cooldownS must be a number in 0\.\.86400/],
    [{ anchor: 'feet' }, /anchor must be bottom-center, center or top-center/],
    [{ mode: 'twice' }, /mode must be "once" or "every"/],
    [{ confirmedOnly: 'yes' }, /confirmedOnly must be true or false/],
    [{ minDistanse: 1 }, /counting option "minDistanse" is unknown/],
  ];
  for (const [opts, re] of bad) {
    it(`rejects ${JSON.stringify(opts)}`, function () {
      assert.throws(() => resolveOptions(/** @type {any} */ (opts)), re);
      assert.throws(() => new Counter({}, /** @type {any} */ (opts)), re);
    });
  }

  it("the editor's defaults are the engine's (a new option gets its field with the same default)", function () {
    const html = require('fs').readFileSync(require('path').join(__dirname, '..', '..', 'nodes', 'line-count', 'line-count.html'), 'utf8');
    const { DEFAULT_OPTIONS } = require('../../dist/nodes/lib/counting');
    for (const [k, v] of Object.entries(DEFAULT_OPTIONS)) {
      if (k === 'camera') continue; // set per message, not in the editor
      const m = new RegExp(`\\b${k}: \\{ value: ([^,}]+)`).exec(html);
      assert.ok(m, `line-count.html has no editor default for ${k}`);
      assert.deepStrictEqual(JSON.parse(m[1].trim().replace(/'/g, '"')), v, `editor default of ${k}`);
    }
  });
});

describe('counting: shift schedule', function () {
  const H = 3600000;
  const M = 60000;
  const T0 = Date.UTC(2026, 2, 10, 0, 0); // a Tuesday, midnight UTC

  it('parses HH:MM lists', function () {
    assert.deepStrictEqual(parseShifts('22:00, 06:00,14:00'), [360, 840, 1320]);
    assert.deepStrictEqual(parseShifts(''), []);
    assert.throws(() => parseShifts('6'), /"6" is not a time HH:MM/);
    assert.throws(() => parseShifts('24:00'), /"24:00" is not a time/);
  });

  it('with a fixed offset: boundaries in local time', function () {
    const s = parseShifts('06:00,14:00,22:00');
    const cet = fixedOffset(60); // 06:00 local = 05:00 UTC
    /** @type {[number, number, boolean][]} */
    const table = [
      // [last reset (UTC ms), now (UTC ms), crossed?]
      [T0 + 4 * H, T0 + 4 * H + 59 * M, false],
      [T0 + 4 * H, T0 + 5 * H, true],
      [T0 + 5 * H, T0 + 12 * H, false],
      [T0 + 5 * H, T0 + 13 * H, true],
      [T0 + 21 * H, T0 + 28 * H, false], // 22:00 local → 05:00 next day local is before 06:00
      [T0 + 21 * H, T0 + 29 * H, true],
      [T0, T0 + 30 * 24 * H, true], // off for a month
      [T0 + 5 * H, T0 + 5 * H, false],
    ];
    for (const [last, now, want] of table)
      assert.strictEqual(shiftBoundaryCrossed(s, last, now, cet), want, `${new Date(last).toISOString()} → ${new Date(now).toISOString()}`);
    assert.strictEqual(lastBoundary(s, T0 + 13 * H + 30 * M, cet), T0 + 13 * H);
  });

  /** Steps minute by minute and resets whenever a boundary was crossed; returns the reset instants. */
  function resets(shifts, offset, from, to) {
    const out = [];
    let last = from;
    for (let t = from + M; t <= to; t += M) {
      if (shiftBoundaryCrossed(shifts, last, t, offset)) {
        out.push(t);
        last = t;
      }
    }
    return out;
  }

  // Europe/Berlin style switches: +60 → +120 at 2026-03-29 01:00 UTC; +120 → +60 at 2026-10-25 01:00 UTC.
  const spring = Date.UTC(2026, 2, 29, 1, 0);
  const autumn = Date.UTC(2026, 9, 25, 1, 0);
  const berlin = (ms) => (ms >= spring && ms < autumn ? 120 : 60);

  it('DST spring forward: every boundary once, including one in the skipped hour', function () {
    const s = parseShifts('02:30,06:00,22:00');
    const got = resets(s, berlin, Date.UTC(2026, 2, 28, 12, 0), Date.UTC(2026, 2, 29, 12, 0));
    assert.strictEqual(got.length, 3, got.map((t) => new Date(t).toISOString()).join(' '));
    // 22:00 CET = 21:00 UTC; 06:00 CEST = 04:00 UTC.
    assert.strictEqual(got[0], Date.UTC(2026, 2, 28, 21, 0));
    assert.strictEqual(got[2], Date.UTC(2026, 2, 29, 4, 0));
  });

  it('DST fall back: a boundary in the repeated hour fires once, not twice', function () {
    const s = parseShifts('02:30,06:00,22:00');
    const got = resets(s, berlin, Date.UTC(2026, 9, 24, 12, 0), Date.UTC(2026, 9, 25, 12, 0));
    assert.strictEqual(got.length, 3, got.map((t) => new Date(t).toISOString()).join(' '));
    assert.strictEqual(got[0], Date.UTC(2026, 9, 24, 20, 0)); // 22:00 CEST
    assert.strictEqual(got[2], Date.UTC(2026, 9, 25, 5, 0)); // 06:00 CET
  });

  it('an empty schedule never resets', function () {
    assert.strictEqual(shiftBoundaryCrossed([], 0, T0, fixedOffset(0)), false);
  });
});
