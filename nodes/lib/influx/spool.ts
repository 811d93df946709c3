/**
 * The on-disk spool: append-only segment files holding batches of line protocol that could not be
 * written yet. Each append is fsync'ed before it resolves, so a batch the writer has been told is
 * spooled survives a crash or a power cut. Segments are replayed oldest first; a fully replayed
 * segment is deleted. Beyond `maxBytes` the oldest segments are dropped and their unreplayed points
 * counted (`dropped`, persisted), so a long outage costs the oldest data, never memory, never silently.
 *
 * Layout under `dir`:
 *   seg-<12 digit sequence>.evs   records: "EVS1 <bodyBytes> <points> <precision> <crc32 hex> <owner>\n<body>\n"
 *   cursor.json                   {seq, offset, points}: how far the oldest segment has been replayed
 *   meta.json                     {dropped}: points dropped by the size cap, ever
 * An append resolves only once the whole record is written and fsync'ed. A short write or an error
 * (ENOSPC, EIO) rejects the append and cuts the file back to its last whole record, so nothing that
 * was not acknowledged stays half-written in the middle of a segment (if that cut fails too, the
 * segment is closed and the next append starts a new one).
 * On open, a torn record at the end of a segment (a crash mid-append, never acknowledged) is cut off;
 * a damaged record in the middle is skipped: the scan goes on at the next whole record, so later
 * records are never lost to an earlier one, and the skipped points are counted (`corrupt`, persisted).
 * The cursor and meta.json are written without fsync and on a best-effort basis: losing the cursor
 * only replays a few batches twice, which is harmless because InfluxDB keeps one point per
 * measurement, tag set and timestamp.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Precision, PRECISIONS } from './line-protocol';

/** The file operations the spool uses: `fs.promises` by default; tests inject faults (ENOSPC, short writes). */
export interface SpoolFs {
  mkdir(dir: string, o: { recursive: true }): Promise<unknown>;
  readdir(dir: string): Promise<string[]>;
  readFile(file: string): Promise<Buffer>;
  writeFile(file: string, data: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  truncate(file: string, len: number): Promise<void>;
  unlink(file: string): Promise<void>;
  open(file: string, flags: string): Promise<SpoolFile>;
}

/** The part of `fs.promises.FileHandle` the spool uses. */
export interface SpoolFile {
  write(buf: Uint8Array, offset: number, length: number): Promise<{ bytesWritten: number }>;
  read(buf: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  datasync(): Promise<void>;
  truncate(len: number): Promise<void>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

export interface SpoolOptions {
  dir: string;
  /** File operations; default `fs.promises`. */
  fs?: SpoolFs;
  /** Size cap over all segments, bytes. Default 100 MiB. */
  maxBytes?: number;
  /** A segment is closed and a new one started beyond this size. Default min(4 MiB, maxBytes / 8). */
  segmentBytes?: number;
  /** Damaged records skipped (on open, or found damaged when read back for replay): for a log line. */
  onDamaged?(d: DamageReport): void;
}

export interface SpoolRecord {
  seq: number;
  offset: number;
  /** Byte offset just past this record. */
  end: number;
  points: number;
  precision: Precision;
  /** Who wrote it (a writer node id), so a rejection on replay can be routed back. */
  owner: string;
  body: string;
}

export interface SpoolStats {
  segments: number;
  bytes: number;
  /** Points waiting to be replayed. */
  backlog: number;
  /** Points dropped by the size cap since the spool was created. */
  dropped: number;
  /** Points in damaged records skipped on open since the spool was created (see `scanRecords`). */
  corrupt: number;
}

interface Segment {
  seq: number;
  bytes: number;
  /** Sum of the records' points, kept so that stats() is cheap. */
  points: number;
  /** Record boundaries and point counts, in file order (kept small: one entry per batch). */
  records: { offset: number; end: number; points: number }[];
}

const MAGIC = 'EVS1';
const MAX_HEADER = 512;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE), own implementation because zlib.crc32 needs Node ≥ 20.15. */
export function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function segName(seq: number): string {
  return `seg-${String(seq).padStart(12, '0')}.evs`;
}

export function encodeRecord(body: string, points: number, precision: Precision, owner: string): Buffer {
  const b = Buffer.from(body, 'utf8');
  const safeOwner = owner.replace(/[^A-Za-z0-9._-]/g, '_') || '-';
  const head = Buffer.from(`${MAGIC} ${b.length} ${points} ${precision} ${crc32(b).toString(16)} ${safeOwner}\n`, 'latin1');
  return Buffer.concat([head, b, Buffer.from('\n')]);
}

/** The header fields of the record starting at `off`, or null when there is no readable header there. */
function readHeader(buf: Buffer, off: number): { len: number; points: number; precision: Precision; crc: string; owner: string; start: number } | null {
  const nl = buf.indexOf(10, off);
  if (nl < 0 || nl - off > MAX_HEADER) return null;
  const parts = buf.toString('latin1', off, nl).split(' ');
  if (parts.length !== 6 || parts[0] !== MAGIC) return null;
  const len = Number(parts[1]);
  const points = Number(parts[2]);
  const precision = parts[3] as Precision;
  if (!Number.isSafeInteger(len) || len < 0 || !Number.isSafeInteger(points) || points < 0 || !PRECISIONS.includes(precision)) return null;
  return { len, points, precision, crc: parts[4], owner: parts[5], start: nl + 1 };
}

/** The whole, checksum-valid record starting at `off`, or null. */
function decodeOne(buf: Buffer, off: number, seq: number): SpoolRecord | null {
  const h = readHeader(buf, off);
  if (!h) return null;
  const end = h.start + h.len + 1;
  if (end > buf.length || buf[end - 1] !== 10) return null;
  const body = buf.subarray(h.start, h.start + h.len);
  if (crc32(body).toString(16) !== h.crc) return null;
  return { seq, offset: off, end, points: h.points, precision: h.precision, owner: h.owner, body: body.toString('utf8') };
}

/** Parses the records of one segment; stops at the first torn or corrupt one and says where. */
export function decodeRecords(buf: Buffer, seq: number): { records: SpoolRecord[]; validEnd: number } {
  const records: SpoolRecord[] = [];
  let off = 0;
  for (let r = decodeOne(buf, off, seq); r; r = decodeOne(buf, off, seq)) {
    records.push(r);
    off = r.end;
  }
  return { records, validEnd: off };
}

export interface SkippedRegion {
  offset: number;
  end: number;
  /** Points it held: its header's count when the header is readable, else its lines that look like line protocol. */
  points: number;
}

export interface ScanResult {
  records: SpoolRecord[];
  /** Just past the last whole record: what follows is a torn tail (or nothing). */
  validEnd: number;
  /** Damaged regions with whole records after them, skipped. */
  skipped: SkippedRegion[];
}

const MAGIC_AT = Buffer.from(MAGIC + ' ', 'latin1');

/**
 * Parses every whole record of one segment. A damaged record (torn by a failed write that an older
 * version acknowledged, or a flipped bit) does not end the scan: it goes on at the next offset where a
 * whole, checksum-valid record starts, and reports the region it skipped. Damage with no whole record
 * after it is the torn tail of an interrupted append: not a record, not reported.
 */
export function scanRecords(buf: Buffer, seq: number): ScanResult {
  const records: SpoolRecord[] = [];
  const skipped: SkippedRegion[] = [];
  let off = 0;
  let validEnd = 0;
  while (off < buf.length) {
    const r = decodeOne(buf, off, seq);
    if (r) {
      records.push(r);
      off = validEnd = r.end;
      continue;
    }
    let next = -1;
    for (let at = buf.indexOf(MAGIC_AT, off + 1); at >= 0; at = buf.indexOf(MAGIC_AT, at + 1)) {
      if (decodeOne(buf, at, seq)) {
        next = at;
        break;
      }
    }
    if (next < 0) break;
    skipped.push({ offset: off, end: next, points: pointsIn(buf, off, next) });
    off = next;
  }
  return { records, validEnd, skipped };
}

function pointsIn(buf: Buffer, from: number, to: number): number {
  const h = readHeader(buf, from);
  if (h && h.start <= to) return h.points;
  return buf
    .toString('utf8', from, to)
    .split('\n')
    .filter((l) => /^\S+ \S/.test(l) && !l.startsWith(MAGIC + ' ')).length; // "measurement fields…" lines
}

/** One region skipped on open, named by its segment file. */
export interface DamageReport extends SkippedRegion {
  file: string;
}

/** A failed append: the batch is not in the spool. `code` is the file system's (ENOSPC, EIO…) or SHORT_WRITE. */
export class SpoolWriteError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'SpoolWriteError';
  }
}

export const NODE_FS: SpoolFs = {
  mkdir: (d, o) => fs.promises.mkdir(d, o),
  readdir: (d) => fs.promises.readdir(d),
  readFile: (f) => fs.promises.readFile(f),
  writeFile: (f, d) => fs.promises.writeFile(f, d),
  rename: (a, b) => fs.promises.rename(a, b),
  truncate: (f, n) => fs.promises.truncate(f, n),
  unlink: (f) => fs.promises.unlink(f),
  open: (f, flags) => fs.promises.open(f, flags),
};

/** Writes all of `buf`, looping over short writes; a write that makes no progress is an error. */
export async function writeAll(fd: SpoolFile, buf: Buffer): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fd.write(buf, done, buf.length - done);
    if (!(bytesWritten > 0)) throw new SpoolWriteError(`short write: ${done} of ${buf.length} bytes`, 'SHORT_WRITE');
    done += bytesWritten;
  }
}

export class Spool {
  readonly dir: string;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  private readonly fs: SpoolFs;
  private readonly onDamaged?: (d: DamageReport) => void;
  private segments: Segment[] = [];
  private cursor = { seq: 0, offset: 0, points: 0 };
  private dropped = 0;
  private corrupt = 0;
  /** Damaged regions already counted in `corrupt` ("<file>:<offset>"), so a restart does not count them again. */
  private counted: string[] = [];
  private fd: SpoolFile | null = null;
  private activeSeq = 0;
  private nextSeq = 1;
  /** All file work runs one operation at a time, in call order. */
  private chain: Promise<unknown> = Promise.resolve();
  private opened = false;
  private closed = false;

  constructor(opts: SpoolOptions) {
    if (!opts || typeof opts.dir !== 'string' || !opts.dir) throw new Error('spool: dir must be a folder path');
    const maxBytes = opts.maxBytes ?? 100 * 1024 * 1024;
    if (!Number.isFinite(maxBytes) || maxBytes < 4096) throw new Error(`spool: maxBytes must be at least 4096, got ${maxBytes}`);
    const segmentBytes = opts.segmentBytes ?? Math.max(1024, Math.min(4 * 1024 * 1024, Math.floor(maxBytes / 8)));
    if (!Number.isFinite(segmentBytes) || segmentBytes < 256 || segmentBytes > maxBytes) {
      throw new Error(`spool: segmentBytes must be between 256 and maxBytes (${maxBytes}), got ${segmentBytes}`);
    }
    this.dir = opts.dir;
    this.maxBytes = maxBytes;
    this.segmentBytes = segmentBytes;
    this.fs = opts.fs ?? NODE_FS;
    this.onDamaged = opts.onDamaged;
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /**
   * Reads what a previous run left: segments, cursor, counters. Cuts off a torn tail; skips damaged
   * records in the middle of a segment (later records stay), counts their points in `corrupt` and
   * says where they were.
   */
  open(): Promise<DamageReport[]> {
    return this.run(async () => {
      if (this.opened) return [];
      await this.fs.mkdir(this.dir, { recursive: true });
      const meta = await this.readJson('meta.json');
      this.dropped = Number.isSafeInteger(meta?.dropped) ? (meta!.dropped as number) : 0;
      this.corrupt = Number.isSafeInteger(meta?.corrupt) ? (meta!.corrupt as number) : 0;
      const known = new Set(Array.isArray(meta?.counted) ? (meta!.counted as unknown[]).filter((k): k is string => typeof k === 'string') : []);
      const damage: DamageReport[] = [];
      const names = (await this.fs.readdir(this.dir)).filter((n) => /^seg-\d{12}\.evs$/.test(n)).sort();
      for (const name of names) {
        const seq = Number(name.slice(4, 16));
        const file = path.join(this.dir, name);
        const buf = await this.fs.readFile(file);
        const { records, validEnd, skipped } = scanRecords(buf, seq);
        for (const r of skipped) damage.push({ file: name, ...r });
        if (validEnd < buf.length) await this.fs.truncate(file, validEnd);
        this.nextSeq = Math.max(this.nextSeq, seq + 1);
        if (records.length === 0) {
          await this.fs.unlink(file);
          continue;
        }
        this.segments.push({
          seq,
          bytes: validEnd,
          points: records.reduce((n, r) => n + r.points, 0),
          records: records.map((r) => ({ offset: r.offset, end: r.end, points: r.points })),
        });
      }
      const cur = await this.readJson('cursor.json');
      const first = this.segments[0];
      if (first && cur && cur.seq === first.seq && Number.isSafeInteger(cur.offset) && Number.isSafeInteger(cur.points)) {
        this.cursor = { seq: first.seq, offset: cur.offset as number, points: cur.points as number };
      } else {
        this.cursor = { seq: first ? first.seq : 0, offset: 0, points: 0 };
      }
      // Damaged regions stay in their segment (for inspection) until it is replayed and deleted: count
      // each once, and forget those whose segment is gone.
      const keys = damage.map((d) => `${d.file}:${d.offset}`);
      const fresh = damage.filter((_, i) => !known.has(keys[i]));
      this.counted = keys;
      if (fresh.length > 0 || known.size !== keys.length) {
        this.corrupt += fresh.reduce((n, d) => n + d.points, 0);
        await this.saveMeta();
      }
      this.opened = true;
      for (const d of fresh) this.onDamaged?.(d);
      return fresh;
    });
  }

  /**
   * Appends one batch and fsyncs it; resolves only once the whole record is on disk. Then enforces the
   * size cap. Returns the number of points the cap dropped to make room (0 normally). Rejects with a
   * SpoolWriteError when the record could not be written whole (disk full, short write, I/O error):
   * the batch is then not in the spool, and the file is back at its last whole record.
   */
  append(body: string, points: number, precision: Precision, owner: string): Promise<number> {
    return this.run(async () => {
      this.assertUsable();
      const rec = encodeRecord(body, points, precision, owner);
      let active = this.segments.find((s) => s.seq === this.activeSeq);
      if (!this.fd || !active || active.bytes >= this.segmentBytes) {
        await this.closeActive();
        const seq = this.nextSeq++;
        try {
          this.fd = await this.fs.open(path.join(this.dir, segName(seq)), 'a');
        } catch (err) {
          throw this.writeError(err, points);
        }
        this.activeSeq = seq;
        active = { seq, bytes: 0, points: 0, records: [] };
        this.segments.push(active);
        if (this.segments.length === 1) this.cursor = { seq, offset: 0, points: 0 };
      }
      try {
        await writeAll(this.fd!, rec);
        await this.fd!.datasync();
      } catch (err) {
        await this.undoAppend(active);
        throw this.writeError(err, points);
      }
      active.records.push({ offset: active.bytes, end: active.bytes + rec.length, points });
      active.bytes += rec.length;
      active.points += points;
      return this.enforceCap();
    });
  }

  private writeError(err: unknown, points: number): SpoolWriteError {
    const e = err as { code?: string; message?: string };
    const code = e.code ?? 'EIO';
    const what = code === 'ENOSPC' ? 'disk full' : code === 'SHORT_WRITE' ? 'disk full or failing' : 'write failed';
    return new SpoolWriteError(`spool: ${what} in ${this.dir} (${e.message ?? code}): ${points} points not spooled`, code);
  }

  /**
   * After a failed append: cut the active segment back to its last whole record. If even that fails,
   * close the segment (its torn tail is cut on the next open) so the next append starts a new one.
   * A segment left with no record is removed.
   */
  private async undoAppend(active: Segment): Promise<void> {
    let cut = false;
    try {
      await this.fd!.truncate(active.bytes);
      cut = true;
    } catch {
      /* the disk refuses even that: leave the tail behind a closed segment */
    }
    if (!cut || active.records.length === 0) {
      await this.closeActive().catch(() => undefined);
    }
    if (active.records.length === 0) {
      this.segments = this.segments.filter((s) => s !== active);
      await this.fs.unlink(path.join(this.dir, segName(active.seq))).catch(() => undefined);
      if (this.cursor.seq === active.seq) this.cursor = { seq: this.segments[0]?.seq ?? 0, offset: 0, points: 0 };
    }
  }

  private async enforceCap(): Promise<number> {
    let lost = 0;
    while (this.totalBytes() > this.maxBytes && this.segments.length > 0) {
      const seg = this.segments[0];
      lost += seg.points - (this.cursor.seq === seg.seq ? this.cursor.points : 0);
      await this.removeOldest();
    }
    if (lost > 0) {
      this.dropped += lost;
      await this.saveMeta();
      await this.tryWriteJson('cursor.json', this.cursor);
    }
    return lost;
  }

  /** The record the cursor points at (the first at or after it in the oldest segment). */
  private head(): { seg: Segment; meta: Segment['records'][number] } | null {
    const seg = this.segments[0];
    if (!seg) return null;
    const meta = seg.records.find((r) => r.offset >= this.cursor.offset);
    return meta ? { seg, meta } : null;
  }

  /**
   * The oldest batch not yet replayed, or null when the spool is empty. Does not consume it. A record
   * that no longer reads back whole (the disk changed it since it was written) is skipped and counted
   * in `corrupt`, so one bad sector cannot stop the replay of everything after it.
   */
  peek(): Promise<SpoolRecord | null> {
    return this.run(async () => {
      this.assertUsable();
      for (;;) {
        const h = this.head();
        if (!h) return null;
        const { seg, meta } = h;
        const fh = await this.fs.open(path.join(this.dir, segName(seg.seq)), 'r');
        let rec: SpoolRecord | undefined;
        try {
          const buf = Buffer.alloc(meta.end - meta.offset);
          const { bytesRead } = await fh.read(buf, 0, buf.length, meta.offset);
          rec = decodeRecords(buf.subarray(0, bytesRead), seg.seq).records[0];
        } finally {
          await fh.close();
        }
        if (rec && rec.end === meta.end - meta.offset) return { ...rec, offset: meta.offset, end: meta.end };
        const d: DamageReport = { file: segName(seg.seq), offset: meta.offset, end: meta.end, points: meta.points };
        this.corrupt += meta.points;
        await this.consume(seg, meta);
        await this.saveMeta();
        this.onDamaged?.(d);
      }
    });
  }

  /**
   * Marks a peeked record as replayed. A record the cap dropped in the meantime is ignored.
   * A segment whose last record is consumed is deleted (the active one is closed first).
   */
  ack(rec: SpoolRecord): Promise<void> {
    return this.run(async () => {
      this.assertUsable();
      const h = this.head();
      if (!h || h.seg.seq !== rec.seq || h.meta.offset !== rec.offset) return;
      await this.consume(h.seg, h.meta);
    });
  }

  /** Moves the cursor past one record of the oldest segment; deletes the segment once all of it is. */
  private async consume(seg: Segment, meta: Segment['records'][number]): Promise<void> {
    this.cursor = { seq: seg.seq, offset: meta.end, points: this.cursor.points + meta.points };
    if (!seg.records.some((r) => r.offset >= meta.end)) await this.removeOldest();
    await this.tryWriteJson('cursor.json', this.cursor);
  }

  stats(): SpoolStats {
    const backlog = this.segments.reduce((n, s) => n + s.points, 0);
    return { segments: this.segments.length, bytes: this.totalBytes(), backlog: backlog - this.cursor.points, dropped: this.dropped, corrupt: this.corrupt };
  }

  get isEmpty(): boolean {
    return this.stats().backlog === 0;
  }

  close(): Promise<void> {
    return this.run(async () => {
      if (this.closed) return;
      this.closed = true;
      await this.closeActive();
    });
  }

  /** Deletes the oldest segment (closing it first if it is the active one); the cursor moves to the next. */
  private async removeOldest(): Promise<void> {
    const seg = this.segments[0];
    if (seg.seq === this.activeSeq) await this.closeActive();
    this.segments.shift();
    await this.fs.unlink(path.join(this.dir, segName(seg.seq))).catch(() => undefined);
    this.cursor = { seq: this.segments[0]?.seq ?? 0, offset: 0, points: 0 };
  }

  private totalBytes(): number {
    return this.segments.reduce((n, s) => n + s.bytes, 0);
  }

  private async closeActive(): Promise<void> {
    const fd = this.fd;
    this.fd = null;
    this.activeSeq = 0;
    if (fd) await fd.close();
  }

  private assertUsable(): void {
    if (!this.opened) throw new Error('spool: open() it first');
    if (this.closed) throw new Error('spool: closed');
  }

  private saveMeta(): Promise<boolean> {
    return this.tryWriteJson('meta.json', { dropped: this.dropped, corrupt: this.corrupt, counted: this.counted });
  }

  private async readJson(name: string): Promise<Record<string, unknown> | null> {
    try {
      const v = JSON.parse((await this.fs.readFile(path.join(this.dir, name))).toString('utf8'));
      return typeof v === 'object' && v !== null ? v : null;
    } catch {
      return null;
    }
  }

  /**
   * Write to a temp file and rename: a crash leaves the old or the new file, never half of one.
   * Best effort: the counters and the cursor are also in memory, and a stale cursor only replays
   * batches again (idempotent), so a full disk must not fail the append or the ack that wrote them.
   */
  private async tryWriteJson(name: string, value: object): Promise<boolean> {
    const file = path.join(this.dir, name);
    const tmp = file + '.tmp';
    try {
      await this.fs.writeFile(tmp, JSON.stringify(value));
      await this.fs.rename(tmp, file);
      return true;
    } catch {
      await this.fs.unlink(tmp).catch(() => undefined);
      return false;
    }
  }
}
