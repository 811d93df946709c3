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
import * as os from 'os';
import * as path from 'path';
import { PpmStreamParser } from './ppm-stream';
import { VideoSourceOptions, concatList, errorReason, ffmpegArgs, hasCredentials, parseStreamFps, redactUrl, resolveFfmpeg, sourceKind } from './ffmpeg-args';

export interface DecodedFrame {
  data: Buffer;
  width: number;
  height: number;
  /** 0-based index since this ffmpeg process started. */
  index: number;
  tMs: number;
}

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
  private stopping = false;
  private readonly stderrTail: string[] = [];
  private fps: number | undefined;
  private pending: { data: Buffer; width: number; height: number }[] = [];
  private index = 0;
  /** The private folder holding this run's ffconcat list, until ffmpeg has opened its input. */
  private listDir: string | null = null;
  readonly isFile: boolean;
  readonly binary: { path: string; from: string };

  constructor(private readonly opts: FfmpegSourceOptions) {
    super();
    if (!opts.url || typeof opts.url !== 'string') throw new Error('video source needs a url or file path');
    this.isFile = sourceKind(opts.url) === 'file';
    this.fps = opts.fps && opts.fps > 0 ? opts.fps : undefined;
    this.binary = resolveFfmpeg({ configured: opts.ffmpegPath });
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get running(): boolean {
    return this.proc !== null;
  }

  /** The frame rate media time is based on (files), once known. */
  get mediaFps(): number | undefined {
    return this.fps;
  }

  /** Flow control for consumers that fall behind: ffmpeg blocks on its full pipe meanwhile. */
  pause(): void {
    this.proc?.stdout?.pause();
  }

  resume(): void {
    this.proc?.stdout?.resume();
  }

  start(): void {
    if (this.proc) return;
    this.stopping = false;
    this.index = 0;
    this.pending = [];
    this.stderrTail.length = 0;
    const parser = new PpmStreamParser();
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
    const proc = spawn(this.binary.path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    let spawnFailed = false;
    proc.on('error', (err: NodeJS.ErrnoException) => {
      // ENOENT: no such binary. 'exit' may not follow, so report and clear here.
      spawnFailed = true;
      this.removeList();
      if (this.proc === proc) this.proc = null;
      const msg = err.code === 'ENOENT' ? `ffmpeg not found (${this.binary.path}, from ${this.binary.from})` : `ffmpeg failed to start: ${err.message}`;
      this.emit('spawn-error', new Error(msg));
    });
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
    let partial = '';
    proc.stderr!.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8');
      const lines = text.split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      for (const line of lines) this.onStderrLine(line);
    });
    proc.on('close', (code, signal) => {
      this.removeList();
      if (partial) this.onStderrLine(partial);
      if (this.proc === proc) this.proc = null;
      if (spawnFailed) return;
      this.flushPending(FALLBACK_FPS);
      this.emit('exit', {
        code,
        signal,
        requested: this.stopping,
        reason: errorReason(this.stderrTail, input),
        frames: this.index,
      } satisfies SourceExit);
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
    const proc = this.proc;
    if (!proc) return Promise.resolve();
    this.stopping = true;
    return new Promise((resolve) => {
      const kill = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      proc.once('close', () => {
        clearTimeout(kill);
        resolve();
      });
      proc.kill('SIGTERM');
    });
  }

  private onStderrLine(line: string): void {
    if (!line.trim()) return;
    this.stderrTail.push(line);
    if (this.stderrTail.length > (this.opts.stderrLines ?? 20)) this.stderrTail.shift();
    if (this.fps === undefined && this.isFile) {
      const fps = parseStreamFps(line);
      if (fps) {
        this.fps = fps;
        this.flushPending(fps);
      }
    }
  }

  private deliver(f: { data: Buffer; width: number; height: number }): void {
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

  private emitFrame(f: { data: Buffer; width: number; height: number }): void {
    // ffmpeg has opened the input and read the list: the credentials need not stay on disk.
    if (this.listDir) this.removeList();
    const index = this.index++;
    const tMs = this.isFile ? (index * 1000) / (this.fps ?? FALLBACK_FPS) : (this.opts.now ?? Date.now)();
    this.emit('frame', { data: f.data, width: f.width, height: f.height, index, tMs } satisfies DecodedFrame);
  }
}

export interface ReadFramesOptions extends FfmpegSourceOptions {
  /** Stop after this many frames. */
  maxFrames?: number;
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
  try {
    while (true) {
      if (queue.length) {
        const f = queue.shift()!;
        if (queue.length <= 1) src.resume();
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
    await src.stop();
  }
}
