/**
 * mulberry32: a small seeded pseudo-random generator (uniform in [0, 1)). Used where a run must be
 * repeatable exactly (random lines for counting accuracy, the chance baseline of re-id retrieval);
 * nothing in the pipeline itself is random.
 */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
