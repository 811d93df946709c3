/**
 * Self-calibrating join threshold. A deployment labels its own pairs without anyone's help:
 * - negatives: two tracks of one camera visible in the same frame are two different people;
 * - positives: one track's appearance early in its life and a few seconds later is one person.
 * Their cosine similarities are kept in two fixed histograms (bounded memory, JSON snapshot). The join
 * threshold is the lowest score that at most `targetFalseJoinRate` of the negatives reach (with 95 %
 * confidence: few pairs give a cautious threshold), once enough of both kinds have been seen; until
 * then the fixed threshold is used, and until the negatives are enough to show the target rate at all
 * (`certifyingNegatives`) the learnt threshold may only raise the fixed one, never lower it.
 */

export interface CalibrationOptions {
  /** Share of different-person pairs allowed to reach the threshold (0.01 = 1 %). */
  targetFalseJoinRate: number;
  /** Negative pairs needed before the learnt threshold is used. */
  minNegatives: number;
  /** Positive pairs needed before the learnt threshold is used. */
  minPositives: number;
  /** The learnt threshold is kept within [floor, ceiling]. */
  floor: number;
  ceiling: number;
}

export const DEFAULT_CALIBRATION: Readonly<CalibrationOptions> = Object.freeze({
  targetFalseJoinRate: 0.01,
  minNegatives: 30,
  minPositives: 20,
  floor: 0.3,
  ceiling: 0.98,
});

/** Histogram bins over cosine similarity [-1, 1]. */
export const BINS = 400;
const WIDTH = 2 / BINS;
/** Counts are halved past this many samples of one kind, so old evidence fades and counts stay bounded. */
const MAX_COUNT = 200000;

export interface CalibrationSnapshot {
  version: 1;
  /** Sparse histograms: [bin, count] pairs. */
  negatives: [number, number][];
  positives: [number, number][];
}

export interface CalibrationState {
  /** 'learnt' when enough pairs exist, else 'learning' (the fixed threshold is in use). */
  mode: 'learning' | 'learnt';
  /**
   * Which threshold is in use: the learnt one, or the fixed one (still learning, or learnt below it
   * with too few negatives to certify the target rate yet).
   */
  thresholdSource: 'fixed' | 'learnt';
  threshold: number;
  fixedThreshold: number;
  targetFalseJoinRate: number;
  negatives: number;
  positives: number;
  /** Share of negatives at or above the threshold in use. */
  falseJoinRate: number;
  /** Share of positives at or above the threshold in use (what hand-offs can expect to keep). */
  keepRate: number;
  /** Negatives needed before the learnt threshold may go below the fixed one (299 at 1 %). */
  certifyingNegatives: number;
  /** Median negative and positive scores. */
  negativeMedian: number | null;
  positiveMedian: number | null;
}

function binOf(s: number): number {
  return Math.max(0, Math.min(BINS - 1, Math.floor((s + 1) / WIDTH)));
}
const edge = (b: number) => b * WIDTH - 1;

class Histogram {
  readonly counts = new Float64Array(BINS);
  total = 0;
  add(s: number): void {
    if (!Number.isFinite(s)) return;
    this.counts[binOf(s)]++;
    if (++this.total > MAX_COUNT) {
      this.total = 0;
      for (let i = 0; i < BINS; i++) this.total += this.counts[i] = Math.floor(this.counts[i] / 2);
    }
  }
  /** Share of samples at or above bin b's lower edge. */
  atOrAbove(b: number): number {
    if (!this.total) return 0;
    let n = 0;
    for (let i = b; i < BINS; i++) n += this.counts[i];
    return n / this.total;
  }
  median(): number | null {
    if (!this.total) return null;
    let n = 0;
    for (let i = 0; i < BINS; i++) {
      n += this.counts[i];
      if (n >= this.total / 2) return edge(i) + WIDTH / 2;
    }
    return null;
  }
  sparse(): [number, number][] {
    const out: [number, number][] = [];
    this.counts.forEach((c, i) => c && out.push([i, c]));
    return out;
  }
  load(pairs: unknown, what: string): void {
    if (!Array.isArray(pairs)) throw new Error(`calibration snapshot: ${what} must be a list of [bin, count]`);
    this.counts.fill(0);
    this.total = 0;
    for (const p of pairs) {
      if (!Array.isArray(p) || !Number.isInteger(p[0]) || p[0] < 0 || p[0] >= BINS || !(p[1] >= 0))
        throw new Error(`calibration snapshot: bad ${what} entry ${JSON.stringify(p)}`);
      this.counts[p[0]] += p[1];
      this.total += p[1];
    }
  }
}

export function resolveCalibrationOptions(o: Partial<CalibrationOptions> = {}): CalibrationOptions {
  const r = { ...DEFAULT_CALIBRATION, ...o };
  const check = (k: keyof CalibrationOptions, lo: number, hi: number) => {
    if (typeof r[k] !== 'number' || !Number.isFinite(r[k]) || r[k] < lo || r[k] > hi)
      throw new Error(`calibration option ${k} must be a number in [${lo}, ${hi}], got ${JSON.stringify(r[k])}`);
  };
  check('targetFalseJoinRate', 0.0001, 0.5);
  check('minNegatives', 1, 1e9);
  check('minPositives', 1, 1e9);
  check('floor', -1, 1);
  check('ceiling', -1, 1);
  if (r.ceiling < r.floor) throw new Error(`calibration ceiling (${r.ceiling}) is below its floor (${r.floor})`);
  return r;
}

export class ThresholdCalibration {
  readonly options: CalibrationOptions;
  private readonly neg = new Histogram();
  private readonly pos = new Histogram();
  private cached: number | undefined;

  constructor(
    readonly fixedThreshold: number,
    options: Partial<CalibrationOptions> = {},
  ) {
    this.options = resolveCalibrationOptions(options);
  }

  addNegative(s: number): void {
    this.neg.add(s);
    this.cached = undefined;
  }

  addPositive(s: number): void {
    this.pos.add(s);
    this.cached = undefined;
  }

  get ready(): boolean {
    return this.neg.total >= this.options.minNegatives && this.pos.total >= this.options.minPositives;
  }

  /** The learnt threshold (whether or not it is in use yet). */
  learnt(): number {
    if (this.cached !== undefined) return this.cached;
    const o = this.options;
    // How many negatives may lie at or above the threshold: the target share, less what chance could
    // add (one-sided 95 % binomial bound), so a few hundred pairs give a cautious threshold and more
    // pairs a tighter one.
    const n = this.neg.total;
    const r = o.targetFalseJoinRate;
    const allowed = Math.max(0, Math.floor(n * r - 1.645 * Math.sqrt(n * r * (1 - r))));
    let b = BINS;
    let above = 0;
    while (b > 0 && above + this.neg.counts[b - 1] <= allowed) above += this.neg.counts[--b];
    const t = Math.max(o.floor, Math.min(o.ceiling, edge(b)));
    this.cached = Math.round(t * 1000) / 1000;
    return this.cached;
  }

  /**
   * Negatives needed before the learnt threshold can stand on its own: with n negatives and none
   * above it, the target rate r is shown (95 % one-sided) only when (1 − r)^n ≤ 0.05, that is
   * n ≥ ln 0.05 / ln(1 − r): 299 at 1 %. Fewer, and the learnt threshold (just above the highest
   * negative seen) is a guess that a 34-pair sample puts too low.
   */
  get certifyingNegatives(): number {
    return Math.ceil(Math.log(0.05) / Math.log(1 - this.options.targetFalseJoinRate));
  }

  /**
   * The threshold in use: the fixed one until enough pairs exist; then the learnt one, but never below
   * the fixed one until the negatives can certify the target rate (it may only tighten it until then).
   */
  threshold(): number {
    if (!this.ready) return this.fixedThreshold;
    const t = this.learnt();
    return this.neg.total < this.certifyingNegatives ? Math.max(t, this.fixedThreshold) : t;
  }

  /** Which threshold threshold() gives (CalibrationState.thresholdSource). */
  get thresholdSource(): 'fixed' | 'learnt' {
    if (!this.ready) return 'fixed';
    return this.neg.total < this.certifyingNegatives && this.learnt() < this.fixedThreshold ? 'fixed' : 'learnt';
  }

  state(): CalibrationState {
    const t = this.threshold();
    const r3 = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
    return {
      mode: this.ready ? 'learnt' : 'learning',
      thresholdSource: this.thresholdSource,
      threshold: t,
      fixedThreshold: this.fixedThreshold,
      targetFalseJoinRate: this.options.targetFalseJoinRate,
      negatives: this.neg.total,
      positives: this.pos.total,
      falseJoinRate: r3(this.neg.atOrAbove(binOf(t)))!,
      keepRate: r3(this.pos.atOrAbove(binOf(t)))!,
      certifyingNegatives: this.certifyingNegatives,
      negativeMedian: r3(this.neg.median()),
      positiveMedian: r3(this.pos.median()),
    };
  }

  /** Histograms as plain JSON (context storage, the admin route). */
  snapshot(): CalibrationSnapshot {
    return { version: 1, negatives: this.neg.sparse(), positives: this.pos.sparse() };
  }

  /** Loads a snapshot; throws with the reason (and keeps nothing of it) when it is malformed. */
  restore(s: unknown): void {
    const snap = s as CalibrationSnapshot;
    if (!snap || typeof snap !== 'object' || snap.version !== 1) throw new Error('calibration snapshot: not a version 1 snapshot');
    const n = new Histogram();
    const p = new Histogram();
    n.load(snap.negatives, 'negatives');
    p.load(snap.positives, 'positives');
    this.neg.load(snap.negatives, 'negatives');
    this.pos.load(snap.positives, 'positives');
    this.cached = undefined;
  }

  /** Histograms with bin edges, for the admin route (non-empty bins only). */
  histograms(): { binWidth: number; negatives: [number, number][]; positives: [number, number][] } {
    const withEdges = (h: Histogram) => h.sparse().map(([b, c]) => [Math.round(edge(b) * 1000) / 1000, c] as [number, number]);
    return { binWidth: WIDTH, negatives: withEdges(this.neg), positives: withEdges(this.pos) };
  }
}
