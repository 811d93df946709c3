/**
 * A video source decoded by an ffmpeg child process (spawned with an argument array, never a shell).
 * Emits rgb24 frames with their time: media time for files (frame index / frame rate, so replays are
 * exact), the injected clock for live sources. Reconnecting is the caller's policy (see
 * backoffDelayMs); this class runs one ffmpeg at a time and says how it ended.
 *
 * A source with credentials never puts them on ffmpeg's command line (visible in `ps` to every local
 * user): ffmpeg reads the URL from an ffconcat list in a private temporary folder (0700, the file
 * 0600), deleted as soon as ffmpeg has opened the input (its first frame) or has exited.
 */
import { ChildProcess, spawn } from 'child_process';
import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { PooledPpmReader, PpmFrame, PpmStreamParser } from './ppm-stream';
import { FramePool } from './frame-pool';
import { socketPair, socketPairSupported } from './socket-pair';
import {
  VideoSourceOptions,
  concatList,
  errorReason,
  ffmpegArgs,
  hasCredentials,
  parseDuration,
  parseStreamFps,
  redactUrl,
  resolveFfmpeg,
  sourceKind,
} from './ffmpeg-args';

export interface DecodedFrame {
  data: Buffer;
  width: number;
  height: number;
  /** 0-based index since this ffmpeg process started. */
  index: number;
  tMs: number;
  /**
   * Gives `data` back to the source's frame pool once nobody reads it any more (the frame store
   * calls it when the frame has left its ring and no lease is open). Absent on the legacy path.
   */
  release?: (b: Uint8Array) => void;
}

/**
 * How decoded bytes reach JavaScript. 'pooled' (the default): into reused frame buffers, through a
 * socket read straight into them where the platform allows (else a pipe, copied once). 'legacy':
 * the old path, a new buffer per frame filled from the pipe's chunks (kept to measure against).
 */
export type IngestMode = 'pooled' | 'legacy';

export interface SourceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when stop() asked for it. */
  requested: boolean;
  /** The stderr line that best explains a failure. */
  reason: string;
  frames: number;
}

export interface FfmpegSourceOptions extends VideoSourceOptions {
  ffmpegPath?: string;
  /** Clock for live-source timestamps; files use media time. */
  now?: () => number;
  /** Stderr lines kept for error reasons. */
  stderrLines?: number;
  /** Where the private folder for a credentials list goes (default: os.tmpdir()). */
  tmpDir?: string;
  /** How frames are read (default 'pooled'). */
  ingest?: IngestMode;
  /** Pooled: read through a socket pair (default where supported) or ffmpeg's stdout pipe. */
  transport?: 'socket' | 'pipe';
  /** Pooled: the pool frames are taken from (default: one of the source's own, `pool`). */
  pool?: FramePool;
}

/** Rate used for media time when ffmpeg never reports one. */
const FALLBACK_FPS = 25;

// Typed events for an EventEmitter subclass: TypeScript's declaration-merging idiom for it.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export declare interface FfmpegSource {
  on(event: 'frame', fn: (f: DecodedFrame) => void): this;
  on(event: 'exit', fn: (e: SourceExit) => void): this;
  on(event: 'spawn-error', fn: (err: Error) => void): this;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class FfmpegSource extends EventEmitter {
  private proc: ChildProcess | null = null;
  /** Set while the socket pair for a pooled read is being made (before ffmpeg is spawned). */
  private opening: Promise<void> | null = null;
  private stopping = false;
  private readonly stderrTail: string[] = [];
  private fps: number | undefined;
  private pending: { data: Buffer; width: number; height: number; release?: (b: Uint8Array) => void }[] = [];
  private index = 0;
  /** The private folder holding this run's ffconcat list, until ffmpeg has opened its input. */
  private listDir: string | null = null;
  readonly isFile: boolean;
  readonly binary: { path: string; from: string };
  /** Where pooled frames come from and go back to. */
  readonly pool: FramePool;
  readonly ingest: IngestMode;

  constructor(private readonly opts: FfmpegSourceOptions) {
    super();
    if (!opts.url || typeof opts.url !== 'string') throw new Error('video source needs a url or file path');
    this.isFile = sourceKind(opts.url) === 'file';
    this.fps = opts.fps && opts.fps > 0 ? opts.fps : undefined;
    this.binary = resolveFfmpeg({ configured: opts.ffmpegPath });
    this.ingest = opts.ingest ?? 'pooled';
    if (this.ingest !== 'pooled' && this.ingest !== 'legacy') throw new Error(`ingest must be pooled or legacy, got ${String(this.ingest)}`);
    this.pool = opts.pool ?? new FramePool();
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get running(): boolean {
    return this.proc !== null || this.opening !== null;
  }

  /** How the current run reads its frames: 'socket', 'pipe' or 'legacy' (known once ffmpeg runs). */
  get path(): string {
    return this.readPath;
  }
  private readPath = '';
  private reader: net.Socket | null = null;

  /** Files: the file's length in seconds, once ffmpeg has said it. */
  get durationS(): number | undefined {
    return this.duration;
  }
  private duration: number | undefined;

  /**
   * Files: where in the file the next frame comes from, in seconds (the start offset plus the frames
   * sent, wrapped at the file's length when it loops): where a restart continues (`startS`).
   */
  get positionS(): number {
    const p = (this.opts.startS ?? 0) + this.index / (this.fps ?? FALLBACK_FPS);
    return this.duration && this.opts.loop ? p % this.duration : p;
  }

  /** The frame rate media time is based on (files), once known. */
  get mediaFps(): number | undefined {
    return this.fps;
  }

  /** Flow control for consumers that fall behind: ffmpeg blocks on its full pipe meanwhile. */
  pause(): void {
    // Once stopping, ffmpeg's output must drain to its end (the exit waits for it): no more pauses.
    if (this.stopping) return;
    this.paused = true;
    (this.reader ?? this.proc?.stdout)?.pause();
  }

  resume(): void {
    this.paused = false;
    (this.reader ?? this.proc?.stdout)?.resume();
  }
  private paused = false;

  start(): void {
    if (this.proc || this.opening) return;
    this.stopping = false;
    this.paused = false;
    this.index = 0;
    this.pending = [];
    this.stderrTail.length = 0;
    let args: string[];
    let input: string;
    try {
      const listFile = hasCredentials(this.opts) ? this.writeList() : undefined;
      args = ffmpegArgs(this.opts, listFile);
      input = args[args.indexOf('-i') + 1];
    } catch (e) {
      this.removeList();
      // Emitted after start() returns, as a failed spawn is.
      process.nextTick(() => this.emit('spawn-error', new Error(`cannot start ffmpeg: ${(e as Error).message}`)));
      return;
    }
    if (this.ingest === 'legacy') {
      this.spawnWith(args, input, null, null);
      return;
    }
    const reader = new PooledPpmReader((n) => this.pool.acquire(n), this.pool.release);
    const wantSocket = (this.opts.transport ?? 'socket') === 'socket' && socketPairSupported();
    if (!wantSocket) {
      this.spawnWith(args, input, reader, null);
      return;
    }
    let failed = false;
    const opening = socketPair(
      {
        buffer: () => reader.target(),
        callback: (n: number): boolean => {
          if (failed) return true;
          let frames: readonly PpmFrame[];
          try {
            frames = reader.wrote(n);
          } catch (e) {
            failed = true;
            this.stderrTail.push((e as Error).message);
            this.proc?.kill('SIGKILL');
            return true;
          }
          for (const f of frames) this.deliver(this.pooled(f));
          return true;
        },
      },
      this.opts.tmpDir,
    ).then(
      (pair) => {
        this.opening = null;
        if (this.stopping) {
          pair.child.destroy();
          pair.reader.destroy();
          this.removeList();
          this.emit('exit', { code: null, signal: null, requested: true, reason: 'stopped before start', frames: 0 } satisfies SourceExit);
          return;
        }
        this.spawnWith(args, input, reader, pair);
      },
      () => {
        // No socket here (a read-only tmp folder, say): the pipe does the same job with one copy.
        this.opening = null;
        if (this.stopping) {
          this.removeList();
          this.emit('exit', { code: null, signal: null, requested: true, reason: 'stopped before start', frames: 0 } satisfies SourceExit);
          return;
        }
        this.spawnWith(args, input, reader, null);
      },
    );
    this.opening = opening;
  }

  /** A pooled frame, with the hook that gives its buffer back. */
  private pooled(f: PpmFrame): { data: Buffer; width: number; height: number; release: (b: Uint8Array) => void } {
    return { data: f.data, width: f.width, height: f.height, release: this.pool.release };
  }

  /**
   * Spawns ffmpeg. `reader` null: the legacy parser on the stdout pipe. `pair` null: the pooled
   * reader fed from the stdout pipe; else ffmpeg's stdout is the pair's child end.
   */
  private spawnWith(args: string[], input: string, reader: PooledPpmReader | null, pair: { child: net.Socket; reader: net.Socket } | null): void {
    this.readPath = pair ? 'socket' : reader ? 'pipe' : 'legacy';
    let proc: ChildProcess;
    try {
      proc = spawn(this.binary.path, args, { stdio: ['ignore', pair ? pair.child : 'pipe', 'pipe'] });
    } finally {
      // ffmpeg has its own copy of the child end now (or never will).
      pair?.child.destroy();
    }
    this.proc = proc;
    this.reader = pair?.reader ?? null;
    if (this.paused) this.pause();
    let spawnFailed = false;
    // 'exit' waits for ffmpeg to have exited and for its output to have been read to the end.
    let waits = pair ? 2 : 1;
    let exitInfo: { code: number | null; signal: NodeJS.Signals | null } = { code: null, signal: null };
    const finish = () => {
      if (--waits > 0) return;
      this.removeList();
      if (partial) this.onStderrLine(partial);
      if (this.proc === proc) {
        this.proc = null;
        this.reader = null;
      }
      reader?.discard();
      if (spawnFailed) return;
      this.flushPending(FALLBACK_FPS);
      this.emit('exit', {
        code: exitInfo.code,
        signal: exitInfo.signal,
        requested: this.stopping,
        reason: errorReason(this.stderrTail, input),
        frames: this.index,
      } satisfies SourceExit);
    };
    proc.on('error', (err: NodeJS.ErrnoException) => {
      // ENOENT: no such binary. 'exit' may not follow, so report and clear here.
      spawnFailed = true;
      this.removeList();
      pair?.reader.destroy();
      if (this.proc === proc) {
        this.proc = null;
        this.reader = null;
      }
      const msg = err.code === 'ENOENT' ? `ffmpeg not found (${this.binary.path}, from ${this.binary.from})` : `ffmpeg failed to start: ${err.message}`;
      this.emit('spawn-error', new Error(msg));
    });
    if (pair) {
      pair.reader.on('error', () => undefined); // a reset when ffmpeg is killed: its exit says why
      pair.reader.once('close', finish);
    } else if (reader) {
      proc.stdout!.on('data', (chunk: Buffer) => {
        let frames: readonly PpmFrame[];
        try {
          frames = reader.push(chunk);
        } catch (e) {
          this.stderrTail.push((e as Error).message);
          proc.kill('SIGKILL');
          return;
        }
        for (const f of frames) this.deliver(this.pooled(f));
      });
    } else {
      const parser = new PpmStreamParser();
      proc.stdout!.on('data', (chunk: Buffer) => {
        let frames;
        try {
          frames = parser.push(chunk);
        } catch (e) {
          this.stderrTail.push((e as Error).message);
          proc.kill('SIGKILL');
          return;
        }
        for (const f of frames) this.deliver(f);
      });
    }
    let partial = '';
    proc.stderr!.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8');
      const lines = text.split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      for (const line of lines) this.onStderrLine(line);
    });
    proc.on('close', (code, signal) => {
      exitInfo = { code, signal };
      if (spawnFailed) {
        pair?.reader.destroy();
        return;
      }
      finish();
    });
  }

  /** The folder of the current credentials list, while it exists (for tests). */
  get listFolder(): string | null {
    return this.listDir;
  }

  /** Writes the ffconcat list with the URL and its credentials to a fresh private folder. */
  private writeList(): string {
    const text = concatList(this.opts);
    // mkdtemp creates the folder 0700; the file is created 0600 and must not exist yet.
    const dir = fs.mkdtempSync(path.join(this.opts.tmpDir ?? os.tmpdir(), 'edgevision-src-'));
    this.listDir = dir;
    const file = path.join(dir, 'input.ffconcat');
    fs.writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
    return file;
  }

  private removeList(): void {
    const dir = this.listDir;
    if (!dir) return;
    this.listDir = null;
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      /* already gone: tmp cleaners, or a second call */
    }
  }

  /** Stops ffmpeg: SIGTERM, then SIGKILL if it has not gone within `graceMs`. Resolves once it exited. */
  stop(graceMs = 2000): Promise<void> {
    if (this.opening && !this.proc) {
      this.stopping = true;
      return this.opening;
    }
    const proc = this.proc;
    if (!proc) return Promise.resolve();
    this.stopping = true;
    return new Promise((resolve) => {
      const kill = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      // Resolved with 'exit', which also waits for the output to be read to its end.
      const done = () => {
        clearTimeout(kill);
        this.off('exit', done);
        proc.off('error', done);
        resolve();
      };
      this.once('exit', done);
      proc.once('error', done);
      // A paused reader would never see the end of ffmpeg's output.
      this.reader?.resume();
      proc.kill('SIGTERM');
    });
  }

  private onStderrLine(line: string): void {
    if (!line.trim()) return;
    this.stderrTail.push(line);
    if (this.stderrTail.length > (this.opts.stderrLines ?? 20)) this.stderrTail.shift();
    if (this.duration === undefined && this.isFile) this.duration = parseDuration(line);
    if (this.fps === undefined && this.isFile) {
      const fps = parseStreamFps(line);
      if (fps) {
        this.fps = fps;
        this.flushPending(fps);
      }
    }
  }

  private deliver(f: { data: Buffer; width: number; height: number; release?: (b: Uint8Array) => void }): void {
    if (this.isFile && this.fps === undefined) {
      // Media time needs the stream's rate; ffmpeg prints it on stderr, normally before the first
      // frame, but the two pipes are read independently, so hold frames until it is known.
      this.pending.push(f);
      return;
    }
    this.emitFrame(f);
  }

  private flushPending(fps: number): void {
    if (!this.pending.length) return;
    if (this.fps === undefined) this.fps = fps;
    const held = this.pending;
    this.pending = [];
    for (const f of held) this.emitFrame(f);
  }

  private emitFrame(f: { data: Buffer; width: number; height: number; release?: (b: Uint8Array) => void }): void {
    // ffmpeg has opened the input and read the list: the credentials need not stay on disk.
    if (this.listDir) this.removeList();
    const index = this.index++;
    const tMs = this.isFile ? (index * 1000) / (this.fps ?? FALLBACK_FPS) : (this.opts.now ?? Date.now)();
    const frame: DecodedFrame = { data: f.data, width: f.width, height: f.height, index, tMs };
    if (f.release) frame.release = f.release;
    this.emit('frame', frame);
  }
}

export interface ReadFramesOptions extends FfmpegSourceOptions {
  /** Stop after this many frames. */
  maxFrames?: number;
  /**
   * Give each frame's buffer back to the pool when the next frame is asked for, so decoding
   * allocates nothing per frame. Only for callers that keep no frame past its loop iteration
   * (default false: every frame is the caller's to keep).
   */
  reuseBuffers?: boolean;
}

/**
 * Decodes a whole source as an async sequence of frames (for the CLI, benchmarks and tests).
 * Back-pressure: ffmpeg is paused while more than a few frames wait to be consumed.
 */
export async function* readFrames(opts: ReadFramesOptions): AsyncGenerator<DecodedFrame> {
  const src = new FfmpegSource(opts);
  const queue: DecodedFrame[] = [];
  let done: SourceExit | null = null;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const poke = () => {
    const w = wake;
    wake = null;
    if (w) w();
  };
  src.on('frame', (f) => {
    queue.push(f);
    if (queue.length > 4) src.pause();
    poke();
  });
  src.on('exit', (e) => {
    done = e;
    poke();
  });
  src.on('spawn-error', (e) => {
    failure = e;
    poke();
  });
  src.start();
  let yielded = 0;
  let lent: DecodedFrame | null = null;
  try {
    while (true) {
      if (lent) {
        lent.release?.(lent.data);
        lent = null;
      }
      if (queue.length) {
        const f = queue.shift()!;
        if (queue.length <= 1) src.resume();
        if (opts.reuseBuffers) lent = f;
        yield f;
        if (opts.maxFrames !== undefined && ++yielded >= opts.maxFrames) return;
        continue;
      }
      if (failure) throw failure;
      if (done) {
        const d = done as SourceExit;
        if (!d.requested && d.code !== 0 && d.frames === 0) throw new Error(`ffmpeg could not read ${redactUrl(opts.url)}: ${d.reason}`);
        return;
      }
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    if (lent) (lent as DecodedFrame).release?.((lent as DecodedFrame).data);
    await src.stop();
  }
}
