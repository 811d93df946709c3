/**
 * vision-productivity-state: tracks in, working / idle / absent per workstation and worker out, with
 * KPIs per worker, station and factory. Thin glue over nodes/lib/productivity (the engine), which
 * holds every rule; this file coerces the editor config, routes messages and reads the clock.
 */
import { Red, Node, NodeMessage } from '../shared/red';
import { NodeStatusReporter } from '../shared/node-status';
import { ThrottledSave } from '../shared/throttled-save';
import { PictureCameras, registerSnapshotRoute } from '../shared/snapshot';
import { BoardEdits, registerBoardRoutes } from '../shared/board';
import { FrameLease, sharedFrameStore } from '../lib/frame-store';
import { Frame, FrameRef, VisionFrame } from '../lib/types';
import { EngineEvent, KpiReport, ProductivityEngine } from '../lib/productivity/engine';
import { DEFAULT_OPTIONS } from '../lib/productivity/options';
import { DropCounts, boundDetections } from '../lib/bounds';
import { CameraTable, DEFAULT_CAMERA_IDLE_MS, DEFAULT_MAX_CAMERAS } from '../lib/camera-table';
import { blank, requiredNumber } from '../shared/config';
import { messageKind } from '../shared/message-kind';
import { KeptSettings, droppedText } from '../shared/kept-settings';
import { publishLive } from '../shared/live-feed';
import { Patch, readProductivityConfig, readProductivityPatch, toOptions } from './config';

/** Node-context key of the engine's snapshot (states, timelines, KPIs). */
const STATE_KEY = 'state';
const SAVE_EVERY_MS = 5000;

function isVisionFrame(p: unknown): p is VisionFrame {
  const f = p as VisionFrame;
  return !!f && typeof f === 'object' && !!f.frame && typeof f.frame === 'object' && Array.isArray(f.detections);
}

export = function (RED: Red) {
  function VisionProductivityStateNode(this: Node, config: Record<string, unknown>) {
    RED.nodes.createNode(this, config);
    const node = this;
    const status = new NodeStatusReporter(node);
    const store = sharedFrameStore();
    // The engine keeps each camera's previous frame to difference the next one against. Its pixels
    // are leased until the next frame replaces them: a pooled buffer is reused once its frame leaves
    // the store's ring, unless a lease holds it.
    const held = new Map<string, FrameLease>();
    function forgetCamera(camera: string): void {
      engine?.forgetCamera(camera);
      held.get(camera)?.done();
      held.delete(camera);
    }
    const ctx = node.context();
    let engine: ProductivityEngine | null = null;
    let base: Patch = {};
    let overrides: Record<string, unknown> = {};
    let maxDetections = 0;
    // The cameras the engine keeps state for (model health, the frame kept for differencing), by last
    // frame: the least recently seen is forgotten beyond DEFAULT_MAX_CAMERAS, an idle one after a while.
    const cameras = new CameraTable<true>({ maxCameras: DEFAULT_MAX_CAMERAS, idleMs: DEFAULT_CAMERA_IDLE_MS });
    const drops = new DropCounts();
    let warnedEviction = false;
    // Settings and stations changed at run time (config messages, a dashboard's board), until the editor's change.
    const keptConfig = new KeptSettings<Record<string, unknown>>(node, 'config', config);
    try {
      ({ options: base, maxDetections } = readProductivityConfig(config));
      engine = new ProductivityEngine(base);
      const kept = keptConfig.load();
      if (kept.dropped) node.warn(droppedText('the settings and stations'));
      const saved = kept.values;
      if (saved && typeof saved === 'object') {
        try {
          engine.configure(toOptions(saved as Record<string, unknown>, true));
          overrides = { ...(saved as Record<string, unknown>) };
        } catch (e) {
          node.warn(`saved runtime settings ignored: ${(e as Error).message}`);
        }
      }
      // States, timelines and KPIs carry on over a restart or redeploy (with a persistent context
      // store: the gateway's, or contextStorage localfilesystem in the user's settings.js).
      const restored = engine.restore(ctx.get(STATE_KEY));
      const now = Date.now();
      for (const cam of engine.cameraNames()) for (const e of cameras.set(cam, true, now)) forgetCamera(e.camera);
      status.force('idle', `${engine.stationNames().length} stations · ${restored.stations ? `restored ${restored.stations} · ` : ''}waiting for frames`);
    } catch (e) {
      status.force('error', (e as Error).message);
      node.error(`productivity-state: ${(e as Error).message}`);
    }

    // Stations edited from a dashboard (nodes/shared/board.ts), as a config message {stations} would:
    // kept with the other runtime settings in context; audited, undoable.
    if (engine) {
      // What the engine runs on (the editor's stations, or a config message's, or a board's).
      const stationsText = (): string => JSON.stringify({ zones: engine!.options.stations });
      node.boardEdits = new BoardEdits(node, {
        field: 'stations',
        current: stationsText,
        apply: (text) => {
          const patch = { stations: text };
          engine!.configure(readProductivityPatch(patch));
          overrides = { ...overrides, ...patch };
          keptConfig.save(overrides);
          status.force('running', 'stations changed from a dashboard');
        },
        emit: (payload) => node.send([null, { topic: 'stations', payload }, null]),
        loadHistory: () => ctx.get('boardHistory'),
        saveHistory: (h) => ctx.set('boardHistory', h),
      });
    }

    function eventMsgs(events: EngineEvent[], reports: KpiReport[]): NodeMessage[] {
      // The dashboard widgets set to this node (nodes/shared/live-feed).
      if (events.length) publishLive(node.id, { events });
      for (const r of reports) publishLive(node.id, { kpi: r });
      return [...events.map((ev) => ({ topic: ev.camera, payload: ev })), ...reports.map((r) => ({ topic: 'kpi', payload: r }))];
    }

    function showStatus(stations: Record<string, { state: string }>) {
      const n = { working: 0, idle: 0, absent: 0 } as Record<string, number>;
      for (const s of Object.values(stations)) n[s.state] = (n[s.state] ?? 0) + 1;
      const drift = engine!.driftingCameras();
      const text = `${n.working} working · ${n.idle} idle · ${n.absent} absent${drops.text()}`;
      if (drift.length) status.set('warning', `${text} · low confidence: ${drift.join(', ')}`);
      else status.set('running', text);
    }

    // The cameras whose newest frame the editor's drawing board may show (to draw stations on).
    const pictures = new PictureCameras(node);

    // Cameras that stopped sending long ago are forgotten (stations and workers stay).
    const sweeper = setInterval(() => {
      for (const e of cameras.sweep(Date.now())) forgetCamera(e.camera);
    }, 30_000);
    sweeper.unref();

    // The engine's state goes to context at most every SAVE_EVERY_MS (and once more after a burst)
    // and on close: a hard kill loses at most that much, plus the context store's own flush interval
    // (the gateway's: 5 s; localfilesystem's default: 30 s).
    const saver = new ThrottledSave(SAVE_EVERY_MS, () => {
      if (!engine) return;
      try {
        ctx.set(STATE_KEY, engine.snapshot());
      } catch (e) {
        node.warn(`cannot keep the KPI state in context: ${(e as Error).message}`);
      }
    });

    node.on('input', (msg, send, done) => {
      if (!engine) {
        done(new Error('productivity-state is not configured: fix the node settings and deploy'));
        return;
      }
      const rx = Date.now();
      try {
        const p = msg.payload;
        const kind = messageKind(msg);
        if (kind.kind === 'config') {
          if (kind.reset) {
            // Back to the editor's values; states and KPIs carry on.
            engine.configure({ ...DEFAULT_OPTIONS, ...base });
            overrides = {};
            keptConfig.save(undefined);
            status.force('idle', 'settings reset to the editor values');
            done();
            return;
          }
          const patch = kind.patch as Record<string, unknown>;
          engine.configure(readProductivityPatch(patch));
          overrides = { ...overrides, ...patch };
          keptConfig.save(overrides);
          status.force('running', `settings changed: ${Object.keys(patch).join(', ')}`.slice(0, 60));
          done();
          return;
        }
        // A vision frame is a frame whatever its topic (a camera may be called "units" too).
        if (kind.kind !== 'frame' && msg.topic === 'units') {
          const o = p && typeof p === 'object' ? (p as Record<string, unknown>) : {};
          const count =
            typeof p === 'number' ? p : o.count === undefined ? (blank(p) ? 1 : requiredNumber(p, 'units payload')) : requiredNumber(o.count, 'count');
          const station = (msg.station ?? o.station) as string | undefined;
          const tMs = (msg.tMs ?? o.tMs) as number | undefined;
          const sourceId = (msg.unitId ?? o.unitId) as string | undefined;
          engine.addUnits({ station, count, tMs, rxMs: rx, sourceId });
          saver.save();
          done();
          return;
        }
        if (kind.kind !== 'frame' && msg.topic === 'activity') {
          const o = p && typeof p === 'object' ? (p as Record<string, unknown>) : null;
          engine.setExternal((msg.station ?? o?.station) as string | undefined, o ? o.value : p);
          done();
          return;
        }
        if (kind.kind !== 'frame' && msg.topic === 'kpi') {
          const r = engine.kpis(rx);
          if (r) send([null, { topic: 'kpi', payload: r }, { topic: 'metrics', payload: engine.kpiPoints(r) }]);
          if (r) publishLive(node.id, { kpi: r });
          done();
          return;
        }
        if (kind.kind === 'event' && kind.event === 'line-crossing') {
          engine.addCrossing(p as Record<string, unknown>, rx);
          saver.save();
          done();
          return;
        }
        if (!isVisionFrame(p)) {
          throw new Error(
            'expected a vision frame (payload.frame + payload.detections), a line-crossing event, or topic "units", "activity", "config" or "kpi"',
          );
        }
        const ref = p.frame as FrameRef;
        const camera = typeof p.camera === 'string' && p.camera ? p.camera : ref.camera;
        if (typeof camera !== 'string' || !camera) throw new Error('the vision frame names no camera (payload.camera or payload.frame.camera)');
        if (typeof ref.tMs !== 'number' || !Number.isFinite(ref.tMs)) throw new Error('the vision frame has no frame.tMs (a finite frame time in ms)');
        if (!(Number(ref.width) > 0 && Number(ref.height) > 0)) throw new Error('the vision frame has no frame.width / frame.height');
        // Entries that are not detections are skipped and counted, and beyond the cap the lowest scores
        // are dropped, before the engine does any work.
        const b = boundDetections(p.detections, { maxDetections });
        drops.add(b);
        const evicted = cameras.get(camera, rx) ? [] : cameras.set(camera, true, rx);
        for (const e of evicted) forgetCamera(e.camera);
        if (evicted.length) {
          drops.evicted(evicted.length);
          if (!warnedEviction) {
            warnedEviction = true;
            node.warn(
              `more than ${DEFAULT_MAX_CAMERAS} cameras: the state of the least recently seen ("${evicted[0].camera}") was dropped. Is the frame's camera id right? (warned once; the status counts them)`,
            );
          }
        }
        // A frame that has left the store is no motion reading for this frame, not an error. Named:
        // a motion reading wants every frame, so a full-speed file replay waits for it too.
        const lease = engine.needsPixels ? store.lease(ref, node.id) : undefined;
        const pixels: Frame | undefined = lease?.frame;
        let res: ReturnType<ProductivityEngine['processFrame']>;
        try {
          res = engine.processFrame({
            camera,
            tMs: ref.tMs,
            width: Number(ref.width),
            height: Number(ref.height),
            detections: b.detections,
            pixels: pixels ?? null,
            rxMs: rx,
          });
        } catch (e) {
          lease?.done();
          throw e;
        }
        if (lease) {
          // The engine now differences against this frame: hold it, let the one before go.
          held.get(camera)?.done();
          held.set(camera, lease);
        }
        pictures.seen(camera, ref.camera);
        msg.payload = { ...p, ...(b.detections !== p.detections ? { detections: b.detections } : {}), stations: res.stations };
        const evs = eventMsgs(res.events, res.reports);
        send([msg, evs.length ? evs : null, res.points.length ? { topic: 'metrics', payload: res.points } : null]);
        publishLive(node.id, { frame: msg.payload });
        if (b.invalid) status.set('warning', `skipped ${b.firstInvalid}${drops.text()}`);
        else showStatus(res.stations);
        saver.save();
        done();
      } catch (e) {
        status.force('error', (e as Error).message);
        done(e as Error);
      }
    });

    /** Cameras held by the engine and what the bounds did (for tests and dashboards). */
    node.productivityStats = () => ({
      cameras: engine ? engine.stats.cameras : 0,
      workers: engine ? engine.stats.workers : 0,
      overCap: drops.overCap,
      invalid: drops.invalid,
      evictedCameras: drops.evictedCameras,
    });

    node.on('close', (removed: boolean, done: () => void) => {
      // A node deleted from the flow takes its state with it; a redeploy or a stop keeps it.
      if (removed) {
        saver.cancel();
        ctx.set(STATE_KEY, undefined);
      } else saver.flush();
      status.close();
      clearInterval(sweeper);
      cameras.clear();
      pictures.clear();
      for (const l of held.values()) l.done();
      held.clear();
      store.forgetReader(node.id);
      engine = null;
      done();
    });
  }
  registerSnapshotRoute(RED, 'vision-productivity-state');
  registerBoardRoutes(RED, 'vision-productivity-state');
  RED.nodes.registerType('vision-productivity-state', VisionProductivityStateNode);
};
