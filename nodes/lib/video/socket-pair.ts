/**
 * A connected pair of local stream sockets: one end becomes ffmpeg's stdout, the other is read here
 * with Node's `onread` option, which makes libuv read straight into a buffer of ours (the frame being
 * decoded) instead of allocating a 64 KiB chunk per read as a child's stdout pipe does. Node has no
 * socketpair(), so the pair is made with a listening socket in a private folder (0700) that exists
 * only until the two ends are connected.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

export interface SocketPair {
  /** The end for the child process (pass it in `stdio`, then `destroy()` this copy). */
  child: net.Socket;
  /** Our end, reading into the buffers `onread` gives. */
  reader: net.Socket;
}

/** True where the pair can be made (Unix domain sockets; not on Windows, whose pipes differ). */
export function socketPairSupported(): boolean {
  return process.platform !== 'win32';
}

/**
 * Makes the pair. `onread` is Node's net.Socket option: `buffer` returns where the next read goes,
 * `callback(n, buf)` is told how many bytes arrived.
 */
export function socketPair(onread: net.OnReadOpts, tmpDir: string = os.tmpdir()): Promise<SocketPair> {
  return new Promise((resolve, reject) => {
    let dir: string;
    try {
      dir = fs.mkdtempSync(path.join(tmpDir, 'edgevision-sock-'));
    } catch (e) {
      reject(e as Error);
      return;
    }
    const file = path.join(dir, 's');
    const cleanup = () => {
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch {
        /* already gone */
      }
    };
    let child: net.Socket | null = null;
    let reader: net.Socket | null = null;
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      if (!err && !(child && reader)) return;
      settled = true;
      server.close();
      cleanup();
      if (err) {
        child?.destroy();
        reader?.destroy();
        reject(err);
      } else resolve({ child: child!, reader: reader! });
    };
    // pauseOnConnect: the child's end is never read here.
    const server = net.createServer({ pauseOnConnect: true }, (s) => {
      if (child) {
        s.destroy(); // not ours (the folder is private, so this does not happen)
        return;
      }
      child = s;
      finish();
    });
    server.on('error', (e) => finish(e));
    server.listen(file, () => {
      const r = net.connect({ path: file, onread });
      r.once('connect', () => {
        reader = r;
        finish();
      });
      r.once('error', (e) => finish(e));
    });
  });
}
