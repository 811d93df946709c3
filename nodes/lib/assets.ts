/**
 * Finding the models, labels and demo clip named in models/manifest.json. One resolver for the nodes,
 * the CLI and the tests, in this order: the folder named by EDGEVISION_ASSETS (CI points it at
 * ../shared/assets), then the Node-RED user dir's edgevision/ folder (where `edgevision fetch-assets`
 * and the vision-model dialog put them; a palette update never touches it), then the package's own
 * models/ folder (a development checkout). The user dir is always passed in, never looked up here.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as crypto from 'crypto';

export interface AssetEntry {
  name: string;
  kind: 'model' | 'labels' | 'video';
  file: string;
  /** Where the file sits in a ../shared/assets-style folder. */
  sharedPath?: string;
  url?: string | null;
  /** Labels small enough to live in the manifest itself. */
  inline?: string[];
  sha256: string;
  bytes: number;
  default?: boolean;
  [key: string]: unknown;
}

export interface AssetManifest {
  schema: number;
  assets: AssetEntry[];
}

/** The package root (two levels above dist/nodes/lib or nodes/lib). */
export function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'models', 'manifest.json'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`cannot find the package root (models/manifest.json) above ${__dirname}`);
}

export function modelsDir(): string {
  return path.join(packageRoot(), 'models');
}

export function loadManifest(file = path.join(modelsDir(), 'manifest.json')): AssetManifest {
  const m = JSON.parse(fs.readFileSync(file, 'utf8')) as AssetManifest;
  if (!m || !Array.isArray(m.assets)) throw new Error(`${file}: no "assets" array`);
  return m;
}

export function manifestEntry(name: string, manifest = loadManifest()): AssetEntry | undefined {
  return manifest.assets.find((a) => a.name === name || a.file === name);
}

/** The folder of a Node-RED user dir that holds our models, labels and clips. */
export const USER_ASSETS_FOLDER = 'edgevision';

export function userAssetsDir(userDir: string): string {
  return path.join(userDir, USER_ASSETS_FOLDER);
}

/** Where to look for assets besides the package: passed in by the caller (the node glue, the CLI). */
export interface AssetLookup {
  /** The Node-RED user dir; assets live in <userDir>/edgevision/. */
  userDir?: string;
  /** EDGEVISION_ASSETS names a folder in the shared layout (tests, CI). Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Candidate locations of an asset, most specific first. */
export function assetCandidates(entry: AssetEntry, lookup: AssetLookup = {}): string[] {
  const out: string[] = [];
  const dir = (lookup.env ?? process.env).EDGEVISION_ASSETS;
  if (dir) {
    if (entry.sharedPath) out.push(path.resolve(dir, entry.sharedPath));
    out.push(path.resolve(dir, entry.file));
  }
  if (lookup.userDir) out.push(path.join(userAssetsDir(path.resolve(lookup.userDir)), entry.file));
  out.push(path.join(modelsDir(), entry.file));
  return out;
}

/** A shell word: quoted when it holds anything a shell would split or expand. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command that installs `names` into the user dir (or the CLI's default one). */
export function fetchCommand(names: string[], userDir?: string, from?: string): string {
  return ['npx edgevision fetch-assets', userDir ? `--user-dir ${shellWord(userDir)}` : '', from ? `--from ${from}` : '', ...names].filter(Boolean).join(' ');
}

/**
 * A manifest asset that is in none of the folders. The message leads with the file (a node's status
 * shows its first 60 characters), then how to get it, then where it looked.
 */
export class AssetNotFoundError extends Error {
  readonly code = 'EDGEVISION_ASSET_MISSING';
  constructor(
    readonly entry: AssetEntry,
    readonly lookedIn: string[],
    readonly userDir?: string,
  ) {
    super(
      `${entry.file} missing: ` +
        (entry.url
          ? `fetch it with the Fetch button of a vision-model node's dialog, or run "${fetchCommand([entry.name], userDir)}" (offline: add --from <folder holding it>)`
          : `it has no public download; copy it with "${fetchCommand([entry.name], userDir, '<folder holding it>')}"`) +
        `; looked in ${lookedIn.join(', ')}`,
    );
    this.name = 'AssetNotFoundError';
  }
}

/**
 * Absolute path of a manifest asset (by name or file name), or of a plain path that exists.
 * Throws with what to do when it is nowhere (AssetNotFoundError for a manifest asset).
 */
export function resolveAsset(nameOrPath: string, lookup: AssetLookup = {}): string {
  const entry = manifestEntry(nameOrPath);
  if (!entry) {
    if (fs.existsSync(nameOrPath)) return path.resolve(nameOrPath);
    throw new Error(`"${nameOrPath}" is neither a file nor an asset named in models/manifest.json`);
  }
  const candidates = assetCandidates(entry, lookup);
  const hit = candidates.find((p) => fs.existsSync(p));
  if (hit) return hit;
  const dirs = [...new Set(candidates.map((p) => path.dirname(p)))];
  throw new AssetNotFoundError(entry, dirs, lookup.userDir);
}

/**
 * Where a path the user typed (a model, a labels file, a video) points: absolute paths as they are;
 * a relative one is looked for in <userDir>/edgevision/, then in <userDir> itself (the older rule for
 * model paths). Without a user dir, relative to the working directory. The first candidate that
 * exists, else the first candidate (for the "not found" message).
 */
export function userPathCandidates(p: string, userDir?: string): string[] {
  if (path.isAbsolute(p)) return [p];
  if (!userDir) return [path.resolve(p)];
  const base = path.resolve(userDir);
  return [path.join(userAssetsDir(base), p), path.join(base, p)];
}

export function resolveUserPath(p: string, userDir?: string): { file: string; exists: boolean; lookedIn: string[] } {
  const candidates = userPathCandidates(p, userDir);
  const hit = candidates.find((c) => fs.existsSync(c));
  return { file: hit ?? candidates[0], exists: hit !== undefined, lookedIn: candidates.map((c) => path.dirname(c)) };
}

/** Labels for a model: the manifest's inline list or a labels file, one name a line. */
export function readLabels(nameOrPath: string, lookup: AssetLookup = {}): string[] {
  const entry = manifestEntry(nameOrPath);
  if (entry?.inline) return [...entry.inline];
  const file = entry ? resolveAsset(entry.name, lookup) : nameOrPath;
  return fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256');
    fs.createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** A URL with a scheme (rtsp://, http://, …) or a V4L2 device: not a file to look for. */
function isStreamOrDevice(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^\/dev\//.test(url);
}

/**
 * A camera source as the user typed it → what ffmpeg opens. URLs, devices and absolute paths stay as
 * they are; the name of a manifest video (`vtest`, `vtest.avi`) is the asset's file (AssetNotFoundError
 * when it is nowhere); another relative path is looked for in <userDir>/edgevision/, then <userDir>.
 * Throws "video file not found: …" for a file that does not exist.
 */
export function resolveVideoSource(url: string, lookup: AssetLookup = {}): string {
  const u = url.trim();
  if (!u || isStreamOrDevice(u)) return u;
  const entry = manifestEntry(u);
  if (entry && entry.kind === 'video') return resolveAsset(entry.name, lookup);
  if (path.isAbsolute(u)) {
    if (!fs.existsSync(u)) throw new Error(`video file not found: ${u}`);
    return u;
  }
  const r = resolveUserPath(u, lookup.userDir);
  if (!r.exists) throw new Error(`video file not found: ${u} (looked in ${r.lookedIn.join(', ')}); put it in ${r.lookedIn[0]}`);
  return r.file;
}
