/**
 * Everything about talking to ffmpeg that needs no process: which binary, which arguments, how to
 * read its stderr. Pure, so the argument rules are unit-tested without spawning anything.
 */
import * as fs from 'fs';
import { hasControlChar } from '../control-chars';
import { HwaccelChoice, hwaccelFilters, hwaccelInputArgs } from './hwaccel';

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
  /** Hardware decoding and scaling (hwaccel.ts decideHwaccel); absent or without `kind` = software. */
  hwaccel?: HwaccelChoice;
  /**
   * Downscale (keeping aspect) so the longer side is at most this many pixels; 0 or absent keeps the
   * size. What a camera-source with *frame size: as its readers need* asks for (scaleFilters). The
   * hardware path (hwaccelFilters) ignores it: it scales to Max width only.
   */
  maxSide?: number;
  /** Files: start this many seconds into the file (a restart that continues where the last run was). */
  startS?: number;
}

export function sourceKind(url: string): SourceKind {
  if (/^rtsps?:\/\//i.test(url)) return 'rtsp';
  if (/^https?:\/\//i.test(url)) return 'http';
  if (/^\/dev\/video\d+$/.test(url)) return 'v4l2';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return 'url';
  return 'file';
}

/**
 * A URL split where ffmpeg splits it (av_url_split): the authority ends at the first `/`, `?` or `#`
 * after `scheme://`, and the user info is everything up to the *last* `@` in it, so a password with a
 * raw `@` still leaves the host intact. Null for what is not `scheme://…`.
 */
export function splitUserinfo(url: string): { scheme: string; userinfo: string | null; rest: string } | null {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(url);
  if (!m) return null;
  const after = m[2];
  const end = after.search(/[/?#]/);
  const authority = end < 0 ? after : after.slice(0, end);
  const at = authority.lastIndexOf('@');
  if (at < 0) return { scheme: m[1], userinfo: null, rest: after };
  return { scheme: m[1], userinfo: authority.slice(0, at), rest: after.slice(at + 1) };
}

/**
 * Percent-encodes a user or a password for a URL's user info. Beyond encodeURIComponent, `'` `(` `)`
 * `*` `!` are encoded too, so the result needs no escaping inside a quoted ffconcat token.
 */
function encodeUserinfoPart(s: string): string {
  return encodeURIComponent(s).replace(/['()*!]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/**
 * Puts user and password into a network URL (percent-encoded), replacing any user info typed into it.
 * Never log the result, and never put it on ffmpeg's command line (concatList is where it goes).
 */
export function withCredentials(url: string, username?: string, password?: string): string {
  if (!username) return url;
  const kind = sourceKind(url);
  if (kind !== 'rtsp' && kind !== 'http' && kind !== 'url') return url;
  const parts = splitUserinfo(url);
  if (!parts) return url;
  const auth = encodeUserinfoPart(username) + (password ? ':' + encodeUserinfoPart(password) : '');
  return `${parts.scheme}${auth}@${parts.rest}`;
}

/** True when what ffmpeg opens carries a secret: the node's credentials, or user info typed into the URL. */
export function hasCredentials(o: Pick<VideoSourceOptions, 'url' | 'username'>): boolean {
  const kind = sourceKind(o.url);
  if (kind === 'file' || kind === 'v4l2') return false;
  return !!o.username || !!splitUserinfo(o.url)?.userinfo;
}

/**
 * Hides the user info of every `scheme://user:password@host` in a text (a URL, a line of ffmpeg's
 * stderr). Deliberately wider than the URL grammar: everything from `://` up to the last `@` before a
 * space, a quote, `?` or `#` is hidden, so a password with a raw `@`, `:` or `/` never shows in part.
 * (A path with an `@` in it then hides the host too: hiding too much beats showing a password.)
 */
function redactAll(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s'"<>?#]*@/gi, '$1***@');
}

/** A URL safe to show in a status or log: its whole user:password part replaced. */
export function redactUrl(url: string): string {
  return redactAll(url);
}

/** Protocols ffmpeg may open for each kind of network source, nested ones included (RTP, TLS, …). */
const PROTOCOLS: Record<'rtsp' | 'http', readonly string[]> = {
  rtsp: ['rtsp', 'rtsps', 'rtp', 'srtp', 'tcp', 'udp', 'tls'],
  // HLS over HTTP(S) with AES-128 segments needs crypto; httpproxy serves http_proxy.
  http: ['http', 'https', 'tcp', 'tls', 'crypto', 'httpproxy'],
};

/**
 * ffmpeg's `-protocol_whitelist` for a source: what it may open on the source's behalf (so that an
 * HTTP playlist cannot send it to a local file, say). `undefined` for files and devices. A scheme of
 * another kind (udp://, srt://, rtmp://) gets itself and the transports under it.
 */
export function protocolWhitelist(url: string): string[] | undefined {
  const kind = sourceKind(url);
  if (kind === 'rtsp' || kind === 'http') return [...PROTOCOLS[kind]];
  if (kind === 'url') {
    const scheme = url.slice(0, url.indexOf(':')).toLowerCase();
    return [...new Set([scheme, 'tcp', 'udp', 'tls', 'crypto'])];
  }
  return undefined;
}

/** The options a network input takes before -i, or as `option` lines of an ffconcat list. */
function inputOptions(o: VideoSourceOptions): [string, string][] {
  const stallUs = String(Math.round((o.stallTimeoutS ?? 10) * 1e6));
  switch (sourceKind(o.url)) {
    case 'rtsp':
      return [
        ['rtsp_transport', o.rtspTransport ?? 'tcp'],
        ['timeout', stallUs],
      ];
    case 'http':
      return [['rw_timeout', stallUs]];
    default:
      return [];
  }
}

/** One quoted ffconcat token: `'` becomes `'\''` (the quoting of ffmpeg's av_get_token). */
function ffconcatQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The ffconcat list that hands ffmpeg a URL with credentials without putting it on its command line,
 * where `ps` shows it to every local user: the concat demuxer reads the URL from this file, and the
 * input's options from its `option` lines. Write it to a private file (folder 0700, file 0600) and
 * delete it once ffmpeg has opened the input.
 */
export function concatList(o: VideoSourceOptions): string {
  const url = withCredentials(o.url, o.username, o.password);
  // A line break would end the `file` line and start a directive of the sender's choosing.
  if (hasControlChar(url)) throw new Error('the source URL contains a line break or another control character');
  const lines = ['ffconcat version 1.0', `file ${ffconcatQuote(url)}`];
  for (const [k, v] of inputOptions(o)) lines.push(`option ${k} ${ffconcatQuote(v)}`);
  return lines.join('\n') + '\n';
}

/**
 * ffmpeg's arguments. A source with credentials (hasCredentials) is read through the ffconcat list
 * at `listFile` (concatList), so that no secret is in argv; without `listFile` that is an error.
 */
export function ffmpegArgs(o: VideoSourceOptions, listFile?: string): string[] {
  const kind = sourceKind(o.url);
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info'];
  const whitelist = protocolWhitelist(o.url);
  if (hasCredentials(o)) {
    if (!listFile) throw new Error('a source with credentials is read through an ffconcat list file: pass its path');
    args.push(...hwaccelInputArgs(o.hwaccel ?? {}));
    args.push('-f', 'concat', '-safe', '0', '-protocol_whitelist', ['file', ...(whitelist ?? [])].join(','), '-i', listFile);
  } else {
    switch (kind) {
      case 'file':
        if (o.realtime) args.push('-re');
        if (o.loop) args.push('-stream_loop', '-1');
        if (o.startS && o.startS > 0) args.push('-ss', o.startS.toFixed(3));
        break;
      case 'v4l2':
        args.push('-f', 'v4l2');
        break;
      default:
        break;
    }
    for (const [k, v] of inputOptions(o)) args.push(`-${k}`, v);
    // RTSP and HTTP(S) only: another scheme may nest protocols we cannot list (rtmpt over http,
    // mmsh), and needs the whitelist only when its URL comes through the list file.
    if (whitelist && kind !== 'url') args.push('-protocol_whitelist', whitelist.join(','));
    args.push(...hwaccelInputArgs(o.hwaccel ?? {}));
    args.push('-i', o.url);
  }
  const filters = o.hwaccel?.kind ? hwaccelFilters(o.hwaccel, o.fps, o.maxWidth) : softwareFilters(o);
  args.push('-an', '-sn', '-dn');
  if (filters.length) args.push('-vf', filters.join(','));
  args.push('-pix_fmt', 'rgb24', '-f', 'image2pipe', '-vcodec', 'ppm', 'pipe:1');
  return args;
}

/** The video filters of a software-decoded source: frame-rate limit, then scaling down. */
function softwareFilters(o: VideoSourceOptions): string[] {
  const filters: string[] = [];
  if (o.fps && o.fps > 0) filters.push(`fps=${o.fps}`);
  filters.push(...scaleFilters(o));
  return filters;
}

/**
 * The scale filters for a maximum width and a maximum long side. Both only ever shrink (min(W, iw)
 * keeps a small source as it is) and keep the aspect with an even other side (-2). The long-side cap
 * is one filter whatever the orientation: `gte(iw,ih)` picks the side it applies to.
 */
export function scaleFilters(o: Pick<VideoSourceOptions, 'maxWidth' | 'maxSide'>): string[] {
  const out: string[] = [];
  if (o.maxWidth && o.maxWidth > 0) out.push(`scale='min(${Math.round(o.maxWidth)},iw)':-2`);
  if (o.maxSide && o.maxSide > 0) {
    const s = Math.round(o.maxSide);
    out.push(`scale='if(gte(iw,ih),min(${s},iw),-2)':'if(gte(iw,ih),-2,min(${s},ih))'`);
  }
  return out;
}

/** A file's duration from ffmpeg's input line ("  Duration: 00:01:53.57, start: …"), in seconds. */
export function parseDuration(stderrLine: string): number | undefined {
  const m = /^\s*Duration:\s*(\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(stderrLine);
  if (!m) return undefined;
  const s = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  return s > 0 ? s : undefined;
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
 * `input` is what followed -i: a URL, a path, or the ffconcat list's path.
 */
export function errorReason(lines: readonly string[], input?: string): string {
  const re =
    /error|refused|denied|not found|no such|invalid|unauthori[sz]ed|forbidden|timed out|unreachable|failed|unable|could not|cannot|404|401|403|500|503/i;
  let line = lines.length ? lines[lines.length - 1] : 'ffmpeg exited';
  for (let i = lines.length - 1; i >= 0; i--) {
    if (re.test(lines[i])) {
      line = lines[i];
      break;
    }
  }
  // ffmpeg prefixes the reason with its input ("rtsp://host/x: Connection refused", or the list
  // file's path): drop it so the reason fits a status line, and never show credentials.
  if (input && line.startsWith(input + ': ')) line = line.slice(input.length + 2);
  return redactAll(line).trim();
}

/** Capped exponential back-off for reconnects: base, 2·base, 4·base, … up to cap. */
export function backoffDelayMs(attempt: number, baseMs = 1000, capMs = 30000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
