/**
 * Constant-velocity Kalman filter for boxes, in continuous time so that uneven frame rates work.
 *
 * State (8): [cx, cy, w, h, vcx, vcy, vw, vh] — box centre and size in pixels, their rates in pixels
 * per second. Measurement (4): [cx, cy, w, h]. Noise scales with the box size (ByteTrack / BoT-SORT:
 * a near, large person moves more pixels than a far, small one): x and w terms scale with the width,
 * y and h terms with the height. Process noise is a random walk on position and velocity whose
 * variance grows linearly with the elapsed time, so two 20 ms steps add the same uncertainty as one
 * 40 ms step.
 *
 * State and covariance are passed in and out (ByteTrack's `initiate/predict/update(mean, cov)`);
 * nothing is mutated. Covariances are row-major 8 × 8 arrays of 64 numbers.
 */

export type KalmanMean = number[];
export type KalmanCov = number[];
export interface KalmanState {
  mean: KalmanMean;
  cov: KalmanCov;
}

export interface KalmanParams {
  /** Measurement noise std as a fraction of the box size (ByteTrack: 1/20; default 1/10). */
  measurementStd: number;
  /** Position process noise std, fraction of the box size per √second. */
  processPositionStd: number;
  /** Velocity process noise std, fraction of the box size per second, per √second. */
  processVelocityStd: number;
  /** Std of the unknown velocity of a new track, fraction of the box size per second. */
  initialVelocityStd: number;
}

/**
 * Process noise calibrated to ByteTrack's per-frame weights at its 30 fps (position 1/20, velocity
 * 1/160 of the height per frame): position (1/20)²·30 ≈ 0.27²/s; velocity (30/160)²·30 ≈ 1.0²/s;
 * initial velocity 10·30/160 ≈ 1.9 box sizes per second. Measurement noise is twice ByteTrack's
 * (1/10 of the size): two-stage detector boxes jitter by that much frame to frame, and the smoother
 * output box is what scores and counts use.
 */
export const DEFAULT_KALMAN: Readonly<KalmanParams> = Object.freeze({
  measurementStd: 1 / 10,
  processPositionStd: 0.27,
  processVelocityStd: 1.0,
  initialVelocityStd: 1.9,
});

export function validateKalmanParams(p: Partial<KalmanParams>): KalmanParams {
  const out: KalmanParams = { ...DEFAULT_KALMAN };
  for (const key of Object.keys(DEFAULT_KALMAN) as Array<keyof KalmanParams>) {
    const v = p[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`kalman.${key} must be a positive number, got ${String(v)}`);
    out[key] = v;
  }
  return out;
}

const N = 8;

function diag(values: number[]): number[] {
  const m = new Array<number>(N * N).fill(0);
  for (let i = 0; i < N; i++) m[i * N + i] = values[i];
  return m;
}

/** Per-dimension size scale: x and w scale with the width, y and h with the height. */
function scales(mean: readonly number[]): [number, number, number, number] {
  const w = Math.max(Math.abs(mean[2]), 1e-3);
  const h = Math.max(Math.abs(mean[3]), 1e-3);
  return [w, h, w, h];
}

export class KalmanBoxFilter {
  readonly params: KalmanParams;

  constructor(params: Partial<KalmanParams> = {}) {
    this.params = validateKalmanParams(params);
  }

  /** A new track from a first measurement [cx, cy, w, h]: velocity 0, wide velocity uncertainty. */
  initiate(z: readonly number[]): KalmanState {
    const s = scales(z);
    const p = this.params;
    const mean = [z[0], z[1], z[2], z[3], 0, 0, 0, 0];
    const std: number[] = [];
    for (let i = 0; i < 4; i++) std.push(2 * p.measurementStd * s[i]);
    for (let i = 0; i < 4; i++) std.push(p.initialVelocityStd * s[i]);
    return { mean, cov: diag(std.map((x) => x * x)) };
  }

  /** Advances the state by dtS seconds (negative is treated as 0). */
  predict(mean: readonly number[], cov: readonly number[], dtS: number): KalmanState {
    const dt = dtS > 0 ? dtS : 0;
    const m = mean.slice();
    for (let i = 0; i < 4; i++) m[i] = mean[i] + dt * mean[i + 4];
    // P' = F P Fᵀ + Q with F = [[I, dt·I], [0, I]], written out by blocks (A B; C D) of 4 × 4.
    const P = cov;
    const out = new Array<number>(N * N);
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        let v = P[i * N + j];
        if (i < 4) v += dt * P[(i + 4) * N + j];
        if (j < 4) v += dt * P[i * N + j + 4];
        if (i < 4 && j < 4) v += dt * dt * P[(i + 4) * N + j + 4];
        out[i * N + j] = v;
      }
    }
    const s = scales(mean);
    const qp = this.params.processPositionStd;
    const qv = this.params.processVelocityStd;
    for (let i = 0; i < 4; i++) {
      out[i * N + i] += qp * qp * s[i] * s[i] * dt;
      out[(i + 4) * N + i + 4] += qv * qv * s[i] * s[i] * dt;
    }
    return { mean: m, cov: out };
  }

  /** Measurement-space projection: mean [cx, cy, w, h] and its 4 × 4 covariance (with noise R). */
  project(mean: readonly number[], cov: readonly number[]): { mean: number[]; cov: number[] } {
    const s = scales(mean);
    const r = this.params.measurementStd;
    const S = new Array<number>(16);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) S[i * 4 + j] = cov[i * N + j];
    for (let i = 0; i < 4; i++) S[i * 4 + i] += r * s[i] * (r * s[i]);
    return { mean: mean.slice(0, 4), cov: S };
  }

  /** Corrects the state with a measurement [cx, cy, w, h]. */
  update(mean: readonly number[], cov: readonly number[], z: readonly number[]): KalmanState {
    const proj = this.project(mean, cov);
    const Sinv = invert4(proj.cov);
    // K = P Hᵀ S⁻¹ (8 × 4); P Hᵀ is the first four columns of P.
    const K = new Array<number>(N * 4).fill(0);
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < 4; j++) {
        let v = 0;
        for (let k = 0; k < 4; k++) v += cov[i * N + k] * Sinv[k * 4 + j];
        K[i * 4 + j] = v;
      }
    }
    const innov = [z[0] - proj.mean[0], z[1] - proj.mean[1], z[2] - proj.mean[2], z[3] - proj.mean[3]];
    const m = mean.slice();
    for (let i = 0; i < N; i++) {
      let v = 0;
      for (let k = 0; k < 4; k++) v += K[i * 4 + k] * innov[k];
      m[i] += v;
    }
    // P' = P − K H P (H P = first four rows of P); symmetrised against round-off.
    const out = new Array<number>(N * N);
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        let v = 0;
        for (let k = 0; k < 4; k++) v += K[i * 4 + k] * cov[k * N + j];
        out[i * N + j] = cov[i * N + j] - v;
      }
    }
    for (let i = 0; i < N; i++) {
      for (let j = i + 1; j < N; j++) {
        const avg = (out[i * N + j] + out[j * N + i]) / 2;
        out[i * N + j] = avg;
        out[j * N + i] = avg;
      }
    }
    return { mean: m, cov: out };
  }
}

/** Inverse of a 4 × 4 matrix by Gauss–Jordan with partial pivoting. */
export function invert4(m: readonly number[]): number[] {
  const a = m.slice();
  const inv = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  for (let c = 0; c < 4; c++) {
    let piv = c;
    for (let r = c + 1; r < 4; r++) if (Math.abs(a[r * 4 + c]) > Math.abs(a[piv * 4 + c])) piv = r;
    if (Math.abs(a[piv * 4 + c]) < 1e-12) throw new Error('invert4: singular matrix');
    if (piv !== c) {
      for (let k = 0; k < 4; k++) {
        [a[c * 4 + k], a[piv * 4 + k]] = [a[piv * 4 + k], a[c * 4 + k]];
        [inv[c * 4 + k], inv[piv * 4 + k]] = [inv[piv * 4 + k], inv[c * 4 + k]];
      }
    }
    const d = a[c * 4 + c];
    for (let k = 0; k < 4; k++) {
      a[c * 4 + k] /= d;
      inv[c * 4 + k] /= d;
    }
    for (let r = 0; r < 4; r++) {
      if (r === c) continue;
      const f = a[r * 4 + c];
      if (f === 0) continue;
      for (let k = 0; k < 4; k++) {
        a[r * 4 + k] -= f * a[c * 4 + k];
        inv[r * 4 + k] -= f * inv[c * 4 + k];
      }
    }
  }
  return inv;
}

/** [x1, y1, x2, y2] → [cx, cy, w, h]. */
export function boxToMeasurement(b: readonly number[]): number[] {
  return [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0], b[3] - b[1]];
}

/** State mean → box [x1, y1, x2, y2] (sizes clamped at ≥ 0). */
export function meanToBox(mean: readonly number[]): [number, number, number, number] {
  const w = Math.max(0, mean[2]);
  const h = Math.max(0, mean[3]);
  return [mean[0] - w / 2, mean[1] - h / 2, mean[0] + w / 2, mean[1] + h / 2];
}
