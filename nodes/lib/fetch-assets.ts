/**
 * Getting the assets named in models/manifest.json into models/: downloaded (following redirects)
 * or copied from a local folder for air-gapped gateways, and always checked against the manifest's
 * sha256 before they are put in place. I/O only; no Node-RED.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as https from 'https';
import * as http from 'http';
import { AssetEntry, AssetManifest, loadManifest, manifestEntry, modelsDir, sha256File } from './assets';

export interface FetchOptions {
  /** Copy from this folder (a ../shared/assets-style tree or a flat folder) instead of downloading. */
  from?: string;
  /** Names to fetch; default: every entry marked default. */
  names?: string[];
  force?: boolean;
  dest?: string;
  /** The manifest to follow (tests); default models/manifest.json. */
  manifest?: AssetManifest;
  log?: (line: string) => void;
}

export type FetchOutcome = 'present' | 'downloaded' | 'copied' | 'written' | 'skipped' | 'failed';

export interface FetchResult {
  name: string;
  file: string;
  outcome: FetchOutcome;
  detail?: string;
}

const OFFLINE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET']);

function download(url: string, dest: string, redirects = 5): Promise<void> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? https.get : http.get;
    const req = get(url, { timeout: 30000, headers: { 'user-agent': 'edgevision-fetch-assets' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects <= 0) return reject(new Error(`too many redirects fetching ${url}`));
        return resolve(download(new URL(res.headers.location, url).toString(), dest, redirects - 1));
      }
      if (status !== 200) {
        res.resume();
        return reject(new Error(`HTTP ${status} fetching ${url}`));
      }
      const out = fs.createWriteStream(dest);
      res.pipe(out);
      out.on('finish', () => out.close(() => resolve()));
      out.on('error', reject);
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`timed out fetching ${url}`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
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
    const tmp = target + '.part';
    const done = (outcome: FetchOutcome, detail?: string) => {
      results.push({ name: e.name, file: target, outcome, detail });
      log(`${outcome.padEnd(10)} ${e.file}${detail ? ` — ${detail}` : ''}`);
    };
    try {
      if (!opts.force && (await verified(target, e))) {
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
        outcome = 'copied';
      } else if (e.url) {
        log(`fetching   ${e.file} (${(e.bytes / 1e6).toFixed(1)} MB) from ${e.url}`);
        await download(e.url, tmp);
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
      done(outcome);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      const code = (err as NodeJS.ErrnoException).code;
      const offline = code && OFFLINE_CODES.has(code);
      done(
        'failed',
        offline
          ? `cannot reach the download server (${code}): this machine looks offline. Copy the files from a machine that has them and run "npm run fetch-assets -- --from <folder>" (or set EDGEVISION_ASSETS_FROM)`
          : (err as Error).message,
      );
    }
  }
  return results;
}
