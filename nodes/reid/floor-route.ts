/**
 * The floor map's data and widget, on Node-RED's httpNode (beside the dashboard, behind the same
 * login as the dashboard and the video routes):
 *   GET <httpNodeRoot>/vision-reid/floor[?node=<id or name>]  live people: {tMs, people: [{globalId,
 *       camera, trackId, floor: [X, Y], tMs, hue}], areas: [{camera, floor: [[X, Y]…]}]}; hue is the
 *       id's colour, the one the Dashboard 2.0 floor widget uses (idHue)
 *   GET <httpNodeRoot>/vision-reid/floor-map.js               the widget (nodes/reid/floor-widget.ts)
 * Every deployed vision-reid node with a floor calibration registers here; without ?node the people
 * of all of them are merged (one gateway usually has one reid node).
 */
import type { Request, Response } from 'express';
import { Red } from '../shared/red';
import { FloorMap } from '../lib/reid/floor-map';
import { idHue } from '../lib/dashboard/floor';
import { Point } from '../lib/types';
import { floorMapScript } from './floor-widget';

export interface FloorSource {
  id: string;
  name: string;
  map: FloorMap;
  /** Per calibrated camera, its calibration's floor points (drawn as the camera's area). */
  areas: { camera: string; floor: Point[] }[];
}

const REGISTERED = Symbol.for('edgevision.reid.floorRoutes');
const SHARE_REGISTERED = Symbol.for('edgevision.reid.shareRoute');

export function registerFloorRoutes(RED: Red, sources: Map<string, FloorSource>): void {
  const app = RED.httpNode as (NonNullable<Red['httpNode']> & { [REGISTERED]?: boolean }) | undefined;
  if (!app || app[REGISTERED]) return;
  app[REGISTERED] = true;
  const script = floorMapScript();
  app.get('/vision-reid/floor-map.js', (_req: Request, res: Response) => {
    res.set({ 'Content-Type': 'application/javascript; charset=utf-8', 'Cache-Control': 'no-cache' });
    res.send(script);
  });
  app.get('/vision-reid/floor', (req: Request, res: Response) => {
    const want = typeof req.query?.node === 'string' && req.query.node ? req.query.node : undefined;
    const chosen = [...sources.values()].filter((s) => !want || s.id === want || s.name === want);
    if (want && !chosen.length) {
      res.status(404).json({ error: `no deployed vision-reid node "${want}" with a floor calibration` });
      return;
    }
    const now = Date.now();
    res.set('Cache-Control', 'no-store');
    res.json({
      tMs: now,
      people: chosen.flatMap((s) => s.map.snapshot(now)).map((p) => ({ ...p, hue: idHue(p.globalId) })),
      areas: chosen.flatMap((s) => s.areas),
    });
  });
}

/**
 * `GET <admin root>/vision-reid/:id/share`, for editor users (`vision-reid.read`): the identity
 * exchange's figures (state, sent, received, accepted, refused, queued, dropped, last error).
 */
export function registerShareRoute(RED: Red): void {
  const app = RED.httpAdmin as (NonNullable<Red['httpAdmin']> & { [SHARE_REGISTERED]?: boolean }) | undefined;
  if (!app || app[SHARE_REGISTERED]) return;
  app[SHARE_REGISTERED] = true;
  const perm = RED.auth?.needsPermission ? RED.auth.needsPermission('vision-reid.read') : (_q: unknown, _s: unknown, next: () => void) => next();
  app.get('/vision-reid/:id/share', perm, (req: Request, res: Response) => {
    const n = RED.nodes.getNode(req.params.id) as { reidShare?: () => unknown } | null;
    if (!n || typeof n.reidShare !== 'function') {
      res.status(404).json({ error: 'no deployed vision-reid node with this id' });
      return;
    }
    const s = n.reidShare();
    if (!s) {
      res.status(404).json({ error: 'this vision-reid node does not share identities (or its embedder is not ready yet)' });
      return;
    }
    res.set('Cache-Control', 'no-store');
    res.json(s);
  });
}
