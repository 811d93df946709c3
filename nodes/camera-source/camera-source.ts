/**
 * vision-camera-source: any camera or video file → frames in the frame store → one vision frame
 * message per frame (msg.topic = camera id). Thin glue over nodes/lib/video.
 */
import * as fs from 'fs';
import { Red, Node, NodeMessage } from '../shared/red';
import { NodeStatusReporter } from '../shared/node-status';
import { sharedFrameStore } from '../lib/frame-store';
import { FfmpegSource, SourceExit } from '../lib/video/ffmpeg-source';
import { backoffDelayMs, redactUrl, sourceKind } from '../lib/video/ffmpeg-args';
import { ReplayPacer } from '../lib/video/replay-pacer';
import { VisionFrame } from '../lib/types';

interface CameraSourceConfig {
  name?: string;
  camera?: string;
  url?: string;
  rtspTransport?: string;
  fps?: string | number;
  maxWidth?: string | number;
  realtime?: boolean;
  loop?: boolean;
  autoStart?: boolean;
  reconnect?: boolean;
  ffmpegPath?: string;
}

const COMMANDS = ['start', 'stop', 'restart'] as const;

/** Replaying a file as fast as possible: how often a paused source looks whether its readers caught up. */
const PACE_POLL_MS = 5;
type Command = (typeof COMMANDS)[number];

function nonNegative(v: unknown, what: string): number {
  const n = v === '' || v === undefined || v === null ? 0 : Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${what} must be a number ≥ 0, got "${String(v)}"`);
  return n;
}

export = function (RED: Red) {
  function VisionCameraSourceNode(this: Node, config: CameraSourceConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const store = sharedFrameStore();
    const status = new NodeStatusReporter(node);
    const camera = (config.camera || '').trim() || (config.name || '').trim() || node.id;
    const reconnect = config.reconnect !== false;

    let url = (config.url || '').trim();
    let fps = 0;
    let maxWidth = 0;
    let configError: string | null = null;
    try {
      fps = nonNegative(config.fps, 'frame-rate limit');
      maxWidth = nonNegative(config.maxWidth, 'maximum width');
      if (!url) throw new Error('no source: set a file path, rtsp://, http:// or /dev/videoN');
    } catch (e) {
      configError = (e as Error).message;
    }

    let source: FfmpegSource | null = null;
    let retryTimer: NodeJS.Timeout | null = null;
    let attempt = 0;
    let closed = false;
    let frames = 0;
    let fpsEma = 0;
    let lastWallMs = 0;
    // Media time restarts at 0 with each ffmpeg process; keep a file's frame times increasing
    // across restarts so that trackers downstream never see time run backwards.
    let timeBase = 0;
    let lastTMs = -Infinity;

    function fail(reason: string, msg?: NodeMessage) {
      status.force('error', reason);
      node.error(`camera "${camera}": ${reason}`, msg ?? { topic: camera });
    }

    function showRunning() {
      const drops = store.stats(camera)?.misses ?? 0;
      status.set('running', `${fpsEma.toFixed(1)} fps · ${frames} frames · ${drops} dropped`);
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
      if (sourceKind(url) === 'file' && !fs.existsSync(url)) return `video file not found: ${url}`;
      const src = new FfmpegSource({
        url,
        fps,
        maxWidth,
        realtime: config.realtime !== false,
        loop: config.loop !== false,
        rtspTransport: config.rtspTransport === 'udp' ? 'udp' : 'tcp',
        username: node.credentials?.username,
        password: node.credentials?.password,
        ffmpegPath: config.ffmpegPath,
      });
      source = src;
      if (lastTMs > -Infinity) timeBase = lastTMs + 1000 / (fps || 25);
      src.on('frame', (f) => {
        if (source !== src) return;
        attempt = 0;
        const tMs = src.isFile ? timeBase + f.tMs : f.tMs;
        lastTMs = tMs;
        const ref = store.put(camera, f.data, f.width, f.height, tMs, 'rgb24', Date.now()); // wall time: idle cameras are forgotten
        frames++;
        const now = Date.now();
        if (lastWallMs) {
          const inst = 1000 / Math.max(1, now - lastWallMs);
          fpsEma = fpsEma ? fpsEma * 0.9 + inst * 0.1 : inst;
        }
        lastWallMs = now;
        const payload: VisionFrame = { camera, frame: ref, detections: [] };
        node.send({ topic: camera, payload });
        showRunning();
        if (src.isFile && config.realtime === false) paceAfter(src, ref.seq);
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

    function onExit(src: FfmpegSource, e: SourceExit) {
      if (source !== src) return;
      clearPace();
      source = null;
      lastWallMs = 0;
      if (e.requested || closed) {
        status.force('stopped', `stopped · ${frames} frames`);
        return;
      }
      if (src.isFile && e.code === 0 && config.loop === false) {
        status.force('stopped', `ended · ${frames} frames`);
        return;
      }
      const reason = e.code === 0 ? 'stream ended' : e.reason;
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

    node.on('input', (msg, send, done) => {
      const cmd = String(msg.command ?? msg.payload ?? '').toLowerCase() as Command;
      if (!COMMANDS.includes(cmd)) {
        const err = new Error(`unknown command "${String(msg.command ?? msg.payload)}": send start, stop or restart`);
        status.force('error', err.message);
        done(err);
        return;
      }
      if (typeof msg.url === 'string' && msg.url.trim()) url = msg.url.trim();
      const before = cmd === 'start' ? Promise.resolve() : stop();
      before.then(() => {
        if (cmd === 'stop') {
          status.force('stopped', `stopped · ${frames} frames`);
          done();
          return;
        }
        const err = start();
        if (err) {
          status.force('error', err);
          done(new Error(`camera "${camera}": ${err}`));
        } else done();
      }, done);
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      status.close();
      stop().then(() => {
        store.release(camera);
        status.clear();
        done();
      });
    });

    if (config.autoStart !== false) {
      // Defer so the flow's other nodes are wired before the first frame is sent.
      setImmediate(() => {
        const err = start();
        if (err) fail(err);
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
