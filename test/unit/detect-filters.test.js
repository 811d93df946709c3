'use strict';
const assert = require('assert');
const { resolveFilters, classThresholds, applyGeometryFilters, DEFAULT_FILTERS } = require('../../dist/nodes/lib/detect/filters');

/** @type {(box: import('../../dist/nodes/lib/types').Box, label?: string) => import('../../dist/nodes/lib/types').Detection} */
const det = (box, label = 'person') => ({ box, score: 0.9, classId: 0, label });

describe('detect filters', () => {
  it('defaults: conf 0.5, every class, no geometry limits', () => {
    const f = resolveFilters();
    assert.strictEqual(f.conf, 0.5);
    assert.deepStrictEqual(f.classes, []);
  });

  it('merges over a base and never mutates either', () => {
    const base = resolveFilters({ conf: 0.3, classConf: { person: 0.6 } });
    const snapshot = JSON.stringify(base);
    const f = resolveFilters({ classes: ['person'] }, base);
    assert.strictEqual(f.conf, 0.3);
    assert.deepStrictEqual(f.classConf, { person: 0.6 });
    assert.deepStrictEqual(f.classes, ['person']);
    assert.strictEqual(JSON.stringify(base), snapshot);
  });

  /** @type {[object, RegExp][]} */
  const bad = [
    [{ conf: 1.2 }, /conf must be a number 0–1/],
    [{ conf: '0.3' }, /conf must be a number/],
    [{ classConf: { person: -1 } }, /classConf.person/],
    [{ classConf: [0.3] }, /classConf must be an object/],
    [{ classes: 'person' }, /classes must be a list/],
    [{ minArea: 0.5, maxArea: 0.1 }, /minArea .* above maxArea/],
    [{ minAspect: 2, maxAspect: 1 }, /minAspect .* above maxAspect/],
    [
      {
        include: [
          [
            [0, 0],
            [1, 0],
          ],
        ],
      },
      /include\[0\] must have at least 3 points/,
    ],
    [
      {
        exclude: [
          [
            [0, 0],
            [1, 0],
            [1, 2],
          ],
        ],
      },
      /exclude\[0\]\[2\]/,
    ],
    [{ anchor: 'left' }, /anchor/],
    [{ confidence: 0.3 }, /unknown detection setting "confidence"/],
  ];
  for (const [o, re] of bad) it(`rejects ${JSON.stringify(o)}`, () => assert.throws(() => resolveFilters(/** @type {any} */ (o)), re));

  it('builds per-class thresholds: class filter → Infinity, classConf overrides conf', () => {
    const f = resolveFilters({ conf: 0.4, classConf: { car: 0.7 }, classes: ['person', 'car'] });
    const { thresholds, unknown } = classThresholds(f, ['person', 'bicycle', 'car']);
    assert.deepStrictEqual(Array.from(thresholds), [Math.fround(0.4), Infinity, Math.fround(0.7)]);
    assert.deepStrictEqual(unknown, []);
  });

  it('reports labels the model does not have', () => {
    const f = resolveFilters({ classes: ['persn'], classConf: { forklift: 0.5 } });
    assert.deepStrictEqual(classThresholds(f, ['person']).unknown, ['persn', 'forklift']);
  });

  describe('geometry (100×100 frame)', () => {
    const small = det([0, 0, 10, 10]); // area 0.01, aspect 1, feet at (5,10)
    const tall = det([50, 20, 60, 80]); // area 0.06, aspect 1/6, feet at (55,80)
    const wide = det([10, 80, 90, 100]); // area 0.16, aspect 4, feet at (50,100)
    const all = [small, tall, wide];
    /** @type {[string, import('../../dist/nodes/lib/detect/filters').FilterOptions, object[]][]} */
    const cases = [
      ['no limits keep everything', {}, [small, tall, wide]],
      ['minArea drops small boxes', { minArea: 0.05 }, [tall, wide]],
      ['maxArea drops large boxes', { maxArea: 0.1 }, [small, tall]],
      ['minAspect drops tall-thin boxes', { minAspect: 0.5 }, [small, wide]],
      ['maxAspect drops wide boxes', { maxAspect: 2 }, [small, tall]],
      [
        'include keeps feet inside the right half',
        {
          include: [
            [
              [0.5, 0],
              [1, 0],
              [1, 1],
              [0.5, 1],
            ],
          ],
        },
        [tall],
      ],
      [
        'exclude drops feet inside the right half',
        {
          exclude: [
            [
              [0.5, 0],
              [1, 0],
              [1, 1],
              [0.5, 1],
            ],
          ],
        },
        [small, wide],
      ],
      [
        'anchor center moves the test point',
        {
          include: [
            [
              [0, 0],
              [0.2, 0],
              [0.2, 0.2],
              [0, 0.2],
            ],
          ],
          anchor: 'center',
        },
        [small],
      ],
    ];
    for (const [name, o, want] of cases) {
      it(name, () => assert.deepStrictEqual(applyGeometryFilters(all, resolveFilters(o), 100, 100), want));
    }
    it('returns a new array', () => {
      assert.notStrictEqual(applyGeometryFilters(all, DEFAULT_FILTERS, 100, 100), all);
    });
  });
});
