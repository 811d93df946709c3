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
 * A torn record at the end of a segment (a crash mid-append, never acknowledged) is cut off on open.
 * The cursor is written without fsync: losing it only replays a few batches twice, which is harmless
 * because InfluxDB keeps one point per measurement, tag set and timestamp.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Precision, PRECISIONS } from './line-protocol';

export interface SpoolOptions {
  dir: string;
  /** Size cap over all segments, bytes. Default 100 MiB. */
  maxBytes?: number;
  /** A segment is closed and a new one started beyond this size. Default min(4 MiB, maxBytes / 8). */
  segmentBytes?: number;
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

/** Parses the records of one segment; stops at the first torn or corrupt one and says where. */
export function decodeRecords(buf: Buffer, seq: number): { records: SpoolRecord[]; validEnd: number } {
  const records: SpoolRecord[] = [];
  let off = 0;
  while (off < buf.length) {
    const nl = buf.indexOf(10, off);
    if (nl < 0 || nl - off > MAX_HEADER) break;
    const parts = buf.toString('latin1', off, nl).split(' ');
    if (parts.length !== 6 || parts[0] !== MAGIC) break;
    const len = Number(parts[1]);
    const points = Number(parts[2]);
    const precision = parts[3] as Precision;
    if (!Number.isSafeInteger(len) || !Number.isSafeInteger(points) || !PRECISIONS.includes(precision)) break;
    const start = nl + 1;
    const end = start + len + 1;
    if (end > buf.length || buf[end - 1] !== 10) break;
    const body = buf.subarray(start, start + len);
    if (crc32(body).toString(16) !== parts[4]) break;
    records.push({ seq, offset: off, end, points, precision, owner: parts[5], body: body.toString('utf8') });
    off = end;
  }
  return { records, validEnd: off };
}

export class Spool {
  readonly dir: string;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  private segments: Segment[] = [];
  private cursor = { seq: 0, offset: 0, points: 0 };
  private dropped = 0;
  private fd: fs.promises.FileHandle | null = null;
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
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Reads what a previous run left: segments, cursor, drop counter. Cuts off a torn tail. */
  open(): Promise<void> {
    return this.run(async () => {
      if (this.opened) return;
      await fs.promises.mkdir(this.dir, { recursive: true });
      const meta = await readJson(path.join(this.dir, 'meta.json'));
      this.dropped = Number.isSafeInteger(meta?.dropped) ? (meta!.dropped as number) : 0;
      const names = (await fs.promises.readdir(this.dir)).filter((n) => /^seg-\d{12}\.evs$/.test(n)).sort();
      for (const name of names) {
        const seq = Number(name.slice(4, 16));
        const file = path.join(this.dir, name);
        const buf = await fs.promises.readFile(file);
        const { records, validEnd } = decodeRecords(buf, seq);
        if (validEnd < buf.length) await fs.promises.truncate(file, validEnd);
        if (records.length === 0) {
          await fs.promises.unlink(file);
          continue;
        }
        this.segments.push({
          seq,
          bytes: validEnd,
          points: records.reduce((n, r) => n + r.points, 0),
          records: records.map((r) => ({ offset: r.offset, end: r.end, points: r.points })),
        });
        this.nextSeq = seq + 1;
      }
      const cur = await readJson(path.join(this.dir, 'cursor.json'));
      const first = this.segments[0];
      if (first && cur && cur.seq === first.seq && Number.isSafeInteger(cur.offset) && Number.isSafeInteger(cur.points)) {
        this.cursor = { seq: first.seq, offset: cur.offset as number, points: cur.points as number };
      } else {
        this.cursor = { seq: first ? first.seq : 0, offset: 0, points: 0 };
      }
      this.opened = true;
    });
  }

  /**
   * Appends one batch and fsyncs it; resolves only once it is on disk. Then enforces the size cap.
   * Returns the number of points the cap dropped to make room (0 normally).
   */
  append(body: string, points: number, precision: Precision, owner: string): Promise<number> {
    return this.run(async () => {
      this.assertUsable();
      const rec = encodeRecord(body, points, precision, owner);
      let active = this.segments.find((s) => s.seq === this.activeSeq);
      if (!this.fd || !active || active.bytes >= this.segmentBytes) {
        await this.closeActive();
        const seq = this.nextSeq++;
        this.fd = await fs.promises.open(path.join(this.dir, segName(seq)), 'a');
        this.activeSeq = seq;
        active = { seq, bytes: 0, points: 0, records: [] };
        this.segments.push(active);
        if (this.segments.length === 1) this.cursor = { seq, offset: 0, points: 0 };
      }
      await this.fd.write(rec);
      await this.fd.datasync();
      active.records.push({ offset: active.bytes, end: active.bytes + rec.length, points });
      active.bytes += rec.length;
      active.points += points;
      return this.enforceCap();
    });
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
      await writeJson(path.join(this.dir, 'meta.json'), { dropped: this.dropped });
      await writeJson(path.join(this.dir, 'cursor.json'), this.cursor);
    }
    return lost;
  }

  /** The oldest batch not yet replayed, or null when the spool is empty. Does not consume it. */
  peek(): Promise<SpoolRecord | null> {
    return this.run(async () => {
      this.assertUsable();
      const seg = this.segments[0];
      if (!seg) return null;
      const meta = seg.records.find((r) => r.offset === this.cursor.offset);
      if (!meta) return null;
      const fh = await fs.promises.open(path.join(this.dir, segName(seg.seq)), 'r');
      try {
        const buf = Buffer.alloc(meta.end - meta.offset);
        await fh.read(buf, 0, buf.length, meta.offset);
        const { records } = decodeRecords(buf, seg.seq);
        if (records.length !== 1) throw new Error(`spool: record at ${segName(seg.seq)}:${meta.offset} is corrupt`);
        const r = records[0];
        return { ...r, offset: meta.offset, end: meta.end };
      } finally {
        await fh.close();
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
      const seg = this.segments[0];
      if (!seg || seg.seq !== rec.seq || this.cursor.seq !== rec.seq || this.cursor.offset !== rec.offset) return;
      this.cursor = { seq: seg.seq, offset: rec.end, points: this.cursor.points + rec.points };
      if (rec.end >= seg.bytes) await this.removeOldest();
      await writeJson(path.join(this.dir, 'cursor.json'), this.cursor);
    });
  }

  stats(): SpoolStats {
    const backlog = this.segments.reduce((n, s) => n + s.points, 0);
    return { segments: this.segments.length, bytes: this.totalBytes(), backlog: backlog - this.cursor.points, dropped: this.dropped };
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
    await fs.promises.unlink(path.join(this.dir, segName(seg.seq))).catch(() => undefined);
    this.cursor = { seq: this.segments[0]?.seq ?? 0, offset: 0, points: 0 };
  }

  private totalBytes(): number {
    return this.segments.reduce((n, s) => n + s.bytes, 0);
  }

  private async closeActive(): Promise<void> {
    if (this.fd) {
      const fd = this.fd;
      this.fd = null;
      await fd.close();
    }
    this.activeSeq = 0;
  }

  private assertUsable(): void {
    if (!this.opened) throw new Error('spool: open() it first');
    if (this.closed) throw new Error('spool: closed');
  }
}

async function readJson(file: string): Promise<Record<string, unknown> | null> {
  try {
    const v = JSON.parse(await fs.promises.readFile(file, 'utf8'));
    return typeof v === 'object' && v !== null ? v : null;
  } catch {
    return null;
  }
}

/** Write to a temp file and rename: a crash leaves the old or the new file, never half of one. */
async function writeJson(file: string, value: object): Promise<void> {
  const tmp = file + '.tmp';
  await fs.promises.writeFile(tmp, JSON.stringify(value));
  await fs.promises.rename(tmp, file);
}
