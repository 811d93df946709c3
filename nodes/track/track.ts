/**
 * vision-track: one ByteTrack-style tracker per camera (msg.topic). Sets trackId, trackState,
 * velocity and ageMs on the frame's detections; sends a track-start event when a track is confirmed
 * and a track-end event (first and last seen, path length) when it is removed, on output 2.
 * `topic: "reset"` (payload: a camera id, or nothing for every camera) or `msg.reset: true` clears
 * trackers; `topic: "config"` changes tracker options at run time, kept in node context.
 */
import { Red, Node, NodeMessage, SendFn, DoneFn } from '../shared/red';
import { NodeStatusReporter } from '../shared/node-status';
import { messageKind } from '../shared/message-kind';
import { KeptSettings, droppedText } from '../shared/kept-settings';
import { Detection, MotionInfo, VisionFrame, VisionEvent } from '../lib/types';
import { TrackEmit, annotateDetections, coastedDetections } from '../lib/tracking/annotate';
import { Tracker, TrackEvent, TrackerOptionsInput, resolveTrackerOptions } from '../lib/tracking/tracker';
import { DropCounts, boundDetections } from '../lib/bounds';
import { CameraTable, DEFAULT_CAMERA_IDLE_MS, DEFAULT_MAX_CAMERAS } from '../lib/camera-table';
import { TrackConfig, readTrackConfig, readTrackPatch } from './config';

interface Camera {
  tracker: Tracker;
  lastTMs: number;
  lastWallMs: number;
}

const CONTEXT_KEY = 'trackConfig';
/** A camera whose frames stopped this long ago (wall clock) has its tracks ended. */
const IDLE_CAMERA_MS = 5 * 60 * 1000;
/** … and after this long its tracker is forgotten too (the cameras table's idle time). */
const FORGET_CAMERA_MS = DEFAULT_CAMERA_IDLE_MS;

function isVisionFrame(p: unknown): p is VisionFrame {
  const f = p as VisionFrame;
  return !!f && typeof f === 'object' && Array.isArray(f.detections);
}

function toVisionEvent(e: TrackEvent, camera: string): VisionEvent {
  return {
    event: e.kind === 'start' ? 'track-start' : 'track-end',
    camera,
    tMs: e.tMs,
    trackId: e.trackId,
    classId: e.classId,
    label: e.label,
    firstSeenMs: e.firstSeenMs,
    lastSeenMs: e.lastSeenMs,
    durationMs: e.lastSeenMs - e.firstSeenMs,
    pathLengthPx: Math.round(e.pathLengthPx * 10) / 10,
    hits: e.hits,
    box: e.box,
    ...(e.reason ? { reason: e.reason } : {}),
  };
}

export = function (RED: Red) {
  function VisionTrackNode(this: Node, config: TrackConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const status = new NodeStatusReporter(node);

    let configError: string | undefined;
    let emit: TrackEmit = 'all';
    let smooth = true;
    let base: TrackerOptionsInput = {};
    let options: TrackerOptionsInput = {};
    // The config messages' settings in force (over `base`), as kept in context.
    let overrides: TrackerOptionsInput = {};
    let maxDetections = 0;
    // Settings changed by config messages, until the editor's change.
    const keptOptions = new KeptSettings<TrackerOptionsInput>(node, CONTEXT_KEY, config);
    try {
      ({ tracker: base, emit, smooth, maxDetections } = readTrackConfig(config));
      options = base;
      const kept = keptOptions.load();
      if (kept.dropped) node.warn(droppedText('the tracker settings'));
      const saved = kept.values;
      if (saved && typeof saved === 'object') {
        try {
          resolveTrackerOptions({ ...base, ...saved });
          options = { ...base, ...saved };
          overrides = saved;
        } catch (e) {
          node.warn(`ignoring the saved tracker settings: ${(e as Error).message}`);
        }
      }
    } catch (e) {
      configError = (e as Error).message;
    }

    // One tracker per camera, the least recently used evicted beyond DEFAULT_MAX_CAMERAS, forgotten
    // after FORGET_CAMERA_MS without frames.
    const cameras = new CameraTable<Camera>({ maxCameras: DEFAULT_MAX_CAMERAS, idleMs: FORGET_CAMERA_MS });
    // A camera whose tracker was forgotten and comes back continues above every id handed out before,
    // so an id never names two objects for the stages downstream that remember ids.
    let idFloor = 1;
    let warnedEviction = false;
    let restarts = 0;
    const drops = new DropCounts();

    function activeText(): string {
      let confirmed = 0;
      let lost = 0;
      for (const c of cameras.values()) {
        const s = c.tracker.stats();
        confirmed += s.confirmed;
        lost += s.lost;
      }
      const cams = cameras.size === 1 ? '1 camera' : `${cameras.size} cameras`;
      return `${confirmed} active${lost ? `, ${lost} lost` : ''}${drops.text()} · ${cams}${restarts ? ` · ${restarts} restarts` : ''}`;
    }

    /** A tracker is forgotten: its tracks end (as lost) and its ids stay used. */
    function forget(cam: string, c: Camera, reason: 'idle' | 'cap'): NodeMessage[] {
      idFloor = Math.max(idFloor, c.tracker.stats().nextId);
      if (reason === 'cap') {
        drops.evicted(1);
        if (!warnedEviction) {
          warnedEviction = true;
          node.warn(
            `more than ${DEFAULT_MAX_CAMERAS} cameras: the tracker of the least recently seen ("${cam}") was dropped. Is msg.topic the camera id? (warned once; the status counts them)`,
          );
        }
      }
      if (!Number.isFinite(c.lastTMs)) return []; // reset since its last frame: nothing to end
      return eventMessages(c.tracker.reset(c.lastTMs + c.tracker.options.lostBufferS * 1000 + 1, 'lost'), cam);
    }

    function eventMessages(events: TrackEvent[], camera: string): NodeMessage[] {
      return events.map((e) => ({ topic: camera, payload: toVisionEvent(e, camera) }));
    }

    /**
     * Ends one camera's tracks (or every camera's) and returns the end-event messages. The tracker
     * instance stays, so its ids keep counting and an id never names two objects.
     */
    function resetCameras(camera: string | undefined): NodeMessage[] {
      const out: NodeMessage[] = [];
      for (const [cam, c] of cameras.entries()) {
        if (camera !== undefined && cam !== camera) continue;
        out.push(...eventMessages(c.tracker.reset(c.lastTMs), cam));
        c.lastTMs = -Infinity;
      }
      return out;
    }

    /** A reset message (no frame): ends the camera's tracks (every camera's without one) and acknowledges. */
    function resetOnly(camera: string | undefined, send: SendFn, done: DoneFn): void {
      const ended = resetCameras(camera);
      if (ended.length) send([null, ended]);
      status.force(cameras.size ? 'running' : 'idle', `reset ${camera ?? 'all cameras'}`);
      done();
    }

    // Cameras that stopped sending: end their tracks as the lost buffer would have (their state is
    // freed with them; the empty tracker stays to keep counting ids).
    const sweeper = setInterval(() => {
      const now = Date.now();
      const out: NodeMessage[] = [];
      for (const e of cameras.sweep(now)) out.push(...forget(e.camera, e.value, 'idle'));
      for (const [cam, c] of cameras.entries()) {
        if (now - c.lastWallMs < IDLE_CAMERA_MS || c.tracker.stats().total === 0) continue;
        // Ended as lost, at the time the lost buffer would have run out; the tracker's clock is not
        // moved, so the source may resume from its last frame time.
        out.push(...eventMessages(c.tracker.reset(c.lastTMs + c.tracker.options.lostBufferS * 1000 + 1, 'lost'), cam));
      }
      if (out.length) {
        node.send([null, out]);
        status.set('running', activeText());
      }
    }, 30 * 1000);
    sweeper.unref();

    if (configError) status.force('error', configError);
    else status.force('idle', 'waiting for frames');

    function annotate(frame: VisionFrame, dets: Detection[], camera: string, tMs: number): { payload: VisionFrame; events: NodeMessage[] } {
      const now = Date.now();
      let cam = cameras.get(camera, now);
      const events: NodeMessage[] = [];
      if (cam && tMs < cam.lastTMs) {
        // Time went back: a looping file or a restarted source. Start again rather than fail every frame.
        events.push(...resetCameras(camera));
        restarts++;
      }
      if (!cam) {
        cam = { tracker: new Tracker({ ...options, firstId: Math.max(idFloor, options.firstId ?? 1) }), lastTMs: tMs, lastWallMs: now };
        for (const e of cameras.set(camera, cam, now)) events.push(...forget(e.camera, e.value, 'cap'));
      }
      // A frame vision-detect skipped because nothing moved (motion gating): tracks ride their
      // Kalman prediction through it, and nothing starts, ends or is missed.
      const still = (frame.motion as MotionInfo | undefined)?.skipped === true;
      if (still) {
        const tracks = cam.tracker.coast(tMs);
        cam.lastTMs = tMs;
        cam.lastWallMs = Date.now();
        return { payload: { ...frame, detections: coastedDetections(tracks) }, events };
      }
      const u = cam.tracker.update(dets, tMs);
      cam.lastTMs = tMs;
      cam.lastWallMs = Date.now();
      const out = annotateDetections(dets, u.tracks, { emit, smooth });
      events.push(...eventMessages([...u.started, ...u.ended], camera));
      return { payload: { ...frame, detections: out }, events };
    }

    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      const kind = messageKind(msg);
      if (kind.kind === 'config') {
        if (configError) {
          done(new Error(configError));
          return;
        }
        try {
          const next = kind.reset ? {} : { ...overrides, ...readTrackPatch(kind.patch) };
          resolveTrackerOptions({ ...base, ...next }); // throws with the reason; nothing changes then
          options = { ...base, ...next };
          overrides = next;
          keptOptions.save(kind.reset ? undefined : next);
          // New options apply to fresh trackers: end the current tracks cleanly; ids keep counting.
          const ended = resetCameras(undefined);
          for (const c of cameras.values()) c.tracker = new Tracker({ ...options, firstId: c.tracker.stats().nextId });
          if (ended.length) send([null, ended]);
          status.force('idle', `config applied · waiting for frames`);
          done();
        } catch (e) {
          status.force('warning', `config refused: ${(e as Error).message}`);
          done(e as Error);
        }
        return;
      }
      if (kind.kind === 'reset') {
        resetOnly(kind.camera, send, done);
        return;
      }
      if (configError) {
        status.force('error', configError);
        done(new Error(configError));
        return;
      }
      const camera = typeof msg.topic === 'string' && msg.topic ? msg.topic : (msg.payload as VisionFrame | undefined)?.camera;
      const resetFirst = kind.resetFirst;
      if (resetFirst && !isVisionFrame(msg.payload)) {
        resetOnly(camera, send, done);
        return;
      }
      if (!isVisionFrame(msg.payload)) {
        const reason = 'msg.payload must be a vision frame with a detections array (from vision-detect)';
        status.force('error', 'not a vision frame');
        done(new Error(reason));
        return;
      }
      if (typeof camera !== 'string' || !camera) {
        status.force('error', 'no camera id');
        done(new Error('msg.topic (or msg.payload.camera) must name the camera'));
        return;
      }
      const frame = msg.payload as VisionFrame;
      const tRaw = frame.frame?.tMs;
      // Frame time drives the lost buffer; without one, fall back to the arrival time.
      const tMs = typeof tRaw === 'number' && Number.isFinite(tRaw) ? tRaw : Date.now();
      try {
        // Entries that are not detections are skipped and counted, and beyond the cap the lowest
        // scores are dropped, before the tracker does any work.
        const b = boundDetections(frame.detections, { maxDetections });
        drops.add(b);
        const pre = resetFirst ? resetCameras(camera) : [];
        const { payload, events } = annotate(frame, b.detections, camera, tMs);
        msg.payload = payload;
        const ev = [...pre, ...events];
        send([msg, ev.length ? ev : null]);
        if (b.invalid) status.set('warning', `skipped ${b.firstInvalid}${drops.text()}`);
        else status.set('running', activeText());
        done();
      } catch (e) {
        const reason = (e as Error).message;
        status.force('error', reason);
        done(e as Error);
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(sweeper);
      cameras.clear();
      status.close();
      done();
    });

    /** What the bounds did: detections dropped over the cap, skipped as bad, trackers evicted. */
    node.trackDrops = () => ({ overCap: drops.overCap, invalid: drops.invalid, evictedCameras: drops.evictedCameras, cameras: cameras.size });
    node.trackStats = () => {
      const out: Record<string, ReturnType<Tracker['stats']>> = {};
      for (const [cam, c] of cameras.entries()) out[cam] = c.tracker.stats();
      return out;
    };
  }
  RED.nodes.registerType('vision-track', VisionTrackNode);
};
