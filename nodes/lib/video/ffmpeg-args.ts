/**
 * Everything about talking to ffmpeg that needs no process: which binary, which arguments, how to
 * read its stderr. Pure, so the argument rules are unit-tested without spawning anything.
 */
import * as fs from 'fs';

export type SourceKind = 'file' | 'rtsp' | 'http' | 'v4l2' | 'url';

export interface VideoSourceOptions {
  /** A file path, rtsp://…, http(s)://… (MJPEG or anything ffmpeg reads), /dev/videoN, or any ffmpeg URL. */
  url: string;
  /** Output frame-rate limit (frames per second); 0 or absent keeps the source rate. */
  fps?: number;
  /** Downscale (keeping aspect) so the width is at most this many pixels; 0 or absent keeps the size. */
  maxWidth?: number;
  /** Files: pace frames at their media rate (like a camera) instead of as fast as decoding goes. */
  realtime?: boolean;
  /** Files: start again at the end. */
  loop?: boolean;
  /** RTSP transport; TCP survives lossy networks better, UDP has less latency. */
  rtspTransport?: 'tcp' | 'udp';
  username?: string;
  password?: string;
  /** How long a network read may stall before ffmpeg gives up (seconds). */
  stallTimeoutS?: number;
}

export function sourceKind(url: string): SourceKind {
  if (/^rtsps?:\/\//i.test(url)) return 'rtsp';
  if (/^https?:\/\//i.test(url)) return 'http';
  if (/^\/dev\/video\d+$/.test(url)) return 'v4l2';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return 'url';
  return 'file';
}

/** Puts user and password into a network URL (percent-encoded). Never log the result. */
export function withCredentials(url: string, username?: string, password?: string): string {
  if (!username) return url;
  const kind = sourceKind(url);
  if (kind !== 'rtsp' && kind !== 'http' && kind !== 'url') return url;
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(?:[^@/]*@)?(.*)$/i.exec(url);
  if (!m) return url;
  const auth = encodeURIComponent(username) + (password ? ':' + encodeURIComponent(password) : '');
  return `${m[1]}${auth}@${m[2]}`;
}

/** A URL safe to show in a status or log: any user:password part replaced. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1***@');
}

export function ffmpegArgs(o: VideoSourceOptions): string[] {
  const kind = sourceKind(o.url);
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info'];
  const stallUs = String(Math.round((o.stallTimeoutS ?? 10) * 1e6));
  switch (kind) {
    case 'file':
      if (o.realtime) args.push('-re');
      if (o.loop) args.push('-stream_loop', '-1');
      break;
    case 'rtsp':
      args.push('-rtsp_transport', o.rtspTransport ?? 'tcp', '-timeout', stallUs);
      break;
    case 'http':
      args.push('-rw_timeout', stallUs);
      break;
    case 'v4l2':
      args.push('-f', 'v4l2');
      break;
    default:
      break;
  }
  args.push('-i', withCredentials(o.url, o.username, o.password));
  const filters: string[] = [];
  if (o.fps && o.fps > 0) filters.push(`fps=${o.fps}`);
  // Only ever shrink: min(W, iw) keeps small sources as they are; -2 keeps the height even.
  if (o.maxWidth && o.maxWidth > 0) filters.push(`scale='min(${Math.round(o.maxWidth)},iw)':-2`);
  args.push('-an', '-sn', '-dn');
  if (filters.length) args.push('-vf', filters.join(','));
  args.push('-pix_fmt', 'rgb24', '-f', 'image2pipe', '-vcodec', 'ppm', 'pipe:1');
  return args;
}

export interface FfmpegLocator {
  /** The node's own setting. */
  configured?: string;
  env?: NodeJS.ProcessEnv;
  /** Resolves an optional module (ffmpeg-static); injectable for tests. */
  requireOptional?: (name: string) => unknown;
  exists?: (p: string) => boolean;
}

/**
 * Which ffmpeg to run: the node's setting, then FFMPEG_PATH, then the ffmpeg-static package (when
 * its binary was downloaded), then `ffmpeg` on PATH.
 */
export function resolveFfmpeg(loc: FfmpegLocator = {}): { path: string; from: string } {
  const env = loc.env ?? process.env;
  const exists = loc.exists ?? ((p: string) => fs.existsSync(p));
  if (loc.configured && loc.configured.trim()) return { path: loc.configured.trim(), from: 'node setting' };
  if (env.FFMPEG_PATH) return { path: env.FFMPEG_PATH, from: 'FFMPEG_PATH' };
  const req =
    loc.requireOptional ??
    ((name: string) => {
      try {
        return require(name);
      } catch {
        return undefined;
      }
    });
  const stat = req('ffmpeg-static');
  if (typeof stat === 'string' && exists(stat)) return { path: stat, from: 'ffmpeg-static' };
  return { path: 'ffmpeg', from: 'PATH' };
}

/** The source frame rate from ffmpeg's input stream line ("…, 25 fps, 25 tbr, …"). */
export function parseStreamFps(stderrLine: string): number | undefined {
  if (!/Stream #\d+:\d+.*Video:/.test(stderrLine)) return undefined;
  const fps = /,\s*([\d.]+)\s*fps/.exec(stderrLine) ?? /,\s*([\d.]+)\s*tbr/.exec(stderrLine);
  const v = fps ? Number(fps[1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

/**
 * The most useful line of ffmpeg's stderr to show a user: the last one that reads like an error
 * ("Connection refused", "No such file or directory", "401 Unauthorized"), else the last line.
 */
export function errorReason(lines: readonly string[], inputUrl?: string): string {
  const re = /error|refused|denied|not found|no such|invalid|unauthori[sz]ed|forbidden|timed out|unreachable|failed|unable|could not|cannot|404|401|403|500|503/i;
  let line = lines.length ? lines[lines.length - 1] : 'ffmpeg exited';
  for (let i = lines.length - 1; i >= 0; i--) {
    if (re.test(lines[i])) {
      line = lines[i];
      break;
    }
  }
  // ffmpeg prefixes the reason with the input URL ("rtsp://user:pw@host/x: Connection refused"):
  // drop it so the reason fits a status line, and never show credentials.
  if (inputUrl && line.startsWith(inputUrl + ': ')) line = line.slice(inputUrl.length + 2);
  return line.replace(/([a-z][a-z0-9+.-]*:\/\/)[^@/\s]*@/gi, '$1***@').trim();
}

/** Capped exponential back-off for reconnects: base, 2·base, 4·base, … up to cap. */
export function backoffDelayMs(attempt: number, baseMs = 1000, capMs = 30000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
