/**
 * The dead-letter file: batches the server refused as malformed (400 unable to parse, a field type
 * conflict, 413, 422) are kept here instead of being lost, one JSON line per batch with the server's
 * reason and the time it answered, so that they can be replayed once the schema or the data is fixed
 * (`edgevision influx-replay-deadletter`, or a `topic: "replay-deadletter"` message to a writer).
 *
 * `<spool dir>/deadletter.jsonl`, each line:
 *   {"time": ISO 8601, "status": 400, "reason": "...", "precision": "ms", "points": 74, "owner": "<writer id>", "body": "<line protocol>"}
 * An append writes the whole line and fsyncs it before it resolves; a failed one cuts the file back.
 * The file is opened per operation (it is rare), so a replay that rewrites it (temp file, fsync,
 * rename) never leaves another writer appending to a deleted file. A line that does not parse (a
 * crash mid-append) is kept as it is and counted, never dropped. Beyond `maxBytes` a new batch is not
 * kept: the caller reports that.
 */
import * as path from 'path';
import { Precision, PRECISIONS } from './line-protocol';
import { SpoolFs, NODE_FS, writeAll, SpoolWriteError } from './spool';

export interface DeadLetterEntry {
  /** When the server refused it, ISO 8601 (the caller's clock: the engine reads none). */
  time: string;
  status?: number;
  reason: string;
  precision: Precision;
  points: number;
  /** The writer node that sent it. */
  owner: string;
  body: string;
}

export interface DeadLetterOptions {
  /** The spool folder; the file is `deadletter.jsonl` in it. */
  dir: string;
  /** Size cap, bytes. Default 100 MiB. */
  maxBytes?: number;
  fs?: SpoolFs;
}

export interface DeadLetterContents {
  entries: DeadLetterEntry[];
  /** Lines that are not an entry (a torn append): kept in the file, never replayed. */
  damaged: number;
  bytes: number;
}

export interface ReplayResult {
  /** Entries replayed (removed from the file) and their points. */
  batches: number;
  points: number;
  /** Entries still in the file afterwards (refused again, not tried, or damaged). */
  left: number;
  /** Why the replay stopped early, if it did. */
  error?: string;
}

export const DEAD_LETTER_FILE = 'deadletter.jsonl';

function parseEntry(line: string): DeadLetterEntry | null {
  try {
    const e = JSON.parse(line);
    if (!e || typeof e !== 'object') return null;
    if (typeof e.body !== 'string' || typeof e.reason !== 'string' || typeof e.time !== 'string' || typeof e.owner !== 'string') return null;
    if (!PRECISIONS.includes(e.precision) || !Number.isSafeInteger(e.points) || e.points < 0) return null;
    return e as DeadLetterEntry;
  } catch {
    return null;
  }
}

export class DeadLetter {
  readonly file: string;
  readonly maxBytes: number;
  private readonly fs: SpoolFs;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(opts: DeadLetterOptions) {
    if (!opts || typeof opts.dir !== 'string' || !opts.dir) throw new Error('dead letter: dir must be a folder path');
    const maxBytes = opts.maxBytes ?? 100 * 1024 * 1024;
    if (!(maxBytes >= 1024)) throw new Error(`dead letter: maxBytes must be at least 1024, got ${maxBytes}`);
    this.file = path.join(opts.dir, DEAD_LETTER_FILE);
    this.maxBytes = maxBytes;
    this.fs = opts.fs ?? NODE_FS;
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /**
   * Appends one refused batch, fsync'ed. Resolves true once it is on disk whole, false when the file
   * is at its cap (not kept); rejects with a SpoolWriteError when the disk fails (not kept either, and
   * the file is back at its previous length).
   */
  append(entry: DeadLetterEntry): Promise<boolean> {
    return this.run(async () => {
      await this.fs.mkdir(path.dirname(this.file), { recursive: true });
      const fd = await this.fs.open(this.file, 'a+');
      try {
        const { size } = await fd.stat();
        // A torn last line (a crash mid-append) must not swallow this entry: start a line of its own.
        let lead = '';
        if (size > 0) {
          const last = Buffer.alloc(1);
          await fd.read(last, 0, 1, size - 1);
          if (last[0] !== 10) lead = '\n';
        }
        const line = Buffer.from(lead + JSON.stringify(entry) + '\n', 'utf8');
        if (size + line.length > this.maxBytes) return false;
        try {
          await writeAll(fd, line);
          await fd.datasync();
        } catch (err) {
          await fd.truncate(size).catch(() => undefined);
          const e = err as { code?: string; message?: string };
          throw new SpoolWriteError(
            `dead letter: cannot keep a refused batch of ${entry.points} points in ${this.file}: ${e.message ?? e.code}`,
            e.code ?? 'EIO',
          );
        }
        return true;
      } finally {
        await fd.close().catch(() => undefined);
      }
    });
  }

  /** Everything in the file; an absent file is empty. */
  read(): Promise<DeadLetterContents> {
    return this.run(async () => {
      const { entries, damaged, bytes } = await this.readNow();
      return { entries, damaged, bytes };
    });
  }

  private async readNow(): Promise<DeadLetterContents & { lines: string[]; parsed: (DeadLetterEntry | null)[] }> {
    let buf: Buffer;
    try {
      buf = await this.fs.readFile(this.file);
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return { entries: [], damaged: 0, bytes: 0, lines: [], parsed: [] };
      throw err;
    }
    const lines = buf.toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const parsed = lines.map(parseEntry);
    const entries = parsed.filter((e): e is DeadLetterEntry => e !== null);
    return { entries, damaged: parsed.length - entries.length, bytes: buf.length, lines, parsed };
  }

  /**
   * Offers each entry, oldest first, to `send`: true means it is written (or requeued) and leaves the
   * file; false keeps it (refused again). A `send` that throws stops the replay there: that entry and
   * the later ones stay. The file is then rewritten with what is left, plus whatever was appended
   * meanwhile (by another process), through a temp file, fsync and rename.
   */
  replay(send: (e: DeadLetterEntry) => Promise<boolean>): Promise<ReplayResult> {
    return this.run(async () => {
      const before = await this.readNow();
      const keep: string[] = [];
      let batches = 0;
      let points = 0;
      let error: string | undefined;
      for (let i = 0; i < before.lines.length; i++) {
        const e = before.parsed[i];
        if (e === null || error !== undefined) {
          keep.push(before.lines[i]);
          continue;
        }
        let sent = false;
        try {
          sent = await send(e);
        } catch (err) {
          error = (err as Error).message;
        }
        if (sent) {
          batches++;
          points += e.points;
        } else {
          keep.push(before.lines[i]);
        }
      }
      if (batches > 0) {
        let appended = '';
        try {
          const now = await this.fs.readFile(this.file);
          if (now.length > before.bytes) appended = now.subarray(before.bytes).toString('utf8');
        } catch {
          /* gone: nothing appended */
        }
        const text = keep.map((l) => l + '\n').join('') + appended;
        // If this fails (a full disk), the file keeps every entry: the ones just sent are sent again by
        // the next replay, which stores them once (same points, same time stamps).
        const tmp = this.file + '.tmp';
        try {
          const fd = await this.fs.open(tmp, 'w');
          try {
            await writeAll(fd, Buffer.from(text, 'utf8'));
            await fd.datasync();
          } finally {
            await fd.close();
          }
          await this.fs.rename(tmp, this.file);
        } catch (err) {
          await this.fs.unlink(tmp).catch(() => undefined);
          throw new Error(
            `dead letter: ${batches} batches were replayed but ${this.file} could not be rewritten (${(err as Error).message}); they will be replayed again, harmlessly`,
          );
        }
      }
      return { batches, points, left: keep.length, ...(error !== undefined ? { error } : {}) };
    });
  }
}

/** The part of a transport that a dead-letter replay needs (see transport.ts). */
interface Writer {
  write(body: string, precision: Precision): Promise<void>;
}

export interface SendOptions {
  /** Lines per write: a batch refused as too large (413) goes through in pieces. Default 5000. */
  maxLines?: number;
  /** One line per entry: what happened to it. */
  log?(text: string): void;
}

/**
 * Writes every dead-letter entry to a server, oldest first (the `influx-replay-deadletter` command):
 * an entry written whole leaves the file; one refused again (400, 413, 422) stays, and the replay goes
 * on with the next; any other failure (the server away, a wrong token) stops the replay, keeping that
 * entry and the later ones. Writing a piece twice (after a partly refused entry) stores it once.
 */
export function sendDeadLetter(dl: DeadLetter, transport: Writer, opts: SendOptions = {}): Promise<ReplayResult & { refused: number }> {
  const maxLines = opts.maxLines ?? 5000;
  if (!Number.isInteger(maxLines) || maxLines < 1) throw new Error(`dead letter: maxLines must be an integer >= 1, got ${maxLines}`);
  let refused = 0;
  let n = 0;
  return dl
    .replay(async (e) => {
      n++;
      const lines = e.body.split('\n');
      try {
        for (let i = 0; i < lines.length; i += maxLines) await transport.write(lines.slice(i, i + maxLines).join('\n'), e.precision);
      } catch (err) {
        const te = err as { kind?: string; message?: string };
        if (te.kind !== 'reject') throw new Error(`entry ${n} (${e.points} points, refused ${e.time}): ${te.message}`);
        refused++;
        opts.log?.(`entry ${n}: ${e.points} points refused again, kept: ${te.message}`);
        return false;
      }
      opts.log?.(`entry ${n}: ${e.points} points written`);
      return true;
    })
    .then((r) => ({ ...r, refused }));
}
