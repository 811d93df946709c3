/**
 * The vision-model dialog's admin routes, over the user's asset folder <userDir>/edgevision/:
 *
 *   GET  vision-model/assets           (vision-model.read)  the .onnx files there, and the manifest's models
 *   POST vision-model/assets/upload?name=F.onnx[&replace=1]  (vision-model.write)  the request body, streamed
 *                                       to disk (application/octet-stream), size-capped
 *   POST vision-model/assets/fetch     (vision-model.write)  {name, video?}: fetch a manifest model, its
 *                                       labels (and the demo clip), sha256-checked, in the background
 *   GET  vision-model/assets/fetch     (vision-model.read)  that fetch's progress and outcome
 *
 * Registered once per runtime, when the node module loads (a deploy re-creates nodes, not routes).
 * The upload limit is Node-RED's setting `visionModelMaxUploadMB` (default 512).
 */
import type { NextFunction, Request, Response, Router } from 'express';
import * as path from 'path';
import { Red } from '../shared/red';
import { AssetManifest, fetchCommand, loadManifest, manifestEntry, userAssetsDir } from '../lib/assets';
import { FetchResult, fetchAssets } from '../lib/fetch-assets';
import { UploadError, listModelFiles, receiveFile } from '../lib/asset-files';

export const DEFAULT_MAX_UPLOAD_MB = 512;

export interface FetchItem {
  name: string;
  file: string;
  total: number;
  received: number;
  outcome?: FetchResult['outcome'];
  detail?: string;
}

export interface FetchJob {
  id: number;
  state: 'running' | 'done' | 'failed';
  dir: string;
  items: FetchItem[];
  /** Set when the job failed: what went wrong, for the dialog. */
  error?: string;
}

export interface AssetRouteOptions {
  /** The manifest (tests point downloads at a local server); default models/manifest.json. */
  manifest?: () => AssetManifest;
}

const REGISTERED = Symbol.for('edgevision.visionModelRoutes');

type Handler = (req: Request, res: Response, next?: NextFunction) => void;

export function registerAssetRoutes(RED: Red, o: AssetRouteOptions = {}): void {
  // Marked on the router itself: a redeploy re-creates the nodes, not the admin app.
  const app = RED.httpAdmin as (Router & { [REGISTERED]?: boolean }) | undefined;
  if (!app || app[REGISTERED]) return;
  app[REGISTERED] = true;
  const manifest = o.manifest ?? (() => loadManifest());
  const auth = RED.auth;
  const allow: (p: string) => Handler = auth?.needsPermission ? (p) => auth.needsPermission(p) : () => (_q, _s, next) => next!();
  const read = allow('vision-model.read');
  const write = allow('vision-model.write');

  let job: FetchJob | null = null;
  let jobs = 0;

  function maxUploadBytes(): number {
    const mb = Number(RED.settings.visionModelMaxUploadMB);
    return Math.floor((Number.isFinite(mb) && mb > 0 ? mb : DEFAULT_MAX_UPLOAD_MB) * 1048576);
  }

  /** The user's asset folder, or a 500 answer when this runtime has no user dir. */
  function folder(res: Response): string | null {
    const ud = RED.settings.userDir;
    if (typeof ud === 'string' && ud) return userAssetsDir(ud);
    res.status(500).json({ error: 'this Node-RED has no user directory (settings.userDir) to keep models in' });
    return null;
  }

  app.get('/vision-model/assets', read, (_req: Request, res: Response) => {
    const dir = folder(res);
    if (!dir) return;
    try {
      const m = manifest();
      const files = listModelFiles(dir).map((f) => ({ ...f, manifest: manifestEntry(f.name, m)?.name ?? null }));
      const models = m.assets
        .filter((a) => a.kind === 'model')
        .map((a) => ({
          name: a.name,
          file: a.file,
          bytes: a.bytes,
          downloadable: !!a.url,
          present: files.some((f) => f.name === a.file),
          licence: a.licence ?? null,
        }));
      const video = m.assets.filter((a) => a.kind === 'video').map((a) => ({ name: a.name, file: a.file, bytes: a.bytes, downloadable: !!a.url }));
      res.set('Cache-Control', 'no-store');
      res.json({ dir, files, models, video, maxUploadBytes: maxUploadBytes(), fetching: job?.state === 'running' });
    } catch (e) {
      res.status(500).json({ error: `cannot list ${dir}: ${(e as Error).message}` });
    }
  });

  app.post('/vision-model/assets/upload', write, (req: Request, res: Response) => {
    const dir = folder(res);
    if (!dir) return req.resume();
    const maxBytes = maxUploadBytes();
    const len = req.headers['content-length'];
    let reserved: string[] = [];
    try {
      reserved = manifest().assets.map((a) => a.file);
    } catch {
      /* no manifest: nothing reserved */
    }
    receiveFile(req, dir, req.query?.name, {
      maxBytes,
      announcedBytes: len !== undefined && /^\d+$/.test(String(len)) ? Number(len) : undefined,
      replace: req.query?.replace === '1' || req.query?.replace === 'true',
      reserved,
    }).then(
      (r) => {
        RED.log.info(`vision-model: stored an uploaded model, ${r.file} (${r.bytes} bytes)`);
        res.json({ name: path.basename(r.file), bytes: r.bytes, dir });
      },
      (e: Error) => {
        // A refused body is still read (and dropped) to its end: a client cut off mid-send sees a
        // broken connection instead of this answer. The dialog checks the size before it sends.
        res.status(e instanceof UploadError ? e.status : 500).json({ error: e.message });
      },
    );
  });

  app.get('/vision-model/assets/fetch', read, (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store');
    res.json(job ?? { state: 'idle', items: [] });
  });

  app.post('/vision-model/assets/fetch', write, (req: Request, res: Response) => {
    const dir = folder(res);
    if (!dir) return;
    if (job?.state === 'running') {
      res.status(409).json({ error: 'a fetch is already running', job });
      return;
    }
    let names: string[];
    let m: AssetManifest;
    try {
      m = manifest();
      const body = req.body ?? {};
      const entry = typeof body.name === 'string' ? manifestEntry(body.name, m) : undefined;
      if (!entry || entry.kind !== 'model')
        throw new Error(
          `"${String(body.name ?? '')}" is not a model of the manifest (${m.assets
            .filter((a) => a.kind === 'model')
            .map((a) => a.name)
            .join(', ')})`,
        );
      names = [entry.name];
      if (typeof entry.labels === 'string' && manifestEntry(entry.labels, m)) names.push(entry.labels);
      if (body.video === true || body.video === 'true') names.push(...m.assets.filter((a) => a.kind === 'video' && a.default).map((a) => a.name));
    } catch (e) {
      res.status(400).json({ error: (e as Error).message });
      return;
    }
    const from = process.env.EDGEVISION_ASSETS_FROM || undefined;
    const current: FetchJob = {
      id: ++jobs,
      state: 'running',
      dir,
      items: names.map((n) => {
        const e = manifestEntry(n, m)!;
        return { name: e.name, file: e.file, total: e.bytes, received: 0 };
      }),
    };
    job = current;
    const ud = RED.settings.userDir as string;
    fetchAssets({
      names,
      dest: dir,
      from,
      manifest: m,
      offlineHint: `Upload the .onnx file in this dialog instead, or copy the files from a machine that has them and run "${fetchCommand(names, ud, '<folder>')}"`,
      onProgress: (p) => {
        const it = current.items.find((i) => i.name === p.name);
        if (it) it.received = p.received;
      },
      log: (l) => RED.log.info(`vision-model fetch: ${l}`),
    }).then(
      (results) => {
        for (const r of results) {
          const it = current.items.find((i) => i.name === r.name);
          if (it) Object.assign(it, { outcome: r.outcome, detail: r.detail });
        }
        const bad = results.filter((r) => r.outcome === 'failed' || r.outcome === 'skipped');
        current.state = bad.length ? 'failed' : 'done';
        if (bad.length) current.error = bad.map((r) => `${path.basename(r.file)}: ${r.detail ?? r.outcome}`).join('; ');
      },
      (e: Error) => {
        current.state = 'failed';
        current.error = e.message;
      },
    );
    res.status(202).json(current);
  });
}
