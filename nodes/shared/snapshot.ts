/**
 * The editors' drawing board (nodes/shared/editor/geometry-board.js) shows a camera's newest frame, so lines
 * and zones are drawn on the real floor. A node that sees frames records which cameras it has seen
 * (PictureCameras); one admin route per node type serves the newest of them as a JPEG (or as JSON
 * with a data URL, which is what the editor asks for: its requests carry the admin login token).
 * Pixels are read from the frame store and encoded only when an editor user asks.
 */
import type { Request, Response } from 'express';
import { Red, Node } from './red';
import { sharedFrameStore } from '../lib/frame-store';
import { renderPicture } from '../lib/view/render';

/** Width of the picture the editor draws on: enough to place a line, small enough to load at once. */
const SNAPSHOT_WIDTH = 960;

/** What the snapshot route asks of a deployed node. */
interface SnapshotSource {
  /** The frame-store camera of the newest frame seen for `camera` (for any camera when none is named). */
  snapshotCamera(camera?: string): string | undefined;
  /** Cameras this node has seen frames of, newest last. */
  snapshotCameras(): string[];
}

/** A node's cameras, newest last, by the name the node knows them (msg.topic) → frame-store camera. */
export class PictureCameras implements SnapshotSource {
  private readonly cameras = new Map<string, string>();

  /** Attaches itself to the node, where the route finds it. */
  constructor(node: Node) {
    Object.assign(node, { snapshotCamera: this.snapshotCamera.bind(this), snapshotCameras: this.snapshotCameras.bind(this) });
  }

  /** A frame of `camera` (stored in the frame store as `storeCamera`) was accepted. */
  seen(camera: string, storeCamera: unknown): void {
    if (typeof storeCamera !== 'string') return;
    this.cameras.delete(camera); // re-inserted: newest last
    this.cameras.set(camera, storeCamera);
  }

  snapshotCamera(camera?: string): string | undefined {
    return camera !== undefined ? this.cameras.get(camera) : [...this.cameras.values()].pop();
  }

  snapshotCameras(): string[] {
    return [...this.cameras.keys()];
  }

  clear(): void {
    this.cameras.clear();
  }
}

/**
 * `GET <admin root>/<type>/:id/snapshot[?camera=NAME]`, for editor users only (`<type>.read`
 * permission): the newest frame of the node's (named) camera, at most 960 px wide. 404 with the
 * reason when the node is not deployed or has seen no frame (of that camera).
 */
export function registerSnapshotRoute(RED: Red, type: string): void {
  if (!RED.httpAdmin) return;
  const perm = RED.auth?.needsPermission ? RED.auth.needsPermission(`${type}.read`) : (_q: unknown, _s: unknown, next: () => void) => next();
  RED.httpAdmin.get(`/${type}/:id/snapshot`, perm, (req: Request, res: Response) => {
    const n = RED.nodes.getNode(req.params.id) as (Node & Partial<SnapshotSource>) | null;
    if (!n || typeof n.snapshotCamera !== 'function' || typeof n.snapshotCameras !== 'function') {
      res.status(404).json({ error: 'this node is not deployed yet: deploy the flow, let frames reach it, then load the picture' });
      return;
    }
    const want = typeof req.query?.camera === 'string' && req.query.camera ? req.query.camera : undefined;
    const storeCamera = n.snapshotCamera(want);
    const store = sharedFrameStore();
    const newest = storeCamera === undefined ? undefined : store.latest(storeCamera);
    // Leased: sharp reads the pixels in its own threads, after this turn, and pooled pixels are reused
    // once the frame leaves the ring unless a lease holds them.
    const lease = newest ? store.lease(newest.ref) : undefined;
    const f = lease?.frame;
    if (!f || !lease) {
      const seen = n.snapshotCameras();
      const why =
        want !== undefined && seen.length
          ? `no frame of camera "${want}" has reached this node (cameras seen: ${seen.join(', ')})`
          : 'no frame has reached this node yet: start the camera and check the wiring to it';
      res.status(404).json({ error: why });
      return;
    }
    renderPicture(f.data, f.ref, SNAPSHOT_WIDTH)
      .finally(() => lease.done())
      .then((p) => {
        res.set('Cache-Control', 'no-store');
        if (typeof req.accepts === 'function' && req.accepts(['image/jpeg', 'application/json']) === 'application/json') {
          res.json({
            camera: f.ref.camera,
            width: f.ref.width,
            height: f.ref.height,
            tMs: f.ref.tMs,
            image: 'data:image/jpeg;base64,' + p.jpeg.toString('base64'),
          });
          return;
        }
        res.set({
          'Content-Type': 'image/jpeg',
          'X-Frame-Width': String(f.ref.width),
          'X-Frame-Height': String(f.ref.height),
          'X-Camera': encodeURIComponent(f.ref.camera),
        });
        res.send(p.jpeg);
      })
      .catch((e: Error) => res.status(500).json({ error: `cannot encode the picture: ${e.message}` }));
  });
}
