/**
 * Decoders for YOLO-family output tensors. Each turns one batch item's output into candidates in
 * model-input pixels ([x1,y1,x2,y2], score, class), keeping only rows whose best *allowed* class
 * reaches that class's threshold — filtering here keeps NMS small. Thresholds come as one number per
 * class (Infinity = class not wanted), so the class filter and per-class thresholds cost nothing extra.
 */

export type OutputFormat = 'yolox' | 'yolov5' | 'yolov8' | 'end2end';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['yolox', 'yolov5', 'yolov8', 'end2end'];

export interface OutputTensor {
  data: Float32Array;
  dims: readonly number[];
}

/** Candidates before NMS, in model-input pixels. Flat arrays: boxes holds 4 numbers per candidate. */
export interface Candidates {
  boxes: number[];
  scores: number[];
  classIds: number[];
}

export function emptyCandidates(): Candidates {
  return { boxes: [], scores: [], classIds: [] };
}

export const DEFAULT_STRIDES: readonly number[] = [8, 16, 32];

/** Rows a stride pyramid produces for an input size: Σ ⌈H/s⌉·⌈W/s⌉ (the anchor-free grid). */
export function gridRows(width: number, height: number, strides: readonly number[] = DEFAULT_STRIDES): number {
  let n = 0;
  for (const s of strides) n += Math.ceil(height / s) * Math.ceil(width / s);
  return n;
}

/** Grid cell and stride of every row of a raw YOLOX output (strides in order, each grid row-major). */
export interface Grid {
  gx: Float32Array;
  gy: Float32Array;
  stride: Float32Array;
}

export function makeGrid(width: number, height: number, strides: readonly number[] = DEFAULT_STRIDES): Grid {
  const n = gridRows(width, height, strides);
  const gx = new Float32Array(n);
  const gy = new Float32Array(n);
  const st = new Float32Array(n);
  let r = 0;
  for (const s of strides) {
    const h = Math.ceil(height / s);
    const w = Math.ceil(width / s);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++, r++) {
        gx[r] = x;
        gy[r] = y;
        st[r] = s;
      }
    }
  }
  return { gx, gy, stride: st };
}

export interface DecodeContext {
  /** Per class: minimum score to keep; Infinity drops the class. Its length is the class count. */
  thresholds: Float32Array;
  /** Needed by 'yolox' (raw grid output). */
  grid?: Grid;
}

function minOf(a: Float32Array): number {
  let m = Infinity;
  for (let i = 0; i < a.length; i++) if (a[i] < m) m = a[i];
  return m;
}

function push(c: Candidates, cx: number, cy: number, w: number, h: number, score: number, cls: number): void {
  c.boxes.push(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2);
  c.scores.push(score);
  c.classIds.push(cls);
}

function expect3(t: OutputTensor, what: string): [number, number, number] {
  if (t.dims.length !== 3) throw new Error(`${what} output must have 3 dimensions, got [${t.dims.join(',')}]`);
  const [b, n, k] = t.dims;
  if (t.data.length < b * n * k) throw new Error(`${what} output has ${t.data.length} values; [${t.dims.join(',')}] needs ${b * n * k}`);
  return [b, n, k];
}

function checkBatch(b: number, batch: number): void {
  if (!Number.isInteger(batch) || batch < 0 || batch >= b) throw new Error(`batch index ${batch} outside the output's batch of ${b}`);
}

/**
 * For a row laid out [cx, cy, w, h, obj, cls0…] at `base`: the class whose obj·cls is highest among
 * those that clear their own threshold, or -1. Shared by the YOLOX and YOLOv5 layouts.
 */
function bestClass(d: Float32Array, base: number, obj: number, nc: number, thr: ArrayLike<number>): number {
  let best = -1;
  let bestScore = -Infinity;
  for (let c = 0; c < nc; c++) {
    const s = obj * d[base + 5 + c];
    if (s >= thr[c] && s > bestScore) {
      bestScore = s;
      best = c;
    }
  }
  return best;
}

/** YOLOX raw grid: rows [cx,cy,w,h,obj,cls…] before decoding; obj and cls already sigmoided. */
export function decodeYolox(t: OutputTensor, batch: number, ctx: DecodeContext): Candidates {
  const [b, n, k] = expect3(t, 'YOLOX');
  checkBatch(b, batch);
  const nc = k - 5;
  const g = ctx.grid;
  if (!g || g.gx.length !== n) throw new Error(`YOLOX output has ${n} rows but the grid for this input size has ${g?.gx.length ?? 0}`);
  if (ctx.thresholds.length !== nc) throw new Error(`YOLOX output has ${nc} classes but ${ctx.thresholds.length} thresholds were given`);
  const thr = ctx.thresholds;
  const floor = minOf(thr);
  const d = t.data;
  const out = emptyCandidates();
  for (let r = 0, base = batch * n * k; r < n; r++, base += k) {
    const obj = d[base + 4];
    // cls ≤ 1, so score = obj·cls ≤ obj: most rows stop here.
    if (!(obj >= floor)) continue;
    const best = bestClass(d, base, obj, nc, thr);
    if (best < 0) continue;
    const s = g.stride[r];
    push(out, (d[base] + g.gx[r]) * s, (d[base + 1] + g.gy[r]) * s, Math.exp(d[base + 2]) * s, Math.exp(d[base + 3]) * s, obj * d[base + 5 + best], best);
  }
  return out;
}

/** YOLOv5 / YOLOv7: [B, N, 5+C] rows [cx,cy,w,h,obj,cls…] in input pixels, already decoded. */
export function decodeYolov5(t: OutputTensor, batch: number, ctx: DecodeContext): Candidates {
  const [b, n, k] = expect3(t, 'YOLOv5');
  checkBatch(b, batch);
  const nc = k - 5;
  if (ctx.thresholds.length !== nc) throw new Error(`YOLOv5 output has ${nc} classes but ${ctx.thresholds.length} thresholds were given`);
  const thr = ctx.thresholds;
  const floor = minOf(thr);
  const d = t.data;
  const out = emptyCandidates();
  for (let r = 0, base = batch * n * k; r < n; r++, base += k) {
    const obj = d[base + 4];
    if (!(obj >= floor)) continue;
    const best = bestClass(d, base, obj, nc, thr);
    if (best >= 0) push(out, d[base], d[base + 1], d[base + 2], d[base + 3], obj * d[base + 5 + best], best);
  }
  return out;
}

/** YOLOv8 / YOLO11: [B, 4+C, N], channel-major [cx,cy,w,h,cls…], no objectness. */
export function decodeYolov8(t: OutputTensor, batch: number, ctx: DecodeContext): Candidates {
  const [b, k, n] = expect3(t, 'YOLOv8');
  checkBatch(b, batch);
  const nc = k - 4;
  if (ctx.thresholds.length !== nc) throw new Error(`YOLOv8 output has ${nc} classes but ${ctx.thresholds.length} thresholds were given`);
  const thr = ctx.thresholds;
  const d = t.data;
  const base = batch * k * n;
  // Class-major sweep: each class is one contiguous run of N values, which is how the tensor lies.
  const bestScore = new Float32Array(n).fill(-Infinity);
  const best = new Int32Array(n).fill(-1);
  for (let c = 0; c < nc; c++) {
    const tc = thr[c];
    if (tc === Infinity) continue;
    const row = base + (4 + c) * n;
    for (let i = 0; i < n; i++) {
      const s = d[row + i];
      if (s >= tc && s > bestScore[i]) {
        bestScore[i] = s;
        best[i] = c;
      }
    }
  }
  const out = emptyCandidates();
  for (let i = 0; i < n; i++) {
    if (best[i] < 0) continue;
    push(out, d[base + i], d[base + n + i], d[base + 2 * n + i], d[base + 3 * n + i], bestScore[i], best[i]);
  }
  return out;
}

/** End-to-end (NMS inside the model, e.g. YOLOv10 / `end2end` exports): [B, N, 6] rows [x1,y1,x2,y2,score,class]. */
export function decodeEnd2end(t: OutputTensor, batch: number, ctx: DecodeContext): Candidates {
  const [b, n, k] = expect3(t, 'end-to-end');
  if (k !== 6) throw new Error(`end-to-end output rows must have 6 values (box, score, class), got ${k}`);
  checkBatch(b, batch);
  const thr = ctx.thresholds;
  const d = t.data;
  const out = emptyCandidates();
  for (let r = 0, base = batch * n * k; r < n; r++, base += k) {
    const cls = Math.round(d[base + 5]);
    const s = d[base + 4];
    if (cls < 0 || cls >= thr.length || !(s >= thr[cls])) continue;
    out.boxes.push(d[base], d[base + 1], d[base + 2], d[base + 3]);
    out.scores.push(s);
    out.classIds.push(cls);
  }
  return out;
}

export function decode(format: OutputFormat, t: OutputTensor, batch: number, ctx: DecodeContext): Candidates {
  switch (format) {
    case 'yolox':
      return decodeYolox(t, batch, ctx);
    case 'yolov5':
      return decodeYolov5(t, batch, ctx);
    case 'yolov8':
      return decodeYolov8(t, batch, ctx);
    case 'end2end':
      return decodeEnd2end(t, batch, ctx);
    default:
      throw new Error(`unknown output format "${String(format)}"; use ${OUTPUT_FORMATS.join(', ')}`);
  }
}

/** Classes an output of this format carries (for sizing the thresholds); undefined for end2end. */
export function classCount(format: OutputFormat, dims: readonly (number | string)[]): number | undefined {
  const num = (v: number | string | undefined) => (typeof v === 'number' && v > 0 ? v : undefined);
  if (format === 'yolox' || format === 'yolov5') {
    const k = num(dims[2]);
    return k === undefined ? undefined : k - 5;
  }
  if (format === 'yolov8') {
    const k = num(dims[1]);
    return k === undefined ? undefined : k - 4;
  }
  return undefined;
}

/**
 * Guesses the decoder from the output shape and the input size:
 *   [B, N, 5+C] with N = grid rows           → yolox (raw grid)
 *   [B, N, 5+C] with N = 3 × grid rows        → yolov5 (three anchors per cell)
 *   [B, 4+C, N] with N = grid rows            → yolov8 (transposed, anchor-free)
 *   [B, N, 6] otherwise                       → end2end
 * Returns undefined with a reason when nothing fits, so the status can say why.
 */
export function detectFormat(
  dims: readonly (number | string)[],
  inputWidth: number,
  inputHeight: number,
  strides: readonly number[] = DEFAULT_STRIDES,
): { format?: OutputFormat; reason: string } {
  const shape = `[${dims.join(',')}]`;
  if (dims.length !== 3) return { reason: `output ${shape} has ${dims.length} dimensions; detectors here give 3` };
  const rows = gridRows(inputWidth, inputHeight, strides);
  const [, d1, d2] = dims;
  if (typeof d1 === 'number' && typeof d2 === 'number') {
    if (d1 === rows && d2 > 5) return { format: 'yolox', reason: `${shape}: ${rows} rows = grid of a ${inputWidth}×${inputHeight} input` };
    if (d1 === 3 * rows && d2 > 5) return { format: 'yolov5', reason: `${shape}: ${d1} rows = 3 anchors × grid` };
    if (d2 === rows && d1 > 4) return { format: 'yolov8', reason: `${shape}: ${rows} columns = grid, ${d1 - 4} classes` };
    if (d2 === 6) return { format: 'end2end', reason: `${shape}: rows of 6 (box, score, class)` };
  } else if (d2 === 6) {
    return { format: 'end2end', reason: `${shape}: rows of 6 (box, score, class)` };
  }
  return {
    reason: `output ${shape} matches no decoder for a ${inputWidth}×${inputHeight} input (expected [1,${rows},5+C], [1,${3 * rows},5+C], [1,4+C,${rows}] or [1,N,6]); set the output format by hand`,
  };
}
