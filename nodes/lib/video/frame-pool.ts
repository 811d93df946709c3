/**
 * Reused pixel buffers for one video source, so that decoding allocates nothing per frame: a full
 * 1080p rgb24 frame is 6.2 MB, and a fresh one per frame is what kept the garbage collector busy
 * (docs/research/lean-ingest.md).
 *
 * Ownership: `acquire()` hands out a buffer that belongs to the caller until it calls `release()`
 * with it. The camera source acquires a buffer, decodes a frame into it and hands it to the frame
 * store (FrameStore.put with this pool's `release` as the frame's release hook); the store gives it
 * back when the frame has left the ring and no lease on it is open (FrameStore.lease). A buffer of
 * another size (the source changed resolution) is not kept, and beyond `maxFree` spare buffers the
 * rest are left to the collector, so a pool never holds more than the ring needs plus a few.
 */
export interface FramePoolStats {
  /** Buffers allocated since the pool was made (the rest were reused). */
  allocated: number;
  /** acquire() calls answered with a reused buffer. */
  reused: number;
  /** Spare buffers held now. */
  free: number;
  /** Buffers handed out and not given back yet. */
  out: number;
}

export class FramePool {
  private readonly free: Buffer[] = [];
  private size = 0;
  private allocated = 0;
  private reused = 0;
  private out = 0;

  /** `maxFree`: spare buffers kept at most (default 4). */
  constructor(private readonly maxFree = 4) {
    if (!Number.isInteger(maxFree) || maxFree < 0) throw new Error(`frame pool maxFree must be a whole number ≥ 0, got ${maxFree}`);
  }

  /** A buffer of exactly `bytes` bytes (contents undefined), reused when one is free. */
  acquire(bytes: number): Buffer {
    if (!Number.isInteger(bytes) || bytes < 1) throw new Error(`frame pool: a frame needs a whole number of bytes ≥ 1, got ${bytes}`);
    if (bytes !== this.size) {
      // A new frame size: the spare buffers of the old one are of no use any more.
      this.free.length = 0;
      this.size = bytes;
    }
    this.out++;
    const b = this.free.pop();
    if (b) {
      this.reused++;
      return b;
    }
    this.allocated++;
    return Buffer.allocUnsafeSlow(bytes);
  }

  /** Gives a buffer back. Safe to call for a buffer of another size (it is dropped). */
  readonly release = (b: Uint8Array): void => {
    this.out = Math.max(0, this.out - 1);
    if (b.byteLength !== this.size || this.free.length >= this.maxFree || !Buffer.isBuffer(b)) return;
    if (this.free.includes(b)) throw new Error('frame pool: a buffer was given back twice');
    this.free.push(b);
  };

  stats(): FramePoolStats {
    return { allocated: this.allocated, reused: this.reused, free: this.free.length, out: this.out };
  }
}
