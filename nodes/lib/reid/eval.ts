/**
 * Re-id retrieval metrics (the Market-1501 protocol): each crop in turn is the query, every other
 * crop is the gallery except the query's own near-duplicates (same identity within `minGapFrames`
 * frames of it, which would make the task trivial). rank-1 = the best match is the same identity;
 * AP = average precision of the ranking; mAP = mean over queries that have a true match.
 */
import { dot } from '../vector';
import { mulberry32 } from '../random';

export interface LabelledCrop {
  /** Identity key, unique across sequences ("TUD-Campus:3"). */
  identity: string;
  /** Sequence name; near-duplicates are only judged within one sequence. */
  sequence: string;
  frame: number;
}

export interface RetrievalResult {
  queries: number;
  rank1: number;
  mAP: number;
}

export function retrieval(crops: readonly LabelledCrop[], embeddings: readonly ArrayLike<number>[], minGapFrames: number): RetrievalResult {
  if (crops.length !== embeddings.length) throw new Error(`${crops.length} crops but ${embeddings.length} embeddings`);
  let queries = 0;
  let hits = 0;
  let apSum = 0;
  for (let q = 0; q < crops.length; q++) {
    const cq = crops[q];
    const scored: { s: number; pos: boolean }[] = [];
    for (let g = 0; g < crops.length; g++) {
      if (g === q) continue;
      const cg = crops[g];
      const same = cg.identity === cq.identity;
      if (same && cg.sequence === cq.sequence && Math.abs(cg.frame - cq.frame) < minGapFrames) continue;
      scored.push({ s: dot(embeddings[q], embeddings[g]), pos: same });
    }
    const positives = scored.filter((x) => x.pos).length;
    if (!positives) continue;
    scored.sort((a, b) => b.s - a.s);
    queries++;
    if (scored[0].pos) hits++;
    let found = 0;
    let ap = 0;
    scored.forEach((x, i) => {
      if (x.pos) {
        found++;
        ap += found / (i + 1);
      }
    });
    apSum += ap / positives;
  }
  return { queries, rank1: queries ? hits / queries : 0, mAP: queries ? apSum / queries : 0 };
}

/** Deterministic pseudo-random unit vectors (mulberry32): the chance baseline for retrieval(). */
export function randomEmbeddings(count: number, dim: number, seed = 1): Float32Array[] {
  const rnd = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const v = new Float32Array(dim);
    let s = 0;
    for (let i = 0; i < dim; i++) {
      v[i] = rnd() - 0.5;
      s += v[i] * v[i];
    }
    const k = 1 / Math.sqrt(s);
    for (let i = 0; i < dim; i++) v[i] *= k;
    return v;
  });
}
