/**
 * Getting the assets named in models/manifest.json into a folder (a Node-RED user dir's edgevision/):
 * downloaded (following redirects) or copied from a local folder for air-gapped gateways, and always
 * checked against the manifest's sha256 before they are put in place under their own name (written
 * to a hidden temporary name first, so a reader never sees half a file). I/O only; no Node-RED.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as https from 'https';
import * as http from 'http';
import * as crypto from 'crypto';
import { AssetEntry, AssetManifest, loadManifest, manifestEntry, modelsDir, sha256File } from './assets';

export interface FetchOptions {
  /** Copy from this folder (a ../shared/assets-style tree or a flat folder) instead of downloading. */
  from?: string;
  /** Names to fetch; default: every entry marked default. */
  names?: string[];
  force?: boolean;
  /** The folder to fill (a user dir's edgevision/); default the package's models/ (a dev checkout). */
  dest?: string;
  /** The manifest to follow (tests); default models/manifest.json. */
  manifest?: AssetManifest;
  log?: (line: string) => void;
  /** Bytes received so far of the asset being fetched (a download reports every chunk). */
  onProgress?: (p: FetchProgress) => void;
  /** What an offline machine should do instead, appended to the "looks offline" message. */
  offlineHint?: string;
}

export interface FetchProgress {
  name: string;
  file: string;
  received: number;
  /** The manifest's size of the file. */
  total: number;
}

export type FetchOutcome = 'present' | 'downloaded' | 'copied' | 'written' | 'skipped' | 'failed';

export interface FetchResult {
  name: string;
  file: string;
  outcome: FetchOutcome;
  detail?: string;
}

const OFFLINE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET']);

function download(url: string, dest: string, onBytes: (n: number) => void, redirects = 5): Promise<void> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? https.get : http.get;
    const req = get(url, { timeout: 30000, headers: { 'user-agent': 'edgevision-fetch-assets' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects <= 0) return reject(new Error(`too many redirects fetching ${url}`));
        return resolve(download(new URL(res.headers.location, url).toString(), dest, onBytes, redirects - 1));
      }
      if (status !== 200) {
        res.resume();
        return reject(new Error(`HTTP ${status} fetching ${url}`));
      }
      const out = fs.createWriteStream(dest);
      let received = 0;
      res.on('data', (c: Buffer) => onBytes((received += c.length)));
      res.pipe(out);
      out.on('finish', () => out.close(() => resolve()));
      out.on('error', reject);
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`timed out fetching ${url}`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}

function hostOf(url: string | null | undefined): string {
  try {
    return new URL(url ?? '').host || 'the download server';
  } catch {
    return 'the download server';
  }
}

function sourceIn(dir: string, e: AssetEntry): string | undefined {
  const candidates = [e.sharedPath ? path.join(dir, e.sharedPath) : '', path.join(dir, e.file)].filter(Boolean);
  return candidates.find((p) => fs.existsSync(p));
}

async function verified(file: string, e: AssetEntry): Promise<boolean> {
  return fs.existsSync(file) && (await sha256File(file)) === e.sha256;
}

export async function fetchAssets(opts: FetchOptions = {}): Promise<FetchResult[]> {
  const log = opts.log ?? (() => undefined);
  const dest = opts.dest ?? modelsDir();
  const manifest = opts.manifest ?? loadManifest();
  const wanted = opts.names?.length
    ? opts.names.map((n) => {
        const e = manifestEntry(n, manifest);
        if (!e) throw new Error(`no asset "${n}" in models/manifest.json (have: ${manifest.assets.map((a) => a.name).join(', ')})`);
        return e;
      })
    : manifest.assets.filter((a) => a.default);
  fs.mkdirSync(dest, { recursive: true });
  const results: FetchResult[] = [];
  for (const e of wanted) {
    const target = path.join(dest, e.file);
    // Hidden and unique: a listing skips it, and two fetches of one file never share it.
    const tmp = path.join(dest, `.${e.file}.${crypto.randomBytes(4).toString('hex')}.part`);
    const progress = (received: number) => opts.onProgress?.({ name: e.name, file: e.file, received, total: e.bytes });
    const done = (outcome: FetchOutcome, detail?: string) => {
      results.push({ name: e.name, file: target, outcome, detail });
      log(`${outcome.padEnd(10)} ${e.file}${detail ? ` — ${detail}` : ''}`);
    };
    try {
      if (!opts.force && (await verified(target, e))) {
        progress(e.bytes);
        done('present');
        continue;
      }
      let outcome: FetchOutcome;
      if (e.inline) {
        fs.writeFileSync(tmp, e.inline.join('\n') + '\n');
        outcome = 'written';
      } else if (opts.from) {
        const src = sourceIn(opts.from, e);
        if (!src) {
          done('failed', `not in ${opts.from} (looked for ${e.sharedPath ?? e.file} and ${e.file})`);
          continue;
        }
        fs.copyFileSync(src, tmp);
        fs.chmodSync(tmp, 0o644); // the source may be a read-only medium; the copy is the user's
        outcome = 'copied';
      } else if (e.url) {
        log(`fetching   ${e.file} (${(e.bytes / 1e6).toFixed(1)} MB) from ${e.url}`);
        progress(0);
        await download(e.url, tmp, progress);
        outcome = 'downloaded';
      } else {
        done('skipped', 'no public download; copy it with --from <folder>');
        continue;
      }
      const sum = await sha256File(tmp);
      if (sum !== e.sha256) {
        fs.rmSync(tmp, { force: true });
        done('failed', `sha256 mismatch (got ${sum.slice(0, 12)}…, manifest says ${e.sha256.slice(0, 12)}…): file not installed`);
        continue;
      }
      fs.renameSync(tmp, target);
      progress(e.bytes);
      done(outcome);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      const code = (err as NodeJS.ErrnoException).code;
      const offline = code && OFFLINE_CODES.has(code);
      done(
        'failed',
        offline
          ? `cannot reach ${hostOf(e.url)} (${code}): this machine looks offline. ${opts.offlineHint ?? 'Copy the files from a machine that has them and use --from <folder> (or set EDGEVISION_ASSETS_FROM)'}`
          : (err as Error).message,
      );
    }
  }
  return results;
}
