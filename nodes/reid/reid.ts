/**
 * vision-reid: one instance serves every camera. It computes appearance embeddings for tracked people
 * (an ONNX re-id model through a vision-model config node, or the built-in colour descriptor), keeps
 * a quality-gated moving average per track, and gives each track a global identity: a match in the
 * cross-camera gallery of ended tracks, else a new one. Adds `globalId` (and `embedding` where one was
 * computed this frame) to the detections; one `identity-join` event per join on output 2.
 * Detections without a trackId (the node wired before vision-track) get embeddings only, so
 * vision-track's appearance cost can use them. A `track-end` event from vision-track ends that track
 * at once; `topic: "reset"` forgets every track and the gallery.
 */
import { Red, Node, NodeMessage, SendFn, DoneFn } from '../shared/red';
import { NodeStatusReporter } from '../shared/node-status';
import { sharedFrameStore } from '../lib/frame-store';
import { Detection, VisionEvent, VisionFrame } from '../lib/types';
import { ColourEmbedder, Embedder, OnnxEmbedder } from '../lib/reid/embedder';
import { ReidEngine, ReidOptionsInput, JoinEvent } from '../lib/reid/engine';
import { EmbedderKind, ReidConfig, embedderOf, readReidConfig } from './config';
import { toMessageArray } from '../lib/vector';
import type { VisionModelNode } from '../model/types';
import { BoundedDetections, DropCounts, boundDetections } from '../lib/bounds';
import { messageKind } from '../shared/message-kind';

/** Frames waiting for embeddings beyond this are passed on with ids only (latency stays bounded). */
const MAX_QUEUE = 4;

function isVisionFrame(p: unknown): p is VisionFrame {
  const f = p as VisionFrame;
  return !!f && typeof f === 'object' && Array.isArray(f.detections);
}

function joinEvent(j: JoinEvent): VisionEvent {
  return { ...j };
}

interface Job {
  msg: NodeMessage;
  send: SendFn;
  done: DoneFn;
  camera: string;
  /** The frame's detections after the bounds (valid ones, at most the cap). */
  dets: Detection[];
  /** Why some of its detections were skipped (the status says it instead of the figures). */
  warn?: string;
}

export = function (RED: Red) {
  function VisionReidNode(this: Node, config: ReidConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const store = sharedFrameStore();
    const status = new NodeStatusReporter(node);
    let configError: string | undefined;
    let kind: EmbedderKind = 'colour';
    let modelNode: VisionModelNode | null = null;
    let options: ReidOptionsInput = {};
    // Off by default: after vision-track, untracked boxes (emit "all") would be embedded for nothing.
    let embedUntracked = false;
    let outputEmbeddings = true;
    let maxDetections = 0;
    try {
      kind = embedderOf(config);
      if (kind === 'onnx') modelNode = RED.nodes.getNode(config.model ?? '') as VisionModelNode | null;
      if (kind === 'onnx' && (!modelNode || typeof modelNode.acquireEmbedding !== 'function'))
        throw new Error('no vision-model selected (or choose the built-in colour descriptor)');
      ({ options, embedUntracked, outputEmbeddings, maxDetections } = readReidConfig(config, kind));
    } catch (e) {
      configError = (e as Error).message;
    }

    let embedder: Embedder | undefined;
    let engine: ReidEngine | undefined;
    let loadError: string | undefined = configError;
    let closed = false;
    let dropped = 0;
    let skipped = 0;
    const drops = new DropCounts();
    const queue: Job[] = [];
    let running = false;

    function ready(e: Embedder) {
      embedder = e;
      engine = new ReidEngine(e.dim, options);
      status.force('running', `ready · ${e.description}`);
      pump();
    }

    function fail(reason: string) {
      loadError = reason;
      status.force('error', reason);
      node.error(`vision-reid: ${reason}`, { topic: node.name || node.id });
      while (queue.length) queue.shift()!.done(new Error(reason));
    }

    if (configError) {
      status.force('error', configError);
    } else if (kind === 'colour') {
      ready(new ColourEmbedder());
    } else {
      status.force('connecting', 'loading re-id model');
      modelNode!
        .acquireEmbedding(node)
        .then((m) => {
          if (closed) return;
          const name = m.file
            .split(/[\\/]/)
            .pop()!
            .replace(/\.onnx$/, '');
          ready(new OnnxEmbedder(m.session.runner, m.spec, `${name} ${m.session.runner.provider}`));
        })
        .catch((e: Error) => {
          if (!closed) fail(e.message);
        });
    }

    function statusText(): string {
      const s = engine!.stats();
      // The bounds' counts first: the status line is cut at 60 characters.
      return `${s.tracks} tracks${drops.text()} · ${s.gallery} in gallery · ${s.joins} joins · ${embedder!.description}${dropped ? ` · ${dropped} frames gone` : ''}${skipped ? ` · ${skipped} busy` : ''}`;
    }

    async function handle(job: Job, withEmbeddings: boolean): Promise<void> {
      const frame = job.msg.payload as VisionFrame;
      const dets = job.dets;
      const tRaw = frame.frame?.tMs;
      const tMs = typeof tRaw === 'number' && Number.isFinite(tRaw) ? tRaw : Date.now();
      // Unnamed: re-id skips frames while busy, so it must not pace a replay (detect does).
      // Leased: crops are cut between inference runs (after awaits), and pooled pixels are reused
      // once the frame leaves the ring unless a lease holds them.
      const lease = frame.frame && withEmbeddings ? store.lease(frame.frame) : undefined;
      // Crops of people want every pixel there is: a camera-source that follows its readers keeps
      // the full frame for this camera (FrameStore.want, 0 = full resolution).
      if (frame.frame && withEmbeddings) store.want(frame.frame.camera, node.id, 0);
      const pixels = lease?.frame;
      if (frame.frame && withEmbeddings && !pixels) dropped++;
      const width = frame.frame?.width ?? pixels?.ref.width ?? 0;
      const height = frame.frame?.height ?? pixels?.ref.height ?? 0;
      const eng = engine!;
      let want: number[] = [];
      if (pixels && width && height) {
        want = eng.select(job.camera, dets, width, height);
        if (embedUntracked) {
          const q = eng.quality(dets, width, height);
          dets.forEach((d, i) => {
            if (typeof d.trackId !== 'number' && !Array.isArray(d.embedding) && q[i] === 'ok') want.push(i);
          });
        }
      }
      const img = pixels ? { data: pixels.data, width: pixels.ref.width, height: pixels.ref.height, format: pixels.ref.format } : undefined;
      let vecs: Float32Array[];
      try {
        vecs =
          want.length && img
            ? await embedder!.embed(
                img,
                want.map((i) => dets[i].box),
              )
            : [];
      } finally {
        lease?.done();
      }
      const computed = new Map(want.map((i, k) => [i, vecs[k]]));
      const u = eng.update(job.camera, tMs, dets, computed, width || 1, height || 1);
      const out = dets.map((d, i) => {
        const extra: Partial<Detection> = {};
        if (u.globalIds[i] !== undefined) extra.globalId = u.globalIds[i];
        const v = computed.get(i);
        if (v && outputEmbeddings) extra.embedding = toMessageArray(v);
        return Object.keys(extra).length ? { ...d, ...extra } : d;
      });
      job.msg.payload = { ...frame, detections: out };
      const events = u.joins.map((j) => ({ topic: job.camera, payload: joinEvent(j) }));
      job.send([job.msg, events.length ? events : null]);
      if (job.warn) status.set('warning', `${job.warn}${drops.text()}`);
      else status.set('running', statusText());
      job.done();
    }

    async function pump(): Promise<void> {
      if (running || !engine) return;
      running = true;
      try {
        while (queue.length && !closed) {
          const job = queue.shift()!;
          // Behind by more than a few frames: keep ids flowing, skip the embeddings of this one.
          const behind = queue.length >= MAX_QUEUE;
          if (behind) skipped++;
          try {
            await handle(job, !behind);
          } catch (e) {
            const reason = (e as Error).message;
            status.force('error', reason);
            job.done(e as Error);
          }
        }
      } finally {
        running = false;
      }
    }

    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      const p = msg.payload as Record<string, unknown> | undefined;
      const what = messageKind(msg);
      if (what.kind === 'reset') {
        if (engine) engine = new ReidEngine(embedder!.dim, options);
        status.force(engine ? 'running' : 'idle', 'reset: tracks and gallery forgotten');
        done();
        return;
      }
      if (loadError) {
        status.force('error', loadError);
        done(new Error(loadError));
        return;
      }
      const camera = typeof msg.topic === 'string' && msg.topic ? msg.topic : (p?.camera as string | undefined);
      if (what.kind === 'track-end' && p) {
        // vision-track's end event: the identity goes to the gallery now rather than after the timeout.
        if (engine && typeof p.trackId === 'number' && typeof (p.camera ?? camera) === 'string') engine.endTrack(String(p.camera ?? camera), p.trackId);
        done();
        return;
      }
      if (what.kind === 'event') {
        // Other events from the same wire (track-start, …) carry nothing reid needs: ignore them,
        // so vision-track's whole events output can be wired in.
        done();
        return;
      }
      if (!isVisionFrame(p)) {
        status.force('error', 'not a vision frame');
        done(new Error('msg.payload must be a vision frame with a detections array (from vision-track), or a track-end event'));
        return;
      }
      if (typeof camera !== 'string' || !camera) {
        status.force('error', 'no camera id');
        done(new Error('msg.topic (or msg.payload.camera) must name the camera'));
        return;
      }
      // Entries that are not detections are skipped and counted, and beyond the cap the lowest scores
      // are dropped, before any work (embeddings, quality, matching) is done for them.
      let b: BoundedDetections;
      try {
        b = boundDetections(p.detections, { maxDetections });
      } catch (e) {
        status.force('error', (e as Error).message);
        done(e as Error);
        return;
      }
      drops.add(b);
      queue.push({ msg, send, done, camera, dets: b.detections, ...(b.invalid ? { warn: `skipped ${b.firstInvalid}` } : {}) });
      void pump();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      status.close();
      for (const j of queue.splice(0)) j.done();
      store.forgetReader(node.id); // its frame-size need goes with it
      const release = modelNode && typeof modelNode.release === 'function' ? modelNode.release(node) : Promise.resolve();
      Promise.resolve(release)
        .catch((e) => node.warn(`releasing the re-id model: ${(e as Error).message}`))
        .then(() => {
          engine = undefined;
          done();
        });
    });

    node.reidStats = () => (engine ? engine.stats() : undefined);
    node.reidDrops = () => ({ overCap: drops.overCap, invalid: drops.invalid });
    node.reidEmbedder = () => embedder?.description;
  }
  RED.nodes.registerType('vision-reid', VisionReidNode);
};
