/**
 * Splits ffmpeg's `-f image2pipe -vcodec ppm` output into frames. Each PPM frame carries its own
 * width and height, so no stderr parsing is needed to size frames, and a mid-stream size change
 * (a camera switching resolution) is handled.
 *
 * Two readers:
 * - `PooledPpmReader` (the default path): says where the next bytes must go (`target()`: the rest of
 *   the current frame's buffer, taken from a pool, or a small header area) and is told how many
 *   arrived (`wrote()`). A socket read with Node's `onread` option writes ffmpeg's bytes straight
 *   into the frame buffer: no chunk is allocated and nothing is copied. `push()` feeds it chunks
 *   from an ordinary pipe instead (one copy, into a reused buffer).
 * - `PpmStreamParser` (the old path, `ingest: 'legacy'`, kept to measure against): a fresh buffer per
 *   frame, filled from the pipe's 64 KiB chunks.
 */

export interface PpmFrame {
  data: Buffer;
  width: number;
  height: number;
}

const MAX_HEADER = 64;

export class PpmStreamParser {
  private header = Buffer.alloc(0);
  private frame: Buffer | null = null;
  private filled = 0;
  private width = 0;
  private height = 0;

  /** Feeds a chunk; returns the frames it completed (often none, sometimes several). */
  push(chunk: Buffer): PpmFrame[] {
    const out: PpmFrame[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (!this.frame) {
        // Accumulate header bytes until "P6 <w> <h> <max>" and its single whitespace are complete.
        const take = Math.min(chunk.length - pos, MAX_HEADER - this.header.length);
        const head = Buffer.concat([this.header, chunk.subarray(pos, pos + take)]);
        const parsed = parseHeader(head);
        if (parsed === null) {
          if (head.length >= MAX_HEADER) throw new Error('ffmpeg output is not a PPM stream (bad header)');
          this.header = head;
          pos += take;
          continue;
        }
        // parsed.length counts bytes of `head`; those past the old header came from this chunk.
        pos += parsed.length - this.header.length;
        this.header = Buffer.alloc(0);
        this.width = parsed.width;
        this.height = parsed.height;
        this.frame = Buffer.allocUnsafe(parsed.width * parsed.height * 3);
        this.filled = 0;
      }
      const n = Math.min(chunk.length - pos, this.frame.length - this.filled);
      chunk.copy(this.frame, this.filled, pos, pos + n);
      this.filled += n;
      pos += n;
      if (this.filled === this.frame.length) {
        out.push({ data: this.frame, width: this.width, height: this.height });
        this.frame = null;
      }
    }
    return out;
  }
}

const NO_FRAMES: readonly PpmFrame[] = Object.freeze([]) as readonly PpmFrame[];
/** The shortest PPM header ffmpeg writes ("P6\n1 1\n255\n"): read this much before parsing. */
const MIN_HEADER = 11;

export class PooledPpmReader {
  private readonly head = Buffer.alloc(MAX_HEADER);
  private headFilled = 0;
  /** The last header's length: the next header has it too unless the size changed. */
  private headerGuess = MIN_HEADER;
  private frame: Buffer | null = null;
  private filled = 0;
  private width = 0;
  private height = 0;

  /**
   * `acquire(bytes)` gives the buffer for the next frame's pixels; the frame handed out by wrote()
   * belongs to the caller from then on. `release(buffer)` takes back a buffer of a frame that never
   * completed (the stream ended mid-frame, or `discard()`).
   */
  constructor(
    private readonly acquire: (bytes: number) => Buffer,
    private readonly release: (b: Buffer) => void = () => undefined,
  ) {}

  /** Where the next bytes go: write at most `target().length` bytes there, then call wrote(n). */
  target(): Buffer {
    if (this.frame) return this.frame.subarray(this.filled);
    // Exactly the expected header, so that no pixel byte lands in the header area.
    const want = Math.max(1, this.headerGuess - this.headFilled);
    return this.head.subarray(this.headFilled, Math.min(MAX_HEADER, this.headFilled + want));
  }

  /** `n` bytes were written at target(); returns the frames they completed (usually none). */
  wrote(n: number): readonly PpmFrame[] {
    if (n <= 0) return NO_FRAMES;
    if (this.frame) {
      this.filled += n;
      return this.filled === this.frame.length ? [this.complete()] : NO_FRAMES;
    }
    this.headFilled += n;
    const parsed = parseHeader(this.head.subarray(0, this.headFilled));
    if (parsed === null) {
      if (this.headFilled >= MAX_HEADER) throw new Error('ffmpeg output is not a PPM stream (bad header)');
      return NO_FRAMES;
    }
    this.headerGuess = parsed.length;
    this.width = parsed.width;
    this.height = parsed.height;
    const extra = this.headFilled - parsed.length;
    // Bytes past the header (only when the size changed and the guess was long): replay them.
    const rest = extra > 0 ? Buffer.from(this.head.subarray(parsed.length, this.headFilled)) : null;
    this.headFilled = 0;
    this.frame = this.acquire(parsed.width * parsed.height * 3);
    this.filled = 0;
    return rest ? this.push(rest) : NO_FRAMES;
  }

  /** Feeds a chunk from a pipe: copied into the current frame's buffer. */
  push(chunk: Uint8Array): readonly PpmFrame[] {
    let out: PpmFrame[] | null = null;
    let pos = 0;
    while (pos < chunk.length) {
      const t = this.target();
      const n = Math.min(t.length, chunk.length - pos);
      t.set(chunk.subarray(pos, pos + n));
      pos += n;
      const done = this.wrote(n);
      if (done.length) (out ??= []).push(...done);
    }
    return out ?? NO_FRAMES;
  }

  /** Gives back the buffer of a frame that will not complete (the stream ended). */
  discard(): void {
    if (this.frame) this.release(this.frame);
    this.frame = null;
    this.filled = 0;
    this.headFilled = 0;
  }

  private complete(): PpmFrame {
    const f = { data: this.frame!, width: this.width, height: this.height };
    this.frame = null;
    this.filled = 0;
    return f;
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Parses "P6 w h maxval<ws>"; null while incomplete. Comments are not written by ffmpeg. */
function parseHeader(b: Buffer): { width: number; height: number; length: number } | null {
  if (b.length < 2) return null;
  if (b[0] !== 0x50 || b[1] !== 0x36) throw new Error('ffmpeg output is not a PPM (P6) stream');
  const nums: number[] = [];
  let i = 2;
  while (nums.length < 3) {
    while (i < b.length && isSpace(b[i])) i++;
    if (i >= b.length) return null;
    let v = 0;
    const start = i;
    while (i < b.length && b[i] >= 0x30 && b[i] <= 0x39) v = v * 10 + (b[i++] - 0x30);
    if (i >= b.length) return null; // the number may continue in the next chunk
    if (i === start) throw new Error('ffmpeg output is not a PPM stream (bad header)');
    nums.push(v);
  }
  if (!isSpace(b[i])) throw new Error('ffmpeg output is not a PPM stream (bad header)');
  if (nums[2] !== 255) throw new Error(`PPM maxval ${nums[2]} unsupported (need 8-bit)`);
  return { width: nums[0], height: nums[1], length: i + 1 };
}
