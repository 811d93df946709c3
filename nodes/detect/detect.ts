/**
 * vision-detect: reads each vision frame's pixels from the frame store, runs the vision-model's
 * detector and adds `detections` (source pixels) to the frame. Newest frame wins per camera: while
 * inference runs only the newest waiting message of each camera is kept, the others are dropped
 * (counted, done() called). Thresholds and filters change live with a `topic: "config"` message,
 * kept in node context so a restart keeps them.
 *
 * msg.payload may also be an encoded image (a JPEG/PNG/WebP Buffer from MQTT, HTTP or a file): it is
 * decoded in sharp's threads, put in the frame store under msg.topic (default "image") when its turn
 * comes, and leaves as an ordinary vision frame. Images are never dropped (an HTTP request waits for
 * its answer): they queue per topic, a few at a time, and one beyond that is refused with done(err).
 */
import { Red, Node, NodeMessage, SendFn, DoneFn } from '../shared/red';
import { NodeStatusReporter } from '../shared/node-status';
import { messageKind } from '../shared/message-kind';
import { KeptSettings, droppedText } from '../shared/kept-settings';
import { sharedFrameStore } from '../lib/frame-store';
import { Detection, FrameRef, VisionFrame } from '../lib/types';
import { DetectTiming, Detector } from '../lib/detect/detector';
import { DetectScheduler } from '../lib/detect/scheduler';
import { FilterOptions, ResolvedFilters, resolveFilters } from '../lib/detect/filters';
import { NmsOptions } from '../lib/detect/nms';
import { SourceImage } from '../lib/detect/letterbox';
import { DetectQueue } from '../lib/detect/waiting';
import { decodeImagePayload } from '../lib/detect/image-decode';
import { LoadedModel } from '../lib/model/loader';
import { VisionModelNode } from '../model/types';
import { MotionGate, MotionGateOptions, SkipOutbox } from '../lib/detect/motion';
import { CameraTable } from '../lib/camera-table';
import { MotionInfo } from '../lib/types';
import { DEFAULT_IMAGE_QUEUE, DetectConfig, readDetectConfig, readDetectPatch } from './config';

interface Job {
  msg: NodeMessage;
  send: SendFn;
  done: DoneFn;
  /** A camera frame: its pixels in the frame store. */
  ref?: FrameRef;
  /** An image message: stored under this camera id when its turn comes. */
  camera?: string;
  /** Arrival time (wall clock): the image's frame time. */
  tMs?: number;
  /** The decoded image, until it is put in the frame store. */
  image?: SourceImage;
  decodeMs?: number;
}

const CONTEXT_KEY = 'detectConfig';
/**
 * Frames of a paced camera (a file replayed at full speed) that may wait in order. Its source stays
 * within a few frames of detect, so more wait only once the pacer stopped waiting for detect; then
 * the oldest go, as they would leave the frame store's ring (8 frames) anyway.
 */
const PACED_FRAMES_WAITING = 6;
/** Camera id of an image message without msg.topic. */
const DEFAULT_IMAGE_TOPIC = 'image';

function isFrameRef(r: unknown): r is FrameRef {
  const f = r as FrameRef;
  return !!f && typeof f === 'object' && typeof f.camera === 'string' && Number.isInteger(f.seq) && Number.isInteger(f.width) && Number.isInteger(f.height);
}

/** A short status text for a refused payload. */
function refusedWhy(p: unknown): string {
  if (p === null || p === undefined) return 'refused: no msg.payload';
  if (typeof p !== 'object') return `refused: payload is a ${typeof p}, not a frame`;
  if (Array.isArray(p)) return 'refused: payload is an array, not a frame';
  return 'refused: payload.frame is not a frame reference';
}

/** "conf .5 person" — the thresholds in a few characters for the status. */
function filterText(f: ResolvedFilters): string {
  const c = (v: number) => String(+v.toFixed(2)).replace(/^0\./, '.');
  const per = Object.entries(f.classConf).map(([k, v]) => `${k}≥${c(v)}`);
  return [`conf ${c(f.conf)}`, ...per, f.classes.length ? f.classes.join(',') : ''].filter((s) => s).join(' ');
}

export = function (RED: Red) {
  function VisionDetectNode(this: Node, config: DetectConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const store = sharedFrameStore();
    const status = new NodeStatusReporter(node);
    const model = RED.nodes.getNode(config.model ?? '') as VisionModelNode | null;

    let configError: string | undefined;
    let base: ResolvedFilters | undefined;
    let nmsOptions: Required<NmsOptions> | undefined;
    let imageQueue = DEFAULT_IMAGE_QUEUE;
    let batchWaitMs = 0;
    let motionOptions: MotionGateOptions | null = null;
    try {
      if (!model || typeof model.acquire !== 'function') throw new Error('no vision-model selected');
      ({ filters: base, nms: nmsOptions, imageQueue, batchWaitMs, motion: motionOptions } = readDetectConfig(config));
    } catch (e) {
      configError = (e as Error).message;
    }

    // Runtime overrides from config messages, kept in node context. With a configured context store
    // they survive redeploys (and restarts, if the store is localfilesystem); without one Node-RED
    // drops a node's context whenever the node stops.
    let overrides: FilterOptions = {};
    let filters: ResolvedFilters | undefined = base;
    const keptFilters = new KeptSettings<FilterOptions>(node, CONTEXT_KEY, config);
    if (base) {
      const kept = keptFilters.load();
      if (kept.dropped) node.warn(droppedText('the detection settings'));
      const saved = kept.values;
      if (saved && typeof saved === 'object') {
        try {
          filters = resolveFilters(saved, base);
          overrides = saved;
        } catch (e) {
          node.warn(`ignoring the saved detection settings: ${(e as Error).message}`);
        }
      }
    }

    let detector: Detector | undefined;
    let loaded: LoadedModel | undefined;
    let loadError: string | undefined = configError;
    let provider = '';
    // Camera frames (newest wins per camera) and images (queued per topic), earliest first.
    const waiting = new DetectQueue<Job>(imageQueue);
    // Overlaps letterboxing the next frame with inference of the current one (see DetectScheduler).
    let scheduler: DetectScheduler<Job> | undefined;
    let closed = false;
    let processed = 0;
    let dropped = 0;
    // Motion gating (gateFrame below): a gate per camera, the still frames held behind a camera's
    // frame in the detector, and how many frames were skipped.
    const gates = new CameraTable<MotionGate>({});
    const outbox = new SkipOutbox<{ msg: NodeMessage; send: SendFn; done: DoneFn }>();
    let skippedStill = 0;
    let lastInferMs = 0;
    const outTimes: number[] = [];

    // The frame store forgets the least recently used camera beyond its limit; the first time an image
    // of ours does that, say so (a topic per image fills it).
    let storeEvictions = store.totals().evictedCameras;
    let warnedStore = false;
    function warnStoreEviction(): void {
      const n = store.totals().evictedCameras;
      if (n > storeEvictions && !warnedStore) {
        warnedStore = true;
        node.warn(
          `the frame store holds at most ${store.maxCameras} cameras: storing an image under a new topic pushed out the least recently used one. Is msg.topic a camera id? (warned once)`,
        );
      }
      storeEvictions = n;
    }

    function fail(reason: string) {
      loadError = reason;
      status.force('error', reason);
      node.error(`vision-detect: ${reason}`, { topic: node.name || node.id });
      for (const j of waiting.drain()) j.done(new Error(reason));
    }

    function showRunning() {
      const fps = outTimes.length > 1 ? ((outTimes.length - 1) * 1000) / (outTimes[outTimes.length - 1] - outTimes[0] || 1) : 0;
      const drops = (dropped ? ` drop ${dropped}` : '') + (skippedStill ? ` still ${skippedStill}` : '');
      status.set('running', `${provider} ${lastInferMs.toFixed(0)}ms ${fps.toFixed(1)}fps${drops} · ${filterText(filters!)}`);
    }

    let acquiring: Promise<unknown> = Promise.resolve();
    if (configError) {
      status.force('error', configError);
    } else {
      status.force('connecting', 'loading model');
      acquiring = model!
        .acquire(node)
        .then((m) => {
          loaded = m;
          if (closed) return;
          detector = new Detector(m.session.runner, m.spec, { filters: filters!, nms: nmsOptions });
          scheduler = new DetectScheduler<Job>(
            detector,
            { take: takeBatch, deliver, fail: failBatch, now: () => performance.now(), waiting: () => waiting.size },
            { batchWaitMs },
          );
          if (detector.unknownLabels.length) node.warn(`labels not in the model: ${detector.unknownLabels.join(', ')}`);
          provider = m.session.runner.provider;
          const fellBack = m.session.attempts.filter((a) => a.error);
          // A provider that is installed but failed to load is worth a warning; one whose libraries
          // this machine simply lacks (a CPU gateway asked for cuda) is only logged: the status says it.
          if (fellBack.some((a) => !a.skipped)) node.warn(`execution provider ${m.providerText}`);
          else if (fellBack.length) node.log(`execution provider ${m.providerText}`);
          status.force(
            'running',
            `ready · ${provider}${fellBack.length ? ` (${fellBack.map((a) => a.provider).join(',')} unavailable)` : ''} · ${filterText(filters!)}`,
          );
          pump();
        })
        .catch((e: Error) => {
          if (!closed) fail(e.message);
        });
    }

    /** A config message: its patch over the earlier ones (or none, on reset), checked by the engine. */
    function applyConfig(reset: boolean, patch: unknown): ResolvedFilters {
      const next: FilterOptions = reset ? {} : { ...overrides, ...readDetectPatch(patch) };
      const resolved = resolveFilters(next, base!); // throws with the reason; nothing changes then
      overrides = next;
      filters = resolved;
      if (detector) detector.setFilters({}, resolved);
      keptFilters.save(reset ? undefined : next);
      return resolved;
    }

    function takeBatch(max: number): { jobs: Job[]; frames: SourceImage[] } | null {
      const jobs: Job[] = [];
      const frames: SourceImage[] = [];
      const droppedBefore = dropped;
      while (jobs.length < max) {
        const [j] = waiting.take(1);
        if (!j) break;
        if (j.image) {
          // An image enters the frame store only now, so nothing can evict it before its turn.
          const img = j.image;
          j.image = undefined;
          const ref = store.put(j.camera!, img.data, img.width, img.height, j.tMs!, 'rgb24', Date.now());
          warnStoreEviction();
          const frame: VisionFrame = { camera: ref.camera, frame: ref, detections: [], timing: { decodeMs: j.decodeMs ?? 0 } };
          j.msg.topic = ref.camera;
          j.msg.payload = frame;
          jobs.push(j);
          frames.push(img);
          continue;
        }
        // Named: a file replayed at full speed waits for detect (the slowest stage that needs every frame).
        const frame = store.get(j.ref!, node.id);
        if (!frame) {
          // Evicted before its turn: a dropped frame, not an error (DESIGN.md, frame store).
          dropped++;
          j.done();
          continue;
        }
        jobs.push(j);
        frames.push({ data: frame.data, width: frame.ref.width, height: frame.ref.height, format: frame.ref.format });
      }
      if (jobs.length) return { jobs, frames };
      // Every waiting frame was evicted: nothing will be delivered, so show the drops now.
      if (dropped > droppedBefore) showRunning();
      return null;
    }

    function deliver(jobs: Job[], detections: Detection[][], timing: DetectTiming) {
      lastInferMs = timing.inferenceMs;
      const now = Date.now();
      jobs.forEach((j, i) => {
        const payload = j.msg.payload as VisionFrame;
        // Motion gating: the gate hears how many objects its frame had (new ones are confirmed faster).
        if (payload.motion && j.ref) gates.get(j.ref.camera, now)?.found(detections[i].length);
        j.msg.payload = {
          ...payload,
          detections: detections[i],
          timing: { ...(payload.timing ?? {}), ...timing, batch: jobs.length },
        };
        processed++;
        outTimes.push(now);
        j.send(j.msg);
        j.done();
      });
      while (outTimes.length > 20) outTimes.shift();
      showRunning();
    }

    function failBatch(jobs: Job[], e: Error) {
      const reason = `inference failed: ${e.message}`;
      status.force('error', reason);
      for (const j of jobs) j.done(new Error(reason));
    }

    function pump(): void {
      if (closed || !scheduler) return;
      scheduler.kick();
    }

    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      // A camera may be called "config" too: a message that carries a frame or an image is always one.
      const kind = messageKind(msg, { images: true });
      if (kind.kind === 'config') {
        if (configError) {
          done(new Error(configError));
          return;
        }
        try {
          const f = applyConfig(kind.reset, kind.reset ? undefined : kind.patch);
          status.force(detector ? 'running' : 'connecting', `config: ${filterText(f)}`);
          done();
        } catch (e) {
          status.force('warning', `config refused: ${(e as Error).message}`);
          done(e as Error);
        }
        return;
      }
      if (loadError) {
        status.force('error', loadError);
        done(new Error(loadError));
        return;
      }
      if (kind.kind === 'image') {
        acceptImage(msg, send, done);
        return;
      }
      const ref = (msg.payload as VisionFrame | undefined)?.frame;
      if (!isFrameRef(ref)) {
        status.force('error', refusedWhy(msg.payload));
        done(
          new Error('msg.payload must be a vision frame from vision-camera-source (with payload.frame, a frame reference) or a JPEG, PNG or WebP image Buffer'),
        );
        return;
      }
      // Frames larger than the model's input buy nothing here: a camera-source whose frame size
      // follows its readers scales to this (FrameStore.want).
      if (detector) store.want(ref.camera, node.id, Math.max(detector.spec.inputWidth, detector.spec.inputHeight));
      if (motionOptions && gateFrame(msg, ref, send, done)) return;
      // A file replayed at full speed waits for detect (the store's readers): its frames queue here in
      // order, each one detected. From a live source the newest frame wins (a slow model lags, not queues).
      const paced = store.isPaced(ref.camera);
      if (paced && !detector) store.expect(ref, node.id); // the model still loads: the replay waits for it
      const job = { msg, ref, send, done: motionOptions ? trackedDone(ref.camera, done) : done };
      for (const old of waiting.offerFrame(ref.camera, job, paced ? PACED_FRAMES_WAITING : 1)) {
        // Dropped: the older waiting frame of this camera, its message completed.
        dropped++;
        old.done();
      }
      pump();
    });

    // Motion-gated detection (off by default): per camera, a picture difference against the last
    // detected frame decides whether the detector runs (lib/detect/motion.ts). A still frame leaves
    // without detections and with payload.motion.skipped, for vision-track to carry its tracks
    // through; the outbox keeps it behind any earlier frame of its camera still in the detector.

    /** done() of a frame that went to the detector: lets a still frame held behind it go. */
    function trackedDone(camera: string, done: DoneFn): DoneFn {
      outbox.queued(camera);
      let called = false;
      return (err?: Error) => {
        if (!called) {
          called = true;
          const next = outbox.finished(camera);
          done(err);
          if (next) sendStill(next);
          return;
        }
        done(err);
      };
    }

    function sendStill(j: { msg: NodeMessage; send: SendFn; done: DoneFn }): void {
      if (closed) {
        j.done();
        return;
      }
      skippedStill++;
      j.send(j.msg);
      j.done();
      if (scheduler) showRunning();
    }

    /** True when the frame was handled here (still: sent or held); false: it goes to the detector. */
    function gateFrame(msg: NodeMessage, ref: FrameRef, send: SendFn, done: DoneFn): boolean {
      // Named: the gate reads every frame, as detect does (a full-speed replay waits for it).
      const f = store.get(ref, node.id);
      if (!f) return false; // evicted already: the detector's queue counts it as dropped
      const now = Date.now();
      let gate = gates.get(ref.camera, now);
      if (!gate) {
        gate = new MotionGate(motionOptions!);
        gates.set(ref.camera, gate, now);
      }
      const d = gate.decide(f.data, ref.width, ref.height, ref.tMs, ref.format);
      const motion: MotionInfo = { skipped: !d.detect, changed: Math.round(d.changed * 1e4) / 1e4, reason: d.reason };
      const payload = msg.payload as VisionFrame;
      msg.payload = { ...payload, motion };
      if (d.detect) {
        // Newer than a still frame held for this camera: that one is superseded (newest wins).
        const old = outbox.supersede(ref.camera);
        if (old) {
          dropped++;
          old.done();
        }
        return false;
      }
      msg.payload = { ...(msg.payload as VisionFrame), detections: [] };
      const job = { msg, send, done };
      const r = outbox.still(ref.camera, job);
      if (r.replaced) {
        dropped++;
        r.replaced.done();
      }
      if (r.now) sendStill(job);
      return true;
    }

    /** An image message: queued in its topic's turn, decoded meanwhile; refused when the queue is full or it is not an image. */
    function acceptImage(msg: NodeMessage, send: SendFn, done: DoneFn): void {
      const camera = msg.topic === undefined || msg.topic === null || String(msg.topic).trim() === '' ? DEFAULT_IMAGE_TOPIC : String(msg.topic);
      const job: Job = { msg, send, done, camera, tMs: Date.now() };
      const ticket = waiting.offerImage(camera, job);
      if (!ticket) {
        const reason =
          waiting.imagesWaiting(camera) >= imageQueue
            ? `image refused: ${imageQueue} images of "${camera}" are already waiting for the model`
            : `image refused: images of ${waiting.imageTopics} topics are already waiting for the model (is msg.topic a camera id?)`;
        status.force('error', reason);
        done(new Error(reason));
        return;
      }
      const t0 = performance.now();
      decodeImagePayload(msg.payload as Uint8Array).then(
        (img) => {
          job.decodeMs = performance.now() - t0;
          job.image = img;
          // False when the node closed or the model failed meanwhile: the message is already completed.
          if (waiting.ready(ticket)) pump();
        },
        (e: Error) => {
          if (!waiting.remove(ticket)) return;
          status.force('error', e.message);
          done(e);
        },
      );
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      store.forgetReader(node.id);
      for (const j of outbox.drain()) j.done();
      gates.clear();
      for (const j of waiting.drain()) j.done();
      status.close();
      // Release only after a load still in flight has settled, or the session it creates would leak.
      const idle = acquiring.catch(() => undefined).then(() => scheduler?.stop((jobs) => jobs.forEach((j) => j.done())));
      idle
        .catch(() => undefined)
        .then(() => (model && typeof model.release === 'function' ? model.release(node) : undefined))
        .catch((e: Error) => node.warn(`releasing the model: ${e.message}`))
        .then(() => done());
    });

    // Stats for tests and dashboards that look at the node object.
    node.detectStats = () => ({ processed, dropped, pending: waiting.size, provider, filters, loaded: !!loaded, skippedStill });
  }
  RED.nodes.registerType('vision-detect', VisionDetectNode);
};
