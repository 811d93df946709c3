/**
 * vision-camera-source: any camera or video file → frames in the frame store → one vision frame
 * message per frame (msg.topic = camera id). Thin glue over nodes/lib/video.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Red, Node, NodeMessage } from '../shared/red';
import { NodeStatusReporter } from '../shared/node-status';
import { ThrottledSave } from '../shared/throttled-save';
import { sharedFrameStore } from '../lib/frame-store';
import { FfmpegSource, SourceExit } from '../lib/video/ffmpeg-source';
import { FramePool } from '../lib/video/frame-pool';
import { backoffDelayMs, redactUrl, resolveFfmpeg, sourceKind } from '../lib/video/ffmpeg-args';
import { HwaccelChoice, decideHwaccel, spawnProbe } from '../lib/video/hwaccel';
import { ReplayPacer } from '../lib/video/replay-pacer';
import { MediaClock, MediaClockState } from '../lib/video/media-clock';
import { SourcePolicy, checkSourceUrl, credentialsApply, fileAllowed, parseAllowedSources } from '../lib/video/source-policy';
import { RateMeter } from '../lib/rate-meter';
import { VisionFrame } from '../lib/types';
import { manifestEntry, resolveVideoSource, userAssetsDir } from '../lib/assets';
import { CAMERA_SOURCE_DEFAULTS, CameraSourceConfig, CameraSourceSettings, cameraIdOf, readCameraSourceConfig } from './config';

const COMMANDS = ['start', 'stop', 'restart'] as const;

/** Replaying a file as fast as possible: how often a paused source looks whether its readers caught up. */
const PACE_POLL_MS = 5;
type Command = (typeof COMMANDS)[number];

/** The measured fps: frames sent over the last this many ms of wall time. */
const FPS_WINDOW_MS = 5000;
/** The media clock goes to node context at most this often, and on close. */
const SAVE_EVERY_MS = 5000;
/** Node context key: camera id → MediaClockState. */
const CLOCK_KEY = 'mediaClock';
/** Cameras whose clock one node keeps (a node renamed back and forth keeps each timeline). */
const MAX_CLOCKS = 16;
/** Frame size 'readers': a changed need must hold this long (wall ms) before ffmpeg restarts at the new size… */
const RESIZE_SETTLE_MS = 1000;
/** … and ffmpeg restarts for a new size at most this often. */
const RESIZE_EVERY_MS = 5000;
/** How long a refused msg.url keeps the status red while the old source keeps running. */
const REFUSED_STATUS_MS = 10000;

/** The resolved path with symbolic links followed, or as it is when it does not exist (yet). */
function realPath(p: string): string {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return path.resolve(p);
  }
}

/** `visionAllowedFileDirs` from settings.js: an array (or one string) of folders, relative to the user dir. */
function settingFolders(v: unknown, userDir: string | undefined): string[] {
  const list = Array.isArray(v) ? v : typeof v === 'string' && v.trim() ? [v] : [];
  return list.filter((f): f is string => typeof f === 'string' && f.trim() !== '').map((f) => path.resolve(userDir ?? '.', f.trim()));
}

export = function (RED: Red) {
  /** Hardware-decoding probes, by ffmpeg binary + request + device: asked once per runtime, shared by every source. */
  const hwProbes = new Map<string, Promise<HwaccelChoice>>();
  function hwaccelFor(s: CameraSourceSettings): Promise<HwaccelChoice> {
    if (s.hwaccel === 'none') return Promise.resolve({});
    const ffmpeg = resolveFfmpeg({ configured: s.ffmpegPath }).path;
    const key = `${ffmpeg}|${s.hwaccel}|${s.hwDevice}`;
    let p = hwProbes.get(key);
    if (!p) {
      p = decideHwaccel(s.hwaccel, spawnProbe(ffmpeg), s.hwDevice);
      hwProbes.set(key, p);
    }
    return p;
  }

  function VisionCameraSourceNode(this: Node, config: CameraSourceConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const store = sharedFrameStore();
    const status = new NodeStatusReporter(node);
    const camera = cameraIdOf(config, node.id);

    const userDir: string | undefined = RED.settings.userDir;
    let settings: CameraSourceSettings = CAMERA_SOURCE_DEFAULTS;
    let configError: string | null = null;
    let policy: SourcePolicy = { schemes: [], devices: false, folders: [] };
    try {
      settings = readCameraSourceConfig(config);
      if (!settings.url) throw new Error('no source: set a file path, rtsp://, http:// or /dev/videoN');
      // Files a message may name: <userDir>/edgevision/, the configured file's folder, settings.js.
      const folders = settingFolders(RED.settings.visionAllowedFileDirs, userDir);
      if (userDir) folders.push(userAssetsDir(path.resolve(userDir)));
      if (sourceKind(settings.url) === 'file') {
        try {
          folders.push(path.dirname(resolveVideoSource(settings.url, { userDir })));
        } catch {
          /* a missing file is reported when the node starts */
        }
      }
      policy = parseAllowedSources(config.allowedSources, folders);
    } catch (e) {
      configError = (e as Error).message;
    }
    const { fps, maxWidth, reconnect } = settings;
    const configuredUrl = settings.url;
    let url = configuredUrl;

    let source: FfmpegSource | null = null;
    // Frame size 'readers': the longer side the current ffmpeg run scales to (0: not scaled), since
    // when the readers have needed another, when it last restarted for that, and where a file's
    // next run starts (seconds into the file, so that a resize continues the replay).
    let runSide = 0;
    let needChangedAt = 0;
    let resizedAt = 0;
    let nextStartS = 0;
    let resizing = false;
    // Frame buffers are reused across frames and restarts: the store gives each back once it has
    // left the ring and no stage holds a lease on it (frame-store.ts, "release").
    const pool = new FramePool();
    /** The last source name that was resolved to a file (logged once, not at every restart). */
    let resolvedLogged = '';
    let retryTimer: NodeJS.Timeout | null = null;
    let attempt = 0;
    let closed = false;
    let frames = 0;
    /** Frames sent per second of wall time, the one figure the status, the view and the dashboard show. */
    const meter = new RateMeter({ windowMs: FPS_WINDOW_MS });
    let fpsNow = 0;
    let refusedUntil = 0;
    // Hardware decoding: what the probe found (software with the reason when it failed), settled
    // before the first start; a hardware run that dies before its first frame falls back too.
    let hw: HwaccelChoice = {};
    const hwReady: Promise<void> = hwaccelFor(settings).then((c) => {
      hw = c;
      if (c.fallback) node.warn(`camera "${camera}": ${settings.hwaccel} hardware decoding unavailable, decoding in software (${c.fallback})`);
      else if (c.kind) node.log(`camera "${camera}": hardware decoding with ${c.kind} (${c.scaler})`);
    });

    // Media time restarts at 0 with each ffmpeg process; the clock keeps a file's frame times
    // increasing over restarts, redeploys and Node-RED restarts, so that downstream state never sees
    // time run backwards. Node context keeps it over a restart (with a persistent context store, as
    // the gateway's); the frame store, which keeps each camera's newest time, over a redeploy even
    // with the default memory store (which Node-RED empties when a node is closed).
    const ctx = node.context();
    let clocks: Record<string, MediaClockState> = {};
    try {
      const saved = ctx.get(CLOCK_KEY);
      if (saved && typeof saved === 'object' && !Array.isArray(saved)) clocks = { ...saved };
    } catch (e) {
      node.warn(`camera "${camera}": saved frame time ignored: ${(e as Error).message}`);
    }
    const clock = new MediaClock(clocks[camera]);
    const clockSaver = new ThrottledSave(SAVE_EVERY_MS, writeClock);
    function writeClock(): void {
      const snap = clock.snapshot();
      if (!snap) return;
      delete clocks[camera];
      clocks[camera] = snap;
      const ids = Object.keys(clocks);
      for (const id of ids.slice(0, Math.max(0, ids.length - MAX_CLOCKS))) delete clocks[id];
      try {
        ctx.set(CLOCK_KEY, { ...clocks });
      } catch (e) {
        node.warn(`camera "${camera}": cannot keep the frame time in context: ${(e as Error).message}`);
      }
    }

    function fail(reason: string, msg?: NodeMessage) {
      status.force('error', reason);
      node.error(`camera "${camera}": ${reason}`, msg ?? { topic: camera });
    }

    function showRunning() {
      if (Date.now() < refusedUntil) return;
      const drops = store.stats(camera)?.misses ?? 0;
      // After a hardware fallback the reason must fit the status (60 characters): frames give way to it.
      if (hw.fallback) status.set('running', `${fpsNow.toFixed(1)} fps · ${drops} drop · sw: ${hw.fallback}`);
      else status.set('running', `${fpsNow.toFixed(1)} fps · ${frames} frames · ${drops} dropped${hw.kind ? ` · ${hw.kind}` : ''}`);
    }

    let paceTimer: NodeJS.Timeout | null = null;
    const pacer = new ReplayPacer();

    function clearPace() {
      if (paceTimer) clearInterval(paceTimer);
      paceTimer = null;
    }

    /** Files at full speed: hold ffmpeg while the slowest reader of this camera's pixels catches up. */
    function paceAfter(src: FfmpegSource, seq: number) {
      if (paceTimer || !pacer.shouldWait(seq, store.readPositions(camera), Date.now())) return;
      src.pause();
      paceTimer = setInterval(() => {
        if (source !== src || pacer.mayResume(seq, store.readPositions(camera), Date.now())) {
          clearPace();
          src.resume();
        }
      }, PACE_POLL_MS);
    }

    function clearRetry() {
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = null;
    }

    function start(): string | null {
      if (closed || source) return null;
      clearRetry();
      if (configError) return configError;
      // A demo clip's name (vtest) or a relative path is found in <userDir>/edgevision/.
      let target: string;
      try {
        target = resolveVideoSource(url, { userDir: RED.settings.userDir });
      } catch (e) {
        return (e as Error).message;
      }
      if (target !== url && resolvedLogged !== url) {
        resolvedLogged = url;
        node.log(`camera "${camera}": ${url} is ${target}`);
      }
      // The node's user and password go only to the configured source's host, never to a host that
      // a message named (it may carry user info of its own).
      const creds = credentialsApply(configuredUrl, target) ? node.credentials : undefined;
      let src: FfmpegSource;
      // The GPU scaler scales to Max width only (hwaccelFilters): a hardware run does not follow the
      // readers, which would only restart ffmpeg once for nothing. A fallback to software does.
      runSide = settings.frameSize === 'readers' && !hw.kind ? (store.wantedSide(camera) ?? 0) : 0;
      const startS = src0StartS();
      try {
        src = new FfmpegSource({
          url: target,
          fps,
          maxWidth,
          maxSide: runSide,
          startS,
          realtime: settings.realtime,
          loop: settings.loop,
          rtspTransport: settings.rtspTransport,
          username: creds?.username,
          password: creds?.password,
          ffmpegPath: settings.ffmpegPath,
          hwaccel: hw,
          pool,
          // The old read path (a new buffer per frame), kept as an escape hatch and to measure against.
          ingest: process.env.EDGEVISION_INGEST === 'legacy' ? 'legacy' : 'pooled',
        });
      } catch (e) {
        return (e as Error).message;
      }
      source = src;
      // Readers of a paced replay queue its frames instead of keeping the newest (detect).
      store.setPaced(camera, src.isFile && !settings.realtime);
      clock.continueAfter(store.lastTime(camera));
      clock.startRun(1000 / (fps || 25));
      meter.reset();
      src.on('frame', (f) => {
        if (source !== src) return;
        attempt = 0;
        const now = Date.now();
        const tMs = src.isFile ? clock.fileTime(f.tMs) : clock.liveTime(f.tMs);
        // Wall time: idle cameras are forgotten. The store gives pooled pixels back via f.release.
        const ref = store.put(camera, f.data, f.width, f.height, tMs, 'rgb24', now, f.release);
        frames++;
        meter.tick(now);
        fpsNow = Math.round(meter.rate(now) * 10) / 10;
        const payload: VisionFrame = { camera, frame: ref, detections: [], fps: fpsNow };
        node.send({ topic: camera, payload });
        showRunning();
        clockSaver.save();
        if (src.isFile && !settings.realtime) paceAfter(src, ref.seq);
        if (settings.frameSize === 'readers' && !hw.kind) followReaders(src, f.width, f.height, now);
      });
      src.on('spawn-error', (err) => {
        if (source !== src) return;
        source = null;
        fail(err.message);
      });
      src.on('exit', (e: SourceExit) => onExit(src, e));
      status.force('connecting', `starting ${redactUrl(url)}`);
      src.start();
      return null;
    }

    /** Where the next ffmpeg run starts in a file (a resize continues the replay), once. */
    function src0StartS(): number {
      const s = nextStartS;
      nextStartS = 0;
      return s;
    }

    /**
     * Frame size 'readers': restarts ffmpeg at the size the readers now need, when that would change
     * the frames (a source already smaller than the need is decoded as it is) and the need has held
     * for RESIZE_SETTLE_MS. A file continues where it was; a live source reconnects.
     */
    function followReaders(src: FfmpegSource, width: number, height: number, now: number): void {
      if (resizing) return;
      const want = store.wantedSide(camera) ?? 0;
      const long = Math.max(width, height);
      const scaled = runSide > 0 && long >= runSide - 1; // the run's cap is what shapes these frames
      const changes = want === 0 ? scaled : runSide === 0 ? long > want : want < runSide ? long > want : scaled && want > runSide;
      if (!changes) {
        needChangedAt = 0;
        return;
      }
      if (!needChangedAt) needChangedAt = now;
      if (now - needChangedAt < RESIZE_SETTLE_MS || now - resizedAt < RESIZE_EVERY_MS) return;
      needChangedAt = 0;
      resizedAt = now;
      resizing = true;
      nextStartS = src.isFile ? src.positionS : 0;
      node.log(`camera "${camera}": its readers need frames ${want ? `of ${want} px on the long side` : 'at full size'}: restarting ffmpeg`);
      stop().then(() => {
        // A command or a close meanwhile has the last word.
        if (!resizing || closed) return;
        resizing = false;
        const err = start();
        if (err) fail(err);
      });
    }

    function onExit(src: FfmpegSource, e: SourceExit) {
      if (source !== src) return;
      clearPace();
      source = null;
      if (resizing) return; // restarting at another size: start() follows
      if (e.requested || closed) {
        status.force('stopped', `stopped · ${frames} frames`);
        return;
      }
      if (src.isFile && e.code === 0 && !settings.loop) {
        status.force('stopped', `ended · ${frames} frames`);
        return;
      }
      const reason = e.code === 0 ? 'stream ended' : e.reason;
      if (hw.kind && e.frames === 0 && e.code !== 0) {
        // The device worked in the probe but not for this stream (a codec the GPU cannot decode):
        // software from now on, at once, with the reason.
        hw = { fallback: `${hw.kind} decode failed: ${reason}` };
        node.warn(`camera "${camera}": ${hw.fallback}; decoding in software`);
        const err = start();
        if (err) fail(err);
        return;
      }
      if (!reconnect) {
        fail(reason);
        return;
      }
      attempt++;
      const delay = backoffDelayMs(attempt);
      status.force('error', `reconnecting (${attempt}): ${reason}`);
      node.error(`camera "${camera}": ${reason}; reconnect ${attempt} in ${delay / 1000} s`, { topic: camera });
      retryTimer = setTimeout(() => {
        retryTimer = null;
        const err = start();
        if (err) fail(err);
      }, delay);
    }

    async function stop(): Promise<void> {
      clearRetry();
      clearPace();
      attempt = 0;
      const src = source;
      if (src) await src.stop();
      source = null;
    }

    /**
     * A source named on a message → what to open, or why not. The configured source is trusted (the
     * integrator typed it); anything else must pass the node's Allowed sources (source-policy.ts).
     */
    function admit(requested: string): { url: string } | { refused: string; hint: string } {
      if (requested === configuredUrl) return { url: requested };
      const first = checkSourceUrl(requested, policy);
      if (!first.ok) return { refused: first.reason, hint: first.hint };
      if (first.kind !== 'file') return { url: requested };
      // A manifest video (the demo clip) is one of our own files, wherever it was installed.
      if (manifestEntry(first.path)?.kind === 'video') return { url: first.path };
      let resolved: string;
      try {
        resolved = resolveVideoSource(first.path, { userDir });
      } catch (e) {
        return { refused: (e as Error).message, hint: 'send the path of an existing file' };
      }
      const second = fileAllowed(realPath(resolved), policy.folders.map(realPath));
      if (!second.ok) return { refused: second.reason, hint: second.hint };
      return { url: resolved };
    }

    node.on('input', (msg, send, done) => {
      const cmd = String(msg.command ?? msg.payload ?? '').toLowerCase() as Command;
      if (!COMMANDS.includes(cmd)) {
        const err = new Error(`unknown command "${String(msg.command ?? msg.payload)}": send start, stop or restart`);
        status.force('error', err.message);
        done(err);
        return;
      }
      if (typeof msg.url === 'string' && msg.url.trim()) {
        if (configError) {
          status.force('error', configError);
          done(new Error(`camera "${camera}": ${configError}`));
          return;
        }
        const a = admit(msg.url.trim());
        if ('refused' in a) {
          // The running source (if any) carries on; the status stays red a while to say why.
          refusedUntil = Date.now() + REFUSED_STATUS_MS;
          status.force('error', `msg.url refused: ${a.refused}`);
          done(new Error(`camera "${camera}": msg.url refused: ${a.refused}; ${a.hint}`));
          return;
        }
        url = a.url;
      }
      if (cmd !== 'start') resizing = false; // stop and restart override a resize in progress
      const before = cmd === 'start' ? Promise.resolve() : stop();
      before.then(() => {
        if (cmd === 'stop') {
          status.force('stopped', `stopped · ${frames} frames`);
          done();
          return;
        }
        hwReady.then(() => {
          const err = start();
          if (err) {
            status.force('error', err);
            done(new Error(`camera "${camera}": ${err}`));
          } else done();
        });
      }, done);
    });

    node.on('close', (removed: boolean, done: () => void) => {
      closed = true;
      status.close();
      stop().then(() => {
        // A node deleted from the flow takes its timeline with it; a redeploy or a stop keeps it.
        if (removed) {
          clockSaver.cancel();
          try {
            ctx.set(CLOCK_KEY, undefined);
          } catch {
            /* nothing was kept */
          }
        } else clockSaver.flush();
        store.setPaced(camera, false);
        store.release(camera);
        status.clear();
        done();
      });
    });

    if (settings.autoStart) {
      // Defer so the flow's other nodes are wired before the first frame is sent.
      setImmediate(() => {
        void hwReady.then(() => {
          const err = start();
          if (err) fail(err);
        });
      });
    } else if (configError) {
      fail(configError);
    } else {
      status.force('stopped', 'stopped: send "start"');
    }
  }

  RED.nodes.registerType('vision-camera-source', VisionCameraSourceNode, {
    credentials: { username: { type: 'text' }, password: { type: 'password' } },
  });
};
