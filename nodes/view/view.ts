/**
 * vision-view: the annotated picture for people — boxes, track ids, lines with their counts, zones with
 * their occupancy, stations coloured by state — drawn over the frame store's pixels, resized for the
 * browser and served over HTTP (Node-RED's httpNode):
 *   /vision-view/<camera>.mjpg  MJPEG stream (multipart/x-mixed-replace), for <img src=…>
 *   /vision-view/<camera>.jpg   one JPEG of the latest frame
 * Frames are encoded only while someone watches (or asks for a snapshot, or *Send JPEG* is on: then
 * each encoded frame also leaves on the output for MQTT, a file or an email), at most `maxFps` a
 * second, and never more than one at a time per camera: the newest frame wins, so a slow browser or a
 * busy gateway never queues frames. Resizing and JPEG encoding run in sharp's worker threads; the overlay
 * is painted into the resized RGB pixels on the event loop (a few ms per encoded frame: see raster.ts).
 */
import type { Request, Response } from 'express';
import { Red, Node, NodeMessage, SendFn, DoneFn } from '../shared/red';
import { NodeStatusReporter } from '../shared/node-status';
import { sharedFrameStore } from '../lib/frame-store';
import { VisionFrame } from '../lib/types';
import { OverlayFrame, RateGate, mjpegPartHeader, viewCaption } from '../lib/view/overlay';
import { ViewSettings, renderView } from '../lib/view/render';
import { DropCounts, boundDetections } from '../lib/bounds';
import { CameraTable, DEFAULT_CAMERA_IDLE_MS, DEFAULT_MAX_CAMERAS } from '../lib/camera-table';
import { maxDetections as readMaxDetections } from '../shared/config';
import { messageKind } from '../shared/message-kind';
import { KeptSettings, droppedText } from '../shared/kept-settings';
import { SETTING_KEYS, readViewConfig, readViewPatch } from './config';

const BOUNDARY = 'edgevisionframe';
/** Cameras one node serves; more is a wiring mistake (a per-frame topic), not a plant. */
const MAX_CAMERAS = DEFAULT_MAX_CAMERAS;

interface Client {
  res: Response;
  /** The socket buffer is full: skip frames for this viewer until it drains. */
  busy: boolean;
}

/** One camera's view, owned by one vision-view node. */
interface CameraView {
  camera: string;
  owner: string;
  latest: VisionFrame | null;
  /** The message that brought `latest`: its other properties go out with the JPEG (Send JPEG). */
  latestMsg: NodeMessage | null;
  clients: Set<Client>;
  gate: RateGate;
  encoding: boolean;
  /** A frame arrived while encoding: encode again when done (newest wins). */
  again: boolean;
  /** `latest` has not been encoded yet (so a late timer never encodes, nor sends, a frame twice). */
  fresh: boolean;
  /** A frame arrived before the rate allows: encode the newest when it does. */
  timer: NodeJS.Timeout | null;
  lastJpeg: Buffer | null;
  encoded: number;
  /** Frames drawn on a newer frame than their boxes because theirs had left the store. */
  approx: number;
  encodeMsEma: number;
  /** This view's own encoding rate (pictures a second), shown in its status as such. */
  fpsEma: number;
  lastEncodeAt: number;
  /** The latest frame drawn and encoded now, or null when its pixels (and any like them) are gone. */
  render(): Promise<Buffer | null>;
  /** render(), or the last picture when there is nothing new to draw (viewers and snapshots). */
  encode(): Promise<Buffer | null>;
}

interface Registry {
  cameras: Map<string, CameraView>;
}

// One registry per HTTP app: the route is added once, views come and go with deploys.
const registries = new WeakMap<object, Registry>();

function registryFor(RED: Red): Registry | null {
  const app = RED.httpNode;
  if (!app || typeof app.get !== 'function') return null;
  const reg = registries.get(app);
  if (reg) return reg;
  const r: Registry = { cameras: new Map() };
  registries.set(app, r);
  app.get('/vision-view/:file', (req: Request, res: Response) => {
    const m = /^(.+)\.(mjpg|jpg)$/.exec(String(req.params.file || ''));
    const cv = m ? r.cameras.get(m[1]) : undefined;
    if (!m || !cv) {
      res
        .status(404)
        .type('text/plain')
        .send(`no vision-view node serves camera "${m ? m[1] : req.params.file}" (use /vision-view/<camera>.mjpg or .jpg)`);
      return;
    }
    if (m[2] === 'jpg') {
      cv.encode().then(
        (jpeg) => {
          if (!jpeg) res.status(503).type('text/plain').send(`no frame from camera "${cv.camera}" yet`);
          else res.set({ 'Content-Type': 'image/jpeg', 'Cache-Control': 'no-cache, no-store' }).send(jpeg);
        },
        (err: Error) => res.status(500).type('text/plain').send(err.message),
      );
      return;
    }
    res.writeHead(200, {
      'Content-Type': `multipart/x-mixed-replace; boundary=${BOUNDARY}`,
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      Pragma: 'no-cache',
      Connection: 'close',
    });
    const client: Client = { res, busy: false };
    cv.clients.add(client);
    res.on('drain', () => (client.busy = false));
    req.on('close', () => cv.clients.delete(client));
    // Show the last picture at once rather than a blank box until the next frame.
    if (cv.lastJpeg) writePart(client, cv.lastJpeg);
  });
  return r;
}

function writePart(c: Client, jpeg: Buffer): void {
  if (c.busy) return;
  c.res.write(mjpegPartHeader(BOUNDARY, jpeg.length));
  c.res.write(jpeg);
  if (!c.res.write('\r\n')) c.busy = true;
}

export = function (RED: Red) {
  function VisionViewNode(this: Node, config: Record<string, unknown>) {
    RED.nodes.createNode(this, config);
    const node = this;
    const store = sharedFrameStore();
    const status = new NodeStatusReporter(node);
    const fixedCamera = String(config.camera || '').trim();
    const reg = registryFor(RED);
    const editor: Record<string, unknown> = {};
    for (const k of SETTING_KEYS) editor[k] = config[k];

    let overrides: Record<string, unknown> = {};
    // Settings changed by config messages, until the editor's change.
    const keptView = new KeptSettings<Record<string, unknown>>(node, 'viewConfig', config);
    let settings: ViewSettings | null = null;
    let configError = '';
    let maxDetections = 0;
    try {
      maxDetections = readMaxDetections(config.maxDetections);
      const kept = keptView.load();
      if (kept.dropped) node.warn(droppedText('the view settings'));
      const saved = kept.values;
      if (saved && typeof saved === 'object') {
        try {
          settings = readViewConfig({ ...editor, ...saved });
          overrides = saved as Record<string, unknown>;
        } catch (e) {
          node.warn(`saved view settings ignored: ${(e as Error).message}`);
        }
      }
      if (!settings) settings = readViewConfig(editor);
    } catch (e) {
      configError = (e as Error).message;
      status.force('error', configError);
    }
    // One view per camera: the least recently fed evicted beyond MAX_CAMERAS, an idle one (no frame for
    // a while and nobody watching) forgotten.
    const views = new CameraTable<CameraView>({ maxCameras: MAX_CAMERAS, idleMs: DEFAULT_CAMERA_IDLE_MS });
    const drops = new DropCounts();
    let warnedEviction = false;
    /** Why the newest frame had detections skipped ('' when it had none): the status says it until a clean frame. */
    let warning = '';

    function makeView(camera: string): CameraView {
      const cv: CameraView = {
        camera,
        owner: node.id,
        latest: null,
        latestMsg: null,
        clients: new Set(),
        gate: new RateGate(settings!.maxFps),
        encoding: false,
        again: false,
        fresh: false,
        timer: null,
        lastJpeg: null,
        encoded: 0,
        approx: 0,
        encodeMsEma: 0,
        fpsEma: 0,
        lastEncodeAt: 0,
        encode() {
          return cv.render().then((jpeg) => jpeg ?? cv.lastJpeg);
        },
        async render() {
          const p = cv.latest;
          if (!p || !settings) return null;
          // Unnamed: a view samples the newest pixels at its own rate and must not pace a replay.
          // Leased: the encoder reads the pixels after an await, and pooled pixels are reused once
          // the frame leaves the ring, unless a lease holds them.
          let lease = store.lease(p.frame);
          if (!lease) {
            // Its frame already left the ring (the source runs ahead of the detector): draw on the
            // newest pixels of the same size rather than show nothing.
            const l = store.latest(camera);
            if (!l || l.ref.width !== p.frame.width || l.ref.height !== p.frame.height) return null;
            lease = store.lease(l.ref);
            if (!lease) return null;
            cv.approx++;
          }
          const f = lease.frame;
          const t0 = performance.now();
          // The camera's own measured rate, carried on its frames: the figure its status shows too.
          const caption = viewCaption(camera, p.fps);
          const overlay: OverlayFrame = {
            camera,
            width: p.frame.width,
            height: p.frame.height,
            detections: Array.isArray(p.detections) ? p.detections : [],
            counts: p.counts as OverlayFrame['counts'],
            zones: p.zones as OverlayFrame['zones'],
            stations: p.stations as OverlayFrame['stations'],
          };
          let jpeg: Buffer;
          try {
            jpeg = await renderView(f.data, f.ref, overlay, settings, caption);
          } finally {
            lease.done();
          }
          const ms = performance.now() - t0;
          cv.encodeMsEma = cv.encodeMsEma ? cv.encodeMsEma * 0.9 + ms * 0.1 : ms;
          cv.lastJpeg = jpeg;
          cv.encoded++;
          return jpeg;
        },
      };
      return cv;
    }

    function viewFor(camera: string): CameraView {
      const now = Date.now();
      let cv = views.get(camera, now);
      if (cv) return cv;
      if (reg) {
        const other = reg.cameras.get(camera);
        if (other && other.owner !== node.id) node.warn(`camera "${camera}" was served by another vision-view node; this one serves it now`);
      }
      cv = makeView(camera);
      const evicted = views.set(camera, cv, now);
      reg?.cameras.set(camera, cv);
      for (const e of evicted) drop(e.value);
      if (evicted.length) {
        drops.evicted(evicted.length);
        if (!warnedEviction) {
          warnedEviction = true;
          node.warn(
            `more than ${MAX_CAMERAS} cameras: the view of the least recently seen ("${evicted[0].camera}") was dropped. Is msg.topic the camera id? (warned once; the status counts them)`,
          );
        }
      }
      return cv;
    }
    if (fixedCamera && !configError) viewFor(fixedCamera);

    /** A view leaves: its timer stops, its viewers' streams end, its URL is no longer served. */
    function drop(cv: CameraView): void {
      if (cv.timer) clearTimeout(cv.timer);
      cv.timer = null;
      for (const c of cv.clients) {
        try {
          c.res.end();
        } catch {
          /* the viewer went away */
        }
      }
      cv.clients.clear();
      if (reg && reg.cameras.get(cv.camera) === cv) reg.cameras.delete(cv.camera);
    }

    function pump(cv: CameraView): void {
      if (!cv.fresh || (cv.clients.size === 0 && !settings?.sendJpeg)) return;
      if (cv.encoding) {
        cv.again = true;
        return;
      }
      const now = Date.now();
      if (!cv.gate.ready(now)) {
        // Without this, frames arriving every 143 ms under a 200 ms limit would show every other one.
        if (!cv.timer) {
          cv.timer = setTimeout(() => {
            cv.timer = null;
            pump(cv);
          }, cv.gate.waitMs(now));
        }
        return;
      }
      cv.gate.mark(now);
      cv.encoding = true;
      cv.again = false;
      cv.fresh = false;
      // render() reads cv.latest before its first await: this is the message of the frame it draws.
      const msg = cv.latestMsg;
      const frame = cv.latest?.frame;
      const caption = settings?.caption ? viewCaption(cv.camera, cv.latest?.fps) : '';
      cv.render().then(
        (jpeg) => {
          cv.encoding = false;
          if (jpeg) {
            if (cv.lastEncodeAt) {
              const inst = 1000 / Math.max(1, now - cv.lastEncodeAt);
              cv.fpsEma = cv.fpsEma ? cv.fpsEma * 0.8 + inst * 0.2 : inst;
            }
            cv.lastEncodeAt = now;
            for (const c of cv.clients) writePart(c, jpeg);
            if (settings?.sendJpeg && msg) node.send({ ...msg, topic: cv.camera, payload: jpeg, contentType: 'image/jpeg', frame, caption });
          }
          showStatus();
          if (cv.again) setImmediate(() => pump(cv));
        },
        (err: Error) => {
          cv.encoding = false;
          status.set('error', `encoding failed: ${err.message}`);
          node.error(`camera "${cv.camera}": encoding failed: ${err.message}`, { topic: cv.camera });
        },
      );
    }

    function showStatus(): void {
      let viewers = 0;
      let fps = 0;
      let ms = 0;
      const sending = !!settings?.sendJpeg;
      for (const cv of views.values()) {
        viewers += cv.clients.size;
        fps += cv.clients.size || sending ? cv.fpsEma : 0;
        ms = Math.max(ms, cv.encodeMsEma);
      }
      const watching = `${viewers} viewer${viewers === 1 ? '' : 's'}`;
      // The view's own rate of pictures, labelled as such: the camera's rate is in the caption.
      const extra = drops.text();
      if (warning) status.set('warning', `${warning}${extra}`);
      // Drops first: a status line is cut at 60 characters.
      else if (sending) status.set('running', `sending JPEG${extra} · encodes ${fps.toFixed(1)}/s · ${ms.toFixed(0)} ms · ${watching}`);
      else if (viewers === 0) status.set('idle', `${views.size} camera${views.size === 1 ? '' : 's'} · no viewers${extra}`);
      else status.set('running', `${watching}${extra} · encodes ${fps.toFixed(1)}/s · ${ms.toFixed(0)} ms`);
    }
    if (!configError) status.force('idle', fixedCamera ? `/vision-view/${fixedCamera}.mjpg · no viewers` : 'waiting for frames');
    const statusTimer = setInterval(() => {
      // Views without frames for a while and without viewers are forgotten; one being watched stays
      // (its viewers keep the last picture) and is looked at again next time.
      const now = Date.now();
      for (const e of views.sweep(now)) {
        if (e.value.clients.size || e.camera === fixedCamera) views.set(e.camera, e.value, now);
        else drop(e.value);
      }
      showStatus();
    }, 2000);
    statusTimer.unref();

    /** A config message: its settings over the earlier ones (or none, on reset), over the editor's. */
    function applyConfig(reset: boolean, patch: unknown): void {
      if (reset) {
        settings = readViewConfig(editor);
        overrides = {};
      } else {
        const next = { ...overrides, ...readViewPatch(patch) };
        settings = readViewConfig({ ...editor, ...next });
        overrides = next;
      }
      configError = '';
      for (const cv of views.values()) cv.gate = new RateGate(settings.maxFps);
      keptView.save(reset ? undefined : overrides);
    }

    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      try {
        const kind = messageKind(msg);
        if (kind.kind === 'config') {
          applyConfig(kind.reset, kind.reset ? undefined : kind.patch);
          status.force('idle', 'settings updated');
          done();
          return;
        }
        if (configError) throw new Error(configError);
        if (kind.kind !== 'frame' && msg.topic === 'snapshot') {
          const cam = String(
            (msg.payload && msg.payload.camera) || (typeof msg.payload === 'string' && msg.payload) || fixedCamera || [...views.keys()][0] || '',
          );
          const cv = views.peek(cam);
          if (!cv) throw new Error(`no frames seen for camera "${cam}"`);
          cv.encode().then(
            (jpeg) => {
              if (!jpeg) return done(new Error(`no frame from camera "${cam}" yet`));
              send({ ...msg, topic: cam, payload: jpeg, contentType: 'image/jpeg' });
              done();
            },
            (err: Error) => done(err),
          );
          return;
        }
        const p = msg.payload as VisionFrame;
        if (!p || typeof p !== 'object' || !p.frame || typeof p.frame !== 'object' || !(p.frame.width > 0) || !(p.frame.height > 0)) {
          throw new Error('expected a vision frame (msg.payload.frame), topic "snapshot" or topic "config"');
        }
        const camera = String(p.frame.camera || p.camera || msg.topic || '');
        if (fixedCamera && camera !== fixedCamera) {
          done();
          return;
        }
        if (p.detections !== undefined && !Array.isArray(p.detections)) throw new Error('msg.payload.detections must be an array of detections');
        // Entries that are not detections are skipped and counted, and beyond the cap the lowest scores
        // are dropped: what a picture costs to draw is bounded by the cap and the picture's size.
        const b = boundDetections(Array.isArray(p.detections) ? p.detections : [], { maxDetections });
        drops.add(b);
        warning = b.invalid ? `skipped ${b.firstInvalid}` : '';
        // The picture's size is all this view needs of the frame: a camera-source whose frame size
        // follows its readers scales to it (FrameStore.want; 0 = the full frame).
        if (settings && typeof p.frame.camera === 'string') {
          const f = p.frame;
          store.want(f.camera, node.id, settings.maxWidth > 0 ? (settings.maxWidth * Math.max(f.width, f.height)) / f.width : 0);
        }
        const cv = viewFor(camera);
        cv.latest = b.detections === p.detections || p.detections === undefined ? p : { ...p, detections: b.detections };
        // The view keeps the message (for Send JPEG): without what was dropped, so a Complete or Catch
        // node's copy of it costs what the bounded frame does.
        msg.payload = cv.latest;
        cv.latestMsg = msg;
        cv.fresh = true;
        pump(cv);
        if (b.overCap || b.invalid) showStatus();
        done();
      } catch (e) {
        status.force('error', (e as Error).message);
        done(e as Error);
      }
    });

    /** The cameras this node serves (its set camera first): for the dashboard widgets that show them. */
    node.viewCameras = (): string[] => {
      const cams = [...views.keys()];
      return fixedCamera ? [fixedCamera, ...cams.filter((c) => c !== fixedCamera)] : cams;
    };

    /** Views held and what the bounds did (for tests and dashboards). */
    node.viewStats = () => ({ cameras: views.size, overCap: drops.overCap, invalid: drops.invalid, evictedCameras: drops.evictedCameras });

    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(statusTimer);
      status.close();
      store.forgetReader(node.id); // its frame-size need goes with it
      for (const cv of views.values()) drop(cv);
      views.clear();
      done();
    });
  }
  RED.nodes.registerType('vision-view', VisionViewNode);
};
