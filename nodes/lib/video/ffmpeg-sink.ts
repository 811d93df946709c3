/**
 * Encodes rgb24 frames into a video file with ffmpeg (`edgevision run --annotate`): the frames go to
 * ffmpeg's stdin as raw video, and the container and codec follow the file's extension (ffmpeg's
 * choice: H.264 in .mp4 and .mkv where ffmpeg has it). The same ffmpeg as the sources
 * (resolveFfmpeg).
 */
import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import { errorReason, resolveFfmpeg } from './ffmpeg-args';

export interface VideoWriterOptions {
  file: string;
  width: number;
  height: number;
  /** Frames per second of the written video. */
  fps: number;
  /** An ffmpeg binary; default as for the sources (FFMPEG_PATH, ffmpeg-static, then PATH). */
  ffmpegPath?: string;
}

/** The ffmpeg arguments for a raw rgb24 stream on stdin → `file`. */
export function sinkArgs(o: VideoWriterOptions): string[] {
  const ext = path.extname(o.file).toLowerCase();
  // Players want 4:2:0 with even sides in .mp4; GIF has its own palette formats.
  const pixFmt = ext === '.gif' ? [] : ['-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2', '-pix_fmt', 'yuv420p'];
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-s',
    `${o.width}x${o.height}`,
    '-framerate',
    String(o.fps),
    '-i',
    '-',
    ...pixFmt,
    o.file,
  ];
}

export class VideoWriter {
  private readonly proc: ChildProcess;
  private readonly frameBytes: number;
  /** The end of ffmpeg's stderr (error level only: a few lines at most), for the failure's reason. */
  private stderr = '';
  private readonly exited: Promise<{ code: number | null; error?: Error }>;
  private failure: Error | null = null;

  constructor(private readonly o: VideoWriterOptions) {
    if (!(Number.isInteger(o.width) && o.width > 0 && Number.isInteger(o.height) && o.height > 0))
      throw new Error(`video size must be positive integers, got ${o.width}×${o.height}`);
    if (!(o.fps > 0 && o.fps <= 1000)) throw new Error(`video fps must be in (0, 1000], got ${o.fps}`);
    this.frameBytes = o.width * o.height * 3;
    this.proc = spawn(resolveFfmpeg({ configured: o.ffmpegPath }).path, sinkArgs(o), { stdio: ['pipe', 'ignore', 'pipe'] });
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (s: string) => {
      this.stderr = (this.stderr + s).slice(-4000);
    });
    // A pipe that breaks because ffmpeg quit is reported by exit, with ffmpeg's own reason.
    this.proc.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      this.proc.on('error', (error) => resolve({ code: null, error }));
      this.proc.on('close', (code) => resolve({ code }));
    });
    void this.exited.then((e) => {
      if (e.error || e.code !== 0) this.failure = this.reason(e);
    });
  }

  /** One frame (rgb24, width × height); resolves when ffmpeg has room for the next. */
  async write(rgb: Uint8Array): Promise<void> {
    if (rgb.byteLength !== this.frameBytes)
      throw new Error(`frame has ${rgb.byteLength} bytes, expected ${this.frameBytes} (${this.o.width}×${this.o.height} rgb24)`);
    if (this.failure) throw this.failure;
    if (this.proc.stdin!.write(rgb)) return;
    // Wait for room, or for ffmpeg to quit (then say why).
    const quit = await Promise.race([new Promise<null>((resolve) => this.proc.stdin!.once('drain', () => resolve(null))), this.exited]);
    if (quit) throw this.reason(quit);
  }

  /** Ends the stream and waits for ffmpeg to finish the file; rejects with ffmpeg's reason if it failed. */
  async close(): Promise<void> {
    this.proc.stdin!.end();
    const e = await this.exited;
    if (e.error || e.code !== 0) throw this.reason(e);
  }

  /** Stops ffmpeg without finishing the file (after an error elsewhere). */
  abort(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }

  private reason(e: { code: number | null; error?: Error }): Error {
    if (e.error) return new Error(`cannot run ffmpeg to write ${this.o.file}: ${e.error.message}`);
    const lines = this.stderr.split(/\r?\n|\r/).filter((l) => l.trim());
    return new Error(`ffmpeg could not write ${this.o.file}: ${lines.length ? errorReason(lines) : `exit code ${e.code}`}`);
  }
}
