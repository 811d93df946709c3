/**
 * vision-reid: one instance serves every camera. It computes appearance embeddings for tracked people
 * (an ONNX re-id model through a vision-model config node, or the built-in colour descriptor), keeps
 * a quality-gated moving average per track, and gives each track a global identity: provisional at
 * first, then matched (one assignment over all open tracks) to the gallery of ended tracks or to a live
 * track of an overlapping camera, and revisable while the track lives. Adds `globalId` (`provisional`
 * while undecided, and `embedding` where one was computed this frame) to the detections; one
 * `identity-join` or `identity-split` event per change on output 2. The join threshold calibrates
 * itself from the deployment's own pairs; the calibration is kept in node context and shown by
 * `GET <admin>/vision-reid/:id/calibration`.
 * Detections without a trackId (the node wired before vision-track) get embeddings only, so
 * vision-track's appearance cost can use them. A `track-end` event from vision-track ends that track
 * at once; `topic: "reset"` forgets every track and the gallery.
 */
import { Red, Node, NodeMessage, SendFn, DoneFn } from '../shared/red';
import { NodeStatusReporter } from '../shared/node-status';
import { sharedFrameStore } from '../lib/frame-store';
import { Detection, VisionEvent, VisionFrame } from '../lib/types';
import { ColourEmbedder, Embedder, OnnxEmbedder } from '../lib/reid/embedder';
import { ReidEngine, ReidOptionsInput, JoinEvent, SplitEvent } from '../lib/reid/engine';
import { EmbedderKind, ReidConfig, ReidShareConfig, ReidShareSettings, embedderOf, readReidConfig, readShareConfig } from './config';
import { EndedTrack, FloorProjector, LiveTrack, TrackTap, modelIdOf, remoteCamera, remoteTrackKey, toRecord } from '../lib/reid/exchange';
import { FloorMap } from '../lib/reid/floor-map';
import { IdentityShare } from './share';
import { FloorSource, registerFloorRoutes, registerShareRoute } from './floor-route';
import { toMessageArray } from '../lib/vector';
import type { VisionModelNode } from '../model/types';
import type { Request, Response } from 'express';
import { BoundedDetections, DropCounts, boundDetections } from '../lib/bounds';
import { messageKind } from '../shared/message-kind';
import { publishLive } from '../shared/live-feed';

/** Frames waiting for embeddings beyond this are passed on with ids only (latency stays bounded). */
const MAX_QUEUE = 4;

function isVisionFrame(p: unknown): p is VisionFrame {
  const f = p as VisionFrame;
  return !!f && typeof f === 'object' && Array.isArray(f.detections);
}

function identityEvent(j: JoinEvent | SplitEvent): VisionEvent {
  return { ...j };
}

/** How often the learnt calibration is written to node context (and on close). */
const PERSIST_MS = 60_000;
const CALIBRATION_KEY = 'calibration';

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
  const floorSources = new Map<string, FloorSource>();
  registerFloorRoutes(RED, floorSources);
  registerShareRoute(RED);

  function VisionReidNode(this: Node, config: ReidConfig & ReidShareConfig) {
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
    let shareSettings: ReidShareSettings | undefined;
    let modelName = '';
    try {
      kind = embedderOf(config);
      if (kind === 'onnx') modelNode = RED.nodes.getNode(config.model ?? '') as VisionModelNode | null;
      if (kind === 'onnx' && (!modelNode || typeof modelNode.acquireEmbedding !== 'function'))
        throw new Error('no vision-model selected (or choose the built-in colour descriptor)');
      ({ options, embedUntracked, outputEmbeddings, maxDetections } = readReidConfig(config, kind));
      shareSettings = readShareConfig(config);
      // Ids minted here must not collide with another gateway's: "<gateway>:p1".
      if (shareSettings && options.idPrefix === undefined) options = { ...options, idPrefix: `${shareSettings.gateway}:p` };
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
    // Floor positions (calibrated cameras) and the identity exchange: adapters around the engine.
    let projector = new FloorProjector();
    const floorMap = new FloorMap();
    let tap: TrackTap | undefined;
    let share: IdentityShare | undefined;

    function publish(ended: readonly (EndedTrack | undefined)[]) {
      if (!share) return;
      for (const e of ended) if (e) share.publish(toRecord(e, share.settings.gateway, share.modelId));
    }

    function shareLive(live: readonly LiveTrack[]) {
      if (!share) return;
      for (const e of live) share.publishLive(toRecord(e, share.settings.gateway, share.modelId));
    }

    function startShare(e: Embedder, s: ReidShareSettings) {
      const creds = node.credentials ?? {};
      let tls: Record<string, unknown> | undefined;
      if (s.tlsNode) {
        const t = RED.nodes.getNode(s.tlsNode) as { addTLSOptions?: (o: Record<string, unknown>) => void } | null;
        if (!t || typeof t.addTLSOptions !== 'function') throw new Error('the TLS configuration chosen for MQTT is not deployed');
        tls = {};
        t.addTLSOptions(tls);
      }
      const eng = engine!;
      const o = eng.options;
      tap = new TrackTap(
        { momentum: o.momentum, trackTimeoutMs: o.trackTimeoutMs, maxTracks: o.maxTracks, minSamples: o.minSamples, liveEveryMs: s.liveEveryMs },
        projector,
      );
      share = new IdentityShare(
        { ...s, clientSuffix: node.id, username: creds.mqttUser || undefined, password: creds.mqttPassword || undefined, tls },
        modelIdOf(e.kind, e.dim, modelName),
        e.dim,
        (r, accepted) => {
          if (!engine) return;
          const key = remoteTrackKey(r);
          // Another gateway's live track: a column like a live track of an overlapping camera here.
          if (r.state === 'live') {
            const camera = remoteCamera(r);
            engine.observeRemote({
              key,
              globalId: r.globalId,
              camera,
              firstMs: r.firstMs,
              lastMs: r.endMs,
              embedding: r.embedding,
              floor: r.floor,
              olderOnTie: r.gateway < s.gateway,
            });
            return;
          }
          // Its ended track: no longer live; a new one enters the gallery like a local one (same rules decide a join).
          engine.endRemote(key);
          if (accepted) engine.addToGallery({ globalId: r.globalId, camera: remoteCamera(r), endMs: r.endMs, floor: r.floor }, r.embedding);
        },
        () => {
          if (engine && embedder) status.set(share!.stats().state === 'connected' ? 'running' : 'warning', statusText());
        },
      );
      share.start();
    }

    const ctx = node.context();
    let persistTimer: ReturnType<typeof setInterval> | undefined;

    function newEngine(dim: number): ReidEngine {
      const eng = new ReidEngine(dim, options);
      let stored: unknown;
      try {
        stored = ctx.get(CALIBRATION_KEY);
      } catch {
        stored = undefined;
      }
      // A calibration learnt with another embedder (another dimension, other scores) does not apply.
      const snap = stored as { dim?: number; kind?: string; calibration?: unknown } | undefined;
      if (snap && snap.dim === dim && snap.kind === kind) {
        try {
          eng.calibration.restore(snap.calibration);
        } catch (e) {
          node.warn(`vision-reid: stored calibration ignored: ${(e as Error).message}`);
        }
      }
      return eng;
    }

    /** Writes the calibration to context; `always` false skips an engine that has learnt nothing yet (a stored one stays). */
    function persist(always = true): void {
      if (!engine) return;
      const st = engine.calibration.state();
      if (!always && !st.negatives && !st.positives) return;
      try {
        ctx.set(CALIBRATION_KEY, { dim: engine.dim, kind, calibration: engine.calibration.snapshot() });
      } catch (e) {
        node.warn(`vision-reid: cannot store the calibration in context: ${(e as Error).message}`);
      }
    }

    function ready(e: Embedder) {
      embedder = e;
      engine = newEngine(e.dim);
      projector = new FloorProjector(engine.options.calibrations);
      const areas = Object.entries(engine.options.calibrations).map(([camera, c]) => ({ camera, floor: c.floor.map((p) => [p[0], p[1]] as [number, number]) }));
      if (areas.length) floorSources.set(node.id, { id: node.id, name: node.name || '', map: floorMap, areas });
      if (shareSettings) {
        try {
          startShare(e, shareSettings);
        } catch (err) {
          fail((err as Error).message);
          return;
        }
      }
      const c = engine.calibration.state();
      status.force('running', `ready · ${e.description} · threshold ${engine.threshold()}${c.mode === 'learnt' ? ' learnt' : ''}`);
      persistTimer = setInterval(() => persist(false), PERSIST_MS);
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
          modelName = name;
          ready(new OnnxEmbedder(m.session.runner, m.spec, `${name} ${m.session.runner.provider}`));
        })
        .catch((e: Error) => {
          if (!closed) fail(e.message);
        });
    }

    function statusText(): string {
      const s = engine!.stats();
      // The bounds' counts first: the status line is cut at 60 characters.
      const thr = `≥${s.threshold.toFixed(2)} ${engine!.options.calibrate === 'off' ? 'fixed' : s.calibrated ? 'learnt' : 'learning'}`;
      const text = `${s.tracks} tracks${drops.text()} · ${s.joins} joins${s.splits ? ` · ${s.splits} splits` : ''} · ${thr} · ${embedder!.description} · ${s.gallery} in gallery${dropped ? ` · ${dropped} frames gone` : ''}${skipped ? ` · ${skipped} busy` : ''}`;
      if (!share) return text;
      // A broker problem goes first (yellow status), the exchange's figures last.
      return share.stats().state === 'connected' ? `${text} · ${share.brief()}` : `${share.brief()} · ${text}`;
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
      if (tap) {
        const vecs = new Map<number, ArrayLike<number>>();
        for (const i of u.sampled) {
          const v = computed.get(i) ?? dets[i].embedding;
          if (v) vecs.set(i, v);
        }
        publish(tap.observe(job.camera, tMs, dets, vecs, u.globalIds));
        shareLive(tap.dueLive(tMs));
      }
      const onFloor: { globalId: string; floor: [number, number]; trackId?: number }[] = [];
      const out = dets.map((d, i) => {
        const extra: Partial<Detection> & { floor?: [number, number] } = {};
        if (u.globalIds[i] !== undefined) extra.globalId = u.globalIds[i];
        if (u.provisional[i]) extra.provisional = true;
        const f = projector.has(job.camera) ? projector.project(job.camera, d.box) : undefined;
        if (f) {
          extra.floor = f;
          if (extra.globalId) onFloor.push({ globalId: extra.globalId, floor: f, trackId: d.trackId });
        }
        const v = computed.get(i);
        if (v && outputEmbeddings) extra.embedding = toMessageArray(v);
        return Object.keys(extra).length ? { ...d, ...extra } : d;
      });
      if (projector.has(job.camera)) floorMap.update(job.camera, tMs, Date.now(), onFloor);
      job.msg.payload = { ...frame, detections: out };
      // The floor-map widget (vision-ui-floor) set to this node redraws from reidFloor() on this.
      if (projector.has(job.camera)) publishLive(node.id, { frame: job.msg.payload as VisionFrame });
      const events = [...u.splits, ...u.joins].map((j) => ({ topic: j.camera, payload: identityEvent(j) }));
      job.send([job.msg, events.length ? events : null]);
      if (job.warn) status.set('warning', `${job.warn}${drops.text()}`);
      else status.set(share && share.stats().state !== 'connected' ? 'warning' : 'running', statusText());
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
        // The learnt calibration is knowledge of the site, kept across a reset unless asked to forget it.
        const forget = !!p && typeof p === 'object' && (p as { calibration?: unknown }).calibration === true;
        if (engine) {
          const old = engine;
          old.endAll();
          persist(false);
          engine = new ReidEngine(embedder!.dim, options);
          if (!forget) engine.calibration.restore(old.calibration.snapshot());
          persist();
        }
        tap?.clear();
        floorMap.clear();
        publishLive(node.id, {});
        status.force(engine ? 'running' : 'idle', forget ? 'reset: tracks, gallery and calibration forgotten' : 'reset: tracks and gallery forgotten');
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
        if (engine && typeof p.trackId === 'number' && typeof (p.camera ?? camera) === 'string') {
          engine.endTrack(String(p.camera ?? camera), p.trackId);
          publish([tap?.end(String(p.camera ?? camera), p.trackId)]);
        }
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
      if (persistTimer) clearInterval(persistTimer);
      engine?.endAll();
      persist(false);
      status.close();
      for (const j of queue.splice(0)) j.done();
      floorSources.delete(node.id);
      store.forgetReader(node.id); // its frame-size need goes with it
      const leaving = share ? share.close() : Promise.resolve();
      share = undefined;
      const release = modelNode && typeof modelNode.release === 'function' ? modelNode.release(node) : Promise.resolve();
      Promise.all([release, leaving])
        .catch((e) => node.warn(`releasing the re-id model: ${(e as Error).message}`))
        .then(() => {
          engine = undefined;
          done();
        });
    });

    node.reidStats = () => (engine ? engine.stats() : undefined);
    node.reidCalibration = () =>
      engine
        ? {
            embedder: embedder?.description,
            calibrate: engine.options.calibrate,
            ...engine.calibration.state(),
            inUse: engine.threshold(),
            histograms: engine.calibration.histograms(),
          }
        : undefined;
    /** Live tracks with global ids and floor positions (a floor map, another gateway). */
    node.reidLive = () => (engine ? engine.liveIdentities() : []);
    node.reidEngine = () => engine;
    node.reidDrops = () => ({ overCap: drops.overCap, invalid: drops.invalid });
    node.reidEmbedder = () => embedder?.description;
    node.reidShare = () => share?.stats();
    // Who is on the floor now, for vision-ui-floor (undefined: no camera of this node is calibrated).
    node.reidFloor = () => {
      const src = floorSources.get(node.id);
      if (!src) return undefined;
      const now = Date.now();
      return { tMs: now, people: src.map.snapshot(now), areas: src.areas };
    };
  }
  // The calibration of a deployed node, for the editor and for people checking a site: the threshold
  // in use, how many same/different pairs it rests on, and both score histograms.
  if (RED.httpAdmin) {
    const perm = RED.auth?.needsPermission ? RED.auth.needsPermission('vision-reid.read') : (_q: unknown, _s: unknown, next: () => void) => next();
    RED.httpAdmin.get('/vision-reid/:id/calibration', perm, (req: Request, res: Response) => {
      const n = RED.nodes.getNode(req.params.id) as Node | null;
      const c = n && typeof n.reidCalibration === 'function' ? n.reidCalibration() : undefined;
      if (!c) {
        res.status(404).json({ error: 'this vision-reid node is not deployed or its embedder is not ready yet' });
        return;
      }
      res.set('Cache-Control', 'no-store');
      res.json(c);
    });
  }
  RED.nodes.registerType('vision-reid', VisionReidNode, { credentials: { mqttUser: { type: 'text' }, mqttPassword: { type: 'password' } } });
};
