/**
 * MOTChallenge text files: detections (`frame,-1,x,y,w,h,score,…`), ground truth
 * (`frame,id,x,y,w,h,flag,…`) and tracker results (`frame,id,x,y,w,h,score,-1,-1,-1`), plus
 * seqinfo.ini. MOT boxes are [left, top, width, height] with 1-based pixel coordinates; only the
 * difference between two boxes matters to IoU, so they are converted to [x1, y1, x2, y2] as written.
 */
import { Box, Detection } from '../../types';

export interface MotRow {
  frame: number;
  id: number;
  /** [x1, y1, x2, y2] from the file's left, top, width, height. */
  box: Box;
  /** Column 7: detection score, or the gt "consider" flag (0 = ignore). */
  conf: number;
  /** Column 8 when present: the gt class in MOT16+ files, -1 in MOT15. */
  cls: number;
}

/** Parses a MOTChallenge text file (comma or whitespace separated). Blank lines are skipped. */
export function parseMot(text: string, source = 'MOT file'): MotRow[] {
  const rows: MotRow[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const f = line.split(/\s*,\s*|\s+/).map(Number);
    if (f.length < 6 || f.slice(0, 6).some((v) => !Number.isFinite(v))) {
      throw new Error(`${source} line ${i + 1}: expected frame,id,left,top,width,height[,conf,…], got "${line.slice(0, 80)}"`);
    }
    const [frame, id, x, y, w, h] = f;
    if (!Number.isInteger(frame) || frame < 1) throw new Error(`${source} line ${i + 1}: frame must be a whole number ≥ 1, got ${frame}`);
    rows.push({
      frame,
      id,
      box: [x, y, x + w, y + h],
      conf: f.length > 6 && Number.isFinite(f[6]) ? f[6] : 1,
      cls: f.length > 7 && Number.isFinite(f[7]) ? f[7] : -1,
    });
  }
  return rows;
}

/** Rows grouped by frame number. */
export function groupByFrame(rows: readonly MotRow[]): Map<number, MotRow[]> {
  const out = new Map<number, MotRow[]>();
  for (const r of rows) {
    const list = out.get(r.frame);
    if (list) list.push(r);
    else out.set(r.frame, [r]);
  }
  return out;
}

/** Detection rows as pipeline detections (class 0 "person", score from column 7). */
export function rowsToDetections(rows: readonly MotRow[]): Detection[] {
  return rows.map((r) => ({ box: [...r.box] as Box, score: r.conf, classId: 0, label: 'person' }));
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
}

/** One result line: `frame,id,left,top,width,height,score,-1,-1,-1`. */
export function formatResultRow(frame: number, id: number, box: Box, score: number): string {
  return [frame, id, fmt(box[0]), fmt(box[1]), fmt(box[2] - box[0]), fmt(box[3] - box[1]), fmt(score), -1, -1, -1].join(',');
}

export interface SeqInfo {
  name?: string;
  frameRate?: number;
  seqLength?: number;
  imWidth?: number;
  imHeight?: number;
}

/** The [Sequence] keys of a seqinfo.ini that matter here. */
export function parseSeqInfo(text: string): SeqInfo {
  const out: SeqInfo = {};
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z]+)\s*=\s*(.*?)\s*$/.exec(raw);
    if (!m) continue;
    const [, k, v] = m;
    if (k === 'name') out.name = v;
    else if (k === 'frameRate' || k === 'seqLength' || k === 'imWidth' || k === 'imHeight') {
      const n = Number(v);
      if (Number.isFinite(n)) out[k] = n;
    }
  }
  return out;
}
