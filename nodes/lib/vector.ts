/** Small vector helpers for embeddings (Float32Array or number[]). Pure; never mutate arguments. */

export type Vec = ArrayLike<number>;

/** A new L2-normalised copy; a zero vector stays zero (it then matches nothing). */
export function l2normalise(v: Vec): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const out = new Float32Array(v.length);
  if (s <= 0 || !Number.isFinite(s)) return out;
  const k = 1 / Math.sqrt(s);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * k;
  return out;
}

/** Dot product; equals cosine similarity for L2-normalised vectors. */
export function dot(a: Vec, b: Vec): number {
  if (a.length !== b.length) throw new Error(`embedding lengths differ: ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Exponential moving average of two unit vectors, renormalised: `momentum` is the weight of the old
 * one (0.9 = a new sample moves the average by a tenth), so one bad crop cannot swing the identity.
 */
export function emaUpdate(old: Vec | undefined, sample: Vec, momentum: number): Float32Array {
  if (!old || old.length !== sample.length) return l2normalise(sample);
  const mixed = new Float32Array(sample.length);
  for (let i = 0; i < sample.length; i++) mixed[i] = momentum * old[i] + (1 - momentum) * sample[i];
  return l2normalise(mixed);
}

/** Rounded plain array for a message (JSON-serialisable, 4 decimals keep cosine error < 1e-3). */
export function toMessageArray(v: Vec): number[] {
  const out = new Array<number>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = Math.round(v[i] * 1e4) / 1e4;
  return out;
}
