/**
 * Finding the models, labels and demo clip named in models/manifest.json. One resolver for the nodes,
 * the CLI and the tests: first the folder named by EDGEVISION_ASSETS (CI points it at ../shared/assets),
 * then the project's own models/ folder that `npm run fetch-assets` fills.
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

/** Candidate locations of an asset, most specific first. */
export function assetCandidates(entry: AssetEntry, env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  const dir = env.EDGEVISION_ASSETS;
  if (dir) {
    if (entry.sharedPath) out.push(path.resolve(dir, entry.sharedPath));
    out.push(path.resolve(dir, entry.file));
  }
  out.push(path.join(modelsDir(), entry.file));
  return out;
}

/**
 * Absolute path of a manifest asset (by name or file name), or of a plain path that exists.
 * Throws with what to do when it is nowhere.
 */
export function resolveAsset(nameOrPath: string, env: NodeJS.ProcessEnv = process.env): string {
  const entry = manifestEntry(nameOrPath);
  if (!entry) {
    if (fs.existsSync(nameOrPath)) return path.resolve(nameOrPath);
    throw new Error(`"${nameOrPath}" is neither a file nor an asset named in models/manifest.json`);
  }
  const hit = assetCandidates(entry, env).find((p) => fs.existsSync(p));
  if (hit) return hit;
  throw new Error(
    `asset "${entry.name}" (${entry.file}) not found; run "npm run fetch-assets"` +
      (entry.url ? '' : ' --from <folder holding it>') +
      ' or set EDGEVISION_ASSETS to a folder that holds it',
  );
}

/** Labels for a model: the manifest's inline list or a labels file, one name a line. */
export function readLabels(nameOrPath: string): string[] {
  const entry = manifestEntry(nameOrPath);
  if (entry?.inline) return [...entry.inline];
  const file = entry ? resolveAsset(entry.name) : nameOrPath;
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
