/**
 * The model files of a user's asset folder (<userDir>/edgevision/) as the vision-model dialog sees
 * them: listing the .onnx files, and receiving an uploaded one. An upload is streamed to a hidden
 * temporary file, counted against a size cap as it arrives, and renamed to its (checked) name only
 * when it is complete, so a half-written file is never listed or loaded. I/O only; no Node-RED.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as crypto from 'crypto';
import { Readable } from 'stream';

export interface ModelFile {
  /** The file name, which is what the model field holds when it is picked. */
  name: string;
  bytes: number;
  /** Last modified, epoch ms (from the file system). */
  modifiedMs: number;
}

/** The .onnx files directly in `dir`, by name; an absent folder has none. Hidden files are skipped. */
export function listModelFiles(dir: string): ModelFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: ModelFile[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.') || !/\.onnx$/i.test(name)) continue;
    const st = fs.statSync(path.join(dir, name), { throwIfNoEntry: false });
    if (st?.isFile()) out.push({ name, bytes: st.size, modifiedMs: st.mtimeMs });
  }
  return out;
}

/** An upload refused or failed; `status` is the HTTP status that says why. */
export class UploadError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'UploadError';
  }
}

const NAME_MAX = 200;

/**
 * The name an uploaded model is stored under, or an UploadError(400) saying what is wrong with it. A
 * plain file name only: no folder part (`/`, `\`), no `..`, not hidden, no control characters, ending
 * in .onnx. Refused rather than cleaned up, so the user sees the name the file will have.
 */
export function checkUploadName(raw: unknown): string {
  const name = typeof raw === 'string' ? raw.trim() : '';
  if (!name) throw new UploadError(400, 'no file name: send it as ?name=model.onnx');
  if (/[/\\]/.test(name) || name.includes('..')) throw new UploadError(400, `"${name}" is not a plain file name: no folders and no ".."`);
  if (name.startsWith('.')) throw new UploadError(400, `"${name}": a file name must not start with "."`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f:*?"<>|]/.test(name)) throw new UploadError(400, `"${name}" holds characters a file name cannot have`);
  if (name.length > NAME_MAX) throw new UploadError(400, `file name longer than ${NAME_MAX} characters`);
  if (!/\.onnx$/i.test(name)) throw new UploadError(400, `"${name}" is not an .onnx file`);
  return name;
}

export interface ReceiveOptions {
  /** Refuse more than this many bytes (checked against the announced length first, then as it arrives). */
  maxBytes: number;
  /** The length the sender announced (Content-Length), when it did. */
  announcedBytes?: number;
  /** Replace a file of the same name; otherwise an existing one is an UploadError(409). */
  replace?: boolean;
  /** Names that are not to be overwritten by an upload (the manifest's own files): UploadError(409). */
  reserved?: string[];
}

function mib(n: number): string {
  if (n < 1024) return `${n} bytes`;
  return n < 1048576 ? `${Math.round(n / 1024)} KiB` : `${(n / 1048576).toFixed(n < 10485760 ? 1 : 0)} MiB`;
}

/**
 * Streams `body` into `dir`/`name` (the name is checked with checkUploadName). Resolves to the file's
 * path and size; on any failure the temporary file is removed and nothing is left in `dir`.
 */
export function receiveFile(body: Readable, dir: string, rawName: unknown, o: ReceiveOptions): Promise<{ file: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const fail = (e: Error) => {
      body.resume(); // let the sender finish; the answer says why
      reject(e);
    };
    let name: string;
    try {
      name = checkUploadName(rawName);
    } catch (e) {
      return fail(e as Error);
    }
    if (o.reserved?.some((r) => r.toLowerCase() === name.toLowerCase())) {
      return fail(new UploadError(409, `${name} is the name of a model this package fetches itself; rename your file`));
    }
    if (o.announcedBytes !== undefined && o.announcedBytes > o.maxBytes) {
      return fail(new UploadError(413, `${name} is ${mib(o.announcedBytes)}; the limit is ${mib(o.maxBytes)}`));
    }
    const target = path.join(dir, name);
    if (!o.replace && fs.existsSync(target)) return fail(new UploadError(409, `${name} exists already; replace it or rename your file`));
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      return fail(new UploadError(500, `cannot create ${dir}: ${(e as Error).message}`));
    }
    const tmp = path.join(dir, `.upload-${crypto.randomBytes(6).toString('hex')}.part`);
    const out = fs.createWriteStream(tmp, { flags: 'wx' });
    let bytes = 0;
    let settled = false;
    const abort = (e: Error) => {
      if (settled) return;
      settled = true;
      body.unpipe(out);
      out.destroy();
      fs.rm(tmp, { force: true }, () => fail(e));
    };
    body.on('data', (c: Buffer) => {
      bytes += c.length;
      if (bytes > o.maxBytes) abort(new UploadError(413, `${name} is larger than the limit of ${mib(o.maxBytes)}`));
    });
    body.on('aborted', () => abort(new UploadError(400, 'the upload was cut off before it ended')));
    body.on('error', (e) => abort(new UploadError(400, `the upload failed: ${e.message}`)));
    out.on('error', (e) => abort(new UploadError(500, `cannot write ${name}: ${e.message}`)));
    out.on('finish', () => {
      if (settled) return;
      if (bytes === 0) return abort(new UploadError(400, `${name} is empty`));
      if (o.announcedBytes !== undefined && bytes !== o.announcedBytes)
        return abort(new UploadError(400, `${name}: ${bytes} of ${o.announcedBytes} bytes arrived`));
      try {
        fs.renameSync(tmp, target);
      } catch (e) {
        return abort(new UploadError(500, `cannot store ${name}: ${(e as Error).message}`));
      }
      settled = true;
      resolve({ file: target, bytes });
    });
    body.pipe(out);
  });
}
