/**
 * Image ↔ floor homographies from point pairs by the direct linear transform (Hartley & Zisserman,
 * "Multiple View Geometry", alg. 4.2, with their point normalisation for conditioning), solved in the
 * least-squares sense so more than four pairs average out clicking errors.
 */
import { Point } from '../types';

/** Row-major 3×3. */
export type Matrix3 = [number, number, number, number, number, number, number, number, number];

function normaliser(pts: readonly Point[]): Matrix3 {
  const n = pts.length;
  const cx = pts.reduce((s, p) => s + p[0], 0) / n;
  const cy = pts.reduce((s, p) => s + p[1], 0) / n;
  const d = pts.reduce((s, p) => s + Math.hypot(p[0] - cx, p[1] - cy), 0) / n;
  const k = d > 0 ? Math.SQRT2 / d : 1;
  return [k, 0, -k * cx, 0, k, -k * cy, 0, 0, 1];
}

export function applyHomography(h: readonly number[], p: Point): Point {
  const w = h[6] * p[0] + h[7] * p[1] + h[8];
  return [(h[0] * p[0] + h[1] * p[1] + h[2]) / w, (h[3] * p[0] + h[4] * p[1] + h[5]) / w];
}

function mul(a: readonly number[], b: readonly number[]): Matrix3 {
  const r = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) r[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j];
  return r as Matrix3;
}

function invertNormaliser(t: Matrix3): Matrix3 {
  const k = t[0];
  return [1 / k, 0, -t[2] / k, 0, 1 / k, -t[5] / k, 0, 0, 1];
}

/** Solves the n×n system in place-free fashion (copies); Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    if (Math.abs(m[p][c]) < 1e-12) throw new Error('the point pairs do not define a homography (three or more are on one line, or points repeat)');
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}

/**
 * The homography mapping `image[i]` to `floor[i]` (four or more pairs). Throws with the reason when
 * the pairs are too few, unequal in number, or degenerate.
 */
export function homographyFromPairs(image: readonly Point[], floor: readonly Point[]): Matrix3 {
  if (image.length !== floor.length) throw new Error(`homography needs as many floor points as image points (${image.length} vs ${floor.length})`);
  if (image.length < 4) throw new Error(`homography needs at least 4 point pairs, got ${image.length}`);
  for (const p of [...image, ...floor])
    if (!Array.isArray(p) || p.length !== 2 || !p.every(Number.isFinite))
      throw new Error(`a homography point must be [x, y] numbers, got ${JSON.stringify(p)}`);
  const ti = normaliser(image);
  const tf = normaliser(floor);
  const a: number[][] = [];
  const b: number[] = [];
  for (let i = 0; i < image.length; i++) {
    const [u, v] = applyHomography(ti, image[i]);
    const [X, Y] = applyHomography(tf, floor[i]);
    a.push([u, v, 1, 0, 0, 0, -u * X, -v * X]);
    b.push(X);
    a.push([0, 0, 0, u, v, 1, -u * Y, -v * Y]);
    b.push(Y);
  }
  // Normal equations: AᵀA h = Aᵀb (8×8).
  const ata = Array.from({ length: 8 }, (_, r) => Array.from({ length: 8 }, (_, c) => a.reduce((s, row) => s + row[r] * row[c], 0)));
  const atb = Array.from({ length: 8 }, (_, r) => a.reduce((s, row, k) => s + row[r] * b[k], 0));
  const h = solve(ata, atb);
  const hn: Matrix3 = [h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1];
  const out = mul(mul(invertNormaliser(tf), hn), ti);
  const s = out[8];
  if (!Number.isFinite(s) || Math.abs(s) < 1e-12) throw new Error('the point pairs do not define a homography');
  return out.map((v) => v / s) as Matrix3;
}
