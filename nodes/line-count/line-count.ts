/**
 * vision-line-count: counts line crossings and zone occupancy/dwell from tracked vision frames.
 * Thin glue over nodes/lib/counting: one Counter per camera (msg.topic), counts put on the frame
 * (output 1), one message per crossing / enter / exit / alarm (output 2), InfluxDB points every
 * metrics interval (output 3, "metrics"). Totals persist in node context and reset on a shift
 * schedule or by message.
 */
import { Red, Node, NodeMessage, SendFn, DoneFn } from '../shared/red';
import { NodeStatusReporter } from '../shared/node-status';
import { Counter, CounterSnapshot, CountingOptions, DEFAULT_OPTIONS, DirectionCounts, parseGeometry, shiftBoundaryCrossed } from '../lib/counting';
import { VisionEvent, VisionFrame } from '../lib/types';
import { PictureCameras, registerSnapshotRoute } from '../shared/snapshot';
import { BoardEdits, registerBoardRoutes } from '../shared/board';
import { DropCounts, boundDetections } from '../lib/bounds';
import { CameraTable, DEFAULT_CAMERA_IDLE_MS, DEFAULT_MAX_CAMERAS } from '../lib/camera-table';
import { messageKind } from '../shared/message-kind';
import { publishLive } from '../shared/live-feed';
import { KeptSettings, droppedText } from '../shared/kept-settings';
import { EMPTY_GEOMETRY, LineCountConfig, geometryFromMessage, readLineCountConfig } from './config';

/** Cameras one node counts for at once; more is a wiring mistake (a per-frame topic), not a plant. */
const MAX_CAMERAS = DEFAULT_MAX_CAMERAS;
/** Saved totals of cameras not counting now, kept at most (the oldest saved go first). */
const MAX_SAVED_CAMERAS = 4 * MAX_CAMERAS;
const SHIFT_CHECK_MS = 15_000;

export = function (RED: Red) {
  function VisionLineCountNode(this: Node, config: LineCountConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const status = new NodeStatusReporter(node);
    const ctx = node.context();

    // Coerce and validate config once; a bad config leaves the node red and every message refused.
    let configError: string | null = null;
    let options: Omit<CountingOptions, 'camera'> = { ...DEFAULT_OPTIONS };
    let geometryText = config.geometry || EMPTY_GEOMETRY;
    let shifts: number[] = [];
    let metricsMs = 60_000;
    let maxDetections = 0;
    // Lines and zones replaced at run time (a config message, a dashboard's board), until the editor's change.
    const keptGeometry = new KeptSettings<string>(node, 'geometry', config);
    try {
      ({ options, shifts, metricsMs, maxDetections } = readLineCountConfig(config));
      const kept = keptGeometry.load();
      if (kept.dropped) node.warn(droppedText('the lines and zones'));
      if (typeof kept.values === 'string') geometryText = kept.values;
      parseGeometry(geometryText);
    } catch (e) {
      configError = (e as Error).message;
    }

    // A counter per camera, the least recently used evicted beyond MAX_CAMERAS and idle ones forgotten;
    // an evicted camera's totals stay in `saved` (and context), so it carries on if it comes back.
    const counters = new CameraTable<Counter>({ maxCameras: MAX_CAMERAS, idleMs: DEFAULT_CAMERA_IDLE_MS });
    const drops = new DropCounts();
    let warnedEviction = false;
    // The cameras whose newest frame the editor's drawing board may show.
    const pictures = new PictureCameras(node);
    const saved: Record<string, CounterSnapshot> = {};
    const restored = safeGet('counts');
    if (restored && typeof restored === 'object') {
      // Most recently saved last; only the newest MAX_SAVED_CAMERAS are kept.
      const entries = Object.entries(restored as Record<string, CounterSnapshot>);
      for (const [cam, snap] of entries.slice(-MAX_SAVED_CAMERAS)) saved[cam] = snap;
    }
    let lastResetMs = Number(safeGet('lastResetMs'));
    if (!Number.isFinite(lastResetMs)) {
      lastResetMs = Date.now();
      safeSet('lastResetMs', lastResetMs);
    }

    function safeGet(key: string): unknown {
      try {
        return ctx.get(key);
      } catch {
        return undefined;
      }
    }
    function safeSet(key: string, value: unknown): void {
      try {
        ctx.set(key, value);
      } catch (e) {
        node.warn(`cannot store ${key} in context: ${(e as Error).message}`);
      }
    }

    function counterFor(camera: string, send?: SendFn): Counter {
      const now = Date.now();
      let c = counters.get(camera, now);
      if (c) return c;
      c = new Counter(geometryText, { ...options, camera });
      if (saved[camera]) c.restore(saved[camera]);
      const evicted = counters.set(camera, c, now);
      for (const e of evicted) retire(e.camera, e.value, send);
      if (evicted.length) {
        drops.evicted(evicted.length);
        if (!warnedEviction) {
          warnedEviction = true;
          node.warn(
            `more than ${MAX_CAMERAS} cameras: the counter of the least recently seen ("${evicted[0].camera}") was put away, its totals kept. Is msg.topic the camera id? (warned once; the status counts them)`,
          );
        }
      }
      return c;
    }

    /**
     * A counter leaves memory (idle, or evicted for another camera): tracks still on it end (their
     * zone exits and completed crossings go out), its totals stay saved.
     */
    function retire(camera: string, c: Counter, send?: SendFn): void {
      const events = c.endAll(c.lastTime());
      remember(camera, c.snapshot());
      if (events.length) (send ?? ((m) => node.send(m)))([null, eventMsgs(events, camera), null]);
    }

    /**
     * Saves a camera's totals as the newest, keeping at most MAX_SAVED_CAMERAS: the oldest saved of
     * the cameras not held go first (key order is save order, except that names which are whole
     * numbers come first: those go first then).
     */
    function remember(camera: string, snap: CounterSnapshot): void {
      delete saved[camera];
      saved[camera] = snap;
      const keys = Object.keys(saved);
      let n = keys.length;
      for (const cam of keys) {
        if (n <= MAX_SAVED_CAMERAS) break;
        if (counters.has(cam)) continue;
        delete saved[cam];
        n--;
      }
    }

    function persist(): void {
      for (const [cam, c] of counters.entries()) saved[cam] = c.snapshot();
      safeSet('counts', saved);
    }

    function eventMsgs(events: VisionEvent[], camera: string): NodeMessage[] {
      publishLive(node.id, { events });
      return events.map((e) => ({ topic: camera, payload: e }));
    }

    function showCounts(camera: string, counts: Record<string, DirectionCounts>): void {
      const parts: string[] = [];
      for (const [name, v] of Object.entries(counts).slice(0, 2)) parts.push(`${name} in ${v.in} out ${v.out}`);
      status.set('running', `${camera}: ${parts.join(' · ') || 'no lines'}${drops.text()}`);
    }

    /** Zeroes totals: all cameras or one, all lines or some. A shift reset is all of them. */
    function resetAll(reason: string, lines: string[] | undefined, send: SendFn, camera?: string): void {
      const nowMs = Date.now();
      const events: NodeMessage[] = [];
      for (const [cam, c] of counters.entries()) {
        if (camera !== undefined && cam !== camera) continue;
        c.resetCounts(lines);
        events.push({ topic: cam, payload: { event: 'counts-reset', camera: cam, tMs: nowMs, reason, ...(lines ? { lines } : {}) } });
      }
      if (camera === undefined && lines === undefined) {
        // Cameras not seen since the restart still have saved totals: reset those too.
        for (const cam of Object.keys(saved)) if (!counters.has(cam)) delete saved[cam];
        lastResetMs = nowMs;
        safeSet('lastResetMs', lastResetMs);
      }
      persist();
      if (events.length) send([null, events, null]);
    }

    /**
     * New lines and zones (a config message, a dashboard's board): counters carry on with them, the
     * totals of lines that keep their name kept; stored in context, where a restart finds them.
     * Throws with the reason before anything changes.
     */
    function setGeometry(g: unknown): void {
      const text = geometryFromMessage(g);
      geometryText = text;
      for (const c of counters.values()) c.setGeometry(text);
      keptGeometry.save(text);
      persist();
    }

    // Lines and zones edited from a dashboard (nodes/shared/board.ts): audited, undoable.
    if (!configError) {
      node.boardEdits = new BoardEdits(node, {
        field: 'geometry',
        current: () => geometryText,
        apply: (text) => {
          setGeometry(text);
          status.force('running', 'geometry changed from a dashboard');
        },
        emit: (payload) => node.send([null, { topic: 'geometry', payload }, null]),
        loadHistory: () => safeGet('boardHistory'),
        saveHistory: (h) => safeSet('boardHistory', h),
      });
    }

    if (configError) {
      status.force('error', configError);
      node.error(`line-count: ${configError}`);
    } else {
      status.force('idle', 'waiting for frames');
    }

    // Checked on a timer (no frames at night) and on frames, at most once a second.
    let lastShiftCheck = -Infinity;
    function checkShift(send: SendFn): void {
      const now = Date.now();
      if (configError || shifts.length === 0 || now - lastShiftCheck < 1000) return;
      lastShiftCheck = now;
      if (shiftBoundaryCrossed(shifts, lastResetMs, now)) resetAll('shift', undefined, send);
    }
    const shiftTimer = setInterval(() => {
      checkShift((m) => node.send(m));
      // Cameras that stopped sending long ago: their counters are put away (totals kept).
      const idle = counters.sweep(Date.now());
      for (const e of idle) retire(e.camera, e.value);
      if (idle.length && !configError) persist();
    }, SHIFT_CHECK_MS);
    shiftTimer.unref();
    const metricsTimer =
      metricsMs > 0
        ? setInterval(() => {
            const now = Date.now();
            for (const [cam, c] of counters.entries()) {
              node.send([null, null, { topic: cam, payload: c.takeMetrics(now), counts: c.counts() }]);
            }
          }, metricsMs)
        : null;
    metricsTimer?.unref();

    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      if (configError) {
        status.force('error', configError);
        done(new Error(configError));
        return;
      }
      try {
        const kind = messageKind(msg);
        if (kind.kind === 'config') {
          // The payload is the whole geometry (a JSON text or the object).
          setGeometry(msg.payload);
          status.force('running', 'geometry replaced');
          done();
          return;
        }
        if (kind.kind === 'reset') {
          const arg = msg.payload && typeof msg.payload === 'object' ? msg.payload : {};
          const lines = Array.isArray(arg.lines) ? (arg.lines as unknown[]).map(String) : undefined;
          const camera = kind.camera;
          resetAll('message', lines, send, camera);
          status.force('running', `counts reset${camera ? ' for ' + camera : ''}${lines ? ': ' + lines.join(', ') : ''}`);
          done();
          return;
        }
        const p = msg.payload;
        if (kind.kind === 'event') {
          // Other events from vision-track's second output (track-start): nothing to count.
          done();
          return;
        }
        if (kind.kind === 'track-end' && p.trackId !== undefined) {
          const camera = String(p.camera ?? msg.topic ?? '');
          const c = counters.peek(camera);
          const tMs = Number.isFinite(p.tMs) ? Number(p.tMs) : Date.now();
          const events = c ? c.endTrack(Number(p.trackId), tMs) : [];
          if (events.length) send([null, eventMsgs(events, camera), null]);
          done();
          return;
        }
        if (kind.kind !== 'frame' || !p || typeof p !== 'object' || !Array.isArray(p.detections)) {
          throw new Error('expected a vision frame (msg.payload.detections from vision-track), a track-end event, or topic "config" / "reset"');
        }
        const frame = p.frame ?? {};
        const camera = String(p.camera ?? msg.topic ?? frame.camera ?? 'camera');
        const width = Number(frame.width);
        const height = Number(frame.height);
        if (!(width > 0) || !(height > 0))
          throw new Error('the vision frame has no frame.width / frame.height; line-count needs the frame size to place its lines');
        // msg.reset = true on a frame: reset that camera's totals, then count the frame. Only on a
        // frame that is accepted: a refused message changes nothing.
        if (kind.resetFirst) {
          counterFor(camera, send);
          resetAll('message', undefined, send, camera);
        }
        const tMs = Number.isFinite(frame.tMs) ? Number(frame.tMs) : Date.now();
        // Entries that are not detections are skipped and counted, and beyond the cap the lowest
        // scores are dropped, before the counter does any work.
        const b = boundDetections(p.detections, { maxDetections });
        drops.add(b);
        const c = counterFor(camera, send);
        checkShift(send);
        const r = c.update(b.detections, tMs, width, height);
        pictures.seen(camera, frame.camera);
        // The detections counted (bad entries and those over the cap are not sent on).
        const out: VisionFrame = { ...(p as VisionFrame), detections: b.detections, counts: r.counts, countsByClass: r.countsByClass, zones: r.zones };
        msg.payload = out;
        if (r.events.some((e) => e.event === 'line-crossing')) persist();
        send([msg, r.events.length ? eventMsgs(r.events, camera) : null, null]);
        // The dashboard widgets set to this node (nodes/shared/live-feed).
        publishLive(node.id, { frame: out });
        if (b.invalid) status.set('warning', `skipped ${b.firstInvalid}${drops.text()}`);
        else showCounts(camera, r.counts);
        done();
      } catch (e) {
        const reason = (e as Error).message;
        status.force('error', reason);
        done(e as Error);
      }
    });

    /** Cameras counted now, totals kept, and what the bounds did (for tests and dashboards). */
    node.countStats = () => ({
      cameras: counters.size,
      saved: Object.keys(saved).length,
      overCap: drops.overCap,
      invalid: drops.invalid,
      evictedCameras: drops.evictedCameras,
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(shiftTimer);
      if (metricsTimer) clearInterval(metricsTimer);
      if (!configError) persist();
      status.close();
      counters.clear();
      pictures.clear();
      done();
    });
  }

  registerSnapshotRoute(RED, 'vision-line-count');
  registerBoardRoutes(RED, 'vision-line-count');

  RED.nodes.registerType('vision-line-count', VisionLineCountNode);
};
