'use strict';
// One parser for normalised points and polygons (geometry.ts), used by every geometry JSON the nodes
// store: line-count lines and zones, productivity stations, detect include/exclude, the view. The same
// mistake gets the same explanation everywhere, each prefixed with where it is.
const assert = require('assert');
const { parseUnitPoint, parseUnitPolygon } = require('../../dist/nodes/lib/geometry');
const { parseGeometry } = require('../../dist/nodes/lib/counting/config');
const { parseStations } = require('../../dist/nodes/lib/productivity/stations');
const { resolveFilters } = require('../../dist/nodes/lib/detect/filters');
const { parseViewGeometry } = require('../../dist/nodes/lib/view/overlay');

describe('geometry: normalised points and polygons', () => {
  it('accepts points and polygons inside the frame, edges included, and copies them', () => {
    const src = [
      [0, 0],
      [1, 0],
      [0.5, 1],
    ];
    const poly = parseUnitPolygon(src, 'p');
    assert.deepStrictEqual(poly, src);
    assert.notStrictEqual(poly[0], src[0]);
    assert.deepStrictEqual(parseUnitPoint([1, 1], 'q'), [1, 1]);
  });

  /** @type {[string, any, RegExp][]} */
  const bad = [
    [
      'a two-point polygon',
      [
        [0, 0],
        [1, 1],
      ],
      /must have at least 3 points/,
    ],
    ['not a list', 'square', /must have at least 3 points/],
    [
      'a point in pixels',
      [
        [0, 0],
        [640, 0],
        [0, 1],
      ],
      /\[1\] x = 640 is outside 0\.\.1 \(geometry is normalised to the frame size\)/,
    ],
    ['a point that is not a pair', [[0, 0], [1], [0, 1]], /\[1\] must be \[x, y\], got \[1\]/],
    [
      'a coordinate that is not a number',
      [
        [0, 0],
        [1, '0'],
        [0, 1],
      ],
      /\[1\] y must be a number, got "0"/,
    ],
    [
      'a flat polygon',
      [
        [0, 0],
        [0.5, 0.5],
        [1, 1],
      ],
      /has no area/,
    ],
  ];
  for (const [name, polygon, re] of bad) {
    it(`${name}: the same explanation from every node that stores geometry`, () => {
      assert.throws(() => parseUnitPolygon(polygon, 'p'), re);
      assert.throws(
        () => parseGeometry({ zones: [{ name: 'z', polygon }] }),
        (/** @type {Error} */ e) => /^geometry: zones\[0\]\.polygon/.test(e.message) && re.test(e.message),
      );
      assert.throws(
        () => parseStations({ zones: [{ name: 's1', polygon }] }),
        (/** @type {Error} */ e) => /^stations: zone "s1" polygon/.test(e.message) && re.test(e.message),
      );
      assert.throws(
        () => resolveFilters({ include: [polygon] }),
        (/** @type {Error} */ e) => /^include\[0\]/.test(e.message) && re.test(e.message),
      );
      assert.throws(
        () => parseViewGeometry({ zones: [{ name: 'z', polygon }] }),
        (/** @type {Error} */ e) => /zones\[0\]\.polygon/.test(e.message) && re.test(e.message),
      );
    });
  }
});
