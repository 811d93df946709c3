/**
 * What kind of message reached a node, decided in one place for every node's input handler:
 *
 * - `frame`: a vision frame (`payload.frame`, a frame reference, or `payload.detections`). A message
 *   that carries a frame reference is always a frame, whatever its topic: a camera may be called
 *   "config" or "reset". Each node still checks that the frame has what it needs.
 * - `image`: encoded image bytes on msg.payload (a Buffer or any Uint8Array); only where the caller
 *   takes images (vision-detect), else such a message is whatever its topic says.
 * - `config`: `topic: "config"`. `reset` when the payload is "reset" or has a true `reset`: back to
 *   the editor's settings (any other keys beside it are ignored); else `patch` is the payload without
 *   its `reset` key, for the node to check (a non-object patch is for the node to refuse).
 * - `reset`: `topic: "reset"`; `camera` when the payload names one (a string, or `{camera}`).
 * - `track-end`: vision-track's end event for one track; `event`: any other event (track-start,
 *   line-crossing, …), which carries no detections.
 * - `other`: anything else (a node's own topics, or something to refuse).
 *
 * `msg.reset === true` is reported on every kind as `resetFirst`: on a frame it asks to reset that
 * camera first; what it means elsewhere is the node's to say.
 */
import { NodeMessage } from './red';

export type MessageKind =
  | { kind: 'frame'; resetFirst: boolean }
  | { kind: 'image'; resetFirst: boolean }
  | { kind: 'config'; reset: true; resetFirst: boolean }
  | { kind: 'config'; reset: false; patch: unknown; resetFirst: boolean }
  | { kind: 'reset'; camera?: string; resetFirst: boolean }
  | { kind: 'track-end'; resetFirst: boolean }
  | { kind: 'event'; event: string; resetFirst: boolean }
  | { kind: 'other'; resetFirst: boolean };

export interface KindOptions {
  /** Image bytes on msg.payload are an `image` (vision-detect). */
  images?: boolean;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** True when msg.payload carries a frame reference (`payload.frame`, an object). */
export function carriesFrame(payload: unknown): boolean {
  return isObject(payload) && isObject(payload.frame);
}

export function messageKind(msg: NodeMessage, opts: KindOptions = {}): MessageKind {
  const p: unknown = msg.payload;
  const resetFirst = msg.reset === true;
  if (opts.images && p instanceof Uint8Array) return { kind: 'image', resetFirst };
  if (carriesFrame(p)) return { kind: 'frame', resetFirst };
  if (msg.topic === 'config') {
    if (p === 'reset' || (isObject(p) && !!p.reset)) return { kind: 'config', reset: true, resetFirst };
    if (isObject(p) && 'reset' in p) {
      const { reset: _reset, ...patch } = p;
      return { kind: 'config', reset: false, patch, resetFirst };
    }
    return { kind: 'config', reset: false, patch: p, resetFirst };
  }
  if (msg.topic === 'reset') {
    const camera = typeof p === 'string' && p ? p : isObject(p) && typeof p.camera === 'string' ? p.camera : undefined;
    return camera === undefined ? { kind: 'reset', resetFirst } : { kind: 'reset', camera, resetFirst };
  }
  if (isObject(p) && typeof p.event === 'string' && !Array.isArray(p.detections)) {
    return p.event === 'track-end' ? { kind: 'track-end', resetFirst } : { kind: 'event', event: p.event, resetFirst };
  }
  if (isObject(p) && Array.isArray(p.detections)) return { kind: 'frame', resetFirst };
  return { kind: 'other', resetFirst };
}
