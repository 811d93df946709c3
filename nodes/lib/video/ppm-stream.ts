/**
 * Splits ffmpeg's `-f image2pipe -vcodec ppm` output into frames. Each PPM frame carries its own
 * width and height, so no stderr parsing is needed to size frames, and a mid-stream size change
 * (a camera switching resolution) is handled. Pixels are copied once, chunk by chunk, straight into
 * the frame's own buffer (no concatenation of the whole stream).
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
