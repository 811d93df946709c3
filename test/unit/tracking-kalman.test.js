'use strict';
// Kalman filter against values computed by hand (see the comments: each block is a 1-D [p, v] filter).
const assert = require('assert');
const { KalmanBoxFilter, invert4, boxToMeasurement, meanToBox } = require('../../dist/nodes/lib/tracking/kalman.js');

const P = { measurementStd: 0.1, processPositionStd: 0.1, processVelocityStd: 0.2, initialVelocityStd: 1 };
const at = (cov, i, j) => cov[i * 8 + j];
const close = (a, b, msg) => assert.ok(Math.abs(a - b) < 1e-9, `${msg}: ${a} != ${b}`);

describe('tracking/kalman', () => {
  const kf = new KalmanBoxFilter(P);
  // z = [cx 100, cy 200, w 10, h 20]: x/w terms scale with w = 10, y/h terms with h = 20.
  const init = kf.initiate([100, 200, 10, 20]);

  it('initiate: zero velocity, variances (2·0.1·size)² and (1·size)²', () => {
    assert.deepStrictEqual(init.mean, [100, 200, 10, 20, 0, 0, 0, 0]);
    const expectDiag = [4, 16, 4, 16, 100, 400, 100, 400];
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) close(at(init.cov, i, j), i === j ? expectDiag[i] : 0, `cov[${i}][${j}]`);
  });

  const mean0 = [100, 200, 10, 20, 10, -20, 0, 0];
  const pred = kf.predict(mean0, init.cov, 0.5);

  /** @type {[string, () => number, number][]} */
  const table = [
    // [what, actual, expected]
    ['predicted cx = 100 + 0.5·10', () => pred.mean[0], 105],
    ['predicted cy = 200 − 0.5·20', () => pred.mean[1], 190],
    ['x var = 4 + 0.25·100 + 0.1²·10²·0.5', () => at(pred.cov, 0, 0), 29.5],
    ['x–vx cov = 0.5·100', () => at(pred.cov, 0, 4), 50],
    ['vx var = 100 + 0.2²·10²·0.5', () => at(pred.cov, 4, 4), 102],
    ['y var = 16 + 0.25·400 + 0.1²·20²·0.5', () => at(pred.cov, 1, 1), 118],
    ['y–vy cov = 0.5·400', () => at(pred.cov, 1, 5), 200],
    ['vy var = 400 + 0.2²·20²·0.5', () => at(pred.cov, 5, 5), 408],
    ['no x–y coupling', () => at(pred.cov, 0, 1), 0],
  ];
  for (const [what, actual, expected] of table) it(`predict: ${what}`, () => close(actual(), expected, what));

  // Measure cx = 110 (predicted 105), everything else as predicted. R_x = (0.1·10)² = 1, S = 30.5.
  const upd = kf.update(pred.mean, pred.cov, [110, 190, 10, 20]);
  /** @type {[string, () => number, number][]} */
  const table2 = [
    ['cx = 105 + 5·29.5/30.5', () => upd.mean[0], 105 + (5 * 29.5) / 30.5],
    ['vx = 10 + 5·50/30.5', () => upd.mean[4], 10 + (5 * 50) / 30.5],
    ['cy unchanged (zero innovation)', () => upd.mean[1], 190],
    ['x var = 29.5 − 29.5²/30.5', () => at(upd.cov, 0, 0), 29.5 - (29.5 * 29.5) / 30.5],
    ['x–vx cov = 50 − 29.5·50/30.5', () => at(upd.cov, 0, 4), 50 - (29.5 * 50) / 30.5],
    ['vx var = 102 − 50²/30.5', () => at(upd.cov, 4, 4), 102 - 2500 / 30.5],
    ['y var = 118 − 118²/(118+4)', () => at(upd.cov, 1, 1), 118 - (118 * 118) / 122],
  ];
  for (const [what, actual, expected] of table2) it(`update: ${what}`, () => close(actual(), expected, what));

  it('never mutates its arguments', () => {
    const m = mean0.slice();
    const c = init.cov.slice();
    Object.freeze(m);
    Object.freeze(c);
    kf.predict(m, c, 1);
    kf.update(m, c, [1, 2, 3, 4]);
    assert.deepStrictEqual(m, mean0);
    assert.deepStrictEqual(c, init.cov);
  });

  it('predict with dt 0 (or negative) leaves the state unchanged', () => {
    assert.deepStrictEqual(kf.predict(mean0, init.cov, 0), { mean: mean0, cov: init.cov });
    assert.deepStrictEqual(kf.predict(mean0, init.cov, -1).mean, mean0);
  });

  it('two half steps add the same process noise as one full step (continuous time)', () => {
    const a = kf.predict(init.mean, init.cov, 0.2);
    const b = kf.predict(init.mean, kf.predict(init.mean, init.cov, 0.1).cov, 0.1);
    // Position variance differs only by the velocity-noise cross term, which is second order in dt.
    close(at(a.cov, 4, 4), at(b.cov, 4, 4), 'velocity variance');
  });

  it('invert4 inverts', () => {
    const m = [4, 1, 0, 2, 1, 3, 0, 0, 0, 0, 2, 1, 2, 0, 1, 5];
    const inv = invert4(m);
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 4; j++) {
        let s = 0;
        for (let k = 0; k < 4; k++) s += m[i * 4 + k] * inv[k * 4 + j];
        close(s, i === j ? 1 : 0, `I[${i}][${j}]`);
      }
    assert.throws(() => invert4([1, 2, 0, 0, 2, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]), /singular/);
  });

  it('box ↔ measurement round trip', () => {
    assert.deepStrictEqual(boxToMeasurement([10, 20, 30, 60]), [20, 40, 20, 40]);
    assert.deepStrictEqual(meanToBox([20, 40, 20, 40, 0, 0, 0, 0]), [10, 20, 30, 60]);
  });

  it('rejects bad parameters with the name of the parameter', () => {
    assert.throws(() => new KalmanBoxFilter({ measurementStd: -1 }), /measurementStd/);
    assert.throws(() => new KalmanBoxFilter({ processVelocityStd: NaN }), /processVelocityStd/);
  });
});
