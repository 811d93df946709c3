/**
 * Which sources a message may switch a camera to (`msg.url`). The node's own configured source is
 * trusted: the integrator typed it. A URL that arrives on a message may come from MQTT or HTTP, so it
 * must pass an allow-list: a scheme named in the node's *Allowed sources*, a V4L2 device when
 * `/dev/video*` is listed, or a local file under an allowed folder. ffmpeg's pseudo-protocols that
 * read local files or other inputs (concat:, subfile:, pipe:, data:, …) are never allowed, and a
 * path with `..` in it is refused before anything is resolved. Pure: the caller resolves relative
 * paths and symbolic links and passes folders in.
 */
import * as path from 'path';
import { hasControlChar } from '../control-chars';

export const DEFAULT_ALLOWED_SOURCES = 'rtsp, rtsps, http, https, /dev/video*';

/**
 * ffmpeg protocols that read local files, file descriptors or inline data, or wrap another protocol
 * (so `crypto+file:` would read a file): never allowed for a message, whatever the node's list says.
 */
export const NEVER_ALLOWED_SCHEMES: readonly string[] = [
  'async',
  'cache',
  'concat',
  'concatf',
  'crypto',
  'data',
  'fd',
  'ffrtmpcrypt',
  'ffrtmphttp',
  'hls',
  'md5',
  'pipe',
  'subfile',
  'tee',
  'unix',
];

export interface SourcePolicy {
  /** URL schemes allowed on messages, lower case. */
  schemes: string[];
  /** `/dev/videoN` allowed. */
  devices: boolean;
  /** Folders (absolute, normalised) under which a message may name a local file. */
  folders: string[];
}

function isDosPath(s: string): boolean {
  return /^[a-z]:[\\/]/i.test(s);
}

/**
 * The protocol ffmpeg would use for an input, as ffmpeg decides it (url_find_protocol): the letters,
 * digits, `+`, `-` and `.` before a `:` — with or without `//` after it — else a file. Lower case.
 */
export function ffmpegScheme(url: string): string {
  if (url.startsWith('subfile,')) return 'subfile';
  const m = /^([a-z0-9+.-]+):/i.exec(url);
  if (!m || isDosPath(url)) return 'file';
  return m[1].toLowerCase();
}

/**
 * The node's *Allowed sources* text → a policy. Comma-separated: URL schemes (`rtsp`, `https`, `udp`;
 * a trailing `://` is accepted), `/dev/video*` for V4L2 devices, and absolute folders for local files.
 * `extraFolders` (absolute) are added: `<userDir>/edgevision/`, the configured file's folder, the
 * `visionAllowedFileDirs` setting. Throws, naming the entry, on anything else.
 */
export function parseAllowedSources(text: string | undefined, extraFolders: readonly string[] = []): SourcePolicy {
  const src = text === undefined || text === null || String(text).trim() === '' ? DEFAULT_ALLOWED_SOURCES : String(text);
  const schemes = new Set<string>();
  let devices = false;
  const folders: string[] = [];
  for (const raw of src.split(/[,\n]/)) {
    const t = raw.trim();
    if (!t) continue;
    if (t === '/dev/video*') {
      devices = true;
    } else if (path.isAbsolute(t) || isDosPath(t)) {
      if (t.split(/[\\/]/).includes('..')) throw new Error(`allowed sources: folder "${t}" must not contain ".."`);
      folders.push(path.resolve(t));
    } else {
      const m = /^([a-z][a-z0-9+.-]*)(?::(?:\/\/)?)?$/i.exec(t);
      if (!m) throw new Error(`allowed sources: "${t}" is neither a scheme (rtsp, https, …), /dev/video* nor an absolute folder`);
      const scheme = m[1].toLowerCase();
      if (scheme.split('+').includes('file')) throw new Error('allowed sources: list folders (absolute paths) for local files, not "file"');
      const never = scheme.split('+').filter((p) => NEVER_ALLOWED_SCHEMES.includes(p));
      if (never.length) throw new Error(`allowed sources: "${scheme}" can never be allowed (ffmpeg's ${never[0]}: protocol reads local data)`);
      schemes.add(scheme);
    }
  }
  for (const f of extraFolders) if (f) folders.push(path.resolve(f));
  return { schemes: [...schemes], devices, folders: [...new Set(folders)] };
}

/** True when `file` (absolute) is the folder itself or inside it, compared path by path. */
export function isInside(file: string, folder: string): boolean {
  const rel = path.relative(path.resolve(folder), path.resolve(file));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

// The accepted forms name `reason` and `hint` as absent, so that a reader who has not narrowed on `ok`
// (plain JavaScript, the tests) may still read them.
export type SourceCheck =
  /** A network URL or a device: use it as it is. */
  | { ok: true; kind: 'url' | 'device'; reason?: undefined; hint?: undefined }
  /**
   * A local file: `path` is what to resolve and open (a `file:` URL's path, or the path as sent).
   * Once resolved it must be checked again (fileAllowed).
   */
  | { ok: true; kind: 'file'; path: string; reason?: undefined; hint?: undefined }
  /** Refused: `reason` says what, `hint` where to allow it. */
  | { ok: false; reason: string; hint: string };

function listText(p: SourcePolicy): string {
  const items = [...p.schemes, ...(p.devices ? ['/dev/video*'] : [])];
  return items.length ? items.join(', ') : 'none';
}

const FOLDER_HINT = "add its folder to the node's Allowed sources or to visionAllowedFileDirs in settings.js";

/**
 * The first check of a URL that came on a message, before anything is resolved. A file that passes
 * (`kind: 'file'`) must be resolved by the caller and checked again with `fileAllowed`.
 */
export function checkSourceUrl(url: string, policy: SourcePolicy): SourceCheck {
  if (hasControlChar(url)) return { ok: false, reason: 'the URL contains a control character (a line break?)', hint: 'send the URL on one line' };
  if (url.startsWith('/dev/')) {
    if (!/^\/dev\/video\d+$/.test(url))
      return { ok: false, reason: `device "${url}" is not a V4L2 camera (/dev/videoN)`, hint: 'only /dev/videoN devices can be opened' };
    if (!policy.devices)
      return { ok: false, reason: `devices are not allowed (allowed: ${listText(policy)})`, hint: "add /dev/video* to the node's Allowed sources" };
    return { ok: true, kind: 'device' };
  }
  const scheme = ffmpegScheme(url);
  let file: string;
  if (scheme === 'file') {
    // `file:/x`, `file:///x` and a plain path all name a local file.
    file = /^file:/i.test(url) ? url.slice(5).replace(/^\/\/(?=\/)/, '') : url;
    if (/^file:/i.test(url) && !path.isAbsolute(file))
      return { ok: false, reason: `"${url}" is not a file: URL with an absolute path`, hint: 'send file:///absolute/path or the path itself' };
  } else {
    const never = scheme.split('+').find((p) => NEVER_ALLOWED_SCHEMES.includes(p));
    if (never)
      return {
        ok: false,
        reason: `scheme "${scheme}" is never allowed (ffmpeg's ${never}: protocol reads local data)`,
        hint: 'send an rtsp://, http(s):// URL, a device or a file under an allowed folder',
      };
    if (!policy.schemes.includes(scheme))
      return { ok: false, reason: `scheme "${scheme}" is not allowed (allowed: ${listText(policy)})`, hint: `add ${scheme} to the node's Allowed sources` };
    return { ok: true, kind: 'url' };
  }
  if (file.split(/[\\/]/).includes('..'))
    return { ok: false, reason: `"${url}" contains ".." (a path may not climb out of a folder)`, hint: 'send the path without ..' };
  if (path.isAbsolute(file) && !policy.folders.some((f) => isInside(file, f))) {
    return { ok: false, reason: `${file} is outside the allowed folders (${policy.folders.join(', ') || 'none'})`, hint: FOLDER_HINT };
  }
  return { ok: true, kind: 'file', path: file };
}

/**
 * The second check of a file from a message, once resolved (a relative name looked up, symbolic links
 * followed by the caller): inside one of the folders (also resolved), or refused.
 */
export function fileAllowed(resolved: string, folders: readonly string[]): SourceCheck {
  if (folders.some((f) => isInside(resolved, f))) return { ok: true, kind: 'file', path: resolved };
  return { ok: false, reason: `${resolved} is outside the allowed folders (${folders.join(', ') || 'none'})`, hint: FOLDER_HINT };
}

/** `scheme://host:port` of a URL, lower case, without user info; null for what is not a URL. */
function origin(url: string): string | null {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(url);
  if (!m) return null;
  const after = m[2];
  const end = after.search(/[/?#]/);
  const authority = end < 0 ? after : after.slice(0, end);
  return (m[1] + authority.slice(authority.lastIndexOf('@') + 1)).toLowerCase();
}

/**
 * Whether the node's user and password may go with `url`: only to the host (and port, and scheme) of
 * the configured source. A message that switches the camera elsewhere must not be able to collect the
 * node's password; it can carry user info of its own.
 */
export function credentialsApply(configuredUrl: string, url: string): boolean {
  const a = origin(configuredUrl.trim());
  return a !== null && a === origin(url.trim());
}
